//! Room input (requirements 2.1–2.4, 3.3) and room roles.

use crate::limits::{MAX_SEATS, MIN_SEATS};
use platform_kernel::FieldError;
use serde::Serialize;

fn err(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError::new(field, message)
}

/// Trimmed text of at most `max` characters without control characters
/// (line breaks allowed where `lines`).
fn text(field: &'static str, raw: &str, min: usize, max: usize, lines: bool, what: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    if s.chars().any(|c| c.is_control() && !(lines && matches!(c, '\n' | '\r'))) {
        return Err(err(field, "must not contain control characters"));
    }
    let n = s.chars().count();
    if n < min {
        return Err(err(
            field,
            if min == 1 { format!("{what} cannot be empty") } else { format!("{what} must be at least {min} characters") },
        ));
    }
    if n > max {
        return Err(err(field, format!("{what} must be at most {max} characters")));
    }
    Ok(s.to_string())
}

/// A room name: 1–40 characters, unique platform-wide ignoring case
/// ([`RoomName::key`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoomName(String);

impl RoomName {
    pub fn parse(raw: &str) -> Result<RoomName, FieldError> {
        text("name", raw, 1, 40, false, "Room name").map(RoomName)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The form uniqueness is judged on: lower case, inner runs of spaces
    /// folded to one.
    pub fn key(&self) -> String {
        self.0.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// The room's pinned announcement: at most 800 characters.
pub fn announcement(raw: &str) -> Result<String, FieldError> {
    text("announcement", raw, 0, 800, true, "Announcement")
}

/// The greeting shown on entry: at most 255 characters.
pub fn greeting(raw: &str) -> Result<String, FieldError> {
    text("greeting", raw, 0, 255, true, "Greeting")
}

/// A room chat message (3.3): 1–500 characters.
pub fn chat_text(raw: &str) -> Result<String, FieldError> {
    text("body", raw, 1, 500, true, "Message")
}

/// A private message: 1–2,000 characters.
pub fn private_text(raw: &str) -> Result<String, FieldError> {
    text("body", raw, 1, 2000, true, "Message")
}

/// Mic seats of a room: 1–15.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SeatCount(i64);

impl SeatCount {
    pub fn parse(n: i64) -> Result<SeatCount, FieldError> {
        if (MIN_SEATS..=MAX_SEATS).contains(&n) {
            Ok(SeatCount(n))
        } else {
            Err(err("seat_count", format!("A room has {MIN_SEATS} to {MAX_SEATS} seats")))
        }
    }
    pub fn get(self) -> i64 {
        self.0
    }
}

impl Default for SeatCount {
    fn default() -> Self {
        SeatCount(crate::limits::DEFAULT_SEATS)
    }
}

/// A private room's entry password: 4–32 characters. Stored only as a
/// slow salted hash.
#[derive(Clone)]
pub struct RoomPassword(String);

impl RoomPassword {
    pub fn parse(raw: &str) -> Result<RoomPassword, FieldError> {
        let n = raw.chars().count();
        if !(4..=32).contains(&n) {
            return Err(err("password", "A room password has 4 to 32 characters"));
        }
        Ok(RoomPassword(raw.to_string()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RoomPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RoomPassword(…)")
    }
}

platform_kernel::text_enum! {
    pub enum RoomKind { Public => "public", Private => "private" }
}

platform_kernel::text_enum! {
    pub enum RoomStatus { Open => "open", Closed => "closed" }
}

/// Who may enter with what (2.4): a public room takes no password; a
/// private one needs one. Parses the pair a form or API call sends.
#[derive(Debug, Clone)]
pub enum Access {
    Public,
    Private(RoomPassword),
}

impl Access {
    /// `kind` with `password` (blank = none). A private room without a
    /// password, or a public one with one, is refused.
    pub fn parse(kind: RoomKind, password: Option<&str>) -> Result<Access, FieldError> {
        let password = password.filter(|p| !p.is_empty());
        match (kind, password) {
            (RoomKind::Public, None) => Ok(Access::Public),
            (RoomKind::Public, Some(_)) => Err(err("password", "A public room has no password; make it private first")),
            (RoomKind::Private, None) => Err(err("password", "A private room needs a password")),
            (RoomKind::Private, Some(p)) => RoomPassword::parse(p).map(Access::Private),
        }
    }
    pub fn kind(&self) -> RoomKind {
        match self {
            Access::Public => RoomKind::Public,
            Access::Private(_) => RoomKind::Private,
        }
    }
}

/// What visitors (people in the room without a role) may do (2.2–2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct VisitorPermissions {
    pub speak: bool,
    pub text: bool,
    pub pictures: bool,
}

impl Default for VisitorPermissions {
    /// Visitors may send text but not speak or send pictures.
    fn default() -> Self {
        VisitorPermissions { speak: false, text: true, pictures: false }
    }
}

platform_kernel::text_enum! {
    /// Room roles, highest first: owner > admin > member > visitor.
    pub enum RoomRole { Owner => "owner", Admin => "admin", Member => "member", Visitor => "visitor" }
}

impl RoomRole {
    /// Higher outranks lower.
    pub fn rank(self) -> u8 {
        match self {
            RoomRole::Owner => 3,
            RoomRole::Admin => 2,
            RoomRole::Member => 1,
            RoomRole::Visitor => 0,
        }
    }
    pub fn outranks(self, other: RoomRole) -> bool {
        self.rank() > other.rank()
    }
    /// Owners and room admins moderate.
    pub fn moderates(self) -> bool {
        self.rank() >= RoomRole::Admin.rank()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names() {
        let cases = [
            ("Lagos Nights", true),
            ("", false),
            ("   ", false),
            (&"n".repeat(40) as &str, true),
            (&"n".repeat(41), false),
            ("a\u{0}b", false),
        ];
        for (raw, ok) in cases {
            assert_eq!(RoomName::parse(raw).is_ok(), ok, "{raw:?}");
        }
        assert_eq!(RoomName::parse("  Lagos   NIGHTS ").unwrap().key(), "lagos nights");
        assert_eq!(RoomName::parse("Lagos Nights").unwrap().key(), RoomName::parse("lagos nights").unwrap().key());
    }

    #[test]
    fn texts() {
        assert!(chat_text("").is_err());
        assert!(chat_text(&"x".repeat(500)).is_ok());
        assert!(chat_text(&"x".repeat(501)).is_err());
        assert!(chat_text("two\nlines").is_ok());
        assert!(announcement(&"x".repeat(800)).is_ok() && announcement(&"x".repeat(801)).is_err());
        assert!(greeting(&"x".repeat(255)).is_ok() && greeting(&"x".repeat(256)).is_err());
        assert_eq!(greeting("").unwrap(), "");
    }

    #[test]
    fn seats_and_access() {
        for (n, ok) in [(0, false), (1, true), (5, true), (15, true), (16, false), (-3, false)] {
            assert_eq!(SeatCount::parse(n).is_ok(), ok, "{n}");
        }
        assert_eq!(SeatCount::default().get(), 5);
        let cases = [
            (RoomKind::Public, None, Ok(RoomKind::Public)),
            (RoomKind::Public, Some(""), Ok(RoomKind::Public)),
            (RoomKind::Public, Some("secret"), Err("password")),
            (RoomKind::Private, None, Err("password")),
            (RoomKind::Private, Some("abc"), Err("password")),
            (RoomKind::Private, Some("secret"), Ok(RoomKind::Private)),
        ];
        for (kind, pw, want) in cases {
            assert_eq!(Access::parse(kind, pw).map(|a| a.kind()).map_err(|e| e.field), want, "{kind:?} {pw:?}");
        }
        assert_eq!(VisitorPermissions::default(), VisitorPermissions { speak: false, text: true, pictures: false });
    }

    #[test]
    fn ranks() {
        use RoomRole::*;
        assert!(Owner.outranks(Admin) && Admin.outranks(Member) && Member.outranks(Visitor));
        assert!(!Admin.outranks(Admin) && !Visitor.outranks(Member));
        assert!(Owner.moderates() && Admin.moderates() && !Member.moderates() && !Visitor.moderates());
    }
}
