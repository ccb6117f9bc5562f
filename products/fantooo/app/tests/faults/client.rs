//! A client of the public API and the WebSocket, as an app would use them,
//! with a follower that keeps a chat's socket alive across node failures.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;

pub const PASSWORD: &str = "Fault!pass1";
/// Longer than the server's 30 s request timeout: a response that takes
/// this long means the server hung, which the tests count as a failure.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(40);

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(CLIENT_TIMEOUT).build().expect("http client")
}

/// What one request came back with.
#[derive(Debug, Clone)]
pub struct Reply {
    /// None when no HTTP response arrived (refused, reset, timed out).
    pub status: Option<u16>,
    pub body: Value,
    pub took: Duration,
    pub transport_error: Option<String>,
}

impl Reply {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

pub async fn post(http: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Reply {
    let started = Instant::now();
    let mut req = http.post(url).header("accept", "application/json").json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let body = resp.json::<Value>().await.unwrap_or(Value::Null);
            Reply { status: Some(status), body, took: started.elapsed(), transport_error: None }
        }
        Err(e) => Reply { status: None, body: Value::Null, took: started.elapsed(), transport_error: Some(e.to_string()) },
    }
}

pub async fn get_status(http: &reqwest::Client, url: String) -> Option<u16> {
    http.get(url).send().await.ok().map(|r| r.status().as_u16())
}

/// A signed-up user with an open chat.
#[derive(Clone)]
pub struct ChatUser {
    pub user_id: String,
    pub token: String,
    pub chat: String,
}

pub async fn user_with_chat(http: &reqwest::Client, base: &str, username: &str, profile: &str) -> ChatUser {
    let signup = json!({ "username": username, "location": "Nairobi", "gender": "male", "looking_for": "female", "age": 30, "password": PASSWORD, "accept_terms": true });
    let r = post(http, format!("{base}/api/auth/signup"), None, signup).await;
    assert_eq!(r.status, Some(201), "signup {username}: {r:?}");
    let token = r.body["token"].as_str().expect("token").to_string();
    let user_id = r.body["user"]["id"].as_str().expect("user id").to_string();
    let r = post(http, format!("{base}/api/chats"), Some(&token), json!({ "profile_id": profile })).await;
    assert!(r.ok(), "open chat: {r:?}");
    ChatUser { user_id, token, chat: r.body["chat"]["id"].as_str().expect("chat id").to_string() }
}

pub async fn send_message(http: &reqwest::Client, base: &str, user: &ChatUser, content: &str, client_id: &str) -> Reply {
    let body = json!({ "content": content, "client_id": client_id });
    post(http, format!("{base}/api/chats/{}/messages", user.chat), Some(&user.token), body).await
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open_socket(base: &str, token: &str) -> Result<Ws, String> {
    let mut req = (base.replacen("http", "ws", 1) + "/ws").into_client_request().map_err(|e| e.to_string())?;
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().map_err(|_| "bad token".to_string())?);
    let connect = tokio_tungstenite::connect_async(req);
    let (ws, _) = tokio::time::timeout(Duration::from_secs(5), connect)
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| e.to_string())?;
    Ok(ws)
}

/// What a follower saw.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// Message seqs in arrival order (duplicates kept, to be found).
    pub seqs: Vec<i64>,
    /// When each message arrived, by its content.
    pub arrivals: Vec<(String, Instant)>,
    pub reconnects: usize,
    /// `error` and `reload` frames.
    pub complaints: Vec<Value>,
}

/// Follows one chat like the page script: subscribes after the last seq it
/// saw; when its socket ends it reconnects to the next node of `nodes` (as a
/// load balancer would) and resumes from that seq.
pub struct Follower {
    pub seen: Arc<Mutex<Seen>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Follower {
    pub async fn start(nodes: Vec<String>, user: &ChatUser) -> Follower {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (stop, stopped) = watch::channel(false);
        let (subscribed_tx, subscribed) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(follow(nodes, user.clone(), seen.clone(), stopped, subscribed_tx));
        tokio::time::timeout(Duration::from_secs(10), subscribed).await.expect("follower subscribed").expect("follower alive");
        Follower { seen, stop, task }
    }

    pub fn seqs(&self) -> Vec<i64> {
        self.seen.lock().unwrap().seqs.clone()
    }

    /// Waits until the follower has seen every seq of `expected`.
    pub async fn caught_up(&self, expected: &[i64], within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let seqs = self.seqs();
            if expected.iter().all(|s| seqs.contains(s)) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn finish(self) -> Seen {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
        let seen = self.seen.lock().unwrap().clone();
        seen
    }
}

async fn follow(
    nodes: Vec<String>,
    user: ChatUser,
    seen: Arc<Mutex<Seen>>,
    mut stopped: watch::Receiver<bool>,
    subscribed: tokio::sync::oneshot::Sender<()>,
) {
    let mut subscribed = Some(subscribed);
    let mut node = 0usize;
    let mut last_seq = 0i64;
    while !*stopped.borrow() {
        let mut ws = match open_socket(&nodes[node % nodes.len()], &user.token).await {
            Ok(ws) => ws,
            Err(_) => {
                node += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let subscribe = json!({ "t": "subscribe", "chat_id": user.chat, "after": last_seq });
        if ws.send(Frame::Text(subscribe.to_string().into())).await.is_err() {
            continue;
        }
        loop {
            let frame = tokio::select! {
                f = ws.next() => f,
                _ = stopped.changed() => return,
            };
            let Some(Ok(frame)) = frame else { break };
            let Frame::Text(text) = frame else { continue };
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            match v["t"].as_str() {
                Some("subscribed") => {
                    if let Some(tx) = subscribed.take() {
                        let _ = tx.send(());
                    }
                }
                Some("message") => {
                    let seq = v["message"]["seq"].as_i64().expect("seq");
                    let mut s = seen.lock().unwrap();
                    s.seqs.push(seq);
                    s.arrivals.push((v["message"]["content"].as_str().unwrap_or_default().to_string(), Instant::now()));
                    last_seq = last_seq.max(seq);
                }
                Some("error") | Some("reload") => {
                    seen.lock().unwrap().complaints.push(v);
                    // Start over from the last seq on a new connection.
                    break;
                }
                _ => {}
            }
        }
        seen.lock().unwrap().reconnects += 1;
        node += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
