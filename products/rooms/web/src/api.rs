//! The JSON API under `/api/v1`, for apps (bearer access tokens) and the
//! pages' scripts (cookie session). Errors are `{error, message, fields}`
//! with a stable `error` code and the field at fault.

use crate::actions::{self, ActInput, CreateRoom, EditRoom, SignUp};
use crate::auth::{CurrentUser, Staff};
use crate::error::{AppError, WebError, WebResult};
use crate::AppState;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use platform_accounts::TokenError;
use rooms_domain::account::{AccountStatus, Bio, FullName, Gender, Login, Password, ResetChannel};
use rooms_domain::ids::{AccountId, RoomId};
use rooms_store::accounts::{self, ProfileChange};
use rooms_store::{audit, chat, events, messages, presence, rooms, seats, social};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A JSON body whose refusal is our error body (400, or 413 when too large).
pub struct Json<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = WebError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(e) => Err(AppError::rejected(e).into()),
        }
    }
}

/// A JSON body that may be absent (empty): `None` then.
pub struct OptJson<T>(pub Option<T>);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for OptJson<T> {
    type Rejection = WebError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(AppError::rejected)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptJson(None));
        }
        serde_json::from_slice(&bytes).map(|v| OptJson(Some(v))).map_err(|e| AppError::BadRequest(format!("Invalid JSON: {e}")).into())
    }
}

fn ok(v: Value) -> Response {
    axum::Json(v).into_response()
}

/// The pages' side of this module: `/metrics` (not part of the JSON API).
pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// The JSON API of accounts, people, rooms, seats, chat, messages and staff
/// basics; each route is described by its handler's `#[utoipa::path]`.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(sign_up))
        .routes(routes!(sign_in))
        .routes(routes!(refresh))
        .routes(routes!(sign_out))
        .routes(routes!(reset_request))
        .routes(routes!(reset_confirm))
        .routes(routes!(handle_free))
        .routes(routes!(me, edit_me))
        .routes(routes!(avatar))
        .routes(routes!(search_users))
        .routes(routes!(user_by_number))
        .routes(routes!(follow_user, unfollow_user))
        .routes(routes!(followers))
        .routes(routes!(following))
        .routes(routes!(block_user, unblock_user))
        .routes(routes!(list_rooms, create_room))
        .routes(routes!(room_state, edit_room))
        .routes(routes!(room_logo))
        .routes(routes!(reopen))
        .routes(routes!(join))
        .routes(routes!(renew_voice))
        .routes(routes!(leave))
        .routes(routes!(heartbeat))
        .routes(routes!(act))
        .routes(routes!(room_events))
        .routes(routes!(chat_list, chat_post))
        .routes(routes!(follow_room, unfollow_room))
        .routes(routes!(room_bans))
        .routes(routes!(room_log))
        .routes(routes!(conversations))
        .routes(routes!(history, send_message))
        .routes(routes!(mark_read))
        .routes(routes!(my_events))
        .routes(routes!(admin_status))
        .routes(routes!(admin_reset_token))
        .routes(routes!(admin_close))
        .routes(routes!(admin_audit))
}

#[utoipa::path(get, path = "/api/health", tag = "system", security(()), responses((status = 200, description = "`{status, version, database}`: the server and its database answer"), (status = 503, description = "The database does not answer")))]
async fn health(State(s): State<AppState>) -> Response {
    platform_web::system::health(&s.db, env!("CARGO_PKG_VERSION")).await
}

async fn metrics(State(s): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    match (&s.config.metrics_token, platform_web::request::bearer(&headers)) {
        (Some(want), Some(got)) if want == got => platform_web::system::metrics(s.metrics.as_ref()),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn token_error(e: TokenError) -> WebError {
    match e {
        TokenError::Store(s) => s.into(),
        TokenError::Reused => crate::error::refused("token_reused", "This sign-in was used twice and is now revoked; sign in again"),
        _ => AppError::Unauthenticated.into(),
    }
}

pub(crate) async fn tokens_for(s: &AppState, id: AccountId) -> WebResult<Value> {
    let pair = s.tokens.issue(&s.db, &id, &crate::auth::KIND.to_string(), Utc::now()).await.map_err(token_error)?;
    Ok(json!({
        "access_token": pair.access_token, "access_expires_at": pair.access_expires_at,
        "refresh_token": pair.refresh_token, "refresh_expires_at": pair.refresh_expires_at,
    }))
}

#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "accounts", request_body = crate::actions::SignUp, security(()), responses((status = 201, description = "`{account, tokens}`: the new account and its access and refresh tokens"), (status = 409, description = "The login or handle is taken")))]
async fn sign_up(State(s): State<AppState>, Json(f): Json<SignUp>) -> WebResult<Response> {
    let account = actions::sign_up(&s, &f).await?;
    let tokens = tokens_for(&s, account.id).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({"account": account, "tokens": tokens}))).into_response())
}

#[derive(Deserialize, ToSchema)]
struct SignIn {
    login: String,
    password: String,
}

#[utoipa::path(post, path = "/api/v1/auth/signin", tag = "accounts", request_body = SignIn, security(()), responses((status = 200, description = "`{tokens: {access_token, access_expires_at, refresh_token, refresh_expires_at}}`"), (status = 401, description = "Wrong login or password"), (status = 403, description = "`account_blocked`: suspended or banned, with the reason")))]
async fn sign_in(State(s): State<AppState>, Json(f): Json<SignIn>) -> WebResult<Response> {
    let rec = actions::sign_in(&s, &f.login, &f.password).await?;
    Ok(ok(json!({"tokens": tokens_for(&s, rec.id).await?})))
}

#[derive(Deserialize, ToSchema)]
struct Refresh {
    refresh_token: String,
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "accounts", request_body = Refresh, security(()), responses((status = 200, description = "`{tokens}`: a fresh pair; the old refresh token is spent"), (status = 401, description = "Unknown or expired refresh token"), (status = 409, description = "`token_reused`: a spent token came back; the whole sign-in is revoked")))]
async fn refresh(State(s): State<AppState>, Json(f): Json<Refresh>) -> WebResult<Response> {
    let pair = s.tokens.rotate::<AccountId, String>(&s.db, &f.refresh_token, Utc::now()).await.map_err(token_error)?;
    Ok(ok(json!({"tokens": {
        "access_token": pair.access_token, "access_expires_at": pair.access_expires_at,
        "refresh_token": pair.refresh_token, "refresh_expires_at": pair.refresh_expires_at,
    }})))
}

#[utoipa::path(post, path = "/api/v1/auth/signout", tag = "accounts", security(("bearer" = []), ("session" = [])), responses((status = 204, description = "Every session and token of the account is ended")))]
async fn sign_out(State(s): State<AppState>, user: CurrentUser) -> WebResult<Response> {
    actions::sign_out_everywhere(&s, user.id()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, ToSchema)]
struct ResetRequest {
    login: String,
}

/// Always the same answer, whether or not the account exists; the link
/// goes out by mail (`signin::request_reset`).
#[utoipa::path(post, path = "/api/v1/auth/reset", tag = "accounts", request_body = ResetRequest, security(()), responses((status = 202, description = "`{sent: true}` whether or not the account exists; a link goes out by mail")))]
async fn reset_request(State(s): State<AppState>, Json(f): Json<ResetRequest>) -> WebResult<Response> {
    crate::signin::request_reset(&s, &f.login).await?;
    Ok(crate::signin::accepted())
}

#[derive(Deserialize, ToSchema)]
struct ResetConfirm {
    token: String,
    password: String,
}

#[utoipa::path(post, path = "/api/v1/auth/reset/confirm", tag = "accounts", request_body = ResetConfirm, security(()), responses((status = 204, description = "The password is changed"), (status = 409, description = "`reset_token_invalid`: expired or already used")))]
async fn reset_confirm(State(s): State<AppState>, Json(f): Json<ResetConfirm>) -> WebResult<Response> {
    let password = Password::parse(&f.password)?;
    let hash = crate::auth::hash_password(password.expose().to_string(), s.config.fast_password_hashing).await?;
    match accounts::redeem_reset(&s.db, f.token.trim(), &hash, Utc::now()).await? {
        Some(id) => {
            s.sign_in_changed(id);
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        None => Err(crate::error::refused("reset_token_invalid", "This reset link has expired or was already used")),
    }
}

#[utoipa::path(get, path = "/api/v1/handles/{handle}", tag = "accounts", params(("handle" = String, Path, description = "The handle to check")), security(()), responses((status = 200, description = "`{handle, free}`")))]
async fn handle_free(State(s): State<AppState>, Path(handle): Path<String>) -> WebResult<Response> {
    let h = rooms_domain::account::Handle::parse(&handle)?;
    Ok(ok(json!({"handle": h.as_str(), "free": accounts::handle_free(&s.db, &h).await?})))
}

#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{account, followers, following, room}`: the caller, their counts and their room (or null)")))]
async fn me(State(s): State<AppState>, user: CurrentUser) -> WebResult<Response> {
    let (followers, following) = social::counts(&s.db, user.id()).await?;
    let room = rooms::owned_by(&s.db, user.id()).await?;
    Ok(ok(json!({"account": user.account, "followers": followers, "following": following, "room": room})))
}

#[derive(Deserialize, Default, ToSchema)]
pub struct EditMe {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub gender: Option<String>,
}

pub async fn apply_profile(s: &AppState, user: &CurrentUser, f: &EditMe) -> WebResult<()> {
    let mut errs = platform_kernel::FieldErrors::new();
    let change = ProfileChange {
        display_name: f.display_name.as_deref().and_then(|n| errs.check(FullName::parse("display_name", n))),
        bio: f.bio.as_deref().and_then(|b| errs.check(Bio::parse(b))),
        gender: f.gender.as_deref().and_then(|g| {
            errs.check(
                g.parse::<Gender>().map_err(|_| platform_kernel::FieldError::new("gender", "Choose female, male, other or unspecified")),
            )
        }),
        avatar_url: None,
    };
    errs.into_result()?;
    accounts::update_profile(&s.db, user.id(), &change).await?;
    s.sign_in_changed(user.id());
    Ok(())
}

#[utoipa::path(patch, path = "/api/v1/me", tag = "accounts", request_body = EditMe, security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{account}` after the change")))]
async fn edit_me(State(s): State<AppState>, user: CurrentUser, Json(f): Json<EditMe>) -> WebResult<Response> {
    apply_profile(&s, &user, &f).await?;
    Ok(ok(json!({"account": accounts::by_id(&s.db, user.id()).await?})))
}

/// The first file of a multipart body, with its declared type.
pub async fn first_file(mut mp: Multipart, field: &'static str) -> WebResult<(Vec<u8>, Option<String>)> {
    while let Some(part) = mp.next_field().await.map_err(AppError::rejected)? {
        if part.name() == Some(field) {
            let ct = part.content_type().map(str::to_string);
            let bytes = part.bytes().await.map_err(AppError::rejected)?;
            return Ok((bytes.to_vec(), ct));
        }
    }
    Err(AppError::field(field, "Choose a file").into())
}

#[utoipa::path(post, path = "/api/v1/me/avatar", tag = "accounts", request_body(content_type = "multipart/form-data", description = "Field `avatar`: a PNG, JPEG or WEBP image, at most 2 MB"), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{avatar_url}`"), (status = 413, description = "The file is too large")))]
async fn avatar(State(s): State<AppState>, user: CurrentUser, mp: Multipart) -> WebResult<Response> {
    let (bytes, ct) = first_file(mp, "avatar").await?;
    let url = crate::media::store_square(&s, bytes, ct.as_deref(), &crate::media::rules("avatar", "Avatar")).await?;
    accounts::update_profile(&s.db, user.id(), &ProfileChange { avatar_url: Some(url.clone()), ..Default::default() }).await?;
    s.sign_in_changed(user.id());
    Ok(ok(json!({"avatar_url": url})))
}

#[derive(Deserialize)]
struct Search {
    q: Option<String>,
    tab: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "people", params(("q" = Option<String>, Query, description = "Public number or part of a name")), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{users: [PublicProfile]}`, at most 50")))]
async fn search_users(State(s): State<AppState>, _u: CurrentUser, Query(q): Query<Search>) -> WebResult<Response> {
    Ok(ok(json!({"users": accounts::search(&s.db, q.q.as_deref().unwrap_or(""), 50).await?})))
}

#[utoipa::path(get, path = "/api/v1/users/{number}", tag = "people", params(("number" = i64, Path, description = "The public 8-digit number")), security(()), responses((status = 200, description = "`{user, followers, following}`"), (status = 404, description = "No one has that number")))]
async fn user_by_number(State(s): State<AppState>, Path(number): Path<i64>) -> WebResult<Response> {
    let p = accounts::by_number(&s.db, number).await?.ok_or(AppError::NotFound)?;
    let (followers, following) = social::counts(&s.db, p.id).await?;
    Ok(ok(json!({"user": p, "followers": followers, "following": following})))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/follow", tag = "people", params(("id" = String, Path, description = "Account id")), security(("bearer" = []), ("session" = [])), responses((status = 204, description = "Following"), (status = 404, description = "No such account")))]
async fn follow_user(State(s): State<AppState>, u: CurrentUser, Path(id): Path<AccountId>) -> WebResult<Response> {
    accounts::profile(&s.db, id).await?.ok_or(AppError::NotFound)?;
    social::follow_user(&s.db, u.id(), id, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(delete, path = "/api/v1/users/{id}/follow", tag = "people", params(("id" = String, Path, description = "Account id")), security(("bearer" = []), ("session" = [])), responses((status = 204, description = "Not following")))]
async fn unfollow_user(State(s): State<AppState>, u: CurrentUser, Path(id): Path<AccountId>) -> WebResult<Response> {
    social::unfollow_user(&s.db, u.id(), id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/api/v1/users/{id}/followers", tag = "people", params(("id" = String, Path, description = "Account id")), security(()), responses((status = 200, description = "`{users}`, at most 100")))]
async fn followers(State(s): State<AppState>, Path(id): Path<AccountId>) -> WebResult<Response> {
    Ok(ok(json!({"users": social::followers(&s.db, id, 100).await?})))
}

#[utoipa::path(get, path = "/api/v1/users/{id}/following", tag = "people", params(("id" = String, Path, description = "Account id")), security(()), responses((status = 200, description = "`{users}`, at most 100")))]
async fn following(State(s): State<AppState>, Path(id): Path<AccountId>) -> WebResult<Response> {
    Ok(ok(json!({"users": social::following(&s.db, id, 100).await?})))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/block", tag = "people", params(("id" = String, Path, description = "Account id")), security(("bearer" = []), ("session" = [])), responses((status = 204, description = "Blocked: no private messages either way")))]
async fn block_user(State(s): State<AppState>, u: CurrentUser, Path(id): Path<AccountId>) -> WebResult<Response> {
    messages::block_user(&s.db, u.id(), id, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(delete, path = "/api/v1/users/{id}/block", tag = "people", params(("id" = String, Path, description = "Account id")), security(("bearer" = []), ("session" = [])), responses((status = 204, description = "Unblocked")))]
async fn unblock_user(State(s): State<AppState>, u: CurrentUser, Path(id): Path<AccountId>) -> WebResult<Response> {
    messages::unblock_user(&s.db, u.id(), id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/api/v1/rooms", tag = "rooms", params(("q" = Option<String>, Query, description = "Search by name"), ("tab" = Option<String>, Query, description = "`following` (signed in): rooms the caller follows")), security((), ("bearer" = []), ("session" = [])), responses((status = 200, description = "`{rooms}`: open rooms by people present, then activity; at most 50")))]
async fn list_rooms(State(s): State<AppState>, u: crate::auth::MaybeUser, Query(q): Query<Search>) -> WebResult<Response> {
    let listing = match (q.tab.as_deref(), q.q.as_deref().filter(|q| !q.trim().is_empty()), &u.0) {
        (_, Some(text), _) => rooms::Listing::Search(text),
        (Some("following"), None, Some(user)) => rooms::Listing::Following(user.id()),
        (Some("following"), None, None) => return Err(AppError::Unauthenticated.into()),
        _ => rooms::Listing::Live,
    };
    Ok(ok(json!({"rooms": rooms::discover(&s.db, listing, Utc::now(), 50).await?})))
}

#[utoipa::path(post, path = "/api/v1/rooms", tag = "rooms", request_body = crate::actions::CreateRoom, security(("bearer" = []), ("session" = [])), responses((status = 201, description = "`{room}`; the owner has joined it"), (status = 409, description = "`one_room_per_user`, or the name is taken")))]
async fn create_room(State(s): State<AppState>, u: CurrentUser, Json(f): Json<CreateRoom>) -> WebResult<Response> {
    let room = actions::create_room(&s, &u, &f, None).await?;
    actions::join(&s, &u, room.id, None).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({"room": room}))).into_response())
}

#[utoipa::path(get, path = "/api/v1/rooms/{id}", tag = "rooms", params(("id" = String, Path, description = "Room id")), security(()), responses((status = 200, description = "`{state: {room, seats, participants}, voice_available}`"), (status = 404, description = "No such room")))]
async fn room_state(State(s): State<AppState>, Path(id): Path<RoomId>) -> WebResult<Response> {
    let st = presence::state(&s.db, id).await?;
    Ok(ok(json!({"state": st, "voice_available": s.voice.available()})))
}

#[utoipa::path(patch, path = "/api/v1/rooms/{id}", tag = "rooms", params(("id" = String, Path, description = "Room id")), request_body = crate::actions::EditRoom, security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{room}` after the change"), (status = 403, description = "`not_moderator`: owners and room admins only"), (status = 404, description = "No such room")))]
async fn edit_room(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>, Json(f): Json<EditRoom>) -> WebResult<Response> {
    Ok(ok(json!({"room": actions::edit_room(&s, &u, id, &f).await?})))
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/logo", tag = "rooms", params(("id" = String, Path, description = "Room id")), request_body(content_type = "multipart/form-data", description = "Field `logo`: PNG, JPEG or WEBP, at most 2 MB, stored at 512×512"), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{room}`"), (status = 413, description = "The file is too large")))]
async fn room_logo(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>, mp: Multipart) -> WebResult<Response> {
    let role = rooms::role(&s.db, id, u.id()).await?;
    rooms_domain::moderation::authorize(
        Some(role),
        rooms_domain::moderation::Action::EditSettings,
        rooms_domain::moderation::Target::Nobody,
    )
    .map_err(|r| crate::error::refused(r.code(), r.message()))?;
    let (bytes, ct) = first_file(mp, "logo").await?;
    let url = crate::media::store_square(&s, bytes, ct.as_deref(), &crate::media::rules("logo", "Room logo")).await?;
    let settings = rooms::Settings { logo_url: Some(url), ..Default::default() };
    Ok(ok(json!({"room": rooms::update_settings(&s.db, id, u.id(), &settings, Utc::now()).await?.room})))
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/reopen", tag = "rooms", params(("id" = String, Path, description = "Room id")), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{room}`, open again"), (status = 403, description = "`owner_only`")))]
async fn reopen(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>) -> WebResult<Response> {
    rooms::reopen(&s.db, id, u.id(), Utc::now()).await?;
    s.voice.apply(crate::voice::VoiceChange::RoomOpened(id));
    Ok(ok(json!({"room": rooms::get(&s.db, id).await?})))
}

#[derive(Deserialize, Default, ToSchema)]
struct JoinBody {
    password: Option<String>,
}

#[derive(Deserialize, ToSchema)]
struct RenewBody {
    token: String,
}

/// A fresh expiry for the caller's live voice pass (pages call this before
/// the pass lapses); `voice_pass_expired` when it is no longer live.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/voice/renew", tag = "voice", params(("id" = String, Path, description = "Room id")), request_body = RenewBody, security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{voice}`: the pass with a fresh expiry"), (status = 409, description = "`voice_pass_expired`: rejoin the room")))]
async fn renew_voice(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>, Json(f): Json<RenewBody>) -> WebResult<Response> {
    match s.voice.renew(id, u.id(), &f.token).await {
        Some(pass) => Ok(ok(json!({"voice": pass}))),
        None => Err(crate::error::refused("voice_pass_expired", "This voice pass is no longer valid; rejoin the room")),
    }
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/join", tag = "rooms", params(("id" = String, Path, description = "Room id")), request_body(content = Option<JoinBody>, description = "Optional; `password` for a private room"), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{joined, state, voice, voice_available}`: `voice` is the join pass or null"), (status = 403, description = "`blocked`, `kick_cooldown` or `wrong_room_password`"), (status = 409, description = "`room_full` or `room_closed`")))]
async fn join(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>, OptJson(body): OptJson<JoinBody>) -> WebResult<Response> {
    let pw = body.and_then(|b| b.password);
    let joined = actions::join(&s, &u, id, pw.as_deref()).await?;
    let st = presence::state(&s.db, id).await?;
    // The browser joins the room's audio with this pass (`null`: voice is unavailable).
    let voice = actions::voice_pass(&s, &u, &st).await;
    Ok(ok(json!({"joined": joined, "state": st, "voice": voice, "voice_available": s.voice.available()})))
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/leave", tag = "rooms", params(("id" = String, Path, description = "Room id")), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{left}`: whether the caller was in the room")))]
async fn leave(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>) -> WebResult<Response> {
    Ok(ok(json!({"left": actions::leave(&s, &u, id).await?})))
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/heartbeat", tag = "rooms", params(("id" = String, Path, description = "Room id")), security(("bearer" = []), ("session" = [])), responses((status = 204, description = "Still here (send every 10 s)"), (status = 409, description = "`not_in_room`: join again")))]
async fn heartbeat(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>) -> WebResult<Response> {
    if !presence::heartbeat(&s.db, id, u.id(), Utc::now()).await? {
        return Err(crate::error::refused("not_in_room", "You are no longer in this room; join again"));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/actions/{action}", tag = "seats and moderation", params(("id" = String, Path, description = "Room id"), ("action" = String, Path, description = "take_seat, leave_seat, request_seat, accept_request, invite, accept_invite, move_seat, lock, unlock, mute, unmute, remove, kick, block, unblock, make_admin, remove_admin")), request_body(content = Option<crate::actions::ActInput>, description = "`account` acted on (default: the caller), `seat`, `reason`"), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "What the action did, e.g. `{seat}`"), (status = 403, description = "`not_moderator`, `owner_only`, `target_not_lower`, `visitors_may_not_speak`, `muted_by_moderator`, `vip_protected` (a VIP 4+ cannot be muted, a VIP 5+ cannot be removed, kicked or blocked, by anyone but the owner)"), (status = 409, description = "`seat_taken`, `seat_locked`, `already_seated`, `must_apply`")))]
async fn act(
    State(s): State<AppState>,
    u: CurrentUser,
    Path((id, action)): Path<(RoomId, String)>,
    OptJson(body): OptJson<ActInput>,
) -> WebResult<Response> {
    let input = body.unwrap_or_default();
    Ok(ok(actions::act(&s, &u, id, &action, &input).await?))
}

#[derive(Deserialize)]
struct After {
    after: Option<i64>,
    before: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/rooms/{id}/events", tag = "live", params(("id" = String, Path, description = "Room id"), ("after" = Option<i64>, Query, description = "Events with seq above this")), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{events: [{seq, kind, data, at}]}`, at most 500, in seq order")))]
async fn room_events(State(s): State<AppState>, _u: CurrentUser, Path(id): Path<RoomId>, Query(q): Query<After>) -> WebResult<Response> {
    let evs = events::room_since(&s.db, id, q.after.unwrap_or(0), 500).await?;
    let evs: Vec<Value> = evs.iter().map(|e| json!({"seq": e.seq, "kind": e.kind, "data": e.data(), "at": e.created_at})).collect();
    Ok(ok(json!({"events": evs})))
}

#[utoipa::path(get, path = "/api/v1/events", tag = "live", params(("after" = Option<i64>, Query, description = "Events with seq above this")), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{events: [{seq, kind, data, at}]}`: the caller's own events (messages, read marks, balance)")))]
async fn my_events(State(s): State<AppState>, u: CurrentUser, Query(q): Query<After>) -> WebResult<Response> {
    let evs = events::user_since(&s.db, u.id(), q.after.unwrap_or(0), 500).await?;
    let evs: Vec<Value> = evs.iter().map(|e| json!({"seq": e.seq, "kind": e.kind, "data": e.data(), "at": e.created_at})).collect();
    Ok(ok(json!({"events": evs})))
}

#[utoipa::path(get, path = "/api/v1/rooms/{id}/chat", tag = "chat", params(("id" = String, Path, description = "Room id"), ("before" = Option<i64>, Query, description = "Older than this id")), security(()), responses((status = 200, description = "`{messages}`, newest 100")))]
async fn chat_list(State(s): State<AppState>, Path(id): Path<RoomId>, Query(q): Query<After>) -> WebResult<Response> {
    Ok(ok(json!({"messages": chat::recent(&s.db, id, q.before, 100).await?})))
}

#[derive(Deserialize, ToSchema)]
struct Body {
    body: String,
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/chat", tag = "chat", params(("id" = String, Path, description = "Room id")), request_body = Body, security(("bearer" = []), ("session" = [])), responses((status = 201, description = "`{id}` of the message"), (status = 403, description = "`chat_not_allowed`")))]
async fn chat_post(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>, Json(b): Json<Body>) -> WebResult<Response> {
    let seq = actions::post_chat(&s, &u, id, &b.body).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({"id": seq}))).into_response())
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/follow", tag = "rooms", params(("id" = String, Path, description = "Room id")), security(("bearer" = []), ("session" = [])), responses((status = 204, description = "Following the room"), (status = 404, description = "No such room")))]
async fn follow_room(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>) -> WebResult<Response> {
    rooms::get(&s.db, id).await?.ok_or(AppError::NotFound)?;
    social::follow_room(&s.db, u.id(), id, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(delete, path = "/api/v1/rooms/{id}/follow", tag = "rooms", params(("id" = String, Path, description = "Room id")), security(("bearer" = []), ("session" = [])), responses((status = 204, description = "Not following")))]
async fn unfollow_room(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>) -> WebResult<Response> {
    social::unfollow_room(&s.db, u.id(), id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Owners, admins and staff only.
async fn require_moderator(s: &AppState, u: &CurrentUser, room: RoomId) -> WebResult<()> {
    if u.is_staff() || rooms::role(&s.db, room, u.id()).await?.moderates() {
        Ok(())
    } else {
        Err(AppError::Forbidden.into())
    }
}

#[utoipa::path(get, path = "/api/v1/rooms/{id}/bans", tag = "seats and moderation", params(("id" = String, Path, description = "Room id")), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{bans}`: kicks still cooling down and blocks (owners, room admins, staff)")))]
async fn room_bans(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>) -> WebResult<Response> {
    require_moderator(&s, &u, id).await?;
    Ok(ok(json!({"bans": seats::bans(&s.db, id, Utc::now()).await?})))
}

#[utoipa::path(get, path = "/api/v1/rooms/{id}/log", tag = "seats and moderation", params(("id" = String, Path, description = "Room id")), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{log}`: the room's moderation log, newest 200")))]
async fn room_log(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>) -> WebResult<Response> {
    require_moderator(&s, &u, id).await?;
    Ok(ok(json!({"log": seats::log(&s.db, id, 200).await?})))
}

#[utoipa::path(get, path = "/api/v1/messages", tag = "messages", security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{conversations}` with unread counts")))]
async fn conversations(State(s): State<AppState>, u: CurrentUser) -> WebResult<Response> {
    Ok(ok(json!({"conversations": messages::conversations(&s.db, u.id(), 100).await?})))
}

#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "messages", params(("id" = String, Path, description = "The other person account id"), ("before" = Option<i64>, Query, description = "Older than this id")), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{messages}`, 50 a page")))]
async fn history(State(s): State<AppState>, u: CurrentUser, Path(id): Path<AccountId>, Query(q): Query<After>) -> WebResult<Response> {
    Ok(ok(json!({"messages": messages::history(&s.db, u.id(), id, q.before, 50).await?})))
}

#[utoipa::path(post, path = "/api/v1/messages/{id}", tag = "messages", params(("id" = String, Path, description = "Recipient account id")), request_body = Body, security(("bearer" = []), ("session" = [])), responses((status = 201, description = "`{id}` of the message"), (status = 403, description = "`blocked`")))]
async fn send_message(State(s): State<AppState>, u: CurrentUser, Path(id): Path<AccountId>, Json(b): Json<Body>) -> WebResult<Response> {
    let seq = actions::send_message(&s, &u, id, &b.body).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({"id": seq}))).into_response())
}

#[derive(Deserialize, ToSchema)]
struct UpTo {
    up_to: i64,
}

#[utoipa::path(post, path = "/api/v1/messages/{id}/read", tag = "messages", params(("id" = String, Path, description = "The other person account id")), request_body = UpTo, security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{marked}`: how many became read")))]
async fn mark_read(State(s): State<AppState>, u: CurrentUser, Path(id): Path<AccountId>, Json(b): Json<UpTo>) -> WebResult<Response> {
    Ok(ok(json!({"marked": messages::mark_read(&s.db, u.id(), id, b.up_to, Utc::now()).await?})))
}

#[derive(Deserialize, ToSchema)]
struct StatusBody {
    status: String,
    #[serde(default)]
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/admin/users/{id}/status", tag = "staff", params(("id" = String, Path, description = "Account id")), request_body = StatusBody, security(("bearer" = []), ("session" = [])), responses((status = 204, description = "Changed; a suspended or banned user is signed out and taken out of every room")))]
async fn admin_status(
    State(s): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<AccountId>,
    Json(b): Json<StatusBody>,
) -> WebResult<Response> {
    let status: AccountStatus = b.status.parse().map_err(|_| AppError::field("status", "Choose active, suspended or banned"))?;
    if status != AccountStatus::Active && b.reason.trim().is_empty() {
        return Err(AppError::field("reason", "Give a reason; the user sees it at sign-in").into());
    }
    accounts::set_status(&s.db, staff.id(), id, status, b.reason.trim(), Utc::now()).await?;
    s.sign_in_changed(id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A 24-hour reset token for a (phone-only) account, shown once to staff
/// to hand over; audit-logged.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/reset-token", tag = "staff", params(("id" = String, Path, description = "Account id")), security(("bearer" = []), ("session" = [])), responses((status = 201, description = "`{token}`: a 24-hour reset code, shown once"), (status = 404, description = "No such account")))]
async fn admin_reset_token(State(s): State<AppState>, Staff(staff): Staff, Path(id): Path<AccountId>) -> WebResult<Response> {
    let acct = accounts::by_id(&s.db, id).await?.ok_or(AppError::NotFound)?;
    let login = match (&acct.phone, &acct.email) {
        (Some(p), _) => Login::parse(p)?,
        (None, Some(e)) => Login::parse(e)?,
        (None, None) => return Err(AppError::NotFound.into()),
    };
    let (_, token) =
        accounts::issue_reset(&s.db, &login, ResetChannel::Staff, Some(staff.id()), Utc::now()).await?.ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, axum::Json(json!({"token": token}))).into_response())
}

#[utoipa::path(post, path = "/api/v1/admin/rooms/{id}/close", tag = "staff", params(("id" = String, Path, description = "Room id")), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{closed}`: whether it was open")))]
async fn admin_close(State(s): State<AppState>, Staff(staff): Staff, Path(id): Path<RoomId>) -> WebResult<Response> {
    let closed = rooms::close(&s.db, id, staff.id(), true, "closed by staff", Utc::now()).await?;
    if closed {
        s.voice.apply(crate::voice::VoiceChange::RoomClosed(id));
    }
    Ok(ok(json!({"closed": closed})))
}

#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "staff", security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{audit}`: the newest 200 staff and account actions")))]
async fn admin_audit(State(s): State<AppState>, _s: Staff) -> WebResult<Response> {
    Ok(ok(json!({"audit": audit::recent(&s.db, 200).await?})))
}
