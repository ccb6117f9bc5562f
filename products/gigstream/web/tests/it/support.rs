//! Test harness: a fresh app per test and a small client.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use gigstream_store::{Backend, Db};
use gigstream_web::{AppState, WebConfig};
use http_body_util::BodyExt;
use platform_media::scan::fake::FakeClamd;
use platform_media::ClamdAddr;
use serde_json::Value;
use tower::ServiceExt;

pub use platform_db::testing::backends;

pub const PASSWORD: &str = "Str0ng!pass";

pub struct TestApp {
    pub db: Db,
    pub router: Router,
    pub state: AppState,
    _dir: Option<tempfile::TempDir>,
    pub media: tempfile::TempDir,
    /// The local clamd stand-in when no real daemon is configured.
    _clamd: Option<FakeClamd>,
}

/// The clamd uploads are scanned by: the real one from `CLAMD_ADDR`
/// (scripts/clamd-throwaway), else a local stand-in speaking its protocol
/// (with `REQUIRE_CLAMD=1` a missing daemon is a failure).
pub async fn clamd() -> (ClamdAddr, Option<FakeClamd>) {
    match std::env::var("CLAMD_ADDR") {
        Ok(a) if !a.is_empty() => (ClamdAddr::parse(&a).expect("CLAMD_ADDR"), None),
        _ => {
            assert!(std::env::var("REQUIRE_CLAMD").as_deref() != Ok("1"), "REQUIRE_CLAMD=1 but CLAMD_ADDR is not set");
            let fake = FakeClamd::start().await;
            (ClamdAddr::parse(&fake.url()).expect("fake address"), Some(fake))
        }
    }
}

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        Self::with_config(backend, |_| {}).await
    }

    pub async fn with_config(backend: Backend, tweak: impl FnOnce(&mut WebConfig)) -> TestApp {
        Self::with_mailer(backend, tweak, None).await
    }

    /// An app whose mail goes to `mailer` (default: kept in memory).
    pub async fn with_mailer(
        backend: Backend,
        tweak: impl FnOnce(&mut WebConfig),
        mailer: Option<std::sync::Arc<dyn platform_mail::Mailer>>,
    ) -> TestApp {
        let t = platform_db::testing::fresh_db(backend, gigstream_store::migrations(), "gigstream_template").await;
        let media = tempfile::tempdir().unwrap();
        let cfg = WebConfig {
            fast_password_hashing: true,
            auth_per_minute: 1000,
            api_per_minute: 100_000,
            media_dir: media.path().to_path_buf(),
            ..WebConfig::default()
        };
        let mut cfg = cfg;
        let (addr, fake) = clamd().await;
        cfg.clamd = addr;
        tweak(&mut cfg);
        let mut state = AppState::new(t.db.clone(), cfg);
        if let Some(m) = mailer {
            state.mailer = m;
        }
        // Rows committed from here on are live, not history: a test's
        // first event cannot fall before the tailer has read the heads.
        state.realtime.started().await;
        let router = gigstream_web::app(state.clone());
        TestApp { db: t.db, router, state, _dir: t.dir, media, _clamd: fake }
    }

    /// An app also served on a loopback port, with the fake Stripe and
    /// PayPal it mounts reached over HTTP by the real clients, as in the demo.
    pub async fn served(backend: Backend) -> (TestApp, String) {
        Self::served_with_mailer(backend, None).await
    }

    /// [`TestApp::served`], its mail going to `mailer`.
    pub async fn served_with_mailer(backend: Backend, mailer: Option<std::sync::Arc<dyn platform_mail::Mailer>>) -> (TestApp, String) {
        Self::served_with(backend, mailer, |_| {}).await
    }

    /// [`TestApp::served_with_mailer`], its configuration changed by `tweak`.
    pub async fn served_with(
        backend: Backend,
        mailer: Option<std::sync::Arc<dyn platform_mail::Mailer>>,
        tweak: impl FnOnce(&mut WebConfig),
    ) -> (TestApp, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let self_url = base.clone();
        let app = Self::with_mailer(
            backend,
            move |c| {
                c.payments = gigstream_web::payments::PaymentsConfig {
                    mode: gigstream_web::payments::PaymentsMode::Fake { self_url },
                    public_url: None,
                };
                tweak(c);
            },
            mailer,
        )
        .await;
        let router = app.router.clone();
        tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
        });
        (app, base)
    }

    /// The buyer pays a Stripe checkout on the fake's page; returns the
    /// webhook statuses it saw.
    pub async fn pay_stripe(&self, checkout_url: &str) -> Vec<u16> {
        let session = checkout_url.rsplit('/').next().unwrap();
        assert!(session.starts_with("cs_test_"), "{checkout_url}");
        self.fakes().stripe.pay(session).await
    }

    /// `buyer` places a basic order of `gig`, to pay by `method`; returns
    /// the order's id and its checkout link.
    pub async fn place(&self, buyer: &str, gig: &str, method: &str) -> (String, String) {
        let body = serde_json::json!({ "gig_id": gig, "tier": "basic", "method": method });
        let (s, v) = self.call(Method::POST, "/api/v1/orders", Some(buyer), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        (v["order"]["id"].as_str().unwrap().to_string(), v["checkout_url"].as_str().unwrap().to_string())
    }

    /// `buyer` places a basic order of `gig` and pays it on the fake Stripe
    /// (the app must be [`TestApp::served`]); returns the order's id.
    pub async fn paid_order(&self, buyer: &str, gig: &str) -> String {
        let (order, checkout) = self.place(buyer, gig, "stripe").await;
        assert_eq!(self.pay_stripe(&checkout).await, [200, 200]);
        order
    }

    pub fn fakes(&self) -> &gigstream_web::payments::Fakes {
        self.state.payments.fakes.as_ref().expect("fake payments")
    }

    /// An admin's bearer token.
    pub async fn admin(&self, username: &str) -> String {
        let hash = gigstream_web::auth::hash_password(PASSWORD.into(), true).await.unwrap();
        let email = format!("{username}@example.test");
        let new =
            gigstream_store::accounts::NewAccount { email: &email, username, display_name: username, password_hash: &hash, is_admin: true };
        gigstream_store::accounts::create(&self.db, &new, chrono::Utc::now()).await.unwrap();
        let (s, v) =
            self.call(Method::POST, "/api/v1/login", None, Some(serde_json::json!({ "login": username, "password": PASSWORD }))).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["token"].as_str().unwrap().to_string()
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path).header(header::ACCEPT, "application/json");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())).unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, v)
    }

    pub async fn raw(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8_lossy(&bytes).into())
    }

    /// Signs up through the API; returns the bearer token.
    pub async fn sign_up(&self, username: &str) -> String {
        let body = serde_json::json!({ "email": format!("{username}@example.test"), "username": username, "display_name": username, "password": PASSWORD });
        let (s, v) = self.call(Method::POST, "/api/v1/signup", None, Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["token"].as_str().unwrap().to_string()
    }
}
