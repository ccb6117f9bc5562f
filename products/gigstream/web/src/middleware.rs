//! GigStream's own request layers: the session loader (cookie or bearer,
//! and the CSRF token for forms), rate limits for sign-in and the API, and
//! error pages for browsers. The product-independent layers come from
//! `platform_web::layers`.

use crate::auth::{Session, CSRF_COOKIE, SESSION_COOKIE};
use crate::templates::ErrorPage;
use crate::{AppError, AppState, WebConfig};
use askama::Template;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use gigstream_domain::ids::AccountId;
use gigstream_store::accounts::{self, Kind};
use platform_web::error::ErrorBody;
use platform_web::ratelimit::Limit;
use platform_web::request::{bearer, client_ip, cookie, set_cookie, ClientIp, CsrfToken, ProxyTrust, SessionVia};

/// Sign-in/sign-up attempts and API calls per minute.
pub struct Limits {
    pub auth: Limit,
    pub api: Limit,
}

impl Limits {
    pub fn new(cfg: &WebConfig) -> Self {
        Limits { auth: Limit::per_minute(cfg.auth_per_minute), api: Limit::per_minute(cfg.api_per_minute) }
    }

    /// Counts one sign-in or sign-up attempt by address and by login name.
    pub fn check_auth(&self, ip: &str, login: &str) -> Result<(), AppError> {
        self.auth.check(format!("ip:{ip}"))?;
        self.auth.check(format!("login:{}", login.trim().to_lowercase()))
    }

    pub fn prune(&self) {
        self.auth.prune();
        self.api.prune();
    }
}

/// Resolves the client address and the session, and hands forms their CSRF token.
pub async fn session(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let trust = if state.config.trust_proxy { ProxyTrust::Hops(1) } else { ProxyTrust::None };
    let ip = client_ip(&req, trust);
    req.extensions_mut().insert(ClientIp(ip));
    let now = Utc::now();
    let (token, via_cookie) = match bearer(req.headers()) {
        Some(t) => (Some(t.to_string()), false),
        None => (cookie(req.headers(), SESSION_COOKIE).map(str::to_string), true),
    };
    let mut session = None;
    if let Some(token) = token.filter(|t| !t.is_empty()) {
        let store = accounts::sessions();
        match store.live::<AccountId, Kind>(&state.db, &token, now).await {
            Ok(Some(s)) => {
                if now - s.last_seen_at > chrono::Duration::seconds(60) {
                    let _ = store.touch(&state.db, &token, now).await;
                }
                session = Some(Session { token, account_id: s.account_id, via_cookie, csrf_token: s.csrf_token });
            }
            Ok(None) => {}
            Err(e) => return AppError::from(e).into_response(),
        }
    }
    let mut new_csrf = None;
    let csrf = match &session {
        Some(s) if s.via_cookie => s.csrf_token.clone(),
        _ => match cookie(req.headers(), CSRF_COOKIE).filter(|v| v.len() == 64) {
            Some(v) => v.to_string(),
            None => {
                let v = platform_accounts::random_token();
                new_csrf = Some(v.clone());
                v
            }
        },
    };
    req.extensions_mut().insert(CsrfToken(csrf));
    if let Some(s) = session {
        req.extensions_mut().insert(if s.via_cookie { SessionVia::Cookie } else { SessionVia::Bearer });
        req.extensions_mut().insert(s);
    }
    let mut resp = next.run(req).await;
    if let Some(v) = new_csrf {
        if let Ok(h) = HeaderValue::from_str(&set_cookie(CSRF_COOKIE, &v, "Strict", None, state.config.secure_cookies)) {
            resp.headers_mut().append(header::SET_COOKIE, h);
        }
    }
    resp
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

/// Browsers get errors as pages (and a sign-in redirect for 401); `/api`
/// keeps the JSON body.
pub async fn error_pages(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let wants_json = path.starts_with("/api/")
        || req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.starts_with("application/json"));
    let resp = next.run(req).await;
    if wants_json {
        return resp;
    }
    let Some(body) = resp.extensions().get::<ErrorBody>().cloned() else {
        if resp.status() == StatusCode::NOT_FOUND && resp.headers().get(header::CONTENT_TYPE).is_none() {
            return page(StatusCode::NOT_FOUND, "Page not found", "We couldn't find that page.");
        }
        return resp;
    };
    let status = resp.status();
    if status == StatusCode::UNAUTHORIZED && body.error == "unauthenticated" {
        let next = serde_urlencoded::to_string([("next", path.as_str())]).unwrap_or_default();
        return Redirect::to(&format!("/login?{next}")).into_response();
    }
    let title = match status {
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::CONFLICT => "That can't be done now",
        StatusCode::TOO_MANY_REQUESTS => "Slow down",
        s if s.is_server_error() => "Something went wrong",
        _ => "Please check your input",
    };
    let mut message = body.message.clone();
    if body.fields.len() > 1 {
        message = body.fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join(" · ");
    }
    let mut out = page(status, title, &message);
    if let Some(r) = resp.headers().get(header::RETRY_AFTER) {
        out.headers_mut().insert(header::RETRY_AFTER, r.clone());
    }
    out
}

fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let html = ErrorPage { title, message, status: status.as_u16() }.render().unwrap_or_else(|_| message.to_string());
    (status, Html(html)).into_response()
}
