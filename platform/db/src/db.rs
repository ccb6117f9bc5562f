use crate::error::StoreResult;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// A schema for both stores: two folders of numbered SQL files embedded
/// with `sqlx::migrate!`, kept in step by their owner.
///
/// Platform crates that own tables ship their own (versions 100–999, a
/// block of ten per crate); a product's own migrations are numbered from
/// 1000 and [`Migrations::combine`] runs them all in version order.
/// (A product whose schema predates the platform may create those tables
/// itself, in the same shapes.)
pub struct Migrations {
    pub sqlite: &'static Migrator,
    pub postgres: &'static Migrator,
}

impl Migrations {
    /// The union of several schemas, in version order. Call it once at
    /// start-up (the result lives for the process). Panics when two parts
    /// share a version: that is a build mistake, not a runtime condition.
    pub fn combine(parts: &[&Migrations]) -> Migrations {
        fn merge(parts: impl Iterator<Item = &'static Migrator>) -> &'static Migrator {
            let mut all: Vec<sqlx::migrate::Migration> = parts.flat_map(|m| m.migrations.iter().cloned()).collect();
            all.sort_by_key(|m| m.version);
            for pair in all.windows(2) {
                assert_ne!(pair[0].version, pair[1].version, "two migrations share version {}", pair[0].version);
            }
            Box::leak(Box::new(Migrator { migrations: std::borrow::Cow::Owned(all), ..Migrator::DEFAULT }))
        }
        Migrations { sqlite: merge(parts.iter().map(|p| p.sqlite)), postgres: merge(parts.iter().map(|p| p.postgres)) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool to one of the two supported stores.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Pooled connections idle longer than this are checked before reuse.
const IDLE_PING_AFTER: Duration = Duration::from_secs(1);

/// Prepared statements kept per connection (sqlx's default is 100). A
/// group-commit batch writes with `VALUES` lists of its own size, so each
/// of its statements has a text per batch size; with room for only 100,
/// batches of changing sizes evict each other's statements and every
/// statement is parsed again, with one more round trip. The environment's
/// `PLATFORM_DB_STATEMENT_CACHE` overrides it (a bench's "before").
pub const STATEMENT_CACHE: usize = 1_024;

fn statement_cache() -> usize {
    std::env::var("PLATFORM_DB_STATEMENT_CACHE").ok().and_then(|v| v.parse().ok()).unwrap_or(STATEMENT_CACHE)
}

impl Db {
    /// Connects to `url`: `postgres://…` or `sqlite://path` (created if missing).
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Db> {
        Self::connect_as(url, max_connections, "platform").await
    }

    /// Like [`Db::connect`], naming the client in PostgreSQL's
    /// `pg_stat_activity` (the product's name).
    pub async fn connect_as(url: &str, max_connections: u32, application: &str) -> StoreResult<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?.application_name(application).statement_cache_capacity(statement_cache());
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                // A ping before every checkout is a round trip on every
                // request; only connections that sat idle for a while (and
                // may have been cut by a server restart) are pinged.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for > IDLE_PING_AFTER {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
                .statement_cache_capacity(statement_cache());
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections.min(16))
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(opts)
                .await?;
            Ok(Db::Sqlite(pool))
        }
    }

    /// Refreshes the planner's statistics for `table` (a fixed name, never
    /// user input). After a bulk load the automatic refresh can be a minute
    /// away, and until then the planner may ignore an index that fits.
    pub async fn refresh_statistics(&self, table: &'static str) -> StoreResult<()> {
        let sql = format!("ANALYZE {table}");
        crate::on_pool!(self, p => { sqlx::query(&sql).execute(p).await?; });
        Ok(())
    }

    /// A pool of one connection of its own to the same PostgreSQL database
    /// (opened when first used), for a node's periodic read that must not
    /// queue behind its requests for a pooled connection: on a busy node
    /// such a read comes late. SQLite's pool is returned as it is.
    pub fn own_connection(&self) -> Db {
        match self {
            Db::Postgres(p) => {
                Db::Postgres(PgPoolOptions::new().max_connections(1).connect_lazy_with(p.connect_options().as_ref().clone()))
            }
            Db::Sqlite(_) => self.clone(),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the product's pending migrations for this store.
    pub async fn migrate(&self, migrations: &Migrations) -> StoreResult<()> {
        match self {
            Db::Sqlite(p) => migrations.sqlite.run(p).await?,
            Db::Postgres(p) => migrations.postgres.run(p).await?,
        }
        Ok(())
    }

    /// A cheap round trip for health checks.
    pub async fn ping(&self) -> StoreResult<()> {
        crate::on_pool!(self, p => { sqlx::query("SELECT 1").execute(p).await?; });
        Ok(())
    }

    pub async fn close(&self) {
        crate::on_pool!(self, p => p.close().await)
    }
}

/// Begins a write transaction. On SQLite it is `BEGIN IMMEDIATE`, taking the
/// write lock up front so read-then-write sequences cannot interleave (and
/// never fail with a lock upgrade error half-way).
pub trait BeginWrite {
    type Database: sqlx::Database;
    fn begin_write(&self) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>> + Send;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;
    fn begin_write(&self) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;
    fn begin_write(&self) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error>> + Send {
        self.begin()
    }
}

/// Serialises the write transactions that name the same key, across
/// requests and nodes, until the transaction ends: PostgreSQL takes a
/// transaction-scoped advisory lock on (`class`, `key`); SQLite's
/// `BEGIN IMMEDIATE` ([`BeginWrite`]) already holds the one write lock, so
/// there it is free. After it, a PostgreSQL statement of the transaction
/// sees what the previous holder committed (read committed takes a fresh
/// snapshot per statement), so a check-then-write under the lock is one
/// decision. `class` keeps one product's uses apart from another's.
pub trait LockKey {
    fn lock_key(&mut self, class: i32, key: &str) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send;
}

impl LockKey for sqlx::SqliteConnection {
    fn lock_key(&mut self, _class: i32, _key: &str) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send {
        std::future::ready(Ok(()))
    }
}

impl LockKey for sqlx::PgConnection {
    async fn lock_key(&mut self, class: i32, key: &str) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))").bind(class).bind(key).execute(self).await.map(|_| ())
    }
}

/// The database a product binary opens: the PostgreSQL URL it was given,
/// else the embedded SQLite file `file` in `data_dir` (created if missing).
pub fn url_or_embedded(database_url: Option<&str>, data_dir: &std::path::Path, file: &str) -> std::io::Result<String> {
    match database_url {
        Some(u) => Ok(u.to_string()),
        None => {
            std::fs::create_dir_all(data_dir)?;
            Ok(format!("sqlite://{}", data_dir.join(file).display()))
        }
    }
}

#[cfg(test)]
mod url_tests {
    #[test]
    fn a_given_url_wins_else_the_embedded_file_in_a_created_dir() {
        let dir = std::env::temp_dir().join(format!("platform-db-url-{}", std::process::id()));
        assert_eq!(super::url_or_embedded(Some("postgres://h/db"), &dir, "x.db").unwrap(), "postgres://h/db");
        assert!(!dir.exists(), "nothing created when a URL is given");
        let url = super::url_or_embedded(None, &dir, "x.db").unwrap();
        assert_eq!(url, format!("sqlite://{}", dir.join("x.db").display()));
        assert!(dir.is_dir());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
