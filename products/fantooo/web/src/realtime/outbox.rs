//! The tailer: reads new outbox rows in sequence order and publishes them to
//! this node's hub; on PostgreSQL it also listens for peers' wake-ups and
//! sends its own, one at a time, outside any write transaction.

use super::cursor::{Cursor, PATIENCE};
use super::hub::{Push, PushKind, Topic};
use super::Realtime;
use axum::extract::ws::Utf8Bytes;
use fantooo_store::events::{self, Event, EventBody};
use fantooo_store::messages::{self, Message};
use fantooo_store::{Backend, Db, StoreResult};
use platform_db::wakeup;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const BATCH: i64 = 1_000;
/// Without a wake-up, look anyway this often (a lost NOTIFY costs at most this).
const POLL: Duration = Duration::from_millis(500);
/// Holes asked for in one query.
const HOLE_LOOKUP: usize = 500;
/// While holes are open, look for them this often.
const HOLE_POLL: Duration = Duration::from_millis(20);

pub fn spawn(rt: Arc<Realtime>, db: Db) {
    if db.backend() == Backend::Postgres {
        tokio::spawn(listen(rt.clone(), db.clone()));
        tokio::spawn(tell_peers(rt.clone(), db.clone()));
    }
    tokio::spawn(tail(rt, db));
}

async fn listen(rt: Arc<Realtime>, db: Db) {
    loop {
        match wakeup::Listener::connect(&db).await {
            Ok(Some(mut listener)) => loop {
                match listener.recv().await {
                    Ok(()) => rt.wake.notify_one(),
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
async fn tell_peers(rt: Arc<Realtime>, db: Db) {
    loop {
        rt.tell_peers.notified().await;
        if let Err(e) = wakeup::notify(&db).await {
            tracing::warn!(error = %e, "outbox NOTIFY failed; peers fall back to polling");
        }
    }
}

async fn tail(rt: Arc<Realtime>, db: Db) {
    let (mut msgs, mut evs) = loop {
        match (messages::head(&db).await, events::head(&db).await) {
            (Ok(m), Ok(e)) => break (Cursor::new(m), Cursor::new(e)),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "outbox head unavailable; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    loop {
        let wait = if msgs.has_holes() || evs.has_holes() { HOLE_POLL } else { POLL };
        tokio::select! {
            _ = rt.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
        if let Err(e) = drain(&rt, &db, &mut msgs, &mut evs).await {
            tracing::warn!(error = %e, "outbox read failed; retrying");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

async fn drain(rt: &Realtime, db: &Db, msgs: &mut Cursor, evs: &mut Cursor) -> StoreResult<()> {
    loop {
        let now = Instant::now();
        let new_msgs = messages::tail(db, msgs.high(), BATCH).await?;
        let full = new_msgs.len() as i64 == BATCH;
        for m in new_msgs {
            if msgs.observe(m.seq, now) {
                publish_message(rt, m)
            }
        }
        if msgs.has_holes() {
            // Every hole is looked up, not only the oldest: rolled-back
            // inserts can leave many, and a late commit behind them must not
            // wait until they expire (it would expire with them).
            for chunk in msgs.holes().chunks(HOLE_LOOKUP) {
                for m in messages::by_seqs(db, chunk).await? {
                    if msgs.observe(m.seq, now) {
                        publish_message(rt, m)
                    }
                }
            }
            msgs.expire(now, PATIENCE);
        }
        let new_evs = events::tail(db, evs.high(), BATCH).await?;
        let full = full || new_evs.len() as i64 == BATCH;
        for e in new_evs {
            if evs.observe(e.seq, now) {
                publish_event(rt, e)
            }
        }
        if evs.has_holes() {
            for chunk in evs.holes().chunks(HOLE_LOOKUP) {
                for e in events::by_seqs(db, chunk).await? {
                    if evs.observe(e.seq, now) {
                        publish_event(rt, e)
                    }
                }
            }
            evs.expire(now, PATIENCE);
        }
        if !full {
            return Ok(());
        }
    }
}

fn publish_message(rt: &Realtime, m: Message) {
    // The back office's live grid follows activity in every chat; a tiny
    // note, built only while some admin page is open.
    if rt.hub.has_listeners(Topic::Admins) {
        let note = json!({ "t": "chat_activity", "chat_id": m.chat_id, "sender": m.sender_type, "at": m.created_at }).to_string();
        rt.hub.publish(Arc::new(Push { topic: Topic::Admins, json: Utf8Bytes::from(note), user_json: None, kind: PushKind::Other }));
    }
    let topic = Topic::Chat(m.chat_id);
    if !rt.hub.has_listeners(topic) {
        return;
    }
    metrics::counter!("fantooo_ws_messages_published_total").increment(1);
    let kind = PushKind::Message { seq: m.seq, sender: m.sender_type };
    let json = json!({ "t": "message", "message": m }).to_string();
    let user_json = json!({ "t": "message", "message": crate::user_json::message(&m) }).to_string();
    rt.hub.publish(Arc::new(Push { topic, json: Utf8Bytes::from(json), user_json: Some(Utf8Bytes::from(user_json)), kind }));
}

/// Tells the connections following a chat that it changed hands, so the
/// ones that lost it stop receiving it.
fn publish_access_change(rt: &Realtime, chat: fantooo_domain::ids::ChatId) {
    let topic = Topic::Chat(chat);
    if rt.hub.has_listeners(topic) {
        rt.hub.publish(Arc::new(Push { topic, json: Utf8Bytes::from_static("{}"), user_json: None, kind: PushKind::Access }));
    }
}

fn publish_event(rt: &Realtime, e: Event) {
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
                if rt.hub.has_listeners(topic) {
                    rt.hub.publish(Arc::new(Push { topic, json: json.clone(), user_json: None, kind: PushKind::Other }));
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
            publish_access_change(rt, *chat_id);
            match e.operator_id {
                Some(op) => (Topic::Operator(op), PushKind::Other, json!({ "t": "taken_away", "chat_id": chat_id, "reason": reason })),
                None => return,
            }
        }
        (EventBody::Released { chat_id }, ..) => {
            publish_access_change(rt, *chat_id);
            return;
        }
        (EventBody::Edited { message_id, seq, content }, Some(chat), _) => (
            Topic::Chat(chat),
            PushKind::Other,
            json!({ "t": "edited", "chat_id": chat, "message_id": message_id, "seq": seq, "content": content }),
        ),
        (EventBody::AdminAlert { alert, message }, ..) => {
            (Topic::Admins, PushKind::Other, json!({ "t": "alert", "alert": alert, "message": message }))
        }
        _ => return,
    };
    if rt.hub.has_listeners(topic) {
        let user_json = user_json.map(|j| Utf8Bytes::from(j.to_string()));
        rt.hub.publish(Arc::new(Push { topic, json: Utf8Bytes::from(json.to_string()), user_json, kind }));
    }
}
