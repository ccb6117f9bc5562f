//! URL map. Public pages, the hidden staff sign-in pages, the back office,
//! and the JSON API, with every cross-cutting layer applied once here.

pub mod admin;
mod admin_payments;
pub(crate) mod api;
mod chat;
mod discover;
mod operator;
mod payments;
mod public;
mod system;

use crate::middleware::{csrf, errors, headers, metrics, ratelimit, session};
use crate::AppState;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderName;
use axum::routing::{get, post};
use axum::{middleware as mw, Router};
use std::time::Duration;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Where the built-in fake Paystack is mounted in fake payments mode.
pub const FAKE_PAYSTACK_PREFIX: &str = "/fake-paystack";

pub fn router(state: AppState) -> Router {
    // The fake Paystack stands for a separate service: it is mounted beside
    // the app's own layers (no session, CSRF or rate limits), as the real
    // provider's pages would be.
    let fake = state.fake_paystack.clone();
    let app = app_router(state);
    match fake {
        Some(fake) => app.nest(FAKE_PAYSTACK_PREFIX, fake.router()),
        None => app,
    }
}

fn app_router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        // public
        .route("/", get(public::landing))
        .route("/get-started", get(public::get_started).post(public::get_started_submit))
        .route("/login", get(public::user_login).post(public::user_login_submit))
        .route("/logout", post(public::logout))
        .route("/me", get(public::me).post(public::me_submit))
        // staff sign-in, reachable by direct URL only
        .route("/admin-login", get(admin::login).post(admin::login_submit))
        .route("/setup", get(admin::setup).post(admin::setup_submit))
        .merge(admin::routes())
        .merge(admin_payments::routes())
        .merge(chat::routes())
        .merge(operator::routes())
        .merge(api::routes())
        .merge(payments::routes())
        .merge(discover::routes())
        .merge(system::routes())
        .with_state(state.clone())
        // innermost first: rate limit → CSRF → session → errors → metrics → headers
        .layer(mw::from_fn_with_state(state.clone(), ratelimit::limit))
        .layer(mw::from_fn(csrf::check))
        .layer(mw::from_fn_with_state(state.clone(), session::load))
        .layer(mw::from_fn(errors::render_html))
        .layer(mw::from_fn(metrics::track))
        .layer(mw::from_fn_with_state(state, headers::security))
        .layer(DefaultBodyLimit::max(12 * 1024 * 1024))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}
