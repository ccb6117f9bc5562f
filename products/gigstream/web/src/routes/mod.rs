//! URL map: pages, the JSON API, the fake checkout, media and assets, with
//! every cross-cutting layer applied once here.

mod account;
mod api;
mod backoffice;
mod common;
mod dashboard;
mod messages;
mod money;
mod notifications;
mod pages;
mod reviews;
mod system;
mod videos;

pub use api::SearchParams;
pub use common::{FormIn, JsonIn};
pub use videos::resume as resume_videos;

use crate::middleware;
use crate::AppState;
use axum::{middleware as mw, Router};
use platform_web::layers::{csrf, headers, metrics::MetricsPrefix, outer_stack, Outer};
use std::time::Duration;

pub fn router(state: AppState) -> Router {
    // The fake providers stand for separate services: mounted beside the
    // app's own layers (no session, CSRF or rate limits).
    let fakes = state.payments.fakes.clone();
    let app = app_router(state);
    match fakes {
        Some(f) => {
            app.nest(crate::payments::FAKE_STRIPE_PREFIX, f.stripe.router()).nest(crate::payments::FAKE_PAYPAL_PREFIX, f.paypal.router())
        }
        None => app,
    }
}

fn app_router(state: AppState) -> Router {
    let routes = Router::new()
        .merge(pages::routes())
        .merge(api::routes())
        .merge(system::routes())
        .merge(messages::routes())
        .merge(reviews::routes())
        .merge(videos::routes())
        .merge(money::routes())
        .merge(crate::invoices::routes())
        .merge(crate::google::routes())
        .merge(backoffice::routes())
        .merge(account::routes())
        .merge(notifications::routes())
        .merge(dashboard::routes())
        .method_not_allowed_fallback(platform_web::error::method_not_allowed)
        .with_state(state.clone())
        .layer(mw::from_fn_with_state(state.config.errors.clone(), crate::reporting::report))
        .layer(mw::from_fn_with_state(state.clone(), middleware::rate_limit))
        .layer(mw::from_fn(csrf::check))
        .layer(mw::from_fn_with_state(state.clone(), platform_web::session::load::<AppState>))
        .layer(mw::from_fn_with_state(middleware::Pages, platform_web::error_pages::render::<middleware::Pages>));
    let routes = routes.layer(mw::from_fn_with_state(state.clone(), crate::secure::https_redirect));
    let outer = Outer {
        headers: headers::SecurityHeaders { csp: csp(&state.payments.checkout_origins()), hsts: state.config.hsts },
        metrics: MetricsPrefix("gigstream"),
        body_limit: 60 * 1024 * 1024,
        handler_timeout: Duration::from_secs(30),
    };
    outer_stack(routes, outer)
}

/// The platform's policy with every provider's hosted checkout allowed as
/// a form target (the buyer is redirected there after a form post).
fn csp(origins: &[String]) -> axum::http::HeaderValue {
    let origins: Vec<&str> = origins.iter().map(String::as_str).collect();
    headers::policy_with(&origins, &[])
}
