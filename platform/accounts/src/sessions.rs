//! Revocable server-side sessions, carried by a browser cookie (checked
//! against CSRF) or an API bearer token. The token is random and goes to
//! the client once; only its SHA-256 is stored, so a database leak does not
//! leak live sessions. A session is live while unexpired, unrevoked and,
//! when the store knows the product's accounts table, its account is
//! active.
//!
//! The table has the shape of migration 110 (`token_hash`, `account_id`,
//! `kind`, `via`, `csrf_token`, `ip`, `user_agent`, `created_at`,
//! `last_seen_at`, `expires_at`, `revoked_at`); a product may keep its own
//! table of that shape under any name.

use crate::{assert_identifier, hash_token, random_token, ActiveAccounts, Column};
use chrono::{DateTime, Duration, Utc};
use platform_db::{on_pool, Db, StoreResult};

platform_kernel::text_enum! {
    /// How a session is carried: a browser cookie (CSRF-checked) or an API
    /// bearer token.
    pub enum Via { Cookie => "cookie", Bearer => "bearer" }
}

/// User agents are kept to this many characters.
const USER_AGENT_CHARS: usize = 300;

/// A session to start: whose, how carried, for how long, and from where.
#[derive(Debug, Clone)]
pub struct SessionSpec<'a, I, K> {
    pub account: I,
    /// The product's kind of account (e.g. user, operator, admin).
    pub kind: K,
    pub via: Via,
    pub ttl: Duration,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// A freshly issued session: the raw token goes to the client once.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// A live session as a request sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session<I, K> {
    pub account_id: I,
    pub kind: K,
    pub via: Via,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The sessions of one product: which table holds them and, optionally,
/// which accounts table says whether their account may still sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionStore {
    table: &'static str,
    accounts: Option<ActiveAccounts>,
}

impl Default for SessionStore {
    fn default() -> Self {
        Self::new()
    }
}

impl SessionStore {
    /// Sessions in the table `sessions`, live whatever their account's state.
    pub fn new() -> Self {
        SessionStore { table: "sessions", accounts: None }
    }

    /// Sessions in `table` (a fixed name from code).
    ///
    /// # Panics
    /// If `table` is not a plain identifier.
    pub fn in_table(self, table: &'static str) -> Self {
        assert_identifier(table);
        SessionStore { table, ..self }
    }

    /// A session is live only while its account is active in `accounts`.
    pub fn for_active(self, accounts: ActiveAccounts) -> Self {
        SessionStore { accounts: Some(accounts), ..self }
    }

    /// Starts a session at `now`; returns the raw token and CSRF token.
    pub async fn create<I: Column, K: Column>(&self, db: &Db, spec: SessionSpec<'_, I, K>, now: DateTime<Utc>) -> StoreResult<NewSession> {
        let token = random_token();
        let csrf = random_token();
        let expires = now + spec.ttl;
        let user_agent = spec.user_agent.map(|u| u.chars().take(USER_AGENT_CHARS).collect::<String>());
        let sql = format!(
            "INSERT INTO {} (token_hash, account_id, kind, via, csrf_token, ip, user_agent, created_at, last_seen_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)",
            self.table
        );
        on_pool!(db, p => {
            sqlx::query(&sql).bind(hash_token(&token)).bind(spec.account.clone()).bind(spec.kind.clone()).bind(spec.via).bind(&csrf)
                .bind(spec.ip).bind(&user_agent).bind(now).bind(expires)
                .execute(p).await?;
        });
        Ok(NewSession { token, csrf_token: csrf, expires_at: expires })
    }

    /// The live session for `token` at `now`: it exists, is unexpired and
    /// unrevoked, and its account is active (when the store knows where
    /// that is kept).
    pub async fn live<I: Column, K: Column>(&self, db: &Db, token: &str, now: DateTime<Utc>) -> StoreResult<Option<Session<I, K>>> {
        let join = self.accounts.map(|a| a.join("s")).unwrap_or_default();
        let sql = format!(
            "SELECT s.account_id, s.kind, s.via, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at
             FROM {} s {join}
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2",
            self.table
        );
        type Row<I, K> = (I, K, Via, String, DateTime<Utc>, DateTime<Utc>, DateTime<Utc>);
        let row: Option<Row<I, K>> = on_pool!(db, p => sqlx::query_as(&sql).bind(hash_token(token)).bind(now).fetch_optional(p).await?);
        Ok(row.map(|(account_id, kind, via, csrf_token, created_at, last_seen_at, expires_at)| Session {
            account_id,
            kind,
            via,
            csrf_token,
            created_at,
            last_seen_at,
            expires_at,
        }))
    }

    /// [`SessionStore::live`] with the product's own row in the same
    /// statement: `join` is the product's join onto the session row (aliased
    /// `s`; say `LEFT JOIN users u ON u.account_id = s.account_id`), and
    /// `columns` what of it to select, decoded as `X`. The session's own
    /// columns come back as `session_*`, so `X` can read plain names. One
    /// round trip where a request would otherwise make two.
    pub async fn live_joined<I: Column, K: Column, X>(
        &self,
        db: &Db,
        token: &str,
        now: DateTime<Utc>,
        join: &str,
        columns: &str,
    ) -> StoreResult<Option<(Session<I, K>, X)>>
    where
        X: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
    {
        let active = self.accounts.map(|a| a.join("s")).unwrap_or_default();
        let sql = format!(
            "SELECT s.account_id AS session_account_id, s.kind AS session_kind, s.via AS session_via, s.csrf_token AS session_csrf_token,
                    s.created_at AS session_created_at, s.last_seen_at AS session_last_seen_at, s.expires_at AS session_expires_at, {columns}
             FROM {} s {active} {join}
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2",
            self.table
        );
        on_pool!(db, p => {
            let row = sqlx::query(&sql).bind(hash_token(token)).bind(now).fetch_optional(p).await?;
            let Some(row) = row else { return Ok(None) };
            use sqlx::Row;
            let session = Session {
                account_id: row.try_get("session_account_id")?,
                kind: row.try_get("session_kind")?,
                via: row.try_get("session_via")?,
                csrf_token: row.try_get("session_csrf_token")?,
                created_at: row.try_get("session_created_at")?,
                last_seen_at: row.try_get("session_last_seen_at")?,
                expires_at: row.try_get("session_expires_at")?,
            };
            Ok(Some((session, X::from_row(&row)?)))
        })
    }

    /// Marks a session as seen at `now`. Every request would otherwise be a
    /// write; callers throttle this (e.g. once a minute per session,
    /// judged by [`Session::last_seen_at`]).
    pub async fn touch(&self, db: &Db, token: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let sql = format!("UPDATE {} SET last_seen_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL", self.table);
        on_pool!(db, p => { sqlx::query(&sql).bind(now).bind(hash_token(token)).execute(p).await?; });
        Ok(())
    }

    /// Signs out the session of `token`; whether a live one was revoked.
    pub async fn revoke(&self, db: &Db, token: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let sql = format!("UPDATE {} SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL", self.table);
        let n = on_pool!(db, p => sqlx::query(&sql).bind(now).bind(hash_token(token)).execute(p).await?.rows_affected());
        Ok(n > 0)
    }

    /// Signs out every session of `account` except the one of `keep` (the
    /// session that changed the password, say); `None` signs out all.
    /// Returns how many were revoked.
    pub async fn revoke_all<I: Column>(&self, db: &Db, account: &I, keep: Option<&str>, now: DateTime<Utc>) -> StoreResult<u64> {
        // No token hashes to "" (hashes are 64 hex digits), so `None` keeps none.
        let keep = keep.map(hash_token).unwrap_or_default();
        let sql = format!("UPDATE {} SET revoked_at = $3 WHERE account_id = $1 AND token_hash <> $2 AND revoked_at IS NULL", self.table);
        Ok(on_pool!(db, p => sqlx::query(&sql).bind(account.clone()).bind(&keep).bind(now).execute(p).await?.rows_affected()))
    }

    /// The product's sign-in version: a one-row table (`id = 1`,
    /// `version`) its migrations keep and its triggers bump whenever a
    /// session is revoked or an account's sign-in state changes. A node
    /// that caches sessions reads it to learn that its copies may be stale.
    ///
    /// # Panics
    /// If `table` is not a plain identifier.
    pub async fn version(db: &Db, table: &'static str) -> StoreResult<i64> {
        assert_identifier(table);
        let sql = format!("SELECT version FROM {table} WHERE id = 1");
        let v: Option<(i64,)> = on_pool!(db, p => sqlx::query_as(&sql).fetch_optional(p).await?);
        Ok(v.map_or(0, |(v,)| v))
    }

    /// Deletes sessions that expired before `before` (e.g. a day
    /// ago, keeping the latest for support questions). Returns how many
    /// were deleted.
    pub async fn purge_expired(&self, db: &Db, before: DateTime<Utc>) -> StoreResult<u64> {
        let sql = format!("DELETE FROM {} WHERE expires_at < $1", self.table);
        Ok(on_pool!(db, p => sqlx::query(&sql).bind(before).execute(p).await?.rows_affected()))
    }
}
