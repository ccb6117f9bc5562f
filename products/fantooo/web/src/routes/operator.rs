//! The operator console (sign-in by direct URL only): the waiting room with
//! the queue, the three-panel chat console, stats and settings, and the same
//! through /api/operator/.

use super::chat::{chat_for, chat_view, ChatView};
use super::public::{LoginForm, LoginPage, NextQuery};
use crate::auth::{hash_password, ClientIp, CsrfToken, CurrentOperator};
use crate::error::{AppError, AppResult};
use crate::templates::Chrome;
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Form, Json, Router};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use fantooo_domain::chat::{Side, Viewer};
use fantooo_domain::ids::{ChatId, OperatorId};
use fantooo_domain::operations::{self as operations_rules, OperationsConfig, ReplyClock};
use fantooo_domain::{validation as v, AccountKind, FieldErrors};
use fantooo_store::operations::{self, Incident, OperatorPeriod, QualityPoint};
use fantooo_store::operators::{self, HeldChat, Operator};
use fantooo_store::profiles::{self, StaffProfile};
use fantooo_store::queue::{self, Waiting};
use fantooo_store::users::{self, User};
use fantooo_store::{accounts, chats};
use serde::Deserialize;
use serde_json::json;

const OPERATOR_LOGIN: LoginPage = LoginPage {
    kind: AccountKind::Operator,
    title: "Team sign in",
    subtitle: "Staff workspace.",
    action: "/op-login",
    login_label: "Work email",
    login_type: "email",
    show_signup: false,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/op-login", get(login).post(login_submit))
        .route("/operator", get(|| async { Redirect::to("/operator/waiting") }))
        .route("/operator/waiting", get(waiting_page))
        .route("/operator/availability", post(availability_form))
        .route("/operator/accept", post(accept_form))
        .route("/operator/chat/{id}", get(console_page))
        .route("/operator/chat/{id}/notes", post(notes_form))
        .route("/operator/chat/{id}/release", post(release_form))
        .route("/operator/stats", get(stats_page))
        .route("/operator/settings", get(settings_page).post(settings_form))
        .route("/api/operator/queue", get(api_queue))
        .route("/api/operator/availability", put(api_availability))
        .route("/api/operator/accept", post(api_accept))
        .route("/api/operator/chats/{id}/release", post(api_release))
        .route("/api/operator/chats/{id}/notes", put(api_notes))
        .route("/api/operator/stats", get(api_stats))
}

pub async fn login(csrf: CsrfToken, Query(q): Query<NextQuery>) -> Response {
    OPERATOR_LOGIN.render(&csrf, String::new(), q.next.unwrap_or_default(), String::new()).into_response()
}

pub async fn login_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    csrf: CsrfToken,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    OPERATOR_LOGIN.submit(&state, &ip, &csrf, &headers, form).await
}

// ---------------------------------------------------------------- waiting room

/// Seconds however the template hands them over (by value or reference).
trait Secs {
    fn secs(&self) -> i64;
}

impl Secs for i64 {
    fn secs(&self) -> i64 {
        *self
    }
}

impl<T: Secs + ?Sized> Secs for &T {
    fn secs(&self) -> i64 {
        (**self).secs()
    }
}

/// A queue row as the console shows it.
pub struct QueueRow {
    pub w: Waiting,
    pub priority: &'static str,
    pub waiting_secs: i64,
    pub may_take: bool,
}

/// One of the operator's own chats, with its reply clock (the idle
/// check's: from the later of the user's last message and the assignment)
/// and the user's real wait (since their oldest unanswered message).
pub struct HeldRow {
    pub c: HeldChat,
    pub waiting_secs: Option<i64>,
    pub user_waiting_secs: Option<i64>,
    pub clock: ReplyClock,
}

impl HeldRow {
    /// The list's colour: warning once the idle warning is due, idle once
    /// the chat is due to be taken away.
    pub fn state(&self) -> &'static str {
        match self.clock {
            ReplyClock::Answered | ReplyClock::Running => "active",
            ReplyClock::Warning => "warning",
            ReplyClock::Overdue => "idle",
        }
    }
}

/// The waiting room's data, shared by the page and the API.
struct Room {
    queue: Vec<QueueRow>,
    held: Vec<HeldRow>,
    queue_total: i64,
}

async fn room(state: &AppState, op: &Operator, cfg: &OperationsConfig) -> AppResult<Room> {
    let now = Utc::now();
    let waiting = queue::waiting(&state.db, now, 50).await?;
    let queue_total = queue::len(&state.db).await?;
    let queue = waiting
        .into_iter()
        .map(|w| QueueRow {
            priority: w.priority(now).as_str(),
            waiting_secs: w.waiting_secs(now),
            may_take: !w.excluded_operator_ids.0.contains(&op.id),
            w,
        })
        .collect();
    let held = operators::held_chats(&state.db, op.id)
        .await?
        .into_iter()
        .map(|c| {
            let waiting_secs = c.waiting_secs(now);
            let user_waiting_secs = c.user_waiting_secs(now).or(waiting_secs);
            HeldRow { clock: operations_rules::reply_clock(waiting_secs, cfg), c, waiting_secs, user_waiting_secs }
        })
        .collect();
    Ok(Room { queue, held, queue_total })
}

#[derive(Template, WebTemplate)]
#[template(path = "operator/waiting.html")]
struct WaitingPage {
    chrome: Chrome,
    operator: Operator,
    room: Room,
    cfg: OperationsConfig,
    notice: Option<String>,
    error: Option<String>,
}

impl WaitingPage {
    fn clock(&self, secs: impl Secs) -> String {
        operations_rules::clock_text(secs.secs())
    }
}

#[derive(Deserialize, Default)]
struct Flash {
    notice: Option<String>,
    error: Option<String>,
}

async fn waiting_page(State(state): State<AppState>, me: CurrentOperator, csrf: CsrfToken, Query(f): Query<Flash>) -> AppResult<Response> {
    let cfg = operations::config(&state.db).await?;
    let room = room(&state, &me.operator, &cfg).await?;
    Ok(WaitingPage { chrome: me.chrome(&csrf, "/operator/waiting"), operator: me.operator, room, cfg, notice: f.notice, error: f.error }
        .into_response())
}

fn back_with(path: &str, key: &str, message: &str) -> Response {
    let q = serde_urlencoded::to_string([(key, message)]).unwrap_or_default();
    Redirect::to(&format!("{path}?{q}")).into_response()
}

#[derive(Deserialize)]
struct AvailabilityInput {
    available: bool,
}

async fn set_availability(state: &AppState, op: OperatorId, available: bool) -> AppResult<()> {
    operators::set_availability(&state.db, op, available, Utc::now()).await?;
    state.realtime.written();
    if available {
        state.assigner.poke();
    }
    Ok(())
}

async fn availability_form(State(state): State<AppState>, me: CurrentOperator, Form(f): Form<AvailabilityInput>) -> AppResult<Response> {
    Ok(match set_availability(&state, me.operator.id, f.available).await {
        Ok(()) => back_with("/operator/waiting", "notice", if f.available { "You are online." } else { "You are offline." }),
        Err(AppError::Conflict(m)) => back_with("/operator/waiting", "error", &m),
        Err(e) => return Err(e),
    })
}

async fn api_availability(
    State(state): State<AppState>,
    me: CurrentOperator,
    super::api::ApiJson(f): super::api::ApiJson<AvailabilityInput>,
) -> AppResult<Json<serde_json::Value>> {
    set_availability(&state, me.operator.id, f.available).await?;
    Ok(Json(json!({ "available": f.available })))
}

#[derive(Deserialize, Default)]
struct AcceptInput {
    #[serde(default)]
    chat_id: Option<String>,
}

/// Takes the given waiting chat, or the first one this operator may take.
async fn accept(state: &AppState, me: &CurrentOperator, input: &AcceptInput) -> AppResult<Option<ChatId>> {
    let wanted = match input.chat_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(s.parse::<ChatId>().map_err(|_| AppError::field("chat_id", "Not a chat id"))?),
    };
    let op = &me.operator;
    if op.is_suspended {
        return Err(AppError::Conflict("Suspended operators cannot take chats.".into()));
    }
    if !op.is_available {
        return Err(AppError::Conflict("Go online to take chats.".into()));
    }
    if op.current_chat_count >= op.max_concurrent_chats {
        return Err(AppError::Conflict(format!("You already have {} chats, your limit.", op.current_chat_count)));
    }
    let taken = queue::take(&state.db, op.id, wanted, Utc::now()).await?;
    if taken.is_some() {
        state.realtime.written();
    }
    Ok(taken)
}

async fn accept_form(State(state): State<AppState>, me: CurrentOperator, Form(input): Form<AcceptInput>) -> AppResult<Response> {
    Ok(match accept(&state, &me, &input).await {
        Ok(Some(chat)) => Redirect::to(&format!("/operator/chat/{chat}")).into_response(),
        Ok(None) => back_with("/operator/waiting", "error", "That chat is no longer waiting."),
        Err(AppError::Conflict(m)) => back_with("/operator/waiting", "error", &m),
        Err(e) => return Err(e),
    })
}

async fn api_accept(State(state): State<AppState>, me: CurrentOperator, body: axum::body::Bytes) -> AppResult<Response> {
    // The body is optional: `{}` or nothing takes the next chat.
    let input: AcceptInput = if body.iter().all(u8::is_ascii_whitespace) {
        AcceptInput::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| AppError::BadRequest(format!("Invalid JSON body: {e}")))?
    };
    match accept(&state, &me, &input).await? {
        Some(chat) => Ok(Json(json!({ "chat_id": chat })).into_response()),
        None => Err(AppError::NotFound),
    }
}

async fn api_queue(State(state): State<AppState>, me: CurrentOperator) -> AppResult<Json<serde_json::Value>> {
    let cfg = operations::config(&state.db).await?;
    let room = room(&state, &me.operator, &cfg).await?;
    let queue: Vec<_> = room
        .queue
        .iter()
        .map(|q| {
            json!({
                "chat_id": q.w.chat_id, "user_name": q.w.user_name, "profile_name": q.w.profile_name, "user_tier": q.w.user_tier,
                "priority": q.priority, "waiting_secs": q.waiting_secs, "in_queue_secs": q.w.in_queue_secs(Utc::now()),
                "last_message": q.w.last_message, "may_take": q.may_take,
            })
        })
        .collect();
    let held: Vec<_> = room
        .held
        .iter()
        .map(|h| {
            json!({
                "chat_id": h.c.chat_id, "user_name": h.c.user_name, "profile_name": h.c.profile_name, "status": h.c.status,
                "waiting_secs": h.waiting_secs, "user_waiting_secs": h.user_waiting_secs, "state": h.state(), "clock": h.clock,
            })
        })
        .collect();
    let op = &me.operator;
    Ok(Json(json!({
        "queue": queue, "queue_total": room.queue_total, "chats": held,
        "operator": {
            "available": op.is_available, "suspended": op.is_suspended, "suspended_until": op.suspended_until,
            "quality_score": op.quality_score, "quality_threshold": op.quality_threshold,
            "current_chats": op.current_chat_count, "max_chats": op.max_concurrent_chats, "idle_incidents": op.idle_incidents,
        },
        "idle_warning_secs": cfg.idle_warning_secs, "idle_reassign_secs": cfg.idle_reassign_secs,
    })))
}

// ---------------------------------------------------------------- console

#[derive(Template, WebTemplate)]
#[template(path = "operator/chat.html")]
struct ConsolePage {
    chrome: Chrome,
    view: ChatView,
    user: User,
    profile: StaffProfile,
    staff: chats::StaffChat,
    previous: Vec<String>,
    current: String,
    notice: Option<String>,
    /// The reply clock: seconds without a reply (None: answered) and its
    /// state under the thresholds in force.
    waiting_secs: Option<i64>,
    user_waiting_secs: Option<i64>,
    clock: ReplyClock,
    cfg: OperationsConfig,
    spend: users::Spend,
    other_chats: Vec<chats::ChatSummary>,
}

impl ConsolePage {
    fn clock(&self, secs: impl Secs) -> String {
        operations_rules::clock_text(secs.secs())
    }
    fn kes(&self, cents: &i64) -> String {
        super::admin::kit::kes(*cents)
    }
}

async fn console_page(
    State(state): State<AppState>,
    me: CurrentOperator,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Query(f): Query<Flash>,
) -> AppResult<Response> {
    let id: ChatId = id.parse().map_err(|_| AppError::NotFound)?;
    let (chat, side) = chat_for(&state, Viewer::Operator(me.operator.id), id).await?;
    debug_assert_eq!(side, Side::Fictional);
    let user = users::by_id(&state.db, chat.real_user_id).await?;
    let profile = profiles::staff_view(&state.db, chat.fictional_user_id).await?;
    let staff = chats::staff_view(&state.db, id).await?;
    let mut previous = vec![];
    for op in &staff.previous_operator_ids.0 {
        previous.push(operators::by_id(&state.db, *op).await.map(|o| o.name).unwrap_or_else(|_| "former operator".into()));
    }
    let since = staff.assignment_time.map(|t| format!("since {}", t.format("%H:%M"))).unwrap_or_default();
    let current = format!("{} {since}", me.operator.name);
    let view = chat_view(&state, chat, side, None, None, String::new()).await?;
    let cfg = operations::config(&state.db).await?;
    let now = Utc::now();
    let held = operators::held_chat(&state.db, me.operator.id, id).await?;
    let waiting_secs = held.waiting_secs(now);
    let user_waiting_secs = held.user_waiting_secs(now).or(waiting_secs);
    let spend = users::spend(&state.db, user.id).await?;
    let other_chats = chats::list_for_user(&state.db, user.id, 21).await?.into_iter().filter(|c| c.id != id).take(20).collect();
    Ok(ConsolePage {
        chrome: me.chrome(&csrf, "/operator/chat"),
        view,
        user,
        profile,
        staff,
        previous,
        current,
        notice: f.notice,
        waiting_secs,
        user_waiting_secs,
        clock: operations_rules::reply_clock(waiting_secs, &cfg),
        cfg,
        spend,
        other_chats,
    }
    .into_response())
}

#[derive(Deserialize)]
struct NotesInput {
    #[serde(default)]
    user_notes: Option<String>,
    #[serde(default)]
    profile_notes: Option<String>,
}

fn clean_notes(field: &'static str, raw: Option<&str>) -> AppResult<Option<Option<String>>> {
    let Some(raw) = raw else { return Ok(None) };
    let t = raw.trim();
    if t.chars().count() > 5_000 {
        return Err(AppError::field(field, "Notes are limited to 5000 characters"));
    }
    Ok(Some((!t.is_empty()).then(|| t.to_string())))
}

async fn save_notes(state: &AppState, me: &CurrentOperator, id: ChatId, input: &NotesInput) -> AppResult<()> {
    let (chat, _) = chat_for(state, Viewer::Operator(me.operator.id), id).await?;
    let user_notes = clean_notes("user_notes", input.user_notes.as_deref())?;
    let profile_notes = clean_notes("profile_notes", input.profile_notes.as_deref())?;
    if let Some(n) = user_notes {
        chats::set_operator_notes(&state.db, id, n.as_deref()).await?;
    }
    if let Some(n) = profile_notes {
        profiles::set_operator_notes(&state.db, chat.fictional_user_id, n.as_deref()).await?;
    }
    Ok(())
}

async fn notes_form(
    State(state): State<AppState>,
    me: CurrentOperator,
    Path(id): Path<String>,
    Form(input): Form<NotesInput>,
) -> AppResult<Response> {
    let id: ChatId = id.parse().map_err(|_| AppError::NotFound)?;
    save_notes(&state, &me, id, &input).await?;
    Ok(back_with(&format!("/operator/chat/{id}"), "notice", "Notes saved."))
}

async fn api_notes(
    State(state): State<AppState>,
    me: CurrentOperator,
    Path(id): Path<String>,
    super::api::ApiJson(input): super::api::ApiJson<NotesInput>,
) -> AppResult<Json<serde_json::Value>> {
    let id: ChatId = id.parse().map_err(|_| AppError::NotFound)?;
    save_notes(&state, &me, id, &input).await?;
    let staff = chats::staff_view(&state.db, id).await?;
    Ok(Json(json!({ "user_notes": staff.operator_notes })))
}

async fn release(state: &AppState, me: &CurrentOperator, id: &str) -> AppResult<ChatId> {
    let id: ChatId = id.parse().map_err(|_| AppError::NotFound)?;
    chat_for(state, Viewer::Operator(me.operator.id), id).await?;
    queue::release(&state.db, id, me.operator.id, Utc::now()).await?;
    state.realtime.written();
    state.assigner.poke();
    Ok(id)
}

async fn release_form(State(state): State<AppState>, me: CurrentOperator, Path(id): Path<String>) -> AppResult<Response> {
    Ok(match release(&state, &me, &id).await {
        Ok(_) => back_with("/operator/waiting", "notice", "Chat handed back."),
        Err(AppError::Conflict(m)) => back_with(&format!("/operator/chat/{id}"), "notice", &m),
        Err(e) => return Err(e),
    })
}

async fn api_release(State(state): State<AppState>, me: CurrentOperator, Path(id): Path<String>) -> AppResult<Json<serde_json::Value>> {
    let id = release(&state, &me, &id).await?;
    Ok(Json(json!({ "released": id })))
}

// ---------------------------------------------------------------- stats

#[derive(Deserialize, Default)]
struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

/// A validated date range (inclusive days), 30 days by default, at most a year.
fn range(q: &RangeQuery) -> Result<(NaiveDate, NaiveDate), FieldErrors> {
    let today = Utc::now().date_naive();
    let mut errs = FieldErrors::new();
    let parse = |field: &'static str, raw: Option<&str>, default: NaiveDate, errs: &mut FieldErrors| match raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => default,
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|_| {
            errs.add(field, "Use a date like 2026-11-25");
            default
        }),
    };
    let to = parse("to", q.to.as_deref(), today, &mut errs);
    let from = parse("from", q.from.as_deref(), to - Duration::days(29), &mut errs);
    if errs.is_empty() && from > to {
        errs.add("from", "The start must not be after the end");
    }
    if errs.is_empty() && (to - from).num_days() > 366 {
        errs.add("from", "Choose at most a year");
    }
    errs.into_result().map(|()| (from, to))
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

/// The quality trend as an SVG polyline in a 600×160 box.
pub fn trend_points(points: &[QualityPoint], from: NaiveDate, to: NaiveDate) -> String {
    let days = (to - from).num_days().max(1) as f64;
    points
        .iter()
        .map(|p| {
            let x = 40.0 + (p.day - from).num_days() as f64 / days * 550.0;
            let y = 150.0 - p.quality_score.clamp(0.0, 100.0) * 1.4;
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Template, WebTemplate)]
#[template(path = "operator/stats.html")]
struct StatsPage {
    chrome: Chrome,
    operator: Operator,
    from: NaiveDate,
    to: NaiveDate,
    period: OperatorPeriod,
    trend: Vec<QualityPoint>,
    trend_svg: String,
    threshold_y: f64,
    incidents: Vec<Incident>,
    errors: FieldErrors,
}

async fn stats_page(
    State(state): State<AppState>,
    me: CurrentOperator,
    csrf: CsrfToken,
    Query(q): Query<RangeQuery>,
) -> AppResult<Response> {
    let (errors, (from, to)) = match range(&q) {
        Ok(r) => (FieldErrors::new(), r),
        Err(e) => (e, range(&RangeQuery::default()).expect("default range")),
    };
    let period = operations::operator_period(&state.db, me.operator.id, day_start(from), day_start(to) + Duration::days(1)).await?;
    let trend = operations::quality_trend(&state.db, me.operator.id, from, to).await?;
    let trend_svg = trend_points(&trend, from, to);
    let threshold_y = 150.0 - me.operator.quality_threshold.clamp(0.0, 100.0) * 1.4;
    let incidents = operations::incidents(&state.db, me.operator.id, 20).await?;
    let status = if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::UNPROCESSABLE_ENTITY };
    Ok((
        status,
        StatsPage {
            chrome: me.chrome(&csrf, "/operator/stats"),
            operator: me.operator,
            from,
            to,
            period,
            trend,
            trend_svg,
            threshold_y,
            incidents,
            errors,
        },
    )
        .into_response())
}

async fn api_stats(State(state): State<AppState>, me: CurrentOperator, Query(q): Query<RangeQuery>) -> AppResult<Json<serde_json::Value>> {
    let (from, to) = range(&q)?;
    let period = operations::operator_period(&state.db, me.operator.id, day_start(from), day_start(to) + Duration::days(1)).await?;
    let trend = operations::quality_trend(&state.db, me.operator.id, from, to).await?;
    let op = &me.operator;
    Ok(Json(json!({
        "from": from, "to": to, "period": period, "quality_trend": trend,
        "quality_score": op.quality_score, "quality_threshold": op.quality_threshold, "idle_incidents": op.idle_incidents,
        "average_rating": (op.total_ratings > 0).then_some(op.average_user_rating), "total_ratings": op.total_ratings,
    })))
}

// ---------------------------------------------------------------- settings

pub const SPECIALIZATIONS: &[&str] = &["flirty", "romantic", "friendly", "intellectual", "playful"];

#[derive(Template, WebTemplate)]
#[template(path = "operator/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    operator: Operator,
    errors: FieldErrors,
    saved: bool,
}

impl SettingsPage {
    fn has(&self, s: &&str) -> bool {
        self.operator.specializations.0.iter().any(|x| x == s)
    }
    fn err(&self, field: &str) -> &str {
        self.errors.for_field(field).unwrap_or("")
    }
}

#[derive(Deserialize, Default)]
struct SavedQuery {
    saved: Option<String>,
}

async fn settings_page(me: CurrentOperator, csrf: CsrfToken, Query(q): Query<SavedQuery>) -> AppResult<Response> {
    Ok(SettingsPage {
        chrome: me.chrome(&csrf, "/operator/settings"),
        operator: me.operator,
        errors: FieldErrors::new(),
        saved: q.saved.is_some(),
    }
    .into_response())
}

async fn settings_form(
    State(state): State<AppState>,
    me: CurrentOperator,
    csrf: CsrfToken,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str()).unwrap_or("");
    let mut errors = FieldErrors::new();
    let specs: Vec<String> = pairs.iter().filter(|(k, _)| k == "specializations").map(|(_, v)| v.clone()).collect();
    if specs.iter().any(|s| !SPECIALIZATIONS.contains(&s.as_str())) {
        errors.add("specializations", "Choose from the listed styles");
    }
    let new_password = get("new_password");
    if !new_password.is_empty() {
        if let Err(e) = v::password(new_password) {
            errors.add("new_password", e.message);
        }
        if new_password != get("new_password_confirm") {
            errors.add("new_password_confirm", "Passwords do not match");
        }
        let stored = accounts::password_hash(&state.db, me.operator.account_id).await?;
        if !platform_accounts::password::verify(get("current_password").to_string(), Some(stored)).await {
            errors.add("current_password", "Your current password is not correct");
        }
    }
    if !errors.is_empty() {
        let page = SettingsPage { chrome: me.chrome(&csrf, "/operator/settings"), operator: me.operator, errors, saved: false };
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    operators::set_skills(&state.db, me.operator.id, &specs, &me.operator.languages.0).await?;
    if !new_password.is_empty() {
        let hash = hash_password(new_password.to_string(), state.config.fast_password_hashing).await?;
        accounts::set_password(&state.db, me.operator.account_id, &hash, &me.session.token).await?;
        state.sign_in_changed(Some(me.operator.account_id));
    }
    Ok(Redirect::to("/operator/settings?saved=1").into_response())
}
