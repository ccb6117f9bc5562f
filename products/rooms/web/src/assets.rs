//! The stylesheets and scripts compiled into the binary, each gzip'd once
//! and served with an `ETag` (see `platform_web::static_files`), under
//! `/assets/<name>`.

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use platform_web::static_files::{StaticFiles, CSS, JS};
use std::sync::LazyLock;

static FILES: LazyLock<StaticFiles> = LazyLock::new(|| {
    StaticFiles::new(
        "public, max-age=300",
        &[
            ("rooms.css", include_str!("../assets/rooms.css").as_bytes(), CSS),
            ("rooms.js", include_str!("../assets/rooms.js").as_bytes(), JS),
            ("voice.js", rooms_voice::VOICE_JS.as_bytes(), JS),
            ("gifts.css", include_str!("../assets/gifts.css").as_bytes(), CSS),
            ("gifts.js", include_str!("../assets/gifts.js").as_bytes(), JS),
            ("status.css", include_str!("../assets/status.css").as_bytes(), CSS),
            ("status.js", include_str!("../assets/status.js").as_bytes(), JS),
        ],
    )
});

/// `GET /assets/{file}` for the files above (the generated ones, themes,
/// gift animations and the back office's stylesheet, have their own routes).
pub async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    FILES.respond(&file, &headers).unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}
