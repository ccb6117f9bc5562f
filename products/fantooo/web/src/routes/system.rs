//! Health, metrics, static assets and generated media.

use crate::{assets, AppState};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use subtle::ConstantTimeEq;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/admin/check", get(check))
        .route("/metrics", get(metrics))
        .route("/assets/{file}", get(asset))
        // Browsers and crawlers ask for it by this name whatever the page says.
        .route("/favicon.ico", get(|headers: HeaderMap| asset(Path("favicon.svg".to_string()), headers)))
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
    platform_web::system::health(&state.db, env!("CARGO_PKG_VERSION")).await
}

/// Prometheus metrics, for a scraper holding the configured bearer token
/// (401 without it); without a configured token there is nothing here (404).
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = state.config.metrics_token.as_deref().filter(|t| !t.is_empty()) else {
        return crate::AppError::NotFound.into_response();
    };
    let given = platform_web::request::bearer(&headers).unwrap_or("");
    if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
        return crate::AppError::Unauthenticated.into_response();
    }
    platform_web::system::metrics(state.metrics.as_ref())
}

async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    assets::FILES.respond(&file, &headers).unwrap_or_else(|| crate::AppError::NotFound.into_response())
}

async fn generated(Path(file): Path<String>) -> Response {
    let Some(seed) = file.strip_suffix(".svg") else { return crate::AppError::NotFound.into_response() };
    if seed.is_empty() || seed.len() > 80 || !seed.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return crate::AppError::NotFound.into_response();
    }
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400, immutable")], assets::portrait_svg(seed))
        .into_response()
}
