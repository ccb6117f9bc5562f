//! Realtime delivery for every product. Writers commit rows to the
//! product's outbox tables and call [`Realtime::written`]; every node tails
//! those tables by sequence number ([`Outbox`]) and fans new rows out to its
//! own WebSocket connections through the [`Hub`], keyed by the channels
//! ([`Topic`]s) the product defines. Nodes share nothing but the database:
//! the committing node's tailer is woken in process by [`Realtime::written`],
//! with no database round trip; on PostgreSQL a coalesced `NOTIFY`, sent
//! outside the write transaction, wakes the other nodes' tailers (a node
//! skips the echo of its own); a periodic poll covers any lost wake-up. Rows may become visible out of sequence order, so the
//! [`cursor::Cursor`] remembers holes and looks for them again. Clients
//! resume from the last sequence number they saw, by reading the same
//! tables; [`socket`] is the WebSocket endpoint that does so for any
//! product.

pub mod cursor;
pub mod hub;
pub mod socket;
mod tailer;
pub mod trace;

pub use hub::{Hub, Inbox, Push, Subscriber, Topic};
pub use tailer::{Outbox, BATCH, POLL};

use platform_db::Db;
use std::sync::Arc;
use tokio::sync::Notify;

/// One node's realtime fan-out: the hub and the tailer that feeds it.
pub struct Realtime<T, K> {
    pub hub: Hub<T, K>,
    /// Wakes this node's tailer.
    wake: Notify,
    /// Asks for one NOTIFY to the other nodes (PostgreSQL only).
    tell_peers: Notify,
    /// Whether the tailer has read every outbox's head.
    pub(crate) ready: tokio::sync::watch::Sender<bool>,
    /// This node's name in its NOTIFYs, so its listener skips their echo.
    pub(crate) node: String,
    /// When [`Realtime::written`] was last called (only with the trace on).
    pub(crate) written_at: std::sync::atomic::AtomicI64,
}

/// The outboxes one tailer follows, built with [`Outboxes::with`].
pub struct Outboxes<T, K>(Vec<Box<dyn tailer::Source<T, K>>>);

impl<T: Topic, K: Send + Sync + 'static> Default for Outboxes<T, K> {
    fn default() -> Self {
        Outboxes(Vec::new())
    }
}

impl<T: Topic, K: Send + Sync + 'static> Outboxes<T, K> {
    /// Adds one outbox table.
    pub fn with<O: Outbox<T, K>>(mut self, outbox: O) -> Self {
        self.0.push(Box::new(tailer::Tailed::new(outbox)));
        self
    }
}

impl<T: Topic, K: Send + Sync + 'static> Realtime<T, K> {
    /// Creates the hub and starts this node's tailer over `outboxes`.
    pub fn start(db: Db, outboxes: Outboxes<T, K>) -> Arc<Self> {
        Self::start_polling(db, outboxes, POLL)
    }

    /// [`Realtime::start`] with another fallback poll than [`POLL`] (tests
    /// set a long one to show that no delivery waits for it).
    pub fn start_polling(db: Db, outboxes: Outboxes<T, K>, poll: std::time::Duration) -> Arc<Self> {
        let rt = Arc::new(Realtime {
            hub: Hub::default(),
            wake: Notify::new(),
            tell_peers: Notify::new(),
            ready: tokio::sync::watch::channel(false).0,
            node: uuid::Uuid::new_v4().simple().to_string(),
            written_at: std::sync::atomic::AtomicI64::new(0),
        });
        tailer::spawn(rt.clone(), db, outboxes.0, poll);
        rt
    }

    /// Resolves once the tailer has read the head of every outbox: rows
    /// committed after that are delivered live, rows before it are history
    /// (a client replays them from its last seq).
    pub async fn started(&self) {
        let mut ready = self.ready.subscribe();
        let _ = ready.wait_for(|r| *r).await;
    }

    /// `written` as a callback, for code outside the web layer (jobs).
    pub fn changed_callback(self: &Arc<Self>) -> Arc<dyn Fn() + Send + Sync> {
        let rt = self.clone();
        Arc::new(move || rt.written())
    }

    /// Call after committing rows to an outbox table: wakes this node's
    /// tailer directly (no poll tick or NOTIFY round trip on the path to
    /// this node's sockets) and asks for one NOTIFY to the other nodes. Many
    /// calls in a burst collapse into one tailer pass and one NOTIFY.
    pub fn written(&self) {
        if trace::on() {
            self.written_at.store(trace::now(), std::sync::atomic::Ordering::Relaxed);
        }
        self.wake.notify_one();
        self.tell_peers.notify_one();
    }
}
