//! Rooms' back office on the platform's shell (`platform_backoffice`):
//! the live figures with a server-side SVG chart, system health and alerts,
//! users (search, balances, adjustments through the ledger, suspension,
//! activity and transactions), every ledger movement, the gift catalogue
//! and rooms with their statistics. Pages under `/backoffice`, the same
//! actions as JSON under `/api/v1/admin/…` (documented with the rest of
//! the API). Each handler checks one staff permission first
//! (`rooms_domain::staff`); each change writes its platform-audit entry in
//! its own transaction (`rooms_store::backoffice`).

use crate::auth::CurrentUser;
use crate::error::{AppError, WebError, WebResult};
use crate::AppState;
use askama::Template;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use platform_backoffice::forms::{with_param, Flash, Input, Via};
use platform_backoffice::keyset::{Cursor, Direction, KeysetPage, Page, Pager};
use platform_backoffice::shell::{self, Cell, Confirm, FilterField, Filters, ListPage, Shell, Table};
use platform_web::request::CsrfToken;
use rooms_domain::account::AccountStatus;
use rooms_domain::ids::{AccountId, GiftId};
use rooms_domain::staff::{self, StaffPermission};
use rooms_store::backoffice::{self as bo, At};
use rooms_store::{accounts, economy, gifts};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const CSS: &str = include_str!("../assets/rooms-backoffice.css");
const PAGE_ROWS: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/backoffice", get(overview_page))
        .route("/backoffice/users", get(users_page))
        .route("/backoffice/users/{id}", get(user_page))
        .route("/backoffice/users/{id}/adjust", post(adjust))
        .route("/backoffice/users/{id}/status", post(set_status))
        .route("/backoffice/transactions", get(transactions_page))
        .route("/backoffice/gifts", get(gifts_page).post(save_new_gift))
        .route("/backoffice/gifts/new", get(new_gift_page))
        .route("/backoffice/gifts/{id}", get(gift_page).post(save_gift))
        .route("/backoffice/gifts/{id}/retire", post(retire_gift))
        .route("/backoffice/rooms", get(rooms_page))
        .route("/backoffice/audit", get(audit_page))
        .route("/backoffice/assets/shell.css", get(shell::stylesheet))
        .route("/backoffice/assets/rooms-backoffice.css", get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS) }))
}

/// The back office's JSON API, described by each handler's `#[utoipa::path]`.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(figures_api))
        .routes(routes!(health_api))
        .routes(routes!(users_api))
        .routes(routes!(user_api))
        .routes(routes!(adjust_api))
        .routes(routes!(transactions_api))
        .routes(routes!(gifts_api, create_gift_api))
        .routes(routes!(update_gift_api))
        .routes(routes!(retire_gift_api))
        .routes(routes!(rooms_api))
}

// ------------------------------------------------------------ who is asking

/// A signed-in account whose platform role opens the back office, with
/// its permissions.
pub struct BackOffice {
    pub user: CurrentUser,
    pub permissions: platform_roles::PermissionSet<StaffPermission>,
}

impl BackOffice {
    /// The one check each handler makes first.
    pub fn require(&self, p: StaffPermission) -> WebResult<()> {
        platform_roles::require(&self.permissions, p).map_err(|_| AppError::Forbidden.into())
    }
    fn can(&self, p: StaffPermission) -> bool {
        self.permissions.contains(p)
    }
    fn id(&self) -> AccountId {
        self.user.id()
    }
}

impl FromRequestParts<AppState> for BackOffice {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        if !staff::is_back_office(user.account.role) {
            return Err(AppError::Forbidden.into());
        }
        let permissions = staff::permissions(user.account.role);
        Ok(BackOffice { user, permissions })
    }
}

/// The shell around a page, its navigation filtered by permission.
pub(crate) fn shell_for(me: &BackOffice, csrf: &CsrfToken, title: &str, path: &str, flash: Flash) -> Shell {
    let all: [(&str, &str, StaffPermission); 9] = [
        ("Overview", "/backoffice", StaffPermission::ViewOperations),
        ("Users", "/backoffice/users", StaffPermission::ViewUsers),
        ("Transactions", "/backoffice/transactions", StaffPermission::ViewTransactions),
        ("Gifts", "/backoffice/gifts", StaffPermission::ManageGifts),
        ("Rooms", "/backoffice/rooms", StaffPermission::ViewOperations),
        ("Agencies", "/backoffice/agencies", StaffPermission::ManageUsers),
        ("Exchanges", "/backoffice/exchanges", StaffPermission::ManageExchanges),
        ("Audit log", "/backoffice/audit", StaffPermission::ViewAudit),
        ("Staff basics", "/admin", StaffPermission::ManageUsers),
    ];
    let items: Vec<(&str, &str)> = all.iter().filter(|(_, _, p)| me.can(*p)).map(|(l, h, _)| (*l, *h)).collect();
    Shell {
        product: "Rooms back office".into(),
        title: title.into(),
        home: "/backoffice".into(),
        stylesheet: "/backoffice/assets/shell.css".into(),
        nav: shell::nav(&items, path),
        flash,
        who: format!("{} · {}", me.user.account.display_name, me.user.account.role),
        csrf_token: csrf.0.clone(),
        logout: "/signout".into(),
    }
}

fn html<T: Template>(t: T) -> WebResult<Response> {
    Ok(Html(t.render().map_err(|e| AppError::Internal(e.to_string()))?).into_response())
}

fn ok(v: Value) -> Response {
    axum::Json(v).into_response()
}

/// A keyset page position from `?before=`/`?after=` over an integer key.
fn at(page: &Page) -> WebResult<(At, Direction)> {
    let d = page.direction()?;
    let at = match &d {
        Direction::First => At::First,
        Direction::Before(c) => At::Before(c.key_as("before")?),
        Direction::After(c) => At::After(c.key_as("after")?),
    };
    Ok((at, d))
}

fn given(v: &Option<String>) -> String {
    v.as_deref().map(str::trim).unwrap_or_default().to_string()
}

// ------------------------------------------------------- figures and health

/// One health check.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Health {
    pub checks: Vec<Check>,
    /// What needs staff attention now.
    pub alerts: Vec<String>,
}

/// Database (a round trip), voice servers (configured and reachable as the
/// voice seam sees them), the job runner (each job's last run and error),
/// and the ledger's invariants.
pub async fn health(s: &AppState) -> Health {
    let mut checks = vec![];
    let mut alerts = vec![];
    let t = std::time::Instant::now();
    let db_ok = s.db.ping().await.is_ok();
    checks.push(Check {
        name: "database",
        ok: db_ok,
        detail: format!("{} in {} ms", if db_ok { "answers" } else { "does not answer" }, t.elapsed().as_millis()),
    });
    if !db_ok {
        alerts.push("The database does not answer.".into());
    }
    let voice = s.voice.available();
    checks.push(Check {
        name: "voice",
        ok: voice,
        detail: if voice {
            "Janus configured and answering".into()
        } else {
            "voice is unavailable (no Janus configured or reachable)".into()
        },
    });
    if !voice {
        alerts.push("Voice is unavailable: rooms work without audio.".into());
    }
    match platform_jobs::runs::latest(&s.db).await {
        Ok(runs) => {
            let failed: Vec<String> = runs
                .iter()
                .filter_map(|r| r.error.as_ref().map(|e| format!("Job {} failed at {}: {e}", r.job, r.started_at.format("%H:%M"))))
                .collect();
            let detail = if runs.is_empty() {
                "no job has run yet".to_string()
            } else {
                runs.iter().map(|r| format!("{} {}", r.job, r.started_at.format("%H:%M:%S"))).collect::<Vec<_>>().join(", ")
            };
            checks.push(Check { name: "jobs", ok: failed.is_empty(), detail });
            alerts.extend(failed);
        }
        Err(e) => checks.push(Check { name: "jobs", ok: false, detail: e.to_string() }),
    }
    match rooms_store::check::run(&s.db).await {
        Ok(problems) if problems.is_empty() => checks.push(Check { name: "ledger", ok: true, detail: "invariants hold".into() }),
        Ok(problems) => {
            checks.push(Check { name: "ledger", ok: false, detail: format!("{} invariant violations", problems.len()) });
            alerts.extend(problems.into_iter().take(5).map(|(name, n)| format!("Invariant violated: {name} ({n})")));
        }
        Err(e) => checks.push(Check { name: "ledger", ok: false, detail: e.to_string() }),
    }
    Health { checks, alerts }
}

#[derive(Template)]
#[template(path = "backoffice_rooms/overview.html")]
struct OverviewPage {
    shell: Shell,
    f: bo::Figures,
    last_minute: i64,
    revenue: String,
    chart: String,
    health: Health,
}

fn revenue_text(r: &[(String, i64)]) -> String {
    if r.is_empty() {
        return "0".into();
    }
    r.iter()
        .map(|(c, minor)| format!("{} {}", c, platform_payments::currency::to_decimal(*minor, platform_payments::currency::exponent(c))))
        .collect::<Vec<_>>()
        .join(" · ")
}

async fn overview_page(State(s): State<AppState>, me: BackOffice, csrf: CsrfToken, Query(flash): Query<Flash>) -> WebResult<Response> {
    me.require(StaffPermission::ViewOperations)?;
    let now = Utc::now();
    let f = bo::figures(&s.db, now).await?;
    let labels: Vec<String> =
        (0..f.gifts_per_minute.len()).map(|i| (now - chrono::Duration::minutes(30 - i as i64)).format("%H:%M").to_string()).collect();
    let values: Vec<f64> = f.gifts_per_minute.iter().map(|n| *n as f64).collect();
    let chart = platform_backoffice::charts::bars("Gifts per minute", &labels, &values);
    let last_minute = f.gifts_per_minute.last().copied().unwrap_or(0);
    let revenue = revenue_text(&f.revenue_today);
    let health = health(&s).await;
    html(OverviewPage { shell: shell_for(&me, &csrf, "Overview", "/backoffice", flash), f, last_minute, revenue, chart, health })
}

/// The live figures.
#[utoipa::path(get, path = "/api/v1/admin/figures", tag = "back office", security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{at, rooms_open, listeners, active_users_today, gifts_per_minute: [count], coins_spent_today, revenue_today: [[currency, minor]]}`: `gifts_per_minute` holds 30 counts, oldest first"),
              (status = 403, description = "Needs view_operations")))]
async fn figures_api(State(s): State<AppState>, me: BackOffice) -> WebResult<Response> {
    me.require(StaffPermission::ViewOperations)?;
    Ok(ok(json!(bo::figures(&s.db, Utc::now()).await?)))
}

/// System health and alerts.
#[utoipa::path(get, path = "/api/v1/admin/health", tag = "back office", security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{checks: [{name, ok, detail}], alerts: [text]}`: database, voice, jobs, ledger"),
              (status = 403, description = "Needs view_operations")))]
async fn health_api(State(s): State<AppState>, me: BackOffice) -> WebResult<Response> {
    me.require(StaffPermission::ViewOperations)?;
    Ok(ok(json!(health(&s).await)))
}

// -------------------------------------------------------------------- users

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of a handle or name, or a public number.
    q: Option<String>,
    /// active, suspended or banned.
    status: Option<String>,
    /// Page cursors from a previous answer.
    before: Option<String>,
    after: Option<String>,
}

async fn user_rows(s: &AppState, q: &UserQuery) -> WebResult<KeysetPage<bo::UserRow>> {
    let status = match given(&q.status).as_str() {
        "" => None,
        v => Some(v.parse::<AccountStatus>().map_err(|_| AppError::field("status", "Choose active, suspended or banned."))?),
    };
    let (at, d) = at(&Page { before: q.before.clone(), after: q.after.clone() })?;
    let rows = bo::users(&s.db, &given(&q.q), status, at, PAGE_ROWS).await?;
    Ok(KeysetPage::from_rows(rows, &d, PAGE_ROWS as usize, |u: &bo::UserRow| Cursor::new(u.public_number, u.id)))
}

fn pager_json<T>(p: &KeysetPage<T>) -> Value {
    json!({"newer": p.newer.as_ref().map(Cursor::encode), "older": p.older.as_ref().map(Cursor::encode)})
}

async fn users_page(State(s): State<AppState>, me: BackOffice, csrf: CsrfToken, Query(q): Query<UserQuery>) -> WebResult<Response> {
    me.require(StaffPermission::ViewUsers)?;
    let page = user_rows(&s, &q).await?;
    let (text, status) = (given(&q.q), given(&q.status));
    let filters = Filters {
        action: "/backoffice/users".into(),
        fields: vec![
            FilterField::input("q", "Handle, name or number", "search", &text),
            FilterField::select(
                "status",
                "Status",
                &status,
                &[("", "Any"), ("active", "Active"), ("suspended", "Suspended"), ("banned", "Banned")],
            ),
        ],
    };
    let table = Table {
        columns: ["Number", "Name", "Role", "Status", "Coins", "Diamonds", "Joined"].map(String::from).to_vec(),
        rows: page
            .items
            .iter()
            .map(|u| {
                vec![
                    Cell::link(u.public_number.to_string(), format!("/backoffice/users/{}", u.id)),
                    Cell::text(format!("{} @{}", u.display_name, u.handle)),
                    Cell::text(u.role.to_string()),
                    Cell::text(u.status.to_string()),
                    Cell::mono(u.coins.to_string()),
                    Cell::mono(u.diamonds.to_string()),
                    Cell::text(u.created_at.format("%Y-%m-%d").to_string()),
                ]
            })
            .collect(),
        empty: "No user matches.".into(),
        keys: page.items.iter().map(|u| u.handle.clone()).collect(),
    };
    let pager = page.pager("/backoffice/users", &[("q", &text), ("status", &status)]);
    let flash = Flash::default();
    Ok(ListPage { shell: shell_for(&me, &csrf, "Users", "/backoffice/users", flash), filters, table, pager }.response()?)
}

/// Users with their balances.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "back office", params(UserQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{users: [{id, public_number, handle, display_name, role, status, coins, diamonds, …}], newer, older}`"),
              (status = 403, description = "Needs view_users")))]
async fn users_api(State(s): State<AppState>, me: BackOffice, Query(q): Query<UserQuery>) -> WebResult<Response> {
    me.require(StaffPermission::ViewUsers)?;
    let page = user_rows(&s, &q).await?;
    Ok(ok(json!({"users": page.items, "pager": pager_json(&page)})))
}

#[derive(Template)]
#[template(path = "backoffice_rooms/user.html")]
struct UserPage {
    shell: Shell,
    u: accounts::Account,
    coins: i64,
    diamonds: i64,
    can_adjust: bool,
    can_manage: bool,
    /// A fresh idempotency key for the adjustment form.
    key: String,
    movements: Table,
    activity: Table,
}

fn movement_row(m: &bo::Movement) -> Vec<Cell> {
    vec![
        Cell::text(m.created_at.format("%Y-%m-%d %H:%M:%S").to_string()),
        Cell::text(format!("{} {}", m.owner_kind, m.owner_id)),
        Cell::text(m.unit.clone()),
        Cell::mono(format!("{:+}", m.delta)),
        Cell::mono(m.balance_after.to_string()),
        Cell::text(m.reason.clone()),
        Cell::text(m.reference.clone().unwrap_or_default()),
    ]
}

const MOVEMENT_COLUMNS: [&str; 7] = ["When (UTC)", "Wallet", "Unit", "Change", "Balance after", "Reason", "Reference"];

async fn user_page(
    State(s): State<AppState>,
    me: BackOffice,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> WebResult<Response> {
    me.require(StaffPermission::ViewUsers)?;
    let id: AccountId = platform_backoffice::forms::id(&id)?;
    let u = accounts::by_id(&s.db, id).await?.ok_or(AppError::NotFound)?;
    let b = economy::balances(&s.db, id).await?;
    let f = bo::Movements { account: Some(id.to_string()), ..Default::default() };
    let mut moves = if me.can(StaffPermission::ViewTransactions) { bo::movements(&s.db, &f, At::First, 20).await? } else { vec![] };
    moves.truncate(20);
    let movements = Table {
        columns: MOVEMENT_COLUMNS.map(String::from).to_vec(),
        rows: moves.iter().map(movement_row).collect(),
        empty: "No transactions.".into(),
        keys: vec![],
    };
    let who = id.to_string();
    let filter = platform_audit::Filter { subject_id: Some(&who), ..Default::default() };
    let entries = platform_audit::list(&s.db, &filter, platform_audit::Position::Newest, 20).await?.entries;
    let activity = Table {
        columns: ["When (UTC)", "Who", "Action", "Changes", "Reason"].map(String::from).to_vec(),
        rows: entries
            .iter()
            .map(|e| {
                let changes = platform_audit::changes(e.before_value.as_deref(), e.after_value.as_deref());
                vec![
                    Cell::text(e.at.format("%Y-%m-%d %H:%M:%S").to_string()),
                    Cell::mono(format!("{} {}", e.actor_kind, e.actor_id.clone().unwrap_or_default())),
                    Cell::text(e.action.clone()),
                    Cell::lines("", changes.iter().map(ToString::to_string).collect()),
                    Cell::text(e.reason.clone().unwrap_or_default()),
                ]
            })
            .collect(),
        empty: "No staff action recorded about this user yet.".into(),
        keys: entries.iter().map(|e| e.action.clone()).collect(),
    };
    let title = format!("User {}", u.public_number);
    html(UserPage {
        shell: shell_for(&me, &csrf, &title, "/backoffice/users", flash),
        coins: b.coins,
        diamonds: b.diamonds,
        can_adjust: me.can(StaffPermission::AdjustBalances),
        can_manage: me.can(StaffPermission::ManageUsers),
        key: platform_accounts::random_token(),
        u,
        movements,
        activity,
    })
}

/// One user with balances.
#[utoipa::path(get, path = "/api/v1/admin/users/{id}", tag = "back office", params(("id" = String, Path, description = "Account id")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{account, balances: {coins, diamonds}}`"), (status = 404, description = "No such account")))]
async fn user_api(State(s): State<AppState>, me: BackOffice, Path(id): Path<String>) -> WebResult<Response> {
    me.require(StaffPermission::ViewUsers)?;
    let id: AccountId = platform_backoffice::forms::id(&id)?;
    let u = accounts::by_id(&s.db, id).await?.ok_or(AppError::NotFound)?;
    Ok(ok(json!({"account": u, "balances": economy::balances(&s.db, id).await?})))
}

/// A balance adjustment, from the page form or JSON.
#[derive(Deserialize, ToSchema)]
pub struct AdjustInput {
    /// `coins` or `diamonds`.
    unit: Option<String>,
    /// A whole number other than 0; negative takes back (never below zero).
    #[schema(value_type = i64)]
    amount: Option<String>,
    /// Why; kept with the ledger entry and the audit entry.
    reason: Option<String>,
    /// Makes a retry harmless: one adjustment per key.
    key: Option<String>,
}

async fn do_adjust(s: &AppState, me: &BackOffice, id: AccountId, f: &AdjustInput) -> WebResult<bo::Adjusted> {
    me.require(StaffPermission::AdjustBalances)?;
    let mut errs = platform_kernel::FieldErrors::new();
    let unit = bo::unit_named(&given(&f.unit));
    if unit.is_none() {
        errs.add("unit", "Choose coins or diamonds.");
    }
    let amount = given(&f.amount).parse::<i64>().ok().filter(|a| *a != 0 && a.unsigned_abs() <= 1_000_000_000);
    if amount.is_none() {
        errs.add("amount", "Enter a whole number other than 0, at most 1,000,000,000 either way.");
    }
    let reason = given(&f.reason);
    if reason.is_empty() || reason.chars().count() > 200 {
        errs.add("reason", "Give a reason of at most 200 characters.");
    }
    let (Some(unit), Some(delta)) = (unit, amount) else { return Err(errs.into()) };
    errs.into_result()?;
    let key = Some(given(&f.key)).filter(|k| !k.is_empty()).unwrap_or_else(platform_accounts::random_token);
    let a = bo::Adjust { staff: me.id(), account: id, unit, delta, reason: &reason, key: &key };
    let unit_name = if a.unit == economy::coins() { "coins" } else { "diamonds" };
    bo::adjust(&s.db, &a, Utc::now()).await.map_err(|e| crate::economy::money(e, unit_name))
}

async fn adjust(State(s): State<AppState>, me: BackOffice, Path(id): Path<String>, Input(f): Input<AdjustInput>) -> WebResult<Response> {
    let id: AccountId = platform_backoffice::forms::id(&id)?;
    let back = format!("/backoffice/users/{id}");
    match do_adjust(&s, &me, id, &f).await {
        Ok(a) if a.duplicate => Ok(Redirect::to(&with_param(&back, "notice", "Already applied.")).into_response()),
        Ok(a) => Ok(Redirect::to(&with_param(&back, "notice", &format!("Adjusted by {:+} {}: balance {}.", a.delta, a.unit, a.balance)))
            .into_response()),
        Err(WebError::App(e @ (AppError::Validation(_) | AppError::Insufficient { .. }))) => {
            Ok(Redirect::to(&with_param(&back, "error", &e.body().message)).into_response())
        }
        Err(e) => Err(e),
    }
}

/// Credits or debits a user's coins or diamonds through the ledger.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/adjust", tag = "back office", params(("id" = String, Path, description = "Account id")),
    request_body = AdjustInput, security(("bearer" = []), ("session" = [])),
    responses((status = 201, description = "`{adjustment: {duplicate, unit, delta, balance}}`"),
              (status = 200, description = "The same key again: nothing more moved (`duplicate: true`)"),
              (status = 402, description = "A debit larger than the balance: `insufficient_coins` with `required` and `available`; nothing written"),
              (status = 403, description = "Needs adjust_balances"), (status = 404, description = "No such account")))]
async fn adjust_api(
    State(s): State<AppState>,
    me: BackOffice,
    Path(id): Path<String>,
    Input(f): Input<AdjustInput>,
) -> WebResult<Response> {
    let id: AccountId = platform_backoffice::forms::id(&id)?;
    let a = do_adjust(&s, &me, id, &f).await?;
    let status = if a.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, axum::Json(json!({"adjustment": a}))).into_response())
}

#[derive(Deserialize)]
struct StatusInput {
    status: Option<String>,
    reason: Option<String>,
    confirm: Option<String>,
}

/// Suspend, ban or reinstate from the user's page (a suspension or ban is
/// confirmed first).
async fn set_status(
    State(s): State<AppState>,
    me: BackOffice,
    via: Via,
    Path(id): Path<String>,
    Input(f): Input<StatusInput>,
) -> WebResult<Response> {
    me.require(StaffPermission::ManageUsers)?;
    let id: AccountId = platform_backoffice::forms::id(&id)?;
    let outcome = async {
        let status: AccountStatus =
            given(&f.status).parse().map_err(|_| AppError::field("status", "Choose active, suspended or banned."))?;
        let reason = given(&f.reason);
        if status != AccountStatus::Active {
            shell::confirmed(f.confirm.as_deref())?;
            if reason.is_empty() {
                return Err(AppError::field("reason", "Give a reason; the user sees it at sign-in."));
            }
        }
        accounts::set_status(&s.db, me.id(), id, status, &reason, Utc::now()).await?;
        s.sign_in_changed(id);
        Ok((format!("Status set to {status}."), json!({"status": status})))
    }
    .await;
    Ok(via.finish(&format!("/backoffice/users/{id}"), outcome)?)
}

// ------------------------------------------------------------- transactions

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TxQuery {
    /// coins or diamonds.
    unit: Option<String>,
    /// A ledger reason (purchase, gift, transfer, staff_adjustment, …).
    reason: Option<String>,
    /// An account id: its movements only.
    account: Option<String>,
    before: Option<String>,
    after: Option<String>,
}

async fn tx_rows(s: &AppState, q: &TxQuery) -> WebResult<KeysetPage<bo::Movement>> {
    let unit = given(&q.unit);
    if !unit.is_empty() && bo::unit_named(&unit).is_none() {
        return Err(AppError::field("unit", "Choose coins or diamonds.").into());
    }
    let account = given(&q.account);
    if !account.is_empty() && account.parse::<AccountId>().is_err() {
        return Err(AppError::field("account", "Give an account id.").into());
    }
    let nonempty = |v: String| Some(v).filter(|v| !v.is_empty());
    let f = bo::Movements { unit: nonempty(unit), reason: nonempty(given(&q.reason)), account: nonempty(account) };
    let (at, d) = at(&Page { before: q.before.clone(), after: q.after.clone() })?;
    let rows = bo::movements(&s.db, &f, at, PAGE_ROWS).await?;
    Ok(KeysetPage::from_rows(rows, &d, PAGE_ROWS as usize, |m: &bo::Movement| Cursor::new(m.seq, m.seq)))
}

async fn transactions_page(State(s): State<AppState>, me: BackOffice, csrf: CsrfToken, Query(q): Query<TxQuery>) -> WebResult<Response> {
    me.require(StaffPermission::ViewTransactions)?;
    let page = tx_rows(&s, &q).await?;
    let reasons = bo::reasons(&s.db).await?;
    let mut choices: Vec<(&str, &str)> = vec![("", "Any")];
    choices.extend(reasons.iter().map(|r| (r.as_str(), r.as_str())));
    let (unit, reason, account) = (given(&q.unit), given(&q.reason), given(&q.account));
    let filters = Filters {
        action: "/backoffice/transactions".into(),
        fields: vec![
            FilterField::select("unit", "Unit", &unit, &[("", "Any"), ("coins", "Coins"), ("diamonds", "Diamonds")]),
            FilterField::select("reason", "Reason", &reason, &choices),
            FilterField::input("account", "Account id", "text", &account),
        ],
    };
    let table = Table {
        columns: MOVEMENT_COLUMNS.map(String::from).to_vec(),
        rows: page.items.iter().map(movement_row).collect(),
        empty: "No transactions for these filters.".into(),
        keys: page.items.iter().map(|m| m.reason.clone()).collect(),
    };
    let pager: Pager = page.pager("/backoffice/transactions", &[("unit", &unit), ("reason", &reason), ("account", &account)]);
    Ok(ListPage { shell: shell_for(&me, &csrf, "Transactions", "/backoffice/transactions", Flash::default()), filters, table, pager }
        .response()?)
}

/// Every ledger movement, filtered.
#[utoipa::path(get, path = "/api/v1/admin/transactions", tag = "back office", params(TxQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{transactions: [{seq, owner_kind, owner_id, unit, delta, balance_after, reason, reference, created_by, created_at}], pager}`"),
              (status = 403, description = "Needs view_transactions")))]
async fn transactions_api(State(s): State<AppState>, me: BackOffice, Query(q): Query<TxQuery>) -> WebResult<Response> {
    me.require(StaffPermission::ViewTransactions)?;
    let page = tx_rows(&s, &q).await?;
    Ok(ok(json!({"transactions": page.items, "pager": pager_json(&page)})))
}

// -------------------------------------------------------------------- gifts

pub const RARITIES: [&str; 4] = ["common", "rare", "epic", "legendary"];

/// A gift's fields, from the page form or JSON.
#[derive(Deserialize, Default, ToSchema)]
pub struct GiftInput {
    /// Unique, lower-case letters, digits and `-`.
    code: Option<String>,
    name: Option<String>,
    category: Option<String>,
    /// common, rare, epic or legendary.
    rarity: Option<String>,
    /// Price in coins, at least 1.
    #[schema(value_type = i64)]
    price: Option<String>,
    /// Wealth XP as a percentage of the price (0–1000, default 100).
    #[schema(value_type = Option<i64>)]
    wealth_pct: Option<String>,
    /// Charm XP as a percentage of the price (0–1000, default 100).
    #[schema(value_type = Option<i64>)]
    charm_pct: Option<String>,
    /// The animation asset under `/assets/gifts/`, e.g. `rose.svg`.
    animation: Option<String>,
    #[schema(value_type = Option<i64>)]
    sort: Option<String>,
    /// The lowest VIP tier that may send it (0–7, default 0: everyone).
    #[schema(value_type = Option<i64>)]
    min_vip: Option<String>,
}

/// Checks every field at once.
pub fn gift_fields(f: &GiftInput) -> Result<bo::GiftFields, platform_kernel::FieldErrors> {
    let mut errs = platform_kernel::FieldErrors::new();
    let mut text = |field: &'static str, v: &Option<String>, max: usize| {
        let t = given(v);
        if t.is_empty() || t.chars().count() > max || t.chars().any(char::is_control) {
            errs.add(field, format!("Required, at most {max} characters."));
        }
        t
    };
    let code = text("code", &f.code, 40);
    let name = text("name", &f.name, 40);
    let category = text("category", &f.category, 30);
    let animation = text("animation", &f.animation, 60);
    if !code.is_empty() && !code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        errs.add("code", "Use lower-case letters, digits and - only.");
    }
    if !animation.is_empty() && (animation.contains('/') || animation.contains("..") || !animation.ends_with(".svg")) {
        errs.add("animation", "Name an SVG file under /assets/gifts/, e.g. rose.svg.");
    }
    let rarity = given(&f.rarity);
    if !RARITIES.contains(&rarity.as_str()) {
        errs.add("rarity", "Choose common, rare, epic or legendary.");
    }
    let mut number = |field: &'static str, v: &Option<String>, default: Option<i64>, lo: i64, hi: i64| {
        let t = given(v);
        let n = if t.is_empty() { default } else { t.parse::<i64>().ok() };
        match n.filter(|n| (lo..=hi).contains(n)) {
            Some(n) => n,
            None => {
                errs.add(field, format!("Enter a whole number from {lo} to {hi}."));
                0
            }
        }
    };
    let price = number("price", &f.price, None, 1, 10_000_000);
    let wealth_pct = number("wealth_pct", &f.wealth_pct, Some(100), 0, 1000);
    let charm_pct = number("charm_pct", &f.charm_pct, Some(100), 0, 1000);
    let sort = number("sort", &f.sort, Some(0), -10_000, 10_000);
    let min_vip = number("min_vip", &f.min_vip, Some(0), 0, rooms_domain::vip::TOP_TIER);
    errs.into_result()?;
    Ok(bo::GiftFields { code, name, category, rarity, price, wealth_pct, charm_pct, animation, sort, min_vip })
}

fn gift_row(g: &gifts::Gift) -> Vec<Cell> {
    vec![
        Cell::link(g.name.clone(), format!("/backoffice/gifts/{}", g.id)),
        Cell::mono(g.code.clone()),
        Cell::text(g.category.clone()),
        Cell::text(g.rarity.clone()),
        Cell::mono(g.price.to_string()),
        Cell::mono(format!("{}% / {}%", g.wealth_pct, g.charm_pct)),
        Cell::mono(g.animation.clone()),
        Cell::text(if g.active { "on sale" } else { "retired" }),
    ]
}

async fn gifts_page(State(s): State<AppState>, me: BackOffice, csrf: CsrfToken, Query(flash): Query<Flash>) -> WebResult<Response> {
    me.require(StaffPermission::ManageGifts)?;
    let list = bo::all_gifts(&s.db).await?;
    let table = Table {
        columns: ["Gift", "Code", "Category", "Rarity", "Price", "XP wealth / charm", "Animation", "State"].map(String::from).to_vec(),
        rows: list.iter().map(gift_row).collect(),
        empty: "No gifts yet.".into(),
        keys: list.iter().map(|g| g.code.clone()).collect(),
    };
    let shell = shell_for(&me, &csrf, "Gifts", "/backoffice/gifts", flash);
    #[derive(Template)]
    #[template(
        source = "{% extends \"backoffice/shell.html\" %}{% import \"backoffice/macros.html\" as bo %}{% block content %}<p><a class=\"bo-btn\" href=\"/backoffice/gifts/new\">New gift</a></p>{% call bo::table(table) %}{% endblock %}",
        ext = "html"
    )]
    struct GiftsPage {
        shell: Shell,
        table: Table,
    }
    html(GiftsPage { shell, table })
}

#[derive(Template)]
#[template(path = "backoffice_rooms/gift.html")]
struct GiftPage {
    shell: Shell,
    action: String,
    g: bo::GiftFields,
    rarities: [&'static str; 4],
    retire: Option<Confirm>,
}

fn blank_gift() -> bo::GiftFields {
    bo::GiftFields {
        code: String::new(),
        name: String::new(),
        category: "classic".into(),
        rarity: "common".into(),
        price: 10,
        wealth_pct: 100,
        charm_pct: 100,
        animation: "rose.svg".into(),
        sort: 0,
        min_vip: 0,
    }
}

async fn new_gift_page(me: BackOffice, csrf: CsrfToken, Query(flash): Query<Flash>) -> WebResult<Response> {
    me.require(StaffPermission::ManageGifts)?;
    let shell = shell_for(&me, &csrf, "New gift", "/backoffice/gifts", flash);
    html(GiftPage { shell, action: "/backoffice/gifts".into(), g: blank_gift(), rarities: RARITIES, retire: None })
}

async fn gift_page(
    State(s): State<AppState>,
    me: BackOffice,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> WebResult<Response> {
    me.require(StaffPermission::ManageGifts)?;
    let id: GiftId = platform_backoffice::forms::id(&id)?;
    let g = bo::all_gifts(&s.db).await?.into_iter().find(|g| g.id == id).ok_or(AppError::NotFound)?;
    let retire = Confirm {
        action: format!("/backoffice/gifts/{id}/retire"),
        label: if g.active { "Retire gift".into() } else { "Put back on sale".into() },
        question: if g.active {
            format!("Retire {}? It leaves the catalogue at once; gifts already sent stay in history.", g.name)
        } else {
            format!("Put {} back on sale?", g.name)
        },
        csrf_token: csrf.0.clone(),
    };
    let fields = bo::GiftFields {
        code: g.code.clone(),
        name: g.name.clone(),
        category: g.category.clone(),
        rarity: g.rarity.clone(),
        price: g.price,
        wealth_pct: g.wealth_pct,
        charm_pct: g.charm_pct,
        animation: g.animation.clone(),
        sort: g.sort,
        min_vip: g.min_vip,
    };
    let shell = shell_for(&me, &csrf, &format!("Gift: {}", g.name), "/backoffice/gifts", flash);
    html(GiftPage { shell, action: format!("/backoffice/gifts/{id}"), g: fields, rarities: RARITIES, retire: Some(retire) })
}

async fn save(s: &AppState, me: &BackOffice, id: Option<GiftId>, f: &GiftInput) -> WebResult<GiftId> {
    me.require(StaffPermission::ManageGifts)?;
    let fields = gift_fields(f)?;
    Ok(bo::save_gift(&s.db, me.id(), id, &fields, Utc::now()).await?)
}

/// A page form's outcome: back to `back` with the notice, or with the error
/// when the input was refused.
fn back_to(back: &str, outcome: WebResult<String>) -> WebResult<Response> {
    match outcome {
        Ok(notice) => Ok(Redirect::to(&with_param(back, "notice", &notice)).into_response()),
        Err(WebError::App(e @ (AppError::Validation(_) | AppError::Conflict(_)))) => {
            let message = match &e {
                AppError::Validation(f) => f.0.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join(" · "),
                other => other.body().message,
            };
            Ok(Redirect::to(&with_param(back, "error", &message)).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn save_new_gift(State(s): State<AppState>, me: BackOffice, Input(f): Input<GiftInput>) -> WebResult<Response> {
    match save(&s, &me, None, &f).await {
        Ok(id) => back_to(&format!("/backoffice/gifts/{id}"), Ok("Gift created.".into())),
        Err(e) => back_to("/backoffice/gifts/new", Err(e)),
    }
}

async fn save_gift(State(s): State<AppState>, me: BackOffice, Path(id): Path<String>, Input(f): Input<GiftInput>) -> WebResult<Response> {
    let id: GiftId = platform_backoffice::forms::id(&id)?;
    let back = format!("/backoffice/gifts/{id}");
    back_to(&back, save(&s, &me, Some(id), &f).await.map(|_| "Gift saved.".to_string()))
}

#[derive(Deserialize, Default, ToSchema)]
pub struct RetireInput {
    /// `yes`: the request comes through the confirmation.
    confirm: Option<String>,
    /// `false` puts a retired gift back on sale (default: retire).
    #[schema(value_type = Option<bool>)]
    retire: Option<String>,
}

async fn retire(s: &AppState, me: &BackOffice, id: GiftId, f: &RetireInput, toggle: bool) -> WebResult<(bool, bool)> {
    me.require(StaffPermission::ManageGifts)?;
    shell::confirmed(f.confirm.as_deref())?;
    let g = bo::all_gifts(&s.db).await?.into_iter().find(|g| g.id == id).ok_or(AppError::NotFound)?;
    let active = if toggle { !g.active } else { given(&f.retire) == "false" };
    let changed = bo::set_gift_active(&s.db, me.id(), id, active, Utc::now()).await?;
    Ok((active, changed))
}

async fn retire_gift(
    State(s): State<AppState>,
    me: BackOffice,
    Path(id): Path<String>,
    Input(f): Input<RetireInput>,
) -> WebResult<Response> {
    let id: GiftId = platform_backoffice::forms::id(&id)?;
    let outcome = retire(&s, &me, id, &f, true)
        .await
        .map(|(active, _)| if active { "Back on sale.".to_string() } else { "Gift retired.".to_string() });
    back_to(&format!("/backoffice/gifts/{id}"), outcome)
}

/// The whole catalogue, retired gifts too.
#[utoipa::path(get, path = "/api/v1/admin/gifts", tag = "back office", security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{gifts: [{id, code, name, category, rarity, price, wealth_pct, charm_pct, animation, active, sort}]}`"),
              (status = 403, description = "Needs manage_gifts")))]
async fn gifts_api(State(s): State<AppState>, me: BackOffice) -> WebResult<Response> {
    me.require(StaffPermission::ManageGifts)?;
    Ok(ok(json!({"gifts": bo::all_gifts(&s.db).await?})))
}

/// Adds a gift to the catalogue.
#[utoipa::path(post, path = "/api/v1/admin/gifts", tag = "back office", request_body = GiftInput, security(("bearer" = []), ("session" = [])),
    responses((status = 201, description = "`{gift}`"), (status = 403, description = "Needs manage_gifts")))]
async fn create_gift_api(State(s): State<AppState>, me: BackOffice, Input(f): Input<GiftInput>) -> WebResult<Response> {
    let id = save(&s, &me, None, &f).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({"gift": gifts::gift(&s.db, id).await?}))).into_response())
}

/// Edits a gift (every field given again).
#[utoipa::path(patch, path = "/api/v1/admin/gifts/{id}", tag = "back office", params(("id" = String, Path, description = "Gift id")),
    request_body = GiftInput, security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{gift}`"), (status = 403, description = "Needs manage_gifts"), (status = 404, description = "No such gift")))]
async fn update_gift_api(
    State(s): State<AppState>,
    me: BackOffice,
    Path(id): Path<String>,
    Input(f): Input<GiftInput>,
) -> WebResult<Response> {
    let id: GiftId = platform_backoffice::forms::id(&id)?;
    save(&s, &me, Some(id), &f).await?;
    Ok(ok(json!({"gift": gifts::gift(&s.db, id).await?})))
}

/// Retires a gift, or puts it back on sale with `retire: false`.
#[utoipa::path(post, path = "/api/v1/admin/gifts/{id}/retire", tag = "back office", params(("id" = String, Path, description = "Gift id")),
    request_body = RetireInput, security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{active, changed}`"), (status = 403, description = "Needs manage_gifts"), (status = 404, description = "No such gift")))]
async fn retire_gift_api(
    State(s): State<AppState>,
    me: BackOffice,
    Path(id): Path<String>,
    Input(f): Input<RetireInput>,
) -> WebResult<Response> {
    let id: GiftId = platform_backoffice::forms::id(&id)?;
    let (active, changed) = retire(&s, &me, id, &f, false).await?;
    Ok(ok(json!({"active": active, "changed": changed})))
}

// -------------------------------------------------------------------- rooms

async fn rooms_page(State(s): State<AppState>, me: BackOffice, csrf: CsrfToken) -> WebResult<Response> {
    me.require(StaffPermission::ViewOperations)?;
    let list = bo::rooms(&s.db, 200).await?;
    let table = Table {
        columns: ["Room", "State", "Present", "Seats", "Gifts", "Coins received", "Opened"].map(String::from).to_vec(),
        rows: list
            .iter()
            .map(|r| {
                vec![
                    Cell::link(r.name.clone(), format!("/rooms/{}", r.id)),
                    Cell::text(r.status.clone()),
                    Cell::mono(r.present.to_string()),
                    Cell::mono(r.seat_count.to_string()),
                    Cell::mono(r.gifts.to_string()),
                    Cell::mono(r.coins_received.to_string()),
                    Cell::text(r.created_at.format("%Y-%m-%d").to_string()),
                ]
            })
            .collect(),
        empty: "No rooms yet.".into(),
        keys: list.iter().map(|r| r.id.to_string()).collect(),
    };
    let filters = Filters { action: "/backoffice/rooms".into(), fields: vec![] };
    Ok(ListPage { shell: shell_for(&me, &csrf, "Rooms", "/backoffice/rooms", Flash::default()), filters, table, pager: Pager::default() }
        .response()?)
}

/// Rooms with their statistics.
#[utoipa::path(get, path = "/api/v1/admin/rooms", tag = "back office", security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{rooms: [{id, name, status, present, seat_count, created_at, gifts, coins_received}]}`: open rooms first"),
              (status = 403, description = "Needs view_operations")))]
async fn rooms_api(State(s): State<AppState>, me: BackOffice) -> WebResult<Response> {
    me.require(StaffPermission::ViewOperations)?;
    Ok(ok(json!({"rooms": bo::rooms(&s.db, 200).await?})))
}

// -------------------------------------------------------------------- audit

#[derive(Deserialize, Default)]
struct AuditQuery {
    action: Option<String>,
    subject: Option<String>,
    before: Option<String>,
    after: Option<String>,
}

async fn audit_page(State(s): State<AppState>, me: BackOffice, csrf: CsrfToken, Query(q): Query<AuditQuery>) -> WebResult<Response> {
    me.require(StaffPermission::ViewAudit)?;
    let (action, subject) = (given(&q.action), given(&q.subject));
    let (at, _) = at(&Page { before: q.before.clone(), after: q.after.clone() })?;
    let position = match at {
        At::First => platform_audit::Position::Newest,
        At::Before(k) => platform_audit::Position::Before(k),
        At::After(k) => platform_audit::Position::After(k),
    };
    let f = platform_audit::Filter {
        action: Some(action.as_str()).filter(|a| !a.is_empty()),
        subject_id: Some(subject.as_str()).filter(|a| !a.is_empty()),
        ..Default::default()
    };
    let listing = platform_audit::list(&s.db, &f, position, PAGE_ROWS).await?;
    let cursor = |seq: i64| Cursor::new(seq, seq);
    let page = KeysetPage { items: listing.entries, newer: listing.newer.map(cursor), older: listing.older.map(cursor) };
    let table = Table {
        columns: ["When (UTC)", "Who", "Action", "Subject", "Changes", "Reason"].map(String::from).to_vec(),
        rows: page
            .items
            .iter()
            .map(|e| {
                let changes = platform_audit::changes(e.before_value.as_deref(), e.after_value.as_deref());
                vec![
                    Cell::text(e.at.format("%Y-%m-%d %H:%M:%S").to_string()),
                    Cell::mono(format!("{} {}", e.actor_kind, e.actor_id.clone().unwrap_or_default())),
                    Cell::text(e.action.clone()),
                    Cell::mono(format!("{} {}", e.subject_kind.clone().unwrap_or_default(), e.subject_id.clone().unwrap_or_default())),
                    Cell::lines("", changes.iter().map(ToString::to_string).collect()),
                    Cell::text(e.reason.clone().unwrap_or_default()),
                ]
            })
            .collect(),
        empty: "Nothing recorded for these filters.".into(),
        keys: page.items.iter().map(|e| e.action.clone()).collect(),
    };
    let filters = Filters {
        action: "/backoffice/audit".into(),
        fields: vec![
            FilterField::input("action", "Action", "text", &action),
            FilterField::input("subject", "Subject id", "text", &subject),
        ],
    };
    let pager = page.pager("/backoffice/audit", &[("action", &action), ("subject", &subject)]);
    Ok(ListPage { shell: shell_for(&me, &csrf, "Audit log", "/backoffice/audit", Flash::default()), filters, table, pager }.response()?)
}
