//! Health and metrics endpoints, the same in every product.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use metrics_exporter_prometheus::PrometheusHandle;
use platform_db::Db;

/// `/api/health`: 200 with the database's latency, or 503 while the
/// database is unreachable (load balancers take the node out).
pub async fn health(db: &Db, version: &'static str) -> Response {
    let started = std::time::Instant::now();
    match db.ping().await {
        Ok(()) => Json(serde_json::json!({
            "status": "ok",
            "database": { "status": "ok", "backend": format!("{:?}", db.backend()).to_lowercase(), "latency_ms": started.elapsed().as_secs_f64() * 1000.0 },
            "version": version,
        }))
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"status": "error", "database": {"status": "unreachable"}})))
                .into_response()
        }
    }
}

/// `/metrics` in Prometheus' text format (404 when metrics are off).
pub fn metrics(handle: Option<&PrometheusHandle>) -> Response {
    match handle {
        Some(h) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], h.render()).into_response(),
        None => (StatusCode::NOT_FOUND, "metrics disabled").into_response(),
    }
}

/// `/metrics` for a scraper holding `token` (`Authorization: Bearer …`,
/// compared in constant time): 404 when no token is configured, 401 with a
/// missing or wrong one.
pub fn metrics_behind_token(token: Option<&str>, headers: &axum::http::HeaderMap, handle: Option<&PrometheusHandle>) -> Response {
    use subtle::ConstantTimeEq;
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return (StatusCode::NOT_FOUND, "metrics disabled").into_response();
    };
    let given = crate::request::bearer(headers).unwrap_or("");
    if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
        return (StatusCode::UNAUTHORIZED, "a metrics token is required").into_response();
    }
    metrics(handle)
}
