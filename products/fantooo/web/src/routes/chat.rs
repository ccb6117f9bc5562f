//! Chats: opening one, the chat page, sending (page and API), history, the
//! WebSocket and uploaded media. The same handlers serve a chat's user and
//! the staff who answer as its profile; `side_of` decides who is who.

use crate::auth::{ClientIp, CsrfToken, CurrentUser, CurrentViewer};
use crate::error::{AppError, AppResult};
use crate::media::{MediaKey, StoredMedia};
use crate::realtime::socket;
use crate::routes::admin::pricing;
use crate::templates::Chrome;
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use fantooo_domain::chat::{message_text, side_of, ContentType, Side, Viewer};
use fantooo_domain::ids::{ChatId, ProfileId};
use fantooo_domain::pricing::Price;
use fantooo_domain::{Credits, FieldErrors};
use fantooo_store::chats::{self, Chat, ChatSummary};
use fantooo_store::messages::{self, Body, Message, ProfileVoice, Sent};
use fantooo_store::packages::{self, Package};
use fantooo_store::profiles::{self, PublicProfile};
use fantooo_store::users;
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/chats", get(list_page).post(open_form))
        .route("/chat/{id}", get(page))
        .route("/chat/{id}/messages", post(send_form))
        .route("/chat/{id}/rating", post(rate_form))
        .route("/api/chats", get(api_list).post(api_open))
        .route("/api/chats/{id}", get(api_chat))
        .route("/api/chats/{id}/messages", get(api_history).post(api_send))
        .route("/api/chats/{id}/rating", axum::routing::put(api_rate))
        .route("/ws", get(socket::upgrade))
        .route("/media/{key}", get(media))
}

const PAGE_MESSAGES: i64 = 50;
const MAX_HISTORY_PAGE: i64 = 100;

/// Loads a chat and the side the viewer speaks for: 404 when it does not
/// exist, 403 when it is someone else's.
pub(crate) async fn chat_for(state: &AppState, viewer: Viewer, id: ChatId) -> AppResult<(Chat, Side)> {
    let chat = chats::by_id(&state.db, id).await?;
    let side = side_of(viewer, &chat.parties()).ok_or(AppError::Forbidden)?;
    Ok((chat, side))
}

fn parse_chat_id(raw: &str) -> AppResult<ChatId> {
    raw.parse().map_err(|_| AppError::NotFound)
}

// ---------------------------------------------------------------- opening

#[derive(Deserialize)]
struct OpenInput {
    #[serde(default)]
    profile_id: String,
}

fn parse_profile(raw: &str) -> AppResult<ProfileId> {
    raw.trim().parse().map_err(|_| AppError::field("profile_id", "Choose a profile to chat with."))
}

/// The profile page's "Message" button: always lands in the one chat.
async fn open_form(State(state): State<AppState>, me: CurrentUser, Form(input): Form<OpenInput>) -> AppResult<Response> {
    let profile = parse_profile(&input.profile_id)?;
    let (chat, _) = chats::open(&state.db, me.user.id, profile).await?;
    Ok(Redirect::to(&format!("/chat/{}", chat.id)).into_response())
}

async fn api_open(
    State(state): State<AppState>,
    me: CurrentUser,
    crate::routes::api::ApiJson(input): crate::routes::api::ApiJson<OpenInput>,
) -> AppResult<Response> {
    let profile = parse_profile(&input.profile_id)?;
    let (chat, created) = chats::open(&state.db, me.user.id, profile).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({ "chat": crate::user_json::chat(&chat), "created": created }))).into_response())
}

// ---------------------------------------------------------------- listing

#[derive(Template, WebTemplate)]
#[template(path = "chats.html")]
struct ChatsPage {
    chrome: Chrome,
    chats: Vec<ChatSummary>,
}

async fn list_page(State(state): State<AppState>, me: CurrentUser, csrf: CsrfToken) -> AppResult<Response> {
    let chats = chats::list_for_user(&state.db, me.user.id, 100).await?;
    Ok(ChatsPage { chrome: me.chrome(&csrf, "/chats"), chats }.into_response())
}

async fn api_list(State(state): State<AppState>, me: CurrentUser) -> AppResult<Json<serde_json::Value>> {
    let chats = chats::list_for_user(&state.db, me.user.id, 100).await?;
    Ok(Json(json!({ "chats": chats })))
}

// ---------------------------------------------------------------- the page

/// What the user pays for the next message, in words.
pub fn price_label(price: &Price) -> String {
    match price {
        Price::FreeIntro { remaining_after: 0 } => "Next message: free (last free one)".into(),
        Price::FreeIntro { remaining_after } => format!("Next message: free ({} more free after it)", remaining_after),
        Price::FreeLoyalty => "Next message: free, a loyalty reward".into(),
        Price::Paid { credits } if credits.get() == 1 => "Next message: 1 credit".into(),
        Price::Paid { credits } => format!("Next message: {credits} credits"),
    }
}

/// Everything the chat panel (`chat_panel.html`) shows; the user's chat
/// page and the operator console both render it.
pub struct ChatView {
    pub chat: Chat,
    pub side: Side,
    pub profile: PublicProfile,
    /// The user's name, shown to staff answering as the profile.
    pub user_name: String,
    /// Whether the user's heartbeat was seen recently (staff view).
    pub user_online: bool,
    pub messages: Vec<Message>,
    pub has_earlier: bool,
    pub balance: Option<Credits>,
    pub price: Option<Price>,
    pub packages: Vec<Package>,
    /// Free credits the user could claim instead of paying (offered first).
    pub claimable: super::payments::Claimable,
    pub need_credits: Option<(i64, i64)>,
    /// A one-off notice ("50 credits added").
    pub notice: Option<String>,
    /// Why no reply has come yet, in public words (user's view only).
    pub waiting: Option<String>,
    pub error: Option<String>,
    pub draft: String,
    /// The user's rating of this chat, once given.
    pub rating: Option<i64>,
    /// The user's own photo, shown to staff answering as the profile.
    pub user_picture: Option<String>,
    /// The user blocked the profile: the chat stays closed.
    pub blocked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "chat.html")]
struct ChatPage {
    chrome: Chrome,
    view: ChatView,
}

impl ChatView {
    pub fn price_text(&self) -> String {
        self.price.as_ref().map(price_label).unwrap_or_default()
    }
    pub fn price_credits(&self) -> i64 {
        self.price.map(|p| p.credits().get()).unwrap_or(0)
    }
    pub fn picture(&self) -> &str {
        self.profile.profile_pictures.0.first().map(String::as_str).unwrap_or("")
    }
    pub fn mine(&self, m: &Message) -> bool {
        m.sender_type == self.side
    }
    pub fn last_seq(&self) -> i64 {
        self.messages.last().map(|m| m.seq).unwrap_or(0)
    }
    /// Users may rate once the profile has answered.
    pub fn can_rate(&self) -> bool {
        !self.is_staff() && self.messages.iter().any(|m| m.sender_type == Side::Fictional)
    }
    pub fn is_staff(&self) -> bool {
        self.side == Side::Fictional
    }
    /// The viewer's side in the words of the payloads it receives (the
    /// public ones for users, the stored ones for staff).
    pub fn side_name(&self) -> &'static str {
        if self.is_staff() {
            self.side.as_str()
        } else {
            self.side.public_name()
        }
    }
}

#[derive(Deserialize, Default)]
struct PageQuery {
    need: Option<i64>,
    have: Option<i64>,
    /// Credits just added by a purchase or a claim started from this chat.
    added: Option<i64>,
}

async fn render_page(
    state: &AppState,
    me: &CurrentViewer,
    csrf: &CsrfToken,
    id: ChatId,
    need: Option<(i64, i64)>,
    error: Option<String>,
    draft: String,
) -> AppResult<ChatPage> {
    let (chat, side) = chat_for(state, me.viewer, id).await?;
    let view = chat_view(state, chat, side, need, error, draft).await?;
    Ok(ChatPage { chrome: me.chrome(csrf, &format!("/chat/{id}")), view })
}

/// The waiting notice for a user whose last message is `unanswered`.
async fn waiting_for(state: &AppState, profile: &str, unanswered: bool, attended: bool) -> AppResult<Option<String>> {
    if !unanswered || attended {
        return Ok(None);
    }
    let available = fantooo_store::operators::available_count(&state.db).await? > 0;
    Ok(fantooo_domain::chat::waiting_notice(profile, unanswered, attended, available))
}

/// Loads what the chat panel shows for a chat the viewer may open.
pub async fn chat_view(
    state: &AppState,
    chat: Chat,
    side: Side,
    need: Option<(i64, i64)>,
    error: Option<String>,
    draft: String,
) -> AppResult<ChatView> {
    let profile = profiles::public_including_unlisted(&state.db, chat.fictional_user_id).await?;
    let mut messages = messages::history(&state.db, chat.id, None, PAGE_MESSAGES).await?;
    let has_earlier = messages.len() as i64 == PAGE_MESSAGES;
    messages.reverse();
    let user = users::by_id(&state.db, chat.real_user_id).await?;
    let (balance, price, packages, claimable) = if side == Side::Real {
        let cfg = pricing(state).await?;
        let price = messages::quote(&state.db, chat.id, user.id, &cfg, chrono::Utc::now()).await?;
        (
            Some(user.credits),
            Some(price),
            packages::offered_to(&state.db, user.id).await?,
            super::payments::claimable(state, user.id).await?,
        )
    } else {
        (None, None, vec![], Default::default())
    };
    let rating = chats::rating(&state.db, chat.id).await?;
    let waiting = if side == Side::Real {
        let unanswered = messages.last().is_some_and(|m| m.sender_type == Side::Real);
        waiting_for(state, &profile.name, unanswered, chat.assigned_operator_id.is_some()).await?
    } else {
        None
    };
    let blocked = fantooo_store::safety::is_blocked(&state.db, user.id, chat.fictional_user_id).await?;
    Ok(ChatView {
        blocked,
        user_picture: user.profile_picture.clone(),
        waiting,
        rating,
        user_online: user.last_active_at.is_some_and(|t| chrono::Utc::now() - t < chrono::Duration::seconds(45)),
        chat,
        side,
        profile,
        user_name: user.display_name,
        messages,
        has_earlier,
        balance,
        price,
        packages,
        claimable,
        need_credits: need,
        notice: None,
        error,
        draft,
    })
}

async fn page(
    State(state): State<AppState>,
    me: CurrentViewer,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let id = parse_chat_id(&id)?;
    let need = q.need.zip(q.have);
    let mut page = render_page(&state, &me, &csrf, id, need, None, String::new()).await?;
    page.view.notice = q.added.filter(|n| *n > 0).map(|n| format!("{n} credits added. Carry on where you left off."));
    Ok(page.into_response())
}

// ---------------------------------------------------------------- sending

/// A send request from any client: JSON, an HTML form, or a multipart upload.
struct SendInput {
    content: String,
    client_id: Option<String>,
    picture: Option<(Vec<u8>, crate::media::Picture)>,
}

#[derive(Deserialize)]
struct SendFields {
    #[serde(default)]
    content: String,
    client_id: Option<String>,
}

fn check_client_id(id: Option<String>) -> AppResult<Option<String>> {
    match id.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') => Ok(Some(s)),
        Some(_) => Err(AppError::field("client_id", "client_id must be 1–64 letters, digits, '-' or '_'.")),
    }
}

async fn read_send_input(state: &AppState, req: Request) -> AppResult<SendInput> {
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    if ct.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, state).await.map_err(AppError::rejected)?;
        let (mut content, mut client_id, mut picture) = (String::new(), None, None);
        while let Some(field) = mp.next_field().await.map_err(AppError::rejected)? {
            match field.name().unwrap_or("") {
                "content" => content = field.text().await.map_err(AppError::rejected)?,
                "client_id" => client_id = Some(field.text().await.map_err(AppError::rejected)?),
                "file" => {
                    let bytes = field.bytes().await.map_err(AppError::rejected)?;
                    if !bytes.is_empty() {
                        let checked = crate::media::inspect(&bytes)?;
                        picture = Some((bytes.to_vec(), checked));
                    }
                }
                _ => {}
            }
        }
        Ok(SendInput { content, client_id: check_client_id(client_id)?, picture })
    } else if ct.starts_with("application/json") {
        let crate::routes::api::ApiJson(f) = crate::routes::api::ApiJson::<SendFields>::from_request(req, state).await?;
        Ok(SendInput { content: f.content, client_id: check_client_id(f.client_id)?, picture: None })
    } else {
        let Form(f) = Form::<SendFields>::from_request(req, state).await.map_err(AppError::rejected)?;
        Ok(SendInput { content: f.content, client_id: check_client_id(f.client_id)?, picture: None })
    }
}

/// Validates, stores any picture, then sends as whichever side the viewer
/// is. A picture stays stored only when its message is committed: a
/// refused send (no credits, closed chat, …) or a retried one that was
/// already stored removes the new upload again.
/// `ip` is the sender's address: an admin's message as a profile is
/// audited with it.
async fn send(state: &AppState, me: &CurrentViewer, ip: &str, chat: ChatId, side: Side, input: SendInput) -> AppResult<Sent> {
    let body = match input.picture {
        None => {
            Body { content: message_text(&input.content)?, content_type: ContentType::Text, media_url: None, client_id: input.client_id }
        }
        Some((bytes, pic)) => {
            // A caption is optional; when there is one, it is a message text
            // like any other (length, no control characters).
            let caption = match input.content.trim() {
                "" => String::new(),
                text => message_text(text)?,
            };
            state.limits.check_message(&me.session.account_id.to_string())?;
            let key = MediaKey::unique(pic.media_type);
            let url = state.media.put(&key, bytes, pic.mime).await.map_err(|e| AppError::Internal(format!("media store: {e}")))?;
            let body = Body { content: caption, content_type: pic.content_type, media_url: Some(url.clone()), client_id: input.client_id };
            let sent = finish(state, me, ip, chat, side, body).await;
            let kept = matches!(&sent, Ok(s) if s.message.media_url.as_deref() == Some(url.as_str()));
            if !kept {
                crate::media::discard(state.media.as_ref(), &[key]).await;
            }
            return sent;
        }
    };
    state.limits.check_message(&me.session.account_id.to_string())?;
    finish(state, me, ip, chat, side, body).await
}

async fn finish(state: &AppState, me: &CurrentViewer, ip: &str, chat: ChatId, side: Side, body: Body) -> AppResult<Sent> {
    let sent = match (side, me.viewer) {
        (Side::Real, Viewer::User(u)) => state.sends.send(chat, u, body).await?,
        (Side::Fictional, Viewer::Operator(o)) => messages::send_as_profile(&state.db, chat, ProfileVoice::Operator(o), &body).await?,
        (Side::Fictional, Viewer::Admin(a, _)) => {
            messages::send_as_profile_from(&state.db, chat, ProfileVoice::Admin(a), &body, Some(ip)).await?
        }
        _ => return Err(AppError::Forbidden),
    };
    if !sent.duplicate {
        metrics::counter!("fantooo_messages_sent_total", "side" => side.as_str()).increment(1);
        if platform_realtime::trace::on() {
            let m = &sent.message;
            let now = platform_realtime::trace::now();
            platform_realtime::trace::step(
                "handler",
                format_args!("{} {} {now} {}", m.seq, m.created_at.timestamp_micros(), side.as_str()),
            );
        }
        state.realtime.written();
        if sent.queued {
            // The chat waits for an operator: assign it now, not at the next tick.
            state.assigner.poke();
        }
    }
    Ok(sent)
}

async fn api_send(
    State(state): State<AppState>,
    me: CurrentViewer,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    req: Request,
) -> AppResult<Response> {
    let id = parse_chat_id(&id)?;
    // A user's text message and an operator's text reply read nothing
    // before the send: the send itself locks the chat and finds it theirs
    // (the user's, or held by the operator) or not. An upload (possibly
    // large, and stored before the send) and admins' messages check access
    // first.
    let multipart = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.starts_with("multipart/"));
    let (side, checked) = match me.viewer {
        Viewer::User(_) if !multipart => (Side::Real, false),
        Viewer::Operator(_) if !multipart => (Side::Fictional, false),
        viewer => (chat_for(&state, viewer, id).await?.1, true),
    };
    let input = read_send_input(&state, req).await?;
    let sent = match send(&state, &me, &ip, id, side, input).await {
        // Not a chat of this user's (or held by this operator): someone
        // else's answers as before (forbidden), a missing one as not found.
        Err(AppError::NotFound) if !checked => {
            chat_for(&state, me.viewer, id).await?;
            return Err(AppError::NotFound);
        }
        sent => sent?,
    };
    let status = if sent.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    let next = sent.next_price;
    // Only an unattended chat has a waiting notice; the send read the
    // profile's name and whether an operator is free.
    let waiting = match &sent.waiting_on {
        Some(w) if side == Side::Real => fantooo_domain::chat::waiting_notice(&w.profile_name, true, false, w.operators_available),
        _ => None,
    };
    Ok((
        status,
        Json(json!({
            "message": crate::user_json::message_for(me.viewer, &sent.message),
            "price": if sent.duplicate { None } else { Some(sent.price) },
            "balance": sent.balance,
            "duplicate": sent.duplicate,
            "next_price": next,
            "next_price_label": next.as_ref().map(price_label),
            "waiting": waiting,
        })),
    )
        .into_response())
}

/// The no-script form: redirects back to the chat, or re-renders it with
/// the problem (and the buy-credits dialog open when credits ran out).
async fn send_form(
    State(state): State<AppState>,
    me: CurrentViewer,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    req: Request,
) -> AppResult<Response> {
    let id = parse_chat_id(&id)?;
    let (_, side) = chat_for(&state, me.viewer, id).await?;
    let input = read_send_input(&state, req).await?;
    let draft = input.content.clone();
    match send(&state, &me, &ip, id, side, input).await {
        Ok(_) => Ok(Redirect::to(&format!("/chat/{id}#composer")).into_response()),
        Err(AppError::Insufficient { required, available, .. }) => {
            let page = render_page(&state, &me, &csrf, id, Some((required, available)), None, draft).await?;
            Ok((StatusCode::PAYMENT_REQUIRED, page).into_response())
        }
        Err(AppError::Validation(errors)) => {
            let page = render_page(&state, &me, &csrf, id, None, Some(first_message(&errors)), draft).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

fn first_message(errors: &FieldErrors) -> String {
    errors.0.first().map(|e| e.message.clone()).unwrap_or_else(|| "Something is wrong with this message.".into())
}

// ---------------------------------------------------------------- reading

async fn api_chat(State(state): State<AppState>, me: CurrentViewer, Path(id): Path<String>) -> AppResult<Json<serde_json::Value>> {
    let id = parse_chat_id(&id)?;
    let (chat, side) = chat_for(&state, me.viewer, id).await?;
    let profile = profiles::public_including_unlisted(&state.db, chat.fictional_user_id).await?;
    let (price, balance) = match me.viewer {
        Viewer::User(u) => {
            let p = messages::quote(&state.db, id, u, &pricing(&state).await?, chrono::Utc::now()).await?;
            (Some(p), Some(fantooo_store::ledger::balance(&state.db, u).await?))
        }
        _ => (None, None),
    };
    Ok(Json(json!({
        "chat": crate::user_json::chat_for(me.viewer, &chat), "side": crate::user_json::side(me.viewer, side), "profile": profile,
        "next_price": price, "next_price_label": price.as_ref().map(price_label), "balance": balance,
    })))
}

#[derive(Deserialize)]
struct HistoryQuery {
    before: Option<String>,
    limit: Option<String>,
}

/// Newest first; `next_before` continues to older messages.
async fn api_history(
    State(state): State<AppState>,
    me: CurrentViewer,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> AppResult<Json<serde_json::Value>> {
    let id = parse_chat_id(&id)?;
    chat_for(&state, me.viewer, id).await?;
    let mut errs = FieldErrors::new();
    let before = match q.before.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(b)) if b > 0 => Some(b),
        Some(_) => {
            errs.add("before", "before must be a positive message sequence number");
            None
        }
    };
    let limit = match q.limit.as_deref().map(str::parse::<i64>) {
        None => PAGE_MESSAGES,
        Some(Ok(l)) if (1..=MAX_HISTORY_PAGE).contains(&l) => l,
        Some(_) => {
            errs.add("limit", format!("limit must be between 1 and {MAX_HISTORY_PAGE}"));
            0
        }
    };
    errs.into_result()?;
    let page = messages::history(&state.db, id, before, limit).await?;
    let next_before = if page.len() as i64 == limit { page.last().map(|m| m.seq) } else { None };
    let page: Vec<serde_json::Value> = page.iter().map(|m| crate::user_json::message_for(me.viewer, m)).collect();
    Ok(Json(json!({ "messages": page, "next_before": next_before })))
}

/// Uploaded pictures, for signed-in accounts only.
async fn media(State(state): State<AppState>, _me: CurrentViewer, Path(key): Path<String>) -> AppResult<Response> {
    let key = MediaKey::parse(&key).map_err(|_| AppError::NotFound)?;
    let StoredMedia { bytes, content_type } =
        state.media.get(&key).await.map_err(|e| AppError::Internal(format!("media store: {e}")))?.ok_or(AppError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "private, max-age=31536000, immutable".to_string())], bytes)
        .into_response())
}

// ---------------------------------------------------------------- rating

#[derive(Deserialize)]
struct RateInput {
    rating: Option<serde_json::Value>,
}

fn parse_rating(v: Option<&serde_json::Value>) -> AppResult<i64> {
    let n = match v {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    n.filter(|n| (1..=5).contains(n)).ok_or_else(|| AppError::field("rating", "Choose 1 to 5 stars"))
}

async fn rate(state: &AppState, me: &CurrentUser, id: &str, rating: i64) -> AppResult<ChatId> {
    let id = parse_chat_id(id)?;
    chat_for(state, Viewer::User(me.user.id), id).await?;
    chats::rate(&state.db, id, me.user.id, rating).await?;
    Ok(id)
}

async fn rate_form(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    Form(input): Form<RateInput>,
) -> AppResult<Response> {
    let rating = parse_rating(input.rating.as_ref())?;
    let id = rate(&state, &me, &id, rating).await?;
    Ok(Redirect::to(&format!("/chat/{id}#rating")).into_response())
}

async fn api_rate(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    crate::routes::api::ApiJson(input): crate::routes::api::ApiJson<RateInput>,
) -> AppResult<Json<serde_json::Value>> {
    let rating = parse_rating(input.rating.as_ref())?;
    let id = rate(&state, &me, &id, rating).await?;
    Ok(Json(json!({ "chat_id": id, "rating": rating })))
}
