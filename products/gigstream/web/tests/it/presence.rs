//! Online status: a person is online while a realtime socket of theirs is
//! open, and "last seen" once it closed; the other party of a conversation
//! sees it over their own socket and on the inbox and thread pages, and
//! nobody learns it through a conversation that is not theirs.

use crate::support::{backends, TestApp};
use crate::uploads::gig;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub(crate) async fn connect(base: &str, token: &str) -> Ws {
    let mut req = format!("{}/api/v1/ws", base.replace("http://", "ws://")).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req).await.expect("socket opens").0
}

/// Asks for the other party's status in `ids`; returns the answer's list.
async fn ask(ws: &mut Ws, ids: &[&str]) -> Vec<Value> {
    ws.send(Frame::text(json!({ "t": "presence", "conversation_ids": ids }).to_string())).await.unwrap();
    loop {
        // A generous bound only so a broken server fails instead of hanging.
        let f = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("a frame").expect("open").unwrap();
        if let Frame::Text(t) = f {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["t"] == "presence" {
                return v["data"].as_array().unwrap().clone();
            }
        }
    }
}

async fn page(app: &TestApp, token: &str, path: &str) -> String {
    let req = Request::get(path).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap();
    let (s, _, html) = app.raw(req).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    html
}

#[tokio::test]
async fn the_other_party_is_online_while_a_socket_is_open_then_last_seen() {
    for backend in backends() {
        let (app, base) = TestApp::served(backend).await;
        let seller = app.sign_up("maker").await;
        let buyer = app.sign_up("asker").await;
        let stranger = app.sign_up("nosy").await;
        let gig_id = gig(&app, &seller).await;
        let (s, v) = app.call(Method::POST, "/api/v1/conversations", Some(&buyer), Some(json!({ "gig": gig_id, "body": "Hi" }))).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let conv = v["conversation"]["id"].as_str().unwrap().to_string();
        let seller_id = v["conversation"]["seller_id"].as_str().unwrap().to_string();

        // Never connected: offline, never seen.
        let mut buyer_ws = connect(&base, &buyer).await;
        let got = ask(&mut buyer_ws, &[&conv]).await;
        assert_eq!(got.len(), 1);
        assert_eq!((got[0]["online"].as_bool(), got[0]["label"].as_str()), (Some(false), Some("Offline")), "{got:?}");
        assert_eq!(got[0]["account_id"], seller_id.as_str());
        assert!(page(&app, &buyer, &format!("/messages/{conv}")).await.contains(">Offline<"));

        // The seller opens a socket: online, to the buyer's socket and pages.
        let mut seller_ws = connect(&base, &seller).await;
        // The seller's own question is answered once its socket is registered.
        assert_eq!(ask(&mut seller_ws, &[&conv]).await[0]["label"], "Online", "the buyer's socket is open too");
        let got = ask(&mut buyer_ws, &[&conv]).await;
        assert_eq!((got[0]["online"].as_bool(), got[0]["label"].as_str()), (Some(true), Some("Online")), "{got:?}");
        let thread = page(&app, &buyer, &format!("/messages/{conv}")).await;
        assert!(thread.contains(r#"class="presence online""#) && thread.contains(">Online<"), "{thread}");
        let inbox = page(&app, &buyer, "/messages").await;
        assert!(inbox.contains(&format!(r#"class="presence online" data-presence="{conv}">Online<"#)), "{inbox}");

        // Someone else's conversation tells a stranger nothing.
        let mut nosy_ws = connect(&base, &stranger).await;
        assert!(ask(&mut nosy_ws, &[&conv]).await.is_empty());

        // A second socket of the seller's closes: still online.
        let mut second = connect(&base, &seller).await;
        ask(&mut second, &[&conv]).await;
        second.close(None).await.unwrap();
        drop(second);
        assert_eq!(ask(&mut buyer_ws, &[&conv]).await[0]["online"], true);
        // The seller closes the last one: "last seen" once the server saw it go.
        seller_ws.close(None).await.unwrap();
        drop(seller_ws);
        let mut rounds = 0;
        let got = loop {
            let got = ask(&mut buyer_ws, &[&conv]).await;
            if got[0]["online"] == false {
                break got;
            }
            rounds += 1;
            assert!(rounds < 500, "the closed socket still counts: {got:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(got[0]["label"], "Last seen just now", "{got:?}");
        assert!(got[0]["last_seen"].is_string());
        let inbox = page(&app, &buyer, "/messages").await;
        assert!(inbox.contains(&format!(r#"class="presence" data-presence="{conv}">Last seen just now<"#)), "{inbox}");
    }
}

/// The next pushed `presence` frame (none asked for), within `secs`.
async fn pushed(ws: &mut Ws, secs: u64) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let f = tokio::time::timeout_at(deadline, ws.next()).await.expect("a presence frame in time").expect("open").unwrap();
        if let Frame::Text(t) = f {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["t"] == "presence" {
                return v["data"].as_array().unwrap().clone();
            }
        }
    }
}

#[tokio::test]
async fn coming_online_and_going_offline_are_pushed_to_the_other_party_only() {
    for backend in backends() {
        let (app, base) = TestApp::served(backend).await;
        let seller = app.sign_up("maker").await;
        let buyer = app.sign_up("asker").await;
        let stranger = app.sign_up("nosy").await;
        let gig_id = gig(&app, &seller).await;
        let (s, v) = app.call(Method::POST, "/api/v1/conversations", Some(&buyer), Some(json!({ "gig": gig_id, "body": "Hi" }))).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let conv = v["conversation"]["id"].as_str().unwrap().to_string();
        let seller_id = v["conversation"]["seller_id"].as_str().unwrap().to_string();
        let mut buyer_ws = connect(&base, &buyer).await;
        let mut nosy_ws = connect(&base, &stranger).await;
        // Both sockets are registered once they answer.
        ask(&mut buyer_ws, &[&conv]).await;
        ask(&mut nosy_ws, &[&conv]).await;

        // The seller connects: the buyer is told without asking.
        let mut seller_ws = connect(&base, &seller).await;
        let got = pushed(&mut buyer_ws, 10).await;
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!((got[0]["conversation_id"].as_str(), got[0]["account_id"].as_str()), (Some(conv.as_str()), Some(seller_id.as_str())));
        assert_eq!((got[0]["online"].as_bool(), got[0]["label"].as_str()), (Some(true), Some("Online")), "{got:?}");

        // A second socket opening and closing changes nothing (no frame).
        let mut second = connect(&base, &seller).await;
        ask(&mut second, &[&conv]).await;
        second.close(None).await.unwrap();
        drop(second);

        // The last socket closes: after the grace period, offline with a time.
        seller_ws.close(None).await.unwrap();
        drop(seller_ws);
        let got = pushed(&mut buyer_ws, 15).await;
        assert_eq!((got[0]["online"].as_bool(), got[0]["label"].as_str()), (Some(false), Some("Last seen just now")), "{got:?}");
        assert!(got[0]["last_seen"].is_string(), "{got:?}");

        // The stranger was told nothing about it.
        let quiet = tokio::time::timeout(Duration::from_millis(300), async {
            loop {
                if let Some(Ok(Frame::Text(t))) = nosy_ws.next().await {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["t"] == "presence" {
                        return v;
                    }
                }
            }
        })
        .await;
        assert!(quiet.is_err(), "a stranger heard {quiet:?}");

        // Navigating (closing one page's socket, opening the next's at once) is no "offline".
        let mut seller_ws = connect(&base, &seller).await;
        assert_eq!(pushed(&mut buyer_ws, 10).await[0]["online"], true);
        seller_ws.close(None).await.unwrap();
        drop(seller_ws);
        let _next_page = connect(&base, &seller).await;
        let flicker =
            tokio::time::timeout(Duration::from_millis(gigstream_domain::presence::OFFLINE_GRACE_MS + 1500), pushed(&mut buyer_ws, 30))
                .await;
        match flicker {
            Err(_) => {}
            Ok(got) => assert_eq!(got[0]["online"], true, "{got:?}"),
        }
    }
}
