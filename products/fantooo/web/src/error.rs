//! Fantooo's words for the platform's one web error type
//! (`platform_web::error`): the credit unit and the schema's guards.

pub use platform_web::error::{AppError, AppResult, ErrorBody, Rejection, Vocabulary};

/// The schema's guard against removing the last active super admin.
pub const LAST_SUPER_ADMIN: &str = "last_super_admin";
/// The schema's guard against an operator going offline with open chats.
pub const OFFLINE_WITH_CHATS: &str = "offline_with_chats";

/// Installed at start-up by `AppState::new`.
pub static WORDS: Vocabulary = Vocabulary {
    unit: "credits",
    insufficient: |required, available| format!("This message costs {required} credits and you have {available}. Buy credits to continue."),
    guards: &[
        (LAST_SUPER_ADMIN, "The last active super admin cannot be removed, deactivated or demoted"),
        (OFFLINE_WITH_CHATS, "You cannot go offline while you hold chats. Finish or hand them back first."),
    ],
};
