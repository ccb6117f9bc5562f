//! Chats and messages: states, who may take part, and what a message may hold.

use crate::ids::{AdminId, ChatId, OperatorId, UserId};
use crate::validation::FieldErrors;
use crate::Permissions;

text_enum! {
    /// Lifecycle of a chat (spec: chats.status).
    pub enum ChatStatus {
        Active => "active", Idle => "idle", Closed => "closed", Archived => "archived", Escalated => "escalated",
    }
}

text_enum! {
    /// Which side of a chat wrote a message: the real user, or the profile.
    pub enum Side { Real => "real", Fictional => "fictional" }
}

impl Side {
    /// The word users see for a side: they are the `user`, the other side
    /// is the `profile`. Only staff payloads use the stored names.
    pub fn public_name(self) -> &'static str {
        match self {
            Side::Real => "user",
            Side::Fictional => "profile",
        }
    }

    pub fn other(self) -> Side {
        match self {
            Side::Real => Side::Fictional,
            Side::Fictional => Side::Real,
        }
    }
}

text_enum! {
    /// Delivery state of a message; it only ever moves forward.
    pub enum MessageStatus {
        Sending => "sending", Sent => "sent", Delivered => "delivered", Read => "read", Failed => "failed",
    }
}

text_enum! {
    pub enum ContentType { Text => "text", Image => "image", Voice => "voice", Video => "video", Gif => "gif" }
}

/// Who is looking at a chat.
#[derive(Debug, Clone, Copy)]
pub enum Viewer {
    User(UserId),
    Operator(OperatorId),
    Admin(AdminId, Permissions),
}

/// The parties of one chat, as far as access is concerned.
#[derive(Debug, Clone, Copy)]
pub struct ChatParties {
    pub id: ChatId,
    pub user: UserId,
    pub operator: Option<OperatorId>,
}

/// The side a viewer speaks for in a chat, or `None` when they may neither
/// read nor write it. Only the chat's own user, the operator assigned to it,
/// and admins allowed to manage chats get in.
pub fn side_of(viewer: Viewer, chat: &ChatParties) -> Option<Side> {
    match viewer {
        Viewer::User(u) if u == chat.user => Some(Side::Real),
        Viewer::Operator(o) if chat.operator == Some(o) => Some(Side::Fictional),
        Viewer::Admin(_, perms) if perms.has(crate::Permission::ManageChats) => Some(Side::Fictional),
        _ => None,
    }
}

pub const MAX_TEXT_CHARS: usize = 1_000;

text_enum! {
    /// Why a user reports a profile.
    pub enum ReportReason { Spam => "spam", Offensive => "offensive", Fake => "fake", Underage => "underage", Other => "other" }
}

impl ReportReason {
    /// The choice as the report form words it.
    pub fn label(self) -> &'static str {
        match self {
            ReportReason::Spam => "Spam or advertising",
            ReportReason::Offensive => "Offensive or abusive",
            ReportReason::Fake => "Misleading profile",
            ReportReason::Underage => "May be under 18",
            ReportReason::Other => "Something else",
        }
    }
}

text_enum! {
    /// Where a report stands in the staff's review queue.
    pub enum ReportStatus { Pending => "pending", Resolved => "resolved", Dismissed => "dismissed" }
}

/// At most this many characters of a report's details.
pub const MAX_REPORT_DETAILS: usize = 1_000;

/// How long a message preview (chat list, notifications) may be.
pub const PREVIEW_CHARS: usize = 80;

/// A message in a line: its text cut at a word near [`PREVIEW_CHARS`]
/// with an ellipsis, or what it carries when it has no text.
pub fn preview(content: &str, content_type: ContentType) -> String {
    let text = content.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return match content_type {
            ContentType::Text => String::new(),
            _ => "Sent a photo".into(),
        };
    }
    if text.chars().count() <= PREVIEW_CHARS {
        return text;
    }
    let cut: String = text.chars().take(PREVIEW_CHARS - 1).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > PREVIEW_CHARS / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end())
}

/// Trims a text message and checks it is non-empty, at most 1,000
/// characters, and free of control characters other than line breaks and
/// tabs (a NUL byte cannot even be stored in PostgreSQL text).
pub fn message_text(raw: &str) -> Result<String, FieldErrors> {
    let text = raw.trim();
    let mut errors = FieldErrors::new();
    if text.is_empty() {
        errors.add("content", "Write a message first.");
    } else if text.chars().count() > MAX_TEXT_CHARS {
        errors.add("content", format!("Messages are limited to {MAX_TEXT_CHARS} characters."));
    } else if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        errors.add("content", "Messages cannot contain control characters.");
    }
    errors.into_result().map(|()| text.to_string())
}

/// Image formats accepted in chats, with their limits.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
pub const MIN_IMAGE_SIDE: u32 = 16;
pub const MAX_IMAGE_SIDE: u32 = 4096;

/// What a user waiting for a reply is told, in public words, or nothing
/// when no wait needs explaining: their last message is answered, or
/// someone is already on the chat. Nothing is ever lost: the message is
/// stored either way.
pub fn waiting_notice(profile: &str, unanswered: bool, attended: bool, anyone_available: bool) -> Option<String> {
    match (unanswered, attended, anyone_available) {
        (false, _, _) | (true, true, _) => None,
        (true, false, true) => Some(format!("{profile} usually replies within a few minutes. Your message is saved.")),
        (true, false, false) => {
            Some(format!("{profile} isn't around right now. Your message is saved and {profile} will reply when back."))
        }
    }
}

text_enum! {
    /// What the back office does to a message's text: `edit` rewrites a
    /// profile's words; `redact` removes a user's words for moderation.
    pub enum Correction { Edit => "edit", Redact => "redact" }
}

/// What a redacted message reads afterwards, for everyone.
pub const REDACTED_TEXT: &str = "[Removed by a moderator]";

/// Whether a correction fits whose words they are: a profile's words may be
/// edited (the company speaks through its profiles); a user's own words are
/// never rewritten, only redacted for moderation, and the user is told.
/// Redacting a profile message is an edit's job, so it is refused too.
pub fn correction_allowed(sender: Side, correction: Correction) -> Result<(), &'static str> {
    match (sender, correction) {
        (Side::Fictional, Correction::Edit) | (Side::Real, Correction::Redact) => Ok(()),
        (Side::Real, Correction::Edit) => Err("A user's own words cannot be edited; redact the message if it breaks the rules."),
        (Side::Fictional, Correction::Redact) => Err("Profile messages are corrected with an edit, not redacted."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AdminRole;

    #[test]
    fn previews_are_one_short_line() {
        let table: &[(&str, ContentType, &str)] = &[
            ("Hi  there\nhow are you?", ContentType::Text, "Hi there how are you?"),
            ("", ContentType::Image, "Sent a photo"),
            ("   ", ContentType::Text, ""),
            ("Look at this", ContentType::Image, "Look at this"),
        ];
        for (content, kind, want) in table {
            assert_eq!(preview(content, *kind), *want, "{content:?}");
        }
        let long = "word ".repeat(40);
        let p = preview(&long, ContentType::Text);
        assert!(p.ends_with('…') && p.chars().count() <= PREVIEW_CHARS, "{p}");
        assert!(!p.contains("wo…"), "cut at a word: {p}");
        let unbroken = "x".repeat(200);
        assert_eq!(preview(&unbroken, ContentType::Text).chars().count(), PREVIEW_CHARS);
    }

    fn parties(op: Option<OperatorId>) -> ChatParties {
        ChatParties { id: ChatId::new(), user: UserId::new(), operator: op }
    }

    #[test]
    fn only_the_user_the_assigned_operator_and_chat_admins_get_in() {
        let op = OperatorId::new();
        let chat = parties(Some(op));
        assert_eq!(side_of(Viewer::User(chat.user), &chat), Some(Side::Real));
        assert_eq!(side_of(Viewer::User(UserId::new()), &chat), None);
        assert_eq!(side_of(Viewer::Operator(op), &chat), Some(Side::Fictional));
        assert_eq!(side_of(Viewer::Operator(OperatorId::new()), &chat), None);
        assert_eq!(side_of(Viewer::Operator(op), &parties(None)), None);
        let chat_admin = Permissions::for_role(AdminRole::Moderator);
        let no_chats = Permissions { manage_chats: false, ..Permissions::for_role(AdminRole::Admin) };
        assert_eq!(side_of(Viewer::Admin(AdminId::new(), chat_admin), &chat), Some(Side::Fictional));
        assert_eq!(side_of(Viewer::Admin(AdminId::new(), no_chats), &chat), None);
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(message_text("  hi  ").unwrap(), "hi");
        assert!(message_text("   ").unwrap_err().for_field("content").is_some());
        let exactly = "é".repeat(MAX_TEXT_CHARS);
        assert_eq!(message_text(&exactly).unwrap(), exactly, "limit counts characters, not bytes");
        assert!(message_text(&"a".repeat(MAX_TEXT_CHARS + 1)).is_err());
        assert!(message_text("a\u{0}b").is_err());
        assert_eq!(message_text("two\nlines\tand a tab").unwrap(), "two\nlines\tand a tab");
    }

    #[test]
    fn waiting_notice_says_only_what_is_true() {
        let cases = [
            (false, false, false, None),
            (false, true, true, None),
            (true, true, false, None),
            (true, false, true, Some("Amara usually replies within a few minutes. Your message is saved.")),
            (true, false, false, Some("Amara isn't around right now. Your message is saved and Amara will reply when back.")),
        ];
        for (unanswered, attended, available, want) in cases {
            assert_eq!(waiting_notice("Amara", unanswered, attended, available).as_deref(), want, "{unanswered} {attended} {available}");
        }
    }

    #[test]
    fn profile_words_are_edited_and_user_words_only_redacted() {
        use super::{correction_allowed, Correction, Side};
        let table = [
            (Side::Fictional, Correction::Edit, true),
            (Side::Fictional, Correction::Redact, false),
            (Side::Real, Correction::Edit, false),
            (Side::Real, Correction::Redact, true),
        ];
        for (side, c, ok) in table {
            assert_eq!(correction_allowed(side, c).is_ok(), ok, "{side} {c}");
        }
    }
}
