//! The gig moderation queue: approve, or remove with the reason the seller sees.

use super::{at_of, cursor_of, direction_of, given, shell_for, when, Action, Detail, Field, Staff};
use crate::auth::CsrfToken;
use crate::{AppError, AppResult, AppState};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use gigstream_domain::backoffice::AdminPermission as P;
use gigstream_domain::ids::GigId;
use gigstream_store::backoffice::{self as bo, GigView, QueuedGig};
use gigstream_store::gigs;
use platform_backoffice::forms::{id, Flash, Input, Via};
use platform_backoffice::keyset::{KeysetPage, Page};
use platform_backoffice::shell::{confirmed, Cell, FilterField, Filters, ListPage, Table};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/gigs", get(list_page))
        .route("/api/v1/admin/gigs", get(list_api))
        .route("/admin/gigs/{id}", get(detail_page))
        .route("/admin/gigs/{id}/{decision}", post(decide))
        .route("/api/v1/admin/gigs/{id}/{decision}", post(decide))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    view: Option<String>,
    #[serde(flatten)]
    page: Page,
}

const ROWS: i64 = 50;

async fn rows(state: &AppState, staff: &Staff, q: &ListQuery) -> AppResult<(GigView, KeysetPage<QueuedGig>)> {
    staff.require(P::ModerateGigs)?;
    let view = match given(&q.view) {
        None => GigView::Queue,
        Some(v) => v.parse().map_err(|_| AppError::field("view", "Choose queue, approved or removed."))?,
    };
    let at = at_of::<GigId>(&q.page)?;
    let found = bo::gigs(&state.db, view, &at, ROWS).await?;
    Ok((view, KeysetPage::from_rows(found, &direction_of(&at), ROWS as usize, |g| cursor_of(g.sort_key(view), g.id))))
}

async fn list_page(
    State(state): State<AppState>,
    staff: Staff,
    csrf: CsrfToken,
    Query(flash): Query<Flash>,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let (view, page) = rows(&state, &staff, &q).await?;
    let list = &page.items;
    let filters = Filters {
        action: "/admin/gigs".into(),
        fields: vec![FilterField::select(
            "view",
            "Show",
            view.as_str(),
            &[("queue", "Waiting for review"), ("approved", "Approved"), ("removed", "Removed")],
        )],
    };
    let table = Table {
        columns: ["Gig", "Seller", "Category", "Status", "Created", "Reason"].map(String::from).to_vec(),
        rows: list
            .iter()
            .map(|g| {
                vec![
                    Cell::link(g.title.clone(), format!("/admin/gigs/{}", g.id)),
                    Cell::link(format!("@{}", g.seller), format!("/admin/users/{}", g.seller_id)),
                    Cell::text(g.category.clone()),
                    Cell::text(g.status.clone()),
                    Cell::text(when(g.created_at)),
                    Cell::text(g.reason.clone().unwrap_or_default()),
                ]
            })
            .collect(),
        empty: "Nothing here.".into(),
        keys: list.iter().map(|g| g.slug.clone()).collect(),
    };
    let shell = shell_for(&staff, &csrf, "Gig moderation", "/admin/gigs", flash);
    let pager = page.pager("/admin/gigs", &[("view", view.as_str())]);
    ListPage { shell, filters, table, pager }.response()
}

async fn list_api(State(state): State<AppState>, staff: Staff, Query(q): Query<ListQuery>) -> AppResult<Json<Value>> {
    let (view, page) = rows(&state, &staff, &q).await?;
    let (newer, older) = (page.newer.map(|c| c.encode()), page.older.map(|c| c.encode()));
    Ok(Json(json!({ "view": view, "gigs": page.items, "newer": newer, "older": older })))
}

async fn detail_page(
    State(state): State<AppState>,
    staff: Staff,
    csrf: CsrfToken,
    Query(flash): Query<Flash>,
    Path(raw): Path<String>,
) -> AppResult<Response> {
    staff.require(P::ModerateGigs)?;
    let gig = gigs::get(&state.db, id::<GigId>(&raw)?).await?;
    let path = format!("/admin/gigs/{}", gig.id);
    let mut page = Detail::new(shell_for(&staff, &csrf, &gig.title, &path, flash))
        .fact("Status", gig.status.to_string())
        .fact("Category", gig.category.clone())
        .fact("Created", when(gig.created_at))
        .fact("Tags", gig.tags.0.join(", "));
    page.links.push(("Open the gig page".into(), format!("/gigs/{}", gig.slug)));
    page.links.push(("The seller".into(), format!("/admin/users/{}", gig.seller_id)));
    if gig.status.as_str() != "deleted" {
        page.actions.push(Action::form(&format!("{path}/approve"), "Approve", vec![]));
        page.actions.push(Action::confirmed(
            format!("{path}/remove"),
            "Remove",
            "Remove this gig? It leaves search and its page at once; its orders go on. The seller sees your reason.".into(),
            vec![Field::new("reason", "Reason (the seller is shown it)", "textarea", "")],
        ));
    }
    page.response()
}

#[derive(Deserialize, Default)]
struct DecideForm {
    confirm: Option<String>,
    reason: Option<String>,
}

async fn decide(
    State(state): State<AppState>,
    via: Via,
    staff: Staff,
    Path((raw, decision)): Path<(String, String)>,
    Input(f): Input<DecideForm>,
) -> AppResult<Response> {
    staff.require(P::ModerateGigs)?;
    let gig: GigId = id(&raw)?;
    let remove = match decision.as_str() {
        "approve" => false,
        "remove" => true,
        _ => return Err(AppError::NotFound),
    };
    let outcome = async {
        if remove && !via.api {
            confirmed(f.confirm.as_deref())?;
        }
        bo::decide_gig(&state.db, staff.actor(), gig, remove, f.reason.as_deref().unwrap_or(""), Utc::now()).await?;
        let word = if remove { "removed" } else { "approved" };
        Ok((format!("Gig {word}."), json!({ "gig_id": gig, "decision": word })))
    }
    .await;
    via.finish(&format!("/admin/gigs/{gig}"), outcome)
}
