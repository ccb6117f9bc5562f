//! The WebSocket endpoint over a real socket with a tiny product: viewers
//! follow "rooms" of notes (the `notes` outbox of `support`). A viewer may
//! follow its own room and the even public rooms below 100; room 1000 + id
//! is each viewer's own topic. Runs on both stores.

mod support;

use axum::extract::ws::{Utf8Bytes, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use platform_db::testing::{backends, fresh_db, TestDb};
use platform_db::{Db, StoreError, StoreResult};
use platform_realtime::socket::{self, Action, Closed, Conn, CrossSite, Endpoint, Left, Row, Settings};
use platform_realtime::{Hub, Outboxes, Push, Realtime};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{add, note_json, Notes, Room, MIGRATIONS, TEMPLATE};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;

/// Pushes with this kind mean "access to the room changed".
const ACCESS: i64 = -1;
/// Pushes with this kind are ephemeral (no seq).
const EPHEMERAL: i64 = 0;

struct Rooms {
    db: Db,
    rt: Arc<Realtime<Room, i64>>,
    /// (viewer, room) pairs refused from now on.
    banned: Mutex<HashSet<(i32, i32)>>,
    left: Mutex<Vec<(i32, Left)>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct RoomRef {
    room: i32,
}

#[derive(Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Command {
    Shout { room: i32, text: String },
}

#[derive(Default)]
struct State {
    delivered: Vec<i64>,
}

impl Endpoint for Rooms {
    type Topic = Room;
    type Kind = i64;
    type Viewer = i32;
    type Channel = RoomRef;
    /// Whether the viewer owns the room.
    type Access = bool;
    type Command = Command;
    type State = State;

    const SETTINGS: Settings =
        Settings { max_subscriptions: 3, replay_page: 4, replay_limit: 50, metrics_prefix: "test_ws", ..Settings::DEFAULT };

    fn hub(&self) -> &Hub<Room, i64> {
        &self.rt.hub
    }
    fn topic(c: RoomRef) -> Room {
        Room(c.room)
    }
    fn channel(topic: Room) -> Option<RoomRef> {
        (topic.0 < 1000).then_some(RoomRef { room: topic.0 })
    }
    fn own_topics(&self, viewer: &i32) -> Vec<Room> {
        vec![Room(1000 + viewer)]
    }
    async fn access(&self, viewer: &i32, c: RoomRef) -> StoreResult<Option<bool>> {
        if c.room < 0 {
            return Err(StoreError::NotFound);
        }
        if self.banned.lock().unwrap().contains(&(*viewer, c.room)) {
            return Ok(None);
        }
        Ok((c.room == *viewer || (c.room < 100 && c.room % 2 == 0)).then_some(c.room == *viewer))
    }
    async fn head(&self, c: RoomRef) -> StoreResult<i64> {
        support::head(&self.db, Some(c.room)).await
    }
    async fn replay(&self, _viewer: &i32, c: RoomRef, after: i64, limit: i64) -> StoreResult<Vec<Row<i64>>> {
        let rows = support::after(&self.db, Some(c.room), after, limit).await?;
        Ok(rows.into_iter().map(|(seq, room, body)| Row { seq, text: Utf8Bytes::from(note_json(seq, room, &body)), kind: seq }).collect())
    }
    fn seq(kind: &i64) -> Option<i64> {
        (*kind > 0).then_some(*kind)
    }
    fn subscribed(&self, _viewer: &i32, owner: &bool) -> Value {
        json!({ "owner": owner })
    }
    fn on_push(&self, _owner: &bool, kind: &i64) -> Action {
        if *kind == ACCESS {
            Action::Recheck
        } else {
            Action::Send
        }
    }
    fn delivered(&self, state: &mut State, _c: RoomRef, _owner: &bool, seq: i64, _kind: &i64) {
        state.delivered.push(seq);
    }
    fn left(&self, _state: &mut State, c: RoomRef, why: Left) {
        self.left.lock().unwrap().push((c.room, why));
    }
    async fn command(&self, conn: &mut Conn<Self>, command: Command) -> Result<(), Closed> {
        match command {
            Command::Shout { room, text } => {
                let c = RoomRef { room };
                if conn.access(c).is_none() {
                    return conn.error("not_subscribed", Some(c)).await;
                }
                // Echo back what this connection counted as delivered, so
                // the test sees the hook at work.
                let delivered = conn.state.delivered.clone();
                let json = Utf8Bytes::from(json!({ "t": "shout", "room": room, "text": text, "by": conn.viewer() }).to_string());
                self.rt.hub.publish(Arc::new(Push { topic: Room(room), json, user_json: None, kind: EPHEMERAL }));
                conn.send_json(json!({ "t": "delivered", "seqs": delivered })).await
            }
        }
    }
}

struct Server {
    addr: SocketAddr,
    rooms: Arc<Rooms>,
    _db: TestDb,
}

async fn ws(
    axum::extract::State(rooms): axum::extract::State<Arc<Rooms>>,
    headers: HeaderMap,
    up: WebSocketUpgrade,
) -> Result<Response, CrossSite> {
    let viewer = headers.get("x-viewer").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
    socket::upgrade(rooms, viewer, &headers, up)
}

async fn server(t: TestDb) -> Server {
    let rt = Realtime::start(t.db.clone(), Outboxes::default().with(Notes));
    // Rows written before the tailer found the head are history, reachable by replay only.
    rt.started().await;
    let rooms = Arc::new(Rooms { db: t.db.clone(), rt, banned: Mutex::default(), left: Mutex::default() });
    let app = Router::new().route("/ws", get(ws)).with_state(rooms.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server { addr, rooms, _db: t }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: SocketAddr, viewer: i32) -> Ws {
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    req.headers_mut().insert("x-viewer", viewer.to_string().parse().unwrap());
    tokio_tungstenite::connect_async(req).await.expect("websocket connect").0
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Frame::Text(v.to_string().into())).await.unwrap();
}

/// The next frame, within a few seconds.
async fn recv(ws: &mut Ws) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("a frame in time").expect("open").unwrap();
        if let Frame::Text(t) = frame {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

/// Every frame until none comes for `quiet`.
async fn drain(ws: &mut Ws, quiet: Duration) -> Vec<Value> {
    let mut got = vec![];
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(quiet, ws.next()).await {
        if let Frame::Text(t) = frame {
            got.push(serde_json::from_str(&t).unwrap());
        }
    }
    got
}

fn seqs(frames: &[Value]) -> Vec<i64> {
    frames.iter().filter(|f| f["t"] == "note").map(|f| f["seq"].as_i64().unwrap()).collect()
}

async fn subscribe(ws: &mut Ws, room: i32, after: Option<i64>) -> Value {
    send(ws, json!({ "t": "subscribe", "room": room, "after": after })).await;
    let ack = recv(ws).await;
    assert_eq!(ack["t"], "subscribed", "{ack}");
    assert_eq!(ack["room"], room);
    ack
}

#[tokio::test]
async fn a_subscription_replays_after_its_seq_then_goes_live_without_gaps_or_duplicates() {
    for backend in backends() {
        let s = server(fresh_db(backend, &MIGRATIONS, TEMPLATE).await).await;
        let db = s.rooms.db.clone();
        let mut before = vec![];
        for i in 0..10 {
            before.push(add(&db, 2, &format!("old {i}")).await);
        }
        add(&db, 4, "another room").await;
        let mut ws = connect(s.addr, 1).await;
        // Writes keep coming while the client subscribes and replays.
        let writer = {
            let (db, rooms) = (db.clone(), s.rooms.clone());
            tokio::spawn(async move {
                let mut seqs = vec![];
                for i in 0..20 {
                    seqs.push(add(&db, 2, &format!("new {i}")).await);
                    rooms.rt.written();
                    tokio::task::yield_now().await;
                }
                seqs
            })
        };
        let ack = subscribe(&mut ws, 2, Some(before[3])).await;
        assert_eq!(ack["owner"], false, "{backend:?}: the product's fields in the answer");
        let written = writer.await.unwrap();
        let got = drain(&mut ws, Duration::from_millis(700)).await;
        let expected: Vec<i64> = before[4..].iter().chain(written.iter()).copied().collect();
        assert_eq!(seqs(&got), expected, "{backend:?}: every note after the seq, once, in order");
        assert!(got.iter().all(|f| f["t"] == "note" && f["room"] == 2), "{backend:?}: {got:?}");

        // The hook saw every delivered row.
        send(&mut ws, json!({ "t": "shout", "room": 2, "text": "hi" })).await;
        let frames = drain(&mut ws, Duration::from_millis(300)).await;
        let delivered = frames.iter().find(|f| f["t"] == "delivered").expect("the command answered");
        assert_eq!(delivered["seqs"], json!(expected), "{backend:?}");
        assert!(frames.iter().any(|f| f["t"] == "shout" && f["text"] == "hi"), "{backend:?}: ephemeral pushes go out");
    }
}

#[tokio::test]
async fn without_a_seq_the_stream_starts_now_and_a_long_absence_asks_for_a_reload() {
    for backend in backends() {
        let s = server(fresh_db(backend, &MIGRATIONS, TEMPLATE).await).await;
        let db = s.rooms.db.clone();
        for i in 0..60 {
            add(&db, 2, &format!("old {i}")).await;
        }
        let mut ws = connect(s.addr, 1).await;
        subscribe(&mut ws, 2, None).await;
        let live = add(&db, 2, "live").await;
        s.rooms.rt.written();
        let got = drain(&mut ws, Duration::from_millis(500)).await;
        assert_eq!(seqs(&got), vec![live], "{backend:?}: history is not replayed without `after`: {got:?}");

        let mut ws = connect(s.addr, 1).await;
        subscribe(&mut ws, 2, Some(0)).await;
        let got = drain(&mut ws, Duration::from_millis(500)).await;
        // Pages of 4 up to the limit of 50: 52 notes, then the reload.
        assert_eq!(seqs(&got).len(), 52, "{backend:?}");
        assert_eq!(got.last().unwrap(), &json!({ "t": "reload", "room": 2 }), "{backend:?}");
    }
}

#[tokio::test]
async fn a_reconnecting_client_resumes_where_it_left_off() {
    for backend in backends() {
        let s = server(fresh_db(backend, &MIGRATIONS, TEMPLATE).await).await;
        let db = s.rooms.db.clone();
        let mut ws = connect(s.addr, 1).await;
        subscribe(&mut ws, 1, Some(0)).await;
        let mut first = vec![];
        for i in 0..3 {
            first.push(add(&db, 1, &format!("first {i}")).await);
        }
        s.rooms.rt.written();
        let mut seen = vec![];
        while seen.len() < 3 {
            let f = recv(&mut ws).await;
            seen.push(f["seq"].as_i64().unwrap());
        }
        assert_eq!(seen, first, "{backend:?}");
        drop(ws);

        let mut missed = vec![];
        for i in 0..5 {
            missed.push(add(&db, 1, &format!("missed {i}")).await);
        }
        s.rooms.rt.written();
        let mut ws = connect(s.addr, 1).await;
        let ack = subscribe(&mut ws, 1, Some(*seen.last().unwrap())).await;
        assert_eq!(ack["owner"], true);
        let after = add(&db, 1, "after").await;
        s.rooms.rt.written();
        let got = drain(&mut ws, Duration::from_millis(500)).await;
        missed.push(after);
        assert_eq!(seqs(&got), missed, "{backend:?}: the rest, once, in order");

        // After an unsubscribe nothing more arrives.
        send(&mut ws, json!({ "t": "unsubscribe", "room": 1 })).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        add(&db, 1, "unheard").await;
        s.rooms.rt.written();
        assert!(seqs(&drain(&mut ws, Duration::from_millis(400)).await).is_empty(), "{backend:?}");
        assert!(s.rooms.left.lock().unwrap().contains(&(1, Left::Unsubscribed)), "{backend:?}");
    }
}

#[tokio::test]
async fn foreign_channels_are_refused_and_bad_messages_answered() {
    for backend in backends() {
        let s = server(fresh_db(backend, &MIGRATIONS, TEMPLATE).await).await;
        let db = s.rooms.db.clone();
        let mut ws = connect(s.addr, 2).await;
        send(&mut ws, json!({ "t": "subscribe", "room": 1, "after": 0 })).await;
        assert_eq!(recv(&mut ws).await, json!({ "t": "error", "code": "forbidden", "room": 1 }));
        send(&mut ws, json!({ "t": "subscribe", "room": -5 })).await;
        assert_eq!(recv(&mut ws).await, json!({ "t": "error", "code": "forbidden", "room": -5 }), "not found is refused");
        add(&db, 1, "private").await;
        s.rooms.rt.written();
        send(&mut ws, json!({ "t": "shout", "room": 1, "text": "x" })).await;
        assert_eq!(recv(&mut ws).await, json!({ "t": "error", "code": "not_subscribed", "room": 1 }));
        for junk in
            [json!({ "t": "nonsense" }), json!({ "t": "subscribe" }), json!({ "t": "subscribe", "room": 2, "after": "x" }), json!(42)]
        {
            send(&mut ws, junk.clone()).await;
            let err = recv(&mut ws).await;
            assert_eq!((err["t"].as_str(), err["code"].as_str()), (Some("error"), Some("bad_request")), "{junk}: {err}");
        }
        ws.send(Frame::Text("not json".into())).await.unwrap();
        assert_eq!(recv(&mut ws).await["code"], "bad_request");
        send(&mut ws, json!({ "t": "ping" })).await;
        assert_eq!(recv(&mut ws).await, json!({ "t": "pong" }));

        // At most three channels.
        for room in [0, 2, 4] {
            subscribe(&mut ws, room, None).await;
        }
        send(&mut ws, json!({ "t": "subscribe", "room": 6 })).await;
        assert_eq!(recv(&mut ws).await, json!({ "t": "error", "code": "too_many_subscriptions", "room": 6 }));

        // The viewer's own topic reaches it without subscribing; the
        // private note of room 1 never did.
        add(&db, 1002, "to viewer 2").await;
        s.rooms.rt.written();
        let got = drain(&mut ws, Duration::from_millis(500)).await;
        assert_eq!(got.len(), 1, "{backend:?}: {got:?}");
        assert_eq!(got[0]["body"], "to viewer 2");
    }
}

#[tokio::test]
async fn a_viewer_who_loses_access_is_unsubscribed() {
    for backend in backends() {
        let s = server(fresh_db(backend, &MIGRATIONS, TEMPLATE).await).await;
        let db = s.rooms.db.clone();
        let mut kept = connect(s.addr, 1).await;
        let mut lost = connect(s.addr, 3).await;
        subscribe(&mut kept, 0, None).await;
        subscribe(&mut lost, 0, None).await;
        s.rooms.banned.lock().unwrap().insert((3, 0));
        let access = Push { topic: Room(0), json: Utf8Bytes::from_static("{}"), user_json: None, kind: ACCESS };
        s.rooms.rt.hub.publish(Arc::new(access));
        assert_eq!(recv(&mut lost).await, json!({ "t": "unsubscribed", "room": 0, "reason": "access" }), "{backend:?}");
        let note = add(&db, 0, "after the change").await;
        s.rooms.rt.written();
        assert_eq!(seqs(&drain(&mut kept, Duration::from_millis(500)).await), vec![note], "{backend:?}: still following");
        assert!(drain(&mut lost, Duration::from_millis(200)).await.is_empty(), "{backend:?}: no longer following");
        assert!(s.rooms.left.lock().unwrap().contains(&(0, Left::AccessLost)));
    }
}

#[tokio::test]
async fn cross_site_upgrades_are_refused() {
    let s = server(fresh_db(platform_db::Backend::Sqlite, &MIGRATIONS, TEMPLATE).await).await;
    let request = |origin: Option<String>| {
        let mut req = format!("ws://{}/ws", s.addr).into_client_request().unwrap();
        req.headers_mut().insert("x-viewer", "1".parse().unwrap());
        if let Some(o) = origin {
            req.headers_mut().insert("origin", o.parse().unwrap());
        }
        req
    };
    let refused = tokio_tungstenite::connect_async(request(Some("https://evil.example".into()))).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 403),
        other => panic!("a cross-site upgrade was not refused: {:?}", other.map(|_| ())),
    }
    for origin in [Some(format!("http://{}", s.addr)), None] {
        let (mut ws, _) = tokio_tungstenite::connect_async(request(origin)).await.expect("same-site or non-browser upgrades work");
        send(&mut ws, json!({ "t": "ping" })).await;
        assert_eq!(recv(&mut ws).await["t"], "pong");
    }
}

#[tokio::test]
async fn a_row_that_commits_after_a_later_seq_is_still_delivered_once() {
    for backend in backends() {
        let s = server(fresh_db(backend, &MIGRATIONS, TEMPLATE).await).await;
        let mut ws = connect(s.addr, 1).await;
        subscribe(&mut ws, 2, None).await;
        let head = support::head(&s.rooms.db, Some(2)).await.unwrap();
        // Two writers took seqs head+1 and head+2; the second committed
        // first, so the outbox hands its row over first.
        let push = |seq: i64| {
            let json = Utf8Bytes::from(note_json(seq, 2, "late or not"));
            s.rooms.rt.hub.publish(Arc::new(Push { topic: Room(2), json, user_json: None, kind: seq }));
        };
        push(head + 2);
        push(head + 1);
        // A second copy of either (a hole looked up twice, a replay) is not.
        push(head + 1);
        push(head + 2);
        let got = drain(&mut ws, Duration::from_millis(400)).await;
        assert_eq!(seqs(&got), vec![head + 2, head + 1], "{backend:?}: both rows, each once, in commit order");
    }
}
