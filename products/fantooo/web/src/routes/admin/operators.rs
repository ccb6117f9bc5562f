//! Operators: create, edit, suspend/reactivate, delete, performance and
//! activity log.

use super::kit::{self, Flash, Input, Via};
use super::nav;
use crate::auth::{ClientIp, CsrfToken, CurrentAdmin};
use crate::error::{AppError, AppResult};
use crate::flows::{self, StaffInput};
use crate::templates::{AdminNav, Chrome};
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use fantooo_domain::ids::OperatorId;
use fantooo_domain::Permission;
use fantooo_store::operations::{self, Incident, OperatorPeriod};
use fantooo_store::operator_admin::{self, OperatorEdit, Performance};
use fantooo_store::{audit, operators};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/operators", get(list_page).post(create))
        .route("/api/admin/operators/performance", get(list_api))
        .route("/admin/operators/{id}", get(detail_page).post(update))
        .route("/api/admin/operators/{id}", get(detail_api).put(update))
        .route("/admin/operators/{id}/suspend", post(suspend))
        .route("/api/admin/operators/{id}/suspend", post(suspend))
        .route("/admin/operators/{id}/reactivate", post(reactivate))
        .route("/api/admin/operators/{id}/reactivate", post(reactivate))
        .route("/admin/operators/{id}/delete", post(delete))
        .route("/api/admin/operators/{id}/delete", post(delete))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    sort: String,
    #[serde(default)]
    notice: String,
    #[serde(default)]
    error: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/operators.html")]
struct ListPage {
    chrome: Chrome,
    nav: AdminNav,
    operators: Vec<Performance>,
    sort: String,
    sorts: &'static [&'static str],
    flash: Flash,
}

async fn list_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, Query(q): Query<ListQuery>) -> AppResult<Response> {
    me.require(Permission::ManageOperators)?;
    let operators = operator_admin::performance(&state.db, &q.sort).await?;
    let sort = if operator_admin::SORTS.contains(&q.sort.as_str()) { q.sort } else { "quality".into() };
    Ok(ListPage {
        chrome: me.chrome(&csrf, "/admin/operators"),
        nav: nav(&me),
        operators,
        sort,
        sorts: operator_admin::SORTS,
        flash: Flash { notice: q.notice, error: q.error },
    }
    .into_response())
}

async fn list_api(State(state): State<AppState>, me: CurrentAdmin, Query(q): Query<ListQuery>) -> AppResult<Json<serde_json::Value>> {
    me.require(Permission::ManageOperators)?;
    Ok(Json(json!({ "operators": operator_admin::performance(&state.db, &q.sort).await? })))
}

async fn create(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Input(input): Input<StaffInput>,
) -> AppResult<Response> {
    me.require(Permission::ManageOperators)?;
    let outcome = async {
        let op = flows::create_operator(&state, me.admin.id, &input, &ip).await?;
        Ok((format!("Operator {} created", op.name), json!({ "operator": op })))
    }
    .await;
    if via.api {
        return via.finish("/admin/operators", outcome);
    }
    let (status, flash) = kit::flash_of(outcome)?;
    let operators = operator_admin::performance(&state.db, "quality").await?;
    let page = ListPage {
        chrome: me.chrome(&csrf, "/admin/operators"),
        nav: nav(&me),
        operators,
        sort: "quality".into(),
        sorts: operator_admin::SORTS,
        flash,
    };
    Ok((status, page).into_response())
}

#[derive(Serialize)]
struct Detail {
    operator: Performance,
    specializations: Vec<String>,
    languages: Vec<String>,
    skill_level: String,
    last_30_days: OperatorPeriod,
    activity: Vec<Incident>,
    held_chats: Vec<operators::HeldChat>,
}

async fn detail(state: &AppState, me: &CurrentAdmin, id: &str) -> AppResult<Detail> {
    me.require(Permission::ManageOperators)?;
    let id: OperatorId = kit::id(id)?;
    let now = Utc::now();
    let full = operators::by_id(&state.db, id).await?;
    Ok(Detail {
        operator: operator_admin::one(&state.db, id).await?,
        specializations: full.specializations.0,
        languages: full.languages.0,
        skill_level: full.skill_level,
        last_30_days: {
            let (from, to) = operations::standing_window(now);
            operations::operator_period(&state.db, id, from, to).await?
        },
        activity: operations::incidents(&state.db, id, 100).await?,
        held_chats: operators::held_chats(&state.db, id).await?,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/operator.html")]
struct DetailPage {
    chrome: Chrome,
    nav: AdminNav,
    d: Detail,
    flash: Flash,
}

async fn detail_page(
    State(state): State<AppState>,
    me: CurrentAdmin,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> AppResult<Response> {
    let d = detail(&state, &me, &id).await?;
    Ok(DetailPage { chrome: me.chrome(&csrf, "/admin/operators"), nav: nav(&me), d, flash }.into_response())
}

async fn detail_api(State(state): State<AppState>, me: CurrentAdmin, Path(id): Path<String>) -> AppResult<Json<serde_json::Value>> {
    let d = detail(&state, &me, &id).await?;
    Ok(Json(serde_json::to_value(&d).map_err(|e| AppError::Internal(e.to_string()))?))
}

#[derive(Deserialize)]
struct EditForm {
    name: Option<String>,
    specializations: Option<String>,
    languages: Option<String>,
    skill_level: Option<String>,
    max_concurrent_chats: Option<String>,
    quality_threshold: Option<String>,
}

async fn update(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Input(f): Input<EditForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageOperators)?;
    let id: OperatorId = kit::id(&id)?;
    let outcome = async {
        let before = operators::by_id(&state.db, id).await?;
        let mut e = fantooo_domain::FieldErrors::new();
        let name = kit::text(&f.name).unwrap_or(before.name.clone());
        if name.chars().count() > 100 { e.add("name", "At most 100 characters"); }
        let skill = kit::text(&f.skill_level).unwrap_or(before.skill_level.clone());
        if !["junior", "mid", "senior", "expert"].contains(&skill.as_str()) { e.add("skill_level", "junior, mid, senior or expert"); }
        let max = match kit::text(&f.max_concurrent_chats) {
            None => before.max_concurrent_chats,
            Some(v) => v.parse::<i64>().ok().filter(|n| (1..=50).contains(n)).unwrap_or_else(|| { e.add("max_concurrent_chats", "Between 1 and 50 chats"); 0 }),
        };
        let threshold = match kit::text(&f.quality_threshold) {
            None => before.quality_threshold,
            Some(v) => v.parse::<f64>().ok().filter(|n| (0.0..=100.0).contains(n)).unwrap_or_else(|| { e.add("quality_threshold", "Between 0 and 100"); 0.0 }),
        };
        e.into_result()?;
        let specializations = if f.specializations.is_some() { kit::items(&f.specializations) } else { before.specializations.0.clone() };
        let languages = if f.languages.is_some() { kit::items(&f.languages) } else { before.languages.0.clone() };
        let edit = OperatorEdit { name, specializations, languages, skill_level: skill, max_concurrent_chats: max, quality_threshold: threshold };
        operator_admin::update(&state.db, id, &edit).await?;
        state.sign_in_changed(None);
        audit::admin_action(&state.db, Some(me.admin.id), "operator_updated", Some(("operator", id.to_string())),
            Some(json!({ "name": before.name, "specializations": before.specializations.0, "languages": before.languages.0, "skill_level": before.skill_level,
                         "max_concurrent_chats": before.max_concurrent_chats, "quality_threshold": before.quality_threshold })),
            Some(serde_json::to_value(&edit).unwrap_or_default()), Some(&ip)).await?;
        Ok(("Operator saved".to_string(), json!({ "operator": operators::by_id(&state.db, id).await? })))
    }.await;
    via.finish(&format!("/admin/operators/{id}"), outcome)
}

#[derive(Deserialize)]
struct SuspendForm {
    reason: Option<String>,
    until: Option<String>,
}

async fn suspend(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Input(f): Input<SuspendForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageOperators)?;
    let id: OperatorId = kit::id(&id)?;
    let outcome = async {
        let reason = kit::text(&f.reason).ok_or_else(|| AppError::field("reason", "Give a reason for the suspension"))?;
        let until = kit::end_of(&f.until).map_err(|_| AppError::field("until", "Enter the end date as YYYY-MM-DD"))?;
        let cfg = operations::config(&state.db).await?;
        let moved = operator_admin::suspend(&state.db, id, &reason, until, &cfg, Utc::now()).await?;
        state.sign_in_changed(None);
        state.realtime.written();
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            "operator_suspended",
            Some(("operator", id.to_string())),
            Some(json!({ "is_suspended": false })),
            Some(json!({ "is_suspended": true, "reason": reason, "until": until, "chats_requeued": moved })),
            Some(&ip),
        )
        .await?;
        Ok((format!("Operator suspended; {moved} chats returned to the queue"), json!({ "chats_requeued": moved })))
    }
    .await;
    via.finish(&format!("/admin/operators/{id}"), outcome)
}

async fn reactivate(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> AppResult<Response> {
    me.require(Permission::ManageOperators)?;
    let id: OperatorId = kit::id(&id)?;
    let outcome = async {
        operator_admin::reactivate(&state.db, id, Utc::now()).await?;
        state.sign_in_changed(None);
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            "operator_reactivated",
            Some(("operator", id.to_string())),
            Some(json!({ "is_suspended": true })),
            Some(json!({ "is_suspended": false })),
            Some(&ip),
        )
        .await?;
        Ok(("Operator reactivated".to_string(), json!({ "is_suspended": false })))
    }
    .await;
    via.finish(&format!("/admin/operators/{id}"), outcome)
}

async fn delete(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> AppResult<Response> {
    me.require(Permission::ManageOperators)?;
    let id: OperatorId = kit::id(&id)?;
    let outcome = async {
        let before = operators::by_id(&state.db, id).await?;
        operations::delete_operator(&state.db, id, Utc::now()).await?;
        state.sign_in_changed(None);
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            "operator_deleted",
            Some(("operator", id.to_string())),
            Some(json!({ "name": before.name, "email": before.email })),
            None,
            Some(&ip),
        )
        .await?;
        Ok((format!("Operator {} deleted", before.name), json!({ "deleted": true })))
    }
    .await;
    let back = if outcome.is_ok() { "/admin/operators".to_string() } else { format!("/admin/operators/{id}") };
    via.finish(&back, outcome)
}
