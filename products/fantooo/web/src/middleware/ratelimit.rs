//! Rate limits per client address and per account: sign-in and sign-up
//! endpoints (default 5/min) and the JSON API (default 100/min). Refusals are
//! 429 with `Retry-After`.

use crate::auth::{ClientIp, Session};
use crate::config::WebConfig;
use crate::error::AppError;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use platform_web::ratelimit::Limit;
use std::sync::Arc;

/// Fantooo's limits, each keyed per address and per account.
pub struct Limiters {
    auth: Limit,
    api: Limit,
    messages: Limit,
}

impl Limiters {
    pub fn new(cfg: &WebConfig) -> Self {
        Limiters {
            auth: Limit::per_minute(cfg.auth_per_minute),
            api: Limit::per_minute(cfg.api_per_minute),
            messages: Limit::per_minute(cfg.messages_per_minute),
        }
    }

    /// Counts one sign-in or sign-up attempt for a submitted login name.
    pub fn check_auth_account(&self, login: &str) -> Result<(), AppError> {
        self.auth.check(format!("acct:{}", login.trim().to_lowercase()))
    }

    /// Counts one chat message sent by an account (default 60 per minute).
    pub fn check_message(&self, account: &str) -> Result<(), AppError> {
        self.messages.check(account)
    }

    /// Forgets idle keys so memory stays bounded; run periodically.
    pub fn prune(&self) {
        self.auth.prune();
        self.api.prune();
        self.messages.prune();
    }
}

/// Paths whose POSTs are sign-in/sign-up attempts.
fn is_auth_path(path: &str) -> bool {
    matches!(
        path,
        "/login"
            | "/op-login"
            | "/admin-login"
            | "/setup"
            | "/get-started"
            | "/api/auth/login"
            | "/api/auth/signup"
            | "/api/setup"
            | "/forgot-password"
            | "/api/auth/forgot-password"
            | "/reset-password"
            | "/api/auth/reset-password"
    )
}

pub async fn limit(State(state): State<crate::AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let ip = req.extensions().get::<ClientIp>().map(|c| c.0.clone()).unwrap_or_default();
    let limits = &state.limits;
    let result = if req.method() == Method::POST && is_auth_path(path) {
        limits.auth.check(format!("ip:{ip}"))
    } else if path.starts_with("/api/") && !path.starts_with("/api/health") && !path.starts_with("/api/webhooks/") {
        let by_ip = limits.api.check(format!("ip:{ip}"));
        match (by_ip, req.extensions().get::<Session>()) {
            (Ok(()), Some(s)) => limits.api.check(format!("acct:{}", s.account_id)),
            (r, _) => r,
        }
    } else {
        Ok(())
    };
    match result {
        Ok(()) => next.run(req).await,
        Err(e) => {
            metrics::counter!("fantooo_rate_limited_total").increment(1);
            e.into_response()
        }
    }
}

/// Periodically prunes limiter state.
pub fn spawn_pruner(limits: Arc<Limiters>) {
    platform_web::ratelimit::spawn_pruner(vec![Arc::new(move || limits.prune())]);
}
