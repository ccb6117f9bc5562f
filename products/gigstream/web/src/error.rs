//! The web layer's error type is the platform's; GigStream adds its words.

pub use platform_web::error::{AppError, AppResult, ErrorBody, Vocabulary};

/// GigStream's words for store refusals.
pub static WORDS: Vocabulary =
    Vocabulary { unit: "balance", insufficient: |r, a| format!("This needs {r} and the balance holds {a}."), guards: &[] };

/// A domain refusal of an order step: the wrong person is 403, the wrong
/// moment 409, each with its readable message.
pub fn refusal(r: gigstream_domain::order::Refusal) -> AppError {
    match r {
        gigstream_domain::order::Refusal::Forbidden(_) => AppError::Forbidden,
        gigstream_domain::order::Refusal::Illegal(m) => AppError::Conflict(m),
    }
}
