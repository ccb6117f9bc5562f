//! Upload checks, as pure functions of the bytes and the caller's rules:
//! the type comes from the bytes ([`sniff`]), a declared type that
//! disagrees is refused, and byte and pixel limits are the caller's. Each
//! refusal is a [`FieldError`] on the caller's field, worded for the person
//! who sent the file.

use crate::sniff::{image_size, sniff, MediaType};
use platform_kernel::{FieldError, FieldErrors};

/// Smallest and largest picture, in pixels on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelLimits {
    pub min_side: u32,
    pub max_side: u32,
}

/// What one kind of upload may be, e.g. a chat picture or a room logo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaRules {
    /// The form field errors are reported on (`"file"`, `"logo"`).
    pub field: &'static str,
    /// What the file is called in messages, capitalised: "Picture",
    /// "Room logo".
    pub label: &'static str,
    /// The types accepted, named in this order in messages.
    pub accept: &'static [MediaType],
    /// The largest file accepted, in bytes.
    pub max_bytes: usize,
    /// Limits for pictures; `None` accepts any size. Ignored for types that
    /// are not pictures.
    pub pixels: Option<PixelLimits>,
}

/// An upload that passed its [`MediaRules`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub media_type: MediaType,
    pub bytes: usize,
    /// Width and height of a picture; `None` for other types.
    pub dimensions: Option<(u32, u32)>,
}

impl Checked {
    /// The MIME type to store and serve it with.
    pub fn mime(&self) -> &'static str {
        self.media_type.mime()
    }
}

/// Applies `rules` to an upload: its type (from the bytes; `declared`, the
/// client's Content-Type, must agree when it names a type at all), its size
/// and, for pictures, its dimensions. Stops at the first refusal, since
/// later checks mean nothing for a file of the wrong type.
pub fn check(bytes: &[u8], declared: Option<&str>, rules: &MediaRules) -> Result<Checked, FieldErrors> {
    let media_type = check_type(bytes, declared, rules)?;
    check_bytes(bytes.len(), rules)?;
    let dimensions = if media_type.is_image() {
        let (w, h) = image_size(bytes).ok_or_else(|| FieldError::new(rules.field, format!("{} could not be read.", rules.label)))?;
        if let Some(limits) = rules.pixels {
            check_pixels(w, h, limits, rules)?;
        }
        Some((w, h))
    } else {
        None
    };
    Ok(Checked { media_type, bytes: bytes.len(), dimensions })
}

/// The type of `bytes`, if it is one `rules` accepts and `declared` agrees.
///
/// A declared type that names no type at all (`application/octet-stream`,
/// empty) is no claim and is ignored: browsers send it for files they do not
/// know. One that names a different type than the bytes is refused, so a
/// file cannot be stored under a type that a browser would handle otherwise.
pub fn check_type(bytes: &[u8], declared: Option<&str>, rules: &MediaRules) -> Result<MediaType, FieldError> {
    let refuse = || FieldError::new(rules.field, format!("{} must be {}.", rules.label, one_of(rules.accept)));
    let sniffed = sniff(bytes).filter(|t| rules.accept.contains(t)).ok_or_else(refuse)?;
    match declared.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(sniffed),
        Some(d) => match MediaType::from_mime(d) {
            Some(claimed) if claimed != sniffed => Err(FieldError::new(
                rules.field,
                format!("{} was sent as {} but is {} file.", rules.label, article(claimed.name()), article(sniffed.name())),
            )),
            Some(_) => Ok(sniffed),
            None if is_generic(d) => Ok(sniffed),
            None => Err(FieldError::new(
                rules.field,
                format!("{} was sent as {:?} but is {} file.", rules.label, shorten(d), article(sniffed.name())),
            )),
        },
    }
}

/// Refuses an empty file or one over `rules.max_bytes`.
pub fn check_bytes(len: usize, rules: &MediaRules) -> Result<(), FieldError> {
    if len == 0 {
        return Err(FieldError::new(rules.field, format!("{} is empty.", rules.label)));
    }
    if len > rules.max_bytes {
        return Err(FieldError::new(rules.field, format!("{} is limited to {}.", rules.label, human_bytes(rules.max_bytes))));
    }
    Ok(())
}

/// Refuses a picture with a side outside `limits`.
pub fn check_pixels(width: u32, height: u32, limits: PixelLimits, rules: &MediaRules) -> Result<(), FieldError> {
    let side_ok = |s: u32| (limits.min_side..=limits.max_side).contains(&s);
    if side_ok(width) && side_ok(height) {
        return Ok(());
    }
    Err(FieldError::new(
        rules.field,
        format!(
            "{} must be between {} and {} pixels on each side (this one is {width}×{height}).",
            rules.label, limits.min_side, limits.max_side
        ),
    ))
}

/// A client's text cut to a length fit for a message.
fn shorten(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Declared types that claim nothing about the contents.
fn is_generic(declared: &str) -> bool {
    let essence = declared.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    matches!(essence.as_str(), "application/octet-stream" | "binary/octet-stream" | "application/unknown")
}

/// "a JPEG, PNG, WebP or GIF file".
fn one_of(types: &[MediaType]) -> String {
    let names: Vec<&str> = types.iter().map(|t| t.name()).collect();
    let list = match names.as_slice() {
        [] => return "a file of an accepted type".to_string(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    format!("{} file", article(&list))
}

/// The word with "a" or "an" before it, by how the name is said.
fn article(word: &str) -> String {
    // Initialisms are said letter by letter: "an MP4", "an SVG", but "a PNG".
    let an = matches!(word.chars().next(), Some('A' | 'E' | 'F' | 'H' | 'I' | 'L' | 'M' | 'N' | 'O' | 'R' | 'S' | 'X'));
    format!("{} {word}", if an { "an" } else { "a" })
}

/// "5 MB", "512 KB", "1.5 MB", "300 bytes". A limit that is a whole number
/// of either kind of megabyte reads as that number (`5 * 1024 * 1024` and
/// `5_000_000` are both "5 MB"); anything else is shown in decimal units to
/// one place.
pub fn human_bytes(n: usize) -> String {
    const UNITS: [(&str, usize, usize); 3] = [("GB", 1 << 30, 1_000_000_000), ("MB", 1 << 20, 1_000_000), ("KB", 1 << 10, 1_000)];
    for (name, binary, decimal) in UNITS {
        if n < decimal {
            continue;
        }
        if n.is_multiple_of(decimal) {
            return format!("{} {name}", n / decimal);
        }
        if n.is_multiple_of(binary) {
            return format!("{} {name}", n / binary);
        }
        let tenths = (n * 10 + decimal / 2) / decimal;
        return if tenths.is_multiple_of(10) {
            format!("{} {name}", tenths / 10)
        } else {
            format!("{}.{} {name}", tenths / 10, tenths % 10)
        };
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sniff::samples::*;

    const PICTURE: MediaRules = MediaRules {
        field: "file",
        label: "Picture",
        accept: &MediaType::IMAGES,
        max_bytes: 5_000_000,
        pixels: Some(PixelLimits { min_side: 64, max_side: 4096 }),
    };
    const CLIP: MediaRules = MediaRules { field: "video", label: "Video", accept: &MediaType::VIDEOS, max_bytes: 100, pixels: None };

    fn message(r: Result<Checked, FieldErrors>) -> String {
        let e = r.expect_err("refused");
        assert_eq!(e.0.len(), 1);
        format!("{}: {}", e.0[0].field, e.0[0].message)
    }

    #[test]
    fn accepts_pictures_within_the_rules() {
        type Case = (Vec<u8>, Option<&'static str>, MediaType, (u32, u32));
        let cases: Vec<Case> = vec![
            (png(64, 64), None, MediaType::Png, (64, 64)),
            (png(4096, 100), Some("image/png"), MediaType::Png, (4096, 100)),
            (jpeg(800, 600), Some("image/jpg"), MediaType::Jpeg, (800, 600)),
            (webp(100, 200), Some("application/octet-stream"), MediaType::Webp, (100, 200)),
            (gif(300, 300), Some(""), MediaType::Gif, (300, 300)),
        ];
        for (bytes, declared, want, dims) in cases {
            let c = check(&bytes, declared, &PICTURE).unwrap_or_else(|e| panic!("{want:?}: {e}"));
            assert_eq!(c, Checked { media_type: want, bytes: bytes.len(), dimensions: Some(dims) });
            assert_eq!(c.mime(), want.mime());
        }
    }

    #[test]
    fn refuses_with_a_message_naming_the_field() {
        let big = {
            let mut b = png(100, 100);
            b.resize(5_000_001, 0);
            b
        };
        let cases: Vec<(&str, Vec<u8>, Option<&str>, &str)> = vec![
            ("svg", b"<svg/>".to_vec(), None, "file: Picture must be a JPEG, PNG, WebP or GIF file."),
            ("pdf is not a picture", PDF.to_vec(), None, "file: Picture must be a JPEG, PNG, WebP or GIF file."),
            ("empty", vec![], None, "file: Picture must be a JPEG, PNG, WebP or GIF file."),
            ("declared jpeg, is png", png(100, 100), Some("image/jpeg"), "file: Picture was sent as a JPEG but is a PNG file."),
            ("declared html", png(100, 100), Some("text/html"), "file: Picture was sent as \"text/html\" but is a PNG file."),
            (
                "long declared type",
                png(100, 100),
                Some("x/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
                "file: Picture was sent as \"x/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…\" but is a PNG file.",
            ),
            ("too many bytes", big, None, "file: Picture is limited to 5 MB."),
            ("too narrow", png(63, 100), None, "file: Picture must be between 64 and 4096 pixels on each side (this one is 63×100)."),
            ("too tall", jpeg(100, 4097), None, "file: Picture must be between 64 and 4096 pixels on each side (this one is 100×4097)."),
            ("header cut short", b"\x89PNG\r\n\x1a\n\0\0".to_vec(), None, "file: Picture could not be read."),
        ];
        for (name, bytes, declared, want) in cases {
            assert_eq!(message(check(&bytes, declared, &PICTURE)), want, "{name}");
        }
    }

    #[test]
    fn videos_and_documents_have_no_pixel_rules() {
        let mp4 = ftyp(b"isom");
        assert_eq!(check(&mp4, Some("video/mp4"), &CLIP).unwrap().dimensions, None);
        assert_eq!(check(&ebml("webm"), None, &CLIP).unwrap().media_type, MediaType::Webm);
        assert_eq!(check(&ftyp(b"qt  "), Some("video/quicktime"), &CLIP).unwrap().media_type, MediaType::Mov);
        assert_eq!(message(check(&mp4, Some("video/webm"), &CLIP)), "video: Video was sent as a WebM but is an MP4 file.");
        assert_eq!(message(check(&png(100, 100), None, &CLIP)), "video: Video must be an MP4, WebM or QuickTime file.");
        let mut long = mp4.clone();
        long.resize(101, 0);
        assert_eq!(message(check(&long, None, &CLIP)), "video: Video is limited to 100 bytes.");
        let doc = MediaRules { field: "cv", label: "CV", accept: &[MediaType::Pdf], max_bytes: 1000, pixels: None };
        assert_eq!(check(PDF, Some("application/pdf"), &doc).unwrap().media_type, MediaType::Pdf);
        assert_eq!(message(check(&png(100, 100), None, &doc)), "cv: CV must be a PDF file.");
    }

    #[test]
    fn limits_are_inclusive_and_pictures_without_limits_pass() {
        let limits = PixelLimits { min_side: 10, max_side: 20 };
        for (w, h, ok) in [(10, 10, true), (20, 20, true), (9, 15, false), (15, 21, false), (21, 9, false)] {
            assert_eq!(check_pixels(w, h, limits, &PICTURE).is_ok(), ok, "{w}×{h}");
        }
        let any_size = MediaRules { pixels: None, ..PICTURE };
        assert!(check(&png(1, 100_000), None, &any_size).is_ok());
        assert_eq!(check_bytes(0, &PICTURE).unwrap_err().message, "Picture is empty.");
        assert!(check_bytes(5_000_000, &PICTURE).is_ok());
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        let cases = [
            (0, "0 bytes"),
            (999, "999 bytes"),
            (1_000, "1 KB"),
            (512_000, "512 KB"),
            (1_500_000, "1.5 MB"),
            (5_000_000, "5 MB"),
            (5 * 1024 * 1024, "5 MB"),
            (5 * 1024 * 1024 + 1, "5.2 MB"),
            (512 * 1024, "512 KB"),
            (1_536, "1.5 KB"),
            (2_000_000_000, "2 GB"),
        ];
        for (n, want) in cases {
            assert_eq!(human_bytes(n), want, "{n}");
        }
    }
}
