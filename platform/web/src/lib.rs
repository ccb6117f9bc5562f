//! The web kit every product's HTTP face is built on:
//!
//! - [`server`]: the hardened HTTP/1 server (header read timeout,
//!   connection cap, graceful drain) under the router;
//! - [`error`]: one error type, each variant with its status and code,
//!   rendered as JSON (and by the product as a page for browsers);
//! - [`layers`]: security headers and CSP, request ids and logs, metrics,
//!   body limit and handler timeout ([`layers::outer_stack`]), and CSRF;
//! - [`request`]: client address behind trusted proxies, cookies, bearer
//!   tokens, the CSRF token handed to forms;
//! - [`range`]: stored bytes served with HTTP range requests (206, 416);
//! - [`ratelimit`]: keyed per-minute limits answered with 429;
//! - [`system`]: `/api/health` and `/metrics`.
//!
//! The kit knows no product: sessions, permissions and pages are the
//! product's, wired in through the extensions in [`request`].

pub mod error;
pub mod layers;
pub mod process;
pub mod range;
pub mod ratelimit;
pub mod request;
pub mod server;
pub mod system;

pub use error::{AppError, AppResult, ErrorBody, Vocabulary};
