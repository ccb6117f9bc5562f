//! Request layers, outermost first in `routes::router`.

pub mod csrf;
pub mod errors;
pub mod headers;
pub mod metrics;
pub mod ratelimit;
pub mod session;
