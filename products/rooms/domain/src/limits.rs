//! The limits and timers table of the requirements, as named constants.
//! Everything that waits, expires or counts reads its figure from here.

use std::time::Duration;

/// A seat invitation lapses after this long.
pub const SEAT_INVITE_EXPIRY: Duration = Duration::from_secs(30);
/// A seated user whose connection dropped keeps the seat this long after
/// their last sign of life; a heartbeat within it resumes without rejoining.
pub const SEAT_HOLD: Duration = Duration::from_secs(45);
/// A participant without a heartbeat for this long counts as gone (unless
/// seated, see [`SEAT_HOLD`]).
pub const PRESENCE_TIMEOUT: Duration = Duration::from_secs(30);
/// How often clients send a heartbeat.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
/// A room counts as empty after nobody has been present this long.
pub const EMPTY_ROOM_GRACE: Duration = Duration::from_secs(15);
/// An empty room closes itself after this long.
pub const EMPTY_ROOM_AUTO_CLOSE: Duration = Duration::from_secs(120);
/// How often the presence sweep runs (the requirement: at least every 30 s).
pub const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// Room chat messages per user per minute.
pub const CHAT_PER_MINUTE: u32 = 60;
/// Typing signals: at most one per this interval per user.
pub const TYPING_EVERY: Duration = Duration::from_secs(2);
/// Sign-in attempts per minute, per account and per address.
pub const SIGN_IN_PER_MINUTE: u32 = 5;
/// An emailed reset link works this long.
pub const RESET_TOKEN_EMAIL: Duration = Duration::from_secs(15 * 60);
/// A reset token issued by staff for a phone-only account works this long.
pub const RESET_TOKEN_STAFF: Duration = Duration::from_secs(24 * 60 * 60);
/// Reset mails sent to one account per hour; further requests in the hour
/// are answered the same but send nothing.
pub const RESET_MAILS_PER_HOUR: i64 = 3;
/// A kicked user may not re-enter the room for this long (open value).
pub const KICK_COOLDOWN: Duration = Duration::from_secs(10 * 60);
/// Listeners a room holds at once by default.
pub const ROOM_CAPACITY: i64 = 1_000;
/// Mic seats of a new room, and the range an owner may choose.
pub const DEFAULT_SEATS: i64 = 5;
pub const MIN_SEATS: i64 = 1;
pub const MAX_SEATS: i64 = 15;
/// An agency's invitation lapses unanswered after this long (6.1).
pub const AGENCY_INVITATION_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);
/// A member who leaves (or is removed) stays a member this long (6.5; open
/// value, a setting: `ROOMS_AGENCY_LEAVE_NOTICE_DAYS`).
pub const AGENCY_LEAVE_NOTICE: Duration = Duration::from_secs(7 * 24 * 3600);

/// `d` as a `chrono::Duration`, for arithmetic on timestamps.
pub fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).expect("limits are small")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds() {
        assert_eq!(SEAT_INVITE_EXPIRY.as_secs(), 30);
        assert_eq!(SEAT_HOLD.as_secs(), 45);
        assert_eq!((EMPTY_ROOM_GRACE.as_secs(), EMPTY_ROOM_AUTO_CLOSE.as_secs()), (15, 120));
        assert!(SWEEP_EVERY.as_secs() <= 30, "auto-close is checked at least every 30 s");
        assert!(PRESENCE_TIMEOUT < SEAT_HOLD, "a seat outlives the presence timeout");
        assert_eq!((RESET_TOKEN_EMAIL.as_secs(), RESET_TOKEN_STAFF.as_secs()), (900, 86_400));
        assert_eq!(chrono(KICK_COOLDOWN), chrono::Duration::minutes(10));
        assert_eq!(chrono(AGENCY_INVITATION_EXPIRY), chrono::Duration::days(7));
        assert_eq!(chrono(AGENCY_LEAVE_NOTICE), chrono::Duration::days(7));
    }
}
