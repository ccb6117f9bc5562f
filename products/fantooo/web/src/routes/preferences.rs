//! The user's own settings beyond the profile text: the reply sound, and
//! their photo (checked from its bytes, shown to the profiles they chat
//! with). Each as a page form and as JSON.

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::media::MediaKey;
use crate::routes::api::ApiJson;
use crate::AppState;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{post, put};
use axum::{Form, Json, Router};
use fantooo_store::users;
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/notifications", post(notifications_form))
        .route("/api/me/notifications", put(notifications_api))
        .route("/me/photo", post(photo_form))
        .route("/me/photo/remove", post(photo_remove_form))
        .route("/api/me/photo", put(photo_api).delete(photo_remove_api))
}

// ---------------------------------------------------------------- sound

#[derive(Deserialize)]
struct SoundForm {
    /// A checkbox: present ("on") when ticked.
    sound: Option<String>,
}

async fn notifications_form(State(state): State<AppState>, me: CurrentUser, Form(f): Form<SoundForm>) -> AppResult<Response> {
    users::set_sound(&state.db, me.user.id, f.sound.is_some()).await?;
    Ok(Redirect::to("/me?saved=1#notifications").into_response())
}

#[derive(Deserialize)]
struct SoundJson {
    sound: Option<bool>,
}

async fn notifications_api(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiJson(f): ApiJson<SoundJson>,
) -> AppResult<Json<serde_json::Value>> {
    let sound = f.sound.ok_or_else(|| AppError::field("sound", "sound must be true or false"))?;
    users::set_sound(&state.db, me.user.id, sound).await?;
    Ok(Json(json!({ "sound": sound })))
}

// ---------------------------------------------------------------- photo

/// Reads the multipart field `file`, checks the picture from its bytes,
/// stores it and makes it the user's photo; the previous upload goes.
async fn upload(state: &AppState, me: &CurrentUser, req: Request) -> AppResult<String> {
    let mut mp = Multipart::from_request(req, state).await.map_err(AppError::rejected)?;
    let mut picture = None;
    while let Some(field) = mp.next_field().await.map_err(AppError::rejected)? {
        if field.name() == Some("file") {
            let bytes = field.bytes().await.map_err(AppError::rejected)?;
            if !bytes.is_empty() {
                let checked = crate::media::inspect(&bytes)?;
                picture = Some((bytes.to_vec(), checked));
            }
        }
    }
    let (bytes, pic) = picture.ok_or_else(|| AppError::field("file", "Choose a photo to upload"))?;
    let key = MediaKey::unique(pic.media_type);
    let url = state.media.put(&key, bytes, pic.mime).await.map_err(|e| AppError::Internal(format!("media store: {e}")))?;
    match users::set_picture(&state.db, me.user.id, Some(&url)).await {
        Ok(before) => {
            discard_upload(state, before.as_deref()).await;
            Ok(url)
        }
        Err(e) => {
            crate::media::discard(state.media.as_ref(), &[key]).await;
            Err(e.into())
        }
    }
}

/// Removes a photo the user uploaded earlier (not a picture from elsewhere).
async fn discard_upload(state: &AppState, url: Option<&str>) {
    let key = url.and_then(|u| u.strip_prefix("/media/")).and_then(|k| MediaKey::parse(k).ok());
    if let Some(key) = key {
        crate::media::discard(state.media.as_ref(), &[key]).await;
    }
}

async fn photo_form(State(state): State<AppState>, me: CurrentUser, csrf: crate::auth::CsrfToken, req: Request) -> AppResult<Response> {
    match upload(&state, &me, req).await {
        Ok(_) => Ok(Redirect::to("/me?saved=1#photo").into_response()),
        Err(AppError::Validation(errors)) => super::public::render_me(&state, me, &csrf, false, errors, None).await,
        Err(e) => Err(e),
    }
}

async fn photo_api(State(state): State<AppState>, me: CurrentUser, req: Request) -> AppResult<Response> {
    let url = upload(&state, &me, req).await?;
    Ok((StatusCode::OK, Json(json!({ "profile_picture": url }))).into_response())
}

async fn remove(state: &AppState, me: &CurrentUser) -> AppResult<()> {
    let before = users::set_picture(&state.db, me.user.id, None).await?;
    discard_upload(state, before.as_deref()).await;
    Ok(())
}

async fn photo_remove_form(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    remove(&state, &me).await?;
    Ok(Redirect::to("/me?saved=1#photo").into_response())
}

async fn photo_remove_api(State(state): State<AppState>, me: CurrentUser) -> AppResult<StatusCode> {
    remove(&state, &me).await?;
    Ok(StatusCode::NO_CONTENT)
}
