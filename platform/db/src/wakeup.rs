//! Cross-node wake-ups for the outbox tailers (PostgreSQL LISTEN/NOTIFY).
//! A wake-up carries no data, only "look at the outbox now"; the rows
//! themselves are always read from the tables, so a lost one costs latency,
//! never a message. SQLite runs a single node and needs none.

use crate::{Backend, Db, StoreResult};

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

/// A wake-up carried by a write transaction itself, for a writer that
/// wants the other nodes woken at its commit with no statement of its own
/// after it: a select-list item (`pg_notify(…) IS NULL`, always false) to
/// add to a `RETURNING` or `SELECT` the transaction sends anyway, signed
/// with the sender's name bound as `$param`. PostgreSQL queues it with the
/// transaction and delivers it at the commit, or never when the transaction
/// rolls back; the same wake-up queued by many rows of one transaction is
/// delivered once. `None` on SQLite (one node, nothing to wake).
///
/// The price is [`notify`]'s warning: PostgreSQL orders the commits of
/// transactions that queued a NOTIFY one after another (one lock over the
/// commit), so it suits writers that commit few transactions, or one per
/// batch of writes, and only while the commit is quick (here
/// `synchronous_commit` off); a writer that commits many small
/// transactions on a server that waits for each commit's flush should
/// call [`notify_from`] after its commit instead.
pub fn at_commit(backend: Backend, param: usize) -> Option<String> {
    (backend == Backend::Postgres).then(|| format!("pg_notify('{CHANNEL}', ${param}) IS NULL"))
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
