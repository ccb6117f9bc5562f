//! Hostile clients at the socket level, against the production server
//! (`fantooo_web::server`): slowloris headers are cut off, oversized request
//! heads refused, the connection cap holds excess clients back, and normal
//! requests and WebSocket upgrades keep working meanwhile.

use crate::support::*;
use fantooo_store::Backend;
use fantooo_web::server::ServerConfig;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;

fn config(header_read_timeout: Duration, max_connections: usize) -> ServerConfig {
    ServerConfig { header_read_timeout, max_connections, ..ServerConfig::default() }
}

async fn health(addr: SocketAddr) -> reqwest::StatusCode {
    reqwest::get(format!("http://{addr}/api/health")).await.expect("health request").status()
}

/// What the server sends before it closes, up to `within`; panics if it
/// keeps the connection open longer than that.
async fn until_closed(stream: &mut TcpStream, within: Duration) -> String {
    let mut got = vec![];
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read_all).await.expect("the server kept the connection open");
    String::from_utf8_lossy(&got).to_string()
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_disconnected() {
    let app = TestApp::new(Backend::Sqlite).await;
    let addr = app.serve_with(config(Duration::from_secs(1), 100)).await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /api/health HTTP/1.1\r\nHost: fantooo\r\nX-Slow: ").await.unwrap();
    // While it dawdles, everyone else is served.
    assert_eq!(health(addr).await, reqwest::StatusCode::OK);
    let answer = until_closed(&mut slow, Duration::from_secs(5)).await;
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "unexpected answer: {answer}");

    // A client that connects and says nothing at all is cut off too.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    until_closed(&mut silent, Duration::from_secs(5)).await;
    assert_eq!(health(addr).await, reqwest::StatusCode::OK);
}

#[tokio::test]
async fn oversized_request_heads_are_refused() {
    let app = TestApp::new(Backend::Sqlite).await;
    let addr = app.serve().await;
    for head in [
        format!("GET /api/profiles?q={} HTTP/1.1\r\nHost: fantooo\r\n\r\n", "a".repeat(1024 * 1024)),
        format!("GET / HTTP/1.1\r\nHost: fantooo\r\nX-Big: {}\r\n\r\n", "b".repeat(1024 * 1024)),
        format!("GET / HTTP/1.1\r\nHost: fantooo\r\n{}\r\n", "X-Many: 1\r\n".repeat(10_000)),
        "GET /\0 HTTP/1.1\r\nHost: fantooo\r\n\r\n".to_string(),
        "\u{16}\u{3}\u{1} not http at all\r\n\r\n".to_string(),
    ] {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        // The server may answer and close before the whole head is written.
        let (mut reader, mut writer) = stream.split();
        let (_, answer) = tokio::join!(writer.write_all(head.as_bytes()), async {
            let mut got = vec![0u8; 64];
            let n = tokio::time::timeout(Duration::from_secs(10), reader.read(&mut got)).await.expect("no answer").unwrap_or(0);
            String::from_utf8_lossy(&got[..n]).to_string()
        });
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 4"), "{}…: {answer}", &head[..30.min(head.len())]);
    }
    assert_eq!(health(addr).await, reqwest::StatusCode::OK);
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let app = TestApp::new(Backend::Sqlite).await;
    let addr = app.serve_with(config(Duration::from_secs(30), 1)).await;
    let holder = TcpStream::connect(addr).await.unwrap();
    // Give the server time to accept the holder, so it takes the only slot.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let waiting = tokio::spawn(health(addr));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "a second connection was served while the only slot was taken");
    drop(holder);
    let status = tokio::time::timeout(Duration::from_secs(10), waiting).await.expect("never served after the slot freed").unwrap();
    assert_eq!(status, reqwest::StatusCode::OK);
}

#[tokio::test]
async fn websocket_upgrades_work_through_the_server() {
    let app = TestApp::new(Backend::Sqlite).await;
    let addr = app.serve_with(config(Duration::from_secs(1), 100)).await;
    let user = api_user(&app, "socketeer").await;
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {}", user.token()).parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("websocket connect");
    // Idle past the header timeout: an upgraded socket is no longer HTTP.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    ws.send(Frame::Text(r#"{"t":"ping"}"#.into())).await.unwrap();
    let pong = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(frame)) = ws.next().await {
            if let Frame::Text(t) = frame {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                if v["t"] == "pong" {
                    return v;
                }
            }
        }
        panic!("socket closed before pong");
    })
    .await
    .expect("no pong");
    assert_eq!(pong["t"], "pong");
}
