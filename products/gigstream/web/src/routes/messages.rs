//! Messages between buyers and sellers: the inbox with unread counts and
//! search, a conversation page (live through `/api/v1/ws`), inquiries
//! from a gig page, the thread of each order, and their JSON twins.
//! Attachments (pictures and PDF documents) are checked from their bytes
//! and scanned before they are stored.

use super::common::{file_name, store_upload, FormIn, JsonIn};
use super::pages::chrome;
use crate::auth::{CsrfToken, CurrentUser};
use crate::views::{AttachmentView, ConversationPage, InboxLineView, InboxPage, MessageView, SearchHitView};
use crate::{realtime, AppError, AppResult, AppState};
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use gigstream_domain::ids::{GigId, OrderId};
use gigstream_domain::messaging::{self, ConversationId};
use gigstream_domain::notifications::Event;
use gigstream_store::messages::{self, Attachment, Conversation, Message, Outgoing};
use gigstream_store::videos::{self, MessageVideo, VideoStatus};
use gigstream_store::{gigs, orders};
use platform_media::{MediaKey, MediaRules, MediaType};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/ws", get(realtime::upgrade))
        .route("/api/v1/conversations", get(inbox_api).post(start_api))
        .route("/api/v1/conversations/{id}", get(conversation_api))
        .route("/api/v1/conversations/{id}/messages", post(send_api))
        .route("/api/v1/conversations/{id}/read", post(read_api))
        .route("/api/v1/messages/search", get(search_api))
        .route("/api/v1/orders/{id}/conversation", get(order_conversation_api))
        .route("/messages", get(inbox_page))
        .route("/messages/{id}", get(conversation_page).post(send_page))
        .route("/gigs/{slug}/contact", post(contact_page))
        .route("/orders/{id}/messages", get(order_messages_page))
}

/// Pictures and PDF documents, up to 10 MB each (videos: [`VIDEO`]).
pub const ATTACHMENT: MediaRules = MediaRules {
    field: "attachment",
    label: "Attachment",
    accept: &[
        MediaType::Jpeg,
        MediaType::Png,
        MediaType::Webp,
        MediaType::Gif,
        MediaType::Pdf,
        MediaType::Mp4,
        MediaType::Webm,
        MediaType::Mov,
    ],
    max_bytes: 10 * 1024 * 1024,
    pixels: None,
};

/// A video sent in a message: MP4, WebM or QuickTime up to 50 MB,
/// converted like a gig video.
pub const VIDEO: MediaRules = MediaRules { field: "attachment", label: "Video", max_bytes: 50 * 1024 * 1024, ..ATTACHMENT };

/// The rules a file is judged by: a video's when its bytes are one.
fn rules_for(bytes: &[u8]) -> &'static MediaRules {
    if platform_media::sniff(bytes).is_some_and(MediaType::is_video) {
        &VIDEO
    } else {
        &ATTACHMENT
    }
}

/// Messages shown on a conversation page and in its JSON.
const PAGE: i64 = 200;

fn conversation_id(s: &str) -> Result<ConversationId, AppError> {
    s.parse().map_err(|_| AppError::NotFound)
}

fn media_url(state: &AppState, key: &str) -> String {
    MediaKey::parse(key).map(|k| state.media.url(&k)).unwrap_or_default()
}

/// A sent video's state as the API shows it (beside its attachment).
fn video_json(state: &AppState, v: &MessageVideo) -> Value {
    let url = |k: &Option<String>| k.as_deref().map(|k| media_url(state, k));
    json!({ "status": v.status, "progress": v.progress, "poster_url": url(&v.poster_key), "mp4_url": url(&v.mp4_key), "error": v.error })
}

/// A message as the API shows it: attachments with their URLs, and a
/// video's conversion (from `videos`, the conversation's).
fn message_json(state: &AppState, m: &Message, videos: &[MessageVideo]) -> Value {
    let mut v = json!(m);
    v["attachments"] = m
        .attachments
        .0
        .iter()
        .map(|a| {
            let mut j =
                json!({ "key": a.key, "url": media_url(state, &a.key), "name": a.name, "content_type": a.content_type, "bytes": a.bytes });
            if let Some(video) = videos.iter().find(|x| x.original_key == a.key) {
                j["video"] = video_json(state, video);
            }
            j
        })
        .collect();
    v
}

/// What a send carries: text, the client's id for retries, and files.
#[derive(Default)]
struct Draft {
    body: String,
    client_id: Option<String>,
    files: Vec<(Vec<u8>, String, Option<String>)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DraftJson {
    body: String,
    client_id: Option<String>,
}

async fn read_draft(state: &AppState, req: Request) -> AppResult<Draft> {
    let multipart = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("multipart/"));
    if !multipart {
        let JsonIn(d) = JsonIn::<DraftJson>::from_request(req, state).await?;
        return Ok(Draft { body: d.body, client_id: d.client_id, files: vec![] });
    }
    let mut form = Multipart::from_request(req, state).await.map_err(AppError::rejected)?;
    let mut d = Draft::default();
    while let Some(field) = form.next_field().await.map_err(AppError::rejected)? {
        match field.name().unwrap_or("") {
            "body" => d.body = field.text().await.map_err(AppError::rejected)?,
            "client_id" => d.client_id = Some(field.text().await.map_err(AppError::rejected)?).filter(|s| !s.is_empty()),
            "attachment" => {
                let name = file_name(field.file_name(), "file");
                let declared = field.content_type().map(str::to_string);
                let bytes = field.bytes().await.map_err(AppError::rejected)?.to_vec();
                if !bytes.is_empty() {
                    if d.files.len() >= messaging::MAX_ATTACHMENTS {
                        return Err(AppError::field("attachment", format!("At most {} files per message.", messaging::MAX_ATTACHMENTS)));
                    }
                    d.files.push((bytes, name, declared));
                }
            }
            _ => {}
        }
    }
    Ok(d)
}

async fn remove_files(state: &AppState, files: &[Attachment]) {
    for a in files {
        if let Ok(k) = MediaKey::parse(&a.key) {
            let _ = state.media.delete(&k).await;
        }
    }
}

/// Checks the text, checks, scans and stores the files, and sends; files
/// stored for a send that then fails are removed again.
async fn send(state: &AppState, user: &CurrentUser, c: &Conversation, d: Draft) -> AppResult<(Message, bool)> {
    if d.client_id.as_ref().is_some_and(|c| c.len() > 64) {
        return Err(AppError::field("client_id", "At most 64 characters."));
    }
    let body = messaging::check_body(&d.body, d.files.len())?;
    let mut attachments = vec![];
    for (bytes, name, declared) in d.files {
        let size = bytes.len() as i64;
        let rules = rules_for(&bytes);
        match store_upload(state, user, "messages", (bytes, &name), declared.as_deref(), rules).await {
            Ok((key, mime)) => attachments.push(Attachment { key, name, content_type: mime.into(), bytes: size }),
            Err(e) => {
                remove_files(state, &attachments).await;
                return Err(e);
            }
        }
    }
    let out = Outgoing {
        sender: user.account.id,
        sender_name: &user.account.display_name,
        body: &body,
        attachments: attachments.clone(),
        client_id: d.client_id.as_deref(),
    };
    match messages::send(&state.db, c.id, &out, Utc::now()).await {
        Ok((m, fresh)) => {
            if fresh {
                state.realtime.written();
                if attachments.iter().any(|a| a.content_type.starts_with("video/")) {
                    // Committed: a failure here leaves them for the restart's resume.
                    match videos::of_message(&state.db, m.id).await {
                        Ok(jobs) => jobs.into_iter().for_each(|job| super::videos::spawn(state.clone(), job)),
                        Err(e) => tracing::warn!(error = %e, message = %m.id, "message videos not started"),
                    }
                }
                let preview: String = m.body.chars().take(140).collect();
                let body = if preview.is_empty() { "sent you a file".to_string() } else { preview };
                let title = format!("New message from {}", user.account.display_name);
                let link = format!("/messages/{}", c.id);
                crate::notify::send(state, c.other(user.account.id), Event::NewMessage, &title, &body, &link).await;
            } else {
                // A retry: the first send's files are the ones kept.
                remove_files(state, &attachments).await;
            }
            Ok((m, fresh))
        }
        Err(e) => {
            remove_files(state, &attachments).await;
            Err(e.into())
        }
    }
}

async fn inbox_api(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<Value>> {
    let lines = messages::inbox(&state.db, user.account.id, 200).await?;
    let total: i64 = lines.iter().map(|l| l.unread).sum();
    Ok(Json(json!({ "conversations": lines, "unread_total": total })))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Start {
    /// The gig asked about (its id or its slug).
    gig: String,
    body: String,
    client_id: Option<String>,
}

async fn gig_for(state: &AppState, gig: &str) -> AppResult<gigs::Gig> {
    let found = match gig.parse::<GigId>() {
        Ok(id) => gigs::get(&state.db, id).await,
        Err(_) => gigs::page(&state.db, gig, None).await.map(|p| p.gig),
    };
    match found {
        Ok(g) => Ok(g),
        Err(gigstream_store::StoreError::NotFound) => Err(AppError::field("gig", "No such gig.")),
        Err(e) => Err(e.into()),
    }
}

/// Opens (or reopens) the inquiry with a gig's seller and sends the first message.
async fn start(state: &AppState, user: &CurrentUser, gig: &str, d: Draft) -> AppResult<(Conversation, Message)> {
    state.limits.check_message(user.account.id)?;
    let g = gig_for(state, gig).await?;
    messaging::check_body(&d.body, d.files.len())?;
    let c = messages::inquiry(&state.db, user.account.id, g.seller_id, g.id, &g.title, Utc::now()).await?;
    let (m, _) = send(state, user, &c, d).await?;
    Ok((c, m))
}

async fn start_api(State(state): State<AppState>, user: CurrentUser, JsonIn(s): JsonIn<Start>) -> AppResult<Response> {
    let (c, m) = start(&state, &user, &s.gig, Draft { body: s.body, client_id: s.client_id, files: vec![] }).await?;
    let sent = videos::of_conversation(&state.db, c.id).await?;
    Ok((StatusCode::CREATED, Json(json!({ "conversation": c, "message": message_json(&state, &m, &sent) }))).into_response())
}

async fn conversation_api(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> AppResult<Json<Value>> {
    let c = messages::for_party(&state.db, conversation_id(&id)?, user.account.id).await?;
    let list = messages::latest(&state.db, c.id, PAGE).await?;
    let mine = messages::read_position(&state.db, c.id, user.account.id).await?;
    let theirs = messages::read_position(&state.db, c.id, c.other(user.account.id)).await?;
    let sent = videos::of_conversation(&state.db, c.id).await?;
    Ok(Json(json!({
        "conversation": c,
        "messages": list.iter().map(|m| message_json(&state, m, &sent)).collect::<Vec<_>>(),
        "read_upto": mine,
        "other_read_upto": theirs,
    })))
}

async fn send_api(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>, req: Request) -> AppResult<Response> {
    // Counted before the body (and any attachment) is read.
    state.limits.check_message(user.account.id)?;
    let c = messages::for_party(&state.db, conversation_id(&id)?, user.account.id).await?;
    let d = read_draft(&state, req).await?;
    let (m, fresh) = send(&state, &user, &c, d).await?;
    let status = if fresh { StatusCode::CREATED } else { StatusCode::OK };
    let sent = videos::of_conversation(&state.db, c.id).await?;
    Ok((status, Json(json!({ "message": message_json(&state, &m, &sent) }))).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReadIn {
    seq: Option<i64>,
}

async fn read_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonIn(r): JsonIn<ReadIn>,
) -> AppResult<Json<Value>> {
    let id = conversation_id(&id)?;
    let held = messages::mark_read(&state.db, id, user.account.id, r.seq, Utc::now()).await?;
    state.realtime.written();
    let unread = messages::unread_total(&state.db, user.account.id).await?;
    Ok(Json(json!({ "read_upto": held, "unread_total": unread })))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SearchIn {
    q: String,
}

async fn search_api(State(state): State<AppState>, user: CurrentUser, Query(s): Query<SearchIn>) -> AppResult<Json<Value>> {
    let q = messaging::check_search(&s.q)?;
    let hits = messages::search(&state.db, user.account.id, &messaging::like_pattern(&q), 50).await?;
    Ok(Json(json!({ "q": q, "hits": hits })))
}

/// The order's thread, for its buyer and seller.
async fn order_conversation(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<Conversation> {
    let id: OrderId = id.parse().map_err(|_| AppError::NotFound)?;
    let o = orders::get(&state.db, id).await?;
    if user.account.id != o.buyer_id && user.account.id != o.seller_id {
        return Err(AppError::NotFound);
    }
    Ok(messages::for_order(&state.db, o.id, (o.buyer_id, o.seller_id), o.gig_id, &o.gig_title, Utc::now()).await?)
}

async fn order_conversation_api(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> AppResult<Json<Value>> {
    Ok(Json(json!({ "conversation": order_conversation(&state, &user, &id).await? })))
}

async fn order_messages_page(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> AppResult<Response> {
    let c = order_conversation(&state, &user, &id).await?;
    Ok(Redirect::to(&format!("/messages/{}", c.id)).into_response())
}

fn when(t: chrono::DateTime<Utc>) -> String {
    t.format("%d %b, %H:%M").to_string()
}

async fn inbox_page(State(state): State<AppState>, csrf: CsrfToken, user: CurrentUser, Query(s): Query<SearchIn>) -> AppResult<Response> {
    let lines = messages::inbox(&state.db, user.account.id, 200).await?;
    let mut errors = vec![];
    let mut hits = vec![];
    let searched = !s.q.trim().is_empty();
    if searched {
        match messaging::check_search(&s.q) {
            Ok(q) => {
                hits = messages::search(&state.db, user.account.id, &messaging::like_pattern(&q), 50)
                    .await?
                    .into_iter()
                    .map(|f| SearchHitView {
                        conversation_id: f.message.conversation_id.to_string(),
                        subject: f.subject,
                        sender: f.message.sender_name,
                        body: f.message.body,
                        at: when(f.message.created_at),
                    })
                    .collect()
            }
            Err(e) => errors.push((e.field.to_string(), e.message)),
        }
    }
    let unread_total = lines.iter().map(|l| l.unread).sum();
    let now = Utc::now();
    let others: Vec<_> = lines.iter().map(|l| l.conversation.other(user.account.id)).collect();
    let status = gigstream_store::presence::of(&state.db, &others, now).await?;
    let status_of = |l: &messages::InboxLine| status.get(&l.conversation.other(user.account.id)).copied().unwrap_or_default();
    Ok(InboxPage {
        chrome: chrome(&csrf, Some(&user)),
        me: user.account.id.to_string(),
        q: s.q.clone(),
        searched,
        errors,
        hits,
        unread_total,
        lines: lines
            .into_iter()
            .map(|l| InboxLineView {
                presence: status_of(&l).label(now),
                online: status_of(&l).online,
                id: l.conversation.id.to_string(),
                subject: l.conversation.subject.clone(),
                kind: if l.conversation.order_id.is_some() { "Order" } else { "Inquiry" },
                other: l.other_name,
                unread: l.unread,
                at: when(l.conversation.last_message_at.unwrap_or(l.conversation.created_at)),
            })
            .collect(),
    }
    .into_response())
}

/// An attachment for the thread: a picture, a document, or a video (its
/// poster until the conversion is ready, then the player).
fn attachment_view(state: &AppState, a: &Attachment, sent: &[MessageVideo]) -> AttachmentView {
    let url = media_url(state, &a.key);
    let video = sent.iter().find(|v| v.original_key == a.key);
    let Some(v) = video else {
        let kind = if a.content_type.starts_with("image/") { "image" } else { "doc" };
        return AttachmentView { url, name: a.name.clone(), kind, status: String::new(), words: String::new(), poster: None, mp4: None };
    };
    let words = match v.status {
        VideoStatus::Pending => "Waiting to be converted".to_string(),
        VideoStatus::Processing => format!("Converting… {}%", v.progress),
        VideoStatus::Ready => String::new(),
        VideoStatus::Failed => v.error.clone().unwrap_or_else(|| "The video could not be converted.".into()),
    };
    AttachmentView {
        url,
        name: a.name.clone(),
        kind: "video",
        status: v.status.to_string(),
        words,
        poster: v.poster_key.as_deref().map(|k| media_url(state, k)),
        mp4: v.mp4_key.as_deref().map(|k| media_url(state, k)),
    }
}

async fn render_conversation(
    state: &AppState,
    csrf: &CsrfToken,
    user: &CurrentUser,
    c: &Conversation,
    body: String,
    errors: Vec<(String, String)>,
) -> AppResult<Response> {
    let me = user.account.id;
    let list = messages::latest(&state.db, c.id, PAGE).await?;
    let sent = videos::of_conversation(&state.db, c.id).await?;
    let theirs = messages::read_position(&state.db, c.id, c.other(me)).await?;
    let other = gigstream_store::accounts::by_id(&state.db, c.other(me)).await?;
    let last_seq = messages::head(&state.db, c.id).await?;
    let views = list
        .iter()
        .map(|m| MessageView {
            seq: m.seq,
            mine: m.sender_id == me,
            seen: m.sender_id == me && m.seq <= theirs,
            sender: m.sender_name.clone(),
            body: m.body.clone(),
            at: when(m.created_at),
            attachments: m.attachments.0.iter().map(|a| attachment_view(state, a, &sent)).collect(),
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let now = Utc::now();
    let presence = gigstream_store::presence::of(&state.db, &[other.id], now).await?.remove(&other.id).unwrap_or_default();
    let page = ConversationPage {
        presence: presence.label(now),
        online: presence.online,
        chrome: chrome(csrf, Some(user)),
        id: c.id.to_string(),
        me: me.to_string(),
        subject: c.subject.clone(),
        other: other.display_name,
        order_id: c.order_id.map(|o| o.to_string()),
        messages: views,
        last_seq,
        body,
        errors,
    };
    Ok((status, page).into_response())
}

async fn conversation_page(
    State(state): State<AppState>,
    csrf: CsrfToken,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let c = messages::for_party(&state.db, conversation_id(&id)?, user.account.id).await?;
    // Opening the page reads everything in it.
    let before = messages::read_position(&state.db, c.id, user.account.id).await?;
    if before < c.last_seq {
        messages::mark_read(&state.db, c.id, user.account.id, None, Utc::now()).await?;
        state.realtime.written();
    }
    render_conversation(&state, &csrf, &user, &c, String::new(), vec![]).await
}

fn form_errors(e: AppError) -> Result<Vec<(String, String)>, AppError> {
    match e {
        AppError::Validation(f) => Ok(f.0.iter().map(|f| (f.field.to_string(), f.message.clone())).collect()),
        other => Err(other),
    }
}

async fn send_page(
    State(state): State<AppState>,
    csrf: CsrfToken,
    user: CurrentUser,
    Path(id): Path<String>,
    req: Request,
) -> AppResult<Response> {
    state.limits.check_message(user.account.id)?;
    let c = messages::for_party(&state.db, conversation_id(&id)?, user.account.id).await?;
    let d = read_draft(&state, req).await?;
    let body = d.body.clone();
    match send(&state, &user, &c, d).await {
        Ok(_) => Ok(Redirect::to(&format!("/messages/{}", c.id)).into_response()),
        Err(e) => render_conversation(&state, &csrf, &user, &c, body, form_errors(e)?).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContactForm {
    body: String,
}

async fn contact_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    FormIn(f): FormIn<ContactForm>,
) -> AppResult<Response> {
    let (c, _) = start(&state, &user, &slug, Draft { body: f.body, client_id: None, files: vec![] }).await?;
    Ok(Redirect::to(&format!("/messages/{}", c.id)).into_response())
}
