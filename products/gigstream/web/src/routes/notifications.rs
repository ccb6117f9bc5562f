//! Notifications: the page and API behind the bell (pages of 20, mark read,
//! mark all read), preferences per event and channel (page and JSON), web
//! push subscriptions with the VAPID key and the service worker, and the
//! signed unsubscribe link from emails (no sign-in needed).

use super::common::{FormIn, JsonIn};
use super::pages::chrome;
use crate::auth::{CsrfToken, CurrentUser, MaybeUser};
use crate::notify::check_unsubscribe;
use crate::{AppError, AppResult, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use gigstream_domain::notifications::{effective, Channel, Event, Preference};
use gigstream_store::notifications::{self as store, Notification, PushSubscription};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

const PAGE: i64 = 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(page))
        .route("/notifications/read-all", post(read_all_page))
        .route("/notifications/{seq}/read", post(read_page))
        .route("/settings/notifications", get(settings_page).post(save_settings_page))
        .route("/unsubscribe", get(unsubscribe_page).post(unsubscribe_post))
        .route("/sw.js", get(service_worker))
        .route("/api/v1/notifications", get(list_api))
        .route("/api/v1/notifications/unread", get(unread_api))
        .route("/api/v1/notifications/read-all", post(read_all_api))
        .route("/api/v1/notifications/{seq}/read", post(read_api))
        .route("/api/v1/me/notification-preferences", get(prefs_api).put(put_prefs_api))
        .route("/api/v1/push/key", get(push_key))
        .route("/api/v1/push/subscriptions", post(subscribe_api).delete(unsubscribe_api))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Before {
    before: Option<String>,
}

fn before_of(b: &Before) -> AppResult<Option<i64>> {
    match b.before.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse::<i64>().map(Some).map_err(|_| AppError::field("before", "must be a notification number")),
    }
}

fn seq_of(s: &str) -> AppResult<i64> {
    s.parse().map_err(|_| AppError::NotFound)
}

pub struct Item {
    pub seq: i64,
    pub title: String,
    pub body: String,
    pub unread: bool,
    pub at: String,
    pub when: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "notifications.html")]
struct Page {
    chrome: crate::templates::Chrome,
    items: Vec<Item>,
    unread: i64,
    older: Option<i64>,
}

async fn page(State(state): State<AppState>, csrf: CsrfToken, user: CurrentUser, Query(b): Query<Before>) -> AppResult<Response> {
    let list = store::page(&state.db, user.account.id, before_of(&b)?, PAGE).await?;
    let unread = store::unread(&state.db, user.account.id).await?;
    let older = (list.len() as i64 == PAGE).then(|| list.last().map(|n| n.seq)).flatten();
    let items = list
        .into_iter()
        .map(|n| Item {
            seq: n.seq,
            unread: n.read_at.is_none(),
            at: n.created_at.to_rfc3339(),
            when: n.created_at.format("%-d %b %Y, %H:%M UTC").to_string(),
            title: n.title,
            body: n.body,
        })
        .collect();
    Ok(Page { chrome: chrome(&csrf, Some(&user)), items, unread, older }.into_response())
}

async fn read_page(State(state): State<AppState>, user: CurrentUser, Path(seq): Path<String>) -> AppResult<Redirect> {
    let seq = seq_of(&seq)?;
    if !store::mark_read(&state.db, user.account.id, seq, Utc::now()).await? {
        return Err(AppError::NotFound);
    }
    let link = store::page(&state.db, user.account.id, Some(seq + 1), 1).await?.into_iter().find(|n| n.seq == seq).map(|n| n.link);
    Ok(Redirect::to(&link.filter(|l| l.starts_with('/')).unwrap_or_else(|| "/notifications".into())))
}

async fn read_all_page(State(state): State<AppState>, user: CurrentUser) -> AppResult<Redirect> {
    store::mark_all_read(&state.db, user.account.id, Utc::now()).await?;
    Ok(Redirect::to("/notifications"))
}

fn view(n: &Notification) -> Value {
    json!({ "seq": n.seq, "event": n.event, "title": n.title, "body": n.body, "link": n.link, "read": n.read_at.is_some(), "created_at": n.created_at })
}

async fn list_api(State(state): State<AppState>, user: CurrentUser, Query(b): Query<Before>) -> AppResult<Json<Value>> {
    let list = store::page(&state.db, user.account.id, before_of(&b)?, PAGE).await?;
    let unread = store::unread(&state.db, user.account.id).await?;
    let next = (list.len() as i64 == PAGE).then(|| list.last().map(|n| n.seq)).flatten();
    Ok(Json(json!({ "notifications": list.iter().map(view).collect::<Vec<_>>(), "unread": unread, "next_before": next })))
}

async fn unread_api(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<Value>> {
    Ok(Json(json!({ "unread": store::unread(&state.db, user.account.id).await? })))
}

async fn read_api(State(state): State<AppState>, user: CurrentUser, Path(seq): Path<String>) -> AppResult<Json<Value>> {
    if !store::mark_read(&state.db, user.account.id, seq_of(&seq)?, Utc::now()).await? {
        return Err(AppError::NotFound);
    }
    Ok(Json(json!({ "unread": store::unread(&state.db, user.account.id).await? })))
}

async fn read_all_api(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<Value>> {
    let marked = store::mark_all_read(&state.db, user.account.id, Utc::now()).await?;
    Ok(Json(json!({ "marked": marked, "unread": 0 })))
}

fn prefs_json(choices: &[Preference]) -> Value {
    json!({ "preferences": effective(choices) })
}

async fn prefs_api(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<Value>> {
    Ok(Json(prefs_json(&store::preferences(&state.db, user.account.id).await?)))
}

/// `{"preferences":[{"event","channel","enabled"}, …]}`; each bad entry is
/// named (`preferences.event`, with the entry's index), and nothing is stored unless all hold.
pub fn parse_prefs(body: &Value) -> AppResult<Vec<Preference>> {
    let list = body.get("preferences").and_then(Value::as_array).ok_or_else(|| AppError::field("preferences", "must be a list"))?;
    let mut out = vec![];
    let mut errors = platform_kernel::FieldErrors::default();
    for (i, item) in list.iter().enumerate() {
        let text = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("");
        let event = text("event").parse::<Event>();
        let channel = text("channel").parse::<Channel>();
        let enabled = item.get("enabled").and_then(Value::as_bool);
        if event.is_err() {
            errors.add("preferences.event", format!("entry {i}: unknown event; one of {}", names(Event::ALL)));
        }
        if channel.is_err() {
            errors.add("preferences.channel", format!("entry {i}: unknown channel; one of {}", names(Channel::ALL)));
        }
        if enabled.is_none() {
            errors.add("preferences.enabled", format!("entry {i}: must be true or false"));
        }
        if let (Ok(event), Ok(channel), Some(enabled)) = (event, channel, enabled) {
            out.push(Preference { event, channel, enabled });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Validation(errors))
    }
}

fn names<T: std::fmt::Display>(all: &[T]) -> String {
    all.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")
}

async fn put_prefs_api(State(state): State<AppState>, user: CurrentUser, JsonIn(body): JsonIn<Value>) -> AppResult<Json<Value>> {
    let choices = parse_prefs(&body)?;
    store::set_preferences(&state.db, user.account.id, &choices).await?;
    prefs_api(State(state), user).await
}

/// One checkbox: its field name, whether it is on, its channel's label.
type Cell = (String, bool, &'static str);

#[derive(Template, WebTemplate)]
#[template(path = "notification_settings.html")]
struct SettingsPage {
    chrome: crate::templates::Chrome,
    channels: Vec<&'static str>,
    /// (event label, [(field name, on, channel label)]).
    rows: Vec<(&'static str, Vec<Cell>)>,
    saved: bool,
    vapid_key: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Saved {
    saved: Option<String>,
}

async fn settings_page(State(state): State<AppState>, csrf: CsrfToken, user: CurrentUser, Query(s): Query<Saved>) -> AppResult<Response> {
    let all = effective(&store::preferences(&state.db, user.account.id).await?);
    let rows = Event::ALL
        .iter()
        .map(|&e| {
            let cells =
                all.iter().filter(|p| p.event == e).map(|p| (format!("{}.{}", p.event, p.channel), p.enabled, p.channel.label())).collect();
            (e.label(), cells)
        })
        .collect();
    Ok(SettingsPage {
        chrome: chrome(&csrf, Some(&user)),
        channels: Channel::ALL.iter().map(|c| c.label()).collect(),
        rows,
        saved: s.saved.is_some(),
        vapid_key: state.config.notify.vapid.public_base64(),
    }
    .into_response())
}

/// A checkbox form: every event × channel, checked means on.
async fn save_settings_page(
    State(state): State<AppState>,
    user: CurrentUser,
    FormIn(form): FormIn<HashMap<String, String>>,
) -> AppResult<Redirect> {
    let choices: Vec<Preference> = Event::ALL
        .iter()
        .flat_map(|&event| Channel::ALL.iter().map(move |&channel| (event, channel)))
        .map(|(event, channel)| Preference { event, channel, enabled: form.contains_key(&format!("{event}.{channel}")) })
        .collect();
    store::set_preferences(&state.db, user.account.id, &choices).await?;
    Ok(Redirect::to("/settings/notifications?saved=1"))
}

#[derive(Template, WebTemplate)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    chrome: crate::templates::Chrome,
    token: String,
    what: String,
    done: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Token {
    t: String,
}

fn what(event: Option<Event>) -> String {
    match event {
        Some(e) => format!("“{}”", e.label().to_lowercase()),
        None => "anything".into(),
    }
}

async fn unsubscribe_page(
    State(state): State<AppState>,
    csrf: CsrfToken,
    MaybeUser(user): MaybeUser,
    Query(t): Query<Token>,
) -> AppResult<Response> {
    let (_, event) = check_unsubscribe(&state.config.notify.link_secret, &t.t)
        .ok_or_else(|| AppError::field("t", "This unsubscribe link is not valid; open your notification settings instead."))?;
    Ok(UnsubscribePage { chrome: chrome(&csrf, user.as_ref()), token: t.t, what: what(event), done: false }.into_response())
}

async fn unsubscribe_post(
    State(state): State<AppState>,
    csrf: CsrfToken,
    MaybeUser(user): MaybeUser,
    FormIn(t): FormIn<Token>,
) -> AppResult<Response> {
    let (account, event) = check_unsubscribe(&state.config.notify.link_secret, &t.t)
        .ok_or_else(|| AppError::field("t", "This unsubscribe link is not valid; open your notification settings instead."))?;
    let events: Vec<Event> = match event {
        Some(e) => vec![e],
        None => Event::ALL.to_vec(),
    };
    let choices: Vec<Preference> = events.into_iter().map(|event| Preference { event, channel: Channel::Email, enabled: false }).collect();
    store::set_preferences(&state.db, account, &choices).await?;
    Ok(UnsubscribePage { chrome: chrome(&csrf, user.as_ref()), token: String::new(), what: what(event), done: true }.into_response())
}

async fn push_key(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "public_key": state.config.notify.vapid.public_base64() }))
}

/// The browser's `PushSubscription.toJSON()`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct BrowserSubscription {
    endpoint: String,
    keys: Keys,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Keys {
    p256dh: String,
    auth: String,
}

async fn subscribe_api(State(state): State<AppState>, user: CurrentUser, JsonIn(s): JsonIn<BrowserSubscription>) -> AppResult<Response> {
    let sub = platform_push::Subscription { endpoint: s.endpoint.trim().to_string(), p256dh: s.keys.p256dh, auth: s.keys.auth };
    if let Err(e) = sub.check() {
        let msg = e.to_string();
        let field = if msg.contains("p256dh") {
            "keys.p256dh"
        } else if msg.contains("auth:") {
            "keys.auth"
        } else {
            "endpoint"
        };
        return Err(AppError::field(field, msg.trim_start_matches("invalid subscription: ").to_string()));
    }
    let row = PushSubscription { endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth };
    store::subscribe(&state.db, user.account.id, &row, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(json!({ "subscribed": true }))).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Endpoint {
    endpoint: String,
}

async fn unsubscribe_api(State(state): State<AppState>, user: CurrentUser, JsonIn(e): JsonIn<Endpoint>) -> AppResult<StatusCode> {
    if e.endpoint.trim().is_empty() {
        return Err(AppError::field("endpoint", "is required"));
    }
    if store::unsubscribe(&state.db, user.account.id, e.endpoint.trim()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

const SERVICE_WORKER: &str = include_str!("../../assets/sw.js");

/// The service worker, served from the root so its scope is the whole site.
async fn service_worker() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], SERVICE_WORKER).into_response()
}
