//! Rooms' domain: identifiers, input parsed once into types that cannot
//! hold bad values (accounts, rooms, chat), room roles and who may act on
//! whom, seat rules, the limits and timers of the specification, and public
//! number generation. Nothing here performs I/O.

pub mod account;
pub mod coin_requests;
pub mod economy;
pub mod ids;
pub mod limits;
pub mod moderation;
pub mod number;
pub mod progress;
pub mod room;
pub mod staff;
pub mod status;
pub mod vip;

pub use platform_kernel::{FieldError, FieldErrors};
