//! GigStream's live messaging on the platform's fan-out
//! (`platform_realtime`): every node tails the `conversation_events` outbox
//! and publishes each row to its conversation (`Topic::Conversation`) and,
//! for messages, to both parties' inboxes (`Topic::User`, for unread
//! counts). The WebSocket is `GET /api/v1/ws` (cookie session or bearer
//! token) on the platform's endpoint:
//!
//! client → server: `{"t":"subscribe","conversation_id":…,"after":n?}`
//! (replays messages and receipts with seq > `after`), `unsubscribe`,
//! `ping`, `{"t":"typing","conversation_id":…}` (at most one every two
//! seconds goes out), `{"t":"read","conversation_id":…,"seq":n?}`,
//! `{"t":"presence","conversation_ids":[…]}` (the other party's status in
//! each of one's conversations).
//!
//! server → client: `subscribed`, `{"t":"message"|"read"|"typing",
//! "conversation_id", "seq", "at", "data":{…}}`, `{"t":"inbox",
//! "conversation_id", "seq", "data":{…}}` on one's own inbox, `reload`,
//! `resynced`, `pong`, `error` (`forbidden` for a conversation that is not
//! the viewer's), `{"t":"presence","data":[{conversation_id, account_id,
//! online, last_seen, label}]}`. Only the two parties may follow a
//! conversation. A person is online while one of their sockets is open
//! (`gigstream_store::presence`: a row per socket from `opened` to
//! `closed`, refreshed on each ping). When they come online (a socket opens
//! and "online" is not what was last announced) or go offline (their last
//! socket closed and none opened within `OFFLINE_GRACE_MS`), the other
//! party of each of their conversations is
//! told live on their own channel with the same `presence` frame, through
//! the `presence_events` outbox so every node hears it.

use crate::auth::CurrentUser;
use crate::{AppError, AppResult, AppState};
use axum::extract::ws::{Utf8Bytes, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use futures_util::future::BoxFuture;
use gigstream_domain::ids::AccountId;
use gigstream_domain::messaging::{typing_due, ConversationId};
use gigstream_domain::presence::{Presence, SocketId, OFFLINE_GRACE_MS};
use gigstream_store::messages::{self, Event};
use gigstream_store::presence;
use gigstream_store::{Db, StoreResult};
use platform_realtime::socket::{self, Action, Closed, Conn, Endpoint, Row, Settings};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    Conversation(ConversationId),
    User(AccountId),
}

/// What a connection needs to know about a push without parsing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushKind {
    pub seq: i64,
    pub actor: AccountId,
    /// Typing signals are not history: never replayed, not one's own.
    pub typing: bool,
}

pub type Realtime = platform_realtime::Realtime<Topic, PushKind>;
type Hub = platform_realtime::Hub<Topic, PushKind>;
type Push = platform_realtime::Push<Topic, PushKind>;

/// Creates this node's hub and starts tailing the outbox.
pub fn start(db: Db) -> Arc<Realtime> {
    Realtime::start(
        db,
        platform_realtime::Outboxes::default().with(ConversationEvents).with(PresenceChanges).with(crate::notify::live::Notifications),
    )
}

/// A conversation event as clients receive it, live and replayed alike.
pub fn event_json(e: &Event) -> Utf8Bytes {
    Utf8Bytes::from(
        json!({ "t": e.kind, "conversation_id": e.conversation_id, "seq": e.seq, "at": e.created_at, "data": e.data() }).to_string(),
    )
}

fn kind_of(e: &Event) -> PushKind {
    PushKind { seq: e.seq, actor: e.actor_id, typing: e.kind == "typing" }
}

struct ConversationEvents;

impl platform_realtime::Outbox<Topic, PushKind> for ConversationEvents {
    type Row = Event;
    fn seq(row: &Event) -> i64 {
        row.seq
    }
    fn head<'a>(&'a self, db: &'a Db) -> BoxFuture<'a, StoreResult<i64>> {
        Box::pin(messages::outbox::head(db))
    }
    fn after<'a>(&'a self, db: &'a Db, after: i64, limit: i64) -> BoxFuture<'a, StoreResult<Vec<Event>>> {
        Box::pin(messages::outbox::after(db, after, limit))
    }
    fn by_seqs<'a>(&'a self, db: &'a Db, seqs: &'a [i64]) -> BoxFuture<'a, StoreResult<Vec<Event>>> {
        Box::pin(messages::outbox::by_seqs(db, seqs))
    }
    fn publish(&self, hub: &Hub, row: Event) {
        let kind = kind_of(&row);
        let topic = Topic::Conversation(row.conversation_id);
        if hub.has_listeners(topic) {
            hub.publish(Arc::new(Push { topic, json: event_json(&row), user_json: None, kind }));
        }
        if row.kind == "message" {
            let text = Utf8Bytes::from(
                json!({ "t": "inbox", "conversation_id": row.conversation_id, "seq": row.seq, "data": row.data() }).to_string(),
            );
            for who in [row.buyer_id, row.seller_id] {
                let topic = Topic::User(who);
                if hub.has_listeners(topic) {
                    hub.publish(Arc::new(Push { topic, json: text.clone(), user_json: None, kind }));
                }
            }
        }
    }
}

/// One presence entry as the socket sends it, answered or pushed.
fn presence_json(c: ConversationId, a: AccountId, p: Presence, now: chrono::DateTime<Utc>) -> serde_json::Value {
    json!({ "conversation_id": c, "account_id": a, "online": p.online, "last_seen": p.last_seen, "label": p.label(now) })
}

struct PresenceChanges;

impl platform_realtime::Outbox<Topic, PushKind> for PresenceChanges {
    type Row = presence::Change;
    fn seq(row: &presence::Change) -> i64 {
        row.seq
    }
    fn head<'a>(&'a self, db: &'a Db) -> BoxFuture<'a, StoreResult<i64>> {
        Box::pin(presence::outbox::head(db))
    }
    fn after<'a>(&'a self, db: &'a Db, after: i64, limit: i64) -> BoxFuture<'a, StoreResult<Vec<presence::Change>>> {
        Box::pin(presence::outbox::after(db, after, limit))
    }
    fn by_seqs<'a>(&'a self, db: &'a Db, seqs: &'a [i64]) -> BoxFuture<'a, StoreResult<Vec<presence::Change>>> {
        Box::pin(presence::outbox::by_seqs(db, seqs))
    }
    fn publish(&self, hub: &Hub, row: presence::Change) {
        let topic = Topic::User(row.viewer_id);
        if !hub.has_listeners(topic) {
            return;
        }
        let entry = presence_json(row.conversation_id, row.account_id, row.presence(), Utc::now());
        let json = Utf8Bytes::from(json!({ "t": "presence", "data": [entry] }).to_string());
        // Not the conversation sequence clients track: no top-level seq.
        let kind = PushKind { seq: row.seq, actor: row.account_id, typing: false };
        hub.publish(Arc::new(Push { topic, json, user_json: None, kind }));
    }
}

/// Tells the other parties that `account` came online or went offline.
async fn announce(state: &AppState, account: AccountId, online: bool) {
    match presence::announce(&state.db, account, online, Utc::now()).await {
        Ok(0) => {}
        Ok(_) => state.realtime.written(),
        Err(e) => tracing::warn!(error = %e, "presence change not stored"),
    }
}

/// `GET /api/v1/ws`.
pub async fn upgrade(State(state): State<AppState>, me: CurrentUser, headers: HeaderMap, ws: WebSocketUpgrade) -> AppResult<Response> {
    let viewer = Viewer { id: me.account.id, name: me.account.display_name.clone() };
    socket::upgrade(Arc::new(MessageSocket { state }), viewer, &headers, ws).map_err(|_| AppError::Forbidden)
}

pub struct MessageSocket {
    state: AppState,
}

pub struct Viewer {
    id: AccountId,
    name: String,
}

/// The channel clients subscribe to: `{"conversation_id": …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConversationRef {
    pub conversation_id: ConversationId,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Command {
    Typing { conversation_id: ConversationId },
    Read { conversation_id: ConversationId, seq: Option<i64> },
    Presence { conversation_ids: Vec<ConversationId> },
}

/// Conversations one presence question may name.
const PRESENCE_MAX: usize = 50;

#[derive(Default)]
pub struct ConnState {
    last_typing: HashMap<ConversationId, Instant>,
    /// This socket's presence row, once written.
    socket: Option<SocketId>,
}

/// The other party's status in each of `viewer`'s conversations `ids`
/// (others' conversations are left out), as the socket and pages show it.
pub async fn presence_of(db: &Db, viewer: AccountId, ids: &[ConversationId]) -> StoreResult<Vec<serde_json::Value>> {
    let mut pairs = vec![];
    for id in ids.iter().take(PRESENCE_MAX) {
        match messages::get(db, *id).await {
            Ok(c) if c.is_party(viewer) => pairs.push((*id, c.other(viewer))),
            Ok(_) | Err(gigstream_store::StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    let now = Utc::now();
    let others: Vec<AccountId> = pairs.iter().map(|p| p.1).collect();
    let status = presence::of(db, &others, now).await?;
    Ok(pairs.into_iter().filter_map(|(c, a)| status.get(&a).map(|p| (c, a, *p))).map(|(c, a, p)| presence_json(c, a, p, now)).collect())
}

impl Endpoint for MessageSocket {
    type Topic = Topic;
    type Kind = PushKind;
    type Viewer = Viewer;
    type Channel = ConversationRef;
    type Access = AccountId;
    type Command = Command;
    type State = ConnState;

    const SETTINGS: Settings = Settings { metrics_prefix: "gigstream_ws", max_subscriptions: 16, ..Settings::DEFAULT };

    fn hub(&self) -> &Hub {
        &self.state.realtime.hub
    }

    fn topic(c: ConversationRef) -> Topic {
        Topic::Conversation(c.conversation_id)
    }

    fn channel(topic: Topic) -> Option<ConversationRef> {
        match topic {
            Topic::Conversation(conversation_id) => Some(ConversationRef { conversation_id }),
            Topic::User(_) => None,
        }
    }

    fn own_topics(&self, viewer: &Viewer) -> Vec<Topic> {
        vec![Topic::User(viewer.id)]
    }

    async fn access(&self, viewer: &Viewer, c: ConversationRef) -> StoreResult<Option<AccountId>> {
        let conv = messages::get(&self.state.db, c.conversation_id).await?;
        Ok(conv.is_party(viewer.id).then_some(viewer.id))
    }

    async fn head(&self, c: ConversationRef) -> StoreResult<i64> {
        messages::head(&self.state.db, c.conversation_id).await
    }

    async fn replay(&self, _viewer: &Viewer, c: ConversationRef, after: i64, limit: i64) -> StoreResult<Vec<Row<PushKind>>> {
        let page = messages::replay(&self.state.db, c.conversation_id, after, limit).await?;
        Ok(page.iter().map(|e| Row { seq: e.seq, text: event_json(e), kind: kind_of(e) }).collect())
    }

    fn seq(kind: &PushKind) -> Option<i64> {
        (!kind.typing).then_some(kind.seq)
    }

    fn on_push(&self, me: &AccountId, kind: &PushKind) -> Action {
        if kind.typing && kind.actor == *me {
            Action::Skip
        } else {
            Action::Send
        }
    }

    async fn opened(&self, conn: &mut Conn<Self>) {
        let id = SocketId::new();
        let account = conn.viewer().id;
        match presence::opened(&self.state.db, id, account, Utc::now()).await {
            Ok(()) => {
                conn.state.socket = Some(id);
                announce(&self.state, account, true).await;
            }
            Err(e) => tracing::warn!(error = %e, "presence not stored"),
        }
    }

    async fn pinged(&self, conn: &mut Conn<Self>) {
        if let Some(id) = conn.state.socket {
            if let Err(e) = presence::refreshed(&self.state.db, id, Utc::now()).await {
                tracing::warn!(error = %e, "presence not refreshed");
            }
        }
    }

    async fn closed(&self, conn: &mut Conn<Self>) {
        let Some(id) = conn.state.socket.take() else { return };
        let account = conn.viewer().id;
        match presence::closed(&self.state.db, id, account, Utc::now()).await {
            Ok(true) => {
                // Offline unless another page of theirs connects meanwhile.
                let state = self.state.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(OFFLINE_GRACE_MS)).await;
                    announce(&state, account, false).await;
                });
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "presence not closed"),
        }
    }

    fn left(&self, state: &mut ConnState, c: ConversationRef, _why: socket::Left) {
        state.last_typing.remove(&c.conversation_id);
    }

    async fn command(&self, conn: &mut Conn<Self>, command: Command) -> Result<(), Closed> {
        let (id, name) = (conn.viewer().id, conn.viewer().name.clone());
        match command {
            Command::Typing { conversation_id } => {
                let channel = ConversationRef { conversation_id };
                if conn.access(channel).is_none() {
                    return conn.error("not_subscribed", Some(channel)).await;
                }
                if !typing_due(conn.state.last_typing.get(&conversation_id).map(Instant::elapsed)) {
                    return Ok(());
                }
                conn.state.last_typing.insert(conversation_id, Instant::now());
                match messages::typing(&self.state.db, conversation_id, id, &name, Utc::now()).await {
                    Ok(()) => self.state.realtime.written(),
                    Err(e) => tracing::warn!(error = %e, "typing signal not stored"),
                }
                Ok(())
            }
            Command::Read { conversation_id, seq } => {
                let channel = ConversationRef { conversation_id };
                if conn.access(channel).is_none() {
                    return conn.error("not_subscribed", Some(channel)).await;
                }
                match messages::mark_read(&self.state.db, conversation_id, id, seq, Utc::now()).await {
                    Ok(_) => self.state.realtime.written(),
                    Err(e) => tracing::warn!(error = %e, "read receipt not stored"),
                }
                Ok(())
            }
            Command::Presence { conversation_ids } => match presence_of(&self.state.db, id, &conversation_ids).await {
                Ok(data) => conn.send_json(json!({ "t": "presence", "data": data })).await,
                Err(e) => {
                    tracing::warn!(error = %e, "presence not read");
                    conn.error("unavailable", None).await
                }
            },
        }
    }
}
