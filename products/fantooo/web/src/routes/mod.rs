//! URL map. Public pages, the hidden staff sign-in pages, the back office,
//! and the JSON API, with every cross-cutting layer applied once here.

mod account;
pub mod admin;
mod admin_payments;
pub(crate) mod api;
mod chat;
mod discover;
mod legal;
mod operator;
mod payments;
mod preferences;
mod public;
mod recovery;
mod safety;
mod system;

use crate::middleware::{csrf, errors, ratelimit};
use crate::AppState;
use axum::routing::{get, post};
use axum::{middleware as mw, Router};
use platform_web::layers::{headers::SecurityHeaders, metrics::MetricsPrefix, outer_stack, Outer};
use std::time::Duration;

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
    let routes = Router::new()
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
        .merge(legal::routes())
        .merge(account::routes())
        .merge(recovery::routes())
        .merge(safety::routes())
        .merge(preferences::routes())
        .merge(system::routes())
        .method_not_allowed_fallback(platform_web::error::method_not_allowed)
        .with_state(state.clone())
        // innermost first: rate limit → CSRF → session → errors, then the
        // platform's outer stack (metrics → headers → limits → request ids)
        .layer(mw::from_fn_with_state(state.clone(), ratelimit::limit))
        .layer(mw::from_fn(csrf::check))
        .layer(mw::from_fn_with_state(state.clone(), platform_web::session::load::<AppState>))
        .layer(mw::from_fn_with_state(errors::Pages, platform_web::error_pages::render::<errors::Pages>));
    let outer = Outer {
        headers: SecurityHeaders { csp: state.csp.clone(), hsts: state.config.hsts },
        metrics: MetricsPrefix("fantooo"),
        body_limit: 12 * 1024 * 1024,
        handler_timeout: Duration::from_secs(30),
    };
    outer_stack(routes, outer)
}
