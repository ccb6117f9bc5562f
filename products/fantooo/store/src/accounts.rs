//! Login identities and server-side sessions. A session token is random; only
//! its SHA-256 is stored, so a database leak does not leak live sessions.

use crate::{on_pool, BeginWrite, Db, StoreResult};
use chrono::{DateTime, Duration, Utc};
use fantooo_domain::ids::AccountId;
use fantooo_domain::AccountKind;
use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginRecord {
    pub id: AccountId,
    pub password_hash: String,
    pub is_active: bool,
}

/// Looks up the account of `kind` whose login (username or email) is `login`.
pub async fn find_login(db: &Db, kind: AccountKind, login: &str) -> StoreResult<Option<LoginRecord>> {
    let sql = "SELECT id, password_hash, is_active FROM accounts WHERE kind = $1 AND login = $2";
    Ok(on_pool!(db, p => sqlx::query_as::<_, LoginRecord>(sql).bind(kind).bind(login).fetch_optional(p).await?))
}

pub async fn record_login(db: &Db, id: AccountId, at: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => {
        sqlx::query("UPDATE accounts SET last_login_at = $1 WHERE id = $2").bind(at).bind(id).execute(p).await?;
    });
    Ok(())
}

/// How a session is carried: a browser cookie (CSRF-checked) or an API bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Cookie,
    Bearer,
}

impl Via {
    fn as_str(self) -> &'static str {
        match self {
            Via::Cookie => "cookie",
            Via::Bearer => "bearer",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    pub account_id: AccountId,
    pub kind: AccountKind,
    pub via: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// A freshly issued session: the raw token goes to the client once.
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub async fn create_session(
    db: &Db,
    account: AccountId,
    kind: AccountKind,
    via: Via,
    ttl: Duration,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> StoreResult<NewSession> {
    let token = random_token();
    let csrf = random_token();
    let now = Utc::now();
    let expires = now + ttl;
    let sql = "INSERT INTO sessions (token_hash, account_id, kind, via, csrf_token, ip, user_agent, created_at, last_seen_at, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)";
    on_pool!(db, p => {
        sqlx::query(sql).bind(hash_token(&token)).bind(account).bind(kind).bind(via.as_str()).bind(&csrf)
            .bind(ip).bind(user_agent.map(|u| u.chars().take(300).collect::<String>())).bind(now).bind(expires)
            .execute(p).await?;
    });
    Ok(NewSession { token, csrf_token: csrf, expires_at: expires })
}

/// The live session for `token`, if it exists, is unexpired, unrevoked and
/// its account is still active.
pub async fn session(db: &Db, token: &str, now: DateTime<Utc>) -> StoreResult<Option<SessionRecord>> {
    let sql = "SELECT s.account_id, s.kind, s.via, s.csrf_token, s.expires_at, s.last_seen_at
               FROM sessions s JOIN accounts a ON a.id = s.account_id
               WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND a.is_active";
    Ok(on_pool!(db, p => sqlx::query_as::<_, SessionRecord>(sql).bind(hash_token(token)).bind(now).fetch_optional(p).await?))
}

/// Marks a session as seen; callers throttle this to once a minute.
pub async fn touch_session(db: &Db, token: &str, now: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2").bind(now).bind(hash_token(token)).execute(p).await?;
    });
    Ok(())
}

pub async fn revoke_session(db: &Db, token: &str) -> StoreResult<()> {
    on_pool!(db, p => {
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
            .bind(Utc::now()).bind(hash_token(token)).execute(p).await?;
    });
    Ok(())
}

/// Deletes sessions that expired more than a day ago.
pub async fn purge_expired_sessions(db: &Db, now: DateTime<Utc>) -> StoreResult<u64> {
    let cutoff = now - Duration::days(1);
    Ok(on_pool!(db, p => sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(cutoff).execute(p).await?.rows_affected()))
}

/// Inserts the account row inside a caller's transaction.
#[macro_export]
#[doc(hidden)]
macro_rules! insert_account {
    ($tx:expr, $id:expr, $kind:expr, $login:expr, $hash:expr, $now:expr) => {
        sqlx::query("INSERT INTO accounts (id, kind, login, password_hash, is_active, created_at) VALUES ($1, $2, $3, $4, TRUE, $5)")
            .bind($id)
            .bind($kind)
            .bind($login)
            .bind($hash)
            .bind($now)
            .execute(&mut *$tx)
            .await?
    };
}

pub async fn password_hash(db: &Db, id: AccountId) -> StoreResult<String> {
    let sql = "SELECT password_hash FROM accounts WHERE id = $1";
    Ok(on_pool!(db, p => sqlx::query_scalar(sql).bind(id).fetch_one(p).await?))
}

/// Replaces a password and signs out every other session of the account.
pub async fn set_password(db: &Db, id: AccountId, hash: &str, keep_token: &str) -> StoreResult<()> {
    let now = Utc::now();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        sqlx::query("UPDATE accounts SET password_hash = $2 WHERE id = $1").bind(id).bind(hash).execute(&mut *tx).await?;
        sqlx::query("UPDATE sessions SET revoked_at = $3 WHERE account_id = $1 AND token_hash <> $2 AND revoked_at IS NULL")
            .bind(id).bind(hash_token(keep_token)).bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}
