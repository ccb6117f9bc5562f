//! The stylesheets and scripts compiled into the binary, each gzip'd once
//! and served with an `ETag` (see `platform_web::static_files`), under
//! `/assets/<name>`.

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::LazyLock;

const TEXT_CSS: &str = "text/css; charset=utf-8";
const TEXT_JS: &str = "text/javascript; charset=utf-8";

static FILES: LazyLock<platform_web::static_files::StaticFiles> = LazyLock::new(|| {
    platform_web::static_files::StaticFiles::new(
        "public, max-age=300",
        &[
            ("rooms.css", include_str!("../assets/rooms.css").as_bytes(), TEXT_CSS),
            ("rooms.js", include_str!("../assets/rooms.js").as_bytes(), TEXT_JS),
            ("voice.js", rooms_voice::VOICE_JS.as_bytes(), TEXT_JS),
            ("gifts.css", include_str!("../assets/gifts.css").as_bytes(), TEXT_CSS),
            ("gifts.js", include_str!("../assets/gifts.js").as_bytes(), TEXT_JS),
            ("status.css", include_str!("../assets/status.css").as_bytes(), TEXT_CSS),
            ("status.js", include_str!("../assets/status.js").as_bytes(), TEXT_JS),
        ],
    )
});

/// `GET /assets/{file}` for the files above (the generated ones, themes,
/// gift animations and the back office's stylesheet, have their own routes).
pub async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    FILES.respond(&file, &headers).unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}
