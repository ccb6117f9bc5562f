//! One WebSocket connection per browser tab, authenticated by the session,
//! on the platform's endpoint (`platform_realtime::socket`), which runs the
//! connection, subscriptions, replay, resync and ping/pong.
//!
//! Client → server (JSON, field `t`):
//! `subscribe {chat_id, after}` — join a chat's stream, first replaying its
//! messages with seq > `after`; `unsubscribe {chat_id}`; `typing {chat_id}`;
//! `read {chat_id, upto}`; `ping` (every 15 s; marks the account present).
//!
//! Server → client: `subscribed`, `unsubscribed` (the chat was taken from
//! this viewer), `message`, `typing`, `receipt`, `balance`, `reply` and
//! `unread` (on a user's own channel: a reply in any of their chats, with
//! the unread counts, and the counts after reading), `pong`, `error`. A
//! message is sent at most once per connection: each subscription
//! remembers the last seq it delivered. Access is checked on
//! subscribe, again whenever the chat changes hands, and before a read
//! receipt is stored.

use super::{Hub, Push, PushKind, Topic};
use crate::auth::CurrentViewer;
use crate::error::{AppError, AppResult};
use crate::AppState;
use axum::extract::ws::{Utf8Bytes, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use fantooo_domain::chat::{side_of, MessageStatus, Side, Viewer};
use fantooo_domain::ids::ChatId;
use fantooo_store::events::{self, EventBody};
use fantooo_store::{chats, messages, operators, users, StoreResult};
use platform_realtime::socket::{self, Action, Closed, Conn, Endpoint, Left, Row, Settings};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TYPING_EVERY: Duration = Duration::from_secs(2);
const PRESENCE_EVERY: Duration = Duration::from_secs(10);

pub async fn upgrade(State(state): State<AppState>, me: CurrentViewer, headers: HeaderMap, ws: WebSocketUpgrade) -> AppResult<Response> {
    socket::upgrade(Arc::new(ChatSocket { state }), me.viewer, &headers, ws).map_err(|_| AppError::Forbidden)
}

/// Fantooo's side of the platform endpoint.
pub struct ChatSocket {
    state: AppState,
}

/// The one channel clients subscribe to: `{"chat_id": …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChatRef {
    chat_id: ChatId,
}

#[derive(Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Command {
    Typing { chat_id: ChatId },
    Read { chat_id: ChatId, upto: i64 },
}

#[derive(Default)]
pub struct ConnState {
    /// Per chat, the highest seq from the other side pushed but not yet
    /// recorded as delivered.
    undelivered: HashMap<ChatId, i64>,
    last_typing: HashMap<ChatId, Instant>,
    last_presence: Option<Instant>,
}

impl Endpoint for ChatSocket {
    type Topic = Topic;
    type Kind = PushKind;
    type Viewer = Viewer;
    type Channel = ChatRef;
    /// The viewer's side of the chat.
    type Access = Side;
    type Command = Command;
    type State = ConnState;

    const SETTINGS: Settings = Settings { metrics_prefix: "fantooo_ws", ..Settings::DEFAULT };

    fn hub(&self) -> &Hub {
        &self.state.realtime.hub
    }

    fn topic(c: ChatRef) -> Topic {
        Topic::Chat(c.chat_id)
    }

    fn channel(topic: Topic) -> Option<ChatRef> {
        match topic {
            Topic::Chat(chat_id) => Some(ChatRef { chat_id }),
            _ => None,
        }
    }

    fn own_topics(&self, viewer: &Viewer) -> Vec<Topic> {
        match *viewer {
            Viewer::User(u) => vec![Topic::User(u)],
            Viewer::Operator(o) => vec![Topic::Operator(o), Topic::Operators],
            Viewer::Admin(..) => vec![Topic::Admins],
        }
    }

    async fn access(&self, viewer: &Viewer, c: ChatRef) -> StoreResult<Option<Side>> {
        let chat = chats::by_id(&self.state.db, c.chat_id).await?;
        Ok(side_of(*viewer, &chat.parties()))
    }

    async fn head(&self, c: ChatRef) -> StoreResult<i64> {
        Ok(messages::history(&self.state.db, c.chat_id, None, 1).await?.first().map(|m| m.seq).unwrap_or(0))
    }

    async fn replay(&self, viewer: &Viewer, c: ChatRef, after: i64, limit: i64) -> StoreResult<Vec<Row<PushKind>>> {
        let page = messages::since(&self.state.db, c.chat_id, after, limit).await?;
        Ok(page
            .into_iter()
            .map(|m| Row {
                seq: m.seq,
                text: Utf8Bytes::from(json!({ "t": "message", "message": crate::user_json::message_for(*viewer, &m) }).to_string()),
                kind: PushKind::Message { seq: m.seq, sender: m.sender_type },
            })
            .collect())
    }

    fn seq(kind: &PushKind) -> Option<i64> {
        match kind {
            PushKind::Message { seq, .. } => Some(*seq),
            _ => None,
        }
    }

    fn subscribed(&self, viewer: &Viewer, side: &Side) -> Value {
        json!({ "side": crate::user_json::side(*viewer, *side) })
    }

    /// A push's text in this viewer's words.
    fn text(&self, viewer: &Viewer, push: &Push) -> Utf8Bytes {
        match (viewer, &push.user_json) {
            (Viewer::User(_), Some(text)) => text.clone(),
            _ => push.json.clone(),
        }
    }

    fn on_push(&self, side: &Side, kind: &PushKind) -> Action {
        match kind {
            // One's own typing is not news.
            PushKind::Typing { side: typist } if typist == side => Action::Skip,
            PushKind::Access => Action::Recheck,
            _ => Action::Send,
        }
    }

    fn delivered(&self, state: &mut ConnState, c: ChatRef, side: &Side, seq: i64, kind: &PushKind) {
        if let PushKind::Message { sender, .. } = kind {
            if sender != side {
                let upto = state.undelivered.entry(c.chat_id).or_insert(0);
                *upto = (*upto).max(seq);
            }
        }
    }

    fn left(&self, state: &mut ConnState, c: ChatRef, why: Left) {
        state.last_typing.remove(&c.chat_id);
        if why == Left::AccessLost {
            state.undelivered.remove(&c.chat_id);
        }
    }

    async fn opened(&self, conn: &mut Conn<Self>) {
        self.touch_presence(conn).await
    }

    async fn pinged(&self, conn: &mut Conn<Self>) {
        self.touch_presence(conn).await
    }

    fn pending(&self, state: &ConnState) -> bool {
        !state.undelivered.is_empty()
    }

    /// Records delivery receipts for what reached this connection.
    async fn flush(&self, conn: &mut Conn<Self>) {
        for (chat, upto) in std::mem::take(&mut conn.state.undelivered) {
            let Some(side) = conn.access(ChatRef { chat_id: chat }).copied() else { continue };
            match messages::mark(&self.state.db, chat, side.other(), upto, MessageStatus::Delivered).await {
                Ok(n) if n > 0 => self.state.realtime.written(),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "delivery receipt not stored"),
            }
        }
    }

    async fn command(&self, conn: &mut Conn<Self>, command: Command) -> Result<(), Closed> {
        match command {
            Command::Typing { chat_id } => {
                let c = ChatRef { chat_id };
                let Some(side) = conn.access(c).copied() else { return conn.error("not_subscribed", Some(c)).await };
                if conn.state.last_typing.get(&chat_id).is_some_and(|t| t.elapsed() < TYPING_EVERY) {
                    return Ok(());
                }
                conn.state.last_typing.insert(chat_id, Instant::now());
                match events::emit(&self.state.db, Some(chat_id), None, EventBody::Typing { side }).await {
                    Ok(()) => self.state.realtime.written(),
                    Err(e) => tracing::warn!(error = %e, "typing event not stored"),
                }
                Ok(())
            }
            Command::Read { chat_id, upto } => {
                let c = ChatRef { chat_id };
                if conn.access(c).is_none() {
                    return conn.error("not_subscribed", Some(c)).await;
                }
                if !conn.recheck(c).await? {
                    return Ok(());
                }
                let Some(side) = conn.access(c).copied() else { return Ok(()) };
                match messages::mark(&self.state.db, chat_id, side.other(), upto, MessageStatus::Read).await {
                    Ok(n) if n > 0 => self.state.realtime.written(),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "read receipt not stored"),
                }
                Ok(())
            }
        }
    }
}

impl ChatSocket {
    /// Heartbeat: keeps `last_active_at` fresh, at most every few seconds.
    async fn touch_presence(&self, conn: &mut Conn<Self>) {
        if conn.state.last_presence.is_some_and(|t| t.elapsed() < PRESENCE_EVERY) {
            return;
        }
        conn.state.last_presence = Some(Instant::now());
        let now = Utc::now();
        let r = match *conn.viewer() {
            Viewer::User(u) => users::touch_active(&self.state.db, u, now).await,
            Viewer::Operator(o) => operators::touch_active(&self.state.db, o, now).await,
            Viewer::Admin(..) => Ok(()),
        };
        if let Err(e) = r {
            tracing::warn!(error = %e, "presence not stored");
        }
    }
}
