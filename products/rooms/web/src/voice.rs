//! The seam to the voice service. Every room change that voice must follow
//! (a room opening or closing, someone seated, unseated, muted, unmuted,
//! kicked or leaving) is reported here after its transaction commits;
//! [`JanusSeam`] follows them, in order, on `rooms_voice::VoiceService`
//! (creating and destroying the AudioBridge room, muting, kicking), and
//! issues the join passes pages and the API hand to browsers. Without a
//! voice server ([`from_env`] finds no `JANUS_URL`) the service is
//! `rooms_voice::Unavailable`, and pages say that voice is unavailable.
//!
//! AudioBridge numbers rooms and participants with integers that browsers
//! must hold exactly (below 2^53). A room's number is stored with it
//! (`rooms_store::voice_numbers`: 1, 2, …, allocated on first use, unique
//! under races), so the seam reads it from the store it is attached to; a
//! participant's is [`user_number`] (53 bits of a hash of the account id).

use futures_util::future::BoxFuture;
use rooms_domain::ids::{AccountId, RoomId};
use rooms_store::Db;
use rooms_voice::{JoinPass, Participant, VoiceError, VoiceService};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long a pass handed to a page lasts; an open page renews it before
/// then (`POST /api/v1/rooms/{id}/voice/renew`), so a page may stay open for
/// days.
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
    /// Extends `account`'s live pass `token` for the room by another pass
    /// lifetime (`None`: the pass is not live, or not theirs).
    fn renew<'a>(&'a self, _room: RoomId, _account: AccountId, _token: &'a str) -> BoxFuture<'a, Option<JoinPass>> {
        Box::pin(async { None })
    }
    /// Takes expired passes off the voice servers (the sweep job).
    fn sweep(&self) -> BoxFuture<'_, usize> {
        Box::pin(async { 0 })
    }
    /// Gives the seam the store where rooms' voice numbers live (once, when
    /// the application is built).
    fn attach(&self, _db: &Db) {}
    /// Follows the voice server's talking events for the life of the
    /// process: each seated person starting or stopping to talk is written
    /// to the room outbox as a `talking` event (so sockets on every node get
    /// it), then `talking(room, account, on)` is called (to wake delivery).
    fn on_talking(&self, _talking: Talking) {}
}

/// What [`VoiceSeam::on_talking`] calls.
pub type Talking = Arc<dyn Fn(RoomId, AccountId, bool) + Send + Sync>;

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

/// An id as an AudioBridge number: 53 bits of a hash of the UUID (never
/// 0), the same on every node (the room page's script computes the same).
pub fn voice_number(id: uuid::Uuid) -> u64 {
    // FNV-1a, 64 bits.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h & ((1 << 53) - 1)).max(1)
}

/// A room's stored AudioBridge number (allocated on first use).
pub async fn room_number(db: &Db, room: RoomId) -> Option<u64> {
    match rooms_store::voice_numbers::of(db, room).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, %room, "no voice number");
            None
        }
    }
}

pub fn user_number(account: AccountId) -> u64 {
    voice_number(account.as_uuid())
}

/// The seam over the voice service: changes are followed one at a time, in
/// the order they committed, by one task.
pub struct JanusSeam {
    service: Arc<dyn VoiceService>,
    db: Arc<std::sync::OnceLock<Db>>,
    changes: mpsc::UnboundedSender<VoiceChange>,
    /// How long passes last ([`PASS_TTL`]; shorter in tests).
    ttl: Duration,
    /// Added to stored room numbers (`JANUS_ROOM_NUMBER_BASE`), so several
    /// deployments, or test runs, can share one Janus.
    base: u64,
}

impl JanusSeam {
    /// Starts the task that follows changes (needs a Tokio runtime).
    pub fn start(service: Arc<dyn VoiceService>) -> Arc<JanusSeam> {
        Self::start_with(service, PASS_TTL, 0)
    }

    /// Like [`JanusSeam::start`], with passes lasting `ttl` and Janus room
    /// numbers `base` + the stored number.
    pub fn start_with(service: Arc<dyn VoiceService>, ttl: Duration, base: u64) -> Arc<JanusSeam> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let s = service.clone();
        let db: Arc<std::sync::OnceLock<Db>> = Arc::default();
        let store = db.clone();
        tokio::spawn(async move {
            while let Some(change) = rx.recv().await {
                let Some(db) = store.get() else {
                    tracing::error!(?change, "voice seam used before it was attached to the store");
                    continue;
                };
                if let Err(e) = follow(&*s, db, base, change).await {
                    tracing::warn!(?change, error = %e, "voice did not follow a room change");
                }
            }
        });
        Arc::new(JanusSeam { service, db, changes: tx, ttl, base })
    }

    pub fn service(&self) -> &Arc<dyn VoiceService> {
        &self.service
    }

    /// The room's AudioBridge number on Janus.
    pub async fn janus_room(&self, room: RoomId) -> Option<u64> {
        room_number(self.db.get()?, room).await.map(|n| n + self.base)
    }
}

async fn follow(v: &dyn VoiceService, db: &Db, base: u64, change: VoiceChange) -> Result<(), VoiceError> {
    use VoiceChange::*;
    let room = match change {
        RoomOpened(room) | RoomClosed(room) => room,
        // The pass comes from `admit`, asked for by the join's answer.
        Joined { .. } => return Ok(()),
        Seated { room, .. }
        | Unmuted { room, .. }
        | Unseated { room, .. }
        | Muted { room, .. }
        | Left { room, .. }
        | Kicked { room, .. } => room,
    };
    let Some(n) = room_number(db, room).await.map(|n| n + base) else { return Ok(()) };
    let r = match change {
        RoomOpened(_) => return v.open_room(n).await,
        RoomClosed(_) => return v.close_room(n).await,
        Joined { .. } => return Ok(()),
        Seated { account, .. } | Unmuted { account, .. } => v.set_muted(n, user_number(account), false).await,
        Unseated { account, .. } | Muted { account, .. } => v.set_muted(n, user_number(account), true).await,
        Left { account, .. } | Kicked { account, .. } => v.kick(n, user_number(account)).await,
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
            let n = self.janus_room(room).await?;
            let who = Participant { id: user_number(account), display: display.to_string() };
            let mut pass = self.service.admit(n, &who, self.ttl).await;
            if let Err(VoiceError::RoomClosed(_)) = pass {
                // Opened before this process started (or Janus restarted).
                if let Err(e) = self.service.open_room(n).await {
                    tracing::warn!(error = %e, "voice room not opened");
                    return None;
                }
                pass = self.service.admit(n, &who, self.ttl).await;
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

    fn renew<'a>(&'a self, room: RoomId, _account: AccountId, token: &'a str) -> BoxFuture<'a, Option<JoinPass>> {
        Box::pin(async move {
            let n = self.janus_room(room).await?;
            match self.service.renew(n, token, self.ttl).await {
                // The token is the pass's secret: whoever holds it (signed in)
                // is its holder.
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::info!(error = %e, "voice pass not renewed");
                    None
                }
            }
        })
    }

    fn attach(&self, db: &Db) {
        let _ = self.db.set(db.clone());
    }

    fn on_talking(&self, talking: Talking) {
        let mut events = self.service.events();
        let (db, base) = (self.db.clone(), self.base);
        tokio::spawn(async move {
            loop {
                let event = match events.recv().await {
                    Ok(e) => e,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                };
                let rooms_voice::VoiceEvent::Talking { room, user: Some(user), talking: on, .. } = event else { continue };
                let Some(db) = db.get() else { continue };
                let Some(stored) = room.checked_sub(base) else { continue };
                match rooms_store::voice_numbers::talking(db, stored, |a| user_number(a) == user, on, chrono::Utc::now()).await {
                    Ok(Some((room, account))) => talking(room, account, on),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "talking event not recorded"),
                }
            }
        });
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
/// (for the page's `connect-src`). Passes last [`PASS_TTL`] unless
/// `JANUS_PASS_TTL_SECS` says otherwise (short lifetimes for tests).
pub fn from_env() -> (Arc<dyn VoiceSeam>, Vec<String>) {
    let service = rooms_voice::from_env();
    let origins = if service.available() {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        get("JANUS_PUBLIC_URL").or_else(|| get("JANUS_URL")).map(|v| origins(&v)).unwrap_or_default()
    } else {
        vec![]
    };
    let base = std::env::var("JANUS_ROOM_NUMBER_BASE").ok().and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0);
    let ttl = std::env::var("JANUS_PASS_TTL_SECS").ok().and_then(|v| v.trim().parse::<u64>().ok()).filter(|s| *s > 0);
    (JanusSeam::start_with(service, ttl.map_or(PASS_TTL, Duration::from_secs), base), origins)
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
        let ids: Vec<u64> = (0..1000).map(|_| user_number(AccountId::new())).collect();
        assert!(ids.iter().all(|n| *n > 0 && *n < (1 << 53)));
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
        let id = AccountId::new();
        assert_eq!(user_number(id), user_number(id));
    }
}
