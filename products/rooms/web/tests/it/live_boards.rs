//! Live leaderboards over a real connection: an anonymous viewer follows a
//! board on the public socket (`/api/v1/ws/boards`) and sees gifts move it,
//! coalesced to at most one push per board a second. Both stores.

use crate::economy::{id_of, room_with_gift};
use crate::socket::{next, send, serve};
use crate::support::{backends, TestApp};
use axum::http::StatusCode;
use chrono::Utc;
use rooms_store::economy;
use serde_json::{json, Value};
use std::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn follow(addr: std::net::SocketAddr, board: &str, period: &str) -> Ws {
    let req = format!("ws://{addr}/api/v1/ws/boards").into_client_request().unwrap();
    let mut ws = tokio_tungstenite::connect_async(req).await.expect("socket opens without signing in").0;
    send(&mut ws, json!({"t": "subscribe", "board": board, "period": period})).await;
    let v = next(&mut ws).await;
    assert_eq!((v["t"].as_str(), v["board"].as_str(), v["period"].as_str()), (Some("subscribed"), Some(board), Some(period)), "{v}");
    ws
}

/// Leaderboard pushes until one whose first row has `amount`.
async fn until_amount(ws: &mut Ws, amount: i64) -> Vec<Value> {
    let mut pushes = vec![];
    loop {
        let v = next(ws).await;
        if v["t"] != "leaderboard" {
            continue;
        }
        let top = v["rows"][0]["amount"].as_i64();
        pushes.push(v);
        if top == Some(amount) {
            return pushes;
        }
    }
}

#[tokio::test]
async fn a_gift_moves_an_open_board_and_a_storm_is_coalesced() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let addr = serve(&app).await;
        let mut r = room_with_gift(&app).await;
        let (fan_id, _) = id_of(&mut r.fan).await;
        economy::grant(&app.db, fan_id, 10_000, "t", None, Utc::now()).await.unwrap();
        let mut wealth = follow(addr, "wealth", "daily").await;
        let mut rooms = follow(addr, "rooms", "all").await;
        // Bad channels are refused without closing the socket.
        send(&mut wealth, json!({"t": "subscribe", "board": "nope", "period": "daily"})).await;
        assert_eq!(next(&mut wealth).await["code"], "bad_request");

        let path = format!("/api/v1/rooms/{}/gifts", r.id);
        let resp = r.fan.post(&path, json!({"gift_id": r.gift, "to": r.star_id, "idempotency_key": "one"})).await;
        assert_eq!(resp.status, StatusCode::CREATED, "{b:?}: {}", resp.body);
        let pushed = until_amount(&mut wealth, 50).await;
        let last = pushed.last().unwrap();
        assert_eq!((last["rows"][0]["name"].as_str(), last["rows"][0]["rank"].as_i64()), (Some("fan Person"), Some(1)), "{b:?}: {last}");
        let pushed = until_amount(&mut rooms, 50).await;
        assert_eq!(pushed.last().unwrap()["rows"][0]["name"], "Gift Room", "{b:?}");

        // A storm: 30 gifts as fast as the server takes them. The board
        // ends exact, and never got more than one push per second.
        let started = Instant::now();
        for i in 0..30 {
            let resp = r.fan.post(&path, json!({"gift_id": r.gift, "to": r.star_id, "idempotency_key": format!("storm-{i}")})).await;
            assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.body);
        }
        let pushed = until_amount(&mut wealth, 50 * 31).await;
        let seconds = started.elapsed().as_secs_f64();
        assert!(pushed.len() as f64 <= seconds.ceil() + 1.0, "{b:?}: {} pushes in {seconds:.2} s for 30 gifts", pushed.len());
        let board = r.fan.get("/api/v1/leaderboards/wealth?period=daily").await.json();
        assert_eq!(board["rows"], pushed.last().unwrap()["rows"], "{b:?}: the push is the board the API reads");
        // The page no longer polls: it follows the socket.
        let js = r.fan.get("/assets/gifts.js").await.body;
        assert!(js.contains("/api/v1/ws/boards") && !js.contains("setInterval(() => { if (!document.hidden) refresh"));
    }
}
