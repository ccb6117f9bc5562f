//! The vocabulary every layer of every product shares, with no I/O:
//!
//! - [`id_type!`]: UUIDv7 newtypes stored as `uuid` on PostgreSQL and as
//!   hyphenated text on SQLite, so one SQL text binds them on both stores;
//! - [`text_enum!`]: string-backed enums with `as_str`, `FromStr`, serde and
//!   TEXT column encoding;
//! - [`FieldError`] / [`FieldErrors`]: input refused, field by field, in words
//!   a person can act on;
//! - [`payment::ChargeStatus`]: a payment provider's side of a charge.
//!
//! The macros expand to paths through `$crate`, so a crate that uses them
//! needs only this crate as a dependency.

mod fields;
mod macros;
pub mod payment;

pub use fields::{FieldError, FieldErrors, UnknownVariant};

#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use sqlx;
    pub use uuid;
}
