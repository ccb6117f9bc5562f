//! [`MediaKey`]: the name of a stored object, checked once when it is made so
//! no backend has to check it again. A key is safe as a relative file path
//! under a directory and as an object name in a bucket.

use crate::sniff::MediaType;
use std::fmt;
use std::str::FromStr;

/// The longest key accepted, in bytes (S3 allows 1024; a file system path
/// under a data directory needs room to spare).
pub const MAX_KEY_LEN: usize = 512;

/// The longest segment between slashes, in bytes: a file name on common
/// file systems.
pub const MAX_SEGMENT_LEN: usize = 255;

/// A validated object name: one or more segments joined by `/`, each made of
/// ASCII letters, digits, `-`, `_` and `.`, never empty, never starting with
/// a dot (so no `.`, `..` or hidden files), never absolute.
///
/// Construct with [`MediaKey::parse`] (or `str::parse`) for names that come
/// from outside, or [`MediaKey::unique`] for a fresh, unguessable one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MediaKey(String);

/// Why a text is not a [`MediaKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaKeyError {
    #[error("a media key cannot be empty")]
    Empty,
    #[error("a media key is at most {MAX_KEY_LEN} bytes")]
    TooLong,
    #[error("a media key cannot start or end with `/` or contain an empty segment")]
    EmptySegment,
    #[error("a media key segment is at most {MAX_SEGMENT_LEN} bytes")]
    SegmentTooLong,
    #[error("a media key segment cannot start with `.`")]
    DotSegment,
    #[error("a media key may only contain ASCII letters, digits, `-`, `_`, `.` and `/` (found {0:?})")]
    BadCharacter(char),
}

impl MediaKey {
    /// Checks `text` and keeps it as a key.
    pub fn parse(text: &str) -> Result<MediaKey, MediaKeyError> {
        if text.is_empty() {
            return Err(MediaKeyError::Empty);
        }
        if text.len() > MAX_KEY_LEN {
            return Err(MediaKeyError::TooLong);
        }
        if let Some(c) = text.chars().find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))) {
            return Err(MediaKeyError::BadCharacter(c));
        }
        for segment in text.split('/') {
            if segment.is_empty() {
                return Err(MediaKeyError::EmptySegment);
            }
            if segment.len() > MAX_SEGMENT_LEN {
                return Err(MediaKeyError::SegmentTooLong);
            }
            if segment.starts_with('.') {
                return Err(MediaKeyError::DotSegment);
            }
        }
        Ok(MediaKey(text.to_string()))
    }

    /// A fresh key `<uuid v7>.<extension>` for a checked upload: random
    /// enough to be unguessable, time-ordered so listings sort by age.
    pub fn unique(kind: MediaType) -> MediaKey {
        MediaKey(format!("{}.{}", uuid::Uuid::now_v7(), kind.extension()))
    }

    /// A fresh key like [`MediaKey::unique`] under a folder of keys, e.g.
    /// `rooms/logos/<uuid v7>.png`; fails if `prefix` is not itself a key.
    pub fn unique_under(prefix: &str, kind: MediaType) -> Result<MediaKey, MediaKeyError> {
        let prefix = MediaKey::parse(prefix)?;
        MediaKey::parse(&format!("{}/{}", prefix.0, MediaKey::unique(kind).0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text after the last `.` of the last segment, if any (`png` for
    /// `a/b.png`).
    pub fn extension(&self) -> Option<&str> {
        let name = self.0.rsplit('/').next().unwrap_or(&self.0);
        name.rsplit_once('.').map(|(_, ext)| ext).filter(|ext| !ext.is_empty())
    }

    /// The segments between slashes, in order.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl fmt::Display for MediaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for MediaKey {
    type Err = MediaKeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MediaKey::parse(s)
    }
}

impl TryFrom<&str> for MediaKey {
    type Error = MediaKeyError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        MediaKey::parse(s)
    }
}

impl AsRef<str> for MediaKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_and_nested_names() {
        for ok in ["0190-abc.png", "a", "rooms/logos/x_1.webp", "A-Z_0.9", "gigs/123/video.mp4"] {
            assert_eq!(MediaKey::parse(ok).map(|k| k.to_string()), Ok(ok.to_string()), "{ok}");
        }
    }

    #[test]
    fn refuses_anything_that_could_leave_the_directory() {
        let cases: &[(&str, MediaKeyError)] = &[
            ("", MediaKeyError::Empty),
            ("..", MediaKeyError::DotSegment),
            ("../etc/passwd", MediaKeyError::DotSegment),
            ("a/../../b", MediaKeyError::DotSegment),
            ("a/./b", MediaKeyError::DotSegment),
            (".hidden", MediaKeyError::DotSegment),
            ("/etc/passwd", MediaKeyError::EmptySegment),
            ("a//b", MediaKeyError::EmptySegment),
            ("a/", MediaKeyError::EmptySegment),
            ("a\\b", MediaKeyError::BadCharacter('\\')),
            ("C:x", MediaKeyError::BadCharacter(':')),
            ("a b", MediaKeyError::BadCharacter(' ')),
            ("a%2e", MediaKeyError::BadCharacter('%')),
            ("é.png", MediaKeyError::BadCharacter('é')),
            ("a\0b", MediaKeyError::BadCharacter('\0')),
        ];
        for (text, want) in cases {
            assert_eq!(MediaKey::parse(text).as_ref(), Err(want), "{text:?}");
        }
        assert_eq!(MediaKey::parse(&"a".repeat(MAX_KEY_LEN + 1)), Err(MediaKeyError::TooLong));
        assert_eq!(MediaKey::parse(&"a".repeat(MAX_SEGMENT_LEN + 1)), Err(MediaKeyError::SegmentTooLong));
    }

    #[test]
    fn unique_keys_carry_the_extension_and_differ() {
        let a = MediaKey::unique(MediaType::Png);
        let b = MediaKey::unique(MediaType::Png);
        assert_ne!(a, b);
        assert_eq!(a.extension(), Some("png"));
        assert_eq!(MediaKey::parse(a.as_str()), Ok(a));
        let nested = MediaKey::unique_under("rooms/logos", MediaType::Webp).unwrap();
        assert!(nested.as_str().starts_with("rooms/logos/") && nested.as_str().ends_with(".webp"));
        assert!(MediaKey::unique_under("../x", MediaType::Webp).is_err());
    }

    #[test]
    fn extension_is_of_the_last_segment() {
        assert_eq!(MediaKey::parse("a.b/c").unwrap().extension(), None);
        assert_eq!(MediaKey::parse("a/c.JPG").unwrap().extension(), Some("JPG"));
        assert_eq!(MediaKey::parse("c.").unwrap().extension(), None);
    }
}
