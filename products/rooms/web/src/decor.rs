//! A room's look and sound: themes (free, staff-supplied rows; the owner
//! chooses; the stylesheet `/assets/themes.css` is generated from the rows,
//! so the pages' CSP stays `style-src 'self'`) and background music (the
//! owner or an admin uploads a track — MP3, Ogg, WAV or M4A judged from the
//! bytes, at most 3 MB — and plays or stops it; every page in the room
//! plays it from the shared start time). Pages and API alike.

use crate::api::Json;
use crate::auth::CurrentUser;
use crate::error::{AppError, WebResult};
use crate::AppState;
use axum::extract::{Form, Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use platform_kernel::FieldError;
use platform_media::MediaKey;
use rooms_domain::ids::RoomId;
use rooms_store::music::{self, Change};
use rooms_store::themes;
use serde::Deserialize;
use serde_json::json;

/// The largest background track accepted.
pub const MAX_TRACK_BYTES: usize = 3 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/assets/themes.css", get(themes_css))
        .route("/rooms/{id}/theme", post(theme_form))
        .route("/rooms/{id}/music", post(music_upload_page))
        .route("/rooms/{id}/music/{what}", post(music_page))
}

/// The JSON API of themes and music, described by each handler's `#[utoipa::path]`.
pub fn api() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(themes_api))
        .routes(routes!(theme_api))
        .routes(routes!(music_upload_api))
        .routes(routes!(music_api))
}

/// `#rrggbb`, nothing else (theme colours go into a stylesheet).
pub fn hex_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// A theme id usable as a class name.
fn slug(s: &str) -> bool {
    !s.is_empty() && s.len() <= 40 && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The stylesheet of every theme: `.theme-<id>` on the room's wrapper.
pub fn stylesheet(list: &[themes::Theme]) -> String {
    let mut css = String::from("/* Room themes, generated from room_themes. */\n");
    for t in list {
        if !(slug(&t.id) && hex_color(&t.top_color) && hex_color(&t.bottom_color) && hex_color(&t.accent_color)) {
            tracing::warn!(theme = %t.id, "theme skipped: its id or colours are malformed");
            continue;
        }
        css.push_str(&format!(
            ".theme-{id} {{ background: linear-gradient(180deg, {top}, {bottom}); }}\n\
             .theme-{id} .btn, .theme-{id} button.btn {{ background: {accent}; border-color: {accent}; }}\n\
             .theme-{id} .swatch-{id}, .swatch-{id} {{ background: linear-gradient(180deg, {top}, {bottom}); border-color: {accent}; }}\n",
            id = t.id,
            top = t.top_color,
            bottom = t.bottom_color,
            accent = t.accent_color
        ));
    }
    css
}

async fn themes_css(State(s): State<AppState>) -> WebResult<Response> {
    let css = stylesheet(&themes::list(&s.db).await?);
    Ok(([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")], css).into_response())
}

#[utoipa::path(get, path = "/api/v1/themes", tag = "rooms", security(()), responses((status = 200, description = "`{themes}`: the free themes")))]
async fn themes_api(State(s): State<AppState>) -> WebResult<Response> {
    Ok(axum::Json(json!({"themes": themes::list(&s.db).await?})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ThemeInput {
    theme: String,
}

async fn theme_form(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>, Form(f): Form<ThemeInput>) -> WebResult<Response> {
    themes::choose(&s.db, id, u.id(), f.theme.trim(), Utc::now()).await?;
    Ok(Redirect::to(&format!("/rooms/{id}")).into_response())
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/theme", tag = "rooms", params(("id" = String, Path, description = "Room id")), request_body = ThemeInput, security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{room}` with its new theme"), (status = 403, description = "`owner_only`")))]
async fn theme_api(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>, Json(f): Json<ThemeInput>) -> WebResult<Response> {
    themes::choose(&s.db, id, u.id(), f.theme.trim(), Utc::now()).await?;
    Ok(axum::Json(json!({"room": rooms_store::rooms::get(&s.db, id).await?})).into_response())
}

/// The audio formats a track may be, told from its first bytes: MIME type
/// and file extension.
pub fn audio_type(b: &[u8]) -> Option<(&'static str, &'static str)> {
    if b.starts_with(b"OggS") {
        return Some(("audio/ogg", "ogg"));
    }
    if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WAVE" {
        return Some(("audio/wav", "wav"));
    }
    if b.len() >= 12 && &b[4..8] == b"ftyp" && matches!(&b[8..12], b"M4A " | b"M4B " | b"mp42" | b"isom") {
        return Some(("audio/mp4", "m4a"));
    }
    // ID3 tag, or an MPEG audio frame sync (11 bits set, layer III).
    if b.starts_with(b"ID3") || (b.len() >= 2 && b[0] == 0xFF && (b[1] & 0xE0) == 0xE0 && (b[1] & 0x06) == 0x02) {
        return Some(("audio/mpeg", "mp3"));
    }
    None
}

/// The MIME type of a stored track, by its key's extension.
pub fn audio_mime(key: &str) -> Option<&'static str> {
    let ext = key.rsplit_once('.').map(|(_, e)| e)?;
    Some(match ext {
        "ogg" => "audio/ogg",
        "wav" => "audio/wav",
        "m4a" => "audio/mp4",
        "mp3" => "audio/mpeg",
        _ => return None,
    })
}

/// Checks and stores a track; the title is the file's name without its
/// extension (or "Track").
async fn store_track(s: &AppState, mut mp: Multipart) -> WebResult<(String, String)> {
    while let Some(part) = mp.next_field().await.map_err(AppError::rejected)? {
        if part.name() != Some("track") {
            continue;
        }
        let filename = part.file_name().unwrap_or_default().to_string();
        let bytes = part.bytes().await.map_err(AppError::rejected)?;
        if bytes.is_empty() {
            break;
        }
        if bytes.len() > MAX_TRACK_BYTES {
            return Err(FieldError::new("track", "The track must be at most 3 MB").into());
        }
        let Some((mime, ext)) = audio_type(&bytes) else {
            return Err(FieldError::new("track", "The track must be an MP3, Ogg, WAV or M4A audio file").into());
        };
        let key = MediaKey::parse(&format!("rooms/music/{}.{ext}", uuid::Uuid::now_v7())).map_err(|e| AppError::Internal(e.to_string()))?;
        s.media.put(&key, bytes.to_vec(), mime).await.map_err(|e| AppError::Internal(e.to_string()))?;
        let stem = filename.rsplit_once('.').map_or(filename.as_str(), |(a, _)| a);
        let title: String = stem.chars().filter(|c| !c.is_control()).take(80).collect();
        let title = if title.trim().is_empty() { "Track".to_string() } else { title.trim().to_string() };
        return Ok((s.media.url(&key), title));
    }
    Err(FieldError::new("track", "Choose an audio file").into())
}

fn music_change(what: &str) -> WebResult<Change> {
    match what {
        "play" => Ok(Change::Play),
        "stop" => Ok(Change::Stop),
        _ => Err(AppError::NotFound.into()),
    }
}

async fn music_upload_page(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>, mp: Multipart) -> WebResult<Response> {
    // The role is checked before the upload is stored.
    music::check(&s.db, id, u.id()).await?;
    let (url, title) = store_track(&s, mp).await?;
    music::change(&s.db, id, u.id(), &Change::Track { url, title }, Utc::now()).await?;
    Ok(Redirect::to(&format!("/rooms/{id}")).into_response())
}

async fn music_page(State(s): State<AppState>, u: CurrentUser, Path((id, what)): Path<(RoomId, String)>) -> WebResult<Response> {
    music::change(&s.db, id, u.id(), &music_change(&what)?, Utc::now()).await?;
    Ok(Redirect::to(&format!("/rooms/{id}")).into_response())
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/music", tag = "rooms", params(("id" = String, Path, description = "Room id")), request_body(content_type = "multipart/form-data", description = "Field `track`: MP3, Ogg, WAV or M4A, at most 3 MB"), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{room}` with its track"), (status = 403, description = "`not_moderator`"), (status = 413, description = "The file is too large")))]
async fn music_upload_api(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>, mp: Multipart) -> WebResult<Response> {
    music::check(&s.db, id, u.id()).await?;
    let (url, title) = store_track(&s, mp).await?;
    music::change(&s.db, id, u.id(), &Change::Track { url, title }, Utc::now()).await?;
    Ok(axum::Json(json!({"room": rooms_store::rooms::get(&s.db, id).await?})).into_response())
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/music/{what}", tag = "rooms", params(("id" = String, Path, description = "Room id"), ("what" = String, Path, description = "play or stop")), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{room}`"), (status = 404, description = "Not play or stop"), (status = 409, description = "`no_track`")))]
async fn music_api(State(s): State<AppState>, u: CurrentUser, Path((id, what)): Path<(RoomId, String)>) -> WebResult<Response> {
    music::change(&s.db, id, u.id(), &music_change(&what)?, Utc::now()).await?;
    Ok(axum::Json(json!({"room": rooms_store::rooms::get(&s.db, id).await?})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_is_judged_from_its_bytes() {
        let wav = [b"RIFF".as_slice(), &[0; 4], b"WAVEfmt "].concat();
        let m4a = [&[0, 0, 0, 0x20][..], b"ftypM4A ", &[0; 8]].concat();
        let cases: [(&[u8], Option<&str>); 8] = [
            (b"OggS\0\x02", Some("ogg")),
            (&wav, Some("wav")),
            (&m4a, Some("m4a")),
            (b"ID3\x04\0\0", Some("mp3")),
            (&[0xFF, 0xFB, 0x90, 0x64], Some("mp3")),
            (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
            (b"\x89PNG\r\n\x1a\n", None),
            (b"", None),
        ];
        for (bytes, want) in cases {
            assert_eq!(audio_type(bytes).map(|t| t.1), want, "{bytes:?}");
        }
        assert_eq!(audio_mime("rooms/music/x.mp3"), Some("audio/mpeg"));
        assert_eq!(audio_mime("rooms/logos/x.png"), None);
    }

    #[test]
    fn only_well_formed_themes_reach_the_stylesheet() {
        let t = |id: &str, top: &str| themes::Theme {
            id: id.into(),
            name: id.into(),
            kind: "free".into(),
            top_color: top.into(),
            bottom_color: "#000000".into(),
            accent_color: "#ffffff".into(),
        };
        let css = stylesheet(&[t("ocean", "#03264a"), t("evil", "red;} body{display:none"), t("Bad Id", "#000000")]);
        assert!(css.contains(".theme-ocean { background: linear-gradient(180deg, #03264a, #000000); }"), "{css}");
        assert!(!css.contains("evil") && !css.contains("display:none") && !css.contains("Bad Id"));
        assert!(hex_color("#A0b1C2") && !hex_color("#12345") && !hex_color("123456a") && !hex_color("#12345g"));
    }
}
