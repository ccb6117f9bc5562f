//! The web kit every product's HTTP face is built on:
//!
//! - [`server`]: the hardened HTTP/1 server (header read timeout,
//!   connection cap, graceful drain) under the router;
//! - [`error`]: one error type, each variant with its status and code,
//!   rendered as JSON, and [`error_pages`], the layer that renders it as
//!   the product's HTML error page for browsers;
//! - [`session`]: the session layer (cookie or bearer credential through
//!   `platform_accounts`, the CSRF token for forms) over a product's
//!   [`session::SignIn`];
//! - [`layers`]: security headers and CSP, request ids and logs, metrics,
//!   body limit and handler timeout ([`layers::outer_stack`]), and CSRF;
//! - [`request`]: client address behind trusted proxies, cookies, bearer
//!   tokens, the CSRF token handed to forms;
//! - [`range`]: stored bytes served with HTTP range requests (206, 416);
//! - [`static_files`]: the binary's own stylesheets and scripts, gzip'd once
//!   and revalidated by `ETag` (304);
//! - [`ratelimit`]: keyed per-minute limits answered with 429;
//! - [`system`]: `/api/health` and `/metrics`;
//! - [`cli`]: the command line every product binary shares (global
//!   flags, the subcommands, serve flags without `serve`).
//!
//! The kit knows no product: its accounts, permissions and pages are the
//! product's, wired in through small traits ([`session::SignIn`],
//! [`error_pages::ErrorPages`]) and the extensions in [`request`].

pub mod cli;
pub mod error;
pub mod error_pages;
pub mod layers;
pub mod process;
pub mod range;
pub mod ratelimit;
pub mod request;
pub mod server;
pub mod session;
pub mod session_cache;
pub mod static_files;
pub mod system;

pub use error::{AppError, AppResult, ErrorBody, Vocabulary};
