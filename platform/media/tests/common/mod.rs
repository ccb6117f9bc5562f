//! The contract every [`MediaStore`] keeps, shared by the backend tests.

use platform_media::{MediaKey, MediaStore, StoredMedia};

pub fn key(text: &str) -> MediaKey {
    MediaKey::parse(text).unwrap()
}

/// Round trips, overwrites, nested keys, deletes and existence checks,
/// against one store served under the default public base.
pub async fn round_trip(store: &dyn MediaStore) {
    let k = key("0190-abc.png");
    assert_eq!(store.get(&k).await.unwrap(), None);
    assert!(!store.exists(&k).await.unwrap());

    let url = store.put(&k, b"first".to_vec(), "image/png").await.unwrap();
    assert_eq!(url, "/media/0190-abc.png");
    assert_eq!(url, store.url(&k));
    assert!(store.exists(&k).await.unwrap());
    assert_eq!(store.get(&k).await.unwrap(), Some(StoredMedia { bytes: b"first".to_vec(), content_type: "image/png".into() }));

    store.put(&k, b"second, longer".to_vec(), "image/png").await.unwrap();
    assert_eq!(store.get(&k).await.unwrap().unwrap().bytes, b"second, longer");

    let nested = key("rooms/logos/r1.webp");
    store.put(&nested, vec![1, 2, 3], "image/webp").await.unwrap();
    assert_eq!(store.get(&nested).await.unwrap().unwrap().content_type, "image/webp");
    assert_eq!(store.url(&nested), "/media/rooms/logos/r1.webp");
    assert!(!store.exists(&key("rooms/logos")).await.unwrap(), "a folder is not an object");
    assert_eq!(store.get(&key("rooms")).await.unwrap(), None);

    store.delete(&k).await.unwrap();
    assert!(!store.exists(&k).await.unwrap());
    assert_eq!(store.get(&k).await.unwrap(), None);
    store.delete(&k).await.unwrap();
    store.delete(&key("never/stored.png")).await.unwrap();
    store.delete(&key("rooms/logos")).await.unwrap();
    assert!(store.exists(&nested).await.unwrap(), "deleting one key leaves the others");
}
