//! Health, metrics, static assets and generated media.

use crate::{assets, AppState};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/admin/check", get(check))
        .route("/metrics", get(metrics))
        .route("/assets/{file}", get(asset))
        .route("/media/generated/{file}", get(generated))
}

/// The invariant check, for admins who can read analytics (200 when clean,
/// 409 with the violations otherwise).
async fn check(State(state): State<AppState>, me: crate::auth::CurrentAdmin) -> crate::AppResult<Response> {
    me.require(fantooo_domain::Permission::ViewAnalytics)?;
    let report = fantooo_store::invariants::check(&state.db).await?;
    let status = if report.is_clean() { StatusCode::OK } else { StatusCode::CONFLICT };
    Ok((status, Json(report)).into_response())
}

async fn health(State(state): State<AppState>) -> Response {
    let started = std::time::Instant::now();
    match state.db.ping().await {
        Ok(()) => Json(serde_json::json!({
            "status": "ok",
            "database": { "status": "ok", "backend": format!("{:?}", state.db.backend()).to_lowercase(), "latency_ms": started.elapsed().as_secs_f64() * 1000.0 },
            "version": env!("CARGO_PKG_VERSION"),
        })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"status": "error", "database": {"status": "unreachable"}}))).into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(h) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], h.render()).into_response(),
        None => (StatusCode::NOT_FOUND, "metrics disabled").into_response(),
    }
}

async fn asset(Path(file): Path<String>) -> Response {
    match assets::get(&file) {
        Some((body, mime)) => ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "public, max-age=300")], body).into_response(),
        None => crate::AppError::NotFound.into_response(),
    }
}

async fn generated(Path(file): Path<String>) -> Response {
    let Some(seed) = file.strip_suffix(".svg") else { return crate::AppError::NotFound.into_response() };
    if seed.is_empty() || seed.len() > 80 || !seed.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return crate::AppError::NotFound.into_response();
    }
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400, immutable")], assets::portrait_svg(seed))
        .into_response()
}
