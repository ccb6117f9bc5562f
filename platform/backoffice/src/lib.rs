//! The back-office shell every product's staff pages share:
//!
//! - [`forms`]: one handler serves a page form and its JSON API twin
//!   (`Via`, `Input`), notices after redirects (`Flash`), and the helpers
//!   that read form fields as people type them;
//! - [`charts`]: small server-side SVG charts, safe to embed as they are;
//! - [`shell`]: the page layout (askama templates under `templates/backoffice/`:
//!   side navigation, flash messages, data table, filter form, pager,
//!   confirmation before destructive actions);
//! - [`keyset`]: opaque `(sort key, id)` cursors and [`keyset::KeysetPage`]
//!   for "newer/older" lists.

pub mod charts;
pub mod forms;
pub mod keyset;
pub mod shell;
