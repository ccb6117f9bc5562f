//! Persistence for Fantooo on PostgreSQL (production) or SQLite (embedded
//! default). One set of SQL texts serves both: sqlx's SQLite driver accepts
//! `$N` placeholders, ids bind as `uuid`/TEXT through the domain newtypes,
//! and the few dialect differences live in the two migration folders.

pub mod accounts;
pub mod admins;
pub mod analytics;
pub mod audit;
pub mod chat_admin;
pub mod chats;
pub mod events;
pub mod favorites;
pub mod invariants;
pub mod ledger;
pub mod messages;
pub mod notifications;
pub mod operations;
pub mod operator_admin;
pub mod operators;
pub mod packages;
pub mod partitions;
pub mod payments;
pub mod profile_admin;
pub mod profiles;
pub mod queue;
pub mod recovery;
pub mod refunds;
pub mod reviews;
pub mod rewards;
pub mod safety;
pub mod settings;
pub mod stats;
pub mod user_admin;
pub mod users;

pub use platform_db::{on_pool, Backend, BeginWrite, Db, StoreError, StoreResult};

/// Fantooo's schema on both stores.
pub static MIGRATIONS: platform_db::Migrations = platform_db::Migrations { sqlite: &SQLITE, postgres: &POSTGRES };
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Applies pending migrations, then makes sure time partitions exist.
pub async fn migrate(db: &Db) -> StoreResult<()> {
    db.migrate(&MIGRATIONS).await?;
    partitions::ensure_ahead(db, chrono::Utc::now(), 3).await?;
    Ok(())
}

/// Connects with Fantooo's name in PostgreSQL's activity view.
pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Db> {
    Db::connect_as(url, max_connections, "fantooo").await
}
