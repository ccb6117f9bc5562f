//! The dashboard, admin notifications and the audit log.

use super::kit::{Flash, Via};
use super::nav;
use crate::auth::{CsrfToken, CurrentAdmin};
use crate::error::AppResult;
use crate::templates::{AdminNav, Chrome};
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use fantooo_domain::ids::AdminId;
use fantooo_domain::Permission;
use fantooo_store::analytics::{self, Revenue};
use fantooo_store::audit::{self, AdminAction};
use fantooo_store::notifications;
use fantooo_store::stats::{self, Totals};
use platform_audit::{Notice, NoticeId, Position};
use platform_backoffice::keyset::{Cursor, Direction, KeysetPage, Page};
use platform_backoffice::shell::{self, Cell, FilterField, Filters, ListPage, Shell, Table};
use platform_jobs::runs::{self as jobs, JobRun};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(page))
        .route("/api/admin/dashboard", get(api))
        .route("/admin/notifications/read", post(mark_read))
        .route("/api/admin/notifications", get(api_notifications))
        .route("/api/admin/notifications/read", post(mark_read))
        .route("/admin/notifications/{id}/read", post(mark_one_read))
        .route("/api/admin/notifications/{id}/read", post(mark_one_read))
        .route("/admin/audit", get(audit_page))
        .route("/api/admin/audit", get(audit_api))
        .route(SHELL_CSS, get(platform_backoffice::shell::stylesheet))
}

/// Whether the database answered and how each job last ran.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub database_ok: bool,
    pub database_ms: u128,
    pub jobs: Vec<JobRun>,
}

#[derive(Serialize)]
struct Overview {
    totals: Totals,
    revenue: Revenue,
    health: Health,
    notifications: Vec<Notice>,
    recent: Vec<AdminAction>,
}

async fn overview(state: &AppState, me: &CurrentAdmin) -> AppResult<Overview> {
    let started = std::time::Instant::now();
    let database_ok = state.db.ping().await.is_ok();
    let health = Health { database_ok, database_ms: started.elapsed().as_millis(), jobs: jobs::latest(&state.db).await? };
    // Activity of other admins is visible to those who manage admins; the
    // rest see their own.
    let recent = if me.can(Permission::ManageAdmins) {
        audit::recent_admin_actions(&state.db, 10).await?
    } else {
        let mine = audit::AuditFilter { admin: Some(me.admin.id), ..Default::default() };
        audit::actions(&state.db, mine, Position::Newest, 10).await?.actions
    };
    let mut totals = stats::totals(&state.db).await?;
    // Each admin reads notices for themselves.
    totals.unread_notifications = notifications::admin_unread_count(&state.db, &me.admin).await?;
    Ok(Overview {
        totals,
        revenue: analytics::revenue(&state.db, Utc::now()).await?,
        health,
        notifications: notifications::admin_recent(&state.db, &me.admin, true, 20).await?,
        recent,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    nav: AdminNav,
    o: Overview,
    flash: Flash,
}

impl DashboardPage {
    fn kes(&self, cents: &i64) -> String {
        super::kit::kes(*cents)
    }
}

async fn page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, Query(flash): Query<Flash>) -> AppResult<Response> {
    let o = overview(&state, &me).await?;
    Ok(DashboardPage { chrome: me.chrome(&csrf, "/admin"), nav: nav(&me), o, flash }.into_response())
}

async fn api(State(state): State<AppState>, me: CurrentAdmin) -> AppResult<Json<serde_json::Value>> {
    Ok(Json(serde_json::to_value(overview(&state, &me).await?).map_err(|e| crate::AppError::Internal(e.to_string()))?))
}

#[derive(Deserialize)]
struct NotificationQuery {
    #[serde(default)]
    unread: Option<String>,
}

async fn api_notifications(
    State(state): State<AppState>,
    me: CurrentAdmin,
    Query(q): Query<NotificationQuery>,
) -> AppResult<Json<serde_json::Value>> {
    let unread_only = super::kit::checked(&q.unread);
    Ok(Json(json!({
        "notifications": notifications::admin_recent(&state.db, &me.admin, unread_only, 50).await?,
        "unread": notifications::admin_unread_count(&state.db, &me.admin).await?,
    })))
}

async fn mark_read(State(state): State<AppState>, via: Via, me: CurrentAdmin) -> AppResult<Response> {
    let outcome = async {
        let n = notifications::mark_admin_read(&state.db, None, &me.admin).await?;
        Ok((format!("{n} notifications marked read"), json!({ "marked": n })))
    }
    .await;
    via.finish("/admin", outcome)
}

async fn mark_one_read(State(state): State<AppState>, via: Via, me: CurrentAdmin, Path(id): Path<String>) -> AppResult<Response> {
    let id: NoticeId = super::kit::id(&id)?;
    let outcome = async {
        let n = notifications::mark_admin_read(&state.db, Some(id), &me.admin).await?;
        Ok(("Notification marked read".to_string(), json!({ "marked": n })))
    }
    .await;
    via.finish("/admin", outcome)
}

/// The audit log's filters and page, as the query string gives them.
#[derive(Deserialize, Default)]
struct AuditQuery {
    admin: Option<String>,
    entity_type: Option<String>,
    entity_id: Option<String>,
    /// Days (`YYYY-MM-DD`, UTC), both included.
    from: Option<String>,
    until: Option<String>,
    #[serde(flatten)]
    page: Page,
}

impl AuditQuery {
    fn given(v: &Option<String>) -> Option<String> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
    }

    /// The filters, for the pager's links and the form.
    fn kept(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| Self::given(o).unwrap_or_default();
        vec![
            ("admin", v(&self.admin)),
            ("entity_type", v(&self.entity_type)),
            ("entity_id", v(&self.entity_id)),
            ("from", v(&self.from)),
            ("until", v(&self.until)),
        ]
    }
}

/// A day from the form: its first instant (UTC), or a refusal naming `field`.
fn day(raw: &Option<String>, field: &'static str) -> AppResult<Option<chrono::DateTime<Utc>>> {
    let Some(text) = AuditQuery::given(raw) else { return Ok(None) };
    let d =
        chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| crate::AppError::field(field, "Give a date like 2026-01-31."))?;
    Ok(Some(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()))
}

/// How many entries a page shows (the page; the API takes more).
const PAGE_ROWS: i64 = 50;
const API_ROWS: i64 = 200;

async fn audit_rows(state: &AppState, me: &CurrentAdmin, q: &AuditQuery, limit: i64) -> AppResult<KeysetPage<AdminAction>> {
    me.require(Permission::ManageAdmins)?;
    let admin: Option<AdminId> = q.admin.as_deref().filter(|s| !s.is_empty()).map(super::kit::id).transpose()?;
    let (entity_type, entity_id) = (AuditQuery::given(&q.entity_type), AuditQuery::given(&q.entity_id));
    let from = day(&q.from, "from")?;
    let until = day(&q.until, "until")?.map(|d| d + chrono::Duration::days(1));
    if let (Some(f), Some(u)) = (from, until) {
        if u <= f {
            return Err(crate::AppError::field("until", "The last day comes before the first."));
        }
    }
    let at = match q.page.direction()? {
        Direction::First => Position::Newest,
        Direction::Before(c) => Position::Before(c.key_as("before")?),
        Direction::After(c) => Position::After(c.key_as("after")?),
    };
    let f = audit::AuditFilter { admin, entity_type: entity_type.as_deref(), entity_id: entity_id.as_deref(), from, until };
    let page = audit::actions(&state.db, f, at, limit).await?;
    let cursor = |seq: i64| Cursor::new(seq, seq);
    Ok(KeysetPage { items: page.actions, newer: page.newer.map(cursor), older: page.older.map(cursor) })
}

/// Where the back-office shell's stylesheet is served.
pub const SHELL_CSS: &str = "/admin/assets/backoffice.css";

/// The platform's back-office shell around a Fantooo admin page.
fn shell_for(me: &CurrentAdmin, csrf: &CsrfToken, title: &str, path: &str) -> Shell {
    let items: Vec<(&str, &str)> = nav(me).items.iter().map(|(href, label)| (*label, *href)).collect();
    Shell {
        product: "Fantooo back office".into(),
        title: title.into(),
        home: "/admin".into(),
        stylesheet: SHELL_CSS.into(),
        nav: shell::nav(&items, path),
        flash: Default::default(),
        who: format!("{} · {}", me.admin.name, me.admin.role),
        csrf_token: csrf.0.clone(),
        logout: "/logout".into(),
    }
}

/// One entry as a row: when, who, what, to what, and what changed.
fn audit_row(a: &AdminAction) -> Vec<Cell> {
    let who = match (&a.admin_name, &a.admin_id) {
        (Some(name), _) => name.clone(),
        (None, Some(id)) => format!("admin {id}"),
        (None, None) => "system".into(),
    };
    let subject = match (&a.entity_type, &a.entity_id) {
        (Some(t), Some(i)) => format!("{t} {i}"),
        (Some(t), None) => t.clone(),
        (None, Some(i)) => i.clone(),
        (None, None) => "—".into(),
    };
    let changes: Vec<String> = a.changes.iter().map(ToString::to_string).collect();
    vec![
        Cell::text(a.created_at.format("%Y-%m-%d %H:%M:%S").to_string()),
        Cell::text(who),
        Cell::text(a.action.clone()),
        Cell::mono(subject),
        if changes.is_empty() { Cell::text("—") } else { Cell::lines("", changes) },
    ]
}

async fn audit_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, Query(q): Query<AuditQuery>) -> AppResult<Response> {
    let page = audit_rows(&state, &me, &q, PAGE_ROWS).await?;
    let admins = fantooo_store::admins::list(&state.db).await?;
    let kept = q.kept();
    let value = |name: &str| kept.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let mut choices: Vec<(String, String)> = vec![(String::new(), "Everyone".into())];
    choices.extend(admins.iter().map(|a| (a.id.to_string(), a.name.clone())));
    let choices: Vec<(&str, &str)> = choices.iter().map(|(v, l)| (v.as_str(), l.as_str())).collect();
    let filters = Filters {
        action: "/admin/audit".into(),
        fields: vec![
            FilterField::select("admin", "Admin", value("admin"), &choices),
            FilterField::input("entity_type", "Entity type", "text", value("entity_type")),
            FilterField::input("entity_id", "Entity id", "text", value("entity_id")),
            FilterField::input("from", "From (UTC)", "date", value("from")),
            FilterField::input("until", "Until (UTC)", "date", value("until")),
        ],
    };
    let table = Table {
        columns: ["When (UTC)", "Admin", "Action", "Subject", "Changes"].map(String::from).to_vec(),
        rows: page.items.iter().map(audit_row).collect(),
        empty: "Nothing recorded for these filters.".into(),
        keys: page.items.iter().map(|a| a.action.clone()).collect(),
    };
    let keep: Vec<(&str, &str)> = kept.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let pager = page.pager("/admin/audit", &keep);
    ListPage { shell: shell_for(&me, &csrf, "Audit log", "/admin/audit"), filters, table, pager }.response()
}

async fn audit_api(State(state): State<AppState>, me: CurrentAdmin, Query(q): Query<AuditQuery>) -> AppResult<Json<serde_json::Value>> {
    let page = audit_rows(&state, &me, &q, API_ROWS).await?;
    Ok(Json(json!({
        "actions": page.items,
        "newer": page.newer.as_ref().map(Cursor::encode),
        "older": page.older.as_ref().map(Cursor::encode),
    })))
}
