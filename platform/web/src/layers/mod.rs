//! The layers every product's router passes through, and [`outer_stack`],
//! which applies the product-independent ones in the right order.

pub mod csrf;
pub mod headers;
pub mod metrics;

use axum::extract::DefaultBodyLimit;
use axum::http::HeaderName;
use axum::{middleware as mw, Router};
use std::time::Duration;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Settings of the outer layers.
#[derive(Clone)]
pub struct Outer {
    pub headers: headers::SecurityHeaders,
    pub metrics: metrics::MetricsPrefix,
    /// Bodies above this are refused with 413.
    pub body_limit: usize,
    /// Handlers running longer are answered 408.
    pub handler_timeout: Duration,
}

/// Wraps a product's router (with its own session, CSRF, rate-limit and
/// error-page layers already applied) in, from the inside out: metrics,
/// security headers, the body limit, the handler timeout, and request ids
/// with a tracing span per request carrying the id.
pub fn outer_stack(router: Router, outer: Outer) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    router
        .layer(mw::from_fn_with_state(outer.metrics, metrics::track))
        .layer(mw::from_fn_with_state(outer.headers, headers::security))
        .layer(DefaultBodyLimit::max(outer.body_limit))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, outer.handler_timeout))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}
