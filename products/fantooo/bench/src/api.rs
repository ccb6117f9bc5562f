//! A small client of the public API and the WebSocket.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub body: String,
}

impl std::error::Error for ApiError {}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}: {}", self.status, self.body.chars().take(300).collect::<String>())
    }
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(256).timeout(Duration::from_secs(30)).build().expect("http client")
}

impl Api {
    pub fn new(http: reqwest::Client, base: &str, token: &str) -> Api {
        Api { http, base: base.to_string(), token: token.to_string() }
    }

    pub fn with_base(&self, base: &str) -> Api {
        Api { http: self.http.clone(), base: base.to_string(), token: self.token.clone() }
    }

    /// One call; returns the JSON body and how long it took.
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<(Value, Duration), ApiError> {
        let started = Instant::now();
        let mut req = self.http.request(method, format!("{}{path}", self.base)).header("accept", "application/json");
        if !self.token.is_empty() {
            req = req.bearer_auth(&self.token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| ApiError { status: 0, body: e.to_string() })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| ApiError { status, body: e.to_string() })?;
        let took = started.elapsed();
        if !(200..300).contains(&status) {
            return Err(ApiError { status, body: text });
        }
        Ok((serde_json::from_str(&text).unwrap_or(Value::Null), took))
    }

    pub async fn get(&self, path: &str) -> Result<(Value, Duration), ApiError> {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Result<(Value, Duration), ApiError> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Result<(Value, Duration), ApiError> {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn login(http: &reqwest::Client, base: &str, login: &str, password: &str, kind: &str) -> Result<Api, ApiError> {
        let anon = Api::new(http.clone(), base, "");
        let (v, _) = anon.post("/api/auth/login", json!({ "login": login, "password": password, "kind": kind })).await?;
        Ok(Api::new(http.clone(), base, v["token"].as_str().unwrap_or_default()))
    }

    pub async fn signup(http: &reqwest::Client, base: &str, username: &str, password: &str) -> Result<(Api, String), ApiError> {
        let anon = Api::new(http.clone(), base, "");
        let body = json!({ "username": username, "location": "Nairobi", "gender": "male", "looking_for": "female", "age": 30, "password": password, "accept_terms": true });
        let (v, _) = anon.post("/api/auth/signup", body).await?;
        let id = v["user"]["id"].as_str().unwrap_or_default().to_string();
        Ok((Api::new(http.clone(), base, v["token"].as_str().unwrap_or_default()), id))
    }

    pub async fn socket(&self) -> Result<Ws, String> {
        let ws_url = self.base.replacen("http", "ws", 1) + "/ws";
        let mut req = ws_url.into_client_request().map_err(|e| e.to_string())?;
        req.headers_mut().insert("authorization", format!("Bearer {}", self.token).parse().map_err(|_| "bad token".to_string())?);
        let (ws, _) = tokio_tungstenite::connect_async(req).await.map_err(|e| e.to_string())?;
        Ok(ws)
    }
}

pub async fn ws_send(ws: &mut Ws, v: Value) -> Result<(), String> {
    ws.send(Frame::Text(v.to_string().into())).await.map_err(|e| e.to_string())
}

/// The next JSON frame, or None when the socket ended.
pub async fn ws_next(ws: &mut Ws) -> Option<Value> {
    loop {
        match ws.next().await? {
            Ok(Frame::Text(t)) => return serde_json::from_str(&t).ok(),
            Ok(Frame::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// Microseconds since the Unix epoch (sender timestamps in message bodies).
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// A message body carrying its send time: "bench <micros> <text>".
pub fn stamped(text: &str) -> String {
    format!("bench {} {text}", now_micros())
}

/// The send time in a stamped body, if any.
pub fn stamp_of(body: &str) -> Option<i64> {
    body.strip_prefix("bench ")?.split(' ').next()?.parse().ok()
}
