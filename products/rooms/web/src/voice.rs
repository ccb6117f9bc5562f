//! The seam to the voice service. Every room change that voice must follow
//! (a room opening or closing, someone seated, unseated, muted, unmuted,
//! kicked or leaving) is reported here after its transaction commits. The
//! voice crate implements [`VoiceSeam`] over its `VoiceService` (creating
//! and destroying the media-server room, issuing passes, muting and
//! kicking); until then [`NoVoice`] ignores the calls and the site says that
//! voice is unavailable.

use rooms_domain::ids::{AccountId, RoomId};

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
