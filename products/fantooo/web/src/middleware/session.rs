//! Resolves the client address and the session (cookie or bearer token) of
//! every request, and hands the CSRF token to forms.

use crate::auth::{ClientIp, CsrfToken, Session, CSRF_COOKIE, SESSION_COOKIE};
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use fantooo_domain::ids::AccountId;
use fantooo_domain::AccountKind;
use fantooo_store::accounts::SESSIONS;
use platform_web::request::{bearer, client_ip, cookie, set_cookie, ProxyTrust, SessionVia};

pub async fn load(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // Behind a proxy, the address it saw is the last `X-Forwarded-For` entry.
    let trust = if state.config.trust_proxy { ProxyTrust::Hops(1) } else { ProxyTrust::None };
    let ip = client_ip(&req, trust);
    req.extensions_mut().insert(ClientIp(ip));

    let now = Utc::now();
    let (token, via_cookie) = match bearer(req.headers()) {
        Some(t) => (Some(t.to_string()), false),
        None => (cookie(req.headers(), SESSION_COOKIE).map(str::to_string), true),
    };
    let mut session = None;
    if let Some(token) = token {
        match SESSIONS.live::<AccountId, AccountKind>(&state.db, &token, now).await {
            Ok(Some(rec)) => {
                // Refresh last_seen at most once a minute per session.
                if now - rec.last_seen_at > chrono::Duration::seconds(60) {
                    let _ = SESSIONS.touch(&state.db, &token, now).await;
                }
                session = Some(Session { token, account_id: rec.account_id, kind: rec.kind, via_cookie, csrf_token: rec.csrf_token });
            }
            Ok(None) => {}
            // Going on as signed out would answer 401 and make clients drop
            // a valid session over a database hiccup.
            Err(e) => {
                tracing::warn!(error = %e, "session lookup failed");
                return crate::AppError::from(e).into_response();
            }
        }
    }

    // Forms carry the session's token when signed in, else a double-submit
    // token kept in its own cookie (issued here on first visit).
    let mut new_csrf_cookie = None;
    let csrf = match &session {
        Some(s) if s.via_cookie => s.csrf_token.clone(),
        _ => match cookie(req.headers(), CSRF_COOKIE).filter(|v| v.len() == 64) {
            Some(v) => v.to_string(),
            None => {
                let v = platform_accounts::random_token();
                new_csrf_cookie = Some(v.clone());
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
    if let Some(v) = new_csrf_cookie {
        let c = set_cookie(CSRF_COOKIE, &v, "Strict", None, state.config.secure_cookies);
        if let Ok(h) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, h);
        }
    }
    resp
}

/// `Set-Cookie` value for a new session cookie.
pub fn session_cookie(token: &str, max_age_secs: u64, secure: bool) -> String {
    set_cookie(SESSION_COOKIE, token, "Lax", Some(max_age_secs), secure)
}

pub fn clear_session_cookie(secure: bool) -> String {
    set_cookie(SESSION_COOKIE, "", "Lax", Some(0), secure)
}
