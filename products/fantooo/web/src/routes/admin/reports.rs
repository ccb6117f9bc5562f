//! Profile reports: what users reported about a profile waits here for an
//! admin who manages chats (moderators included) to resolve or dismiss it.

use super::kit::{self, Flash, Via};
use super::nav;
use crate::auth::{ClientIp, CsrfToken, CurrentAdmin};
use crate::error::AppResult;
use crate::templates::{AdminNav, Chrome};
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use fantooo_domain::chat::ReportStatus;
use fantooo_domain::ids::RowId;
use fantooo_domain::Permission;
use fantooo_store::safety::{self, Report};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/reports", get(page))
        .route("/api/admin/reports", get(api))
        .route("/admin/reports/{id}/{action}", post(decide))
        .route("/api/admin/reports/{id}/{action}", post(decide))
}

struct Queue {
    pending: Vec<Report>,
    handled: Vec<Report>,
}

async fn queue(state: &AppState, me: &CurrentAdmin) -> AppResult<Queue> {
    me.require(Permission::ManageChats)?;
    Ok(Queue { pending: safety::pending(&state.db, 200).await?, handled: safety::handled(&state.db, 50).await? })
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/profile_reports.html")]
struct ReportsPage {
    chrome: Chrome,
    nav: AdminNav,
    q: Queue,
    flash: Flash,
}

async fn page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, Query(flash): Query<Flash>) -> AppResult<Response> {
    let q = queue(&state, &me).await?;
    Ok(ReportsPage { chrome: me.chrome(&csrf, "/admin/reports"), nav: nav(&me), q, flash }.into_response())
}

async fn api(State(state): State<AppState>, me: CurrentAdmin) -> AppResult<Json<serde_json::Value>> {
    let q = queue(&state, &me).await?;
    Ok(Json(json!({ "pending": q.pending, "handled": q.handled })))
}

/// `POST …/{id}/resolve` or `…/{id}/dismiss`, page or API.
async fn decide(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path((id, action)): Path<(String, String)>,
) -> AppResult<Response> {
    me.require(Permission::ManageChats)?;
    let decision = match action.as_str() {
        "resolve" => ReportStatus::Resolved,
        "dismiss" => ReportStatus::Dismissed,
        _ => return Err(crate::error::AppError::NotFound),
    };
    let outcome = async {
        let id: RowId = kit::id(&id)?;
        safety::decide(&state.db, id, decision, me.admin.id, Some(&ip), chrono::Utc::now()).await?;
        Ok((format!("Report {decision}"), json!({ "id": id, "status": decision })))
    }
    .await;
    via.finish("/admin/reports", outcome)
}
