//! In-process fan-out: which open connections listen to which topic.
//!
//! Every connection has one bounded queue. Publishing never waits: when a
//! connection's queue is full the push is dropped for it and the connection
//! is flagged as lagging; it then resynchronises from the database. A slow
//! client therefore costs only itself.

use axum::extract::ws::Utf8Bytes;
use fantooo_domain::chat::Side;
use fantooo_domain::ids::{ChatId, OperatorId, UserId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Per-connection queue length.
pub const CONNECTION_QUEUE: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    Chat(ChatId),
    User(UserId),
    /// One operator's console (assignments, warnings).
    Operator(OperatorId),
    /// Every operator console (the queue changed).
    Operators,
    /// Every back-office page (alerts).
    Admins,
}

/// What a connection receives: the JSON text is built once per push and
/// shared by every receiver.
#[derive(Debug)]
pub struct Push {
    pub topic: Topic,
    pub json: Utf8Bytes,
    /// The same push in users' words (see `crate::user_json`), for user
    /// connections; `None` when `json` already suits everyone.
    pub user_json: Option<Utf8Bytes>,
    pub kind: PushKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushKind {
    Message {
        seq: i64,
        sender: Side,
    },
    Typing {
        side: Side,
    },
    /// The chat changed hands: each connection following it checks that it
    /// may still read it, and leaves it if not. Never sent to clients.
    Access,
    Other,
}

/// The hub's handle on one connection.
#[derive(Clone)]
pub struct Subscriber {
    id: u64,
    tx: mpsc::Sender<Arc<Push>>,
    lagging: Arc<AtomicBool>,
}

/// The connection's side of its queue.
pub struct Inbox {
    pub rx: mpsc::Receiver<Arc<Push>>,
    pub lagging: Arc<AtomicBool>,
    pub subscriber: Subscriber,
}

#[derive(Default)]
pub struct Hub {
    topics: Mutex<HashMap<Topic, Vec<Subscriber>>>,
    next_id: AtomicU64,
}

impl Hub {
    pub fn connect(&self) -> Inbox {
        let (tx, rx) = mpsc::channel(CONNECTION_QUEUE);
        let lagging = Arc::new(AtomicBool::new(false));
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        Inbox { rx, lagging: lagging.clone(), subscriber: Subscriber { id, tx, lagging } }
    }

    pub fn subscribe(&self, topic: Topic, sub: &Subscriber) {
        let mut topics = self.topics.lock().expect("hub lock");
        let list = topics.entry(topic).or_default();
        if !list.iter().any(|s| s.id == sub.id) {
            list.push(sub.clone());
        }
    }

    pub fn unsubscribe(&self, topic: Topic, sub: &Subscriber) {
        let mut topics = self.topics.lock().expect("hub lock");
        if let Some(list) = topics.get_mut(&topic) {
            list.retain(|s| s.id != sub.id);
            if list.is_empty() {
                topics.remove(&topic);
            }
        }
    }

    /// Whether anyone on this node listens to `topic` (saves building JSON).
    pub fn has_listeners(&self, topic: Topic) -> bool {
        self.topics.lock().expect("hub lock").contains_key(&topic)
    }

    pub fn publish(&self, push: Arc<Push>) {
        let mut topics = self.topics.lock().expect("hub lock");
        let Some(list) = topics.get_mut(&push.topic) else { return };
        list.retain(|s| match s.tx.try_send(push.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                s.lagging.store(true, Ordering::Release);
                metrics::counter!("fantooo_ws_dropped_total").increment(1);
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

    fn push(topic: Topic, n: i64) -> Arc<Push> {
        Arc::new(Push { topic, json: Utf8Bytes::from(n.to_string()), user_json: None, kind: PushKind::Other })
    }

    #[tokio::test]
    async fn pushes_reach_only_subscribers_of_the_topic() {
        let hub = Hub::default();
        let (a, b) = (ChatId::new(), ChatId::new());
        let mut x = hub.connect();
        let mut y = hub.connect();
        hub.subscribe(Topic::Chat(a), &x.subscriber);
        hub.subscribe(Topic::Chat(b), &y.subscriber);
        hub.publish(push(Topic::Chat(a), 1));
        assert_eq!(x.rx.recv().await.unwrap().json.as_str(), "1");
        assert!(y.rx.try_recv().is_err());
        hub.unsubscribe(Topic::Chat(b), &y.subscriber);
        assert_eq!(hub.topic_count(), 1);
    }

    #[test]
    fn a_full_queue_flags_the_connection_instead_of_blocking() {
        let hub = Hub::default();
        let chat = Topic::Chat(ChatId::new());
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
        let hub = Hub::default();
        let chat = Topic::Chat(ChatId::new());
        let gone = hub.connect();
        hub.subscribe(chat, &gone.subscriber);
        let sub = gone.subscriber.clone();
        drop(gone);
        drop(sub);
        hub.publish(push(chat, 1));
        assert_eq!(hub.topic_count(), 0);
    }
}
