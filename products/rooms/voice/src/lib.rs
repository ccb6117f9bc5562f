//! Rooms' voice layer. The Rust server owns every decision; Janus's
//! AudioBridge plugin carries the audio and enforces what the server set:
//!
//! - [`VoiceService::open_room`] creates the AudioBridge room (48 kHz, a
//!   per-room secret, its `allowed` token list switched on, talking events);
//!   [`VoiceService::close_room`] destroys it.
//! - [`VoiceService::admit`] issues a short-lived [`JoinPass`]: a random token
//!   added to the room's `allowed` list and a random participant id. Janus
//!   refuses a join with any other token; [`VoiceService::refusal`] names the
//!   refusal with the stable codes of requirement 8.6.
//! - [`VoiceService::set_muted`] mutes or unmutes by participant; only
//!   unmuted (seated) participants may send audio: a watcher on each room
//!   mutes again anyone who unmutes themselves without the right, and kicks
//!   participant ids the server never issued.
//! - [`VoiceService::sweep`] takes expired passes off Janus's lists (the
//!   product's job calls it, e.g. every 30 s).
//!
//! [`JanusVoice`] drives one or several Janus servers over the HTTP API
//! (rooms placed by [`pool::place`]); [`Unavailable`] answers every call with
//! "voice is unavailable" so the site works without Janus. [`from_env`]
//! picks one from `JANUS_URL`.
//!
//! ```no_run
//! use rooms_voice::{Participant, VoiceService};
//! use std::time::Duration;
//!
//! # async fn demo() -> Result<(), rooms_voice::VoiceError> {
//! let voice = rooms_voice::from_env(); // Arc<dyn VoiceService>
//! let room = 1042; // the Rooms room id is the AudioBridge room number
//! voice.open_room(room).await?; // when the room goes live
//! // On entering: the pass goes to the browser (JSON), which runs
//! // `new RoomsVoice(pass).join()` from VOICE_JS.
//! let pass = voice.admit(room, &Participant { id: 7, display: "Amina".into() }, Duration::from_secs(3600)).await?;
//! voice.set_muted(room, 7, false).await?; // took a seat: may speak
//! voice.set_muted(room, 7, true).await?; // left the seat, or muted by the owner
//! // The browser's join was refused with AudioBridge error 489: name it.
//! let code = voice.refusal(room, &pass.token, 489); // Some(RefusalCode::…), e.g. "expired"
//! # let _ = code;
//! voice.kick(room, 7).await?; // moderation; `block` for a block
//! voice.sweep().await?; // from a job, e.g. every 30 s
//! let mut events = voice.events(); // talking, joins, mutes, enforcement
//! # let _ = events.try_recv();
//! voice.close_room(room).await?;
//! # Ok(()) }
//! ```

pub mod janus;
pub mod passes;
pub mod pool;
pub mod refusal;
mod service;

pub use passes::Withdrawal;
pub use refusal::{classify, RefusalCode, TokenStatus};
pub use service::{JanusServer, JanusVoice};

use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// The browser client (served by the product's web crate, e.g. at
/// `/assets/voice.js`): Janus's JSON protocol over HTTP long-poll, WebRTC
/// audio, `stats()`, `setSeated()`, `leave()`.
pub const VOICE_JS: &str = include_str!("../assets/voice.js");

/// Longest pass life (requirement 8.1); longer requests are cut to this.
pub const MAX_PASS_TTL: Duration = Duration::from_secs(24 * 3600);

/// Who is being admitted: the product's user id and the name others see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub id: u64,
    pub display: String,
}

/// What the browser needs to join a room's audio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JoinPass {
    /// The Janus API URL as the browser reaches it (`JANUS_PUBLIC_URL`).
    pub janus_url: String,
    /// The AudioBridge room number (the Rooms room id).
    pub room: u64,
    /// The AudioBridge participant id to join with (random, per pass).
    pub participant_id: u64,
    /// The join token on the room's `allowed` list.
    pub token: String,
    pub display: String,
    /// Unix seconds; after this Janus refuses the token (once swept).
    pub expires_at: u64,
    /// Whether to join muted (everyone joins muted; a seat unmutes).
    pub muted: bool,
}

/// A participant as Janus reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoiceParticipant {
    pub participant_id: u64,
    /// The product's user id, when the id was issued by this server.
    pub user: Option<u64>,
    pub display: String,
    /// WebRTC is up.
    pub setup: bool,
    pub muted: bool,
    pub talking: bool,
}

/// Live events from the rooms (Janus's notifications, as the watcher saw them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VoiceEvent {
    Joined {
        room: u64,
        participant_id: u64,
        user: Option<u64>,
    },
    Left {
        room: u64,
        participant_id: u64,
        user: Option<u64>,
    },
    Muted {
        room: u64,
        participant_id: u64,
        user: Option<u64>,
        muted: bool,
    },
    Talking {
        room: u64,
        participant_id: u64,
        user: Option<u64>,
        talking: bool,
    },
    /// The server muted again someone who unmuted without a seat.
    Enforced {
        room: u64,
        participant_id: u64,
        user: Option<u64>,
    },
    /// The server kicked a participant id it never issued.
    Intruder {
        room: u64,
        participant_id: u64,
    },
    RoomClosed {
        room: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoiceError {
    /// No voice server is configured or reachable; the site works without voice.
    #[error("voice is unavailable: {0}")]
    Unavailable(String),
    /// The room is not open for voice (never opened, closed, or lost by a
    /// restarted Janus): open it again with [`VoiceService::open_room`].
    #[error("voice room {0} is closed")]
    RoomClosed(u64),
    /// The media server refused the request.
    #[error("the voice server refused: {0}")]
    Refused(String),
}

impl VoiceError {
    /// A short stable code for API answers.
    pub fn code(&self) -> &'static str {
        match self {
            VoiceError::Unavailable(_) => "voice_unavailable",
            VoiceError::RoomClosed(_) => RefusalCode::RoomClosed.as_str(),
            VoiceError::Refused(_) => "voice_refused",
        }
    }
}

pub type VoiceResult<T> = Result<T, VoiceError>;

/// What the product calls. Room numbers are the Rooms room ids; participants
/// are the product's user ids.
#[async_trait::async_trait]
pub trait VoiceService: Send + Sync {
    /// Creates the room's audio mix (idempotent: an open room stays open).
    async fn open_room(&self, room: u64) -> VoiceResult<()>;
    /// Destroys the room's audio mix; everyone in it is dropped.
    async fn close_room(&self, room: u64) -> VoiceResult<()>;
    /// Issues a pass valid for `ttl` (at most [`MAX_PASS_TTL`]).
    async fn admit(&self, room: u64, who: &Participant, ttl: Duration) -> VoiceResult<JoinPass>;
    /// Extends a live pass (long sessions); the same token and id keep working.
    async fn renew(&self, room: u64, token: &str, ttl: Duration) -> VoiceResult<JoinPass>;
    /// Takes a token off the room's list: later joins with it are refused as `revoked`.
    async fn revoke(&self, room: u64, token: &str) -> VoiceResult<()>;
    /// Gives (`muted = false`, a seat) or takes the right to send audio, in Janus at once.
    async fn set_muted(&self, room: u64, participant: u64, muted: bool) -> VoiceResult<()>;
    /// Drops the participant from the room and revokes their passes (`revoked`).
    async fn kick(&self, room: u64, participant: u64) -> VoiceResult<()>;
    /// Like kick, and later joins with their passes are refused as `blocked`.
    async fn block(&self, room: u64, participant: u64) -> VoiceResult<()>;
    /// Who is in the room's mix, muted or not, talking or not.
    async fn participants(&self, room: u64) -> VoiceResult<Vec<VoiceParticipant>>;
    /// Takes expired passes off Janus's lists and drops whoever still holds
    /// one; returns how many passes lapsed.
    async fn sweep(&self) -> VoiceResult<usize>;
    /// Names Janus's refusal (the AudioBridge `error_code` the browser got)
    /// of a join to `room` with `token`.
    fn refusal(&self, room: u64, token: &str, janus_code: i64) -> Option<RefusalCode>;
    /// Live events from every open room.
    fn events(&self) -> broadcast::Receiver<VoiceEvent>;
    /// Whether voice works at all (false for [`Unavailable`]).
    fn available(&self) -> bool;
}

/// The voice service when no Janus is configured: every call says so.
pub struct Unavailable {
    reason: String,
    events: broadcast::Sender<VoiceEvent>,
}

impl Unavailable {
    pub fn new(reason: impl Into<String>) -> Self {
        Self { reason: reason.into(), events: broadcast::channel(1).0 }
    }
    fn err<T>(&self) -> VoiceResult<T> {
        Err(VoiceError::Unavailable(self.reason.clone()))
    }
}

#[async_trait::async_trait]
impl VoiceService for Unavailable {
    async fn open_room(&self, _: u64) -> VoiceResult<()> {
        self.err()
    }
    async fn close_room(&self, _: u64) -> VoiceResult<()> {
        self.err()
    }
    async fn admit(&self, _: u64, _: &Participant, _: Duration) -> VoiceResult<JoinPass> {
        self.err()
    }
    async fn renew(&self, _: u64, _: &str, _: Duration) -> VoiceResult<JoinPass> {
        self.err()
    }
    async fn revoke(&self, _: u64, _: &str) -> VoiceResult<()> {
        self.err()
    }
    async fn set_muted(&self, _: u64, _: u64, _: bool) -> VoiceResult<()> {
        self.err()
    }
    async fn kick(&self, _: u64, _: u64) -> VoiceResult<()> {
        self.err()
    }
    async fn block(&self, _: u64, _: u64) -> VoiceResult<()> {
        self.err()
    }
    async fn participants(&self, _: u64) -> VoiceResult<Vec<VoiceParticipant>> {
        self.err()
    }
    async fn sweep(&self) -> VoiceResult<usize> {
        Ok(0)
    }
    fn refusal(&self, _: u64, _: &str, _: i64) -> Option<RefusalCode> {
        None
    }
    fn events(&self) -> broadcast::Receiver<VoiceEvent> {
        self.events.subscribe()
    }
    fn available(&self) -> bool {
        false
    }
}

/// The voice service the environment describes:
///
/// - `JANUS_URL`: one or several (comma-separated) Janus HTTP API URLs as the
///   Rust server reaches them, e.g. `http://10.0.0.5:8088/janus`.
/// - `JANUS_PUBLIC_URL`: the same servers as browsers reach them, in the same
///   order (default: `JANUS_URL`).
/// - `JANUS_ADMIN_SECRET`: the AudioBridge `admin_key` (needed to create rooms
///   when the plugin is configured with one); also the key the per-room
///   secrets are derived from unless `JANUS_ROOM_SECRET_KEY` is set.
///
/// Without `JANUS_URL`, [`Unavailable`].
pub fn from_env() -> Arc<dyn VoiceService> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let Some(urls) = get("JANUS_URL") else { return Arc::new(Unavailable::new("no voice server is configured")) };
    let public = get("JANUS_PUBLIC_URL").unwrap_or_else(|| urls.clone());
    let admin_key = get("JANUS_ADMIN_SECRET");
    let room_key = get("JANUS_ROOM_SECRET_KEY").or_else(|| admin_key.clone()).unwrap_or_default();
    match JanusServer::from_lists(&urls, &public, admin_key.as_deref()) {
        Ok(servers) => Arc::new(JanusVoice::new(servers, room_key.as_bytes())),
        Err(e) => Arc::new(Unavailable::new(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unavailable_says_so_on_every_call() {
        let v = Unavailable::new("no voice server is configured");
        let who = Participant { id: 1, display: "a".into() };
        let errors = [
            v.open_room(1).await.unwrap_err(),
            v.close_room(1).await.unwrap_err(),
            v.admit(1, &who, Duration::from_secs(60)).await.unwrap_err(),
            v.renew(1, "t", Duration::from_secs(60)).await.unwrap_err(),
            v.revoke(1, "t").await.unwrap_err(),
            v.set_muted(1, 1, true).await.unwrap_err(),
            v.kick(1, 1).await.unwrap_err(),
            v.block(1, 1).await.unwrap_err(),
            v.participants(1).await.unwrap_err(),
        ];
        for e in errors {
            assert_eq!(e.code(), "voice_unavailable");
            assert_eq!(e.to_string(), "voice is unavailable: no voice server is configured");
        }
        assert!(!v.available());
        assert_eq!(v.sweep().await, Ok(0));
    }

    #[test]
    fn passes_serialise_for_the_browser() {
        let pass = JoinPass {
            janus_url: "http://127.0.0.1:8088/janus".into(),
            room: 7,
            participant_id: 42,
            token: "tok".into(),
            display: "Amina".into(),
            expires_at: 1_800_000_000,
            muted: true,
        };
        let json = serde_json::to_value(&pass).unwrap();
        assert_eq!(json["room"], 7);
        assert_eq!(json["participant_id"], 42);
        assert_eq!(json["token"], "tok");
        assert_eq!(json["muted"], true);
    }

    #[test]
    fn the_client_script_speaks_the_audiobridge_protocol() {
        for needle in ["janus.plugin.audiobridge", "request: 'join'", "request: 'configure'", "setSeated", "stats", "leave", "audioLevel"] {
            assert!(VOICE_JS.contains(needle), "voice.js lacks {needle}");
        }
    }
}
