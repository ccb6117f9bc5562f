//! Uploaded media for every product: one storage API, its backends, and the
//! checks an upload passes before it is stored.
//!
//! - [`MediaStore`]: put, get, delete and exists by [`MediaKey`], and the
//!   URL an object is served at;
//! - [`LocalDisk`]: files under a directory, written atomically (the
//!   default, for development and single-node deployments);
//! - [`ObjectMedia`]: any `object_store` backend: [`ObjectMedia::in_memory`]
//!   for tests and, with the `aws` feature, `ObjectMedia::s3` for
//!   S3-compatible storage configured by `S3Config`;
//! - [`sniff`] and [`check`]: the type of a file from its bytes, and the
//!   caller's [`MediaRules`] (types, bytes, pixels) as [`FieldErrors`];
//! - [`scan`]: virus scanning before storing ([`Scanner`], [`Clamd`] over
//!   clamd's INSTREAM protocol);
//! - [`video`]: ffmpeg transcoding to H.264/AAC MP4 with a poster.
//!
//! Keys are parsed once into [`MediaKey`], so no backend sees a name that
//! could leave its directory or bucket prefix.
//!
//! [`FieldErrors`]: platform_kernel::FieldErrors

mod check;
mod key;
mod local;
mod object;
#[cfg(feature = "aws")]
mod s3;
pub mod scan;
mod sniff;
pub mod video;

use async_trait::async_trait;

pub use check::{check, check_bytes, check_pixels, check_type, human_bytes, Checked, MediaRules, PixelLimits};
pub use key::{MediaKey, MediaKeyError, MAX_KEY_LEN, MAX_SEGMENT_LEN};
pub use local::LocalDisk;
pub use object::ObjectMedia;
#[cfg(feature = "aws")]
pub use s3::S3Config;
pub use scan::{Clamd, ClamdAddr, ScanError, Scanner, Verdict};
pub use sniff::{image_size, samples, sniff, MediaType};

/// Where the app serves stored media by default: its own route, which reads
/// through [`MediaStore::get`] after checking who is asking.
pub const DEFAULT_PUBLIC_BASE: &str = "/media/";

/// A stored object's bytes and the content type to serve them with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMedia {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

/// A backend failed; the request cannot be served, but nothing about it was
/// wrong.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("media file i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("media store configuration: {0}")]
    Config(String),
}

/// Where uploads live. Callers check an upload ([`check`]) and choose its
/// key ([`MediaKey::unique`]); the store keeps the bytes and says where they
/// are served.
#[async_trait]
pub trait MediaStore: Send + Sync {
    /// Stores `bytes` under `key`, replacing any object there, and returns
    /// [`MediaStore::url`] for it. A reader sees the old object or the new
    /// one, never part of either.
    async fn put(&self, key: &MediaKey, bytes: Vec<u8>, content_type: &str) -> Result<String, MediaError>;

    /// The bytes and content type of a stored object, or `None`.
    async fn get(&self, key: &MediaKey) -> Result<Option<StoredMedia>, MediaError>;

    /// Removes an object; removing one that is not there is not an error.
    async fn delete(&self, key: &MediaKey) -> Result<(), MediaError>;

    /// Whether an object is stored under `key`.
    async fn exists(&self, key: &MediaKey) -> Result<bool, MediaError>;

    /// The URL or path the object is served at: the store's public base
    /// (by default [`DEFAULT_PUBLIC_BASE`]) followed by the key.
    fn url(&self, key: &MediaKey) -> String;
}

/// `base` joined to `key` with exactly one slash between them.
pub(crate) fn join_url(base: &str, key: &MediaKey) -> String {
    format!("{}/{}", base.trim_end_matches('/'), key)
}

/// The content type for a key whose stored type is unknown, from its
/// extension.
pub(crate) fn content_type_of(key: &MediaKey) -> &'static str {
    key.extension().and_then(MediaType::from_extension).map_or("application/octet-stream", MediaType::mime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_with_one_slash() {
        let key = MediaKey::parse("a/b.png").unwrap();
        assert_eq!(join_url("/media/", &key), "/media/a/b.png");
        assert_eq!(join_url("/media", &key), "/media/a/b.png");
        assert_eq!(join_url("https://cdn.example.test/m/", &key), "https://cdn.example.test/m/a/b.png");
    }

    #[test]
    fn content_type_follows_the_extension() {
        let of = |k: &str| content_type_of(&MediaKey::parse(k).unwrap());
        assert_eq!(of("x.png"), "image/png");
        assert_eq!(of("x.JPG"), "image/jpeg");
        assert_eq!(of("x.mov"), "video/quicktime");
        assert_eq!(of("x"), "application/octet-stream");
        assert_eq!(of("x.svg"), "application/octet-stream");
    }
}
