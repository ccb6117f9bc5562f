//! The WebSocket endpoint with resume, for any product.
//!
//! A product implements [`Endpoint`] (its channels, who may follow them, how
//! to read a channel's rows after a sequence number, its own client
//! messages) and calls [`upgrade`] from its `/ws` handler once it knows who
//! the viewer is. This module runs the connection: the same-origin check,
//! small buffers, the silence limit, subscriptions with replay, the live
//! stream from the [`Hub`], resynchronisation after lag, and ping/pong.
//!
//! The wire protocol (JSON text frames, field `t`):
//!
//! client → server
//! - `{"t":"subscribe", <channel fields>, "after": n?}`: follow a channel.
//!   With `after`, the channel's rows with seq > `after` are replayed first;
//!   without it the stream starts now.
//! - `{"t":"unsubscribe", <channel fields>}`
//! - `{"t":"ping"}`: answered with `{"t":"pong"}`; any frame resets the
//!   silence limit.
//! - anything else is the product's own [`Endpoint::Command`].
//!
//! server → client
//! - `{"t":"subscribed", <channel fields>, <Endpoint::subscribed fields>}`
//! - the replayed rows and live pushes, as the product wrote them;
//! - `{"t":"unsubscribed", <channel fields>, "reason":"access"}`: the viewer
//!   lost access to a channel it followed ([`Conn::recheck`]);
//! - `{"t":"reload", <channel fields>}`: more was missed than the replay
//!   limit, or the rows could not be read; the client reloads the channel;
//! - `{"t":"resynced"}`: pushes were dropped because the client read too
//!   slowly; every channel was replayed from the database, ephemeral state
//!   (typing, receipts) should be refreshed;
//! - `{"t":"error","code":…, <channel fields>?}` with codes `bad_request`,
//!   `forbidden`, `too_many_subscriptions` (and the product's own, e.g.
//!   `not_subscribed` through [`Conn::error`]).
//!
//! A row is sent at most once per connection: each subscription remembers
//! the seqs it delivered (the recent ones one by one, older ones as a floor)
//! and drops a push it already sent, and the subscription joins the live
//! stream before it replays, so nothing falls between. Rows are sent in the
//! order their transactions commit, which is not always seq order: a row
//! whose transaction took its seq early and committed late is still sent
//! live. A client that resumes gives its highest seq, so such a late row
//! that commits while the client is away is not replayed.
//! A channel's "channel fields" are its [`Endpoint::Channel`] serialised as
//! a JSON object, e.g. `{"chat_id": "…"}` or `{"room_id": "…"}`.

use crate::hub::{Hub, Inbox, Push, Subscriber, Topic};
use axum::extract::ws::{Message as Frame, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use platform_db::{StoreError, StoreResult};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// The limits of one connection; a product overrides
/// [`Endpoint::SETTINGS`] starting from [`Settings::DEFAULT`].
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// A connection that sends nothing (not even a ping) this long is closed.
    pub silence_limit: Duration,
    /// Channels one connection may follow at once.
    pub max_subscriptions: usize,
    /// Rows read per replay query.
    pub replay_page: i64,
    /// Beyond this many replayed rows the client is told to `reload`.
    pub replay_limit: usize,
    /// How long after [`Endpoint::pending`] turns true [`Endpoint::flush`] runs.
    pub flush_after: Duration,
    /// Largest client message (and frame) in bytes.
    pub max_message: usize,
    /// Metric names: `<prefix>_connections` (gauge), `<prefix>_resyncs_total`.
    pub metrics_prefix: &'static str,
}

impl Settings {
    pub const DEFAULT: Settings = Settings {
        silence_limit: Duration::from_secs(60),
        max_subscriptions: 64,
        replay_page: 200,
        replay_limit: 2_000,
        flush_after: Duration::from_millis(100),
        max_message: 16 * 1024,
        metrics_prefix: "realtime_ws",
    };
}

/// The connection is gone (or must be closed); returned by every send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// One replayed row of a channel, already written for the viewer.
#[derive(Debug)]
pub struct Row<K> {
    pub seq: i64,
    pub text: Utf8Bytes,
    /// The same kind a live push of this row carries (given to
    /// [`Endpoint::delivered`]).
    pub kind: K,
}

/// What to do with a live push on a followed channel ([`Endpoint::on_push`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Send,
    Skip,
    /// Check access again ([`Endpoint::access`]); leave the channel if lost.
    Recheck,
}

/// Why a subscription ended ([`Endpoint::left`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Left {
    /// The client unsubscribed.
    Unsubscribed,
    /// A re-check found the viewer may no longer follow the channel.
    AccessLost,
}

/// A product without client messages of its own uses this as
/// [`Endpoint::Command`]: every other message is a `bad_request`.
#[derive(Debug)]
pub enum NoCommand {}

impl<'de> Deserialize<'de> for NoCommand {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(serde::de::Error::custom("unknown message type"))
    }
}

/// A product's side of the socket. Only the first block of items is
/// required; the rest have defaults that send every push as is.
pub trait Endpoint: Send + Sync + Sized + 'static {
    /// The hub's topics (every channel is one; a viewer also follows topics
    /// of its own, see [`Endpoint::own_topics`]).
    type Topic: Topic;
    /// What the hub's pushes carry besides their text.
    type Kind: Send + Sync + 'static;
    /// Who is connected, as the product's session loader found it.
    type Viewer: Send + Sync + 'static;
    /// A channel a client subscribes to, serialised as a JSON object of its
    /// id fields (`{"chat_id": …}`); an untagged enum for several kinds.
    type Channel: Copy + Eq + Hash + Serialize + DeserializeOwned + Send + Sync + std::fmt::Debug + 'static;
    /// What a subscription knows about the viewer's standing in its channel
    /// (a side, a role); found by [`Endpoint::access`].
    type Access: Send + Sync + 'static;
    /// The product's own client messages (`#[serde(tag = "t")]` enum), or
    /// [`NoCommand`].
    type Command: DeserializeOwned + Send + 'static;
    /// Per-connection state of the product's own (throttles, pending receipts).
    type State: Default + Send + 'static;

    const SETTINGS: Settings = Settings::DEFAULT;

    fn hub(&self) -> &Hub<Self::Topic, Self::Kind>;
    fn topic(channel: Self::Channel) -> Self::Topic;
    /// The channel a topic is, if it is one clients subscribe to.
    fn channel(topic: Self::Topic) -> Option<Self::Channel>;
    /// Topics the viewer follows by who it is, without asking (its user
    /// channel, staff broadcasts). Their pushes are sent as they come.
    fn own_topics(&self, viewer: &Self::Viewer) -> Vec<Self::Topic>;
    /// Whether the viewer may follow `channel` (`None`: refused; a
    /// `NotFound` error counts as refused, any other error closes the
    /// socket so the client reconnects and checks again).
    fn access(&self, viewer: &Self::Viewer, channel: Self::Channel) -> impl Future<Output = StoreResult<Option<Self::Access>>> + Send;
    /// The channel's latest seq (a subscription without `after` starts there).
    fn head(&self, channel: Self::Channel) -> impl Future<Output = StoreResult<i64>> + Send;
    /// The channel's rows with seq > `after`, in seq order, at most `limit`.
    fn replay(
        &self,
        viewer: &Self::Viewer,
        channel: Self::Channel,
        after: i64,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<Row<Self::Kind>>>> + Send;
    /// The seq of the row a push carries, if it is a replayable row; such
    /// pushes are sent at most once per subscription.
    fn seq(kind: &Self::Kind) -> Option<i64>;
    /// Handles one of the product's own client messages.
    fn command(&self, conn: &mut Conn<Self>, command: Self::Command) -> impl Future<Output = Result<(), Closed>> + Send;

    /// Extra fields of the `subscribed` answer (a JSON object, or null).
    fn subscribed(&self, _viewer: &Self::Viewer, _access: &Self::Access) -> Value {
        Value::Null
    }
    /// A push's text for this viewer (e.g. [`Push::user_json`] for end users).
    fn text(&self, _viewer: &Self::Viewer, push: &Push<Self::Topic, Self::Kind>) -> Utf8Bytes {
        push.json.clone()
    }
    /// Whether a live push on a followed channel goes out (not one's own
    /// typing), or calls for an access re-check (the channel changed hands).
    fn on_push(&self, _access: &Self::Access, _kind: &Self::Kind) -> Action {
        Action::Send
    }
    /// A row with a seq reached the client (replayed or live).
    fn delivered(&self, _state: &mut Self::State, _channel: Self::Channel, _access: &Self::Access, _seq: i64, _kind: &Self::Kind) {}
    /// A subscription ended.
    fn left(&self, _state: &mut Self::State, _channel: Self::Channel, _why: Left) {}
    /// Runs once the viewer's own topics are followed, before any message.
    fn opened(&self, _conn: &mut Conn<Self>) -> impl Future<Output = ()> + Send {
        async {}
    }
    /// Runs on every `ping`, before the `pong`.
    fn pinged(&self, _conn: &mut Conn<Self>) -> impl Future<Output = ()> + Send {
        async {}
    }
    /// Runs once when the connection has ended, after the last flush
    /// (presence: the viewer's socket is gone).
    fn closed(&self, _conn: &mut Conn<Self>) -> impl Future<Output = ()> + Send {
        async {}
    }
    /// Whether [`Endpoint::flush`] has work; checked after every step.
    fn pending(&self, _state: &Self::State) -> bool {
        false
    }
    /// Batched work (delivery receipts): [`Settings::flush_after`] after
    /// `pending` turned true, and once more when the connection ends.
    fn flush(&self, _conn: &mut Conn<Self>) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// A cross-site upgrade was refused (403; a product may map it to its own
/// error type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrossSite;

impl IntoResponse for CrossSite {
    fn into_response(self) -> Response {
        (StatusCode::FORBIDDEN, "cross-site WebSocket upgrade refused").into_response()
    }
}

/// Whether the request's `Origin`, if any, names the host it was sent to.
/// Browsers send cookies with WebSocket upgrades, so another site could
/// otherwise open a socket as the signed-in user.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or(origin);
    origin_host.eq_ignore_ascii_case(host)
}

/// Accepts the upgrade for `viewer` and runs the connection; call it from
/// the product's handler after authentication.
pub fn upgrade<E: Endpoint>(endpoint: Arc<E>, viewer: E::Viewer, headers: &HeaderMap, ws: WebSocketUpgrade) -> Result<Response, CrossSite> {
    if !same_origin(headers) {
        return Err(CrossSite);
    }
    let s = E::SETTINGS;
    // Small buffers: an idle connection should cost a few kilobytes, not
    // the default 128 KiB write buffer.
    Ok(ws
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(s.max_message)
        .max_frame_size(s.max_message)
        .on_upgrade(move |socket| async move {
            let gauge = format!("{}_connections", s.metrics_prefix);
            metrics::gauge!(gauge.clone()).increment(1.0);
            run(endpoint, viewer, socket).await;
            metrics::gauge!(gauge).decrement(1.0);
        }))
}

/// How many delivered seqs above its floor a subscription remembers: a row
/// that commits late (its seq taken before others that committed first) is
/// still delivered if it arrives within this many deliveries of its channel.
const LATE_WINDOW: usize = 256;

struct Subscription<A> {
    access: A,
    /// Every seq up to here counts as delivered.
    floor: i64,
    /// Seqs delivered above `floor`, at most [`LATE_WINDOW`].
    recent: std::collections::BTreeSet<i64>,
}

impl<A> Subscription<A> {
    fn new(access: A, after: i64) -> Self {
        Subscription { access, floor: after, recent: Default::default() }
    }

    /// The highest seq delivered: where a replay starts.
    fn last_seq(&self) -> i64 {
        self.recent.last().copied().unwrap_or(self.floor)
    }

    /// Whether the row with this seq already reached the client. Seqs are
    /// not delivered in order: the outbox hands a row over when its
    /// transaction commits, and a transaction that took its seq early can
    /// commit after later ones; such a row is new, not a duplicate.
    fn has(&self, seq: i64) -> bool {
        seq <= self.floor || self.recent.contains(&seq)
    }

    fn record(&mut self, seq: i64) {
        if seq > self.floor && self.recent.insert(seq) && self.recent.len() > LATE_WINDOW {
            if let Some(oldest) = self.recent.pop_first() {
                self.floor = oldest;
            }
        }
    }
}

/// One open connection, as the product's hooks see it.
pub struct Conn<E: Endpoint> {
    endpoint: Arc<E>,
    socket: WebSocket,
    viewer: E::Viewer,
    subscriber: Subscriber<E::Topic, E::Kind>,
    subs: HashMap<E::Channel, Subscription<E::Access>>,
    /// The product's own per-connection state.
    pub state: E::State,
}

impl<E: Endpoint> Conn<E> {
    pub fn viewer(&self) -> &E::Viewer {
        &self.viewer
    }

    /// The viewer's standing in a channel it follows (`None`: not following).
    pub fn access(&self, channel: E::Channel) -> Option<&E::Access> {
        self.subs.get(&channel).map(|s| &s.access)
    }

    /// Sends a text frame (with any frames fed before it).
    pub async fn send(&mut self, text: Utf8Bytes) -> Result<(), Closed> {
        self.socket.send(Frame::Text(text)).await.map_err(|_| Closed)
    }

    /// Queues a text frame in the socket's write buffer; the next `send` or
    /// [`Conn::flush`] writes it, so a burst of pushes costs one write.
    async fn feed(&mut self, text: Utf8Bytes) -> Result<(), Closed> {
        futures_util::SinkExt::feed(&mut self.socket, Frame::Text(text)).await.map_err(|_| Closed)
    }

    async fn flush(&mut self) -> Result<(), Closed> {
        futures_util::SinkExt::flush(&mut self.socket).await.map_err(|_| Closed)
    }

    pub async fn send_json(&mut self, v: Value) -> Result<(), Closed> {
        self.send(Utf8Bytes::from(v.to_string())).await
    }

    /// Sends `{"t": t, <channel fields>, <fields>}`.
    pub async fn send_about(&mut self, t: &str, channel: E::Channel, fields: Value) -> Result<(), Closed> {
        let mut v = json!({ "t": t });
        merge(&mut v, channel_fields(channel));
        merge(&mut v, fields);
        self.send_json(v).await
    }

    /// Sends `{"t":"error","code": code, <channel fields>?}`.
    pub async fn error(&mut self, code: &str, channel: Option<E::Channel>) -> Result<(), Closed> {
        let mut v = json!({ "t": "error", "code": code });
        if let Some(c) = channel {
            merge(&mut v, channel_fields(c));
        }
        self.send_json(v).await
    }

    /// Checks again that the viewer may follow a channel; if not, leaves
    /// it and tells the client (`unsubscribed`, reason `access`). Returns
    /// whether the subscription stands. A store error closes the socket
    /// (unknown is not allowed; the client reconnects and checks afresh).
    pub async fn recheck(&mut self, channel: E::Channel) -> Result<bool, Closed> {
        let endpoint = self.endpoint.clone();
        match access(&*endpoint, &self.viewer, channel).await? {
            Some(a) => {
                if let Some(sub) = self.subs.get_mut(&channel) {
                    sub.access = a;
                }
                Ok(true)
            }
            None => {
                self.leave(channel, Left::AccessLost);
                self.send_about("unsubscribed", channel, json!({ "reason": "access" })).await?;
                Ok(false)
            }
        }
    }

    fn leave(&mut self, channel: E::Channel, why: Left) {
        if self.subs.remove(&channel).is_some() {
            self.endpoint.hub().unsubscribe(E::topic(channel), &self.subscriber);
            self.endpoint.left(&mut self.state, channel, why);
        }
    }

    fn delivered(&mut self, channel: E::Channel, seq: i64, kind: &E::Kind) {
        let Some(sub) = self.subs.get_mut(&channel) else { return };
        sub.record(seq);
        self.endpoint.delivered(&mut self.state, channel, &sub.access, seq, kind);
    }

    async fn bad_request(&mut self, message: String) -> Result<(), Closed> {
        self.send_json(json!({ "t": "error", "code": "bad_request", "message": message })).await
    }
}

fn channel_fields<C: Serialize>(channel: C) -> Value {
    match serde_json::to_value(channel) {
        Ok(v @ Value::Object(_)) => v,
        Ok(other) => json!({ "channel": other }),
        Err(_) => Value::Null,
    }
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
    }
}

async fn access<E: Endpoint>(endpoint: &E, viewer: &E::Viewer, channel: E::Channel) -> Result<Option<E::Access>, Closed> {
    match endpoint.access(viewer, channel).await {
        Ok(a) => Ok(a),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => {
            // Not "forbidden": the channel may well be theirs. Closing makes
            // the client reconnect with backoff and subscribe again.
            tracing::warn!(error = %e, ?channel, "access check failed; closing the socket");
            Err(Closed)
        }
    }
}

#[derive(Deserialize)]
struct Subscribe<C> {
    #[serde(flatten)]
    channel: C,
    after: Option<i64>,
}

async fn run<E: Endpoint>(endpoint: Arc<E>, viewer: E::Viewer, socket: WebSocket) {
    let mut inbox = endpoint.hub().connect();
    let mut conn = Conn {
        endpoint: endpoint.clone(),
        socket,
        viewer,
        subscriber: inbox.subscriber.clone(),
        subs: HashMap::new(),
        state: E::State::default(),
    };
    let own = endpoint.own_topics(&conn.viewer);
    for topic in &own {
        endpoint.hub().subscribe(*topic, &conn.subscriber);
    }
    serve(&*endpoint, &mut conn, &mut inbox).await;
    for topic in own {
        endpoint.hub().unsubscribe(topic, &conn.subscriber);
    }
    for channel in conn.subs.keys() {
        endpoint.hub().unsubscribe(E::topic(*channel), &conn.subscriber);
    }
}

async fn serve<E: Endpoint>(endpoint: &E, conn: &mut Conn<E>, inbox: &mut Inbox<E::Topic, E::Kind>) {
    let s = E::SETTINGS;
    endpoint.opened(conn).await;
    let mut silence = Box::pin(tokio::time::sleep(s.silence_limit));
    let mut flush_at: Option<tokio::time::Instant> = None;
    loop {
        let flush = async {
            match flush_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let step: Result<(), Closed> = tokio::select! {
            frame = conn.socket.recv() => match frame {
                Some(Ok(Frame::Text(text))) => {
                    silence.as_mut().reset(tokio::time::Instant::now() + s.silence_limit);
                    on_client(endpoint, conn, &text).await
                }
                Some(Ok(Frame::Ping(_) | Frame::Pong(_) | Frame::Binary(_))) => {
                    silence.as_mut().reset(tokio::time::Instant::now() + s.silence_limit);
                    Ok(())
                }
                _ => Err(Closed),
            },
            push = inbox.rx.recv() => match push {
                Some(p) => on_pushes(endpoint, conn, inbox, p).await,
                None => Err(Closed),
            },
            _ = &mut silence => Err(Closed),
            _ = flush => {
                flush_at = None;
                endpoint.flush(conn).await;
                Ok(())
            }
        };
        if step.is_err() {
            break;
        }
        if inbox.lagging.swap(false, Ordering::AcqRel) && resync(endpoint, conn).await.is_err() {
            break;
        }
        if flush_at.is_none() && endpoint.pending(&conn.state) {
            flush_at = Some(tokio::time::Instant::now() + s.flush_after);
        }
    }
    endpoint.flush(conn).await;
    endpoint.closed(conn).await;
}

async fn on_client<E: Endpoint>(endpoint: &E, conn: &mut Conn<E>, text: &str) -> Result<(), Closed> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return conn.bad_request(e.to_string()).await,
    };
    match value.get("t").and_then(Value::as_str) {
        Some("ping") => {
            endpoint.pinged(conn).await;
            conn.send_json(json!({ "t": "pong" })).await
        }
        Some("subscribe") => match Subscribe::<E::Channel>::deserialize(&value) {
            Ok(m) => subscribe(endpoint, conn, m.channel, m.after).await,
            Err(e) => conn.bad_request(e.to_string()).await,
        },
        Some("unsubscribe") => match E::Channel::deserialize(&value) {
            Ok(channel) => {
                conn.leave(channel, Left::Unsubscribed);
                Ok(())
            }
            Err(e) => conn.bad_request(e.to_string()).await,
        },
        _ => match E::Command::deserialize(value) {
            Ok(command) => endpoint.command(conn, command).await,
            Err(e) => conn.bad_request(e.to_string()).await,
        },
    }
}

async fn subscribe<E: Endpoint>(endpoint: &E, conn: &mut Conn<E>, channel: E::Channel, after: Option<i64>) -> Result<(), Closed> {
    if conn.subs.contains_key(&channel) {
        return Ok(());
    }
    if conn.subs.len() >= E::SETTINGS.max_subscriptions {
        return conn.error("too_many_subscriptions", Some(channel)).await;
    }
    let Some(access) = access(endpoint, &conn.viewer, channel).await? else {
        return conn.error("forbidden", Some(channel)).await;
    };
    // Join the live stream before replaying, so nothing falls between the
    // two; the per-subscription seq drops what the replay covered.
    endpoint.hub().subscribe(E::topic(channel), &conn.subscriber);
    let fields = endpoint.subscribed(&conn.viewer, &access);
    let last_seq = match after {
        Some(after) => after.max(0),
        // No position given: start from now, fixed before the answer, so a
        // row the client writes once it has the answer is not history.
        None => endpoint.head(channel).await.unwrap_or(0),
    };
    conn.subs.insert(channel, Subscription::new(access, last_seq));
    conn.send_about("subscribed", channel, fields).await?;
    if after.is_some() {
        replay(endpoint, conn, channel).await
    } else {
        Ok(())
    }
}

/// Sends a channel's rows after the subscription's last seq.
async fn replay<E: Endpoint>(endpoint: &E, conn: &mut Conn<E>, channel: E::Channel) -> Result<(), Closed> {
    let s = E::SETTINGS;
    let mut sent = 0usize;
    loop {
        let Some(sub) = conn.subs.get(&channel) else { return Ok(()) };
        let page = match endpoint.replay(&conn.viewer, channel, sub.last_seq(), s.replay_page).await {
            Ok(p) => p,
            Err(e) if e.is_unavailable() => {
                // A reload would only meet the outage; the client's
                // reconnect resumes from its last seq once it is over.
                tracing::warn!(error = %e, "replay failed; closing the socket");
                return Err(Closed);
            }
            Err(e) => {
                tracing::warn!(error = %e, "replay failed");
                return conn.send_about("reload", channel, Value::Null).await;
            }
        };
        let n = page.len();
        for row in page {
            conn.send(row.text).await?;
            conn.delivered(channel, row.seq, &row.kind);
        }
        sent += n;
        if (n as i64) < s.replay_page {
            return Ok(());
        }
        if sent >= s.replay_limit {
            return conn.send_about("reload", channel, Value::Null).await;
        }
    }
}

/// Pushes that wait at most in one burst before the socket is written.
const BURST: usize = 32;

/// Handles `first` and the pushes already queued behind it (up to
/// [`BURST`]), then writes them to the socket at once: under a burst of
/// events each connection makes one write instead of one per event.
async fn on_pushes<E: Endpoint>(
    endpoint: &E,
    conn: &mut Conn<E>,
    inbox: &mut Inbox<E::Topic, E::Kind>,
    first: Arc<Push<E::Topic, E::Kind>>,
) -> Result<(), Closed> {
    let got = if crate::trace::on() { crate::trace::now() } else { 0 };
    let mut traced: Vec<i64> = vec![];
    if crate::trace::on() {
        traced.extend(E::seq(&first.kind));
    }
    on_push(endpoint, conn, &first).await?;
    for _ in 1..BURST {
        let Ok(next) = inbox.rx.try_recv() else { break };
        if crate::trace::on() {
            traced.extend(E::seq(&next.kind));
        }
        on_push(endpoint, conn, &next).await?;
    }
    let flushed = conn.flush().await;
    for seq in traced {
        crate::trace::step("sock", format_args!("{seq} {got} {}", crate::trace::now()));
    }
    flushed
}

/// One push, fed to the socket's buffer (the caller flushes).
async fn on_push<E: Endpoint>(endpoint: &E, conn: &mut Conn<E>, push: &Arc<Push<E::Topic, E::Kind>>) -> Result<(), Closed> {
    let Some(channel) = E::channel(push.topic) else {
        let text = endpoint.text(&conn.viewer, push);
        return conn.feed(text).await;
    };
    let Some(sub) = conn.subs.get(&channel) else { return Ok(()) };
    let seq = E::seq(&push.kind);
    if seq.is_some_and(|seq| sub.has(seq)) {
        return Ok(());
    }
    match endpoint.on_push(&sub.access, &push.kind) {
        Action::Skip => Ok(()),
        Action::Recheck => conn.recheck(channel).await.map(|_| ()),
        Action::Send => {
            let text = endpoint.text(&conn.viewer, push);
            conn.feed(text).await?;
            if let Some(seq) = seq {
                conn.delivered(channel, seq, &push.kind);
            }
            Ok(())
        }
    }
}

/// After pushes were dropped for this connection, replays every channel
/// from the database; ephemeral pushes are lost, so the client is told to
/// refresh its view of them.
async fn resync<E: Endpoint>(endpoint: &E, conn: &mut Conn<E>) -> Result<(), Closed> {
    metrics::counter!(format!("{}_resyncs_total", E::SETTINGS.metrics_prefix)).increment(1);
    let channels: Vec<E::Channel> = conn.subs.keys().copied().collect();
    for channel in channels {
        replay(endpoint, conn, channel).await?;
    }
    conn.send_json(json!({ "t": "resynced" })).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_knows_what_it_delivered_in_any_order() {
        let mut sub = Subscription::new((), 10);
        assert!(sub.has(10) && sub.has(3), "up to the start counts as delivered");
        sub.record(13);
        assert!(!sub.has(11) && !sub.has(12), "seqs taken before 13 may still commit");
        sub.record(11);
        assert!(sub.has(11) && sub.has(13) && !sub.has(12));
        assert_eq!(sub.last_seq(), 13, "a replay starts after the highest");
    }

    #[test]
    fn the_late_window_is_bounded_and_its_floor_rises() {
        let mut sub = Subscription::new((), 0);
        let w = LATE_WINDOW as i64;
        for seq in (1..=2 * w).map(|n| 2 * n) {
            sub.record(seq);
        }
        assert_eq!(sub.recent.len(), LATE_WINDOW);
        assert_eq!(sub.floor, 2 * w, "the oldest remembered seqs became the floor");
        assert!(sub.has(3), "below the floor counts as delivered");
        assert!(!sub.has(2 * w + 3), "a late row inside the window is new");
        assert!(sub.has(4 * w), "the newest are remembered");
    }
}
