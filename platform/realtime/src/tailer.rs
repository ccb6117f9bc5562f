//! The tailer: reads new rows of each outbox table in sequence order and
//! publishes them to this node's hub; on PostgreSQL it also listens for
//! peers' wake-ups and sends its own, one at a time, outside any write
//! transaction.

use crate::cursor::{Cursor, PATIENCE};
use crate::hub::{Hub, Topic};
use crate::{trace, Realtime};
use futures_util::future::BoxFuture;
use platform_db::{wakeup, Backend, Db, StoreResult};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Rows read per query.
pub const BATCH: i64 = 1_000;
/// Without a wake-up, look anyway this often (a lost NOTIFY costs at most this).
pub const POLL: Duration = Duration::from_millis(500);
/// Holes asked for in one query.
const HOLE_LOOKUP: usize = 500;
/// While holes are open, look for them this often.
const HOLE_POLL: Duration = Duration::from_millis(20);

/// One outbox table of a product: rows with a sequence number, read after
/// a point or by number, and published to the hub.
pub trait Outbox<T: Topic, K>: Send + Sync + 'static {
    type Row: Send;
    fn seq(row: &Self::Row) -> i64;
    /// The highest sequence number committed now (the tailer starts there).
    fn head<'a>(&'a self, db: &'a Db) -> BoxFuture<'a, StoreResult<i64>>;
    /// Rows with `seq > after`, in order, at most `limit`.
    fn after<'a>(&'a self, db: &'a Db, after: i64, limit: i64) -> BoxFuture<'a, StoreResult<Vec<Self::Row>>>;
    /// The rows among `seqs` that exist now.
    fn by_seqs<'a>(&'a self, db: &'a Db, seqs: &'a [i64]) -> BoxFuture<'a, StoreResult<Vec<Self::Row>>>;
    /// Publishes one new row.
    fn publish(&self, hub: &Hub<T, K>, row: Self::Row);
}

/// An outbox with its cursor, behind an object-safe face so one tailer can
/// follow tables of different row types.
pub(crate) trait Source<T: Topic, K>: Send {
    fn start<'a>(&'a mut self, db: &'a Db) -> BoxFuture<'a, StoreResult<()>>;
    /// Reads one batch and the holes; true when the batch was full.
    fn drain<'a>(&'a mut self, db: &'a Db, hub: &'a Hub<T, K>, now: Instant, woke: i64) -> BoxFuture<'a, StoreResult<bool>>;
    fn has_holes(&self) -> bool;
}

pub(crate) struct Tailed<O> {
    outbox: O,
    cursor: Cursor,
}

impl<O> Tailed<O> {
    pub(crate) fn new(outbox: O) -> Self {
        Tailed { outbox, cursor: Cursor::new(0) }
    }
}

impl<T: Topic, K: Send + Sync + 'static, O: Outbox<T, K>> Source<T, K> for Tailed<O> {
    fn start<'a>(&'a mut self, db: &'a Db) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            self.cursor = Cursor::new(self.outbox.head(db).await?);
            Ok(())
        })
    }

    fn drain<'a>(&'a mut self, db: &'a Db, hub: &'a Hub<T, K>, now: Instant, woke: i64) -> BoxFuture<'a, StoreResult<bool>> {
        Box::pin(async move {
            let read_at = if trace::on() { trace::now() } else { 0 };
            let rows = self.outbox.after(db, self.cursor.high(), BATCH).await?;
            let read = if trace::on() { trace::now() } else { 0 };
            let full = rows.len() as i64 == BATCH;
            for row in rows {
                let seq = O::seq(&row);
                if self.cursor.observe(seq, now) {
                    self.outbox.publish(hub, row);
                    if trace::on() {
                        let table = std::any::type_name::<O>().rsplit("::").next().unwrap_or("");
                        trace::step("pub", format_args!("{table} {seq} {woke} {read_at} {read} {}", trace::now()));
                    }
                }
            }
            if self.cursor.has_holes() {
                // Every hole is looked up, not only the oldest: rolled-back
                // inserts can leave many, and a late commit behind them must
                // not wait until they expire (it would expire with them).
                for chunk in self.cursor.holes().chunks(HOLE_LOOKUP) {
                    for row in self.outbox.by_seqs(db, chunk).await? {
                        if self.cursor.observe(O::seq(&row), now) {
                            self.outbox.publish(hub, row);
                        }
                    }
                }
                self.cursor.expire(now, PATIENCE);
            }
            Ok(full)
        })
    }

    fn has_holes(&self) -> bool {
        self.cursor.has_holes()
    }
}

pub(crate) fn spawn<T: Topic, K: Send + Sync + 'static>(
    rt: Arc<Realtime<T, K>>,
    db: Db,
    sources: Vec<Box<dyn Source<T, K>>>,
    poll: Duration,
) {
    if db.backend() == Backend::Postgres {
        tokio::spawn(listen(rt.clone(), db.clone()));
        tokio::spawn(tell_peers(rt.clone(), db.clone()));
    }
    tokio::spawn(tail(rt, db, sources, poll));
}

async fn listen<T: Topic, K: Send + Sync + 'static>(rt: Arc<Realtime<T, K>>, db: Db) {
    loop {
        match wakeup::Listener::connect(&db).await {
            Ok(Some(mut listener)) => loop {
                match listener.recv().await {
                    // This node's own NOTIFY: `written` woke the tailer
                    // already, before it was sent.
                    Ok(sender) if sender == rt.node => {}
                    Ok(_) => {
                        if trace::on() {
                            trace::step("notify_recv", format_args!("{}", trace::now()));
                        }
                        rt.wake.notify_one()
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox listener error");
                        rt.wake.notify_one();
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            },
            Ok(None) => return,
            Err(e) => tracing::warn!(error = %e, "outbox listener cannot connect"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Sends one NOTIFY per burst of writes: pokes that arrive while one is in
/// flight collapse into the next.
async fn tell_peers<T: Topic, K: Send + Sync + 'static>(rt: Arc<Realtime<T, K>>, db: Db) {
    loop {
        rt.tell_peers.notified().await;
        let asked = if trace::on() { trace::now() } else { 0 };
        let sent = wakeup::notify_from(&db, &rt.node).await;
        if trace::on() {
            trace::step("notify_sent", format_args!("{asked} {}", trace::now()));
        }
        if let Err(e) = sent {
            tracing::warn!(error = %e, "outbox NOTIFY failed; peers fall back to polling");
        }
    }
}

async fn tail<T: Topic, K: Send + Sync + 'static>(
    rt: Arc<Realtime<T, K>>,
    db: Db,
    mut sources: Vec<Box<dyn Source<T, K>>>,
    poll: Duration,
) {
    'start: loop {
        for s in sources.iter_mut() {
            if let Err(e) = s.start(&db).await {
                tracing::warn!(error = %e, "outbox head unavailable; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue 'start;
            }
        }
        break;
    }
    rt.ready.send_replace(true);
    loop {
        let wait = if sources.iter().any(|s| s.has_holes()) { HOLE_POLL.min(poll) } else { poll };
        let woken = tokio::select! {
            _ = rt.wake.notified() => true,
            _ = tokio::time::sleep(wait) => false,
        };
        let woke = if trace::on() { trace::now() } else { 0 };
        if trace::on() {
            trace::step("wake", format_args!("{woke} {woken} {}", rt.written_at.load(std::sync::atomic::Ordering::Relaxed)));
        }
        if let Err(e) = drain(&rt, &db, &mut sources).await {
            tracing::warn!(error = %e, "outbox read failed; retrying");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// Reads every outbox until none has a full batch left. The outboxes are
/// read at once, each on its own connection, so a pass costs one round
/// trip rather than one per table.
async fn drain<T: Topic, K: Send + Sync + 'static>(rt: &Realtime<T, K>, db: &Db, sources: &mut [Box<dyn Source<T, K>>]) -> StoreResult<()> {
    loop {
        let now = Instant::now();
        let woke = if trace::on() { trace::now() } else { 0 };
        let fulls = futures_util::future::try_join_all(sources.iter_mut().map(|s| s.drain(db, &rt.hub, now, woke))).await?;
        if !fulls.into_iter().any(|full| full) {
            return Ok(());
        }
    }
}
