//! A person's room WebSocket as the benches hold it: connect with their
//! token, subscribe to the room, ping every 20 s, and hand each room event
//! to the caller with the moment it arrived, until the run stops or the
//! socket closes. The reader waits on the socket and the stop signal only:
//! no timer is armed per message, so the bench's own cost per delivery is
//! one read and what the caller's own type makes of the text ([`Tagged`]:
//! a [`Value`] builds the whole tree; the gifts bench only scans the text
//! for the fields it needs).

use crate::server::{now_micros, post, Person};
use crate::Fail;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// Tells every reader (and any loop that polls it) that the run is over.
#[derive(Clone)]
pub struct Stop(Arc<watch::Sender<bool>>);

impl Stop {
    pub fn new() -> Stop {
        Stop(Arc::new(watch::channel(false).0))
    }
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
    pub fn stopped(&self) -> bool {
        *self.0.borrow()
    }
}

/// Sockets the server has confirmed subscribed.
#[derive(Clone, Default)]
pub struct Subscribed(Arc<AtomicU64>);

impl Subscribed {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::Relaxed) as usize
    }
    /// Waits (up to 30 s) until `n` sockets are subscribed; returns how many are.
    pub async fn wait_for(&self, n: usize) -> usize {
        for _ in 0..600 {
            if self.count() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.count()
    }
}

/// A message from the socket as a bench reads it: its `t` is what the
/// reader needs (`subscribed`, `event`, …).
pub trait Tagged: Sized + Send + 'static {
    /// The message from its text (`None`: not one to read).
    fn parse(text: &str) -> Option<Self>;
    fn t(&self) -> Option<&str>;
}

impl Tagged for Value {
    fn parse(text: &str) -> Option<Value> {
        serde_json::from_str(text).ok()
    }
    fn t(&self) -> Option<&str> {
        self["t"].as_str()
    }
}

/// Opens `token`'s socket at `ws_url`, subscribes to `room`, and reads it in
/// a task: `on_event(&mut state, event, arrived_micros)` for every message
/// with `t: "event"`, read as `M`. The task returns `state` when `stop` is
/// set or the socket closes.
pub async fn room<S, M, F>(
    ws_url: &str,
    token: &str,
    room: &str,
    stop: &Stop,
    subscribed: &Subscribed,
    mut state: S,
    mut on_event: F,
) -> Result<JoinHandle<S>, Fail>
where
    S: Send + 'static,
    M: Tagged,
    F: FnMut(&mut S, &M, i64) + Send + 'static,
{
    let mut req = ws_url.into_client_request()?;
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
    ws.send(Message::text(json!({"t": "subscribe", "room_id": room}).to_string())).await?;
    // Only ever set once, to true: any change (or the sender gone) ends the reader.
    let mut stopped = stop.0.subscribe();
    if stop.stopped() {
        stopped.mark_changed();
    }
    let subscribed = subscribed.0.clone();
    Ok(tokio::spawn(async move {
        let mut ping = tokio::time::interval(Duration::from_secs(20));
        ping.tick().await;
        loop {
            let msg = tokio::select! {
                m = ws.next() => m,
                _ = ping.tick() => { let _ = ws.send(Message::text(r#"{"t":"ping"}"#)).await; continue; }
                _ = stopped.changed() => break,
            };
            let text = match msg {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => break,
            };
            let arrived = now_micros();
            let Some(v) = M::parse(&text) else { continue };
            match v.t() {
                Some("subscribed") => {
                    subscribed.fetch_add(1, Ordering::Relaxed);
                }
                Some("event") => on_event(&mut state, &v, arrived),
                _ => {}
            }
        }
        state
    }))
}

/// Heartbeats for everyone in `people` every 5 s until `stop` (30 s without
/// one and a person is out of the room), 32 at a time.
pub fn heartbeats(http: &reqwest::Client, base: &str, room: &str, people: &[Person], stop: &Stop) -> JoinHandle<()> {
    let (http, url, stop) = (http.clone(), format!("{base}/api/v1/rooms/{room}/heartbeat"), stop.clone());
    let tokens: Vec<String> = people.iter().map(|p| p.token.clone()).collect();
    tokio::spawn(async move {
        while !stop.stopped() {
            for chunk in tokens.chunks(32) {
                futures_util::future::join_all(chunk.iter().map(|t| post(&http, &url, Some(t), json!({})))).await;
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    })
}

/// Everyone in `people` joins `room`, 16 at a time.
pub async fn join(http: &reqwest::Client, base: &str, room: &str, people: &[Person]) -> Result<(), Fail> {
    let url = format!("{base}/api/v1/rooms/{room}/join");
    for chunk in people.chunks(16) {
        for r in futures_util::future::join_all(chunk.iter().map(|p| post(http, &url, Some(&p.token), json!({})))).await {
            let (status, v) = r?;
            if status != 200 {
                return Err(format!("join: {status} {v}").into());
            }
        }
    }
    Ok(())
}
