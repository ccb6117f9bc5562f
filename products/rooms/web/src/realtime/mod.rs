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

/// The room event kinds that end one person's presence (named in their
/// payload's `account`).
const ENDS_ONE: [&str; 3] = ["left", "kicked", "blocked"];

impl PushKind {
    /// The kind of a room event row.
    pub fn of(seq: i64, kind: &str, data: &Value) -> PushKind {
        let ends = match kind {
            k if ENDS_ONE.contains(&k) => data["account"].as_str().and_then(|a| a.parse().ok()).map_or(Ends::Nobody, Ends::One),
            "room_closed" => Ends::Everyone,
            _ => Ends::Nobody,
        };
        PushKind { seq, ends }
    }

    /// The kind of a room event row from its stored payload, parsed only
    /// for the kinds that end someone's presence (a gift batch's large
    /// payload is not).
    pub fn of_payload(seq: i64, kind: &str, payload: &str) -> PushKind {
        let data = if ENDS_ONE.contains(&kind) { serde_json::from_str(payload).unwrap_or(Value::Null) } else { Value::Null };
        Self::of(seq, kind, &data)
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
/// `{"t":"event","room_id":…,"seq":…,"kind":…,"data":{…},"at":…}`, with
/// the payload as the outbox stores it (JSON text) spliced in as it is, not
/// parsed into a tree and written again; one that is not JSON becomes
/// `null`, as when parsed. A person's event has `"t":"user_event"` and no
/// `room_id`.
pub fn room_event_frame(room: RoomId, seq: i64, kind: &str, payload: &str, at: chrono::DateTime<chrono::Utc>) -> Utf8Bytes {
    let data = if serde_json::from_str::<serde::de::IgnoredAny>(payload).is_ok() { payload.trim() } else { "null" };
    let mut out = String::with_capacity(payload.len() + kind.len() + 120);
    out.push_str("{\"t\":\"event\",\"room_id\":");
    out.push_str(&json_text(&room));
    out.push_str(",\"seq\":");
    out.push_str(&seq.to_string());
    out.push_str(",\"kind\":");
    out.push_str(&json_text(&kind));
    out.push_str(",\"data\":");
    out.push_str(data);
    out.push_str(",\"at\":");
    out.push_str(&json_text(&at));
    out.push('}');
    Utf8Bytes::from(out)
}

/// A small value's JSON text.
fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
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
        let (topic, json, kind) = match self.0 {
            events::Outbox::Room => {
                let Ok(room) = row.to.parse::<RoomId>() else { return };
                let kind = PushKind::of_payload(row.seq, &row.kind, &row.payload);
                if let (Some(wake), "gift" | "gifts") = (&self.1, row.kind.as_str()) {
                    wake.touch();
                }
                (Topic::Room(room), room_event_frame(room, row.seq, &row.kind, &row.payload, row.created_at), kind)
            }
            events::Outbox::User => {
                let Ok(who) = row.to.parse::<AccountId>() else { return };
                let kind = PushKind { seq: row.seq, ends: Ends::Nobody };
                let data: Value = serde_json::from_str(&row.payload).unwrap_or(Value::Null);
                (Topic::User(who), user_event_json(row.seq, &row.kind, &data, row.created_at), kind)
            }
        };
        if hub.has_listeners(topic) {
            hub.publish(Arc::new(Push { topic, json, user_json: None, kind }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frame built from the parsed payload, as it was before frames
    /// were spliced: what a spliced frame must read as.
    fn parsed_frame(room: RoomId, seq: i64, kind: &str, data: &Value, at: chrono::DateTime<chrono::Utc>) -> Utf8Bytes {
        Utf8Bytes::from(json!({ "t": "event", "room_id": room, "seq": seq, "kind": kind, "data": data, "at": at }).to_string())
    }

    #[test]
    fn a_spliced_frame_reads_as_the_parsed_one() {
        let room: RoomId = "00000000-0000-0000-0000-00000000000a".parse().expect("an id");
        let at = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678Z").expect("a time").with_timezone(&chrono::Utc);
        for (kind, payload) in [
            ("gifts", r#"{"gifts":[{"from":"a","n":2},{"from":"b","n":1}],"total":3}"#),
            ("chat", r#" {"text":"quote \" and \\ and ünïcode"} "#),
            ("seat", "[]"),
            ("odd \"kind\"", "7"),
            ("broken", "{not json"),
            ("empty", ""),
        ] {
            let data = serde_json::from_str(payload).unwrap_or(Value::Null);
            let spliced: Value = serde_json::from_str(room_event_frame(room, 42, kind, payload, at).as_str()).expect("a JSON frame");
            let parsed: Value = serde_json::from_str(parsed_frame(room, 42, kind, &data, at).as_str()).expect("a JSON frame");
            assert_eq!(spliced, parsed, "{kind}: {payload}");
        }
    }

    #[test]
    fn only_presence_ending_kinds_read_their_payload() {
        let who = "00000000-0000-0000-0000-00000000000b";
        let payload = format!(r#"{{"account":"{who}"}}"#);
        let one = Ends::One(who.parse().expect("an id"));
        assert_eq!(PushKind::of_payload(1, "kicked", &payload).ends, one);
        assert_eq!(PushKind::of_payload(1, "left", &payload).ends, one);
        assert_eq!(PushKind::of_payload(1, "blocked", &payload).ends, one);
        assert_eq!(PushKind::of_payload(1, "room_closed", "{}").ends, Ends::Everyone);
        assert_eq!(PushKind::of_payload(1, "gifts", &payload).ends, Ends::Nobody);
        assert_eq!(PushKind::of_payload(1, "kicked", "{broken").ends, Ends::Nobody);
    }
}
