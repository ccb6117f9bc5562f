//! A small client for the Janus HTTP API: a session (created with
//! `create`, kept alive with `keepalive`, its events read by long-polling
//! `GET /janus/<session>`), plugin handles attached to it, synchronous plugin
//! requests (answered in the POST's response) and asynchronous ones (`join`,
//! `configure`: answered by an event carrying the same transaction).

use rand::distributions::Alphanumeric;
use rand::Rng;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The plugin every handle attaches to.
pub const AUDIOBRIDGE: &str = "janus.plugin.audiobridge";
/// Janus core: the session does not exist (timed out, or the server restarted).
pub const SESSION_NOT_FOUND: i64 = 458;
/// Janus core: the handle does not exist.
pub const HANDLE_NOT_FOUND: i64 = 459;

/// How long an asynchronous plugin request may take to be answered.
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);
/// Janus drops a session after `session_timeout` (60 s by default) without a request.
const KEEPALIVE_EVERY: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JanusError {
    /// Janus could not be reached or answered something that is not its protocol.
    #[error("janus unreachable: {0}")]
    Transport(String),
    /// Janus core refused the request (e.g. 458: no such session).
    #[error("janus error {code}: {reason}")]
    Core { code: i64, reason: String },
    /// The plugin refused the request (AudioBridge codes 480–499).
    #[error("audiobridge error {code}: {reason}")]
    Plugin { code: i64, reason: String },
    #[error("janus did not answer in time")]
    Timeout,
}

impl JanusError {
    /// The session or handle is gone: start over with a new session.
    pub fn session_lost(&self) -> bool {
        matches!(self, JanusError::Core { code, .. } if *code == SESSION_NOT_FOUND || *code == HANDLE_NOT_FOUND)
            || matches!(self, JanusError::Transport(_))
    }
    /// The plugin's error code, if the plugin refused.
    pub fn plugin_code(&self) -> Option<i64> {
        match self {
            JanusError::Plugin { code, .. } => Some(*code),
            _ => None,
        }
    }
}

fn transaction() -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(12).map(char::from).collect()
}

type Pending = Mutex<HashMap<String, oneshot::Sender<Value>>>;
type Sinks = Mutex<HashMap<u64, mpsc::UnboundedSender<Value>>>;

/// One Janus session. Dropping the last `Arc` stops its poller and keepalive.
pub struct Session {
    http: reqwest::Client,
    base: String,
    id: u64,
    pending: Pending,
    sinks: Sinks,
    alive: AtomicBool,
}

impl Session {
    /// Creates a session on the Janus at `base` (e.g. `http://127.0.0.1:8088/janus`).
    pub async fn create(http: reqwest::Client, base: &str) -> Result<Arc<Session>, JanusError> {
        let base = base.trim_end_matches('/').to_string();
        let answer = post(&http, &base, json!({"janus": "create", "transaction": transaction()})).await?;
        let id = answer["data"]["id"].as_u64().ok_or_else(|| JanusError::Transport(format!("no session id in {answer}")))?;
        let session =
            Arc::new(Session { http, base, id, pending: Mutex::default(), sinks: Mutex::default(), alive: AtomicBool::new(true) });
        tokio::spawn(poll(Arc::downgrade(&session)));
        tokio::spawn(keepalive(Arc::downgrade(&session)));
        Ok(session)
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// False once Janus said the session is gone (the poller stops then).
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Relaxed)
    }

    fn url(&self) -> String {
        format!("{}/{}", self.base, self.id)
    }

    /// Attaches a new AudioBridge handle.
    pub async fn attach(self: &Arc<Self>) -> Result<Handle, JanusError> {
        let answer = post(&self.http, &self.url(), json!({"janus": "attach", "plugin": AUDIOBRIDGE, "transaction": transaction()})).await?;
        let id = answer["data"]["id"].as_u64().ok_or_else(|| JanusError::Transport(format!("no handle id in {answer}")))?;
        Ok(Handle { session: self.clone(), id })
    }

    /// Destroys the session on the server (its handles go with it).
    pub async fn destroy(&self) -> Result<(), JanusError> {
        self.alive.store(false, Ordering::Relaxed);
        post(&self.http, &self.url(), json!({"janus": "destroy", "transaction": transaction()})).await.map(|_| ())
    }

    fn dispatch(&self, event: Value) {
        if event["janus"] == "ack" || event["janus"] == "keepalive" {
            return;
        }
        if let Some(t) = event["transaction"].as_str() {
            if let Some(tx) = self.pending.lock().unwrap().remove(t) {
                let _ = tx.send(event);
                return;
            }
        }
        if let Some(sender) = event["sender"].as_u64() {
            if let Some(sink) = self.sinks.lock().unwrap().get(&sender) {
                let _ = sink.send(event);
            }
        }
    }
}

/// Long-polls the session's events until the session is dropped or gone.
async fn poll(session: Weak<Session>) {
    let mut rid: u64 = 0;
    loop {
        let Some(s) = session.upgrade() else { return };
        if !s.is_alive() {
            return;
        }
        rid += 1;
        let request = s.http.get(format!("{}?maxev=20&rid={rid}", s.url())).timeout(Duration::from_secs(40)).send();
        let url = s.url();
        // Let the session go while waiting: a dropped session ends the poll.
        drop(s);
        let answer = match request.await {
            Ok(r) => r.json::<Value>().await,
            Err(e) => {
                tracing::debug!(%url, error = %e, "janus poll failed");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let Some(s) = session.upgrade() else { return };
        match answer {
            Ok(Value::Array(events)) => events.into_iter().for_each(|e| s.dispatch(e)),
            Ok(event) if event["janus"] == "error" => {
                tracing::warn!(%url, %event, "janus session lost");
                s.alive.store(false, Ordering::Relaxed);
                return;
            }
            Ok(event) => s.dispatch(event),
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

async fn keepalive(session: Weak<Session>) {
    loop {
        tokio::time::sleep(KEEPALIVE_EVERY).await;
        let Some(s) = session.upgrade() else { return };
        if !s.is_alive() {
            return;
        }
        if let Err(e) = post(&s.http, &s.url(), json!({"janus": "keepalive", "transaction": transaction()})).await {
            if matches!(e, JanusError::Core { .. }) {
                s.alive.store(false, Ordering::Relaxed);
                return;
            }
        }
    }
}

async fn post(http: &reqwest::Client, url: &str, body: Value) -> Result<Value, JanusError> {
    let response =
        http.post(url).json(&body).timeout(Duration::from_secs(10)).send().await.map_err(|e| JanusError::Transport(e.to_string()))?;
    let answer: Value = response.json().await.map_err(|e| JanusError::Transport(e.to_string()))?;
    if answer["janus"] == "error" {
        return Err(JanusError::Core {
            code: answer["error"]["code"].as_i64().unwrap_or(0),
            reason: answer["error"]["reason"].as_str().unwrap_or("").to_string(),
        });
    }
    Ok(answer)
}

/// The plugin's answer, or its refusal as an error.
fn plugin_data(answer: &Value) -> Result<Value, JanusError> {
    let data = &answer["plugindata"]["data"];
    if let Some(code) = data["error_code"].as_i64() {
        return Err(JanusError::Plugin { code, reason: data["error"].as_str().unwrap_or("").to_string() });
    }
    if data.is_null() {
        return Err(JanusError::Transport(format!("no plugin data in {answer}")));
    }
    Ok(data.clone())
}

/// A handle attached to the AudioBridge plugin.
pub struct Handle {
    session: Arc<Session>,
    id: u64,
}

impl Handle {
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    fn url(&self) -> String {
        format!("{}/{}", self.session.url(), self.id)
    }

    /// A synchronous plugin request (`create`, `allowed`, `mute`, `listparticipants`…).
    pub async fn request(&self, body: Value) -> Result<Value, JanusError> {
        let answer = post(&self.session.http, &self.url(), json!({"janus": "message", "body": body, "transaction": transaction()})).await?;
        plugin_data(&answer)
    }

    /// An asynchronous plugin request (`join`, `configure`, `leave`): waits for its event.
    pub async fn call(&self, body: Value) -> Result<Value, JanusError> {
        let t = transaction();
        let (tx, rx) = oneshot::channel();
        self.session.pending.lock().unwrap().insert(t.clone(), tx);
        let sent = post(&self.session.http, &self.url(), json!({"janus": "message", "body": body, "transaction": t})).await;
        let answer = match sent {
            // Some plugin errors come back at once instead of as an event.
            Ok(a) if a["janus"] == "ack" => match tokio::time::timeout(EVENT_TIMEOUT, rx).await {
                Ok(Ok(event)) => event,
                _ => {
                    self.session.pending.lock().unwrap().remove(&t);
                    return Err(JanusError::Timeout);
                }
            },
            Ok(a) => {
                self.session.pending.lock().unwrap().remove(&t);
                a
            }
            Err(e) => {
                self.session.pending.lock().unwrap().remove(&t);
                return Err(e);
            }
        };
        plugin_data(&answer)
    }

    /// The plugin's unsolicited events for this handle (participants joining,
    /// leaving, muting, talking). One receiver per handle.
    pub fn events(&self) -> mpsc::UnboundedReceiver<Value> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.session.sinks.lock().unwrap().insert(self.id, tx);
        rx
    }

    /// Detaches the handle (an AudioBridge participant on it leaves its room).
    pub async fn detach(&self) -> Result<(), JanusError> {
        self.session.sinks.lock().unwrap().remove(&self.id);
        post(&self.session.http, &self.url(), json!({"janus": "detach", "transaction": transaction()})).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_refusals_become_errors_with_their_code() {
        let refused = json!({"janus": "success", "plugindata": {"plugin": AUDIOBRIDGE, "data": {"audiobridge": "event", "error_code": 485, "error": "No such room (7)"}}});
        assert_eq!(plugin_data(&refused).unwrap_err().plugin_code(), Some(485));
        let ok = json!({"janus": "success", "plugindata": {"plugin": AUDIOBRIDGE, "data": {"audiobridge": "success", "room": 7}}});
        assert_eq!(plugin_data(&ok).unwrap()["room"], 7);
        assert!(plugin_data(&json!({"janus": "success"})).is_err());
    }

    #[test]
    fn lost_sessions_are_recognised() {
        assert!(JanusError::Core { code: SESSION_NOT_FOUND, reason: String::new() }.session_lost());
        assert!(JanusError::Transport("refused".into()).session_lost());
        assert!(!JanusError::Plugin { code: 489, reason: String::new() }.session_lost());
    }
}
