//! Sign-up reviews: accounts created from a banned user's address or
//! device wait here for an admin (manage_users) to allow or ban them.

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
use fantooo_domain::account::{CircumventionPolicy, ReviewStatus};
use fantooo_domain::ids::RowId;
use fantooo_domain::Permission;
use fantooo_store::reviews::{self, Review};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users/reviews", get(page))
        .route("/api/admin/users/reviews", get(api))
        .route("/admin/users/reviews/{id}/allow", post(allow))
        .route("/api/admin/users/reviews/{id}/allow", post(allow))
        .route("/admin/users/reviews/{id}/ban", post(ban))
        .route("/api/admin/users/reviews/{id}/ban", post(ban))
}

struct Queue {
    pending: Vec<Review>,
    decided: Vec<Review>,
    policy: CircumventionPolicy,
}

async fn queue(state: &AppState, me: &CurrentAdmin) -> AppResult<Queue> {
    me.require(Permission::ManageUsers)?;
    Ok(Queue {
        pending: reviews::pending(&state.db, 200).await?,
        decided: reviews::decided(&state.db, 50).await?,
        policy: crate::circumvention::policy(state).await?,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/signup_reviews.html")]
struct ReviewsPage {
    chrome: Chrome,
    nav: AdminNav,
    q: Queue,
    flash: Flash,
}

async fn page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, Query(flash): Query<Flash>) -> AppResult<Response> {
    let q = queue(&state, &me).await?;
    Ok(ReviewsPage { chrome: me.chrome(&csrf, "/admin/users"), nav: nav(&me), q, flash }.into_response())
}

async fn api(State(state): State<AppState>, me: CurrentAdmin) -> AppResult<Json<serde_json::Value>> {
    let q = queue(&state, &me).await?;
    Ok(Json(json!({ "pending": q.pending, "decided": q.decided, "policy": q.policy })))
}

async fn decide(state: &AppState, via: Via, me: &CurrentAdmin, ip: &str, id: &str, decision: ReviewStatus) -> AppResult<Response> {
    me.require(Permission::ManageUsers)?;
    let outcome = async {
        let id: RowId = kit::id(id)?;
        let review = reviews::decide(&state.db, id, decision, me.admin.id, Some(ip)).await?;
        state.realtime.written();
        let notice = match decision {
            ReviewStatus::Banned => format!("{} banned", review.username),
            _ => format!("{} allowed", review.username),
        };
        Ok((notice, json!({ "review": review })))
    }
    .await;
    via.finish("/admin/users/reviews", outcome)
}

async fn allow(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> AppResult<Response> {
    decide(&state, via, &me, &ip, &id, ReviewStatus::Allowed).await
}

async fn ban(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> AppResult<Response> {
    decide(&state, via, &me, &ip, &id, ReviewStatus::Banned).await
}
