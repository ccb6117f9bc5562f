//! A person's own account: the data export (a zip of JSON and their
//! files, or the JSON alone), account deletion (password and
//! confirmation; money records kept, anonymised), gigs an admin removed
//! with the reasons, and the Terms of Service and Privacy pages.

use super::common::{FormIn, JsonIn};
use crate::auth::{self, CsrfToken, CurrentUser, MaybeUser};
use crate::middleware::clear_session_cookie;
use crate::templates::{AccountPage, Chrome, LegalPage};
use crate::{AppError, AppResult, AppState};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use gigstream_store::{backoffice, privacy};
use platform_media::MediaKey;
use serde::Deserialize;
use serde_json::{json, Value};
use std::io::Write;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(account_page))
        .route("/account/export", get(export_zip))
        .route("/api/v1/me/export", get(export_json))
        .route("/account/delete", post(delete_page))
        .route("/api/v1/me/delete", post(delete_api))
        .route("/api/v1/me/removed-gigs", get(removed_api))
        .route("/terms", get(terms))
        .route("/privacy", get(privacy_page))
}

fn chrome(csrf: &CsrfToken, user: Option<&CurrentUser>) -> Chrome {
    Chrome { csrf: csrf.0.clone(), username: user.map(|u| u.account.username.clone()), q: String::new() }
}

async fn render(state: &AppState, csrf: &CsrfToken, user: &CurrentUser, errors: Vec<(String, String)>) -> AppResult<Response> {
    let removed = backoffice::removed_gigs_of(&state.db, user.account.id).await?;
    Ok(AccountPage {
        chrome: chrome(csrf, Some(user)),
        username: user.account.username.clone(),
        email: user.account.email.clone(),
        verified: user.account.verified_at.is_some(),
        removed: removed.into_iter().map(|r| (r.title, r.reason, r.removed_at.format("%d %b %Y").to_string())).collect(),
        errors,
    }
    .into_response())
}

async fn account_page(State(state): State<AppState>, csrf: CsrfToken, user: CurrentUser) -> AppResult<Response> {
    render(&state, &csrf, &user, vec![]).await
}

async fn removed_api(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<Value>> {
    Ok(Json(json!({ "removed_gigs": backoffice::removed_gigs_of(&state.db, user.account.id).await? })))
}

async fn export_json(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<Value>> {
    Ok(Json(privacy::export(&state.db, user.account.id).await?.data))
}

/// The export as a zip: `data.json` and `files/…`. Built in memory (a
/// person's uploads are bounded by the upload limits); a file missing from
/// the media store is listed in `missing.txt` rather than failing the export.
async fn export_zip(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    let export = privacy::export(&state.db, user.account.id).await?;
    let mut files = vec![];
    let mut missing = vec![];
    for f in &export.files {
        let stored = match MediaKey::parse(&f.key) {
            Ok(key) => state.media.get(&key).await.map_err(|e| AppError::Internal(e.to_string()))?,
            Err(_) => None,
        };
        match stored {
            Some(s) => files.push((f.path.clone(), s.bytes)),
            None => missing.push(f.path.clone()),
        }
    }
    let json = serde_json::to_vec_pretty(&export.data).map_err(|e| AppError::Internal(e.to_string()))?;
    let bytes = tokio::task::spawn_blocking(move || zip_of(&json, &files, &missing))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let name = format!("gigstream-{}-{}.zip", user.account.username, Utc::now().format("%Y%m%d"));
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

fn zip_of(json: &[u8], files: &[(String, Vec<u8>)], missing: &[String]) -> zip::result::ZipResult<Vec<u8>> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    out.start_file("data.json", opts)?;
    out.write_all(json)?;
    let mut seen = std::collections::HashSet::new();
    for (path, bytes) in files {
        // Two uploads with one name keep both.
        let mut p = path.clone();
        let mut n = 1;
        while !seen.insert(p.clone()) {
            n += 1;
            p = format!("{path}.{n}");
        }
        out.start_file(p, opts)?;
        out.write_all(bytes)?;
    }
    if !missing.is_empty() {
        out.start_file("missing.txt", opts)?;
        out.write_all(format!("Files no longer in storage:\n{}\n", missing.join("\n")).as_bytes())?;
    }
    Ok(out.finish()?.into_inner())
}

#[derive(Deserialize, Default)]
struct DeleteForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// Checks the password and the confirmation, deletes, and removes the files.
async fn delete(state: &AppState, user: &CurrentUser, f: &DeleteForm) -> AppResult<privacy::Deleted> {
    if f.confirm != "yes" {
        return Err(AppError::field("confirm", "Confirm that you want to delete your account."));
    }
    if f.password.is_empty() {
        return Err(AppError::field("password", "Enter your password to delete your account."));
    }
    let ip = user.ip.clone().unwrap_or_default();
    match auth::verify_login(state, &user.account.username, &f.password, &ip).await {
        Ok(a) if a.id == user.account.id => {}
        _ => return Err(AppError::field("password", "That is not your password.")),
    }
    let done = privacy::delete_account(&state.db, user.account.id, user.ip.as_deref(), Utc::now()).await?;
    for key in &done.media_keys {
        if let Ok(k) = MediaKey::parse(key) {
            if let Err(e) = state.media.delete(&k).await {
                tracing::warn!(key = %key, error = %e, "file of a deleted account not removed");
            }
        }
    }
    Ok(done)
}

async fn delete_page(
    State(state): State<AppState>,
    csrf: CsrfToken,
    user: CurrentUser,
    FormIn(f): FormIn<DeleteForm>,
) -> AppResult<Response> {
    match delete(&state, &user, &f).await {
        Ok(_) => {
            let mut resp = Redirect::to("/?deleted=1").into_response();
            if let Ok(v) = clear_session_cookie(state.config.secure_cookies).parse() {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(resp)
        }
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            let status = e.status();
            let errors = match e {
                AppError::Validation(v) => v.0.iter().map(|f| (f.field.to_string(), f.message.clone())).collect(),
                other => vec![(String::new(), other.body().message)],
            };
            let mut page = render(&state, &csrf, &user, errors).await?;
            *page.status_mut() = status;
            Ok(page)
        }
        Err(e) => Err(e),
    }
}

async fn delete_api(State(state): State<AppState>, user: CurrentUser, JsonIn(f): JsonIn<DeleteForm>) -> AppResult<Json<Value>> {
    let done = delete(&state, &user, &f).await?;
    Ok(Json(json!({ "deleted": true, "orders_kept_anonymised": done.orders_kept })))
}

async fn terms(csrf: CsrfToken, MaybeUser(user): MaybeUser) -> Response {
    LegalPage { chrome: chrome(&csrf, user.as_ref()), title: "Terms of Service", updated: "30 November 2026", terms: true }.into_response()
}

async fn privacy_page(csrf: CsrfToken, MaybeUser(user): MaybeUser) -> Response {
    LegalPage { chrome: chrome(&csrf, user.as_ref()), title: "Privacy", updated: "30 November 2026", terms: false }.into_response()
}
