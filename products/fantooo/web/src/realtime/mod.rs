//! Fantooo's realtime channels on the platform's fan-out
//! (`platform_realtime`): the topics, what a push tells a connection, the
//! two outbox tables (`messages` and `realtime_events`, in [`outbox`]) and
//! the WebSocket protocol ([`socket`]).

mod outbox;
pub mod socket;

use fantooo_domain::chat::Side;
use fantooo_domain::ids::{ChatId, OperatorId, UserId};
use fantooo_store::Db;
use std::sync::Arc;

/// Fantooo's channels.
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

/// What a connection needs to know about a push without parsing it.
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

pub type Realtime = platform_realtime::Realtime<Topic, PushKind>;
pub type Hub = platform_realtime::Hub<Topic, PushKind>;
pub type Push = platform_realtime::Push<Topic, PushKind>;

/// Creates this node's hub and starts tailing Fantooo's outbox tables.
pub fn start(db: Db) -> Arc<Realtime> {
    Realtime::start(db, platform_realtime::Outboxes::default().with(outbox::Messages).with(outbox::Events))
}
