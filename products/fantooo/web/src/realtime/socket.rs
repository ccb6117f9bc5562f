//! One WebSocket connection per browser tab, authenticated by the session.
//!
//! Client → server (JSON, field `t`):
//! `subscribe {chat_id, after}` — join a chat's stream, first replaying its
//! messages with seq > `after`; `unsubscribe {chat_id}`; `typing {chat_id}`;
//! `read {chat_id, upto}`; `ping` (every 15 s; marks the account present).
//!
//! Server → client: `subscribed`, `unsubscribed` (the chat was taken from
//! this viewer), `message`, `typing`, `receipt`, `balance`, `pong`,
//! `error`. A message is sent at most once per connection: each
//! subscription remembers the last seq it delivered. Access is checked on
//! subscribe, again whenever the chat changes hands, and before a read
//! receipt is stored.

use super::{Push, PushKind, Subscriber, Topic};
use crate::auth::CurrentViewer;
use crate::error::{AppError, AppResult};
use crate::AppState;
use axum::extract::ws::{Message as Frame, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::Response;
use chrono::Utc;
use fantooo_domain::chat::{side_of, MessageStatus, Side, Viewer};
use fantooo_domain::ids::ChatId;
use fantooo_store::events::{self, EventBody};
use fantooo_store::{chats, messages, operators, users, StoreError};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A connection that sends nothing (not even a ping) for this long is closed.
const SILENCE_LIMIT: Duration = Duration::from_secs(60);
const TYPING_EVERY: Duration = Duration::from_secs(2);
const PRESENCE_EVERY: Duration = Duration::from_secs(10);
const DELIVERY_FLUSH: Duration = Duration::from_millis(100);
const MAX_SUBSCRIPTIONS: usize = 64;
const REPLAY_PAGE: i64 = 200;
/// Beyond this many missed messages the client is told to reload instead.
const REPLAY_LIMIT: usize = 2_000;

pub async fn upgrade(State(state): State<AppState>, me: CurrentViewer, headers: HeaderMap, ws: WebSocketUpgrade) -> AppResult<Response> {
    same_origin(&headers)?;
    // Small buffers: an idle connection should cost a few kilobytes, not
    // the default 128 KiB write buffer.
    Ok(ws
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(16 * 1024)
        .max_frame_size(16 * 1024)
        .on_upgrade(move |socket| async move {
            metrics::gauge!("fantooo_ws_connections").increment(1.0);
            Connection::run(state, me.viewer, socket).await;
            metrics::gauge!("fantooo_ws_connections").decrement(1.0);
        }))
}

/// Refuses cross-site WebSocket upgrades: browsers send cookies with them,
/// so another site could otherwise open a socket as the user.
fn same_origin(headers: &HeaderMap) -> AppResult<()> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return Ok(()) };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or(origin);
    if origin_host.eq_ignore_ascii_case(host) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

#[derive(Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum ClientMsg {
    Subscribe { chat_id: ChatId, after: Option<i64> },
    Unsubscribe { chat_id: ChatId },
    Typing { chat_id: ChatId },
    Read { chat_id: ChatId, upto: i64 },
    Ping,
}

struct Subscription {
    side: Side,
    last_seq: i64,
    last_typing: Option<Instant>,
}

struct Connection {
    state: AppState,
    viewer: Viewer,
    subscriber: Subscriber,
    subs: HashMap<ChatId, Subscription>,
    /// Per chat, the highest seq from the other side pushed but not yet
    /// recorded as delivered.
    undelivered: HashMap<ChatId, i64>,
    last_presence: Option<Instant>,
}

type Closed = ();

impl Connection {
    async fn run(state: AppState, viewer: Viewer, mut socket: WebSocket) {
        let rt = state.realtime.clone();
        let mut inbox = rt.hub.connect();
        let mut this = Connection {
            state,
            viewer,
            subscriber: inbox.subscriber.clone(),
            subs: HashMap::new(),
            undelivered: HashMap::new(),
            last_presence: None,
        };
        this.serve(&mut socket, &mut inbox).await;
        for topic in this.own_topics() {
            rt.hub.unsubscribe(topic, &this.subscriber);
        }
        for chat in this.subs.keys() {
            rt.hub.unsubscribe(Topic::Chat(*chat), &this.subscriber);
        }
    }

    /// Topics a connection follows by who it is, without asking.
    fn own_topics(&self) -> Vec<Topic> {
        match self.viewer {
            Viewer::User(u) => vec![Topic::User(u)],
            Viewer::Operator(o) => vec![Topic::Operator(o), Topic::Operators],
            Viewer::Admin(..) => vec![Topic::Admins],
        }
    }

    async fn serve(&mut self, socket: &mut WebSocket, inbox: &mut super::Inbox) {
        for topic in self.own_topics() {
            self.state.realtime.hub.subscribe(topic, &self.subscriber);
        }
        self.touch_presence().await;
        let mut silence = Box::pin(tokio::time::sleep(SILENCE_LIMIT));
        let mut flush_at: Option<tokio::time::Instant> = None;
        loop {
            let flush = async {
                match flush_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let step: Result<(), Closed> = tokio::select! {
                frame = socket.recv() => match frame {
                    Some(Ok(Frame::Text(text))) => {
                        silence.as_mut().reset(tokio::time::Instant::now() + SILENCE_LIMIT);
                        self.on_client(socket, &text).await
                    }
                    Some(Ok(Frame::Ping(_) | Frame::Pong(_) | Frame::Binary(_))) => {
                        silence.as_mut().reset(tokio::time::Instant::now() + SILENCE_LIMIT);
                        Ok(())
                    }
                    _ => Err(()),
                },
                push = inbox.rx.recv() => match push {
                    Some(p) => self.on_push(socket, &p).await,
                    None => Err(()),
                },
                _ = &mut silence => Err(()),
                _ = flush => {
                    flush_at = None;
                    self.flush_delivered().await;
                    Ok(())
                }
            };
            if step.is_err() {
                break;
            }
            if inbox.lagging.swap(false, Ordering::AcqRel) && self.resync(socket).await.is_err() {
                break;
            }
            if flush_at.is_none() && !self.undelivered.is_empty() {
                flush_at = Some(tokio::time::Instant::now() + DELIVERY_FLUSH);
            }
        }
        self.flush_delivered().await;
    }

    async fn send(socket: &mut WebSocket, text: Utf8Bytes) -> Result<(), Closed> {
        socket.send(Frame::Text(text)).await.map_err(|_| ())
    }

    async fn send_json(socket: &mut WebSocket, v: serde_json::Value) -> Result<(), Closed> {
        Self::send(socket, Utf8Bytes::from(v.to_string())).await
    }

    async fn on_client(&mut self, socket: &mut WebSocket, text: &str) -> Result<(), Closed> {
        let msg: ClientMsg = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => return Self::send_json(socket, json!({ "t": "error", "code": "bad_request", "message": e.to_string() })).await,
        };
        match msg {
            ClientMsg::Ping => {
                self.touch_presence().await;
                Self::send_json(socket, json!({ "t": "pong" })).await
            }
            ClientMsg::Subscribe { chat_id, after } => self.subscribe(socket, chat_id, after).await,
            ClientMsg::Unsubscribe { chat_id } => {
                if self.subs.remove(&chat_id).is_some() {
                    self.state.realtime.hub.unsubscribe(Topic::Chat(chat_id), &self.subscriber);
                }
                Ok(())
            }
            ClientMsg::Typing { chat_id } => {
                let Some(sub) = self.subs.get_mut(&chat_id) else { return self.not_subscribed(socket, chat_id).await };
                if sub.last_typing.is_some_and(|t| t.elapsed() < TYPING_EVERY) {
                    return Ok(());
                }
                sub.last_typing = Some(Instant::now());
                let side = sub.side;
                match events::emit(&self.state.db, Some(chat_id), None, EventBody::Typing { side }).await {
                    Ok(()) => self.state.realtime.written(),
                    Err(e) => tracing::warn!(error = %e, "typing event not stored"),
                }
                Ok(())
            }
            ClientMsg::Read { chat_id, upto } => {
                if !self.subs.contains_key(&chat_id) {
                    return self.not_subscribed(socket, chat_id).await;
                }
                if !self.recheck(socket, chat_id).await? {
                    return Ok(());
                }
                let Some(sub) = self.subs.get(&chat_id) else { return Ok(()) };
                match messages::mark(&self.state.db, chat_id, sub.side.other(), upto, MessageStatus::Read).await {
                    Ok(n) if n > 0 => self.state.realtime.written(),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "read receipt not stored"),
                }
                Ok(())
            }
        }
    }
}

impl Connection {
    async fn not_subscribed(&self, socket: &mut WebSocket, chat: ChatId) -> Result<(), Closed> {
        Self::send_json(socket, json!({ "t": "error", "code": "not_subscribed", "chat_id": chat })).await
    }

    async fn subscribe(&mut self, socket: &mut WebSocket, chat_id: ChatId, after: Option<i64>) -> Result<(), Closed> {
        if self.subs.contains_key(&chat_id) {
            return Ok(());
        }
        if self.subs.len() >= MAX_SUBSCRIPTIONS {
            return Self::send_json(socket, json!({ "t": "error", "code": "too_many_subscriptions", "chat_id": chat_id })).await;
        }
        let side = match chats::by_id(&self.state.db, chat_id).await {
            Ok(chat) => side_of(self.viewer, &chat.parties()),
            Err(StoreError::NotFound) => None,
            Err(e) => {
                // Not "forbidden": the chat may well be theirs. Closing makes
                // the client reconnect with backoff and subscribe again.
                tracing::warn!(error = %e, "subscribe failed; closing the socket");
                return Err(());
            }
        };
        let Some(side) = side else {
            return Self::send_json(socket, json!({ "t": "error", "code": "forbidden", "chat_id": chat_id })).await;
        };
        // Join the live stream before replaying, so nothing falls between
        // the two; the per-subscription seq drops what the replay covered.
        self.state.realtime.hub.subscribe(Topic::Chat(chat_id), &self.subscriber);
        let last_seq = after.unwrap_or(0).max(0);
        self.subs.insert(chat_id, Subscription { side, last_seq, last_typing: None });
        Self::send_json(socket, json!({ "t": "subscribed", "chat_id": chat_id, "side": crate::user_json::side(self.viewer, side) }))
            .await?;
        if after.is_some() {
            self.replay(socket, chat_id).await?;
        } else {
            // No position given: start from now.
            let head = messages::history(&self.state.db, chat_id, None, 1).await.ok().and_then(|m| m.first().map(|m| m.seq)).unwrap_or(0);
            if let Some(sub) = self.subs.get_mut(&chat_id) {
                sub.last_seq = sub.last_seq.max(head)
            }
        }
        Ok(())
    }

    /// Checks again that this viewer may read a chat it follows; if not
    /// (the chat went to someone else), leaves it and says so. Returns
    /// whether the subscription stands.
    async fn recheck(&mut self, socket: &mut WebSocket, chat_id: ChatId) -> Result<bool, Closed> {
        let side = match chats::by_id(&self.state.db, chat_id).await {
            Ok(chat) => side_of(self.viewer, &chat.parties()),
            Err(StoreError::NotFound) => None,
            Err(e) => {
                // Unknown is not allowed: the client reconnects and
                // subscribes again, which checks from scratch.
                tracing::warn!(error = %e, "access re-check failed; closing the socket");
                return Err(());
            }
        };
        match side {
            Some(side) => {
                if let Some(sub) = self.subs.get_mut(&chat_id) {
                    sub.side = side;
                }
                Ok(true)
            }
            None => {
                self.subs.remove(&chat_id);
                self.undelivered.remove(&chat_id);
                self.state.realtime.hub.unsubscribe(Topic::Chat(chat_id), &self.subscriber);
                Self::send_json(socket, json!({ "t": "unsubscribed", "chat_id": chat_id, "reason": "access" })).await?;
                Ok(false)
            }
        }
    }

    /// Sends a chat's messages after the subscription's last seq.
    async fn replay(&mut self, socket: &mut WebSocket, chat_id: ChatId) -> Result<(), Closed> {
        let mut sent = 0usize;
        loop {
            let Some(sub) = self.subs.get(&chat_id) else { return Ok(()) };
            let page = match messages::since(&self.state.db, chat_id, sub.last_seq, REPLAY_PAGE).await {
                Ok(p) => p,
                Err(e) if e.is_unavailable() => {
                    // A reload would only meet the outage; the client's
                    // reconnect resumes from its last seq once it is over.
                    tracing::warn!(error = %e, "replay failed; closing the socket");
                    return Err(());
                }
                Err(e) => {
                    tracing::warn!(error = %e, "replay failed");
                    return Self::send_json(socket, json!({ "t": "reload", "chat_id": chat_id })).await;
                }
            };
            let n = page.len();
            for m in page {
                let seq = m.seq;
                let sender = m.sender_type;
                Self::send_json(socket, json!({ "t": "message", "message": crate::user_json::message_for(self.viewer, &m) })).await?;
                self.delivered(chat_id, seq, sender);
            }
            sent += n;
            if (n as i64) < REPLAY_PAGE {
                return Ok(());
            }
            if sent >= REPLAY_LIMIT {
                return Self::send_json(socket, json!({ "t": "reload", "chat_id": chat_id })).await;
            }
        }
    }

    /// Records that `seq` reached this connection.
    fn delivered(&mut self, chat: ChatId, seq: i64, sender: Side) {
        let Some(sub) = self.subs.get_mut(&chat) else { return };
        sub.last_seq = sub.last_seq.max(seq);
        if sender != sub.side {
            let upto = self.undelivered.entry(chat).or_insert(0);
            *upto = (*upto).max(seq);
        }
    }

    /// A push's text in this viewer's words.
    fn text_of(&self, push: &Push) -> Utf8Bytes {
        match (self.viewer, &push.user_json) {
            (Viewer::User(_), Some(text)) => text.clone(),
            _ => push.json.clone(),
        }
    }

    async fn on_push(&mut self, socket: &mut WebSocket, push: &Arc<Push>) -> Result<(), Closed> {
        let chat = match push.topic {
            Topic::Chat(c) => c,
            _ => return Self::send(socket, self.text_of(push)).await,
        };
        let Some(sub) = self.subs.get(&chat) else { return Ok(()) };
        match push.kind {
            PushKind::Message { seq, sender } => {
                if seq <= sub.last_seq {
                    return Ok(());
                }
                Self::send(socket, self.text_of(push)).await?;
                self.delivered(chat, seq, sender);
                Ok(())
            }
            // One's own typing is not news.
            PushKind::Typing { side } if side == sub.side => Ok(()),
            PushKind::Access => self.recheck(socket, chat).await.map(|_| ()),
            _ => Self::send(socket, self.text_of(push)).await,
        }
    }

    /// After pushes were dropped for this connection, replays every chat
    /// from the database; typing and receipts are ephemeral, so the client
    /// is told to refresh its view of them.
    async fn resync(&mut self, socket: &mut WebSocket) -> Result<(), Closed> {
        metrics::counter!("fantooo_ws_resyncs_total").increment(1);
        let chats: Vec<ChatId> = self.subs.keys().copied().collect();
        for chat in chats {
            self.replay(socket, chat).await?;
        }
        Self::send_json(socket, json!({ "t": "resynced" })).await
    }

    async fn flush_delivered(&mut self) {
        for (chat, upto) in std::mem::take(&mut self.undelivered) {
            let Some(sub) = self.subs.get(&chat) else { continue };
            match messages::mark(&self.state.db, chat, sub.side.other(), upto, MessageStatus::Delivered).await {
                Ok(n) if n > 0 => self.state.realtime.written(),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "delivery receipt not stored"),
            }
        }
    }

    /// Heartbeat: keeps `last_active_at` fresh, at most every few seconds.
    async fn touch_presence(&mut self) {
        if self.last_presence.is_some_and(|t| t.elapsed() < PRESENCE_EVERY) {
            return;
        }
        self.last_presence = Some(Instant::now());
        let now = Utc::now();
        let r = match self.viewer {
            Viewer::User(u) => users::touch_active(&self.state.db, u, now).await,
            Viewer::Operator(o) => operators::touch_active(&self.state.db, o, now).await,
            Viewer::Admin(..) => Ok(()),
        };
        if let Err(e) = r {
            tracing::warn!(error = %e, "presence not stored");
        }
    }
}
