//! Accounts and sessions for every product, on either store:
//!
//! - [`password`]: Argon2id hashing and verification on the blocking pool,
//!   at most one computation per core, and the strength rule for new
//!   passwords;
//! - [`sessions`]: revocable server-side sessions for browser cookies and
//!   bearer tokens (only the SHA-256 of a token is stored);
//! - [`tokens`]: short-lived signed access tokens and rotating refresh
//!   tokens with reuse detection, for mobile and API clients;
//! - [`once`]: single-use tokens (reset and verification links, staff reset
//!   codes) that expire and are stored hashed.
//!
//! Each product defines its own accounts table; this crate never names one.
//! Where a credential must also belong to an active account, the product
//! says which table and column hold that ([`ActiveAccounts`]). Account ids
//! and kinds are the product's own types: anything that binds and decodes
//! as one column on both stores ([`Column`]), such as a
//! `platform_kernel::id_type!` id or a `platform_kernel::text_enum!` kind.
//!
//! New products take the tables from [`MIGRATIONS`]; a product with its own
//! `sessions` table of the same shape keeps it:
//!
//! ```no_run
//! # async fn demo(db: &platform_db::Db) -> Result<(), Box<dyn std::error::Error>> {
//! use chrono::{Duration, Utc};
//! use platform_accounts::{ActiveAccounts, SessionSpec, SessionStore, Via};
//!
//! platform_kernel::id_type!(AccountId);
//! platform_kernel::text_enum! { pub enum AccountKind { User => "user", Admin => "admin" } }
//!
//! // The product's own `sessions` table, live only while `accounts.is_active`.
//! let sessions = SessionStore::new().for_active(ActiveAccounts::new("accounts", "id", "is_active"));
//! let spec = SessionSpec { account: AccountId::new(), kind: AccountKind::User, via: Via::Cookie, ttl: Duration::days(30), ip: None, user_agent: None };
//! let new = sessions.create(db, spec, Utc::now()).await?;
//! let live = sessions.live::<AccountId, AccountKind>(db, &new.token, Utc::now()).await?;
//! # let _ = live;
//! # Ok(())
//! # }
//! ```

pub mod once;
pub mod password;
pub mod sessions;
pub mod tokens;

use rand::RngCore;
use sha2::{Digest, Sha256};

pub use sessions::{NewSession, Session, SessionSpec, SessionStore, Via};
pub use tokens::{AccessClaims, AccessTokens, FamilyId, TokenError, TokenPair, Tokens};

/// The tables of this crate on both stores, versions 110–119: `sessions`
/// (110), `refresh_tokens` (111) and `one_time_tokens` (112). They reference no accounts table, since
/// every product defines its own; deleting an account should revoke or
/// delete its credentials in the same transaction.
///
/// sqlx refuses to run a set of migrations on a database that has applied
/// versions the set does not know, so a product runs these as part of its
/// own set: it copies the files into its migration folders (the versions
/// are reserved for them) or builds one `Migrator` from both lists.
pub static MIGRATIONS: platform_db::Migrations = platform_db::Migrations { sqlite: &SQLITE, postgres: &POSTGRES };
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// A value that binds and decodes as one column on both stores, so one SQL
/// text serves both: an account id (`uuid` on PostgreSQL, hyphenated text
/// on SQLite, as `platform_kernel::id_type!` makes them), a text enum, a
/// `String`.
pub trait Column:
    sqlx::Type<sqlx::Postgres>
    + for<'q> sqlx::Encode<'q, sqlx::Postgres>
    + for<'r> sqlx::Decode<'r, sqlx::Postgres>
    + sqlx::Type<sqlx::Sqlite>
    + for<'q> sqlx::Encode<'q, sqlx::Sqlite>
    + for<'r> sqlx::Decode<'r, sqlx::Sqlite>
    + Clone
    + Send
    + Sync
    + Unpin
    + 'static
{
}

impl<T> Column for T where
    T: sqlx::Type<sqlx::Postgres>
        + for<'q> sqlx::Encode<'q, sqlx::Postgres>
        + for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + sqlx::Type<sqlx::Sqlite>
        + for<'q> sqlx::Encode<'q, sqlx::Sqlite>
        + for<'r> sqlx::Decode<'r, sqlx::Sqlite>
        + Clone
        + Send
        + Sync
        + Unpin
        + 'static
{
}

/// Where a product keeps whether an account may sign in: a session or
/// refresh token is live only while `table.active` is true for the row whose
/// `id` is the credential's account. Names are fixed identifiers from code,
/// never input; they are spliced into SQL, so only plain lowercase
/// identifiers are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveAccounts {
    table: &'static str,
    id: &'static str,
    active: &'static str,
}

impl ActiveAccounts {
    /// E.g. `ActiveAccounts::new("accounts", "id", "is_active")`.
    ///
    /// # Panics
    /// If a name is not a plain identifier (`[a-z_][a-z0-9_]*`).
    pub fn new(table: &'static str, id: &'static str, active: &'static str) -> Self {
        for name in [table, id, active] {
            assert_identifier(name);
        }
        ActiveAccounts { table, id, active }
    }

    /// `JOIN … a ON a.id = <alias>.account_id AND a.active`, for a
    /// credential table aliased `alias`.
    fn join(&self, alias: &str) -> String {
        let ActiveAccounts { table, id, active } = self;
        format!("JOIN {table} a ON a.{id} = {alias}.account_id AND a.{active}")
    }

    /// Whether one account (`$1`) is active: true, false, or no row.
    fn active_sql(&self) -> String {
        let ActiveAccounts { table, id, active } = self;
        format!("SELECT a.{active} FROM {table} a WHERE a.{id} = $1")
    }
}

/// Panics unless `name` is a plain lowercase SQL identifier, safe to splice.
fn assert_identifier(name: &str) {
    let mut chars = name.chars();
    let plain = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    assert!(plain, "`{name}` is not a plain SQL identifier");
}

/// 32 random bytes in hex: session, CSRF and refresh tokens.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// What the store keeps of a token: its SHA-256 in hex. A token has 256
/// random bits, so a fast hash suffices, and a leaked table holds no
/// usable credential.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_identifiers_are_spliced() {
        let a = ActiveAccounts::new("accounts", "id", "is_active");
        assert_eq!(a.join("s"), "JOIN accounts a ON a.id = s.account_id AND a.is_active");
        for bad in ["", "Accounts", "1st", "accounts; DROP TABLE x", "a.b", "a b", "\"x\""] {
            assert!(std::panic::catch_unwind(|| assert_identifier(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), a);
    }
}
