//! The back-office shell every product's staff pages share:
//!
//! - [`forms`]: one handler serves a page form and its JSON API twin
//!   (`Via`, `Input`), notices after redirects (`Flash`), and the helpers
//!   that read form fields as people type them;
//! - [`charts`]: small server-side SVG charts, safe to embed as they are.

pub mod charts;
pub mod forms;
