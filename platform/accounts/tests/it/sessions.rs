//! Sessions on both stores: lifecycle, expiry, revocation, purging, and the
//! account-activity join on a product's own table.

use crate::support::{account, db, set_active, t0, AccountId, Kind};
use chrono::Duration;
use platform_accounts::{ActiveAccounts, Session, SessionSpec, SessionStore, Via};
use platform_db::{on_pool, Backend, Db};

fn spec(account: AccountId, via: Via) -> SessionSpec<'static, AccountId, Kind> {
    SessionSpec { account, kind: Kind::User, via, ttl: Duration::days(30), ip: Some("203.0.113.7"), user_agent: Some("curl/8") }
}

#[tokio::test]
async fn a_session_lives_until_it_expires_or_is_revoked() {
    for backend in platform_db::testing::backends() {
        let t = db(backend).await;
        let store = SessionStore::new();
        let who = account(&t.db).await;
        let new = store.create(&t.db, spec(who, Via::Cookie), t0()).await.unwrap();
        assert_eq!(new.token.len(), 64);
        assert_ne!(new.token, new.csrf_token);
        assert_eq!(new.expires_at, t0() + Duration::days(30));

        let s: Session<AccountId, Kind> = store.live(&t.db, &new.token, t0()).await.unwrap().expect("live");
        assert_eq!((s.account_id, s.kind, s.via), (who, Kind::User, Via::Cookie), "{backend:?}");
        assert_eq!(s.csrf_token, new.csrf_token);
        assert_eq!((s.created_at, s.last_seen_at, s.expires_at), (t0(), t0(), new.expires_at));

        // Only the hash is stored.
        let stored: String = on_pool!(&t.db, p => sqlx::query_scalar("SELECT token_hash FROM sessions").fetch_one(p).await.unwrap());
        assert_eq!(stored, platform_accounts::hash_token(&new.token));

        store.touch(&t.db, &new.token, t0() + Duration::minutes(5)).await.unwrap();
        let s: Session<AccountId, Kind> = store.live(&t.db, &new.token, t0() + Duration::minutes(5)).await.unwrap().unwrap();
        assert_eq!(s.last_seen_at, t0() + Duration::minutes(5));

        // Live up to the last instant before expiry, not at it.
        let just_before = new.expires_at - Duration::milliseconds(1);
        assert!(store.live::<AccountId, Kind>(&t.db, &new.token, just_before).await.unwrap().is_some());
        assert!(store.live::<AccountId, Kind>(&t.db, &new.token, new.expires_at).await.unwrap().is_none());
        assert!(store.live::<AccountId, Kind>(&t.db, "not-a-token", t0()).await.unwrap().is_none());

        assert!(store.revoke(&t.db, &new.token, t0()).await.unwrap());
        assert!(!store.revoke(&t.db, &new.token, t0()).await.unwrap(), "already revoked");
        assert!(store.live::<AccountId, Kind>(&t.db, &new.token, t0()).await.unwrap().is_none(), "{backend:?}");
    }
}

#[tokio::test]
async fn bearer_sessions_and_long_user_agents() {
    for backend in platform_db::testing::backends() {
        let t = db(backend).await;
        let store = SessionStore::default();
        let who = account(&t.db).await;
        let long = "x".repeat(1000);
        let spec = SessionSpec { user_agent: Some(long.as_str()), ip: None, kind: Kind::Admin, ..spec(who, Via::Bearer) };
        let new = store.create(&t.db, spec, t0()).await.unwrap();
        let s: Session<AccountId, String> = store.live(&t.db, &new.token, t0()).await.unwrap().unwrap();
        assert_eq!((s.via, s.kind.as_str()), (Via::Bearer, "admin"), "kinds decode as the product's type or as text");
        let (ua, ip): (String, Option<String>) =
            on_pool!(&t.db, p => sqlx::query_as("SELECT user_agent, ip FROM sessions").fetch_one(p).await.unwrap());
        assert_eq!((ua.len(), ip), (300, None), "{backend:?}");
    }
}

#[tokio::test]
async fn revoking_all_of_an_account_keeps_the_current_session() {
    for backend in platform_db::testing::backends() {
        let t = db(backend).await;
        let store = SessionStore::new();
        let (who, other) = (account(&t.db).await, account(&t.db).await);
        let current = store.create(&t.db, spec(who, Via::Cookie), t0()).await.unwrap();
        let phone = store.create(&t.db, spec(who, Via::Bearer), t0()).await.unwrap();
        let laptop = store.create(&t.db, spec(who, Via::Cookie), t0()).await.unwrap();
        let theirs = store.create(&t.db, spec(other, Via::Cookie), t0()).await.unwrap();

        assert_eq!(store.revoke_all(&t.db, &who, Some(&current.token), t0()).await.unwrap(), 2, "{backend:?}");
        let live = |tok: String| {
            let db = t.db.clone();
            async move { store.live::<AccountId, Kind>(&db, &tok, t0()).await.unwrap().is_some() }
        };
        assert!(live(current.token.clone()).await);
        assert!(!live(phone.token).await);
        assert!(!live(laptop.token).await);
        assert!(live(theirs.token).await, "another account's sessions stay");

        assert_eq!(store.revoke_all(&t.db, &who, None, t0()).await.unwrap(), 1);
        assert!(!live(current.token).await);
    }
}

#[tokio::test]
async fn purging_deletes_only_sessions_expired_before_the_cutoff() {
    for backend in platform_db::testing::backends() {
        let t = db(backend).await;
        let store = SessionStore::new();
        let who = account(&t.db).await;
        let short = SessionSpec { ttl: Duration::hours(1), ..spec(who, Via::Cookie) };
        store.create(&t.db, short.clone(), t0()).await.unwrap();
        store.create(&t.db, short, t0() + Duration::hours(2)).await.unwrap();
        let kept = store.create(&t.db, spec(who, Via::Cookie), t0()).await.unwrap();

        assert_eq!(store.purge_expired(&t.db, t0() + Duration::hours(3) - Duration::days(1)).await.unwrap(), 0);
        assert_eq!(store.purge_expired(&t.db, t0() + Duration::hours(2)).await.unwrap(), 1, "{backend:?}");
        assert_eq!(store.purge_expired(&t.db, t0() + Duration::hours(4)).await.unwrap(), 1);
        assert!(store.live::<AccountId, Kind>(&t.db, &kept.token, t0() + Duration::hours(4)).await.unwrap().is_some());
    }
}

/// A product's own sessions table, as a product's migrations make it: a
/// foreign key to its accounts and a CHECK on the kind.
async fn product_sessions_table(db: &Db, backend: Backend) {
    let (id, ts) = match backend {
        Backend::Sqlite => ("TEXT", "TEXT"),
        Backend::Postgres => ("UUID", "TIMESTAMPTZ"),
    };
    let sql = format!(
        "CREATE TABLE product_sessions (
           token_hash TEXT PRIMARY KEY,
           account_id {id} NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
           kind TEXT NOT NULL CHECK (kind IN ('user', 'admin')),
           via TEXT NOT NULL CHECK (via IN ('cookie', 'bearer')),
           csrf_token TEXT NOT NULL,
           ip TEXT,
           user_agent TEXT,
           created_at {ts} NOT NULL,
           last_seen_at {ts} NOT NULL,
           expires_at {ts} NOT NULL,
           revoked_at {ts}
         )"
    );
    on_pool!(db, p => { sqlx::query(&sql).execute(p).await.unwrap(); });
}

#[tokio::test]
async fn sessions_of_inactive_accounts_are_not_live() {
    for backend in platform_db::testing::backends() {
        let t = db(backend).await;
        product_sessions_table(&t.db, backend).await;
        let store = SessionStore::new().in_table("product_sessions").for_active(ActiveAccounts::new("accounts", "id", "is_active"));
        let who = account(&t.db).await;
        let new = store.create(&t.db, spec(who, Via::Cookie), t0()).await.unwrap();
        let live = || store.live::<AccountId, Kind>(&t.db, &new.token, t0());
        assert!(live().await.unwrap().is_some(), "{backend:?}");

        set_active(&t.db, who, false).await;
        assert!(live().await.unwrap().is_none(), "{backend:?}: a deactivated account's session is not live");
        set_active(&t.db, who, true).await;
        assert!(live().await.unwrap().is_some(), "and is again once reactivated");

        // The product's foreign key still holds: no session for a stranger.
        let stranger = store.create(&t.db, spec(AccountId::new(), Via::Cookie), t0()).await;
        assert!(stranger.is_err(), "{backend:?}");

        // The platform's own table has no accounts to join: every session of
        // an unknown account is still live there, and not in a joined store.
        let plain = SessionStore::new();
        let unjoined = plain.create(&t.db, spec(AccountId::new(), Via::Cookie), t0()).await.unwrap();
        assert!(plain.live::<AccountId, Kind>(&t.db, &unjoined.token, t0()).await.unwrap().is_some());
        let joined = plain.for_active(ActiveAccounts::new("accounts", "id", "is_active"));
        assert!(joined.live::<AccountId, Kind>(&t.db, &unjoined.token, t0()).await.unwrap().is_none());
    }
}

#[test]
#[should_panic(expected = "not a plain SQL identifier")]
fn table_names_must_be_plain_identifiers() {
    let _ = SessionStore::new().in_table("sessions; DROP TABLE accounts");
}

/// A product's row read with the session: here a nickname beside the
/// account, absent for an account without one.
#[derive(sqlx::FromRow)]
struct Nick {
    nickname: Option<String>,
}

#[tokio::test]
async fn a_session_comes_with_the_products_row_in_one_statement() {
    for backend in platform_db::testing::backends() {
        let t = db(backend).await;
        let id = match backend {
            Backend::Sqlite => "TEXT",
            Backend::Postgres => "UUID",
        };
        let sql = format!("CREATE TABLE nicknames (account_id {id} PRIMARY KEY, nickname TEXT NOT NULL, created_at TEXT)");
        on_pool!(&t.db, p => { sqlx::query(&sql).execute(p).await.unwrap(); });
        let store = SessionStore::new().for_active(ActiveAccounts::new("accounts", "id", "is_active"));
        let (named, plain) = (account(&t.db).await, account(&t.db).await);
        on_pool!(&t.db, p => {
            sqlx::query("INSERT INTO nicknames (account_id, nickname, created_at) VALUES ($1, 'ann', 'not a time')")
                .bind(named).execute(p).await.unwrap();
        });
        let join = "LEFT JOIN nicknames n ON n.account_id = s.account_id";
        let one = store.create(&t.db, spec(named, Via::Cookie), t0()).await.unwrap();
        let two = store.create(&t.db, spec(plain, Via::Bearer), t0()).await.unwrap();

        let (s, nick): (Session<AccountId, Kind>, Nick) =
            store.live_joined(&t.db, &one.token, t0(), join, "n.nickname").await.unwrap().expect("live");
        assert_eq!((s.account_id, s.via, s.csrf_token), (named, Via::Cookie, one.csrf_token), "{backend:?}");
        assert_eq!((s.created_at, s.expires_at), (t0(), one.expires_at), "the session's own columns, not the product's");
        assert_eq!(nick.nickname.as_deref(), Some("ann"));

        let (s, nick): (Session<AccountId, Kind>, Nick) =
            store.live_joined(&t.db, &two.token, t0(), join, "n.nickname").await.unwrap().expect("live");
        assert_eq!((s.account_id, nick.nickname), (plain, None), "{backend:?}");

        // The same rules as `live`: an inactive account's, a revoked or an
        // unknown session is not live.
        set_active(&t.db, plain, false).await;
        assert!(store.live_joined::<AccountId, Kind, Nick>(&t.db, &two.token, t0(), join, "n.nickname").await.unwrap().is_none());
        store.revoke(&t.db, &one.token, t0()).await.unwrap();
        assert!(store.live_joined::<AccountId, Kind, Nick>(&t.db, &one.token, t0(), join, "n.nickname").await.unwrap().is_none());
        assert!(store.live_joined::<AccountId, Kind, Nick>(&t.db, "nope", t0(), join, "n.nickname").await.unwrap().is_none());
    }
}
