//! The page layout every back office shares, as askama templates in
//! `platform/backoffice/templates/backoffice/` and the data they render:
//!
//! - `backoffice/shell.html`: the base layout: a top bar with the product's
//!   name, the side navigation the product gives ([`Shell::nav`]), the flash
//!   messages, and `{% block content %}`; blocks `title` and `head` too;
//! - `backoffice/list.html`: a list page ([`ListPage`]: filters, table,
//!   pager), ready to render or to extend;
//! - `backoffice/macros.html`: `table(Table)`, `filters(Filters)`,
//!   `pager(Pager)` (from [`crate::keyset`]) and `confirm(Confirm)`, the
//!   two-step form in front of a destructive action (checked on the server
//!   by [`confirmed`]).
//!
//! A product lists the directory in its `askama.toml`:
//!
//! ```toml
//! [general]
//! dirs = ["templates", "../../../platform/backoffice/templates"]
//! ```
//!
//! then a page template starts with
//! `{% extends "backoffice/shell.html" %}` and
//! `{% import "backoffice/macros.html" as bo %}`, and its struct has a field
//! `shell: Shell`. The look is [`STYLESHEET`], served by the product at
//! [`Shell::stylesheet`] (no inline styles or scripts, so the CSP holds).

use crate::forms::Flash;
use crate::keyset::Pager;
use platform_web::error::{AppError, AppResult};

/// The shell's stylesheet; serve it with [`stylesheet`].
pub const STYLESHEET: &str = include_str!("../assets/backoffice.css");

/// `GET` handler for [`STYLESHEET`].
pub async fn stylesheet() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8"), (axum::http::header::CACHE_CONTROL, "public, max-age=3600")],
        STYLESHEET,
    )
}

/// What the layout shows around a page.
#[derive(Debug, Clone, Default)]
pub struct Shell {
    /// The product's name in the top bar and the window title.
    pub product: String,
    /// The page's title.
    pub title: String,
    /// Where the product's name links to (the dashboard).
    pub home: String,
    /// Where the product serves [`STYLESHEET`].
    pub stylesheet: String,
    pub nav: Vec<NavItem>,
    /// Shown once after a redirect (`?notice=` / `?error=`).
    pub flash: Flash,
    /// Who is signed in, shown in the top bar.
    pub who: String,
    /// The session's CSRF token, for the sign-out form and `confirm` forms.
    pub csrf_token: String,
    /// Where the sign-out form posts; empty: no sign-out button.
    pub logout: String,
}

/// One link of the side navigation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavItem {
    pub label: String,
    pub href: String,
    /// The page being shown is under this link.
    pub current: bool,
}

/// The side navigation from `(label, href)` pairs: the link whose path is
/// the longest prefix of `current_path` is marked current.
pub fn nav(items: &[(&str, &str)], current_path: &str) -> Vec<NavItem> {
    let under = |href: &str| current_path == href || current_path.strip_prefix(href).is_some_and(|rest| rest.starts_with('/'));
    let best = items.iter().filter(|(_, href)| under(href)).map(|(_, href)| href.len()).max();
    items
        .iter()
        .map(|(label, href)| NavItem { label: label.to_string(), href: href.to_string(), current: Some(href.len()) == best && under(href) })
        .collect()
}

/// A whole list page: the shell around filters, a table and its pager
/// (`backoffice/list.html`; a page that needs more extends that template
/// and fills its `after` block).
#[derive(askama::Template)]
#[template(path = "backoffice/list.html")]
pub struct ListPage {
    pub shell: Shell,
    pub filters: Filters,
    pub table: Table,
    pub pager: Pager,
}

impl ListPage {
    /// The page as an HTML response.
    pub fn response(&self) -> AppResult<axum::response::Response> {
        use askama::Template;
        use axum::response::IntoResponse;
        let html = self.render().map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(axum::response::Html(html).into_response())
    }
}

/// A data table: column headings and rows of cells (text, escaped). On a
/// phone each row becomes a card whose cells are labelled with their
/// column.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Shown instead of an empty table.
    pub empty: String,
    /// Each row's `data-key` (e.g. its action or id, for scripts and
    /// tests); rows beyond the list get none.
    pub keys: Vec<String>,
}

impl Table {
    /// The heading of column `i` (each cell's label on a phone).
    pub fn label(&self, i: impl std::borrow::Borrow<usize>) -> &str {
        self.columns.get(*i.borrow()).map(String::as_str).unwrap_or("")
    }

    /// Row `i`'s `data-key`, if it has one.
    pub fn key(&self, i: impl std::borrow::Borrow<usize>) -> Option<&str> {
        self.keys.get(*i.borrow()).map(String::as_str)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    /// Makes the cell a link.
    pub href: Option<String>,
    /// Ids, amounts, JSON: set in a fixed-width font.
    pub mono: bool,
    /// Lines listed under the text (e.g. the fields a change touched).
    pub lines: Vec<String>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell { text: text.into(), ..Cell::default() }
    }
    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell { text: text.into(), href: Some(href.into()), ..Cell::default() }
    }
    pub fn mono(text: impl Into<String>) -> Cell {
        Cell { text: text.into(), mono: true, ..Cell::default() }
    }
    /// A cell listing `lines` (under `text`, which may be empty).
    pub fn lines(text: impl Into<String>, lines: Vec<String>) -> Cell {
        Cell { text: text.into(), lines, ..Cell::default() }
    }
}

/// A filter form (`GET` to `action`): text, date or select fields.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub action: String,
    pub fields: Vec<FilterField>,
}

#[derive(Debug, Clone, Default)]
pub struct FilterField {
    pub name: String,
    pub label: String,
    pub value: String,
    /// `text`, `search`, `date`, …; ignored when `options` are given.
    pub input_type: String,
    /// A select with these choices (the empty value first means "any").
    pub options: Vec<Choice>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

impl FilterField {
    pub fn input(name: &str, label: &str, input_type: &str, value: &str) -> FilterField {
        FilterField { name: name.into(), label: label.into(), value: value.into(), input_type: input_type.into(), options: vec![] }
    }
    pub fn select(name: &str, label: &str, value: &str, options: &[(&str, &str)]) -> FilterField {
        let options = options.iter().map(|(v, l)| Choice { value: v.to_string(), label: l.to_string() }).collect();
        FilterField { name: name.into(), label: label.into(), value: value.into(), input_type: String::new(), options }
    }
}

/// A destructive action behind a confirmation: a button that opens the
/// question and a form that posts `confirm=yes` with the CSRF token.
#[derive(Debug, Clone, Default)]
pub struct Confirm {
    /// Where the form posts.
    pub action: String,
    /// The button, e.g. "Delete profile".
    pub label: String,
    /// The question, e.g. "Delete Ann's profile? This cannot be undone."
    pub question: String,
    pub csrf_token: String,
}

/// Refuses a destructive request that did not come through the
/// confirmation form (`confirm=yes`), naming the field.
pub fn confirmed(confirm: Option<&str>) -> AppResult<()> {
    match confirm {
        Some("yes") => Ok(()),
        _ => Err(AppError::field("confirm", "Confirm this action first.")),
    }
}
