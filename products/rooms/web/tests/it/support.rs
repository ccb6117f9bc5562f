//! A fresh app per test and a small client that keeps a bearer token or
//! cookies.

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use rooms_domain::ids::{AccountId, RoomId};
use rooms_store::gifts::{self, NewGift};
use rooms_store::{Backend, Db};
use rooms_web::{AppState, WebConfig};
use serde_json::{json, Value};
use std::collections::HashMap;
use tower::ServiceExt;

pub use platform_db::testing::backends;

pub const PASSWORD: &str = "Str0ng!p";

pub struct TestApp {
    pub db: Db,
    pub router: Router,
    /// The node's cache of bearer credentials (on unless a test turns it off).
    pub bearer_cache: Option<std::sync::Arc<rooms_web::auth::BearerCache>>,
    pub config: WebConfig,
    _dir: Option<platform_db::testing::TestDb>,
}

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        Self::with(backend, |_| {}).await
    }

    /// An app whose voice seam is `voice` (to see what voice is told).
    pub async fn with_voice(backend: Backend, voice: std::sync::Arc<dyn rooms_web::voice::VoiceSeam>) -> TestApp {
        Self::with_voice_at(backend, voice, vec![]).await
    }

    /// An app with voice whose servers browsers reach at `origins` (the pages' `connect-src`).
    pub async fn with_voice_at(backend: Backend, voice: std::sync::Arc<dyn rooms_web::voice::VoiceSeam>, origins: Vec<String>) -> TestApp {
        let t = platform_db::testing::fresh_db(backend, &rooms_store::MIGRATIONS, "rooms_web_tpl").await;
        let cfg = WebConfig {
            fast_password_hashing: true,
            auth_per_minute: 1000,
            api_per_minute: 10_000,
            voice_origins: origins,
            ..WebConfig::default()
        };
        let mut state = AppState::new(t.db.clone(), cfg.clone(), None);
        state.voice = voice;
        state.realtime.started().await;
        TestApp { db: t.db.clone(), bearer_cache: state.bearer_cache.clone(), router: rooms_web::app(state), config: cfg, _dir: Some(t) }
    }

    pub async fn with(backend: Backend, tweak: impl FnOnce(&mut WebConfig)) -> TestApp {
        Self::build_with(backend, tweak, |_| {}).await
    }

    /// An app whose state (mailer, sign-in providers, the economy's payment
    /// provider) the test sets.
    pub async fn with_state(backend: Backend, tweak: impl FnOnce(&mut AppState)) -> TestApp {
        Self::build_with(backend, |_| {}, tweak).await
    }

    pub async fn build_with(backend: Backend, tweak: impl FnOnce(&mut WebConfig), tweak_state: impl FnOnce(&mut AppState)) -> TestApp {
        let t = platform_db::testing::fresh_db(backend, &rooms_store::MIGRATIONS, "rooms_web_tpl").await;
        let media = std::env::temp_dir().join(format!("rooms-media-{}", platform_accounts::random_token()));
        let mut cfg = WebConfig {
            fast_password_hashing: true,
            auth_per_minute: 1000,
            api_per_minute: 10_000,
            media_dir: media,
            ..WebConfig::default()
        };
        tweak(&mut cfg);
        let db = t.db.clone();
        let mut state = AppState::new(db.clone(), cfg.clone(), None);
        tweak_state(&mut state);
        // Rows committed from here on are live, not history: a test's
        // first event cannot fall before the tailer has read the heads.
        state.realtime.started().await;
        let bearer_cache = state.bearer_cache.clone();
        let router = rooms_web::app(state);
        TestApp { db, router, bearer_cache, config: cfg, _dir: Some(t) }
    }

    /// Another node on this app's database: its own state and caches,
    /// the same token secret (tweaked by `tweak`).
    pub async fn second_node(&self, tweak: impl FnOnce(&mut WebConfig)) -> TestApp {
        let mut cfg = self.config.clone();
        tweak(&mut cfg);
        let state = AppState::new(self.db.clone(), cfg.clone(), None);
        state.realtime.started().await;
        let bearer_cache = state.bearer_cache.clone();
        TestApp { db: self.db.clone(), router: rooms_web::app(state), bearer_cache, config: cfg, _dir: None }
    }

    /// Waits until this node has seen what the test just wrote behind its
    /// back (SQL standing for another process, a role change say): a read
    /// of the sign-in version begun after this call confirmed the node's
    /// bearer cache, which empties it if the version moved. At most the
    /// cache's poll interval, never a guess.
    pub async fn settled(&self) {
        let Some(cache) = &self.bearer_cache else { return };
        let t = std::time::Instant::now();
        let give_up = t + std::time::Duration::from_secs(10);
        while !cache.confirmed_after(t) {
            assert!(std::time::Instant::now() < give_up, "no sign-in version read in 10 s");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    pub fn client(&self) -> Client {
        Client { router: self.router.clone(), bearer: None, cookies: HashMap::new(), ip: None }
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn body_bytes(&self) -> &[u8] {
        &self.bytes
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    /// The stable error code of a JSON error body.
    pub fn code(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_string()
    }
    pub fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

pub struct Client {
    router: Router,
    pub bearer: Option<String>,
    pub cookies: HashMap<String, String>,
    /// Sent as `X-Forwarded-For` (apps built with `trust_proxy`).
    pub ip: Option<String>,
}

impl Client {
    pub async fn send(&mut self, method: Method, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        if let Some(t) = &self.bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if let Some(ip) = &self.ip {
            req = req.header("x-forwarded-for", ip);
        }
        if !self.cookies.is_empty() {
            let c = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
            req = req.header(header::COOKIE, c);
        }
        let resp = self.router.clone().oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        for v in headers.get_all(header::SET_COOKIE) {
            let (pair, _) = v.to_str().unwrap().split_once(';').unwrap_or((v.to_str().unwrap(), ""));
            let (k, val) = pair.split_once('=').unwrap();
            if val.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
        }
        let bytes = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
        let body = String::from_utf8_lossy(&bytes).to_string();
        Resp { status, headers, body, bytes }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Method::GET, path, None, vec![]).await
    }

    pub async fn post(&mut self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some("application/json"), body.to_string().into_bytes()).await
    }

    pub async fn form(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.send(Method::POST, path, Some("application/x-www-form-urlencoded"), body.into_bytes()).await
    }

    /// Signs up by API with `login` and keeps the access token.
    pub async fn sign_up(&mut self, login: &str, handle: &str) -> Value {
        let r = self
            .post(
                "/api/v1/auth/signup",
                json!({"login": login, "password": PASSWORD, "full_name": format!("{handle} Person"), "handle": handle,
                       "birth_date": "1990-04-01", "country": "KE"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let v = r.json();
        self.bearer = Some(v["tokens"]["access_token"].as_str().unwrap().to_string());
        v
    }
}

/// A multipart body with one file part: its content type and bytes.
pub fn multipart(field: &str, filename: &str, content_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    platform_testkit::multipart(&[platform_testkit::form::file(field, filename, content_type, bytes)])
}

/// The account id of a signed-in client.
pub async fn id_of(c: &mut Client) -> AccountId {
    c.get("/api/v1/me").await.json()["account"]["id"].as_str().unwrap().parse().unwrap()
}

/// A room with its owner, a seated star and a fan present; a gift of `price`.
pub struct Scene {
    pub room: RoomId,
    pub owner: Client,
    pub star: Client,
    pub star_id: AccountId,
    pub fan: Client,
    pub fan_id: AccountId,
    pub gift: String,
}

pub async fn scene(app: &TestApp, price: i64) -> Scene {
    let mut owner = app.client();
    owner.sign_up("owner@example.com", "owner").await;
    let r = owner.post("/api/v1/rooms", json!({"name": "Gift Room", "visitors_speak": true})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let room: RoomId = r.json()["room"]["id"].as_str().unwrap().parse().unwrap();
    let mut star = app.client();
    star.sign_up("star@example.com", "star").await;
    let star_id = id_of(&mut star).await;
    assert!(star.post(&format!("/api/v1/rooms/{room}/join"), json!({})).await.status.is_success());
    assert!(star.post(&format!("/api/v1/rooms/{room}/actions/take_seat"), json!({})).await.status.is_success());
    let mut fan = app.client();
    fan.sign_up("fan@example.com", "fan").await;
    let fan_id = id_of(&mut fan).await;
    assert!(fan.post(&format!("/api/v1/rooms/{room}/join"), json!({})).await.status.is_success());
    let g = NewGift::plain("heart", "Heart", price);
    let gift = gifts::create_gift(&app.db, &g).await.unwrap().to_string();
    Scene { room, owner, star, star_id, fan, fan_id, gift }
}
