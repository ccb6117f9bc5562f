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

/// What every page's frame needs.
pub struct Frame {
    pub csrf: String,
    pub me: Option<(AccountId, String, i64)>,
    pub staff: bool,
}

impl Frame {
    pub(crate) fn new(csrf: &CsrfToken, user: Option<&CurrentUser>) -> Frame {
        Frame {
            csrf: csrf.0.clone(),
            me: user.map(|u| (u.id(), u.account.display_name.clone(), u.account.public_number)),
            staff: user.is_some_and(CurrentUser::is_staff),
        }
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
    google: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "signup.html")]
struct SignUpPage {
    f: Frame,
    google: bool,
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
    /// The viewer's voice pass as JSON, while they are in the room.
    voice_pass: Option<String>,
    /// The viewer holds an unmuted seat (the voice client sends audio).
    speaking: bool,
    /// The seat the viewer is invited to, while the invitation lasts.
    my_invite: Option<i64>,
    bans: Vec<rooms_store::seats::Ban>,
    /// The themes the owner may choose from (empty for everyone else).
    themes: Vec<rooms_store::themes::Theme>,
    /// Levels and badges of everyone shown.
    badges: crate::status::Badges,
    /// The room's own level (BR-3).
    room_level: rooms_store::levels::Level,
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
    /// The viewer's account id (empty when signed out), for the live script.
    fn me_id(&self) -> String {
        self.f.me.as_ref().map(|m| m.0.to_string()).unwrap_or_default()
    }
    /// The music's state for the page's script: `url|started_at_ms` while it plays.
    fn music_state(&self) -> String {
        match (&self.st.room.music_url, self.st.room.music_started_at) {
            (Some(url), Some(at)) => format!("{url}|{}", at.timestamp_millis()),
            _ => String::new(),
        }
    }
    /// Whether `who`'s name is highlighted (a level's privilege).
    fn coloured(&self, who: &AccountId) -> bool {
        self.badges.of(who).is_some_and(|b| b.coloured)
    }
    fn coloured_seat(&self, who: &Option<AccountId>) -> bool {
        who.as_ref().is_some_and(|w| self.coloured(w))
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
    badges: crate::status::Badges,
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
        .route("/assets/{file}", get(crate::assets::asset))
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
        .route("/rooms/{id}/settings", post(settings))
        .route("/rooms/{id}/follow", post(follow_room))
        .route("/rooms/{id}/logo", post(logo))
        .route("/reset", get(reset_page).post(reset_request))
        .route("/reset/confirm", get(reset_confirm_page).post(reset_confirm))
        .route("/me/avatar", post(avatar))
        .route("/admin", get(admin))
        .route("/admin/users/{id}/status", post(admin_status))
        .route("/admin/users/{id}/reset-token", post(admin_reset_token))
        .route("/admin/rooms/{id}/close", post(admin_close))
        .route("/u/{number}", get(profile))
        .route("/u/{number}/follow", post(follow))
        .route("/me", post(edit_me))
        .route("/messages", get(inbox))
        .route("/messages/{id}", get(conversation).post(send))
}

async fn media(State(s): State<AppState>, Path(key): Path<String>) -> WebResult<Response> {
    let key = platform_media::MediaKey::parse(&key).map_err(|_| AppError::NotFound)?;
    // Payment proofs are served only through their coin request.
    if key.as_str().starts_with("proofs/") {
        return Err(AppError::NotFound.into());
    }
    let m = s.media.get(&key).await.map_err(|e| AppError::Internal(e.to_string()))?.ok_or(AppError::NotFound)?;
    let content_type = crate::decor::audio_mime(key.as_str()).map_or(m.content_type, str::to_string);
    Ok(([(header::CONTENT_TYPE, content_type)], m.bytes).into_response())
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

async fn sign_in_page(State(s): State<AppState>, csrf: CsrfToken, Query(n): Query<Next>) -> SignInPage {
    SignInPage { f: Frame::new(&csrf, None), next: n.next.unwrap_or_default(), google: s.google.is_some() }
}

#[derive(Deserialize)]
struct SignInForm {
    login: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Starts a web session for `id` and redirects to `to`.
pub(crate) async fn start_session(s: &AppState, id: AccountId, ip: &ClientIp, to: &str) -> WebResult<Response> {
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

async fn sign_up_page(State(s): State<AppState>, csrf: CsrfToken) -> SignUpPage {
    SignUpPage { f: Frame::new(&csrf, None), google: s.google.is_some() }
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
    let now = Utc::now();
    let my_invite =
        u.0.as_ref().and_then(|me| st.invites.iter().find(|i| i.account_id == me.id() && i.expires_at > now).map(|i| i.seat_no));
    let bans = if my_role.moderates() { rooms_store::seats::bans(&s.db, id, now).await? } else { vec![] };
    let (voice_pass, speaking) = match &u.0 {
        Some(me) if inside => {
            let pass = actions::voice_pass(&s, me, &st).await.and_then(|p| serde_json::to_string(&p).ok());
            (pass, st.seats.iter().any(|x| x.occupant_id == Some(me.id()) && !x.muted))
        }
        _ => (None, false),
    };
    let voice = s.voice.available();
    let themes = if my_role == RoomRole::Owner { rooms_store::themes::list(&s.db).await? } else { vec![] };
    let shown: Vec<AccountId> = st
        .participants
        .iter()
        .map(|p| p.account_id)
        .chain(st.seats.iter().filter_map(|x| x.occupant_id))
        .chain(chat.iter().map(|m| m.author_id))
        .collect();
    let badges = crate::status::Badges::load(&s.db, &shown).await?;
    let room_level = rooms_store::levels::room_level(&s.db, id).await?;
    Ok(RoomPage {
        f: Frame::new(&csrf, u.0.as_ref()),
        st,
        chat,
        my_role,
        inside,
        my_seat,
        voice,
        voice_pass,
        speaking,
        my_invite,
        bans,
        themes,
        badges,
        room_level,
    })
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
    let badges = crate::status::Badges::load(&s.db, &[p.id]).await?;
    Ok(ProfilePage { f: Frame::new(&csrf, u.0.as_ref()), p, followers, following, mine, i_follow, badges })
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

/// The settings form sends every field; an unticked box is absent.
#[derive(Deserialize)]
struct SettingsForm {
    name: String,
    #[serde(default)]
    announcement: String,
    #[serde(default)]
    greeting: String,
    seat_count: i64,
    visitors_speak: Option<String>,
    visitors_text: Option<String>,
    visitors_pictures: Option<String>,
    hidden: Option<String>,
    apply_mode: Option<String>,
    private: Option<String>,
    #[serde(default)]
    password: String,
}

async fn settings(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>, Form(f): Form<SettingsForm>) -> WebResult<Response> {
    let on = |v: &Option<String>| Some(v.is_some());
    let edit = actions::EditRoom {
        name: Some(f.name),
        announcement: Some(f.announcement),
        greeting: Some(f.greeting),
        visitors_speak: on(&f.visitors_speak),
        visitors_text: on(&f.visitors_text),
        visitors_pictures: on(&f.visitors_pictures),
        hidden: on(&f.hidden),
        apply_mode: on(&f.apply_mode),
        seat_count: Some(f.seat_count),
        private: on(&f.private),
        password: Some(f.password).filter(|p| !p.is_empty()),
    };
    actions::edit_room(&s, &u, id, &edit).await?;
    Ok(Redirect::to(&format!("/rooms/{id}")).into_response())
}

async fn logo(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>, mp: Multipart) -> WebResult<Response> {
    let role = rooms::role(&s.db, id, u.id()).await?;
    rooms_domain::moderation::authorize(
        Some(role),
        rooms_domain::moderation::Action::EditSettings,
        rooms_domain::moderation::Target::Nobody,
    )
    .map_err(|r| crate::error::refused(r.code(), r.message()))?;
    let (bytes, ct) = crate::api::first_file(mp, "logo").await?;
    let url = crate::media::store_square(&s, bytes, ct.as_deref(), &crate::media::rules("logo", "Room logo")).await?;
    rooms::update_settings(&s.db, id, u.id(), &rooms::Settings { logo_url: Some(url), ..Default::default() }, Utc::now()).await?;
    Ok(Redirect::to(&format!("/rooms/{id}")).into_response())
}

async fn avatar(State(s): State<AppState>, u: CurrentUser, mp: Multipart) -> WebResult<Response> {
    let (bytes, ct) = crate::api::first_file(mp, "avatar").await?;
    let url = crate::media::store_square(&s, bytes, ct.as_deref(), &crate::media::rules("avatar", "Avatar")).await?;
    accounts::update_profile(&s.db, u.id(), &accounts::ProfileChange { avatar_url: Some(url), ..Default::default() }).await?;
    s.sign_in_changed(u.id());
    Ok(Redirect::to(&format!("/u/{}", u.account.public_number)).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "reset.html")]
struct ResetPage {
    f: Frame,
    token: String,
    notice: String,
}

async fn reset_page(csrf: CsrfToken) -> ResetPage {
    ResetPage { f: Frame::new(&csrf, None), token: String::new(), notice: String::new() }
}

#[derive(Deserialize)]
struct ResetRequestForm {
    login: String,
}

/// The same answer whether or not the account exists.
async fn reset_request(State(s): State<AppState>, csrf: CsrfToken, Form(f): Form<ResetRequestForm>) -> WebResult<ResetPage> {
    crate::signin::request_reset(&s, &f.login).await?;
    let notice = format!("{} Phone-only accounts: ask support for a reset code.", crate::signin::RESET_ANSWER);
    Ok(ResetPage { f: Frame::new(&csrf, None), token: String::new(), notice })
}

#[derive(Deserialize, Default)]
struct TokenQuery {
    token: Option<String>,
}

async fn reset_confirm_page(csrf: CsrfToken, Query(q): Query<TokenQuery>) -> ResetPage {
    ResetPage { f: Frame::new(&csrf, None), token: q.token.unwrap_or_default(), notice: String::new() }
}

#[derive(Deserialize)]
struct ResetConfirmForm {
    token: String,
    password: String,
}

async fn reset_confirm(State(s): State<AppState>, Form(f): Form<ResetConfirmForm>) -> WebResult<Response> {
    let password = rooms_domain::account::Password::parse(&f.password)?;
    let hash = crate::auth::hash_password(password.expose().to_string(), s.config.fast_password_hashing).await?;
    match accounts::redeem_reset(&s.db, f.token.trim(), &hash, Utc::now()).await? {
        Some(id) => {
            s.sign_in_changed(id);
            Ok(Redirect::to("/signin").into_response())
        }
        None => Err(crate::error::refused("reset_token_invalid", "This reset code has expired or was already used")),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin.html")]
struct AdminPage {
    f: Frame,
    q: String,
    users: Vec<rooms_store::accounts::Account>,
    rooms: Vec<Room>,
    audit: Vec<rooms_store::audit::AuditEntry>,
    token: Option<String>,
}

#[derive(Deserialize, Default)]
struct AdminQuery {
    q: Option<String>,
}

async fn admin_page(s: &AppState, csrf: &CsrfToken, staff: &CurrentUser, q: String, token: Option<String>) -> WebResult<AdminPage> {
    let users = if q.trim().is_empty() { vec![] } else { accounts::search_all(&s.db, &q, 50).await? };
    let rooms = rooms::discover(&s.db, rooms::Listing::Live, Utc::now(), 100).await?;
    let audit = rooms_store::audit::recent(&s.db, 50).await?;
    Ok(AdminPage { f: Frame::new(csrf, Some(staff)), q, users, rooms, audit, token })
}

async fn admin(
    State(s): State<AppState>,
    csrf: CsrfToken,
    crate::auth::Staff(staff): crate::auth::Staff,
    Query(q): Query<AdminQuery>,
) -> WebResult<AdminPage> {
    admin_page(&s, &csrf, &staff, q.q.unwrap_or_default(), None).await
}

#[derive(Deserialize)]
struct StatusForm {
    status: String,
    #[serde(default)]
    reason: String,
}

async fn admin_status(
    State(s): State<AppState>,
    crate::auth::Staff(staff): crate::auth::Staff,
    Path(id): Path<AccountId>,
    Form(f): Form<StatusForm>,
) -> WebResult<Response> {
    let status: rooms_domain::account::AccountStatus =
        f.status.parse().map_err(|_| AppError::field("status", "Choose active, suspended or banned"))?;
    if status != rooms_domain::account::AccountStatus::Active && f.reason.trim().is_empty() {
        return Err(AppError::field("reason", "Give a reason; the user sees it at sign-in").into());
    }
    accounts::set_status(&s.db, staff.id(), id, status, f.reason.trim(), Utc::now()).await?;
    s.sign_in_changed(id);
    Ok(Redirect::to("/admin").into_response())
}

/// Shows a 24-hour reset code once, to hand to a phone-only user.
async fn admin_reset_token(
    State(s): State<AppState>,
    csrf: CsrfToken,
    crate::auth::Staff(staff): crate::auth::Staff,
    Path(id): Path<AccountId>,
) -> WebResult<AdminPage> {
    let acct = accounts::by_id(&s.db, id).await?.ok_or(AppError::NotFound)?;
    let login = match (&acct.phone, &acct.email) {
        (Some(p), _) => rooms_domain::account::Login::parse(p)?,
        (None, Some(e)) => rooms_domain::account::Login::parse(e)?,
        (None, None) => return Err(AppError::NotFound.into()),
    };
    let (_, token) = accounts::issue_reset(&s.db, &login, rooms_domain::account::ResetChannel::Staff, Some(staff.id()), Utc::now())
        .await?
        .ok_or(AppError::NotFound)?;
    admin_page(&s, &csrf, &staff, acct.handle.clone(), Some(token)).await
}

async fn admin_close(
    State(s): State<AppState>,
    crate::auth::Staff(staff): crate::auth::Staff,
    Path(id): Path<RoomId>,
) -> WebResult<Response> {
    if rooms::close(&s.db, id, staff.id(), true, "closed by staff", Utc::now()).await? {
        s.voice.apply(crate::voice::VoiceChange::RoomClosed(id));
    }
    Ok(Redirect::to("/admin").into_response())
}

async fn follow_room(State(s): State<AppState>, u: CurrentUser, Path(id): Path<RoomId>) -> WebResult<Response> {
    rooms::get(&s.db, id).await?.ok_or(AppError::NotFound)?;
    social::follow_room(&s.db, u.id(), id, Utc::now()).await?;
    Ok(Redirect::to(&format!("/rooms/{id}")).into_response())
}
