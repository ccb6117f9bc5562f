//! Login identities and server-side sessions. Sessions are
//! `platform_accounts`' revocable sessions in Fantooo's own `sessions`
//! table ([`SESSIONS`]); a session token is random and only its SHA-256 is
//! stored, so a database leak does not leak live sessions.

use crate::{on_pool, BeginWrite, Db, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::AccountId;
use fantooo_domain::AccountKind;
use platform_accounts::{hash_token, ActiveAccounts, SessionStore};
use std::sync::LazyLock;

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

pub use platform_accounts::{NewSession, Via};

/// Fantooo's sessions: its own `sessions` table, each live only while its
/// account is active.
pub static SESSIONS: LazyLock<SessionStore> =
    LazyLock::new(|| SessionStore::new().for_active(ActiveAccounts::new("accounts", "id", "is_active")));

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

/// Replaces a password and signs out every other session of the account,
/// in one transaction (`SessionStore::revoke_all` runs on its own, so the
/// revocation is written here, with the same statement).
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
