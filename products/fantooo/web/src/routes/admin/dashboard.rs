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
use fantooo_domain::ids::{AdminId, NotificationId};
use fantooo_domain::Permission;
use fantooo_store::analytics::{self, Revenue};
use fantooo_store::audit::{self, AdminAction};
use fantooo_store::notifications::{self, AdminNotification};
use fantooo_store::stats::{self, Totals};
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
    notifications: Vec<AdminNotification>,
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
        audit::admin_actions_filtered(&state.db, audit::AuditFilter { admin: Some(me.admin.id), ..Default::default() }, 10).await?
    };
    Ok(Overview {
        totals: stats::totals(&state.db).await?,
        revenue: analytics::revenue(&state.db, Utc::now()).await?,
        health,
        notifications: notifications::admin_recent(&state.db, true, 20).await?,
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
    _me: CurrentAdmin,
    Query(q): Query<NotificationQuery>,
) -> AppResult<Json<serde_json::Value>> {
    let unread_only = super::kit::checked(&q.unread);
    Ok(Json(json!({
        "notifications": notifications::admin_recent(&state.db, unread_only, 50).await?,
        "unread": notifications::admin_unread_count(&state.db).await?,
    })))
}

async fn mark_read(State(state): State<AppState>, via: Via, me: CurrentAdmin) -> AppResult<Response> {
    let outcome = async {
        let n = notifications::mark_admin_read(&state.db, None, me.admin.id).await?;
        Ok((format!("{n} notifications marked read"), json!({ "marked": n })))
    }
    .await;
    via.finish("/admin", outcome)
}

async fn mark_one_read(State(state): State<AppState>, via: Via, me: CurrentAdmin, Path(id): Path<String>) -> AppResult<Response> {
    let id: NotificationId = super::kit::id(&id)?;
    let outcome = async {
        let n = notifications::mark_admin_read(&state.db, Some(id), me.admin.id).await?;
        Ok(("Notification marked read".to_string(), json!({ "marked": n })))
    }
    .await;
    via.finish("/admin", outcome)
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    admin: Option<String>,
    entity_type: Option<String>,
    entity_id: Option<String>,
}

async fn audit_rows(state: &AppState, me: &CurrentAdmin, q: &AuditQuery) -> AppResult<Vec<AdminAction>> {
    me.require(Permission::ManageAdmins)?;
    let admin: Option<AdminId> = q.admin.as_deref().filter(|s| !s.is_empty()).map(super::kit::id).transpose()?;
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let (entity_type, entity_id) = (given(&q.entity_type), given(&q.entity_id));
    let f = audit::AuditFilter { admin, entity_type: entity_type.as_deref(), entity_id: entity_id.as_deref() };
    Ok(audit::admin_actions_filtered(&state.db, f, 200).await?)
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chrome: Chrome,
    nav: AdminNav,
    actions: Vec<AdminAction>,
    admins: Vec<fantooo_store::admins::Admin>,
    selected_admin: String,
}

async fn audit_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, Query(q): Query<AuditQuery>) -> AppResult<Response> {
    let actions = audit_rows(&state, &me, &q).await?;
    let admins = fantooo_store::admins::list(&state.db).await?;
    Ok(AuditPage { chrome: me.chrome(&csrf, "/admin/audit"), nav: nav(&me), actions, admins, selected_admin: q.admin.unwrap_or_default() }
        .into_response())
}

async fn audit_api(State(state): State<AppState>, me: CurrentAdmin, Query(q): Query<AuditQuery>) -> AppResult<Json<serde_json::Value>> {
    Ok(Json(json!({ "actions": audit_rows(&state, &me, &q).await? })))
}
