//! Fantooo's two outbox tables, tailed by the platform's tailer: chat
//! messages, and the small events (typing, receipts, balance, queue and
//! console notices, admin alerts).

use super::{Hub, Push, PushKind, Topic};
use axum::extract::ws::Utf8Bytes;
use fantooo_store::events::{self, Event, EventBody};
use fantooo_store::messages::{self, Message};
use fantooo_store::{Db, StoreResult};
use futures_util::future::BoxFuture;
use platform_realtime::Outbox;
use serde_json::json;
use std::sync::Arc;

/// The `messages` table.
pub struct Messages;

impl Outbox<Topic, PushKind> for Messages {
    type Row = Message;
    fn seq(m: &Message) -> i64 {
        m.seq
    }
    fn head<'a>(&'a self, db: &'a Db) -> BoxFuture<'a, StoreResult<i64>> {
        Box::pin(messages::head(db))
    }
    fn after<'a>(&'a self, db: &'a Db, after: i64, limit: i64) -> BoxFuture<'a, StoreResult<Vec<Message>>> {
        Box::pin(messages::tail(db, after, limit))
    }
    fn by_seqs<'a>(&'a self, db: &'a Db, seqs: &'a [i64]) -> BoxFuture<'a, StoreResult<Vec<Message>>> {
        Box::pin(messages::by_seqs(db, seqs))
    }
    fn publish(&self, hub: &Hub, m: Message) {
        publish_message(hub, m)
    }
}

/// The `realtime_events` table.
pub struct Events;

impl Outbox<Topic, PushKind> for Events {
    type Row = Event;
    fn seq(e: &Event) -> i64 {
        e.seq
    }
    fn head<'a>(&'a self, db: &'a Db) -> BoxFuture<'a, StoreResult<i64>> {
        Box::pin(events::head(db))
    }
    fn after<'a>(&'a self, db: &'a Db, after: i64, limit: i64) -> BoxFuture<'a, StoreResult<Vec<Event>>> {
        Box::pin(events::tail(db, after, limit))
    }
    fn by_seqs<'a>(&'a self, db: &'a Db, seqs: &'a [i64]) -> BoxFuture<'a, StoreResult<Vec<Event>>> {
        Box::pin(events::by_seqs(db, seqs))
    }
    fn publish(&self, hub: &Hub, e: Event) {
        publish_event(hub, e)
    }
}

fn publish_message(hub: &Hub, m: Message) {
    // The back office's live grid follows activity in every chat; a tiny
    // note, built only while some admin page is open.
    if hub.has_listeners(Topic::Admins) {
        let note = json!({ "t": "chat_activity", "chat_id": m.chat_id, "sender": m.sender_type, "at": m.created_at }).to_string();
        hub.publish(Arc::new(Push { topic: Topic::Admins, json: Utf8Bytes::from(note), user_json: None, kind: PushKind::Other }));
    }
    let topic = Topic::Chat(m.chat_id);
    if !hub.has_listeners(topic) {
        return;
    }
    metrics::counter!("fantooo_ws_messages_published_total").increment(1);
    let kind = PushKind::Message { seq: m.seq, sender: m.sender_type };
    let json = json!({ "t": "message", "message": m }).to_string();
    let user_json = json!({ "t": "message", "message": crate::user_json::message(&m) }).to_string();
    hub.publish(Arc::new(Push { topic, json: Utf8Bytes::from(json), user_json: Some(Utf8Bytes::from(user_json)), kind }));
}

/// Tells the connections following a chat that it changed hands, so the
/// ones that lost it stop receiving it.
fn publish_access_change(hub: &Hub, chat: fantooo_domain::ids::ChatId) {
    let topic = Topic::Chat(chat);
    if hub.has_listeners(topic) {
        hub.publish(Arc::new(Push { topic, json: Utf8Bytes::from_static("{}"), user_json: None, kind: PushKind::Access }));
    }
}

fn publish_event(hub: &Hub, e: Event) {
    let body = e.payload.0;
    // Typing and receipts name a side: users get it in their own words.
    let mut user_json = None;
    let (topic, kind, json) = match (&body, e.chat_id, e.user_id) {
        (EventBody::Typing { side }, Some(chat), _) => {
            user_json = Some(json!({ "t": "typing", "chat_id": chat, "side": side.public_name() }));
            (Topic::Chat(chat), PushKind::Typing { side: *side }, json!({ "t": "typing", "chat_id": chat, "side": side }))
        }
        (EventBody::Receipt { side, status, upto }, Some(chat), _) => {
            user_json = Some(json!({ "t": "receipt", "chat_id": chat, "side": side.public_name(), "status": status, "upto": upto }));
            (Topic::Chat(chat), PushKind::Other, json!({ "t": "receipt", "chat_id": chat, "side": side, "status": status, "upto": upto }))
        }
        (EventBody::Balance { credits }, _, Some(user)) => {
            (Topic::User(user), PushKind::Other, json!({ "t": "balance", "credits": credits }))
        }
        (EventBody::Queue, ..) => {
            // The live chat grid of the back office follows the queue too.
            let json = Utf8Bytes::from(json!({ "t": "queue" }).to_string());
            for topic in [Topic::Operators, Topic::Admins] {
                if hub.has_listeners(topic) {
                    hub.publish(Arc::new(Push { topic, json: json.clone(), user_json: None, kind: PushKind::Other }));
                }
            }
            return;
        }
        (EventBody::Assigned { chat_id }, ..) => match e.operator_id {
            Some(op) => (Topic::Operator(op), PushKind::Other, json!({ "t": "assigned", "chat_id": chat_id })),
            None => return,
        },
        (EventBody::IdleWarning { chat_id, seconds_left }, ..) => match e.operator_id {
            Some(op) => {
                (Topic::Operator(op), PushKind::Other, json!({ "t": "idle_warning", "chat_id": chat_id, "seconds_left": seconds_left }))
            }
            None => return,
        },
        (EventBody::TakenAway { chat_id, reason }, ..) => {
            publish_access_change(hub, *chat_id);
            match e.operator_id {
                Some(op) => (Topic::Operator(op), PushKind::Other, json!({ "t": "taken_away", "chat_id": chat_id, "reason": reason })),
                None => return,
            }
        }
        (EventBody::Released { chat_id }, ..) => {
            publish_access_change(hub, *chat_id);
            return;
        }
        (EventBody::Edited { message_id, seq, content, moderated }, Some(chat), _) => (
            Topic::Chat(chat),
            PushKind::Other,
            json!({ "t": "edited", "chat_id": chat, "message_id": message_id, "seq": seq, "content": content, "moderated": moderated }),
        ),
        // A reply, and the unread counts, for every page the user has open.
        (EventBody::Reply { chat_id, seq, profile, preview, unread, total }, _, Some(user)) => (
            Topic::User(user),
            PushKind::Other,
            json!({ "t": "reply", "chat_id": chat_id, "seq": seq, "profile": profile, "preview": preview, "unread": unread, "total": total, "at": e.created_at }),
        ),
        (EventBody::Unread { chat_id, unread, total }, _, Some(user)) => {
            (Topic::User(user), PushKind::Other, json!({ "t": "unread", "chat_id": chat_id, "unread": unread, "total": total }))
        }
        (EventBody::AdminAlert { alert, message }, ..) => {
            (Topic::Admins, PushKind::Other, json!({ "t": "alert", "alert": alert, "message": message }))
        }
        _ => return,
    };
    if hub.has_listeners(topic) {
        let user_json = user_json.map(|j| Utf8Bytes::from(j.to_string()));
        hub.publish(Arc::new(Push { topic, json: Utf8Bytes::from(json.to_string()), user_json, kind }));
    }
}
