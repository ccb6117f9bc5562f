//! Health, static assets and stored media (gallery pictures for everyone,
//! delivered files for the order's parties only).

use crate::auth::MaybeUser;
use crate::{assets, AppError, AppResult, AppState};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use gigstream_store::{gigs, messages, orders, videos};
use platform_media::MediaKey;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/health", get(health))
        .route("/metrics", get(metrics))
        .route("/assets/{file}", get(asset))
        .route("/media/{*key}", get(media))
}

async fn health(State(state): State<AppState>) -> Response {
    platform_web::system::health(&state.db, env!("CARGO_PKG_VERSION")).await
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    platform_web::system::metrics_behind_token(state.config.metrics_token.as_deref(), &headers, state.metrics.as_ref())
}

async fn asset(Path(file): Path<String>, headers: HeaderMap) -> AppResult<Response> {
    assets::FILES.respond(&file, &headers).ok_or(AppError::NotFound)
}

async fn media(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let key = MediaKey::parse(&key).map_err(|_| AppError::NotFound)?;
    let allowed = if key.as_str().starts_with("gigs/") {
        gigs::image_is_public(&state.db, key.as_str()).await?
    } else if key.as_str().starts_with("videos/") {
        videos::is_public(&state.db, key.as_str()).await?
    } else if key.as_str().starts_with("messages/") {
        match &user {
            Some(u) => messages::attachment_visible(&state.db, key.as_str(), u.account.id).await?,
            None => false,
        }
    } else if let Some(u) = &user {
        orders::delivered_file_visible(&state.db, key.as_str(), u.account.id).await?
    } else {
        false
    };
    if !allowed {
        return Err(AppError::NotFound);
    }
    let stored = state.media.get(&key).await.map_err(|e| AppError::Internal(e.to_string()))?.ok_or(AppError::NotFound)?;
    let disposition = if key.as_str().starts_with("deliveries/") { "attachment" } else { "inline" };
    Ok(platform_web::range::respond(
        &headers,
        stored.bytes,
        &stored.content_type,
        &[(header::CONTENT_DISPOSITION, disposition.to_string())],
    ))
}
