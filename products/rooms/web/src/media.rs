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

/// The type (from the bytes), size and squareness of an upload.
pub fn check_square(bytes: &[u8], declared: Option<&str>, rules: &MediaRules) -> WebResult<platform_media::Checked> {
    let checked = platform_media::check(bytes, declared, rules)?;
    if let Some((w, h)) = checked.dimensions {
        if w != h {
            return Err(platform_kernel::FieldError::new(rules.field, format!("{} must be square", rules.label)).into());
        }
    }
    Ok(checked)
}

/// Checks and stores a square picture; returns the URL it is served at.
pub async fn store_square(state: &AppState, bytes: Vec<u8>, declared: Option<&str>, rules: &MediaRules) -> WebResult<String> {
    let checked = check_square(&bytes, declared, rules)?;
    let prefix = if rules.field == "logo" { "logos" } else { "avatars" };
    let key = MediaKey::unique_under(prefix, checked.media_type).map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    state.media.put(&key, bytes, checked.mime()).await.map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    Ok(state.media.url(&key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::WebError;

    use platform_media::samples::png;

    fn refusal(r: WebResult<platform_media::Checked>) -> Option<String> {
        match r {
            Ok(_) => None,
            Err(WebError::App(e)) => Some(e.body().fields.first().map(|f| format!("{}: {}", f.field, f.message)).unwrap_or_default()),
            Err(other) => Some(format!("{other:?}")),
        }
    }

    #[test]
    fn logos_are_square_pictures_judged_from_their_bytes() {
        let logo = rules("logo", "Room logo");
        assert_eq!(refusal(check_square(&png(512, 512), None, &logo)), None);
        assert_eq!(check_square(&png(512, 512), Some("image/png"), &logo).unwrap().mime(), "image/png");
        let cases: [(Vec<u8>, Option<&str>, &str); 5] = [
            (png(512, 300), None, "square"),
            (b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(), Some("image/svg+xml"), "logo"),
            (png(512, 512), Some("image/jpeg"), "logo"),
            (png(32, 32), None, "logo"),
            ([png(512, 512), vec![0; 2 * 1024 * 1024]].concat(), None, "logo"),
        ];
        for (bytes, declared, want) in cases {
            let got = refusal(check_square(&bytes, declared, &logo)).unwrap_or_else(|| panic!("{declared:?} accepted"));
            assert!(got.starts_with("logo") && got.contains(want), "{got}");
        }
    }
}
