//! In-process fan-out: which open connections listen to which topic.
//!
//! Every connection has one bounded queue. Publishing never waits: when a
//! connection's queue is full the push is dropped for it and the connection
//! is flagged as lagging; it then resynchronises from the database. A slow
//! client therefore costs only itself.

use axum::extract::ws::Utf8Bytes;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Per-connection queue length.
pub const CONNECTION_QUEUE: usize = 256;

/// A channel a product defines (a chat, a room, a conversation, a user):
/// any small copyable key.
pub trait Topic: Copy + Eq + Hash + Send + Sync + std::fmt::Debug + 'static {}
impl<T: Copy + Eq + Hash + Send + Sync + std::fmt::Debug + 'static> Topic for T {}

/// What a connection receives: the JSON text is built once per push and
/// shared by every receiver.
/// `K` is what the connection needs to know about a push without parsing
/// it (a message's sequence number for resume, who is typing, …).
#[derive(Debug)]
pub struct Push<T, K> {
    pub topic: T,
    pub json: Utf8Bytes,
    /// The same push in the words shown to end users, when they differ
    /// from what staff see (connections of end users send this instead).
    pub user_json: Option<Utf8Bytes>,
    pub kind: K,
}

/// The hub's handle on one connection.
pub struct Subscriber<T, K> {
    id: u64,
    tx: mpsc::Sender<Arc<Push<T, K>>>,
    lagging: Arc<AtomicBool>,
}

impl<T, K> Clone for Subscriber<T, K> {
    fn clone(&self) -> Self {
        Subscriber { id: self.id, tx: self.tx.clone(), lagging: self.lagging.clone() }
    }
}

/// The connection's side of its queue.
pub struct Inbox<T, K> {
    pub rx: mpsc::Receiver<Arc<Push<T, K>>>,
    pub lagging: Arc<AtomicBool>,
    pub subscriber: Subscriber<T, K>,
}

pub struct Hub<T, K> {
    topics: Mutex<HashMap<T, Vec<Subscriber<T, K>>>>,
    next_id: AtomicU64,
}

impl<T, K> Default for Hub<T, K> {
    fn default() -> Self {
        Hub { topics: Mutex::new(HashMap::new()), next_id: AtomicU64::new(0) }
    }
}

impl<T: Topic, K> Hub<T, K> {
    pub fn connect(&self) -> Inbox<T, K> {
        let (tx, rx) = mpsc::channel(CONNECTION_QUEUE);
        let lagging = Arc::new(AtomicBool::new(false));
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        Inbox { rx, lagging: lagging.clone(), subscriber: Subscriber { id, tx, lagging } }
    }

    pub fn subscribe(&self, topic: T, sub: &Subscriber<T, K>) {
        let mut topics = self.topics.lock().expect("hub lock");
        let list = topics.entry(topic).or_default();
        if !list.iter().any(|s| s.id == sub.id) {
            list.push(sub.clone());
        }
    }

    pub fn unsubscribe(&self, topic: T, sub: &Subscriber<T, K>) {
        let mut topics = self.topics.lock().expect("hub lock");
        if let Some(list) = topics.get_mut(&topic) {
            list.retain(|s| s.id != sub.id);
            if list.is_empty() {
                topics.remove(&topic);
            }
        }
    }

    /// Whether anyone on this node listens to `topic` (saves building JSON).
    pub fn has_listeners(&self, topic: T) -> bool {
        self.topics.lock().expect("hub lock").contains_key(&topic)
    }

    pub fn publish(&self, push: Arc<Push<T, K>>) {
        let mut topics = self.topics.lock().expect("hub lock");
        let Some(list) = topics.get_mut(&push.topic) else { return };
        list.retain(|s| match s.tx.try_send(push.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                s.lagging.store(true, Ordering::Release);
                metrics::counter!("realtime_ws_dropped_total").increment(1);
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        if list.is_empty() {
            topics.remove(&push.topic);
        }
    }

    /// Number of topics with listeners (for metrics and tests).
    pub fn topic_count(&self) -> usize {
        self.topics.lock().expect("hub lock").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    enum Channel {
        Chat(u32),
    }
    type TestHub = Hub<Channel, ()>;

    fn push(topic: Channel, n: i64) -> Arc<Push<Channel, ()>> {
        Arc::new(Push { topic, json: Utf8Bytes::from(n.to_string()), user_json: None, kind: () })
    }

    #[tokio::test]
    async fn pushes_reach_only_subscribers_of_the_topic() {
        let hub = TestHub::default();
        let (a, b) = (1, 2);
        let mut x = hub.connect();
        let mut y = hub.connect();
        hub.subscribe(Channel::Chat(a), &x.subscriber);
        hub.subscribe(Channel::Chat(b), &y.subscriber);
        hub.publish(push(Channel::Chat(a), 1));
        assert_eq!(x.rx.recv().await.unwrap().json.as_str(), "1");
        assert!(y.rx.try_recv().is_err());
        hub.unsubscribe(Channel::Chat(b), &y.subscriber);
        assert_eq!(hub.topic_count(), 1);
    }

    #[test]
    fn a_full_queue_flags_the_connection_instead_of_blocking() {
        let hub = TestHub::default();
        let chat = Channel::Chat(7);
        let slow = hub.connect();
        let mut fast = hub.connect();
        hub.subscribe(chat, &slow.subscriber);
        hub.subscribe(chat, &fast.subscriber);
        for n in 0..(CONNECTION_QUEUE as i64 + 10) {
            hub.publish(push(chat, n));
            fast.rx.try_recv().expect("the fast reader gets every push");
        }
        assert!(slow.lagging.load(Ordering::Acquire));
        assert!(!fast.lagging.load(Ordering::Acquire));
    }

    #[test]
    fn closed_connections_are_forgotten() {
        let hub = TestHub::default();
        let chat = Channel::Chat(7);
        let gone = hub.connect();
        hub.subscribe(chat, &gone.subscriber);
        let sub = gone.subscriber.clone();
        drop(gone);
        drop(sub);
        hub.publish(push(chat, 1));
        assert_eq!(hub.topic_count(), 0);
    }
}
