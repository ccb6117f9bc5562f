//! Single-use tokens on both stores: issue, redeem once, expiry, purposes,
//! withdrawal, counting for rate limits, forgetting, purging, and a race
//! of simultaneous redemptions.

use crate::support::{account, db, t0, AccountId};
use chrono::Duration;
use platform_accounts::once::{self, OneTime, Redeemed};
use platform_db::{on_pool, BeginWrite, Db, StoreResult};

fn reset(account: AccountId) -> OneTime<'static, AccountId> {
    OneTime { purpose: "reset", account, detail: Some("a@example.com"), issued_by: None, ttl: Duration::hours(1) }
}

async fn issue(db: &Db, t: &OneTime<'_, AccountId>, at: chrono::DateTime<chrono::Utc>) -> String {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await.unwrap();
        let token = once::issue_in(&mut *tx, t, at).await.unwrap();
        tx.commit().await.unwrap();
        token
    })
}

async fn redeem(db: &Db, token: &str, purposes: &[&str], at: chrono::DateTime<chrono::Utc>) -> StoreResult<Option<Redeemed<AccountId>>> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let r = once::redeem_in(&mut *tx, token, purposes, at).await?;
        tx.commit().await?;
        Ok(r)
    })
}

#[tokio::test]
async fn a_token_works_once_before_it_expires_for_its_purpose() {
    for backend in platform_db::testing::backends() {
        let t = db(backend).await;
        let who = account(&t.db).await;
        let token = issue(&t.db, &reset(who), t0()).await;
        assert_eq!(token.len(), 64);
        let stored: String = on_pool!(&t.db, p => sqlx::query_scalar("SELECT token_hash FROM one_time_tokens").fetch_one(p).await.unwrap());
        assert_eq!(stored, platform_accounts::hash_token(&token), "only the hash is kept");

        assert!(once::usable(&t.db, &token, "reset", t0()).await.unwrap());
        assert!(!once::usable(&t.db, &token, "verify", t0()).await.unwrap());
        assert_eq!(redeem(&t.db, &token, &["verify"], t0()).await.unwrap(), None, "another purpose");
        assert_eq!(redeem(&t.db, &token, &[], t0()).await.unwrap(), None);
        let used = redeem(&t.db, &token, &["verify", "reset"], t0() + Duration::minutes(59)).await.unwrap();
        assert_eq!(used, Some(Redeemed { account: who, purpose: "reset".into(), detail: Some("a@example.com".into()) }), "{backend:?}");
        assert_eq!(redeem(&t.db, &token, &["reset"], t0() + Duration::minutes(59)).await.unwrap(), None, "used");
        assert!(!once::usable(&t.db, &token, "reset", t0()).await.unwrap());

        let late = issue(&t.db, &reset(who), t0()).await;
        assert!(once::usable(&t.db, &late, "reset", t0() + Duration::hours(1) - Duration::milliseconds(1)).await.unwrap());
        assert_eq!(redeem(&t.db, &late, &["reset"], t0() + Duration::hours(1)).await.unwrap(), None, "expired at its ttl");
        assert_eq!(redeem(&t.db, "not-a-token", &["reset"], t0()).await.unwrap(), None);
    }
}

#[tokio::test]
async fn withdrawing_counting_forgetting_and_purging() {
    for backend in platform_db::testing::backends() {
        let t = db(backend).await;
        let (who, other) = (account(&t.db).await, account(&t.db).await);
        let staff = account(&t.db).await;
        let first = issue(&t.db, &reset(who), t0()).await;
        let verify = issue(&t.db, &OneTime { purpose: "verify", ..reset(who) }, t0()).await;
        let theirs = issue(&t.db, &reset(other), t0()).await;
        let code = issue(&t.db, &OneTime { purpose: "staff_reset", detail: None, issued_by: Some(staff), ..reset(who) }, t0()).await;

        let (n, counted, later): (u64, i64, i64) = on_pool!(&t.db, p => {
            let mut tx = p.begin_write().await.unwrap();
            let n = once::withdraw_in(&mut *tx, &["reset"], &who, t0()).await.unwrap();
            let counted = once::issued_since_in(&mut *tx, "reset", &who, t0() - Duration::hours(1)).await.unwrap();
            let later = once::issued_since_in(&mut *tx, "reset", &who, t0()).await.unwrap();
            tx.commit().await.unwrap();
            (n, counted, later)
        });
        assert_eq!((n, counted, later), (1, 1, 0), "only this account's reset tokens; the count includes used ones");
        assert_eq!(redeem(&t.db, &first, &["reset"], t0()).await.unwrap(), None, "withdrawn");
        assert!(once::usable(&t.db, &verify, "verify", t0()).await.unwrap(), "other purposes stay");
        assert!(once::usable(&t.db, &theirs, "reset", t0()).await.unwrap(), "other accounts stay");
        let issuer: Option<AccountId> = on_pool!(&t.db, p => sqlx::query_scalar("SELECT issued_by FROM one_time_tokens WHERE purpose = 'staff_reset'").fetch_one(p).await.unwrap());
        assert_eq!(issuer, Some(staff));
        assert!(once::usable(&t.db, &code, "staff_reset", t0()).await.unwrap());

        let forgotten = on_pool!(&t.db, p => {
            let mut tx = p.begin_write().await.unwrap();
            let n = once::forget_in(&mut *tx, &who).await.unwrap();
            tx.commit().await.unwrap();
            n
        });
        assert_eq!(forgotten, 3, "{backend:?}");
        assert_eq!(once::purge(&t.db, t0() + Duration::minutes(30)).await.unwrap(), 0);
        assert_eq!(once::purge(&t.db, t0() + Duration::hours(2)).await.unwrap(), 1);
        let left: i64 = on_pool!(&t.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM one_time_tokens").fetch_one(p).await.unwrap());
        assert_eq!(left, 0);
    }
}

#[tokio::test]
async fn of_simultaneous_redemptions_exactly_one_wins() {
    for backend in platform_db::testing::backends() {
        let t = db(backend).await;
        let who = account(&t.db).await;
        let token = issue(&t.db, &reset(who), t0()).await;
        let tries = (0..10).map(|_| {
            let (db, token) = (t.db.clone(), token.clone());
            tokio::spawn(async move { redeem(&db, &token, &["reset"], t0()).await.unwrap() })
        });
        let mut won = 0;
        for h in tries {
            if h.await.unwrap().is_some() {
                won += 1;
            }
        }
        assert_eq!(won, 1, "{backend:?}");
    }
}
