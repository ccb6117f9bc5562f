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
    /// Sign-ups, purchases and admin actions, newest first.
    activity: Vec<Activity>,
}

/// One line of the dashboard's recent activity.
#[derive(Debug, Clone, Serialize)]
struct Activity {
    at: chrono::DateTime<Utc>,
    /// `signup`, `purchase` or the admin action's name.
    kind: String,
    who: String,
    what: String,
    link: Option<String>,
}

/// What a job run did, as a sentence: `{"assigned": 3}` reads
/// "3 assigned"; `{"over_reassigned": 0, "waited_too_long": 1}` reads
/// "0 over reassigned · 1 waited too long"; lists and words as they are.
pub fn job_summary(counts: &serde_json::Value) -> String {
    use serde_json::Value;
    fn words(key: &str) -> String {
        key.replace('_', " ")
    }
    fn plain(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Array(items) if items.is_empty() => "none".into(),
            Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
            Value::Null => "—".into(),
            other => other.to_string(),
        }
    }
    match counts {
        Value::Object(map) if map.is_empty() => "Nothing to do".into(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                Value::Number(n) => format!("{n} {}", words(k)),
                Value::Bool(b) => format!("{}: {}", words(k), if *b { "yes" } else { "no" }),
                other => format!("{}: {}", words(k), plain(other)),
            })
            .collect::<Vec<_>>()
            .join(" · "),
        other => plain(other),
    }
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
    // Users' sign-ups and purchases, for those who may see users or payments.
    let (see_users, see_payments) = (me.can(Permission::ManageUsers), me.can(Permission::ManagePayments));
    let mut activity: Vec<Activity> = if see_users || see_payments {
        stats::user_events(&state.db, 15)
            .await?
            .into_iter()
            .filter(|e| if e.kind == "signup" { see_users } else { see_payments })
            .map(|e| Activity {
                at: e.at,
                what: if e.kind == "signup" {
                    "signed up".to_string()
                } else {
                    format!("bought {} credits for {}", e.credits, super::kit::kes(e.amount_cents))
                },
                kind: e.kind,
                who: format!("@{}", e.username),
                link: see_users.then(|| format!("/admin/users/{}", e.user_id)),
            })
            .collect()
    } else {
        vec![]
    };
    activity.extend(recent.iter().map(|a| Activity {
        at: a.created_at,
        kind: a.action.clone(),
        who: a.admin_name.clone().unwrap_or_else(|| "system".into()),
        what: format!(
            "{}{}",
            a.action.replace('_', " "),
            a.entity_type.as_deref().map(|t| format!(" · {t} {}", a.entity_id.as_deref().unwrap_or(""))).unwrap_or_default()
        ),
        link: None,
    }));
    activity.sort_by_key(|a| std::cmp::Reverse(a.at));
    activity.truncate(15);
    Ok(Overview {
        totals,
        revenue: analytics::revenue(&state.db, Utc::now()).await?,
        health,
        notifications: notifications::admin_recent(&state.db, &me.admin, true, 20).await?,
        recent,
        activity,
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
    fn job_summary(&self, counts: &serde_json::Value) -> String {
        job_summary(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::job_summary;
    use serde_json::json;

    #[test]
    fn job_results_read_as_words() {
        let cases = [
            (json!({ "assigned": 3 }), "3 assigned"),
            (json!({ "over_reassigned": 0, "waited_too_long": 1 }), "0 over reassigned · 1 waited too long"),
            (json!({ "archived": 0, "note": "SQLite has no partitions" }), "0 archived · note: SQLite has no partitions"),
            (json!({ "partitions": ["messages_y2025m01", "messages_y2025m02"] }), "partitions: messages_y2025m01, messages_y2025m02"),
            (json!({ "partitions": [] }), "partitions: none"),
            (json!({}), "Nothing to do"),
        ];
        for (v, want) in cases {
            assert_eq!(job_summary(&v), want);
        }
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
