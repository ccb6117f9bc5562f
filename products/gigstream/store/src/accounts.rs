//! Accounts: one login buys and sells. Passwords are hashed by the caller
//! (platform-accounts); sessions live in the platform's `sessions` table and
//! count only while the account is active.

use chrono::{DateTime, Utc};
use gigstream_domain::backoffice::{AdminRole, Standing};
use gigstream_domain::ids::AccountId;
use platform_accounts::{ActiveAccounts, SessionStore};
use platform_db::{on_pool, Db, StoreError, StoreResult};
use serde::Serialize;

platform_kernel::text_enum! {
    /// The kind a session is issued for.
    pub enum Kind { Member => "member" }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Account {
    pub id: AccountId,
    pub email: String,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    /// Active, suspended, banned or deleted (`gigstream_domain::backoffice`).
    pub standing: Standing,
    /// Why it is suspended or banned, as the person is told.
    pub standing_reason: String,
    pub verified_at: Option<DateTime<Utc>>,
    /// An admin's role (`owner`, `moderator`, `finance`).
    pub admin_role: Option<AdminRole>,
}

const COLUMNS: &str =
    "id, email, username, display_name, is_admin, is_active, created_at, standing, standing_reason, verified_at, admin_role";

/// A new account's fields, already checked.
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub is_admin: bool,
}

/// Sessions (the platform's `sessions` table), live only while their
/// account is active.
pub fn sessions() -> SessionStore {
    SessionStore::new().for_active(ActiveAccounts::new("accounts", "id", "is_active"))
}

/// Inserts an account: id, email, username, display name, password hash, admin, now.
pub(crate) const INSERT: &str =
    "INSERT INTO accounts (id, email, username, display_name, password_hash, is_admin, is_active, created_at, admin_role)
     VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, CASE WHEN $6 THEN 'owner' END)";

/// A taken email or username as a field error.
pub(crate) fn taken(e: StoreError) -> StoreError {
    match e {
        StoreError::Conflict(what) if what.contains("email") => {
            StoreError::Refused { field: "email", message: "An account with this email already exists".into() }
        }
        StoreError::Conflict(what) if what.contains("username") => {
            StoreError::Refused { field: "username", message: "That username is taken".into() }
        }
        e => e,
    }
}

/// Creates an account; a taken email or username is a field error.
pub async fn create(db: &Db, new: &NewAccount<'_>, now: DateTime<Utc>) -> StoreResult<Account> {
    let id = AccountId::new();
    let r = on_pool!(db, p => sqlx::query(INSERT).bind(id).bind(new.email).bind(new.username).bind(new.display_name)
        .bind(new.password_hash).bind(new.is_admin).bind(now).execute(p).await.map(|r| r.rows_affected()));
    match r.map_err(StoreError::from) {
        Ok(_) => by_id(db, id).await,
        Err(e) => Err(taken(e)),
    }
}

pub async fn by_id(db: &Db, id: AccountId) -> StoreResult<Account> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = $1");
    on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

pub async fn by_username(db: &Db, username: &str) -> StoreResult<Account> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE username = $1 AND is_active");
    on_pool!(db, p => sqlx::query_as(&sql).bind(username.to_lowercase()).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// The account and password hash for a sign-in by email or username; a
/// suspended or banned account is found too (its owner is told why), a
/// deleted one is not.
pub async fn for_login(db: &Db, login: &str) -> StoreResult<Option<(Account, String)>> {
    let sql = format!("SELECT {COLUMNS}, password_hash FROM accounts WHERE (email = $1 OR username = $1) AND standing <> 'deleted'");
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        account: Account,
        password_hash: String,
    }
    let row: Option<Row> = on_pool!(db, p => sqlx::query_as(&sql).bind(login.trim().to_lowercase()).fetch_optional(p).await?);
    Ok(row.map(|r| (r.account, r.password_hash)))
}

/// Whether any account exists (demo data goes only into an empty store).
pub async fn any(db: &Db) -> StoreResult<bool> {
    let n: i64 = on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(p).await?);
    Ok(n > 0)
}
