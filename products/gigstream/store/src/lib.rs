//! GigStream's persistence on PostgreSQL (production) or SQLite (the
//! embedded default). One SQL text per statement serves both stores through
//! `on_pool!`; the dialect differences (full-text search above all) live in
//! the two migration folders. Money moves only through platform-ledger
//! ([`escrow`]).

pub mod accounts;
pub mod backoffice;
pub mod dashboard;
pub mod escrow;
pub mod gigs;
pub mod identities;
pub mod invariants;
pub mod invoices;
pub mod messages;
pub mod notifications;
pub mod orders;
pub mod payments;
pub mod presence;
pub mod privacy;
pub mod profiles;
pub mod reminders;
pub mod reviews;
pub mod search;
pub mod security;
pub mod videos;
pub mod wallet;

pub use platform_db::{on_pool, Backend, BeginWrite, Db, StoreError, StoreResult};

use platform_db::Migrations;
use std::sync::OnceLock;

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");
static OWN: Migrations = Migrations { sqlite: &SQLITE, postgres: &POSTGRES };

/// GigStream's schema with the platform's sessions (110), ledger (120) and
/// audit log (130).
pub fn migrations() -> &'static Migrations {
    static ALL: OnceLock<Migrations> = OnceLock::new();
    ALL.get_or_init(|| {
        Migrations::combine(&[&platform_accounts::MIGRATIONS, &platform_ledger::MIGRATIONS, &platform_audit::MIGRATIONS, &OWN])
    })
}

/// Applies pending migrations.
pub async fn migrate(db: &Db) -> StoreResult<()> {
    db.migrate(migrations()).await
}

/// Connects with GigStream's name in PostgreSQL's activity view.
pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Db> {
    Db::connect_as(url, max_connections, "gigstream").await
}

/// A refusal by the order rules or a form check, as the store's error.
pub(crate) fn rule(message: impl Into<String>) -> StoreError {
    StoreError::Rule(message.into())
}
