//! One WebSocket per page or app, at `GET /api/v1/ws` (cookie session or
//! bearer token), on the platform's endpoint (`platform_realtime::socket`:
//! subscriptions, replay after a seq, resync, ping/pong).
//!
//! Client → server: `{"t":"subscribe","room_id":…,"after":n?}` (replays
//! the room's events with seq > `after` first), `{"t":"unsubscribe",
//! "room_id":…}`, `{"t":"ping"}`. The viewer's own person channel (private
//! messages, read receipts) is followed without asking; after a reconnect,
//! `{"t":"resume_user","after":n}` replays its events with seq > `n` (up to
//! 500, then `{"t":"user_resumed","seq":last,"more":true}` to ask again).
//! A live event may also arrive during the replay: clients keep the last
//! seq they saw and skip anything at or below it.
//!
//! Server → client: `subscribed`, `event` (a room event: `seq`, `kind`,
//! `data`, `at`; kind `talking` with `account` and `talking` says who
//! speaks, from the voice server's talking events), `user_event`,
//! `unsubscribed` (reason `access`: the viewer left, was kicked or
//! blocked, or the room closed), `reload`, `resynced`, `pong`, `error`
//! (`forbidden` for a room the viewer is not in).
//!
//! Only someone present in a room (joined, so neither kicked nor blocked)
//! may follow it; an event that may end someone's presence makes that
//! person's subscription check again.

use super::{room_event_frame, user_event_json, Ends, Hub, PushKind, Topic};
use crate::auth::CurrentUser;
use crate::error::{AppError, WebResult};
use crate::AppState;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use platform_realtime::socket::{self, Action, Closed, Conn, Endpoint, Row, Settings};
use rooms_domain::ids::{AccountId, RoomId};
use rooms_store::{events, presence, StoreResult};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[utoipa::path(get, path = "/api/v1/ws", tag = "live", security(("bearer" = []), ("session" = [])), description = "The live socket (WebSocket, JSON text frames with a field `t`): subscribe to rooms, get their events and the caller own events; see the README Live socket section for the protocol.", responses((status = 101, description = "Switching protocols to WebSocket"), (status = 400, description = "Not a WebSocket upgrade"), (status = 403, description = "Cross-origin upgrade refused")))]
pub async fn upgrade(State(state): State<AppState>, me: CurrentUser, headers: HeaderMap, ws: WebSocketUpgrade) -> WebResult<Response> {
    Ok(socket::upgrade(Arc::new(RoomSocket { state }), me.id(), &headers, ws).map_err(|_| AppError::Forbidden)?)
}

/// Rooms' own client messages.
#[derive(Debug, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Command {
    /// Replay the viewer's person events with seq > `after`.
    ResumeUser { after: i64 },
}

/// Person events one `resume_user` replays at most.
const USER_REPLAY_LIMIT: i64 = 500;

/// Rooms' side of the platform endpoint.
pub struct RoomSocket {
    state: AppState,
}

/// The channel clients subscribe to: `{"room_id": …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoomRef {
    pub room_id: RoomId,
}

impl Endpoint for RoomSocket {
    type Topic = Topic;
    type Kind = PushKind;
    type Viewer = AccountId;
    type Channel = RoomRef;
    /// The viewer, present in the room.
    type Access = AccountId;
    type Command = Command;
    type State = ();

    const SETTINGS: Settings = Settings { metrics_prefix: "rooms_ws", max_subscriptions: 8, ..Settings::DEFAULT };

    fn hub(&self) -> &Hub {
        &self.state.realtime.hub
    }

    fn topic(c: RoomRef) -> Topic {
        Topic::Room(c.room_id)
    }

    fn channel(topic: Topic) -> Option<RoomRef> {
        match topic {
            Topic::Room(room_id) => Some(RoomRef { room_id }),
            Topic::User(_) | Topic::Board(..) => None,
        }
    }

    fn own_topics(&self, viewer: &AccountId) -> Vec<Topic> {
        vec![Topic::User(*viewer)]
    }

    async fn access(&self, viewer: &AccountId, c: RoomRef) -> StoreResult<Option<AccountId>> {
        Ok(presence::is_present(&self.state.db, c.room_id, *viewer).await?.then_some(*viewer))
    }

    async fn head(&self, c: RoomRef) -> StoreResult<i64> {
        events::room_head(&self.state.db, c.room_id).await
    }

    async fn replay(&self, _viewer: &AccountId, c: RoomRef, after: i64, limit: i64) -> StoreResult<Vec<Row<PushKind>>> {
        let page = events::room_since(&self.state.db, c.room_id, after, limit).await?;
        Ok(page
            .into_iter()
            .map(|e| Row {
                seq: e.seq,
                kind: PushKind::of_payload(e.seq, &e.kind, &e.payload),
                text: room_event_frame(c.room_id, e.seq, &e.kind, &e.payload, e.created_at),
            })
            .collect())
    }

    fn seq(kind: &PushKind) -> Option<i64> {
        (kind.seq != super::EPHEMERAL).then_some(kind.seq)
    }

    fn on_push(&self, me: &AccountId, kind: &PushKind) -> Action {
        match kind.ends {
            Ends::One(who) if who == *me => Action::Recheck,
            Ends::Everyone => Action::Recheck,
            _ => Action::Send,
        }
    }

    async fn command(&self, conn: &mut Conn<Self>, command: Command) -> Result<(), Closed> {
        match command {
            Command::ResumeUser { after } => {
                let me = *conn.viewer();
                let page = match events::user_since(&self.state.db, me, after, USER_REPLAY_LIMIT).await {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(error = %e, "user replay failed");
                        return conn.error("unavailable", None).await;
                    }
                };
                let more = page.len() as i64 == USER_REPLAY_LIMIT;
                let mut last = after;
                for e in &page {
                    last = e.seq;
                    conn.send(user_event_json(e.seq, &e.kind, &e.data(), e.created_at)).await?;
                }
                conn.send_json(serde_json::json!({"t": "user_resumed", "seq": last, "more": more})).await
            }
        }
    }
}
