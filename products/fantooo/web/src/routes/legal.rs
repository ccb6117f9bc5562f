//! The Terms of Service and the Privacy Policy: public pages and JSON, and
//! their editing in the back office (`settings::set` audits each change
//! with before and after). Until an admin saves a text, the shipped one is
//! in force.

use super::admin::kit::{Input, Via};
use crate::auth::{CsrfToken, CurrentAdmin, CurrentViewer};
use crate::error::{AppError, AppResult};
use crate::templates::Chrome;
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use fantooo_domain::legal::{self, Block, LegalDoc};
use fantooo_domain::Permission;
use fantooo_store::settings;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/terms", get(terms_page))
        .route("/privacy", get(privacy_page))
        .route("/api/legal/{doc}", get(api_get))
        .route("/admin/settings/legal/{doc}", post(save))
        .route("/api/admin/settings/legal/{doc}", put(save))
}

/// A saved text; absent until an admin first edits the document.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    text: String,
    updated_at: DateTime<Utc>,
}

/// The text in force and when it was last changed (None: the shipped text).
pub async fn current(state: &AppState, doc: LegalDoc) -> AppResult<(String, Option<DateTime<Utc>>)> {
    Ok(match settings::get::<Saved>(&state.db, doc.settings_key()).await? {
        Some(s) => (s.text, Some(s.updated_at)),
        None => (doc.default_text().to_string(), None),
    })
}

fn doc_of(slug: &str) -> AppResult<LegalDoc> {
    LegalDoc::from_slug(slug).ok_or(AppError::NotFound)
}

#[derive(Template, WebTemplate)]
#[template(path = "legal.html")]
struct LegalPage {
    chrome: Chrome,
    title: &'static str,
    blocks: Vec<Block>,
    updated: Option<String>,
}

async fn page(state: AppState, viewer: Result<CurrentViewer, AppError>, csrf: CsrfToken, doc: LegalDoc) -> AppResult<Response> {
    let path = format!("/{}", doc.slug());
    let chrome = match &viewer {
        Ok(v) => v.chrome(&csrf, &path),
        Err(_) => Chrome::anonymous(&csrf.0, &path),
    };
    let (text, updated) = current(&state, doc).await?;
    Ok(LegalPage { chrome, title: doc.title(), blocks: legal::blocks(&text), updated: updated.map(|t| t.format("%-d %B %Y").to_string()) }
        .into_response())
}

async fn terms_page(State(state): State<AppState>, viewer: Result<CurrentViewer, AppError>, csrf: CsrfToken) -> AppResult<Response> {
    page(state, viewer, csrf, LegalDoc::Terms).await
}

async fn privacy_page(State(state): State<AppState>, viewer: Result<CurrentViewer, AppError>, csrf: CsrfToken) -> AppResult<Response> {
    page(state, viewer, csrf, LegalDoc::Privacy).await
}

async fn api_get(State(state): State<AppState>, Path(slug): Path<String>) -> AppResult<Json<serde_json::Value>> {
    let doc = doc_of(&slug)?;
    let (text, updated) = current(&state, doc).await?;
    Ok(Json(json!({ "document": doc.slug(), "title": doc.title(), "text": text, "updated_at": updated })))
}

#[derive(Deserialize)]
struct LegalForm {
    text: Option<String>,
}

async fn save(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    Path(slug): Path<String>,
    Input(form): Input<LegalForm>,
) -> AppResult<Response> {
    me.require(Permission::SystemSettings)?;
    let doc = doc_of(&slug)?;
    let outcome = async {
        let text = legal::text(form.text.as_deref().unwrap_or(""))?;
        let saved = Saved { text, updated_at: Utc::now() };
        settings::set(&state.db, doc.settings_key(), &saved, Some(me.admin.id)).await?;
        Ok((format!("{} saved", doc.title()), json!({ "document": doc.slug(), "text": saved.text, "updated_at": saved.updated_at })))
    }
    .await;
    via.finish("/admin/settings", outcome)
}
