//! Rooms' back office.

use crate::AppState;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> Router<AppState> {
    Router::new()
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
