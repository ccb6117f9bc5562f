//! Persistence for Rooms on PostgreSQL (production) or SQLite (embedded
//! default), one SQL text for both through `on_pool!`.
//!
//! Every change to a room writes its event to the room outbox
//! (`room_events`, [`events`]) in the same transaction, so live delivery
//! only has to tail that table; events for one person (private messages,
//! read marks) go to `user_events` the same way. Refusals a client can act
//! on are `StoreError::Guard` with a stable snake_case code ([`refused`]).

#[macro_use]
mod macros;
#[macro_use]
pub mod sale;

pub mod accounts;
pub mod agencies;
pub mod agency_details;
pub mod audit;
pub mod backoffice;
pub mod chat;
pub mod check;
pub mod coin_requests;
pub mod economy;
pub mod events;
pub mod exchange_switches;
pub mod frames;
pub mod gifts;
pub mod identities;
pub mod leaderboards;
pub mod levels;
pub mod messages;
pub mod music;
pub mod node_cache;
pub mod presence;
pub mod rooms;
pub mod salary_exchange;
pub mod seat_sessions;
pub mod seats;
pub mod social;
pub mod sweep;
pub mod themes;
pub mod vip;
pub mod voice_numbers;

pub use platform_db::{on_pool, Backend, BeginWrite, Db, StoreError, StoreResult};
use std::sync::LazyLock;

/// Rooms' own tables (versions from 1000).
static OWN: platform_db::Migrations = platform_db::Migrations { sqlite: &SQLITE, postgres: &POSTGRES };
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The whole schema: platform-accounts' sessions and refresh tokens,
/// platform-ledger's wallets and entries (coins and diamonds),
/// platform-audit's log (the back office's actions), then Rooms' own tables.
pub static MIGRATIONS: LazyLock<platform_db::Migrations> = LazyLock::new(|| {
    platform_db::Migrations::combine(&[&platform_accounts::MIGRATIONS, &platform_ledger::MIGRATIONS, &platform_audit::MIGRATIONS, &OWN])
});

/// Applies pending migrations.
pub async fn migrate(db: &Db) -> StoreResult<()> {
    db.migrate(&MIGRATIONS).await
}

/// Connects with Rooms' name in PostgreSQL's activity view.
pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Db> {
    Db::connect_as(url, max_connections, "rooms").await
}

/// A refusal a client can act on, with its stable code.
pub fn refused(code: &str, message: impl Into<String>) -> StoreError {
    StoreError::Guard { code: code.to_string(), message: message.into() }
}

/// A moderation refusal from the domain, as a store refusal.
pub fn refusal(r: rooms_domain::moderation::Refusal) -> StoreError {
    refused(r.code(), r.message())
}

/// Whether `e` is a unique violation on a constraint or column whose name
/// contains `what` (PostgreSQL names the constraint, SQLite the column).
pub(crate) fn conflict_on(e: &StoreError, what: &str) -> bool {
    matches!(e, StoreError::Conflict(w) if w.contains(what))
}
