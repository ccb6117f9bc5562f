//! Salary exchanged for coins (6.4, BR-2) on every backend under test: the
//! cents leave the member's salary and the coins arrive in one transaction
//! with the history row; eight requests racing with one key pay once; more
//! than the salary held is refused with nothing written; concurrent
//! exchanges under different keys never take the salary below zero; and
//! `rooms check` after each.

mod support;
use support::{code, dbs, user};

use chrono::Utc;
use futures_util::future::join_all;
use platform_db::{Db, StoreError};
use platform_ledger::{Amount, Book, Leg, Transfer, Unit};
use rooms_domain::ids::AccountId;
use rooms_store::agencies::{SALARY_FUND, SALARY_FUND_OPENING, SALARY_UNIT};
use rooms_store::salary_exchange::{exchange_salary, salary_balance, salary_exchanges};
use rooms_store::{check, economy};

async fn assert_clean(db: &Db, what: &str) {
    let v = check::run(db).await.unwrap();
    assert!(v.is_empty(), "{what}: rooms check found {v:?}");
}

/// Pays `cents` of salary to `who` from the salary fund, as a settlement does.
async fn pay(db: &Db, who: AccountId, cents: i64) {
    let usd = Unit::parse(SALARY_UNIT).unwrap();
    let fund = economy::system_wallet(db, SALARY_FUND, &usd, SALARY_FUND_OPENING).await.unwrap();
    let to = platform_ledger::wallets::open(db, economy::ACCOUNT, &who.to_string(), &usd).await.unwrap().id;
    let key = format!("agency_salary:test:{who}:{cents}:{}", uuid_ish());
    let t = Transfer {
        legs: vec![Leg { wallet: fund, unit: usd.clone(), delta: Amount(-cents) }, Leg { wallet: to, unit: usd, delta: Amount(cents) }],
        reason: "agency_salary",
        reference: Some(&who.to_string()),
        idempotency_key: &key,
        created_by: None,
    };
    Book::standard().transfer(db, &t).await.unwrap();
}

fn uuid_ish() -> String {
    rooms_domain::ids::SalaryExchangeId::new().to_string()
}

async fn ledger_rows(db: &Db, reason: &str) -> i64 {
    platform_db::on_pool!(db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM ledger_entries WHERE reason = $1")
        .bind(reason).fetch_one(p).await.unwrap())
}

#[tokio::test]
async fn salary_becomes_coins_once_and_is_kept_in_history() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let star = user(db, "star").await;
        assert!(salary_exchanges(db, star, 50).await.unwrap().is_empty(), "{b:?}");
        pay(db, star, 2_550).await;
        let x = exchange_salary(db, star, 1_250, "k1", now).await.unwrap();
        assert!(!x.duplicate, "{b:?}");
        assert_eq!((x.exchange.cents, x.exchange.rate, x.exchange.coins), (1_250, 100, 1_250), "{b:?}: $12.50 is 1,250 coins");
        assert_eq!((x.salary_cents, x.coins), (1_300, 1_250), "{b:?}");
        // The same key again: the first exchange, nothing moved.
        let again = exchange_salary(db, star, 1_250, "k1", now).await.unwrap();
        assert!(again.duplicate, "{b:?}");
        assert_eq!(again.exchange.id, x.exchange.id, "{b:?}");
        assert_eq!(salary_balance(db, star).await.unwrap(), 1_300, "{b:?}");
        assert_eq!(economy::balances(db, star).await.unwrap().coins, 1_250, "{b:?}");
        let later = now + chrono::Duration::seconds(5);
        exchange_salary(db, star, 1_300, "k2", later).await.unwrap();
        let h = salary_exchanges(db, star, 50).await.unwrap();
        assert_eq!(h.iter().map(|e| e.cents).collect::<Vec<_>>(), vec![1_300, 1_250], "{b:?}: newest first");
        assert_eq!(salary_balance(db, star).await.unwrap(), 0, "{b:?}");
        assert_eq!(economy::balances(db, star).await.unwrap().coins, 2_550, "{b:?}");
        assert_eq!(ledger_rows(db, "salary_exchange").await, 8, "{b:?}: two transfers of two legs per exchange");
        // Someone else's history is theirs only.
        let other = user(db, "other").await;
        assert!(salary_exchanges(db, other, 50).await.unwrap().is_empty(), "{b:?}");
        assert_clean(db, &format!("{b:?} exchanged")).await;
        // An exchange row without its movements is reported.
        let now2 = Utc::now();
        platform_db::on_pool!(db, p => sqlx::query(
            "INSERT INTO salary_exchanges (id, account_id, cents, rate, coins, idempotency_key, created_at) VALUES ($1, $2, 100, 100, 100, 'forged', $3)")
            .bind(rooms_domain::ids::SalaryExchangeId::new()).bind(star).bind(now2).execute(p).await.unwrap().rows_affected());
        let v = check::run(db).await.unwrap();
        assert_eq!(v, vec![("salary exchange without exactly its two ledger movements".to_string(), 1)], "{b:?}");
    }
}

#[tokio::test]
async fn more_than_the_salary_held_or_a_bad_amount_is_refused_with_nothing_written() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let star = user(db, "star").await;
        // No salary wallet at all.
        match exchange_salary(db, star, 100, "none", now).await.unwrap_err() {
            StoreError::Insufficient { required, available } => assert_eq!((required, available), (100, 0), "{b:?}"),
            e => panic!("{b:?}: {e:?}"),
        }
        pay(db, star, 500).await;
        match exchange_salary(db, star, 501, "over", now).await.unwrap_err() {
            StoreError::Insufficient { required, available } => assert_eq!((required, available), (501, 500), "{b:?}"),
            e => panic!("{b:?}: {e:?}"),
        }
        assert_eq!(code(exchange_salary(db, star, 0, "zero", now).await.unwrap_err()), "field:cents", "{b:?}");
        assert_eq!(code(exchange_salary(db, star, -5, "neg", now).await.unwrap_err()), "field:cents", "{b:?}");
        assert_eq!(code(exchange_salary(db, star, i64::MAX, "huge", now).await.unwrap_err()), "field:cents", "{b:?}");
        assert_eq!(code(exchange_salary(db, star, 5, "  ", now).await.unwrap_err()), "field:idempotency_key", "{b:?}");
        assert_eq!(salary_balance(db, star).await.unwrap(), 500, "{b:?}");
        assert_eq!(economy::balances(db, star).await.unwrap().coins, 0, "{b:?}");
        assert!(salary_exchanges(db, star, 50).await.unwrap().is_empty(), "{b:?}");
        assert_eq!(ledger_rows(db, "salary_exchange").await, 0, "{b:?}");
        // The refused key is still free: a right amount under it goes through.
        let x = exchange_salary(db, star, 500, "over", now).await.unwrap();
        assert!(!x.duplicate && x.salary_cents == 0 && x.coins == 500, "{b:?}: {x:?}");
        assert_clean(db, &format!("{b:?} refused")).await;
    }
}

#[tokio::test]
async fn eight_requests_with_one_key_pay_once() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let star = user(db, "star").await;
        pay(db, star, 10_000).await;
        let all = join_all((0..8).map(|_| exchange_salary(db, star, 4_000, "same", now))).await;
        let ok: Vec<_> = all.into_iter().map(|r| r.unwrap_or_else(|e| panic!("{b:?}: {e:?}"))).collect();
        assert_eq!(ok.iter().filter(|x| !x.duplicate).count(), 1, "{b:?}: exactly one pays");
        assert!(ok.iter().all(|x| x.exchange.id == ok[0].exchange.id), "{b:?}: all answer the one exchange");
        assert_eq!(salary_balance(db, star).await.unwrap(), 6_000, "{b:?}");
        assert_eq!(economy::balances(db, star).await.unwrap().coins, 4_000, "{b:?}");
        assert_eq!(salary_exchanges(db, star, 50).await.unwrap().len(), 1, "{b:?}");
        assert_eq!(ledger_rows(db, "salary_exchange").await, 4, "{b:?}");
        assert_clean(db, &format!("{b:?} one key")).await;
    }
}

#[tokio::test]
async fn concurrent_exchanges_never_take_the_salary_below_zero() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let star = user(db, "star").await;
        pay(db, star, 1_000).await;
        // Eight different keys of 300 cents each against 1,000: three fit.
        let keys: Vec<String> = (0..8).map(|i| format!("k{i}")).collect();
        let all = join_all(keys.iter().map(|k| exchange_salary(db, star, 300, k, now))).await;
        let mut paid = 0;
        for r in all {
            match r {
                Ok(x) => {
                    assert!(!x.duplicate, "{b:?}");
                    paid += 1;
                }
                Err(StoreError::Insufficient { required, available }) => {
                    assert_eq!(required, 300, "{b:?}");
                    assert!(available < 300, "{b:?}: {available}");
                }
                Err(e) => panic!("{b:?}: {e:?}"),
            }
        }
        assert_eq!(paid, 3, "{b:?}");
        assert_eq!(salary_balance(db, star).await.unwrap(), 100, "{b:?}");
        assert_eq!(economy::balances(db, star).await.unwrap().coins, 900, "{b:?}");
        assert_eq!(salary_exchanges(db, star, 50).await.unwrap().len(), 3, "{b:?}");
        assert_clean(db, &format!("{b:?} different keys")).await;
    }
}
