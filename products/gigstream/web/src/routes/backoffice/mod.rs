//! GigStream's back office on the platform's shell (`platform_backoffice`):
//! people, the gig moderation queue, orders and disputes, withdrawals and
//! refunds, security events, analytics, settings and the audit log. Every
//! page has a JSON twin under `/api/v1/admin/…`; one handler serves both
//! (`Via`, `Input`). Each handler checks its permission first
//! (`Staff::require`, the role table in `gigstream_domain::backoffice`);
//! every change writes an audit entry.

mod gigs;
mod insights;
mod money;
mod orders;
mod people;

use crate::auth::{CsrfToken, CurrentAdmin, CurrentUser};
use crate::{AppError, AppResult, AppState};
use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, SecondsFormat, Utc};
use gigstream_domain::backoffice::{AdminPermission as P, ROLES};
use gigstream_store::backoffice::{Admin, At};
use platform_backoffice::forms::Flash;
use platform_backoffice::keyset::{Cursor, Direction, Page};
use platform_backoffice::shell::{self, Choice, Shell, Table};
use platform_roles::PermissionSet;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/users") }))
        .route("/admin/assets/backoffice.css", get(shell::stylesheet))
        .merge(people::routes())
        .merge(gigs::routes())
        .merge(orders::routes())
        .merge(money::routes())
        .merge(insights::routes())
}

/// A signed-in admin with the permissions of their role.
pub struct Staff {
    pub user: CurrentUser,
    pub perms: PermissionSet<P>,
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let CurrentAdmin(user) = CurrentAdmin::from_request_parts(parts, state).await?;
        let perms = user.account.admin_role.map(|r| ROLES.defaults(r)).unwrap_or_else(PermissionSet::none);
        Ok(Staff { user, perms })
    }
}

impl Staff {
    /// The one check before a handler reads anything.
    pub fn require(&self, p: P) -> AppResult<()> {
        platform_roles::require(&self.perms, p).map_err(|_| AppError::Forbidden)
    }

    pub fn actor(&self) -> Admin<'_> {
        Admin { id: self.user.account.id, ip: self.user.ip.as_deref() }
    }
}

/// The side navigation: each page the admin's role may open.
const NAV: &[(&str, &str, P)] = &[
    ("Users", "/admin/users", P::ManageUsers),
    ("Gigs", "/admin/gigs", P::ModerateGigs),
    ("Orders", "/admin/orders", P::ResolveOrders),
    ("Withdrawals", "/admin/withdrawals", P::ManageMoney),
    ("Refunds", "/admin/refunds", P::ManageMoney),
    ("Security", "/admin/security", P::ViewSecurity),
    ("Analytics", "/admin/analytics", P::ViewAnalytics),
    ("Settings", "/admin/settings", P::ManageSettings),
    ("Audit log", "/admin/audit", P::ViewAudit),
];

/// The shell around a page at `path`.
pub fn shell_for(staff: &Staff, csrf: &CsrfToken, title: &str, path: &str, flash: Flash) -> Shell {
    let items: Vec<(&str, &str)> = NAV.iter().filter(|(_, _, p)| staff.perms.contains(*p)).map(|(l, h, _)| (*l, *h)).collect();
    let role = staff.user.account.admin_role.map(|r| r.to_string()).unwrap_or_default();
    Shell {
        product: "GigStream back office".into(),
        title: title.into(),
        home: "/admin".into(),
        stylesheet: "/admin/assets/backoffice.css".into(),
        nav: shell::nav(&items, path),
        flash,
        who: format!("@{} · {role}", staff.user.account.username),
        csrf_token: csrf.0.clone(),
        logout: "/logout".into(),
    }
}

/// A detail page: facts, links, an optional chart, action forms, a table.
#[derive(Template)]
#[template(path = "admin/detail.html")]
pub struct Detail {
    pub shell: Shell,
    pub facts: Vec<(String, String)>,
    pub links: Vec<(String, String)>,
    /// A server-side SVG (`platform_backoffice::charts`), embedded as is.
    pub chart: String,
    pub actions: Vec<Action>,
    pub table: Option<Table>,
}

impl Detail {
    pub fn new(shell: Shell) -> Self {
        Detail { shell, facts: vec![], links: vec![], chart: String::new(), actions: vec![], table: None }
    }

    pub fn fact(mut self, k: &str, v: impl Into<String>) -> Self {
        self.facts.push((k.into(), v.into()));
        self
    }

    pub fn response(&self) -> AppResult<Response> {
        Ok(Html(self.render().map_err(|e| AppError::Internal(e.to_string()))?).into_response())
    }
}

/// A form on a detail page; destructive ones sit behind a confirmation.
#[derive(Debug, Clone, Default)]
pub struct Action {
    pub action: String,
    pub label: String,
    pub question: String,
    pub confirm: bool,
    pub danger: bool,
    pub open: bool,
    pub fields: Vec<Field>,
}

impl Action {
    /// A destructive action: asks `question` first and posts `confirm=yes`.
    pub fn confirmed(action: String, label: &str, question: String, fields: Vec<Field>) -> Action {
        Action { action, label: label.into(), question, confirm: true, danger: true, open: false, fields }
    }

    /// A plain form (settings).
    pub fn form(action: &str, label: &str, fields: Vec<Field>) -> Action {
        Action { action: action.into(), label: label.into(), fields, ..Action::default() }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Field {
    pub name: String,
    pub label: String,
    /// `text`, `number`, `textarea`, …
    pub kind: String,
    pub value: String,
    pub options: Vec<Choice>,
}

impl Field {
    pub fn new(name: &str, label: &str, kind: &str, value: impl Into<String>) -> Field {
        Field { name: name.into(), label: label.into(), kind: kind.into(), value: value.into(), options: vec![] }
    }

    pub fn select(name: &str, label: &str, value: &str, options: &[(&str, &str)]) -> Field {
        let options = options.iter().map(|(v, l)| Choice { value: v.to_string(), label: l.to_string() }).collect();
        Field { name: name.into(), label: label.into(), kind: String::new(), value: value.into(), options }
    }
}

/// The list position a `?before=` / `?after=` names, for lists sorted by
/// `(created_at, id)`.
pub fn at_of<I: std::str::FromStr>(page: &Page) -> AppResult<At<(DateTime<Utc>, I)>> {
    let read = |c: Cursor, field: &'static str| -> AppResult<(DateTime<Utc>, I)> {
        let bad = || AppError::field(field, "This page link is not valid; start from the first page.");
        let at: DateTime<Utc> = c.key_as(field)?;
        Ok((at, c.id.parse().map_err(|_| bad())?))
    };
    Ok(match page.direction()? {
        Direction::First => At::First,
        Direction::Before(c) => At::Before(read(c, "before")?),
        Direction::After(c) => At::After(read(c, "after")?),
    })
}

/// The list position a `?before=` / `?after=` names, for lists sorted by
/// a sequence number alone.
pub fn seq_at(page: &Page) -> AppResult<At<i64>> {
    Ok(match page.direction()? {
        Direction::First => At::First,
        Direction::Before(c) => At::Before(c.key_as("before")?),
        Direction::After(c) => At::After(c.key_as("after")?),
    })
}

/// The cursor of a row sorted by `(created_at, id)`.
pub fn cursor_of(at: DateTime<Utc>, id: impl ToString) -> Cursor {
    Cursor::new(at.to_rfc3339_opts(SecondsFormat::AutoSi, true), id)
}

/// The same direction as `at`, for `KeysetPage::from_rows`.
pub fn direction_of<K>(at: &At<K>) -> Direction {
    let dummy = || Cursor::new("", "");
    match at {
        At::First => Direction::First,
        At::Before(_) => Direction::Before(dummy()),
        At::After(_) => Direction::After(dummy()),
    }
}

pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// Non-empty trimmed text of a filter.
pub fn given(v: &Option<String>) -> Option<String> {
    platform_backoffice::forms::text(v)
}
