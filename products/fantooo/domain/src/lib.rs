//! Fantooo's domain: identifiers, money, account kinds, roles and the pure
//! rules (validation, pricing, tiers). Nothing here performs I/O; the `sqlx`
//! feature only adds column encodings so the store can bind these types.

#[macro_use]
extern crate platform_kernel;

pub mod account;
pub mod chat;
pub mod ids;
pub mod ledger;
pub mod legal;
pub mod location;
pub mod money;
pub mod offer;
pub mod operations;
pub mod payment;
pub mod pricing;
pub mod refund;
pub mod rewards;
pub mod roles;
pub mod tier;
pub mod validation;

pub use account::{AccountKind, Gender, LookingFor};
pub use money::{Credits, Kes};
pub use roles::{AdminRole, Permission, Permissions};
pub use tier::UserTier;
pub use validation::{FieldError, FieldErrors};
