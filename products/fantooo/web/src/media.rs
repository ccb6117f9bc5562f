//! Uploaded pictures: checked here, stored behind `platform_media`'s
//! [`MediaStore`] so a production deployment can swap the local directory
//! for object storage.

use crate::error::AppResult;
use fantooo_domain::chat::{ContentType, MAX_IMAGE_BYTES, MAX_IMAGE_SIDE, MIN_IMAGE_SIDE};
use platform_media::{MediaRules, MediaType, PixelLimits};

pub use platform_media::{LocalDisk, MediaKey, MediaStore, StoredMedia};

/// What a chat or profile picture may be: a JPEG, PNG, WebP or GIF of at
/// most 5 MB, 16 to 4096 pixels on each side.
const PICTURE: MediaRules = MediaRules {
    field: "file",
    label: "Picture",
    accept: &MediaType::IMAGES,
    max_bytes: MAX_IMAGE_BYTES,
    pixels: Some(PixelLimits { min_side: MIN_IMAGE_SIDE, max_side: MAX_IMAGE_SIDE }),
};

/// Removes uploads that ended up unused, logging (not failing) when the
/// store refuses: the request has already failed for its own reason.
pub async fn discard(media: &dyn MediaStore, keys: &[MediaKey]) {
    for key in keys {
        if let Err(e) = media.delete(key).await {
            tracing::warn!(error = %e, key = key.as_str(), "unused upload not removed");
        }
    }
}

/// A checked picture, ready to store.
pub struct Picture {
    pub content_type: ContentType,
    pub media_type: MediaType,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Detects the format from the bytes (never from the file name or the
/// client's claimed type) and applies the picture rules: type, size in
/// bytes and dimensions.
pub fn inspect(bytes: &[u8]) -> AppResult<Picture> {
    let checked = platform_media::check(bytes, None, &PICTURE)?;
    let content_type = if checked.media_type == MediaType::Gif { ContentType::Gif } else { ContentType::Image };
    let (width, height) = checked.dimensions.unwrap_or_default();
    Ok(Picture { content_type, media_type: checked.media_type, mime: checked.mime(), width, height })
}

#[cfg(test)]
mod tests {
    use super::*;

    use platform_media::samples::png;

    #[test]
    fn format_comes_from_the_bytes() {
        let p = inspect(&png(64, 64)).unwrap();
        assert_eq!(p.mime, "image/png");
        assert!(inspect(b"<svg xmlns='http://www.w3.org/2000/svg'/>").is_err());
        assert!(inspect(&png(8, 64)).is_err(), "too small");
        assert!(inspect(&png(64, 9000)).is_err(), "too large");
    }
}
