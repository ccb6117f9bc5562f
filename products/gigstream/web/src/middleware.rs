//! GigStream's own request layers: its side of the platform's session
//! layer (`platform_web::session`: its sessions and cookies, the
//! [`Session`] a request carries), rate limits for sign-in and the API, and
//! its error pages (`platform_web::error_pages`). The product-independent
//! layers come from `platform_web::layers`.

use crate::auth::{Session, CSRF_COOKIE, SESSION_COOKIE};
use crate::templates::ErrorPage;
use crate::{AppError, AppState, WebConfig};
use askama::Template;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gigstream_domain::ids::AccountId;
use gigstream_store::accounts::{self, Kind};
use platform_web::error_pages::{self, ErrorPages};
use platform_web::ratelimit::Limit;
use platform_web::request::{set_cookie, ClientIp, ProxyTrust, SessionVia};
use platform_web::session::{Cookies, Sessions, SignIn};

/// Sign-in/sign-up attempts and API calls per minute.
pub struct Limits {
    pub auth: Limit,
    pub api: Limit,
    /// Messages per account.
    pub messages: Limit,
}

impl Limits {
    pub fn new(cfg: &WebConfig) -> Self {
        Limits {
            auth: Limit::per_minute(cfg.auth_per_minute),
            api: Limit::per_minute(cfg.api_per_minute),
            messages: Limit::per_minute(cfg.message_per_minute),
        }
    }

    /// Counts one sign-in or sign-up attempt by address and by login name.
    pub fn check_auth(&self, ip: &str, login: &str) -> Result<(), AppError> {
        self.auth.check(format!("ip:{ip}"))?;
        self.auth.check(format!("login:{}", login.trim().to_lowercase()))
    }

    /// Counts one message sent by `account`.
    pub fn check_message(&self, account: AccountId) -> Result<(), AppError> {
        self.messages.check(format!("msg:{account}"))
    }

    pub fn prune(&self) {
        self.auth.prune();
        self.api.prune();
        self.messages.prune();
    }
}

impl SignIn for AppState {
    type Id = AccountId;
    type Kind = Kind;
    type Signed = Session;

    fn sessions(&self) -> Sessions<'_> {
        let trust = ProxyTrust::one_if(self.config.trust_proxy);
        Sessions {
            db: &self.db,
            store: accounts::sessions(),
            cookies: Cookies { session: SESSION_COOKIE, csrf: CSRF_COOKIE, secure: self.config.secure_cookies, trust },
        }
    }

    fn signed(&self, token: String, via: SessionVia, s: platform_accounts::Session<AccountId, Kind>) -> Session {
        Session { token, account_id: s.account_id, via_cookie: via == SessionVia::Cookie, csrf_token: s.csrf_token }
    }
}

/// API calls count against a per-address budget.
pub async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/api/v1/") && req.method() != Method::OPTIONS {
        let ip = req.extensions().get::<ClientIp>().map(|c| c.0.clone()).unwrap_or_default();
        if let Err(e) = state.limits.api.check(format!("api:{ip}")) {
            return e.into_response();
        }
    }
    next.run(req).await
}

/// `Set-Cookie` for a new session cookie, and for clearing it.
pub fn session_cookie(token: &str, secure: bool) -> String {
    set_cookie(SESSION_COOKIE, token, "Lax", Some((crate::auth::SESSION_DAYS * 86_400) as u64), secure)
}

pub fn clear_session_cookie(secure: bool) -> String {
    set_cookie(SESSION_COOKIE, "", "Lax", Some(0), secure)
}

/// GigStream's error pages (`platform_web::error_pages::render`).
#[derive(Clone, Copy)]
pub struct Pages;

impl ErrorPages for Pages {
    fn render(&self, p: &error_pages::ErrorPage<'_>) -> String {
        ErrorPage { page: p }.render().unwrap_or_else(|_| p.message.to_string())
    }

    fn sign_in(&self, _path: &str) -> &'static str {
        "/login"
    }

    fn json_path(&self, path: &str) -> bool {
        path.starts_with("/api/")
    }
}
