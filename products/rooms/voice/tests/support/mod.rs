//! What the voice tests share: the throwaway Janus from the environment.
#![allow(dead_code)]

pub mod browser;

use rooms_voice::{JanusServer, JanusVoice};

pub struct JanusEnv {
    pub url: String,
    pub admin_key: Option<String>,
}

/// The Janus to test against (`JANUS_URL`, `JANUS_ADMIN_SECRET`), or None
/// when there is none and the run does not require one (`REQUIRE_JANUS=1`).
pub fn janus() -> Option<JanusEnv> {
    match std::env::var("JANUS_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => Some(JanusEnv { url, admin_key: std::env::var("JANUS_ADMIN_SECRET").ok().filter(|k| !k.is_empty()) }),
        None => {
            assert!(
                std::env::var("REQUIRE_JANUS").as_deref() != Ok("1"),
                "JANUS_URL unset but REQUIRE_JANUS=1 (eval \"$(scripts/janus-throwaway start)\")"
            );
            eprintln!("skipping voice test: JANUS_URL unset (eval \"$(scripts/janus-throwaway start)\")");
            None
        }
    }
}

pub fn voice(env: &JanusEnv) -> JanusVoice {
    let servers = JanusServer::from_lists(&env.url, &env.url, env.admin_key.as_deref()).unwrap();
    JanusVoice::new(servers, b"test room key")
}

/// A room number no other test (or run) on the same Janus uses.
pub fn room_number() -> u64 {
    use rand::Rng;
    rand::thread_rng().gen_range(1_000_000..(1u64 << 52))
}

/// The first event `pick` accepts within 5 s.
pub async fn next_event<T>(
    events: &mut tokio::sync::broadcast::Receiver<rooms_voice::VoiceEvent>,
    pick: impl Fn(&rooms_voice::VoiceEvent) -> Option<T>,
) -> Option<T> {
    tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            match events.recv().await {
                Ok(e) => {
                    if let Some(t) = pick(&e) {
                        return t;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    })
    .await
    .ok()
}
