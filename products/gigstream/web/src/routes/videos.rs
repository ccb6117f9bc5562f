//! Gig videos: the upload (checked, scanned, stored as the original), the
//! background transcode to H.264/AAC MP4 with a poster (platform-media's
//! `video::Ffmpeg`), its progress and failure shown to the seller, and
//! the seller's video page. The original is deleted only once the MP4 and
//! poster are stored. Videos sent in messages go through the same
//! [`spawn`] (`VideoKind::Message`), their original kept as the attachment.

use super::common::{file_name, store_upload};
use super::pages::chrome;
use crate::auth::{CsrfToken, CurrentUser};
use crate::views::VideosPage;
use crate::{AppError, AppResult, AppState};
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use gigstream_domain::ids::GigId;
use gigstream_store::videos::{self, Job, Video, VideoKind, VideoStatus};
use platform_media::{MediaKey, MediaRules, MediaType};
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/gigs/id/{id}/videos", get(list_api).post(upload_api))
        .route("/gigs/id/{id}/videos", get(videos_page).post(upload_page))
}

fn gig_id(s: &str) -> Result<GigId, AppError> {
    s.parse().map_err(|_| AppError::NotFound)
}

/// The seller's gig, or 404.
async fn own_gig(state: &AppState, user: &CurrentUser, id: GigId) -> AppResult<gigstream_store::gigs::Gig> {
    let g = gigstream_store::gigs::get(&state.db, id).await?;
    if g.seller_id != user.account.id {
        return Err(AppError::NotFound);
    }
    Ok(g)
}

async fn list_api(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> AppResult<Json<Value>> {
    let g = own_gig(&state, &user, gig_id(&id)?).await?;
    let list = videos::of_gig(&state.db, g.id).await?;
    Ok(Json(json!({ "videos": list.iter().map(|v| video_json(&state, v)).collect::<Vec<_>>() })))
}

async fn upload_api(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>, form: Multipart) -> AppResult<Response> {
    let v = upload(&state, &user, gig_id(&id)?, form).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "video": video_json(&state, &v) }))).into_response())
}

async fn videos_page(State(state): State<AppState>, csrf: CsrfToken, user: CurrentUser, Path(id): Path<String>) -> AppResult<Response> {
    Ok(page(&state, &csrf, &user, gig_id(&id)?).await?.into_response())
}

async fn upload_page(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>, form: Multipart) -> AppResult<Response> {
    let id = gig_id(&id)?;
    upload(&state, &user, id, form).await?;
    Ok(Redirect::to(&format!("/gigs/id/{id}/videos")).into_response())
}

/// The gig's newest ready video: (MP4 URL, poster URL).
pub async fn ready_for(state: &AppState, gig: GigId) -> AppResult<Option<(String, String)>> {
    let list = videos::of_gig(&state.db, gig).await?;
    Ok(list.iter().find(|v| v.status == VideoStatus::Ready).and_then(|v| {
        let j = video_json(state, v);
        Some((j["mp4_url"].as_str()?.to_string(), j["poster_url"].as_str()?.to_string()))
    }))
}

/// MP4, WebM or QuickTime, up to 50 MB.
pub const VIDEO: MediaRules =
    MediaRules { field: "video", label: "Video", accept: &MediaType::VIDEOS, max_bytes: 50 * 1024 * 1024, pixels: None };

/// Runs the transcode of `video` (a gig's or a message's) in the background.
pub fn spawn(state: AppState, video: Job) {
    tokio::spawn(async move {
        let kind = video.kind.unwrap_or(VideoKind::Gig);
        if let Err(e) = transcode(&state, kind, &video).await {
            tracing::warn!(video = %video.id, ?kind, error = %e, "video transcode failed");
            let _ = videos::failed(&state.db, kind, video.id, &e, Utc::now()).await;
        }
    });
}

/// Picks up videos a restart interrupted.
pub async fn resume(state: AppState) {
    match videos::pending(&state.db).await {
        Ok(list) => list.into_iter().for_each(|v| spawn(state.clone(), v)),
        Err(e) => tracing::warn!(error = %e, "pending videos not read"),
    }
}

/// Converts one video: a poster from the original first (shown until the
/// MP4 is ready), then the MP4 and its poster, stored under the kind's
/// prefix; the gig video's original is deleted once they are stored.
async fn transcode(state: &AppState, kind: VideoKind, v: &Job) -> Result<(), String> {
    let db = &state.db;
    let original = v.original_key.as_deref().ok_or("the original is gone")?;
    let key = MediaKey::parse(original).map_err(|e| e.to_string())?;
    videos::started(db, kind, v.id, Utc::now()).await.map_err(|e| e.to_string())?;
    let bytes = state.media.get(&key).await.map_err(|e| e.to_string())?.ok_or("the original is not stored")?.bytes;
    let work = tempfile::Builder::new().prefix("gigstream-video-").tempdir().map_err(|e| e.to_string())?;
    let input = work.path().join(format!("original.{}", key.extension().unwrap_or("bin")));
    tokio::fs::write(&input, &bytes).await.map_err(|e| e.to_string())?;
    let poster = MediaKey::parse(&format!("{}/{}.jpg", kind.prefix(), v.id)).map_err(|e| e.to_string())?;
    let early = work.path().join("early.jpg");
    // No early poster is no failure: the MP4's poster follows.
    if state.ffmpeg.poster(&input, &early, None).await.is_ok() {
        let jpg = tokio::fs::read(&early).await.map_err(|e| e.to_string())?;
        state.media.put(&poster, jpg, "image/jpeg").await.map_err(|e| e.to_string())?;
        videos::postered(db, kind, v.id, poster.as_str(), Utc::now()).await.map_err(|e| e.to_string())?;
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u8>();
    let (db2, id) = (db.clone(), v.id);
    let reporter = tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            let _ = videos::progressed(&db2, kind, id, i32::from(p), Utc::now()).await;
        }
    });
    let out = state
        .ffmpeg
        .transcode(&input, &work.path().join("out"), &move |p| {
            let _ = tx.send(p);
        })
        .await;
    let _ = reporter.await;
    let out = out.map_err(|e| e.to_string())?;
    let mp4 = MediaKey::parse(&format!("{}/{}.mp4", kind.prefix(), v.id)).map_err(|e| e.to_string())?;
    let mp4_bytes = tokio::fs::read(&out.mp4).await.map_err(|e| e.to_string())?;
    let poster_bytes = tokio::fs::read(&out.poster).await.map_err(|e| e.to_string())?;
    state.media.put(&mp4, mp4_bytes, "video/mp4").await.map_err(|e| e.to_string())?;
    state.media.put(&poster, poster_bytes, "image/jpeg").await.map_err(|e| e.to_string())?;
    videos::finished(db, kind, v.id, mp4.as_str(), poster.as_str(), Utc::now()).await.map_err(|e| e.to_string())?;
    if kind == VideoKind::Gig {
        let _ = state.media.delete(&key).await;
    }
    Ok(())
}

/// Reads the `video` field of an upload form, checks, scans and stores the
/// original, records it and starts the transcode.
async fn upload(state: &AppState, user: &CurrentUser, gig: GigId, mut form: Multipart) -> AppResult<Video> {
    while let Some(field) = form.next_field().await.map_err(AppError::rejected)? {
        if field.name() != Some("video") {
            continue;
        }
        let name = file_name(field.file_name(), "video");
        let declared = field.content_type().map(str::to_string);
        let bytes = field.bytes().await.map_err(AppError::rejected)?.to_vec();
        own_gig(state, user, gig).await?;
        let (key, mime) = store_upload(state, user, "videos/originals", (bytes, &name), declared.as_deref(), &VIDEO).await?;
        let v = match videos::add(&state.db, gig, user.account.id, &key, mime, Utc::now()).await {
            Ok(v) => v,
            Err(e) => {
                let _ = state.media.delete(&MediaKey::parse(&key).expect("our key")).await;
                return Err(e.into());
            }
        };
        spawn(state.clone(), Job { kind: Some(VideoKind::Gig), id: v.id, original_key: v.original_key.clone() });
        return Ok(v);
    }
    Err(AppError::field("video", "Choose a video to upload."))
}

/// A video as the API and the pages show it.
fn video_json(state: &AppState, v: &Video) -> Value {
    let url = |k: &Option<String>| k.as_deref().and_then(|k| MediaKey::parse(k).ok()).map(|k| state.media.url(&k));
    json!({
        "id": v.id, "status": v.status, "progress": v.progress, "error": v.error,
        "mp4_url": url(&v.mp4_key), "poster_url": url(&v.poster_key), "created_at": v.created_at,
    })
}

fn status_words(v: &Video) -> String {
    match v.status {
        VideoStatus::Pending => "Waiting to be converted".into(),
        VideoStatus::Processing => format!("Converting… {}%", v.progress),
        VideoStatus::Ready => "Ready".into(),
        VideoStatus::Failed => v.error.clone().unwrap_or_else(|| "The video could not be converted.".into()),
    }
}

async fn page(state: &AppState, csrf: &CsrfToken, user: &CurrentUser, gig: GigId) -> AppResult<VideosPage> {
    let g = own_gig(state, user, gig).await?;
    let list = videos::of_gig(&state.db, gig).await?;
    Ok(VideosPage {
        chrome: chrome(csrf, Some(user)),
        gig_id: gig.to_string(),
        slug: g.slug.clone(),
        title: g.title.clone(),
        busy: list.iter().any(|v| matches!(v.status, VideoStatus::Pending | VideoStatus::Processing)),
        videos: list
            .iter()
            .map(|v| {
                let j = video_json(state, v);
                (
                    v.status.to_string(),
                    status_words(v),
                    j["mp4_url"].as_str().map(str::to_string),
                    j["poster_url"].as_str().map(str::to_string),
                )
            })
            .collect(),
    })
}
