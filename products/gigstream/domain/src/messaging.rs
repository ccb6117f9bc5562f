//! Messages between a buyer and a seller: an inquiry before any order (one
//! conversation per buyer and seller) and one thread per order. The rules
//! here: who may write, what a message may hold, and how often a typing
//! signal goes out.

use platform_kernel::{FieldError, FieldErrors};
use std::time::Duration;

platform_kernel::id_type!(
    /// One conversation between a buyer and a seller.
    ConversationId,
    /// One message in a conversation.
    MessageId,
);

platform_kernel::text_enum! {
    /// What a conversation is about.
    pub enum ConversationKind {
        /// Questions before ordering, about the seller's gigs.
        Inquiry => "inquiry",
        /// The thread of one order.
        Order => "order",
    }
}

/// The longest message, in characters.
pub const MAX_BODY_CHARS: usize = 5_000;
/// Files one message may carry.
pub const MAX_ATTACHMENTS: usize = 3;
/// Typing signals go out at most this often per person and conversation;
/// the other side shows "typing…" for [`TYPING_SHOWN`] after each.
pub const TYPING_EVERY: Duration = Duration::from_secs(2);
pub const TYPING_SHOWN: Duration = Duration::from_secs(5);

/// A message's text, trimmed: 1–5,000 characters, or empty when files come
/// with it. Control characters other than line breaks and tabs are refused.
pub fn check_body(text: &str, attachments: usize) -> Result<String, FieldErrors> {
    let mut errors = FieldErrors::new();
    let body = text.trim().replace("\r\n", "\n");
    if attachments > MAX_ATTACHMENTS {
        errors.add("attachment", format!("At most {MAX_ATTACHMENTS} files per message."));
    }
    if body.is_empty() && attachments == 0 {
        errors.add("body", "Write a message or attach a file.");
    } else if body.chars().count() > MAX_BODY_CHARS {
        errors.add("body", format!("A message is limited to {MAX_BODY_CHARS} characters."));
    } else if body.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        errors.add("body", "The message contains characters that cannot be shown.");
    }
    errors.into_result().map(|()| body)
}

/// Whether a typing signal sent `since_last` after the previous one (None:
/// the first) goes out: at most one per [`TYPING_EVERY`].
pub fn typing_due(since_last: Option<Duration>) -> bool {
    since_last.is_none_or(|d| d >= TYPING_EVERY)
}

/// A search over one's own messages: 2–100 characters after trimming.
pub fn check_search(q: &str) -> Result<String, FieldError> {
    let q = q.trim();
    match q.chars().count() {
        0..=1 => Err(FieldError::new("q", "Search for at least 2 characters.")),
        101.. => Err(FieldError::new("q", "Search for at most 100 characters.")),
        _ => Ok(q.to_string()),
    }
}

/// `text` as a `LIKE` pattern matching it anywhere, lowercased, with `\`
/// escaping the wildcards (`ESCAPE '\'`).
pub fn like_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked() {
        let long = "x".repeat(MAX_BODY_CHARS + 1);
        let cases: Vec<(&str, usize, Result<&str, &str>)> = vec![
            ("  Hello there \r\n", 0, Ok("Hello there")),
            ("Line one\r\nLine two", 0, Ok("Line one\nLine two")),
            ("", 1, Ok("")),
            ("   ", 0, Err("body: Write a message or attach a file.")),
            (&long, 0, Err("body: A message is limited to 5000 characters.")),
            ("bell\u{7}", 0, Err("body: The message contains characters that cannot be shown.")),
            ("tab\there", 0, Ok("tab\there")),
            ("files", 4, Err("attachment: At most 3 files per message.")),
        ];
        for (text, files, want) in cases {
            let got = check_body(text, files)
                .map_err(|e| e.0.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "));
            assert_eq!(got.as_deref().map_err(String::as_str), want, "{text:?}");
        }
        assert_eq!(check_body(&"é".repeat(MAX_BODY_CHARS), 0).unwrap().chars().count(), MAX_BODY_CHARS);
    }

    #[test]
    fn typing_goes_out_at_most_every_two_seconds() {
        let cases = [(None, true), (Some(0), false), (Some(1_999), false), (Some(2_000), true), (Some(60_000), true)];
        for (ms, want) in cases {
            assert_eq!(typing_due(ms.map(Duration::from_millis)), want, "{ms:?}");
        }
    }

    #[test]
    fn searches_are_bounded_and_patterns_escaped() {
        assert_eq!(check_search(" logo ").unwrap(), "logo");
        assert_eq!(check_search("a").unwrap_err().message, "Search for at least 2 characters.");
        assert_eq!(check_search(&"a".repeat(101)).unwrap_err().field, "q");
        assert_eq!(like_pattern("50%_Off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(like_pattern("Logo"), "%logo%");
    }
}
