//! The seam to the voice service. Every room change that voice must follow
//! (a room opening or closing, someone seated, unseated, muted, unmuted,
//! kicked or leaving) is reported here after its transaction commits;
//! [`JanusSeam`] follows them, in order, on `rooms_voice::VoiceService`
//! (creating and destroying the AudioBridge room, muting, kicking), and
//! issues the join passes pages and the API hand to browsers. Without a
//! voice server ([`from_env`] finds no `JANUS_URL`) the service is
//! `rooms_voice::Unavailable`, and pages say that voice is unavailable.
//!
//! Rooms' ids are UUIDs; AudioBridge numbers rooms and participants with
//! integers that browsers must hold exactly (below 2^53), so each id is
//! mapped to one by [`voice_number`].

use futures_util::future::BoxFuture;
use rooms_domain::ids::{AccountId, RoomId};
use rooms_voice::{JoinPass, Participant, VoiceError, VoiceService};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long a pass handed to a page lasts (a page open longer reloads).
pub const PASS_TTL: Duration = Duration::from_secs(6 * 3600);

/// A change voice must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoiceChange {
    RoomOpened(RoomId),
    RoomClosed(RoomId),
    Joined { room: RoomId, account: AccountId },
    Left { room: RoomId, account: AccountId },
    Seated { room: RoomId, account: AccountId },
    Unseated { room: RoomId, account: AccountId },
    Muted { room: RoomId, account: AccountId },
    Unmuted { room: RoomId, account: AccountId },
    Kicked { room: RoomId, account: AccountId },
}

/// What the web layer calls after each committed change.
pub trait VoiceSeam: Send + Sync {
    /// Follows a committed change. Failures are the voice service's to log
    /// and retry; the room change itself stands.
    fn apply(&self, change: VoiceChange);
    /// Whether voice is reachable (pages say so when it is not).
    fn available(&self) -> bool;
    /// A pass for `account` to join the room's audio (`None` when voice is
    /// unavailable). `may_speak`: they hold an unmuted seat now.
    fn admit<'a>(&'a self, _room: RoomId, _account: AccountId, _display: &'a str, _may_speak: bool) -> BoxFuture<'a, Option<JoinPass>> {
        Box::pin(async { None })
    }
    /// Takes expired passes off the voice servers (the sweep job).
    fn sweep(&self) -> BoxFuture<'_, usize> {
        Box::pin(async { 0 })
    }
}

/// No voice service configured.
pub struct NoVoice;

impl VoiceSeam for NoVoice {
    fn apply(&self, change: VoiceChange) {
        tracing::debug!(?change, "voice service not configured");
    }
    fn available(&self) -> bool {
        false
    }
}

/// A Rooms id as an AudioBridge number: 53 bits of a hash of the UUID
/// (never 0), the same on every node.
pub fn voice_number(id: uuid::Uuid) -> u64 {
    // FNV-1a, 64 bits.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h & ((1 << 53) - 1)).max(1)
}

pub fn room_number(room: RoomId) -> u64 {
    voice_number(room.as_uuid())
}

pub fn user_number(account: AccountId) -> u64 {
    voice_number(account.as_uuid())
}

/// The seam over the voice service: changes are followed one at a time, in
/// the order they committed, by one task.
pub struct JanusSeam {
    service: Arc<dyn VoiceService>,
    changes: mpsc::UnboundedSender<VoiceChange>,
}

impl JanusSeam {
    /// Starts the task that follows changes (needs a Tokio runtime).
    pub fn start(service: Arc<dyn VoiceService>) -> Arc<JanusSeam> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let s = service.clone();
        tokio::spawn(async move {
            while let Some(change) = rx.recv().await {
                if let Err(e) = follow(&*s, change).await {
                    tracing::warn!(?change, error = %e, "voice did not follow a room change");
                }
            }
        });
        Arc::new(JanusSeam { service, changes: tx })
    }

    pub fn service(&self) -> &Arc<dyn VoiceService> {
        &self.service
    }
}

async fn follow(v: &dyn VoiceService, change: VoiceChange) -> Result<(), VoiceError> {
    use VoiceChange::*;
    let r = match change {
        RoomOpened(room) => return v.open_room(room_number(room)).await,
        RoomClosed(room) => return v.close_room(room_number(room)).await,
        // The pass comes from `admit`, asked for by the join's answer.
        Joined { .. } => return Ok(()),
        Seated { room, account } | Unmuted { room, account } => v.set_muted(room_number(room), user_number(account), false).await,
        Unseated { room, account } | Muted { room, account } => v.set_muted(room_number(room), user_number(account), true).await,
        Left { room, account } | Kicked { room, account } => v.kick(room_number(room), user_number(account)).await,
    };
    match r {
        // Voice never opened this room (or lost it): nobody is in its mix.
        Err(VoiceError::RoomClosed(_)) => Ok(()),
        r => r,
    }
}

impl VoiceSeam for JanusSeam {
    fn apply(&self, change: VoiceChange) {
        if self.service.available() {
            let _ = self.changes.send(change);
        }
    }

    fn available(&self) -> bool {
        self.service.available()
    }

    fn admit<'a>(&'a self, room: RoomId, account: AccountId, display: &'a str, may_speak: bool) -> BoxFuture<'a, Option<JoinPass>> {
        Box::pin(async move {
            if !self.service.available() {
                return None;
            }
            let (n, who) = (room_number(room), Participant { id: user_number(account), display: display.to_string() });
            let mut pass = self.service.admit(n, &who, PASS_TTL).await;
            if let Err(VoiceError::RoomClosed(_)) = pass {
                // Opened before this process started (or Janus restarted).
                if let Err(e) = self.service.open_room(n).await {
                    tracing::warn!(error = %e, "voice room not opened");
                    return None;
                }
                pass = self.service.admit(n, &who, PASS_TTL).await;
            }
            match pass {
                Ok(p) => {
                    if let Err(e) = self.service.set_muted(n, who.id, !may_speak).await {
                        tracing::warn!(error = %e, "voice speaking right not set");
                    }
                    Some(p)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "no voice pass");
                    None
                }
            }
        })
    }

    fn sweep(&self) -> BoxFuture<'_, usize> {
        Box::pin(async move {
            match self.service.sweep().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "voice sweep failed");
                    0
                }
            }
        })
    }
}

/// The voice the environment describes (`rooms_voice::from_env`: Janus at
/// `JANUS_URL`, or unavailable), with the origins browsers reach it at
/// (for the page's `connect-src`).
pub fn from_env() -> (Arc<dyn VoiceSeam>, Vec<String>) {
    let service = rooms_voice::from_env();
    let origins = if service.available() {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        get("JANUS_PUBLIC_URL").or_else(|| get("JANUS_URL")).map(|v| origins(&v)).unwrap_or_default()
    } else {
        vec![]
    };
    (JanusSeam::start(service), origins)
}

/// `scheme://host[:port]` of each comma-separated URL.
pub fn origins(urls: &str) -> Vec<String> {
    urls.split(',')
        .filter_map(|u| {
            let u = u.trim();
            let (scheme, rest) = u.split_once("://")?;
            let host = rest.split(['/', '?', '#']).next().filter(|h| !h.is_empty())?;
            Some(format!("{scheme}://{host}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_and_host() {
        assert_eq!(
            origins("http://10.0.0.5:8088/janus, https://voice.example.com/janus?x=1,nonsense"),
            ["http://10.0.0.5:8088", "https://voice.example.com"]
        );
    }

    #[test]
    fn voice_numbers_fit_a_browser_and_differ() {
        let ids: Vec<u64> = (0..1000).map(|_| room_number(RoomId::new())).collect();
        assert!(ids.iter().all(|n| *n > 0 && *n < (1 << 53)));
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
        let id = AccountId::new();
        assert_eq!(user_number(id), user_number(id));
    }
}
