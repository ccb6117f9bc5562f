//! The clamd client against the local fake daemon, and against a real
//! clamd when `CLAMD_ADDR` names one (scripts/clamd-throwaway; with
//! `REQUIRE_CLAMD=1` a missing daemon fails instead of skipping).

use platform_media::scan::fake::{eicar, FakeClamd};
use platform_media::{Clamd, ScanError, Scanner, Verdict};

fn real_clamd() -> Option<Clamd> {
    match std::env::var("CLAMD_ADDR") {
        Ok(a) if !a.is_empty() => Some(Clamd::at(&a).expect("CLAMD_ADDR parses")),
        _ => {
            assert!(std::env::var("REQUIRE_CLAMD").as_deref() != Ok("1"), "REQUIRE_CLAMD=1 but CLAMD_ADDR is not set");
            eprintln!("CLAMD_ADDR not set: skipping the real clamd");
            None
        }
    }
}

/// A file with EICAR in the middle of a large stream, across chunk borders.
fn buried_eicar() -> Vec<u8> {
    let mut v = vec![b'a'; 200_000];
    v.extend(eicar());
    v.extend(vec![b'b'; 10_000]);
    v
}

async fn verdicts(scanner: &Clamd) {
    scanner.ping().await.expect("PONG");
    assert_eq!(scanner.scan(b"hello, a harmless text file").await.unwrap(), Verdict::Clean);
    match scanner.scan(&eicar()).await.unwrap() {
        Verdict::Infected(name) => assert!(name.to_lowercase().contains("eicar"), "{name}"),
        Verdict::Clean => panic!("EICAR passed"),
    }
    assert_eq!(scanner.scan(&[]).await.unwrap(), Verdict::Clean);
}

#[tokio::test]
async fn the_fake_daemon_finds_eicar_in_any_chunk() {
    let fake = FakeClamd::start().await;
    let scanner = Clamd::at(&fake.url()).unwrap().with_chunk_size(4096);
    verdicts(&scanner).await;
    // Split across chunk borders, the signature is still found: the stream
    // is reassembled before it is scanned.
    assert_eq!(scanner.scan(&buried_eicar()).await.unwrap(), Verdict::Infected("Eicar-Test-Signature".into()));
}

#[tokio::test]
async fn a_stream_over_the_daemons_limit_is_refused_not_passed() {
    let fake = FakeClamd::with(vec![(eicar(), "Eicar-Test-Signature".into())], 1000).await;
    let scanner = Clamd::at(&fake.url()).unwrap().with_chunk_size(300);
    let e = scanner.scan(&[0u8; 5000]).await.unwrap_err();
    assert!(matches!(e, ScanError::Refused(ref m) if m.contains("size limit")), "{e:?}");
}

#[tokio::test]
async fn a_stopped_daemon_is_unavailable() {
    let fake = FakeClamd::start().await;
    let scanner = Clamd::at(&fake.url()).unwrap();
    scanner.ping().await.unwrap();
    fake.stop();
    tokio::task::yield_now().await;
    // Aborting the accept loop closes the listener; give it a moment.
    let mut last = None;
    for _ in 0..50 {
        match scanner.scan(b"x").await {
            Err(e @ ScanError::Unavailable(_)) => {
                last = Some(e);
                break;
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    let e = last.expect("scan refused once the daemon is gone");
    assert!(e.to_string().contains("unavailable"), "{e}");
    assert!(matches!(scanner.ping().await, Err(ScanError::Unavailable(_))));
}

#[tokio::test]
async fn nothing_listening_is_unavailable_on_tcp_and_unix() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let tcp = Clamd::at(&format!("127.0.0.1:{port}")).unwrap();
    assert!(matches!(tcp.scan(b"x").await, Err(ScanError::Unavailable(_))));
    let dir = tempfile::tempdir().unwrap();
    let unix = Clamd::at(&format!("unix:{}", dir.path().join("none.sock").display())).unwrap();
    let e = unix.scan(b"x").await.unwrap_err();
    assert!(matches!(e, ScanError::Unavailable(_)), "{e:?}");
}

#[tokio::test]
async fn a_real_clamd_finds_eicar() {
    let Some(scanner) = real_clamd() else { return };
    verdicts(&scanner).await;
    match scanner.scan(&buried_eicar()).await.unwrap() {
        Verdict::Infected(name) => assert!(name.to_lowercase().contains("eicar"), "{name}"),
        Verdict::Clean => panic!("EICAR inside a larger file passed"),
    }
    // 20 MB of harmless bytes pass in many chunks.
    assert_eq!(scanner.scan(&vec![7u8; 20 * 1024 * 1024]).await.unwrap(), Verdict::Clean);
    // The same daemon over its Unix socket, when given.
    if let Ok(socket) = std::env::var("CLAMD_SOCKET") {
        let unix = Clamd::at(&socket).expect("CLAMD_SOCKET parses");
        assert!(matches!(unix.scan(&eicar()).await.unwrap(), Verdict::Infected(_)));
        assert_eq!(unix.scan(b"plain").await.unwrap(), Verdict::Clean);
    }
}
