//! URL map: pages, the JSON API, the fake checkout, media and assets, with
//! every cross-cutting layer applied once here.

mod api;
mod common;
mod pages;
mod system;

pub use api::SearchParams;

use crate::middleware;
use crate::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{middleware as mw, Json, Router};
use platform_web::error::ErrorBody;
use platform_web::layers::{csrf, headers, metrics::MetricsPrefix, outer_stack, Outer};
use std::time::Duration;

async fn method_not_allowed() -> Response {
    let body = ErrorBody {
        error: "method_not_allowed".into(),
        message: "This address does not accept that method.".into(),
        fields: vec![],
        required: None,
        available: None,
    };
    let mut resp = (StatusCode::METHOD_NOT_ALLOWED, Json(body.clone())).into_response();
    resp.extensions_mut().insert(body);
    resp
}

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .merge(pages::routes())
        .merge(api::routes())
        .merge(system::routes())
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone())
        .layer(mw::from_fn_with_state(state.clone(), middleware::rate_limit))
        .layer(mw::from_fn(csrf::check))
        .layer(mw::from_fn_with_state(state.clone(), middleware::session))
        .layer(mw::from_fn(middleware::error_pages));
    let outer = Outer {
        headers: headers::SecurityHeaders { csp: headers::content_security_policy(None), hsts: state.config.hsts },
        metrics: MetricsPrefix("gigstream"),
        body_limit: 60 * 1024 * 1024,
        handler_timeout: Duration::from_secs(30),
    };
    outer_stack(routes, outer)
}
