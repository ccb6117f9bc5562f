//! Fantooo's own request layers (sessions, rate-limit policy, error pages);
//! the product-independent ones come from `platform_web::layers`.

pub mod errors;
pub mod ratelimit;
pub mod session;

pub use platform_web::layers::{csrf, headers, metrics};
