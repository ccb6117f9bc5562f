//! Blocking and reporting a profile. A block closes the chat at once (its
//! operator is released) and keeps it closed for both sides until the user
//! unblocks; a report goes to the staff's review queue and notifies the
//! admins. Each as a page form (from the profile page) and as JSON.

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::routes::api::ApiJson;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{post, put};
use axum::{Form, Json, Router};
use chrono::Utc;
use fantooo_domain::chat::{ReportReason, MAX_REPORT_DETAILS};
use fantooo_domain::ids::ProfileId;
use fantooo_store::{operations, safety};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/profile/{id}/block", post(block_form))
        .route("/profile/{id}/unblock", post(unblock_form))
        .route("/profile/{id}/report", post(report_form))
        .route("/api/profiles/{id}/block", put(block_api).delete(unblock_api))
        .route("/api/profiles/{id}/report", post(report_api))
}

fn profile(raw: &str) -> AppResult<ProfileId> {
    raw.parse().map_err(|_| AppError::NotFound)
}

async fn block(state: &AppState, me: &CurrentUser, id: ProfileId) -> AppResult<()> {
    let now = Utc::now();
    if let Some(chat) = safety::block(&state.db, me.user.id, id, now).await? {
        operations::close(&state.db, chat, "blocked_by_user", None, now).await?;
        state.realtime.written();
    }
    Ok(())
}

async fn block_form(State(state): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> AppResult<Response> {
    let id = profile(&id)?;
    block(&state, &me, id).await?;
    Ok(Redirect::to(&format!("/profile/{id}?done=blocked#safety")).into_response())
}

async fn unblock_form(State(state): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> AppResult<Response> {
    let id = profile(&id)?;
    safety::unblock(&state.db, me.user.id, id).await?;
    Ok(Redirect::to(&format!("/profile/{id}?done=unblocked#safety")).into_response())
}

async fn block_api(State(state): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> AppResult<Json<serde_json::Value>> {
    let id = profile(&id)?;
    block(&state, &me, id).await?;
    Ok(Json(json!({ "profile_id": id, "blocked": true })))
}

async fn unblock_api(State(state): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> AppResult<Json<serde_json::Value>> {
    let id = profile(&id)?;
    safety::unblock(&state.db, me.user.id, id).await?;
    Ok(Json(json!({ "profile_id": id, "blocked": false })))
}

#[derive(Deserialize, Default)]
struct ReportInput {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    details: String,
}

async fn report(state: &AppState, me: &CurrentUser, id: ProfileId, input: &ReportInput) -> AppResult<()> {
    let mut errs = fantooo_domain::FieldErrors::new();
    let reason: Option<ReportReason> = input.reason.trim().parse().ok();
    if reason.is_none() {
        errs.add("reason", "Choose why you are reporting this profile");
    }
    let details = input.details.trim();
    if details.chars().count() > MAX_REPORT_DETAILS {
        errs.add("details", format!("Keep it to {MAX_REPORT_DETAILS} characters"));
    } else if details.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        errs.add("details", "The text cannot contain control characters");
    }
    errs.into_result()?;
    let reason = reason.ok_or(AppError::NotFound)?;
    state.limits.check_message(&me.session.account_id.to_string())?;
    safety::report(&state.db, me.user.id, id, reason, (!details.is_empty()).then_some(details), Utc::now()).await?;
    state.realtime.written();
    Ok(())
}

async fn report_form(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    Form(input): Form<ReportInput>,
) -> AppResult<Response> {
    let id = profile(&id)?;
    report(&state, &me, id, &input).await?;
    Ok(Redirect::to(&format!("/profile/{id}?done=reported#safety")).into_response())
}

async fn report_api(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReportInput>,
) -> AppResult<Response> {
    let id = profile(&id)?;
    report(&state, &me, id, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "reported": true }))).into_response())
}
