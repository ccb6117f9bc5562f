//! Realtime delivery. Writers commit rows to the outbox tables (`messages`,
//! `realtime_events`) and call [`Realtime::written`]; every node tails those
//! tables by sequence number and fans new rows out to its own WebSocket
//! connections through the [`hub::Hub`]. Nodes share nothing but the
//! database: on PostgreSQL a coalesced `NOTIFY`, sent outside the write
//! transaction, wakes the other nodes' tailers early; a periodic poll covers
//! any lost wake-up. Clients resume from the last sequence number they saw.

pub mod cursor;
pub mod hub;
mod outbox;
pub mod socket;

use fantooo_store::Db;
use std::sync::Arc;
use tokio::sync::Notify;

pub use hub::{Hub, Topic};

pub struct Realtime {
    pub hub: Hub,
    /// Wakes this node's tailer.
    wake: Notify,
    /// Asks for one NOTIFY to the other nodes (PostgreSQL only).
    tell_peers: Notify,
}

impl Realtime {
    /// Creates the hub and starts this node's outbox tasks.
    pub fn start(db: Db) -> Arc<Realtime> {
        let rt = Arc::new(Realtime { hub: Hub::default(), wake: Notify::new(), tell_peers: Notify::new() });
        outbox::spawn(rt.clone(), db);
        rt
    }

    /// `written` as a callback, for code outside the web layer (jobs).
    pub fn changed_callback(self: &Arc<Self>) -> Arc<dyn Fn() + Send + Sync> {
        let rt = self.clone();
        Arc::new(move || rt.written())
    }

    /// Call after committing rows to an outbox table. Many calls in a burst
    /// collapse into one tailer pass and one NOTIFY.
    pub fn written(&self) {
        self.wake.notify_one();
        self.tell_peers.notify_one();
    }
}
