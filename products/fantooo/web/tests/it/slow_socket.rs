//! A WebSocket client that stops reading costs only itself: per-connection
//! queues are bounded, and a connection that fell behind is dropped and
//! resynchronised from the database.

use crate::chat::{grant, user_with_chat};
use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_domain::ids::ChatId;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// A socket whose kernel receive buffer is tiny, so a client that stops
/// reading pushes back on the server after a few kilobytes.
async fn socket(addr: SocketAddr, token: &str, recv_buffer: Option<u32>) -> Ws {
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    if let Some(size) = recv_buffer {
        tcp.set_recv_buffer_size(size).unwrap();
    }
    let stream = tcp.connect(addr).await.unwrap();
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (ws, _) = tokio_tungstenite::client_async(req, stream).await.expect("websocket handshake");
    ws
}

async fn subscribe(ws: &mut Ws, chat: ChatId) {
    ws.send(Frame::Text(json!({ "t": "subscribe", "chat_id": chat, "after": 0 }).to_string().into())).await.unwrap();
    loop {
        let Some(Ok(Frame::Text(t))) = ws.next().await else { panic!("socket closed before subscribing") };
        if serde_json::from_str::<Value>(&t).unwrap()["t"] == "subscribed" {
            return;
        }
    }
}

/// Reads frames until `done` says so or nothing arrives for `quiet`.
async fn read_frames(ws: &mut Ws, quiet: Duration, mut done: impl FnMut(&Value) -> bool) -> Vec<(Value, Instant)> {
    let mut frames = vec![];
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(quiet, ws.next()).await {
        if let Frame::Text(t) = frame {
            let v: Value = serde_json::from_str(&t).unwrap();
            let stop = done(&v);
            frames.push((v, Instant::now()));
            if stop {
                break;
            }
        }
    }
    frames
}

fn seqs(frames: &[(Value, Instant)]) -> Vec<i64> {
    frames.iter().filter(|(v, _)| v["t"] == "message").map(|(v, _)| v["message"]["seq"].as_i64().unwrap()).collect()
}

const BUSY: usize = 800;

#[tokio::test]
async fn a_client_that_stops_reading_cannot_stall_delivery_to_others() {
    for b in backends() {
        let app = TestApp::with_config(b, |c| c.messages_per_minute = 100_000).await;
        let addr = app.serve().await;
        let (mut user, uid, chat) = user_with_chat(&app, "busychat").await;
        grant(&app.db, uid, 1_000_000).await;
        let mut slow = socket(addr, &user.token(), Some(4096)).await;
        subscribe(&mut slow, chat).await;
        let mut normal = socket(addr, &user.token(), None).await;
        subscribe(&mut normal, chat).await;
        let reader = tokio::spawn(async move {
            let mut n = 0;
            read_frames(&mut normal, Duration::from_secs(10), move |v| {
                n += (v["t"] == "message") as usize;
                n == BUSY
            })
            .await
        });

        // ~4 KB per message: 990 four-byte characters and a number.
        let large = "𝄞".repeat(990);
        let mut posted: HashMap<i64, Instant> = HashMap::new();
        for n in 0..BUSY {
            let r = user.json(Method::POST, &format!("/api/chats/{chat}/messages"), json!({ "content": format!("{n} {large}") })).await;
            assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
            posted.insert(r.json()["message"]["seq"].as_i64().unwrap(), Instant::now());
        }
        let mut stored: Vec<i64> = posted.keys().copied().collect();
        stored.sort();

        let got = reader.await.unwrap();
        assert_eq!(seqs(&got), stored, "{b:?}: the reading socket gets every message once, in order");
        assert!(got.iter().all(|(v, _)| v["t"] != "resynced" && v["t"] != "reload"), "{b:?}: the reading socket was never dropped");
        let slowest = got
            .iter()
            .filter(|(v, _)| v["t"] == "message")
            .map(|(v, at)| at.saturating_duration_since(posted[&v["message"]["seq"].as_i64().unwrap()]))
            .max()
            .unwrap();
        assert!(slowest < Duration::from_secs(3), "{b:?}: delivery to the reading socket stalled for {slowest:?}");

        // The stalled client finally reads: what it was sent before it
        // stalled, then a replay from the database, without duplicates; or,
        // when it missed too much, an instruction to reload.
        let late = read_frames(&mut slow, Duration::from_secs(1), |v| v["t"] == "reload").await;
        let late_seqs = seqs(&late);
        assert!(late_seqs.windows(2).all(|w| w[0] < w[1]), "{b:?}: no duplicates or reordering on the slow socket");
        let told_to_reload = late.iter().any(|(v, _)| v["t"] == "reload");
        if !told_to_reload {
            assert_eq!(late_seqs, stored, "{b:?}: a consistent replay brings the slow socket up to date");
        }
        assert!(
            told_to_reload || late.iter().any(|(v, _)| v["t"] == "resynced"),
            "{b:?}: the slow socket must have been dropped and resynchronised"
        );
    }
}
