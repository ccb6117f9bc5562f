//! Uploaded room logos and avatars through platform-media: the type is
//! judged from the bytes (PNG, JPEG or WEBP; SVG and everything else
//! refused), at most 2 MB, square; stored under a server-chosen name.

use crate::error::WebResult;
use crate::AppState;
use platform_media::{MediaKey, MediaRules, MediaType, PixelLimits};

/// A room logo (2.1) or avatar: square PNG, JPEG or WEBP of at most 2 MB.
pub fn rules(field: &'static str, label: &'static str) -> MediaRules {
    MediaRules {
        field,
        label,
        accept: &[MediaType::Png, MediaType::Jpeg, MediaType::Webp],
        max_bytes: 2 * 1024 * 1024,
        pixels: Some(PixelLimits { min_side: 64, max_side: 4096 }),
    }
}

/// Checks and stores a square picture; returns the URL it is served at.
pub async fn store_square(state: &AppState, bytes: Vec<u8>, declared: Option<&str>, rules: &MediaRules) -> WebResult<String> {
    let checked = platform_media::check(&bytes, declared, rules)?;
    if let Some((w, h)) = checked.dimensions {
        if w != h {
            return Err(platform_kernel::FieldError::new(rules.field, format!("{} must be square", rules.label)).into());
        }
    }
    let prefix = if rules.field == "logo" { "logos" } else { "avatars" };
    let key = MediaKey::unique_under(prefix, checked.media_type).map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    state.media.put(&key, bytes, checked.mime()).await.map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    Ok(state.media.url(&key))
}
