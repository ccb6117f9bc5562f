//! Uploaded room logos and avatars through platform-media: the type is
//! judged from the bytes (PNG, JPEG or WEBP; SVG and everything else
//! refused), at most 2 MB; the picture is decoded, cropped to its centre
//! square and stored at 512×512 (2.1) under a server-chosen name. Bytes
//! that look like a picture but do not decode are refused on the field.

use crate::error::WebResult;
use crate::AppState;
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat};
use platform_kernel::FieldError;
use platform_media::{MediaKey, MediaRules, MediaType, PixelLimits};

/// The side of a stored logo or avatar, in pixels.
pub const STORED_SIDE: u32 = 512;

/// A room logo (2.1) or avatar: PNG, JPEG or WEBP of at most 2 MB.
pub fn rules(field: &'static str, label: &'static str) -> MediaRules {
    MediaRules {
        field,
        label,
        accept: &[MediaType::Png, MediaType::Jpeg, MediaType::Webp],
        max_bytes: 2 * 1024 * 1024,
        pixels: Some(PixelLimits { min_side: 64, max_side: 4096 }),
    }
}

/// A picture ready to store: its bytes and type.
#[derive(Debug)]
pub struct Square {
    pub bytes: Vec<u8>,
    pub media_type: MediaType,
}

/// Checks an upload (type from the bytes, size, pixel limits read from the
/// header before anything is decoded), decodes it, crops the centre square
/// and scales it to [`STORED_SIDE`]. JPEG stays JPEG; PNG and WEBP become
/// PNG (keeping transparency).
pub fn square_512(bytes: &[u8], declared: Option<&str>, rules: &MediaRules) -> WebResult<Square> {
    let checked = platform_media::check(bytes, declared, rules)?;
    let unreadable = || FieldError::new(rules.field, format!("{} could not be read as a picture", rules.label));
    let format = match checked.media_type {
        MediaType::Jpeg => ImageFormat::Jpeg,
        MediaType::Png => ImageFormat::Png,
        MediaType::Webp => ImageFormat::WebP,
        _ => return Err(unreadable().into()),
    };
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(4096);
    limits.max_image_height = Some(4096);
    limits.max_alloc = Some(128 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|_| unreadable())?;
    let side = img.width().min(img.height());
    let cropped = img.crop_imm((img.width() - side) / 2, (img.height() - side) / 2, side, side);
    let scaled = cropped.resize_exact(STORED_SIDE, STORED_SIDE, FilterType::Lanczos3);
    let (out_format, media_type, out) = match checked.media_type {
        MediaType::Jpeg => (ImageFormat::Jpeg, MediaType::Jpeg, DynamicImage::ImageRgb8(scaled.to_rgb8())),
        _ => (ImageFormat::Png, MediaType::Png, scaled),
    };
    let mut encoded = std::io::Cursor::new(Vec::new());
    out.write_to(&mut encoded, out_format).map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    Ok(Square { bytes: encoded.into_inner(), media_type })
}

/// Checks, crops, scales and stores a picture; returns the URL it is served at.
pub async fn store_square(state: &AppState, bytes: Vec<u8>, declared: Option<&str>, rules: &MediaRules) -> WebResult<String> {
    let declared = declared.map(str::to_string);
    let r = *rules;
    // Decoding and scaling are CPU work: off the async threads.
    let square = tokio::task::spawn_blocking(move || square_512(&bytes, declared.as_deref(), &r))
        .await
        .map_err(|e| crate::error::AppError::Internal(e.to_string()))??;
    let prefix = if rules.field == "logo" { "logos" } else { "avatars" };
    let key = MediaKey::unique_under(prefix, square.media_type).map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    state.media.put(&key, square.bytes, square.media_type.mime()).await.map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    Ok(state.media.url(&key))
}

/// A real `w`×`h` picture in `format`: left half red, right half blue (for
/// tests here and in the integration tests).
pub fn sample_picture(w: u32, h: u32, format: ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, _| if x < w / 2 { image::Rgb([220, 30, 30]) } else { image::Rgb([30, 30, 220]) });
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img).write_to(&mut out, format).expect("encode sample");
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::WebError;
    use platform_media::samples::png;

    fn refusal(r: WebResult<Square>) -> Option<String> {
        match r {
            Ok(_) => None,
            Err(WebError::App(e)) => Some(e.body().fields.first().map(|f| format!("{}: {}", f.field, f.message)).unwrap_or_default()),
            Err(other) => Some(format!("{other:?}")),
        }
    }

    fn decoded(s: &Square) -> image::RgbImage {
        image::load_from_memory(&s.bytes).unwrap().to_rgb8()
    }

    #[test]
    fn logos_are_stored_at_512_square_cropped_from_the_centre() {
        let logo = rules("logo", "Room logo");
        for (w, h, format, stored) in [
            (800, 800, ImageFormat::Png, MediaType::Png),
            (1000, 600, ImageFormat::Jpeg, MediaType::Jpeg),
            (64, 64, ImageFormat::WebP, MediaType::Png),
            (300, 900, ImageFormat::Png, MediaType::Png),
        ] {
            let s = square_512(&sample_picture(w, h, format), None, &logo).unwrap();
            assert_eq!(s.media_type, stored, "{w}x{h} {format:?}");
            let img = decoded(&s);
            assert_eq!(img.dimensions(), (512, 512), "{w}x{h} {format:?}");
            if w > h {
                // The centre square of a wide picture is half red, half blue.
                assert!(img.get_pixel(10, 256)[0] > 150 && img.get_pixel(500, 256)[2] > 150, "{w}x{h}");
            } else if h > w {
                // A tall one keeps the full width: the same split.
                assert!(img.get_pixel(10, 10)[0] > 150 && img.get_pixel(500, 500)[2] > 150);
            }
        }
        // A wide picture whose centre is all blue: the red edge is cropped off.
        let wide = image::RgbImage::from_fn(1000, 200, |x, _| if x < 300 { image::Rgb([220, 30, 30]) } else { image::Rgb([30, 30, 220]) });
        let mut bytes = std::io::Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(wide).write_to(&mut bytes, ImageFormat::Png).unwrap();
        let img = decoded(&square_512(&bytes.into_inner(), None, &logo).unwrap());
        assert!(img.pixels().all(|p| p[2] > 150 && p[0] < 100), "only the blue centre is kept");
    }

    #[test]
    fn non_pictures_and_bad_pictures_are_refused_on_the_field() {
        let logo = rules("logo", "Room logo");
        let cases: [(Vec<u8>, Option<&str>, &str); 6] = [
            (b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(), Some("image/svg+xml"), "logo"),
            (b"just some text".to_vec(), None, "logo"),
            (sample_picture(512, 512, ImageFormat::Png), Some("image/jpeg"), "logo"),
            (png(32, 32), None, "logo"),
            (png(512, 512), None, "could not be read as a picture"),
            ([png(512, 512), vec![0; 2 * 1024 * 1024]].concat(), None, "logo"),
        ];
        for (bytes, declared, want) in cases {
            let got = refusal(square_512(&bytes, declared, &logo)).unwrap_or_else(|| panic!("{declared:?} accepted"));
            assert!(got.starts_with("logo:") && got.contains(want), "{got}");
        }
    }
}
