//! What a file is, told from its first bytes: never from its name or from
//! the type a client claims, both of which the sender chooses.

use std::fmt;

/// The kinds of media the platform stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    Jpeg,
    Png,
    Webp,
    Gif,
    Mp4,
    Webm,
    /// QuickTime (`.mov`).
    Mov,
    Pdf,
}

impl MediaType {
    pub const ALL: [MediaType; 8] =
        [MediaType::Jpeg, MediaType::Png, MediaType::Webp, MediaType::Gif, MediaType::Mp4, MediaType::Webm, MediaType::Mov, MediaType::Pdf];
    /// Still and animated pictures: what chat pictures, photos and logos may be.
    pub const IMAGES: [MediaType; 4] = [MediaType::Jpeg, MediaType::Png, MediaType::Webp, MediaType::Gif];
    pub const VIDEOS: [MediaType; 3] = [MediaType::Mp4, MediaType::Webm, MediaType::Mov];

    /// The MIME type to serve it with.
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Webp => "image/webp",
            MediaType::Gif => "image/gif",
            MediaType::Mp4 => "video/mp4",
            MediaType::Webm => "video/webm",
            MediaType::Mov => "video/quicktime",
            MediaType::Pdf => "application/pdf",
        }
    }

    /// The file extension to name it with, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
            MediaType::Webp => "webp",
            MediaType::Gif => "gif",
            MediaType::Mp4 => "mp4",
            MediaType::Webm => "webm",
            MediaType::Mov => "mov",
            MediaType::Pdf => "pdf",
        }
    }

    /// The name people know it by, for messages ("JPEG", "WebP", …).
    pub fn name(self) -> &'static str {
        match self {
            MediaType::Jpeg => "JPEG",
            MediaType::Png => "PNG",
            MediaType::Webp => "WebP",
            MediaType::Gif => "GIF",
            MediaType::Mp4 => "MP4",
            MediaType::Webm => "WebM",
            MediaType::Mov => "QuickTime",
            MediaType::Pdf => "PDF",
        }
    }

    pub fn is_image(self) -> bool {
        MediaType::IMAGES.contains(&self)
    }

    pub fn is_video(self) -> bool {
        MediaType::VIDEOS.contains(&self)
    }

    /// The type a MIME type names, ignoring case, parameters (`; charset=…`)
    /// and the common aliases browsers send (`image/jpg`, `image/pjpeg`).
    pub fn from_mime(mime: &str) -> Option<MediaType> {
        let essence = mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let t = match essence.as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => MediaType::Jpeg,
            "image/png" | "image/x-png" => MediaType::Png,
            "image/webp" => MediaType::Webp,
            "image/gif" => MediaType::Gif,
            "video/mp4" | "video/x-m4v" => MediaType::Mp4,
            "video/webm" => MediaType::Webm,
            "video/quicktime" => MediaType::Mov,
            "application/pdf" => MediaType::Pdf,
            _ => return None,
        };
        Some(t)
    }

    /// The type a file extension names, ignoring case (`jpg` and `jpeg` both
    /// name JPEG).
    pub fn from_extension(ext: &str) -> Option<MediaType> {
        let t = match ext.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" => MediaType::Jpeg,
            "png" => MediaType::Png,
            "webp" => MediaType::Webp,
            "gif" => MediaType::Gif,
            "mp4" | "m4v" => MediaType::Mp4,
            "webm" => MediaType::Webm,
            "mov" => MediaType::Mov,
            "pdf" => MediaType::Pdf,
            _ => return None,
        };
        Some(t)
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// ISO base media brands that mean an MP4 video. Others that share the
/// container (HEIC, AVIF, M4A audio, 3GP) are deliberately not here.
const MP4_BRANDS: [&[u8; 4]; 14] =
    [b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VH", b"M4VP", b"dash", b"mmp4"];

/// The type of `bytes`, from their signature, or `None` for anything else.
///
/// MP4 and QuickTime are told apart by the major brand of the leading
/// `ftyp` box; QuickTime files old enough to have no `ftyp` box are not
/// recognised. WebM is an EBML (Matroska) file whose doc type is `webm`.
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(MediaType::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(MediaType::Png);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some(MediaType::Gif);
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some(MediaType::Webp);
    }
    if bytes.starts_with(b"%PDF-") {
        return Some(MediaType::Pdf);
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        if brand == b"qt  " {
            return Some(MediaType::Mov);
        }
        if MP4_BRANDS.iter().any(|b| b.as_slice() == brand) {
            return Some(MediaType::Mp4);
        }
        return None;
    }
    if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) && is_webm_header(bytes) {
        return Some(MediaType::Webm);
    }
    None
}

/// Whether the EBML header at the start of `bytes` declares the `webm` doc
/// type. The header is small; its DocType element (id `0x4282`) is looked
/// for in the first 64 bytes.
fn is_webm_header(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64)];
    head.windows(7).any(|w| w[0] == 0x42 && w[1] == 0x82 && w[2] == 0x84 && &w[3..7] == b"webm")
}

/// Width and height in pixels of a picture, read from its header only, or
/// `None` when the bytes are not a picture whose header can be read.
pub fn image_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let size = imagesize::blob_size(bytes).ok()?;
    Some((u32::try_from(size.width).unwrap_or(u32::MAX), u32::try_from(size.height).unwrap_or(u32::MAX)))
}

pub mod samples {
    //! Tiny but well-formed headers of each format, for tests (here and in
    //! the products): enough for sniffing and size checks.

    /// A PNG signature and IHDR chunk for a `w`×`h` picture.
    pub fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    /// A GIF header for a `w`×`h` picture.
    pub fn gif(w: u16, h: u16) -> Vec<u8> {
        let mut b = b"GIF89a".to_vec();
        b.extend_from_slice(&w.to_le_bytes());
        b.extend_from_slice(&h.to_le_bytes());
        b.extend_from_slice(&[0, 0, 0]);
        b
    }

    /// A JPEG start and baseline frame header for a `w`×`h` picture.
    pub fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08];
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
        b.extend_from_slice(&[0xFF, 0xD9]);
        b
    }

    /// A lossless (VP8L) WebP header for a `w`×`h` picture.
    pub fn webp(w: u32, h: u32) -> Vec<u8> {
        let bits = (w - 1) | ((h - 1) << 14);
        let mut b = b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f".to_vec();
        b.extend_from_slice(&bits.to_le_bytes());
        b.extend_from_slice(&[0; 8]);
        b
    }

    /// The start of an ISO media file with the given major brand.
    pub fn ftyp(brand: &[u8; 4]) -> Vec<u8> {
        let mut b = vec![0, 0, 0, 0x18];
        b.extend_from_slice(b"ftyp");
        b.extend_from_slice(brand);
        b.extend_from_slice(&[0, 0, 0, 0]);
        b.extend_from_slice(brand);
        b.extend_from_slice(b"isom");
        b
    }

    /// An EBML header with the given doc type (`webm`, `matroska`).
    pub fn ebml(doc_type: &str) -> Vec<u8> {
        let mut b = vec![0x1A, 0x45, 0xDF, 0xA3, 0x80 | (7 + doc_type.len()) as u8];
        b.extend_from_slice(&[0x42, 0x86, 0x81, 0x01]);
        b.extend_from_slice(&[0x42, 0x82, 0x80 | doc_type.len() as u8]);
        b.extend_from_slice(doc_type.as_bytes());
        b
    }

    pub const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
}

#[cfg(test)]
mod tests {
    use super::samples::*;
    use super::*;

    #[test]
    fn sniffs_each_format_from_its_signature() {
        let cases: Vec<(&str, Vec<u8>, Option<MediaType>)> = vec![
            ("jpeg", jpeg(10, 20), Some(MediaType::Jpeg)),
            ("png", png(10, 20), Some(MediaType::Png)),
            ("gif", gif(10, 20), Some(MediaType::Gif)),
            ("gif87a", b"GIF87a\x01\0\x01\0".to_vec(), Some(MediaType::Gif)),
            ("webp", webp(10, 20), Some(MediaType::Webp)),
            ("pdf", PDF.to_vec(), Some(MediaType::Pdf)),
            ("mp4 isom", ftyp(b"isom"), Some(MediaType::Mp4)),
            ("mp4 mp42", ftyp(b"mp42"), Some(MediaType::Mp4)),
            ("m4v", ftyp(b"M4V "), Some(MediaType::Mp4)),
            ("mov", ftyp(b"qt  "), Some(MediaType::Mov)),
            ("webm", ebml("webm"), Some(MediaType::Webm)),
            ("heic is not video", ftyp(b"heic"), None),
            ("avif is not video", ftyp(b"avif"), None),
            ("m4a is not video", ftyp(b"M4A "), None),
            ("matroska is not webm", ebml("matroska"), None),
            ("riff but wave", b"RIFF\x1a\0\0\0WAVEfmt ".to_vec(), None),
            ("svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(), None),
            ("html", b"<!doctype html><p>hi".to_vec(), None),
            ("bmp", b"BM\x1e\0\0\0\0\0\0\0".to_vec(), None),
            ("empty", vec![], None),
            ("truncated png", b"\x89PN".to_vec(), None),
            ("truncated riff", b"RIFF\0\0".to_vec(), None),
        ];
        for (name, bytes, want) in cases {
            assert_eq!(sniff(&bytes), want, "{name}");
        }
    }

    #[test]
    fn reads_picture_dimensions_from_the_header() {
        assert_eq!(image_size(&png(640, 480)), Some((640, 480)));
        assert_eq!(image_size(&gif(33, 44)), Some((33, 44)));
        assert_eq!(image_size(&jpeg(300, 200)), Some((300, 200)));
        assert_eq!(image_size(&webp(128, 96)), Some((128, 96)));
        assert_eq!(image_size(PDF), None);
        assert_eq!(image_size(b"\xFF\xD8\xFF"), None);
    }

    #[test]
    fn names_round_trip() {
        for t in MediaType::ALL {
            assert_eq!(MediaType::from_mime(t.mime()), Some(t));
            assert_eq!(MediaType::from_extension(t.extension()), Some(t));
            assert_ne!(t.is_image(), t.is_video() || t == MediaType::Pdf);
        }
        assert_eq!(MediaType::from_mime("IMAGE/JPG; q=1"), Some(MediaType::Jpeg));
        assert_eq!(MediaType::from_mime("image/svg+xml"), None);
        assert_eq!(MediaType::from_extension("JPEG"), Some(MediaType::Jpeg));
        assert_eq!(MediaType::from_extension("exe"), None);
    }
}
