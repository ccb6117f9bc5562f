//! The operations pages and the JSON API share: input parsed into domain
//! types, the store called, voice told after the commit. Handlers only
//! translate requests and responses.

use crate::auth::{hash_password, CurrentUser};
use crate::error::{refused, AppError, WebError, WebResult};
use crate::voice::VoiceChange;
use crate::AppState;
use chrono::Utc;
use platform_kernel::FieldErrors;
use rooms_domain::account::{AdultBirthDate, Country, FullName, Gender, Handle, Login, Password, PlatformRole};
use rooms_domain::ids::{AccountId, RoomId};
use rooms_domain::moderation::Action;
use rooms_domain::room::{self as r, Access, RoomKind, RoomName, SeatCount, VisitorPermissions};
use rooms_store::accounts::{self, Account, LoginRecord, NewAccount};
use rooms_store::seats::{self, Act};
use rooms_store::{chat, presence, rooms};
use serde::Deserialize;
use serde_json::{json, Value};

/// Sign-up input (phone or email, and the fields of 1.1).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SignUp {
    pub login: String,
    pub password: String,
    pub full_name: String,
    pub handle: String,
    pub birth_date: String,
    pub country: String,
    #[serde(default)]
    pub gender: Option<String>,
}

/// The key sign-in attempts count under: the login in its canonical form
/// (so `+254 700…` and `+254700…` are one account).
pub fn login_key(raw: &str) -> String {
    Login::parse(raw).map(|l| l.key().to_string()).unwrap_or_else(|_| raw.trim().to_lowercase())
}

/// Creates the account; every field's problem is reported at once.
pub async fn sign_up(state: &AppState, f: &SignUp) -> WebResult<Account> {
    state.limits.auth.check(format!("acct:{}", login_key(&f.login)))?;
    let mut errs = FieldErrors::new();
    let login = errs.check(Login::parse(&f.login));
    let password = errs.check(Password::parse(&f.password));
    let full_name = errs.check(FullName::parse("full_name", &f.full_name));
    let handle = errs.check(Handle::parse(&f.handle));
    let birth_date = errs.check(AdultBirthDate::parse(&f.birth_date, Utc::now().date_naive()));
    let country = errs.check(Country::parse(&f.country));
    let gender = match f.gender.as_deref().filter(|g| !g.is_empty()) {
        None => Some(Gender::Unspecified),
        Some(g) => errs.check(
            g.parse::<Gender>().map_err(|_| platform_kernel::FieldError::new("gender", "Choose female, male, other or unspecified")),
        ),
    };
    let (Some(login), Some(password), Some(full_name), Some(handle), Some(birth_date), Some(country), Some(gender)) =
        (login, password, full_name, handle, birth_date, country, gender)
    else {
        return Err(errs.into());
    };
    let hash = hash_password(password.expose().to_string(), state.config.fast_password_hashing).await?;
    let new = NewAccount { login, handle, full_name, birth_date, country, gender };
    Ok(accounts::create(&state.db, &new, &hash, PlatformRole::User, Utc::now()).await?)
}

/// Checks a login and password: one answer for an unknown account and a
/// wrong password; a blocked account is told why. 5 attempts a minute per
/// account (and per address, in the rate-limit layer).
pub async fn sign_in(state: &AppState, login: &str, password: &str) -> WebResult<LoginRecord> {
    state.limits.auth.check(format!("acct:{}", login_key(login)))?;
    let login = Login::parse(login).map_err(|_| AppError::LoginFailed)?;
    let rec = accounts::find_login(&state.db, &login).await?;
    let ok = platform_accounts::password::verify(password.to_string(), rec.as_ref().map(|r| r.password_hash.clone())).await;
    let rec = match (ok, rec) {
        (true, Some(rec)) => rec,
        _ => return Err(AppError::LoginFailed.into()),
    };
    accounts::check_status(&rec)?;
    accounts::record_login(&state.db, rec.id, Utc::now()).await?;
    Ok(rec)
}

/// Signs the user out everywhere: every web session and refresh token, and
/// access tokens issued until now.
pub async fn sign_out_everywhere(state: &AppState, who: AccountId) -> WebResult<()> {
    accounts::revoke_all_credentials(&state.db, who, Utc::now()).await?;
    state.sign_in_changed(who);
    Ok(())
}

/// Room creation input; `password` only for private rooms.
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
pub struct CreateRoom {
    pub name: String,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub seat_count: Option<i64>,
    #[serde(default)]
    pub visitors_speak: Option<bool>,
    #[serde(default)]
    pub visitors_text: Option<bool>,
    #[serde(default)]
    pub visitors_pictures: Option<bool>,
    #[serde(default)]
    pub apply_mode: bool,
}

pub async fn create_room(state: &AppState, user: &CurrentUser, f: &CreateRoom, logo_url: Option<String>) -> WebResult<rooms::Room> {
    let mut errs = FieldErrors::new();
    let name = errs.check(RoomName::parse(&f.name));
    let kind = if f.private { RoomKind::Private } else { RoomKind::Public };
    let access = errs.check(Access::parse(kind, f.password.as_deref()));
    let seats = errs.check(f.seat_count.map_or(Ok(SeatCount::default()), SeatCount::parse));
    let (Some(name), Some(access), Some(seat_count)) = (name, access, seats) else { return Err(errs.into()) };
    let d = VisitorPermissions::default();
    let visitors = VisitorPermissions {
        speak: f.visitors_speak.unwrap_or(d.speak),
        text: f.visitors_text.unwrap_or(d.text),
        pictures: f.visitors_pictures.unwrap_or(d.pictures),
    };
    let password_hash = match &access {
        Access::Private(p) => Some(hash_password(p.expose().to_string(), state.config.fast_password_hashing).await?),
        Access::Public => None,
    };
    let new = rooms::NewRoom { name, kind: access.kind(), password_hash, seat_count, visitors, apply_mode: f.apply_mode, logo_url };
    let room = rooms::create(&state.db, user.id(), &new, Utc::now()).await?;
    state.voice.apply(VoiceChange::RoomOpened(room.id));
    Ok(room)
}

/// A voice pass for someone in the room (`None` when voice is unavailable);
/// they may speak when they hold an unmuted seat in `st`.
pub async fn voice_pass(state: &AppState, user: &CurrentUser, st: &presence::RoomState) -> Option<rooms_voice::JoinPass> {
    let may_speak = st.seats.iter().any(|s| s.occupant_id == Some(user.id()) && !s.muted);
    state.voice.admit(st.room.id, user.id(), &user.account.display_name, may_speak).await
}

/// Settings input; absent fields stay as they are.
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
pub struct EditRoom {
    pub name: Option<String>,
    pub announcement: Option<String>,
    pub greeting: Option<String>,
    pub visitors_speak: Option<bool>,
    pub visitors_text: Option<bool>,
    pub visitors_pictures: Option<bool>,
    pub hidden: Option<bool>,
    pub apply_mode: Option<bool>,
    pub seat_count: Option<i64>,
    pub private: Option<bool>,
    pub password: Option<String>,
}

pub async fn edit_room(state: &AppState, user: &CurrentUser, room: RoomId, f: &EditRoom) -> WebResult<rooms::Room> {
    let current = rooms::get(&state.db, room).await?.ok_or(AppError::NotFound)?;
    let mut errs = FieldErrors::new();
    let name = f.name.as_deref().and_then(|n| errs.check(RoomName::parse(n)));
    let announcement = f.announcement.as_deref().and_then(|a| errs.check(r::announcement(a)));
    let greeting = f.greeting.as_deref().and_then(|g| errs.check(r::greeting(g)));
    let seat_count = f.seat_count.and_then(|n| errs.check(SeatCount::parse(n)));
    let pw = f.password.as_deref().filter(|p| !p.is_empty());
    let access = match (f.private, pw) {
        (Some(false), Some(_)) => {
            errs.add("password", "A public room has no password; make it private first");
            None
        }
        (Some(false), None) => Some((RoomKind::Public, None)),
        (Some(true), Some(p)) | (None, Some(p)) => match errs.check(r::RoomPassword::parse(p)) {
            Some(p) => Some((RoomKind::Private, Some(hash_password(p.expose().to_string(), state.config.fast_password_hashing).await?))),
            None => None,
        },
        (Some(true), None) => Some((RoomKind::Private, None)),
        (None, None) => None,
    };
    errs.into_result()?;
    let v = current.visitors();
    let visitors = (f.visitors_speak.is_some() || f.visitors_text.is_some() || f.visitors_pictures.is_some()).then(|| VisitorPermissions {
        speak: f.visitors_speak.unwrap_or(v.speak),
        text: f.visitors_text.unwrap_or(v.text),
        pictures: f.visitors_pictures.unwrap_or(v.pictures),
    });
    let s = rooms::Settings {
        name,
        announcement,
        greeting,
        visitors,
        hidden: f.hidden,
        apply_mode: f.apply_mode,
        seat_count,
        access,
        logo_url: None,
    };
    let done = rooms::update_settings(&state.db, room, user.id(), &s, Utc::now()).await?;
    // Fewer seats: whoever sat on a removed one speaks no more.
    for account in done.unseated {
        state.voice.apply(VoiceChange::Unseated { room, account });
    }
    Ok(done.room)
}

/// Enters a room, checking a private room's password first.
pub async fn join(state: &AppState, user: &CurrentUser, room: RoomId, password: Option<&str>) -> WebResult<presence::Joined> {
    let hash = rooms::password_hash(&state.db, room).await?;
    if let Some(hash) = hash {
        let role = rooms::role(&state.db, room, user.id()).await?;
        // Owners and admins enter their own room without the password.
        if !role.moderates() {
            let ok = platform_accounts::password::verify(password.unwrap_or_default().to_string(), Some(hash)).await;
            if !ok {
                return Err(refused("wrong_room_password", "That room password is not right"));
            }
        }
    }
    let joined = presence::join(&state.db, room, user.id(), Utc::now()).await?;
    if !joined.resumed {
        state.voice.apply(VoiceChange::Joined { room, account: user.id() });
        // A level (or VIP tier) may have the room announce the newcomer.
        rooms_store::levels::announce_entry(&state.db, room, user.id(), Utc::now()).await?;
    }
    Ok(joined)
}

pub async fn leave(state: &AppState, user: &CurrentUser, room: RoomId) -> WebResult<bool> {
    let gone = presence::leave(&state.db, room, user.id(), Utc::now()).await?;
    if gone {
        state.voice.apply(VoiceChange::Left { room, account: user.id() });
    }
    Ok(gone)
}

/// A seat or moderation action's input.
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
pub struct ActInput {
    /// The person acted on; the actor when absent.
    #[schema(value_type = Option<String>)]
    pub account: Option<AccountId>,
    pub seat: Option<i64>,
    #[serde(default)]
    pub reason: String,
}

/// Runs one seat or moderation action (`action` as in
/// `rooms_domain::moderation::Action`, plus `accept_invite`), checked on the
/// server against the actor's and target's room roles.
pub async fn act(state: &AppState, user: &CurrentUser, room: RoomId, action: &str, input: &ActInput) -> WebResult<Value> {
    let now = Utc::now();
    let db = &state.db;
    let me = user.id();
    let target = input.account.unwrap_or(me);
    let reason = input.reason.trim();
    if reason.chars().count() > 255 {
        return Err(AppError::field("reason", "A reason has at most 255 characters").into());
    }
    let a = Act { room, actor: me, reason };
    let need_seat = || input.seat.ok_or_else(|| WebError::from(AppError::field("seat", "Choose a seat")));
    let voice = |c: VoiceChange| state.voice.apply(c);
    if action == "accept_invite" {
        let seat = seats::accept_invite(db, room, me, now).await?;
        voice(VoiceChange::Seated { room, account: me });
        return Ok(json!({"seat": seat}));
    }
    let action: Action = action.parse().map_err(|_| WebError::from(AppError::NotFound))?;
    let out = match action {
        Action::TakeSeat => {
            let seat = seats::take(db, room, me, input.seat, now).await?;
            voice(VoiceChange::Seated { room, account: me });
            json!({"seat": seat})
        }
        Action::LeaveSeat => {
            let seat = seats::leave(db, room, me, now).await?;
            voice(VoiceChange::Unseated { room, account: me });
            json!({"seat": seat})
        }
        Action::RequestSeat => {
            seats::request(db, room, me, now).await?;
            json!({"requested": true})
        }
        Action::AcceptRequest => {
            let seat = seats::accept(db, a, target, input.seat, now).await?;
            voice(VoiceChange::Seated { room, account: target });
            json!({"seat": seat})
        }
        Action::Invite => json!({"expires_at": seats::invite(db, a, target, need_seat()?, now).await?}),
        Action::MoveSeat => {
            seats::move_to(db, a, target, need_seat()?, now).await?;
            json!({"seat": input.seat})
        }
        Action::Lock | Action::Unlock => {
            seats::set_locked(db, a, need_seat()?, action == Action::Lock, now).await?;
            json!({"seat": input.seat, "locked": action == Action::Lock})
        }
        Action::Mute | Action::Unmute => {
            let muted = action == Action::Mute;
            seats::set_muted(db, a, target, muted, now).await?;
            voice(if muted { VoiceChange::Muted { room, account: target } } else { VoiceChange::Unmuted { room, account: target } });
            json!({"muted": muted})
        }
        Action::RemoveFromSeat => {
            seats::remove(db, a, target, now).await?;
            voice(VoiceChange::Unseated { room, account: target });
            json!({"removed": true})
        }
        Action::Kick => {
            let until = seats::kick(db, a, target, now).await?;
            voice(VoiceChange::Kicked { room, account: target });
            json!({"until": until})
        }
        Action::Block => {
            seats::block(db, a, target, now).await?;
            voice(VoiceChange::Kicked { room, account: target });
            json!({"blocked": true})
        }
        Action::Unblock => {
            seats::unblock(db, a, target, now).await?;
            json!({"blocked": false})
        }
        Action::AppointAdmin | Action::RemoveAdmin => {
            seats::set_admin(db, a, target, action == Action::AppointAdmin, now).await?;
            json!({"admin": action == Action::AppointAdmin})
        }
        Action::Close => {
            let closed = rooms::close(db, room, me, user.is_staff(), reason, now).await?;
            if closed {
                voice(VoiceChange::RoomClosed(room));
            }
            json!({"closed": closed})
        }
        Action::EditSettings => return Err(AppError::NotFound.into()),
    };
    Ok(out)
}

/// Posts to the room chat: 1–500 characters, 60 a minute per user.
pub async fn post_chat(state: &AppState, user: &CurrentUser, room: RoomId, body: &str) -> WebResult<i64> {
    let body = r::chat_text(body)?;
    state.limits.chat.check(user.id().to_string())?;
    Ok(chat::post(&state.db, room, user.id(), &body, Utc::now()).await?)
}

/// Sends a private message (rate-limited like chat).
pub async fn send_message(state: &AppState, user: &CurrentUser, to: AccountId, body: &str) -> WebResult<i64> {
    let body = r::private_text(body)?;
    state.limits.messages.check(user.id().to_string())?;
    Ok(rooms_store::messages::send(&state.db, user.id(), to, &body, Utc::now()).await?)
}
