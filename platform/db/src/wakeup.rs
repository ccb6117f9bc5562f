//! Cross-node wake-ups for the outbox tailers (PostgreSQL LISTEN/NOTIFY).
//! A wake-up carries no data, only "look at the outbox now"; the rows
//! themselves are always read from the tables, so a lost one costs latency,
//! never a message. SQLite runs a single node and needs none.

use crate::{Db, StoreResult};

const CHANNEL: &str = "platform_outbox";

/// Wakes every listening node (including this one). Call it after, never
/// inside, a write transaction: NOTIFY inside a transaction serialises all
/// committing transactions of the cluster.
pub async fn notify(db: &Db) -> StoreResult<()> {
    if let Db::Postgres(p) = db {
        sqlx::query("SELECT pg_notify($1, '')").bind(CHANNEL).execute(p).await?;
    }
    Ok(())
}

pub struct Listener(sqlx::postgres::PgListener);

impl Listener {
    /// Starts listening; `None` on SQLite.
    pub async fn connect(db: &Db) -> StoreResult<Option<Listener>> {
        let Db::Postgres(p) = db else { return Ok(None) };
        let mut l = sqlx::postgres::PgListener::connect_with(p).await?;
        l.listen(CHANNEL).await?;
        Ok(Some(Listener(l)))
    }

    /// Waits for the next wake-up. After a lost connection it reconnects by
    /// itself; wake-ups sent meanwhile are lost, so callers also poll.
    pub async fn recv(&mut self) -> StoreResult<()> {
        self.0.recv().await?;
        Ok(())
    }
}
