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
