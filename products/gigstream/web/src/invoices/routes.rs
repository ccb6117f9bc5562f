//! Invoices on pages and in the API. Only the order's buyer and seller see
//! a document; to anyone else (admins included) it does not exist (404).
//!
//! - `GET /invoices`: one's invoices and credit notes (as buyer and seller)
//! - `GET /invoices/{id}/pdf`: the PDF
//! - `GET /api/v1/invoices`, `GET /api/v1/invoices/{id}`,
//!   `GET /api/v1/invoices/{id}/pdf`, `GET /api/v1/orders/{id}/invoices`

use super::pdf_of;
use crate::auth::{CsrfToken, CurrentUser};
use crate::templates::{money, Chrome};
use crate::{AppError, AppResult, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use gigstream_domain::ids::{InvoiceId, OrderId};
use gigstream_store::invoices::{self, Invoice};
use gigstream_store::orders;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/invoices", get(list_page))
        .route("/invoices/{id}/pdf", get(download))
        .route("/api/v1/invoices", get(list_api))
        .route("/api/v1/invoices/{id}", get(one_api))
        .route("/api/v1/invoices/{id}/pdf", get(download))
        .route("/api/v1/orders/{id}/invoices", get(for_order_api))
}

/// The document if `user` is its buyer or seller, else 404.
async fn visible(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<Invoice> {
    let id: InvoiceId = id.parse().map_err(|_| AppError::NotFound)?;
    let inv = invoices::get(&state.db, id).await?;
    if !inv.is_party(user.account.id) {
        return Err(AppError::NotFound);
    }
    Ok(inv)
}

async fn download(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> AppResult<Response> {
    let inv = visible(&state, &user, &id).await?;
    let bytes = pdf_of(&state, &inv).await?;
    let disposition = format!("attachment; filename=\"{}\"", inv.file_name());
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

fn summary(inv: &Invoice) -> Value {
    let mut v = serde_json::to_value(inv).unwrap_or_default();
    v["pdf_url"] = json!(format!("/api/v1/invoices/{}/pdf", inv.id));
    v
}

async fn one_api(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> AppResult<Json<Value>> {
    Ok(Json(summary(&visible(&state, &user, &id).await?)))
}

async fn list_api(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<Value>> {
    let list = invoices::for_account(&state.db, user.account.id, 200).await?;
    Ok(Json(json!({ "invoices": list.iter().map(summary).collect::<Vec<_>>() })))
}

async fn for_order_api(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> AppResult<Json<Value>> {
    let id: OrderId = id.parse().map_err(|_| AppError::NotFound)?;
    let o = orders::get(&state.db, id).await?;
    if user.account.id != o.buyer_id && user.account.id != o.seller_id {
        return Err(AppError::NotFound);
    }
    let list = invoices::for_order(&state.db, id).await?;
    Ok(Json(json!({ "invoices": list.iter().map(summary).collect::<Vec<_>>() })))
}

/// One row of the invoices page.
pub struct Line {
    pub id: String,
    pub number: String,
    pub kind: &'static str,
    pub order_id: String,
    pub description: String,
    pub role: &'static str,
    pub other_party: String,
    pub total: String,
    pub issued: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "invoices.html")]
struct ListPage {
    chrome: Chrome,
    lines: Vec<Line>,
}

async fn list_page(State(state): State<AppState>, csrf: CsrfToken, user: CurrentUser) -> AppResult<Response> {
    let me = user.account.id;
    let lines = invoices::for_account(&state.db, me, 200)
        .await?
        .into_iter()
        .map(|inv| {
            let buyer = inv.buyer_id == me;
            Line {
                id: inv.id.to_string(),
                number: inv.number.clone(),
                kind: inv.kind.title(),
                order_id: inv.order_id.to_string(),
                description: inv.description.clone(),
                role: if buyer { "bought from" } else { "sold to" },
                other_party: if buyer { inv.seller_name.clone() } else { inv.buyer_name.clone() },
                total: money(inv.total_minor, inv.currency),
                issued: inv.issued_at.format("%d %b %Y").to_string(),
            }
        })
        .collect();
    let chrome = Chrome { csrf: csrf.0.clone(), username: Some(user.account.username.clone()), q: String::new() };
    Ok(ListPage { chrome, lines }.into_response())
}
