//! Rooms' live delivery on the platform's fan-out (`platform_realtime`):
//! two channels — a room (`Topic::Room`: everything its members see) and a
//! person (`Topic::User`: private messages and read receipts) — fed by the
//! `room_events` and `user_events` outboxes every change writes in its
//! transaction ([`Events`]); the WebSocket protocol is in [`socket`].

pub mod boards;
pub mod socket;

use axum::extract::ws::Utf8Bytes;
use futures_util::future::BoxFuture;
use platform_realtime::Outbox;
use rooms_domain::ids::{AccountId, RoomId};
use rooms_store::events::{self, Tailed};
use rooms_store::{Db, StoreResult};
use serde_json::{json, Value};
use std::sync::Arc;

/// Rooms' channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    Room(RoomId),
    User(AccountId),
    /// A leaderboard and period (`boards`: a coalesced push when it changed).
    Board(rooms_store::leaderboards::Board, rooms_domain::progress::Period),
}

/// What a connection needs to know about a push without parsing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushKind {
    /// The row's seq in its outbox.
    pub seq: i64,
    /// Whose presence in the room this event may have ended: `Some(who)`
    /// for `left`/`kicked`/`blocked`, every member for `room_closed`.
    pub ends: Ends,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ends {
    Nobody,
    One(AccountId),
    Everyone,
}

impl PushKind {
    /// The kind of a room event row.
    pub fn of(seq: i64, kind: &str, data: &Value) -> PushKind {
        let ends = match kind {
            "left" | "kicked" | "blocked" => data["account"].as_str().and_then(|a| a.parse().ok()).map_or(Ends::Nobody, Ends::One),
            "room_closed" => Ends::Everyone,
            _ => Ends::Nobody,
        };
        PushKind { seq, ends }
    }
}

pub type Realtime = platform_realtime::Realtime<Topic, PushKind>;
pub type Hub = platform_realtime::Hub<Topic, PushKind>;
pub type Push = platform_realtime::Push<Topic, PushKind>;

/// Creates this node's hub and starts tailing the two outboxes (woken by
/// writers, and looking every `poll` anyway); committed gifts wake `boards`.
pub fn start(db: Db, boards: Arc<boards::Wake>, poll: std::time::Duration) -> Arc<Realtime> {
    Realtime::start_polling(
        db,
        platform_realtime::Outboxes::default().with(Events(events::Outbox::Room, Some(boards))).with(Events(events::Outbox::User, None)),
        poll,
    )
}

/// The seq of a push that is not an outbox row (outbox seqs start at 1).
pub const EPHEMERAL: i64 = 0;

/// A room event as clients receive it, live and replayed alike:
/// `{"t":"event","room_id":…,"seq":…,"kind":…,"data":{…},"at":…}`; a
/// person's event has `"t":"user_event"` and no `room_id`.
pub fn room_event_json(room: RoomId, seq: i64, kind: &str, data: &Value, at: chrono::DateTime<chrono::Utc>) -> Utf8Bytes {
    Utf8Bytes::from(json!({ "t": "event", "room_id": room, "seq": seq, "kind": kind, "data": data, "at": at }).to_string())
}

pub(crate) fn user_event_json(seq: i64, kind: &str, data: &Value, at: chrono::DateTime<chrono::Utc>) -> Utf8Bytes {
    Utf8Bytes::from(json!({ "t": "user_event", "seq": seq, "kind": kind, "data": data, "at": at }).to_string())
}

/// One of the two outbox tables (the room outbox with the leaderboards' wake-up).
pub struct Events(pub events::Outbox, pub Option<Arc<boards::Wake>>);

impl Outbox<Topic, PushKind> for Events {
    type Row = Tailed;
    fn seq(row: &Tailed) -> i64 {
        row.seq
    }
    fn head<'a>(&'a self, db: &'a Db) -> BoxFuture<'a, StoreResult<i64>> {
        Box::pin(self.0.head(db))
    }
    fn after<'a>(&'a self, db: &'a Db, after: i64, limit: i64) -> BoxFuture<'a, StoreResult<Vec<Tailed>>> {
        Box::pin(self.0.tail(db, after, limit))
    }
    fn by_seqs<'a>(&'a self, db: &'a Db, seqs: &'a [i64]) -> BoxFuture<'a, StoreResult<Vec<Tailed>>> {
        Box::pin(self.0.by_seqs(db, seqs))
    }
    fn publish(&self, hub: &Hub, row: Tailed) {
        let data: Value = serde_json::from_str(&row.payload).unwrap_or(Value::Null);
        let (topic, json, kind) = match self.0 {
            events::Outbox::Room => {
                let Ok(room) = row.to.parse::<RoomId>() else { return };
                let kind = PushKind::of(row.seq, &row.kind, &data);
                if let (Some(wake), "gift" | "gifts") = (&self.1, row.kind.as_str()) {
                    wake.touch();
                }
                (Topic::Room(room), room_event_json(room, row.seq, &row.kind, &data, row.created_at), kind)
            }
            events::Outbox::User => {
                let Ok(who) = row.to.parse::<AccountId>() else { return };
                let kind = PushKind { seq: row.seq, ends: Ends::Nobody };
                (Topic::User(who), user_event_json(row.seq, &row.kind, &data, row.created_at), kind)
            }
        };
        if hub.has_listeners(topic) {
            hub.publish(Arc::new(Push { topic, json, user_json: None, kind }));
        }
    }
}
