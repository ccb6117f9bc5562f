//! One leader across nodes for scheduled jobs. On PostgreSQL the leader
//! holds a session advisory lock on a dedicated connection: if the node dies
//! or loses the connection, the lock is released and another node takes
//! over. SQLite runs one process, which is always the leader.

use platform_db::{Db, StoreResult};

/// Arbitrary, stable key for the jobs lock.
const JOBS_LOCK: i64 = 0x6661_6e74_6f6f_6f01; // the same key in every product: each has its own database

pub enum Leadership {
    /// The single embedded process.
    Embedded,
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl Leadership {
    /// Becomes leader if nobody else is.
    pub async fn try_acquire(db: &Db) -> StoreResult<Option<Leadership>> {
        match db {
            Db::Sqlite(_) => Ok(Some(Leadership::Embedded)),
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(JOBS_LOCK).fetch_one(&mut *conn).await?;
                Ok(got.then_some(Leadership::Postgres(conn)))
            }
        }
    }

    /// Whether the lock is still ours (the connection is alive).
    pub async fn still_held(&mut self) -> bool {
        match self {
            Leadership::Embedded => true,
            Leadership::Postgres(conn) => sqlx::query("SELECT 1").execute(&mut **conn).await.is_ok(),
        }
    }
}
