//! Coin requests to resellers on every backend under test: stock topped up
//! through the ledger, approval paying once (also when clicked twice at the
//! same moment), short stock writing nothing, the request's rules, expiry,
//! bulk decisions and `rooms check`.

use chrono::{Duration, NaiveDate, Utc};
use futures_util::future::join_all;
use platform_db::testing::{backends, fresh_db};
use platform_db::{Db, StoreError};
use rooms_domain::account::{AdultBirthDate, Country, FullName, Gender, Handle, Login, PlatformRole};
use rooms_domain::coin_requests::{Action, Payment};
use rooms_domain::ids::AccountId;
use rooms_store::coin_requests::{self as cr, Actor, Approval, NewRequest, Of};
use rooms_store::{accounts, check, economy};

async fn person(db: &Db, handle: &str, role: PlatformRole) -> AccountId {
    let born = AdultBirthDate::parse("1991-02-03", NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).unwrap();
    let new = accounts::NewAccount {
        login: Login::parse(&format!("{handle}@rooms.test")).unwrap(),
        handle: Handle::parse(handle).unwrap(),
        full_name: FullName::parse("full_name", handle).unwrap(),
        birth_date: born,
        country: Country::parse("NG").unwrap(),
        gender: Gender::Unspecified,
    };
    accounts::create(db, &new, "$argon2id$x", role, Utc::now()).await.unwrap().id
}

fn code_of(e: StoreError) -> String {
    match e {
        StoreError::Guard { code, .. } => code,
        StoreError::Refused { field, .. } => format!("field:{field}"),
        StoreError::Insufficient { required, available } => format!("402:{required}/{available}"),
        other => format!("{other:?}"),
    }
}

struct Cast {
    boss: Actor,
    seller: AccountId,
    buyer: AccountId,
}

async fn cast(db: &Db) -> Cast {
    let boss = person(db, "bossadmin", PlatformRole::SuperAdmin).await;
    let seller = person(db, "seller1", PlatformRole::Reseller).await;
    let buyer = person(db, "buyer1", PlatformRole::User).await;
    Cast { boss: Actor { id: boss, super_admin: true }, seller, buyer }
}

fn proof() -> Vec<String> {
    vec!["proofs/abc.png".to_string()]
}

async fn ask(db: &Db, c: &Cast, coins: i64) -> cr::CoinRequest {
    let proofs = proof();
    cr::create(db, &NewRequest { requester: c.buyer, reseller: c.seller, coins, message: "paid by bank", proofs: &proofs }, Utc::now())
        .await
        .unwrap()
}

async fn clean(db: &Db, what: &str) {
    let v = check::run(db).await.unwrap();
    assert!(v.is_empty(), "{what}: {v:?}");
}

#[tokio::test]
async fn approval_moves_stock_to_the_user_once_even_when_clicked_twice() {
    for b in backends() {
        let t = fresh_db(b, &rooms_store::MIGRATIONS, "rooms_store_tpl").await;
        let db = &t.db;
        let c = cast(db).await;
        assert!(cr::top_up(db, c.seller, 1_000, "k1", c.boss.id, Utc::now()).await.unwrap());
        assert!(!cr::top_up(db, c.seller, 1_000, "k1", c.boss.id, Utc::now()).await.unwrap(), "{b:?}: same key tops up once");
        assert_eq!(cr::stock(db, c.seller).await.unwrap(), 1_000);
        let r = ask(db, &c, 300).await;
        let seller = Actor { id: c.seller, super_admin: false };
        let done = cr::approve(db, r.id, seller, &Approval { note: "thanks", ..Approval::default() }, Utc::now()).await.unwrap();
        assert_eq!((done.status.as_str(), done.approved_coins), ("approved", Some(300)));
        let again = cr::approve(db, r.id, seller, &Approval::default(), Utc::now()).await.unwrap_err();
        assert_eq!(code_of(again), "already_processed", "{b:?}");
        assert_eq!(economy::balances(db, c.buyer).await.unwrap().coins, 300, "{b:?}: paid once");
        assert_eq!(cr::stock(db, c.seller).await.unwrap(), 700);

        // Twenty approvals of one request at the same moment (reseller and
        // super admin alike): one pays, the others are told it is done.
        let r2 =
            cr::create(db, &NewRequest { requester: c.buyer, reseller: c.seller, coins: 50, message: "", proofs: &proof() }, Utc::now())
                .await
                .unwrap();
        let tries = (0..20).map(|i| {
            let who = if i % 2 == 0 { seller } else { c.boss };
            async move { cr::approve(db, r2.id, who, &Approval::default(), Utc::now()).await }
        });
        let results = join_all(tries).await;
        let won = results.iter().filter(|r| r.is_ok()).count();
        let told: Vec<String> = results.into_iter().filter_map(|r| r.err()).map(code_of).collect();
        assert_eq!(won, 1, "{b:?}: {told:?}");
        assert!(told.iter().all(|c| c == "already_processed"), "{b:?}: {told:?}");
        assert_eq!(economy::balances(db, c.buyer).await.unwrap().coins, 350, "{b:?}");
        assert_eq!(cr::stock(db, c.seller).await.unwrap(), 650);
        let audits: i64 = platform_db::on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries WHERE action = 'coin_request.approve'").fetch_one(p).await.unwrap());
        assert_eq!(audits, 2, "{b:?}: one audit row per approval");
        clean(db, "after approvals").await;
    }
}

#[tokio::test]
async fn short_stock_refuses_with_the_amounts_and_writes_nothing() {
    for b in backends() {
        let t = fresh_db(b, &rooms_store::MIGRATIONS, "rooms_store_tpl").await;
        let db = &t.db;
        let c = cast(db).await;
        cr::top_up(db, c.seller, 100, "first", c.boss.id, Utc::now()).await.unwrap();
        let r = ask(db, &c, 250).await;
        let seller = Actor { id: c.seller, super_admin: false };
        let e = cr::approve(db, r.id, seller, &Approval::default(), Utc::now()).await.unwrap_err();
        assert_eq!(code_of(e), "402:250/100", "{b:?}");
        assert!(cr::get(db, r.id).await.unwrap().is_pending(), "{b:?}: still pending");
        assert_eq!(economy::balances(db, c.buyer).await.unwrap().coins, 0);
        let audits: i64 = platform_db::on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries WHERE action LIKE 'coin_request.%'").fetch_one(p).await.unwrap());
        assert_eq!(audits, 0, "{b:?}: no audit row for what did not happen");
        // A smaller amount the stock covers may be approved instead.
        let done = cr::approve(db, r.id, seller, &Approval { coins: Some(100), ..Approval::default() }, Utc::now()).await.unwrap();
        assert_eq!(done.approved_coins, Some(100));
        assert_eq!((economy::balances(db, c.buyer).await.unwrap().coins, cr::stock(db, c.seller).await.unwrap()), (100, 0));
        clean(db, "after short stock").await;
    }
}

#[tokio::test]
async fn who_may_ask_and_decide_and_what_a_request_may_say() {
    for b in backends() {
        let t = fresh_db(b, &rooms_store::MIGRATIONS, "rooms_store_tpl").await;
        let db = &t.db;
        let c = cast(db).await;
        let other_seller = person(db, "seller2", PlatformRole::Reseller).await;
        let now = Utc::now();
        let bad = |coins, to, proofs: Vec<String>, message: &'static str| {
            let c = &c;
            async move {
                cr::create(db, &NewRequest { requester: c.buyer, reseller: to, coins, message, proofs: &proofs }, now).await.unwrap_err()
            }
        };
        assert_eq!(code_of(bad(0, c.seller, proof(), "").await), "field:coins");
        assert_eq!(code_of(bad(5, c.seller, vec![], "").await), "field:proof");
        assert_eq!(code_of(bad(5, c.boss.id, proof(), "").await), "field:reseller", "only resellers are asked");
        let first = ask(db, &c, 10).await;
        assert_eq!(code_of(bad(5, c.seller, proof(), "").await), "pending_request_exists", "{b:?}");
        // Another reseller is a different request; but not theirs to decide.
        let e = cr::approve(db, first.id, Actor { id: other_seller, super_admin: false }, &Approval::default(), now).await.unwrap_err();
        assert_eq!(code_of(e), "NotFound", "{b:?}: a stranger's request is not shown");
        let e = cr::approve(db, first.id, Actor { id: c.buyer, super_admin: false }, &Approval::default(), now).await.unwrap_err();
        assert_eq!(code_of(e), "not_your_request", "{b:?}: the requester cannot approve");
        let a = Approval { coins: Some(10), payment: Some(Payment::Credit), credit_days: None, note: "" };
        assert_eq!(code_of(cr::approve(db, first.id, c.boss, &a, now).await.unwrap_err()), "field:credit_days");
        let rejected = cr::reject(db, first.id, c.boss, "no payment seen", now).await.unwrap();
        assert_eq!((rejected.status.as_str(), rejected.note.as_str()), ("rejected", "no payment seen"));
        assert_eq!(code_of(cr::cancel(db, first.id, c.buyer, now).await.unwrap_err()), "already_processed");

        // Cancelled by the requester; then a new one may be made.
        let second = ask(db, &c, 20).await;
        assert_eq!(cr::cancel(db, second.id, c.buyer, now).await.unwrap().status, "cancelled");
        // Credit: open until marked repaid, overdue after its days.
        cr::top_up(db, c.seller, 500, "t", c.boss.id, now).await.unwrap();
        let third = ask(db, &c, 30).await;
        let a = Approval { coins: Some(40), payment: Some(Payment::Credit), credit_days: Some(7), note: "pay by Friday" };
        let credit = cr::approve(db, third.id, Actor { id: c.seller, super_admin: false }, &a, now).await.unwrap();
        assert!(
            !credit.overdue(now + Duration::days(7) - Duration::minutes(1))
                && credit.overdue(now + Duration::days(7) + Duration::minutes(1))
        );
        let repaid = cr::mark_repaid(db, third.id, Actor { id: c.seller, super_admin: false }, now).await.unwrap();
        assert!(repaid.repaid_at.is_some() && !repaid.overdue(now + Duration::days(30)));
        assert_eq!(code_of(cr::mark_repaid(db, third.id, c.boss, now).await.unwrap_err()), "not_open_credit");

        // Expiry after 72 h: not approvable, swept to expired.
        let old = cr::create(
            db,
            &NewRequest { requester: c.buyer, reseller: c.seller, coins: 5, message: "", proofs: &proof() },
            now - Duration::hours(73),
        )
        .await
        .unwrap();
        assert_eq!(code_of(cr::approve(db, old.id, c.boss, &Approval::default(), now).await.unwrap_err()), "request_expired");
        assert_eq!(cr::expire_due(db, now).await.unwrap(), 1);
        assert_eq!(cr::get(db, old.id).await.unwrap().status, "expired");
        let mine = cr::list(db, Of::Requester(c.buyer), None, 50).await.unwrap();
        assert_eq!(mine.len(), 4);
        assert_eq!(cr::list(db, Of::All(Some("rejected")), None, 50).await.unwrap().len(), 1);
        assert_eq!(cr::list(db, Of::Reseller(other_seller), None, 50).await.unwrap().len(), 0);
        clean(db, "after the rules").await;
    }
}

#[tokio::test]
async fn bulk_decisions_apply_each_request_on_its_own() {
    for b in backends() {
        let t = fresh_db(b, &rooms_store::MIGRATIONS, "rooms_store_tpl").await;
        let db = &t.db;
        let c = cast(db).await;
        let mut ids = vec![];
        for i in 0..3 {
            let who = person(db, &format!("asker{i}"), PlatformRole::User).await;
            let r =
                cr::create(db, &NewRequest { requester: who, reseller: c.seller, coins: 40, message: "", proofs: &proof() }, Utc::now())
                    .await
                    .unwrap();
            ids.push(r.id);
        }
        cr::top_up(db, c.seller, 90, "bulk", c.boss.id, Utc::now()).await.unwrap();
        let out = cr::bulk(db, &ids, Action::Approve, c.boss, "", Utc::now()).await.unwrap();
        let results: Vec<&str> = out.iter().map(|o| o.result.as_str()).collect();
        assert_eq!(results, ["approved", "approved", "insufficient_stock"], "{b:?}");
        let out = cr::bulk(db, &ids, Action::Reject, c.boss, "late", Utc::now()).await.unwrap();
        let results: Vec<&str> = out.iter().map(|o| o.result.as_str()).collect();
        assert_eq!(results, ["already_processed", "already_processed", "rejected"], "{b:?}");
        assert_eq!(cr::stock(db, c.seller).await.unwrap(), 10);
        clean(db, "after bulk").await;
        // Tampering shows: stock changed outside the ledger's reasons.
        platform_db::on_pool!(db, p => sqlx::query("UPDATE wallets SET balance = balance + 5 WHERE owner_kind = 'reseller'").execute(p).await.unwrap().rows_affected());
        let v = check::run(db).await.unwrap();
        assert!(v.iter().any(|(n, _)| n.starts_with("reseller stock differs")), "{b:?}: {v:?}");
    }
}
