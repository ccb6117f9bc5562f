//! Server-rendered pages (askama), phone width first: sign-up and sign-in,
//! discovery, the room page (seats, participants, chat, moderation with
//! confirmation for destructive actions), profiles, messages. Forms post
//! to these routes and redirect back; the same operations are in the API.

use crate::actions::{self, ActInput, CreateRoom, SignUp};
use crate::api::{apply_profile, EditMe};
use crate::auth::{clear_session_cookie, session_cookie, CurrentUser, MaybeUser, KIND};
use crate::error::{AppError, WebResult};
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use platform_accounts::{SessionSpec, Via};
use platform_web::request::{ClientIp, CsrfToken};
use rooms_domain::ids::{AccountId, RoomId};
use rooms_domain::room::RoomRole;
use rooms_store::accounts::{self, PublicProfile, SESSIONS};
use rooms_store::chat::ChatMessage;
use rooms_store::messages::{Conversation, PrivateMessage};
use rooms_store::presence::RoomState;
use rooms_store::rooms::{self, Room};
use rooms_store::{chat, messages, presence, social};
use serde::Deserialize;

const CSS: &str = include_str!("../assets/rooms.css");
const JS: &str = include_str!("../assets/rooms.js");

/// What every page's frame needs.
pub struct Frame {
    pub csrf: String,
    pub me: Option<(AccountId, String, i64)>,
}

impl Frame {
    fn new(csrf: &CsrfToken, user: Option<&CurrentUser>) -> Frame {
        Frame { csrf: csrf.0.clone(), me: user.map(|u| (u.id(), u.account.display_name.clone(), u.account.public_number)) }
    }
    pub fn signed_in(&self) -> bool {
        self.me.is_some()
    }
    pub fn name(&self) -> &str {
        self.me.as_ref().map_or("", |m| m.1.as_str())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct Home {
    f: Frame,
    tab: String,
    q: String,
    rooms: Vec<Room>,
}

#[derive(Template, WebTemplate)]
#[template(path = "signin.html")]
struct SignInPage {
    f: Frame,
    next: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "signup.html")]
struct SignUpPage {
    f: Frame,
}

#[derive(Template, WebTemplate)]
#[template(path = "new_room.html")]
struct NewRoomPage {
    f: Frame,
}

#[derive(Template, WebTemplate)]
#[template(path = "room.html")]
struct RoomPage {
    f: Frame,
    st: RoomState,
    chat: Vec<ChatMessage>,
    my_role: RoomRole,
    inside: bool,
    my_seat: Option<i64>,
    voice: bool,
}

impl RoomPage {
    fn moderator(&self) -> bool {
        self.my_role.moderates()
    }
    fn is_owner(&self) -> bool {
        self.my_role == RoomRole::Owner
    }
    fn is_me(&self, id: &AccountId) -> bool {
        self.f.me.as_ref().is_some_and(|m| &m.0 == id)
    }
    /// Whether the viewer may act on someone of `role` (4.6).
    fn outranks(&self, role: &RoomRole) -> bool {
        self.my_role.moderates() && self.my_role.outranks(*role)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "profile.html")]
struct ProfilePage {
    f: Frame,
    p: PublicProfile,
    followers: i64,
    following: i64,
    mine: bool,
    i_follow: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "inbox.html")]
struct InboxPage {
    f: Frame,
    conversations: Vec<Conversation>,
    results: Vec<PublicProfile>,
    q: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "conversation.html")]
struct ConversationPage {
    f: Frame,
    other: PublicProfile,
    messages: Vec<PrivateMessage>,
    older: Option<i64>,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/assets/rooms.css", get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS) }))
        .route("/assets/rooms.js", get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], JS) }))
        .route("/media/{*key}", get(media))
        .route("/signin", get(sign_in_page).post(sign_in))
        .route("/signup", get(sign_up_page).post(sign_up))
        .route("/signout", post(sign_out))
        .route("/rooms/new", get(new_room_page).post(new_room))
        .route("/rooms/{id}", get(room_page))
        .route("/rooms/{id}/join", post(join))
        .route("/rooms/{id}/leave", post(leave))
        .route("/rooms/{id}/chat", post(chat_post))
        .route("/rooms/{id}/act", post(act))
        .route("/u/{number}", get(profile))
        .route("/u/{number}/follow", post(follow))
        .route("/me", post(edit_me))
        .route("/messages", get(inbox))
        .route("/messages/{id}", get(conversation).post(send))
}

async fn media(State(s): State<AppState>, Path(key): Path<String>) -> WebResult<Response> {
    let key = platform_media::MediaKey::parse(&key).map_err(|_| AppError::NotFound)?;
    let m = s.media.get(&key).await.map_err(|e| AppError::Internal(e.to_string()))?.ok_or(AppError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, m.content_type)], m.bytes).into_response())
}

#[derive(Deserialize, Default)]
struct HomeQuery {
    tab: Option<String>,
    q: Option<String>,
}

async fn home(State(s): State<AppState>, csrf: CsrfToken, u: MaybeUser, Query(q): Query<HomeQuery>) -> WebResult<Home> {
    let text = q.q.clone().unwrap_or_default();
    let tab = match (q.tab.as_deref(), &u.0) {
        (Some("following"), Some(_)) => "following",
        _ => "live",
    };
    let listing = match (&u.0, tab, text.trim().is_empty()) {
        (_, _, false) => rooms::Listing::Search(text.trim()),
        (Some(user), "following", true) => rooms::Listing::Following(user.id()),
        _ => rooms::Listing::Live,
    };
    let list = rooms::discover(&s.db, listing, Utc::now(), 60).await?;
    Ok(Home { f: Frame::new(&csrf, u.0.as_ref()), tab: tab.into(), q: text, rooms: list })
}

#[derive(Deserialize, Default)]
struct Next {
    next: Option<String>,
}

async fn sign_in_page(csrf: CsrfToken, Query(n): Query<Next>) -> SignInPage {
    SignInPage { f: Frame::new(&csrf, None), next: n.next.unwrap_or_default() }
}

#[derive(Deserialize)]
struct SignInForm {
    login: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Starts a web session for `id` and redirects to `to`.
async fn start_session(s: &AppState, id: AccountId, ip: &ClientIp, to: &str) -> WebResult<Response> {
    let spec = SessionSpec {
        account: id,
        kind: KIND.to_string(),
        via: Via::Cookie,
        ttl: chrono::Duration::from_std(s.config.session_ttl).unwrap_or_default(),
        ip: Some(&ip.0),
        user_agent: None,
    };
    let new = SESSIONS.create(&s.db, spec, Utc::now()).await?;
    let cookie = session_cookie(&new.token, s.config.session_ttl.as_secs(), s.config.https);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(to)).into_response())
}

/// Only local paths are followed after sign-in.
fn local(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") {
        next
    } else {
        "/"
    }
}

async fn sign_in(State(s): State<AppState>, ip: ClientIp, Form(f): Form<SignInForm>) -> WebResult<Response> {
    let rec = actions::sign_in(&s, &f.login, &f.password).await?;
    start_session(&s, rec.id, &ip, local(&f.next)).await
}

async fn sign_up_page(csrf: CsrfToken) -> SignUpPage {
    SignUpPage { f: Frame::new(&csrf, None) }
}

async fn sign_up(State(s): State<AppState>, ip: ClientIp, Form(f): Form<SignUp>) -> WebResult<Response> {
    let a = actions::sign_up(&s, &f).await?;
    start_session(&s, a.id, &ip, "/").await
}

/// Signs out everywhere (every device), as requirement 1.5 asks.
async fn sign_out(State(s): State<AppState>, u: CurrentUser) -> WebResult<Response> {
    actions::sign_out_everywhere(&s, u.id()).await?;
    Ok(([(header::SET_COOKIE, clear_session_cookie(s.config.https))], Redirect::to("/")).into_response())
}

async fn new_room_page(csrf: CsrfToken, u: CurrentUser) -> NewRoomPage {
    NewRoomPage { f: Frame::new(&csrf, Some(&u)) }
}

/// The create form is multipart (it carries the logo).
async fn new_room(State(s): State<AppState>, u: CurrentUser, mut mp: Multipart) -> WebResult<Response> {
    let mut f = CreateRoom::default();
    let mut logo = None;
    while let Some(part) = mp.next_field().await.map_err(AppError::rejected)? {
        let name = part.name().unwrap_or_default().to_string();
        if name == "logo" {
            let ct = part.content_type().map(str::to_string);
            let bytes = part.bytes().await.map_err(AppError::rejected)?;
            if !bytes.is_empty() {
                logo = Some((bytes.to_vec(), ct));
            }
            continue;
        }
        let v = part.text().await.map_err(AppError::rejected)?;
        match name.as_str() {
            "name" => f.name = v,
            "private" => f.private = v == "on",
            "password" => f.password = Some(v),
            "seat_count" => f.seat_count = Some(v.trim().parse().map_err(|_| AppError::field("seat_count", "Enter a number of seats"))?),
            "visitors_speak" => f.visitors_speak = Some(v == "on"),
            "apply_mode" => f.apply_mode = v == "on",
            _ => {}
        }
    }
    let logo_url = match logo {
        Some((bytes, ct)) => Some(crate::media::store_square(&s, bytes, ct.as_deref(), &crate::media::rules("logo", "Room logo")).await?),
        None => None,
    };
    let room = actions::create_room(&s, &u, &f, logo_url).await?;
    actions::join(&s, &u, room.id, None).await?;
    Ok(Redirect::to(&format!("/rooms/{}", room.id)).into_response())
}

async fn room_page(State(s): State<AppState>, csrf: CsrfToken, u: MaybeUser, Path(id): Path<RoomId>) -> WebResult<RoomPage> {
    let st = presence::state(&s.db, id).await?;
    let chat = chat::recent(&s.db, id, None, 50).await?;
    let (my_role, inside, my_seat) = match &u.0 {
        Some(user) => {
            let role = rooms::role(&s.db, id, user.id()).await?;
            let inside = st.participants.iter().any(|p| p.account_id == user.id());
            let seat = st.seats.iter().find(|x| x.occupant_id == Some(user.id())).map(|x| x.seat_no);
            (role, inside, seat)
        }
        None => (RoomRole::Visitor, false, None),
    };
    Ok(RoomPage { f: Frame::new(&csrf, u.0.as_ref()), st, chat, my_role, inside, my_seat, voice: s.voice.available() })
}

#[derive(Deserialize, Default)]
struct JoinForm {
    password: Option<String>,
}

async fn join(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>, Form(f): Form<JoinForm>) -> WebResult<Response> {
    actions::join(&s, &u, id, f.password.as_deref()).await?;
    Ok(Redirect::to(&format!("/rooms/{id}")).into_response())
}

async fn leave(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>) -> WebResult<Response> {
    actions::leave(&s, &u, id).await?;
    Ok(Redirect::to("/").into_response())
}

#[derive(Deserialize)]
struct ChatForm {
    body: String,
}

async fn chat_post(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>, Form(f): Form<ChatForm>) -> WebResult<Response> {
    actions::post_chat(&s, &u, id, &f.body).await?;
    Ok(Redirect::to(&format!("/rooms/{id}#chat")).into_response())
}

#[derive(Deserialize)]
struct ActForm {
    action: String,
    account: Option<AccountId>,
    seat: Option<i64>,
    #[serde(default)]
    reason: String,
}

async fn act(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>, Form(f): Form<ActForm>) -> WebResult<Response> {
    let input = ActInput { account: f.account, seat: f.seat, reason: f.reason };
    actions::act(&s, &u, id, &f.action, &input).await?;
    let to = if f.action == "close" { "/".to_string() } else { format!("/rooms/{id}") };
    Ok(Redirect::to(&to).into_response())
}

async fn profile(State(s): State<AppState>, csrf: CsrfToken, u: MaybeUser, Path(number): Path<i64>) -> WebResult<ProfilePage> {
    let p = accounts::by_number(&s.db, number).await?.ok_or(AppError::NotFound)?;
    let (followers, following) = social::counts(&s.db, p.id).await?;
    let mine = u.0.as_ref().is_some_and(|me| me.id() == p.id);
    let i_follow = match &u.0 {
        Some(me) if !mine => social::follows(&s.db, me.id(), p.id).await?,
        _ => false,
    };
    Ok(ProfilePage { f: Frame::new(&csrf, u.0.as_ref()), p, followers, following, mine, i_follow })
}

async fn follow(State(s): State<AppState>, u: CurrentUser, Path(number): Path<i64>) -> WebResult<Response> {
    let p = accounts::by_number(&s.db, number).await?.ok_or(AppError::NotFound)?;
    if social::follows(&s.db, u.id(), p.id).await? {
        social::unfollow_user(&s.db, u.id(), p.id).await?;
    } else {
        social::follow_user(&s.db, u.id(), p.id, Utc::now()).await?;
    }
    Ok(Redirect::to(&format!("/u/{number}")).into_response())
}

async fn edit_me(State(s): State<AppState>, u: CurrentUser, Form(f): Form<EditMe>) -> WebResult<Response> {
    apply_profile(&s, &u, &f).await?;
    Ok(Redirect::to(&format!("/u/{}", u.account.public_number)).into_response())
}

#[derive(Deserialize, Default)]
struct InboxQuery {
    q: Option<String>,
    before: Option<i64>,
}

async fn inbox(State(s): State<AppState>, csrf: CsrfToken, u: CurrentUser, Query(q): Query<InboxQuery>) -> WebResult<InboxPage> {
    let text = q.q.unwrap_or_default();
    let results = if text.trim().is_empty() { vec![] } else { accounts::search(&s.db, &text, 20).await? };
    let conversations = messages::conversations(&s.db, u.id(), 100).await?;
    Ok(InboxPage { f: Frame::new(&csrf, Some(&u)), conversations, results, q: text })
}

async fn conversation(
    State(s): State<AppState>,
    csrf: CsrfToken,
    u: CurrentUser,
    Path(id): Path<AccountId>,
    Query(q): Query<InboxQuery>,
) -> WebResult<ConversationPage> {
    let other = accounts::profile(&s.db, id).await?.ok_or(AppError::NotFound)?;
    let msgs = messages::history(&s.db, u.id(), id, q.before, 50).await?;
    if let Some(last) = msgs.last() {
        messages::mark_read(&s.db, u.id(), id, last.seq, Utc::now()).await?;
    }
    let older = (msgs.len() == 50).then(|| msgs[0].seq);
    Ok(ConversationPage { f: Frame::new(&csrf, Some(&u)), other, messages: msgs, older })
}

async fn send(State(s): State<AppState>, u: CurrentUser, Path(id): Path<AccountId>, Form(f): Form<ChatForm>) -> WebResult<Response> {
    actions::send_message(&s, &u, id, &f.body).await?;
    Ok(Redirect::to(&format!("/messages/{id}")).into_response())
}
