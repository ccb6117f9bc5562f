//! The live socket over a real connection: the app served on a loopback
//! port, people acting through the JSON API, subscribers reading
//! `/api/v1/ws` with tokio-tungstenite. Every test runs on both stores.

use crate::support::{backends, Client, TestApp, PASSWORD};
use axum::http::StatusCode;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Serves the app on a loopback port.
pub async fn serve(app: &TestApp) -> SocketAddr {
    platform_testkit::serve(app.router.clone()).await
}

/// Opens the socket as `who` (bearer token).
pub async fn connect(addr: SocketAddr, who: &Client) -> Ws {
    let mut req = format!("ws://{addr}/api/v1/ws").into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {}", who.bearer.as_deref().unwrap()).parse().unwrap());
    tokio_tungstenite::connect_async(req).await.expect("socket opens").0
}

pub async fn send(ws: &mut Ws, v: Value) {
    ws.send(Frame::text(v.to_string())).await.unwrap();
}

/// The next JSON frame (a generous bound only so a broken server fails the
/// test instead of hanging it).
pub async fn next(ws: &mut Ws) -> Value {
    loop {
        let f = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("a frame within 10 s").expect("socket open").unwrap();
        if let Frame::Text(t) = f {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

/// Reads frames until one of type `t`.
pub async fn next_of(ws: &mut Ws, t: &str) -> Value {
    loop {
        let v = next(ws).await;
        if v["t"] == t {
            return v;
        }
    }
}

/// Every room event until the `pong` answering a ping sent now.
pub async fn events_until_pong(ws: &mut Ws) -> Vec<Value> {
    send(ws, json!({"t": "ping"})).await;
    let mut out = vec![];
    loop {
        let v = next(ws).await;
        match v["t"].as_str() {
            Some("pong") => return out,
            Some("event") => out.push(v),
            _ => {}
        }
    }
}

fn kinds(evs: &[Value]) -> Vec<&str> {
    evs.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

/// An owner with an open room they are in, and a guest.
async fn room_with_guest(app: &TestApp, n: u32) -> (Client, Client, String, String) {
    let mut owner = app.client();
    owner.sign_up(&format!("+25471100{n:04}"), &format!("owner{n}")).await;
    let created = owner.post("/api/v1/rooms", json!({"name": "Live Talk", "visitors_speak": true})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let room = created.json()["room"]["id"].as_str().unwrap().to_string();
    assert_eq!(owner.post(&format!("/api/v1/rooms/{room}/join"), json!({})).await.status, StatusCode::OK);
    let mut guest = app.client();
    let g = guest.sign_up(&format!("guest{n}@example.com"), &format!("guest{n}")).await;
    let gid = g["account"]["id"].as_str().unwrap().to_string();
    (owner, guest, room, gid)
}

#[tokio::test]
async fn another_persons_join_seat_and_chat_arrive_in_order() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let addr = serve(&app).await;
        let (owner, mut guest, room, gid) = room_with_guest(&app, 1).await;
        let mut ws = connect(addr, &owner).await;
        send(&mut ws, json!({"t": "subscribe", "room_id": room})).await;
        let sub = next(&mut ws).await;
        assert_eq!((sub["t"].as_str(), sub["room_id"].as_str()), (Some("subscribed"), Some(room.as_str())), "{b:?} {sub}");

        assert_eq!(guest.post(&format!("/api/v1/rooms/{room}/join"), json!({})).await.status, StatusCode::OK);
        assert_eq!(guest.post(&format!("/api/v1/rooms/{room}/actions/take_seat"), json!({"seat": 3})).await.status, StatusCode::OK);
        assert_eq!(guest.post(&format!("/api/v1/rooms/{room}/chat"), json!({"body": "hello all"})).await.status, StatusCode::CREATED);

        let mut got = vec![];
        while got.len() < 3 {
            got.push(next_of(&mut ws, "event").await);
        }
        assert_eq!(kinds(&got), ["joined", "seat_taken", "chat"], "{b:?}");
        assert_eq!(got[0]["data"]["account"], gid.as_str());
        assert_eq!((got[1]["data"]["seat"].as_i64(), got[1]["data"]["account"].as_str()), (Some(3), Some(gid.as_str())));
        assert_eq!(got[2]["data"]["body"], "hello all");
        let seqs: Vec<i64> = got.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{b:?} {seqs:?}");
        assert!(got.iter().all(|e| e["room_id"] == room.as_str()));
    }
}

#[tokio::test]
async fn resuming_from_a_seq_gives_exactly_the_missed_events() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let addr = serve(&app).await;
        let (owner, mut guest, room, _) = room_with_guest(&app, 2).await;
        assert_eq!(guest.post(&format!("/api/v1/rooms/{room}/join"), json!({})).await.status, StatusCode::OK);

        let mut ws = connect(addr, &owner).await;
        send(&mut ws, json!({"t": "subscribe", "room_id": room, "after": 0})).await;
        next_of(&mut ws, "subscribed").await;
        let history = events_until_pong(&mut ws).await;
        assert_eq!(kinds(&history), ["room_opened", "joined", "joined"], "{b:?}");
        let last = history.last().unwrap()["seq"].as_i64().unwrap();
        ws.close(None).await.unwrap();

        // While the owner is away.
        guest.post(&format!("/api/v1/rooms/{room}/chat"), json!({"body": "one"})).await;
        guest.post(&format!("/api/v1/rooms/{room}/actions/take_seat"), json!({"seat": 1})).await;
        guest.post(&format!("/api/v1/rooms/{room}/chat"), json!({"body": "two"})).await;

        let mut ws = connect(addr, &owner).await;
        send(&mut ws, json!({"t": "subscribe", "room_id": room, "after": last})).await;
        next_of(&mut ws, "subscribed").await;
        let missed = events_until_pong(&mut ws).await;
        assert_eq!(kinds(&missed), ["chat", "seat_taken", "chat"], "{b:?}");
        assert_eq!((missed[0]["data"]["body"].as_str(), missed[2]["data"]["body"].as_str()), (Some("one"), Some("two")));
        assert!(missed.iter().all(|e| e["seq"].as_i64().unwrap() > last));

        // And live afterwards, nothing twice.
        guest.post(&format!("/api/v1/rooms/{room}/chat"), json!({"body": "three"})).await;
        let live = next_of(&mut ws, "event").await;
        assert_eq!(live["data"]["body"], "three", "{b:?}");
    }
}

#[tokio::test]
async fn someone_not_in_the_room_is_refused_and_strangers_cannot_connect() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let addr = serve(&app).await;
        let (_owner, guest, room, _) = room_with_guest(&app, 3).await;
        let mut ws = connect(addr, &guest).await;
        send(&mut ws, json!({"t": "subscribe", "room_id": room, "after": 0})).await;
        let refused = next(&mut ws).await;
        assert_eq!((refused["t"].as_str(), refused["code"].as_str()), (Some("error"), Some("forbidden")), "{b:?} {refused}");
        assert!(events_until_pong(&mut ws).await.is_empty(), "{b:?}: nothing of the room was sent");

        // Without credentials there is no socket.
        let req = format!("ws://{addr}/api/v1/ws").into_client_request().unwrap();
        let err = tokio_tungstenite::connect_async(req).await.expect_err("refused");
        match err {
            tokio_tungstenite::tungstenite::Error::Http(r) => assert_eq!(r.status(), StatusCode::UNAUTHORIZED),
            e => panic!("{b:?}: {e}"),
        }
    }
}

#[tokio::test]
async fn a_kicked_persons_subscription_ends() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let addr = serve(&app).await;
        let (mut owner, mut guest, room, gid) = room_with_guest(&app, 4).await;
        assert_eq!(guest.post(&format!("/api/v1/rooms/{room}/join"), json!({})).await.status, StatusCode::OK);
        let mut ws = connect(addr, &guest).await;
        send(&mut ws, json!({"t": "subscribe", "room_id": room})).await;
        next_of(&mut ws, "subscribed").await;

        owner.post(&format!("/api/v1/rooms/{room}/chat"), json!({"body": "before"})).await;
        assert_eq!(next_of(&mut ws, "event").await["data"]["body"], "before", "{b:?}");
        let kicked = owner.post(&format!("/api/v1/rooms/{room}/actions/kick"), json!({"account": gid})).await;
        assert_eq!(kicked.status, StatusCode::OK, "{}", kicked.body);
        let ended = next(&mut ws).await;
        assert_eq!((ended["t"].as_str(), ended["reason"].as_str()), (Some("unsubscribed"), Some("access")), "{b:?} {ended}");
        assert_eq!(ended["room_id"], room.as_str());

        owner.post(&format!("/api/v1/rooms/{room}/chat"), json!({"body": "after"})).await;
        // The owner's own subscriber sees "after"; once it has, the kicked
        // guest's socket would have had it too.
        let mut ows = connect(addr, &owner).await;
        send(&mut ows, json!({"t": "subscribe", "room_id": room, "after": 0})).await;
        let all = events_until_pong(&mut ows).await;
        assert_eq!(all.last().unwrap()["data"]["body"], "after", "{b:?}");
        assert!(events_until_pong(&mut ws).await.is_empty(), "{b:?}: the kicked guest gets nothing more");
        // Coming back is refused while the kick lasts.
        send(&mut ws, json!({"t": "subscribe", "room_id": room})).await;
        assert_eq!(next(&mut ws).await["code"], "forbidden", "{b:?}");
    }
}

#[tokio::test]
async fn a_page_session_opens_the_socket_and_other_sites_cannot() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let addr = serve(&app).await;
        let (_owner, _guest, room, _) = room_with_guest(&app, 5).await;
        // Signed in through the pages: a cookie session, no bearer token.
        let mut web = app.client();
        let csrf = crate::pages::csrf_of(&web.get("/signin").await.body);
        let signed = web.form("/signin", &[("csrf_token", &csrf), ("login", "+254711000005"), ("password", PASSWORD), ("next", "/")]).await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER, "{b:?} {}", signed.body);
        let cookies = web.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");

        let mut req = format!("ws://{addr}/api/v1/ws").into_client_request().unwrap();
        req.headers_mut().insert("cookie", cookies.parse().unwrap());
        req.headers_mut().insert("origin", format!("http://{addr}").parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("same-site socket opens");
        send(&mut ws, json!({"t": "subscribe", "room_id": room, "after": 0})).await;
        assert_eq!(next(&mut ws).await["t"], "subscribed", "{b:?}");
        assert_eq!(kinds(&events_until_pong(&mut ws).await)[0], "room_opened");

        // Another site's page cannot open a socket with the user's cookie.
        let mut req = format!("ws://{addr}/api/v1/ws").into_client_request().unwrap();
        req.headers_mut().insert("cookie", cookies.parse().unwrap());
        req.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
        match tokio_tungstenite::connect_async(req).await.expect_err("refused") {
            tokio_tungstenite::tungstenite::Error::Http(r) => assert_eq!(r.status(), StatusCode::FORBIDDEN, "{b:?}"),
            e => panic!("{b:?}: {e}"),
        }
    }
}

#[tokio::test]
async fn missed_private_messages_come_back_from_the_user_channel_after_a_reconnect() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let addr = serve(&app).await;
        let mut amy = app.client();
        amy.sign_up("amy@example.com", "amy").await;
        let mut bob = app.client();
        let bid = bob.sign_up("bob@example.com", "bob").await["account"]["id"].as_str().unwrap().to_string();
        let say = |body: &str| json!({"body": body});

        let mut ws = connect(addr, &bob).await;
        // The socket follows its person's events before it reads commands:
        // one answered command means a message sent now is pushed to it.
        send(&mut ws, json!({"t": "resume_user", "after": i64::MAX})).await;
        next_of(&mut ws, "user_resumed").await;
        assert_eq!(amy.post(&format!("/api/v1/messages/{bid}"), say("one")).await.status, StatusCode::CREATED);
        let first = next_of(&mut ws, "user_event").await;
        assert_eq!((first["kind"].as_str(), first["data"]["body"].as_str()), (Some("message"), Some("one")), "{b:?} {first}");
        let seen = first["seq"].as_i64().unwrap();
        drop(ws);

        // Offline: two more arrive.
        for body in ["two", "three"] {
            assert_eq!(amy.post(&format!("/api/v1/messages/{bid}"), say(body)).await.status, StatusCode::CREATED);
        }
        let mut ws = connect(addr, &bob).await;
        send(&mut ws, json!({"t": "resume_user", "after": seen})).await;
        // As a client does: keep each event once, by its sequence number
        // (a live copy of an event written just before the reconnect may
        // arrive before, or as well as, the replay).
        let mut by_seq = std::collections::BTreeMap::new();
        let done = loop {
            let v = next(&mut ws).await;
            match v["t"].as_str() {
                Some("user_event") if v["seq"].as_i64().unwrap() > seen => {
                    by_seq.insert(v["seq"].as_i64().unwrap(), v);
                }
                Some("user_resumed") => break v,
                _ => {}
            }
        };
        let got: Vec<serde_json::Value> = by_seq.into_values().collect();
        let bodies: Vec<&str> = got.iter().map(|e| e["data"]["body"].as_str().unwrap()).collect();
        assert_eq!(bodies, ["two", "three"], "{b:?}: exactly what was missed, in order");
        assert!(got.iter().all(|e| e["seq"].as_i64().unwrap() > seen));
        assert_eq!(done["seq"], got[1]["seq"]);
        assert_eq!(done["more"], false);

        // Nothing missed: an empty replay (a live copy of what was replayed
        // may still arrive; clients skip seqs they have seen).
        send(&mut ws, json!({"t": "resume_user", "after": done["seq"]})).await;
        let again = loop {
            let v = next(&mut ws).await;
            match v["t"].as_str() {
                Some("user_event") => assert!(v["seq"].as_i64() <= done["seq"].as_i64(), "{b:?}: only an overlap: {v}"),
                Some("user_resumed") => break v,
                _ => {}
            }
        };
        assert_eq!(again["seq"], done["seq"]);
        send(&mut ws, json!({"t": "resume_user"})).await;
        assert_eq!(next_of(&mut ws, "error").await["code"], "bad_request");
    }
}
