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
    notify_from(db, "").await
}

/// [`notify`], signed with the sender's name: a node that has already woken
/// its own tailer gives its name, and its listener skips the echo
/// ([`Listener::recv`] returns the name).
pub async fn notify_from(db: &Db, sender: &str) -> StoreResult<()> {
    if let Db::Postgres(p) = db {
        sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(sender).execute(p).await?;
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

    /// Waits for the next wake-up and returns its sender's name (empty
    /// when unsigned). After a lost connection it reconnects by itself;
    /// wake-ups sent meanwhile are lost, so callers also poll.
    pub async fn recv(&mut self) -> StoreResult<String> {
        Ok(self.0.recv().await?.payload().to_string())
    }
}
