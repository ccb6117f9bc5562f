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
pub mod send_batch;
pub mod settings;
pub mod stats;
pub mod user_admin;
pub mod users;

pub use platform_db::{on_pool, Backend, BeginWrite, Db, StoreError, StoreResult};
use sqlx::migrate::Migrator;
use std::sync::LazyLock;

/// Fantooo's schema on both stores: its own migrations before 14, then the
/// platform's audit log and admin notices (platform-audit, 130), then its
/// own from 14 on (14 moves its admin log and notifications into the
/// platform's tables) up to 21, where the platform's single-use tokens
/// (platform-accounts, 112) come in before Fantooo moves its recovery links
/// into them. Fantooo predates the platform, so the platform's tables come
/// in the middle of its history; pending migrations are applied in this
/// order. (Fantooo keeps its own sessions table, so it takes only 112 of
/// platform-accounts' migrations.)
pub static MIGRATIONS: LazyLock<platform_db::Migrations> = LazyLock::new(|| platform_db::Migrations {
    sqlite: with_platform(&SQLITE, platform_audit::MIGRATIONS.sqlite, platform_accounts::MIGRATIONS.sqlite),
    postgres: with_platform(&POSTGRES, platform_audit::MIGRATIONS.postgres, platform_accounts::MIGRATIONS.postgres),
});
static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// The first of Fantooo's migrations that needs the platform's audit tables.
const AFTER_PLATFORM_AUDIT: i64 = 14;
/// The first of Fantooo's migrations that needs the platform's single-use tokens.
const AFTER_PLATFORM_TOKENS: i64 = 21;
/// The platform-accounts migration Fantooo takes.
const PLATFORM_TOKENS: i64 = 112;

fn with_platform(own: &'static Migrator, audit: &'static Migrator, accounts: &'static Migrator) -> &'static Migrator {
    let own_in = |from: i64, to: i64| own.migrations.iter().filter(move |m| m.version >= from && m.version < to).cloned();
    let tokens = accounts.migrations.iter().filter(|m| m.version == PLATFORM_TOKENS).cloned();
    let all = own_in(0, AFTER_PLATFORM_AUDIT)
        .chain(audit.migrations.iter().cloned())
        .chain(own_in(AFTER_PLATFORM_AUDIT, AFTER_PLATFORM_TOKENS))
        .chain(tokens)
        .chain(own_in(AFTER_PLATFORM_TOKENS, i64::MAX))
        .collect();
    // Built once per process (the static above).
    Box::leak(Box::new(Migrator { migrations: std::borrow::Cow::Owned(all), ..Migrator::DEFAULT }))
}

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
