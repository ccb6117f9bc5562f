//! [`LocalDisk`]: media as files under one directory.

use crate::{content_type_of, join_url, MediaError, MediaKey, MediaStore, StoredMedia, DEFAULT_PUBLIC_BASE};
use async_trait::async_trait;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Files in a local directory, one per key (a key's slashes are
/// subdirectories). Writes go to a temporary file beside the target, are
/// flushed to disk, then renamed over it, so a reader never sees half a
/// file and a crash leaves the old one.
///
/// The content type is not stored: [`MediaStore::get`] answers from the
/// key's extension, so keys should end in the checked type's extension
/// ([`MediaKey::unique`] does).
#[derive(Debug, Clone)]
pub struct LocalDisk {
    dir: PathBuf,
    public_base: String,
}

impl LocalDisk {
    /// Files under `dir` (created on first write), served under
    /// [`DEFAULT_PUBLIC_BASE`].
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LocalDisk { dir: dir.into(), public_base: DEFAULT_PUBLIC_BASE.to_string() }
    }

    /// Serves objects under `base` (a path such as `/uploads/` or a URL)
    /// instead of [`DEFAULT_PUBLIC_BASE`].
    pub fn with_public_base(mut self, base: impl Into<String>) -> Self {
        self.public_base = base.into();
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file for `key`; always inside `dir`, since a key has no empty,
    /// `.` or `..` segment and is never absolute.
    pub fn path(&self, key: &MediaKey) -> PathBuf {
        key.segments().fold(self.dir.clone(), |p, s| p.join(s))
    }
}

/// Errors that mean "nothing is stored there": the path is missing, or a
/// file or directory is in the way of it.
fn is_absent(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory | ErrorKind::IsADirectory)
}

#[async_trait]
impl MediaStore for LocalDisk {
    async fn put(&self, key: &MediaKey, bytes: Vec<u8>, _content_type: &str) -> Result<String, MediaError> {
        let path = self.path(key);
        let parent = path.parent().unwrap_or(&self.dir);
        tokio::fs::create_dir_all(parent).await?;
        // Beside the target, so the rename stays on one file system; named
        // with a leading dot, which no key segment has, so it never clashes
        // with a stored object.
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("media");
        let tmp = parent.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let written = async {
            let mut file = tokio::fs::File::create(&tmp).await?;
            file.write_all(&bytes).await?;
            file.sync_all().await?;
            drop(file);
            tokio::fs::rename(&tmp, &path).await
        }
        .await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e.into());
        }
        Ok(self.url(key))
    }

    async fn get(&self, key: &MediaKey) -> Result<Option<StoredMedia>, MediaError> {
        match tokio::fs::read(self.path(key)).await {
            Ok(bytes) => Ok(Some(StoredMedia { bytes, content_type: content_type_of(key).to_string() })),
            Err(e) if is_absent(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, key: &MediaKey) -> Result<(), MediaError> {
        match tokio::fs::remove_file(self.path(key)).await {
            Ok(()) => Ok(()),
            Err(e) if is_absent(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn exists(&self, key: &MediaKey) -> Result<bool, MediaError> {
        match tokio::fs::metadata(self.path(key)).await {
            Ok(m) => Ok(m.is_file()),
            Err(e) if is_absent(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn url(&self, key: &MediaKey) -> String {
        join_url(&self.public_base, key)
    }
}
