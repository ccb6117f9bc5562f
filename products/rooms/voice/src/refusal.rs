//! Why a join was refused, in the stable codes of requirement 8.6.
//!
//! Janus itself checks every join against the room's `allowed` token list and
//! answers with an AudioBridge error code; which of the stable codes that is
//! depends on what the server knows about the token (expired and swept,
//! revoked, issued for another room, never issued).

platform_kernel::text_enum! {
    /// The stable refusal codes of requirement 8.6.
    pub enum RefusalCode {
        Expired => "expired",
        Invalid => "invalid",
        Revoked => "revoked",
        NotMember => "not_member",
        Blocked => "blocked",
        RoomClosed => "room_closed",
    }
}

/// What the server's pass registry knows about a token presented at a join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    /// Never issued (forged, mistyped, or from before a restart).
    Unknown,
    /// Issued and live, for this room (`same_room`) or for another one.
    Active { same_room: bool },
    /// Issued for this room, expired, and removed from Janus's list.
    Expired,
    /// Withdrawn (kick, sign-out, role change).
    Revoked,
    /// Withdrawn because the user is blocked from the room.
    Blocked,
}

/// AudioBridge: no such room.
pub const NO_SUCH_ROOM: i64 = 485;
/// AudioBridge: unauthorized (token not in the room's `allowed` list, or wrong secret/pin).
pub const UNAUTHORIZED: i64 = 489;
/// AudioBridge: missing or invalid element in the request (e.g. no token at all).
pub const MISSING_ELEMENT: i64 = 483;
pub const INVALID_ELEMENT: i64 = 484;
/// AudioBridge: the participant id is already in the room.
pub const ID_EXISTS: i64 = 490;

/// Maps Janus's refusal of a join to the stable code. `None` when the code
/// is not an admission refusal (e.g. an internal plugin error): the caller
/// reports that as the voice service failing, not as a refusal.
pub fn classify(janus_code: i64, token: TokenStatus) -> Option<RefusalCode> {
    match (janus_code, token) {
        (NO_SUCH_ROOM, _) => Some(RefusalCode::RoomClosed),
        (UNAUTHORIZED, TokenStatus::Expired) => Some(RefusalCode::Expired),
        (UNAUTHORIZED, TokenStatus::Revoked) => Some(RefusalCode::Revoked),
        (UNAUTHORIZED, TokenStatus::Blocked) => Some(RefusalCode::Blocked),
        (UNAUTHORIZED, TokenStatus::Active { same_room: false }) => Some(RefusalCode::NotMember),
        (UNAUTHORIZED, TokenStatus::Unknown | TokenStatus::Active { same_room: true }) => Some(RefusalCode::Invalid),
        (MISSING_ELEMENT | INVALID_ELEMENT | ID_EXISTS, _) => Some(RefusalCode::Invalid),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenStatus::*;

    #[test]
    fn janus_refusals_map_to_stable_codes() {
        let table: &[(i64, TokenStatus, Option<&str>)] = &[
            (UNAUTHORIZED, Unknown, Some("invalid")),
            (UNAUTHORIZED, Expired, Some("expired")),
            (UNAUTHORIZED, Revoked, Some("revoked")),
            (UNAUTHORIZED, Blocked, Some("blocked")),
            (UNAUTHORIZED, Active { same_room: false }, Some("not_member")),
            (UNAUTHORIZED, Active { same_room: true }, Some("invalid")),
            (NO_SUCH_ROOM, Unknown, Some("room_closed")),
            (NO_SUCH_ROOM, Active { same_room: true }, Some("room_closed")),
            (NO_SUCH_ROOM, Expired, Some("room_closed")),
            (MISSING_ELEMENT, Unknown, Some("invalid")),
            (INVALID_ELEMENT, Active { same_room: true }, Some("invalid")),
            (ID_EXISTS, Active { same_room: true }, Some("invalid")),
            (488, Active { same_room: true }, None),
            (499, Unknown, None),
        ];
        for (code, status, want) in table {
            assert_eq!(classify(*code, *status).map(|c| c.as_str()), *want, "{code} {status:?}");
        }
    }

    #[test]
    fn codes_are_the_six_of_requirement_8_6() {
        let all: Vec<&str> = RefusalCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(all, ["expired", "invalid", "revoked", "not_member", "blocked", "room_closed"]);
    }
}
