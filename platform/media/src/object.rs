//! [`ObjectMedia`]: media in any `object_store` backend (S3-compatible
//! buckets, memory).

use crate::{content_type_of, join_url, MediaError, MediaKey, MediaStore, StoredMedia, DEFAULT_PUBLIC_BASE};
use async_trait::async_trait;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{Attribute, Attributes, ObjectStore, ObjectStoreExt, PutOptions, PutPayload};
use std::sync::Arc;

/// Objects in an [`ObjectStore`], one per key, with the content type stored
/// beside each. A put is a single request, which object stores apply whole
/// or not at all.
#[derive(Debug, Clone)]
pub struct ObjectMedia {
    store: Arc<dyn ObjectStore>,
    public_base: String,
}

impl ObjectMedia {
    /// Objects in `store`, served under [`DEFAULT_PUBLIC_BASE`].
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        ObjectMedia { store, public_base: DEFAULT_PUBLIC_BASE.to_string() }
    }

    /// An empty store in memory, for tests and demos; every clone shares it.
    pub fn in_memory() -> Self {
        ObjectMedia::new(Arc::new(InMemory::new()))
    }

    /// Serves objects under `base` (a CDN or bucket URL, or another app
    /// route) instead of [`DEFAULT_PUBLIC_BASE`].
    pub fn with_public_base(mut self, base: impl Into<String>) -> Self {
        self.public_base = base.into();
        self
    }

    /// The store underneath, for what [`MediaStore`] does not cover
    /// (listing, copying).
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }
}

/// The object path for a key: its segments, which need no escaping.
fn path(key: &MediaKey) -> Result<Path, MediaError> {
    Ok(Path::parse(key.as_str()).map_err(object_store::Error::from)?)
}

#[async_trait]
impl MediaStore for ObjectMedia {
    async fn put(&self, key: &MediaKey, bytes: Vec<u8>, content_type: &str) -> Result<String, MediaError> {
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, content_type.to_string().into());
        let options = PutOptions { attributes, ..PutOptions::default() };
        self.store.put_opts(&path(key)?, PutPayload::from(bytes), options).await?;
        Ok(self.url(key))
    }

    async fn get(&self, key: &MediaKey) -> Result<Option<StoredMedia>, MediaError> {
        let found = match self.store.get(&path(key)?).await {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let content_type = match found.attributes.get(&Attribute::ContentType) {
            Some(t) if !t.is_empty() => t.to_string(),
            _ => content_type_of(key).to_string(),
        };
        let bytes = found.bytes().await?.to_vec();
        Ok(Some(StoredMedia { bytes, content_type }))
    }

    async fn delete(&self, key: &MediaKey) -> Result<(), MediaError> {
        match self.store.delete(&path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn exists(&self, key: &MediaKey) -> Result<bool, MediaError> {
        match self.store.head(&path(key)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn url(&self, key: &MediaKey) -> String {
        join_url(&self.public_base, key)
    }
}
