//! URL map: pages, the JSON API, the fake checkout, media and assets, with
//! every cross-cutting layer applied once here.

mod api;
mod common;
mod messages;
mod pages;
mod reviews;
mod system;
mod videos;

pub use api::SearchParams;
pub use videos::resume as resume_videos;

use crate::middleware;
use crate::AppState;
use axum::{middleware as mw, Router};
use platform_web::layers::{csrf, headers, metrics::MetricsPrefix, outer_stack, Outer};
use std::time::Duration;

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .merge(pages::routes())
        .merge(api::routes())
        .merge(system::routes())
        .merge(messages::routes())
        .merge(reviews::routes())
        .merge(videos::routes())
        .method_not_allowed_fallback(platform_web::error::method_not_allowed)
        .with_state(state.clone())
        .layer(mw::from_fn_with_state(state.clone(), middleware::rate_limit))
        .layer(mw::from_fn(csrf::check))
        .layer(mw::from_fn_with_state(state.clone(), platform_web::session::load::<AppState>))
        .layer(mw::from_fn_with_state(middleware::Pages, platform_web::error_pages::render::<middleware::Pages>));
    let outer = Outer {
        headers: headers::SecurityHeaders { csp: headers::content_security_policy(None), hsts: state.config.hsts },
        metrics: MetricsPrefix("gigstream"),
        body_limit: 60 * 1024 * 1024,
        handler_timeout: Duration::from_secs(30),
    };
    outer_stack(routes, outer)
}
