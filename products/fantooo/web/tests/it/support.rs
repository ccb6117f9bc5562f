//! Test harness: per-test databases and a cookie-keeping client.

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use fantooo_store::{Backend, Db};
use fantooo_web::{AppState, WebConfig};
use http_body_util::BodyExt;
use platform_geo::OfflineGazetteer;
use std::collections::HashMap;
use std::sync::Arc;
use tower::ServiceExt;

pub const SETUP_TOKEN: &str = "test-setup-token-0123456789";
pub const PASSWORD: &str = "Str0ng!pass";

pub use platform_db::testing::backends;
use platform_db::testing::with_db;

/// A fresh, migrated database for one test (see `platform_db::testing`),
/// with Fantooo's time partitions in place.
pub async fn fresh_db(backend: Backend) -> (Db, Option<tempfile::TempDir>) {
    let t = platform_db::testing::fresh_db(backend, &fantooo_store::MIGRATIONS, "fantooo_template").await;
    fantooo_store::migrate(&t.db).await.expect("partitions");
    (t.db, t.dir)
}

pub struct TestApp {
    pub db: Db,
    /// The node's state (its session cache, say).
    pub state: AppState,
    pub router: Router,
    pub config: WebConfig,
    /// Every mail the app sent.
    pub mail: platform_mail::MemoryMailer,
    _dir: Option<tempfile::TempDir>,
    _media: Arc<tempfile::TempDir>,
}

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        Self::with_config(backend, |_| {}).await
    }

    pub async fn with_config(backend: Backend, tweak: impl FnOnce(&mut WebConfig)) -> TestApp {
        let (db, dir) = fresh_db(backend).await;
        let mut cfg = WebConfig {
            admin_setup_token: Some(SETUP_TOKEN.into()),
            fast_password_hashing: true,
            trust_proxy: true,
            auth_per_minute: 1000,
            api_per_minute: 10_000,
            run_assigner: false,
            ..WebConfig::default()
        };
        let media = Arc::new(tempfile::tempdir().expect("media dir"));
        cfg.media_dir = media.path().to_path_buf();
        tweak(&mut cfg);
        Self::build(db, cfg, dir, media, Arc::new(OfflineGazetteer::new())).await
    }

    /// The app on `db` with its own mailer and the given geocoder.
    pub async fn build(
        db: Db,
        cfg: WebConfig,
        dir: Option<tempfile::TempDir>,
        media: Arc<tempfile::TempDir>,
        geocoder: Arc<dyn platform_geo::Geocoder>,
    ) -> TestApp {
        let mail = platform_mail::MemoryMailer::new();
        let state = AppState::new(db.clone(), cfg.clone(), geocoder, None).with_mailer(Arc::new(mail.clone()));
        // Rows committed from here on are live, not history: a test's
        // first event cannot fall before the tailer has read the heads.
        state.realtime.started().await;
        let router = fantooo_web::app(state.clone());
        TestApp { db, state, router, config: cfg, mail, _dir: dir, _media: media }
    }

    /// The same app with another geocoder (one that fails, say).
    pub async fn with_geocoder(backend: Backend, geocoder: Arc<dyn platform_geo::Geocoder>) -> TestApp {
        let base = Self::new(backend).await;
        let TestApp { db, config, _dir, _media, .. } = base;
        Self::build(db, config, _dir, _media, geocoder).await
    }

    /// Another server node on the same database: its own hub, tailer and
    /// connection pool, sharing nothing with this one but the store.
    pub async fn second_node(&self) -> TestApp {
        let db = match &self.db {
            Db::Postgres(p) => {
                let url = p
                    .connect_options()
                    .get_database()
                    .map(|d| with_db(&std::env::var("TEST_DATABASE_URL").unwrap(), d))
                    .expect("database name");
                Db::connect(&url, 10).await.expect("second node connect")
            }
            Db::Sqlite(_) => self.db.clone(),
        };
        let state = AppState::new(db.clone(), self.config.clone(), Arc::new(OfflineGazetteer::new()), None);
        state.realtime.started().await;
        TestApp {
            db,
            router: fantooo_web::app(state.clone()),
            state,
            config: self.config.clone(),
            mail: platform_mail::MemoryMailer::new(),
            _dir: None,
            _media: self._media.clone(),
        }
    }

    /// Serves the app on a loopback port (for WebSockets and browsers)
    /// through the production server.
    pub async fn serve(&self) -> std::net::SocketAddr {
        self.serve_with(fantooo_web::server::ServerConfig::default()).await
    }

    pub async fn serve_with(&self, config: fantooo_web::server::ServerConfig) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = self.router.clone();
        tokio::spawn(async move {
            fantooo_web::server::serve(listener, router, config, std::future::pending()).await.unwrap();
        });
        addr
    }

    pub fn client(&self) -> Client {
        Client {
            router: self.router.clone(),
            cookies: HashMap::new(),
            csrf: None,
            bearer: None,
            ip: format!("10.1.{}.{}", rand_u8(), rand_u8()),
        }
    }
}

fn rand_u8() -> u8 {
    (uuid::Uuid::new_v4().as_u128() % 250) as u8 + 1
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// A client that keeps cookies and the page's CSRF token, like a browser.
pub struct Client {
    router: Router,
    pub cookies: HashMap<String, String>,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
    pub ip: String,
}

impl Client {
    pub async fn send(&mut self, method: Method, path: &str, content_type: Option<&str>, body: Vec<u8>, extra: &[(&str, &str)]) -> Resp {
        let mut req = Request::builder().method(method).uri(path).header("x-forwarded-for", &self.ip);
        if !self.cookies.is_empty() {
            let c = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
            req = req.header(header::COOKIE, c);
        }
        if let Some(t) = &self.bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let resp = self.router.clone().oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        for sc in headers.get_all(header::SET_COOKIE) {
            let s = sc.to_str().unwrap();
            let (pair, attrs) = s.split_once(';').unwrap_or((s, ""));
            let (k, v) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&bytes).to_string();
        if let Some(start) = body.find("name=\"csrf-token\" content=\"") {
            let rest = &body[start + 27..];
            self.csrf = rest.split('"').next().map(str::to_string);
        }
        Resp { status, headers, body }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Method::GET, path, None, vec![], &[]).await
    }

    /// Posts a form with the current CSRF token (fetches `/` first if none).
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        if self.csrf.is_none() {
            self.get("/login").await;
        }
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        let token = self.csrf.clone().unwrap();
        all.push(("csrf_token", &token));
        let body = serde_urlencoded::to_string(&all).unwrap();
        self.send(Method::POST, path, Some("application/x-www-form-urlencoded"), body.into_bytes(), &[]).await
    }

    /// Posts a form exactly as given (no token added).
    pub async fn post_form_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.send(Method::POST, path, Some("application/x-www-form-urlencoded"), body.into_bytes(), &[]).await
    }

    pub async fn json(&mut self, method: Method, path: &str, v: serde_json::Value) -> Resp {
        self.send(method, path, Some("application/json"), serde_json::to_vec(&v).unwrap(), &[]).await
    }

    /// The session token this client authenticates with (cookie or bearer).
    pub fn token(&self) -> String {
        self.bearer.clone().or_else(|| self.cookies.get("fantooo_session").cloned()).expect("signed in")
    }

    pub async fn api_get(&mut self, path: &str) -> Resp {
        self.send(Method::GET, path, None, vec![], &[("accept", "application/json")]).await
    }
}

pub fn signup_body(username: &str) -> serde_json::Value {
    serde_json::json!({
        "username": username, "location": "Nairobi", "gender": "male", "looking_for": "female",
        "age": 25, "password": PASSWORD, "accept_terms": true,
    })
}

/// Registers through the API and returns a bearer client.
pub async fn api_user(app: &TestApp, username: &str) -> Client {
    let mut c = app.client();
    let r = c.json(Method::POST, "/api/auth/signup", signup_body(username)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    c.bearer = Some(r.json()["token"].as_str().unwrap().to_string());
    c
}

/// Creates an admin of `role` directly in the store and returns a signed-in page client.
pub async fn admin_client(app: &TestApp, email: &str, role: fantooo_domain::AdminRole) -> Client {
    let hash = fantooo_web::auth::hash_password(PASSWORD.into(), true).await.unwrap();
    fantooo_store::admins::create(
        &app.db,
        &fantooo_store::admins::NewAdmin {
            name: format!("Admin {email}"),
            email: email.into(),
            role,
            permissions: fantooo_domain::Permissions::for_role(role),
        },
        &hash,
        None,
        false,
    )
    .await
    .unwrap();
    let mut c = app.client();
    let r = c.post_form("/admin-login", &[("login", email), ("password", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "admin login failed: {}", r.body);
    c.get("/admin").await;
    c
}

pub async fn operator_client(app: &TestApp, email: &str) -> Client {
    let hash = fantooo_web::auth::hash_password(PASSWORD.into(), true).await.unwrap();
    fantooo_store::operators::create(
        &app.db,
        &fantooo_store::operators::NewOperator {
            name: "Op".into(),
            email: email.into(),
            specializations: vec!["flirty".into()],
            languages: vec!["en".into()],
            skill_level: "mid".into(),
            max_concurrent_chats: 5,
        },
        &hash,
        None,
    )
    .await
    .unwrap();
    let mut c = app.client();
    let r = c.post_form("/op-login", &[("login", email), ("password", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "operator login failed: {}", r.body);
    c.get("/operator/waiting").await;
    c
}

/// How many files the app's media directory holds (none when it was never created).
pub fn media_files(app: &TestApp) -> usize {
    std::fs::read_dir(&app.config.media_dir).map(|d| d.filter_map(Result::ok).filter(|e| e.path().is_file()).count()).unwrap_or(0)
}

/// Runs raw SQL on either store (to set up or corrupt state in tests).
pub async fn exec(db: &Db, sql: &str) {
    match db {
        Db::Sqlite(p) => {
            sqlx::query(sql).execute(p).await.unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query(sql).execute(p).await.unwrap();
        }
    }
}
