//! Every backend keeps the same contract: round trips, overwrites,
//! deletes and existence checks by key; plus what only the local disk can
//! get wrong (paths, temporary files, atomic replacement).

mod common;

use common::{key, round_trip};
use platform_media::{LocalDisk, MediaKey, MediaStore, ObjectMedia};
use std::sync::Arc;

#[tokio::test]
async fn local_disk_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalDisk::new(dir.path().join("media"));
    round_trip(&store).await;
    assert_eq!(std::fs::read(dir.path().join("media/rooms/logos/r1.webp")).unwrap(), [1, 2, 3]);
}

#[tokio::test]
async fn in_memory_round_trip() {
    round_trip(&ObjectMedia::in_memory()).await;
}

#[tokio::test]
async fn public_base_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let k = key("a/b.jpg");
    let local = LocalDisk::new(dir.path()).with_public_base("https://cdn.example.test/u/");
    assert_eq!(local.put(&k, vec![1], "image/jpeg").await.unwrap(), "https://cdn.example.test/u/a/b.jpg");
    let memory = ObjectMedia::in_memory().with_public_base("/uploads");
    assert_eq!(memory.put(&k, vec![1], "image/jpeg").await.unwrap(), "/uploads/a/b.jpg");
}

#[tokio::test]
async fn local_disk_answers_the_type_of_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalDisk::new(dir.path());
    for (name, want) in [("a.jpg", "image/jpeg"), ("a.gif", "image/gif"), ("a.mp4", "video/mp4"), ("a.bin", "application/octet-stream")] {
        store.put(&key(name), vec![0], "ignored/type").await.unwrap();
        assert_eq!(store.get(&key(name)).await.unwrap().unwrap().content_type, want, "{name}");
    }
}

#[tokio::test]
async fn traversal_is_refused_before_any_store_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("media");
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::write(dir.path().join("secret.txt"), "outside").unwrap();
    for text in ["../secret.txt", "a/../../secret.txt", "/etc/passwd", "..", ".", "a/./b", "a\\..\\b", "%2e%2e/secret.txt", ""] {
        assert!(MediaKey::parse(text).is_err(), "{text:?} must not be a key");
    }
    // Every key the parser lets through maps inside the directory.
    let store = LocalDisk::new(&inner);
    for text in ["x", "a/b/c.png", "a-b_c.d.e"] {
        assert!(store.path(&key(text)).starts_with(&inner), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_overwrite_is_atomic_and_leaves_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalDisk::new(dir.path()));
    let k = key("big.png");
    let old = vec![b'o'; 1 << 20];
    let new = vec![b'n'; 1 << 20];
    store.put(&k, old.clone(), "image/png").await.unwrap();

    // Readers racing a stream of overwrites see one version or the other,
    // whole.
    let writer = {
        let (store, k, old, new) = (store.clone(), k.clone(), old.clone(), new.clone());
        tokio::spawn(async move {
            for i in 0..20 {
                let bytes = if i % 2 == 0 { new.clone() } else { old.clone() };
                store.put(&k, bytes, "image/png").await.unwrap();
            }
        })
    };
    let mut reads = 0;
    while !writer.is_finished() || reads == 0 {
        let got = store.get(&k).await.unwrap().expect("always present").bytes;
        assert!(got == old || got == new, "read a torn file of {} bytes", got.len());
        reads += 1;
    }
    writer.await.unwrap();

    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["big.png"], "only the object remains");
}

#[tokio::test]
async fn local_put_fails_cleanly_when_the_path_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalDisk::new(dir.path());
    store.put(&key("a/b.png"), vec![1], "image/png").await.unwrap();
    // `a` is a directory: no object can be written there.
    assert!(store.put(&key("a"), vec![2], "image/png").await.is_err());
    let mut names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["a"], "the failed write left no temporary file");
    assert_eq!(store.get(&key("a/b.png")).await.unwrap().unwrap().bytes, [1]);
}
