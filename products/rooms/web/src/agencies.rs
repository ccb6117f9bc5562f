//! Agencies over HTTP (requirement 6): finding and creating one, applying
//! to join, the owner's decisions and dashboard (`/agencies`, `/agency`),
//! the same operations as JSON under `/api/v1`, and the back office's list
//! with approval, suspension and the member limit
//! (`/backoffice/agencies`, `/api/v1/admin/agencies`). A form and its JSON
//! twin share one handler ([`Via`] tells them apart); the rules and their
//! transactions are `rooms_store::agencies`.

use crate::admin::{shell_for, BackOffice};
use crate::auth::CurrentUser;
use crate::economy::resellers::answer;
use crate::error::{AppError, WebError, WebResult};
use crate::pages::Frame;
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use platform_backoffice::forms::{with_param, Flash, Input, Via};
use platform_backoffice::keyset::{Cursor, Direction, KeysetPage, Page};
use platform_backoffice::shell::{Cell, FilterField, Filters, ListPage, Shell, Table};
use platform_web::request::CsrfToken;
use rooms_domain::agency::{self as rules, AgencyStatus};
use rooms_domain::ids::{AccountId, AgencyApplicationId, AgencyId, AgencyInvitationId, PayoutId};
use rooms_domain::progress::Period;
use rooms_domain::staff::StaffPermission;
use rooms_store::agencies::{self as ag, Agency, Application, Dashboard, Invitation, Standing};
use rooms_store::backoffice::At;
use rooms_store::economy::{self, Payout, PayoutAction};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const PAGE_ROWS: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/agencies", get(find_page).post(create))
        .route("/agencies/{id}/apply", post(apply))
        .route("/agency", get(dashboard_page))
        .route("/agency/applications/{id}/{action}", post(decide))
        .route("/agency/members/{account}/remove", post(remove))
        .route("/agency/invitations", post(invite))
        .route("/agency/salary/claim", post(claim_salary))
        .route("/agency/salary/exchange", post(crate::salary::exchange_page))
        .route("/agencies/details", post(crate::agency_docs::submit_page).layer(DefaultBodyLimit::max(crate::agency_docs::DETAILS_LIMIT)))
        .route("/backoffice/agencies/{id}/id/{side}", get(crate::agency_docs::id_image))
        .route("/agency/invitations/{id}/{action}", post(answer_invitation))
        .route("/agency/payouts/{id}/{action}", post(payout_step))
        .route("/backoffice/agencies", get(backoffice_list))
        .route("/backoffice/agencies/{id}", get(backoffice_one))
        .route("/backoffice/agencies/{id}/status", post(set_status))
        .route("/backoffice/agencies/{id}/limit", post(set_limit))
}

/// The JSON API of agencies, described by each handler's `#[utoipa::path]`.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_api, create))
        .routes(routes!(mine_api))
        .routes(routes!(apply))
        .routes(routes!(decide))
        .routes(routes!(remove))
        .routes(routes!(invite))
        .routes(routes!(my_invitations_api))
        .routes(routes!(answer_invitation))
        .routes(routes!(claim_salary))
        .routes(routes!(crate::salary::exchange_api))
        .routes(routes!(crate::salary::exchanges_api))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(crate::agency_docs::submit_api))
                .layer(DefaultBodyLimit::max(crate::agency_docs::DETAILS_LIMIT)),
        )
        .routes(routes!(month_api))
        .routes(routes!(dashboard_api))
        .routes(routes!(payouts_api))
        .routes(routes!(payout_step))
        .routes(routes!(admin_list_api))
        .routes(routes!(set_status))
        .routes(routes!(set_limit))
}

// ------------------------------------------------------------ finding one

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// At least 3 characters of the name.
    q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/agencies", tag = "agencies", params(SearchQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{agencies: [{id, name, owner_id, country, status, member_limit, member_count, created_at}]}`: active agencies whose name contains `q`"),
        (status = 422, description = "`validation` on `q`: at least 3 characters")))]
async fn search_api(State(s): State<AppState>, _u: CurrentUser, Query(q): Query<SearchQuery>) -> WebResult<Response> {
    let found = ag::search(&s.db, q.q.as_deref().unwrap_or(""), 50).await?;
    Ok(axum::Json(json!({"agencies": found})).into_response())
}

#[utoipa::path(get, path = "/api/v1/me/agency", tag = "agencies", security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{owns, member_of, pending, leaving_at}`: the agency one owns, the one one belongs to (each `{id, name, status, member_limit, member_count, …}` or null), one's pending application (`{id, agency_id, status, message, created_at}` or null) and when one's membership ends once notice is given (or null)")))]
async fn mine_api(State(s): State<AppState>, u: CurrentUser) -> WebResult<Response> {
    Ok(axum::Json(json!(ag::standing(&s.db, u.id()).await?)).into_response())
}

#[derive(Deserialize, ToSchema)]
struct CreateIn {
    /// 1 to 20 characters, unique, fixed after creation.
    name: Option<String>,
    /// Two-letter ISO country code.
    country: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/agencies", tag = "agencies", request_body = CreateIn, security(("bearer" = []), ("session" = [])),
    responses((status = 201, description = "`{agency}`, `pending` until staff approve it"),
        (status = 409, description = "`already_in_agency`: one owns or belongs to an agency"),
        (status = 422, description = "`validation` on `name` (1–20 characters, not taken) or `country`")))]
async fn create(State(s): State<AppState>, via: Via, u: CurrentUser, Input(c): Input<CreateIn>) -> WebResult<Response> {
    let outcome = async {
        let a = ag::create(&s.db, u.id(), c.name.as_deref().unwrap_or(""), c.country.as_deref().unwrap_or(""), Utc::now()).await?;
        Ok::<_, WebError>(("Your agency was created; staff will review it.", json!({"agency": a})))
    }
    .await;
    match outcome {
        Ok((notice, _)) if !via.api => Ok(axum::response::Redirect::to(&with_param("/agency", "notice", notice)).into_response()),
        other => answer(via, "/agencies", StatusCode::CREATED, other),
    }
}

#[derive(Deserialize, ToSchema)]
struct ApplyIn {
    /// A word to the owner (at most 500 characters).
    message: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/agencies/{id}/applications", tag = "agencies", params(("id" = String, Path, description = "Agency id")),
    request_body = ApplyIn, security(("bearer" = []), ("session" = [])),
    responses((status = 201, description = "`{application}`, pending; the owner is told"),
        (status = 404, description = "`not_found`: no such agency"),
        (status = 409, description = "`agency_not_active`, `already_in_agency` (one owns or belongs to one) or `application_pending` (one application at a time)"),
        (status = 422, description = "`validation` on `message`")))]
async fn apply(
    State(s): State<AppState>,
    via: Via,
    u: CurrentUser,
    Path(id): Path<AgencyId>,
    Input(a): Input<ApplyIn>,
) -> WebResult<Response> {
    let outcome = async {
        let app = ag::apply(&s.db, id, u.id(), a.message.as_deref().unwrap_or(""), Utc::now()).await?;
        Ok::<_, WebError>(("Applied: the owner will answer.", json!({"application": app})))
    }
    .await;
    answer(via, "/agencies", StatusCode::CREATED, outcome)
}

#[utoipa::path(post, path = "/api/v1/agency/applications/{id}/{action}", tag = "agencies",
    params(("id" = String, Path, description = "Application id"),
        ("action" = String, Path, description = "accept or reject (the agency's owner), withdraw (the applicant)")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{application}` as it now stands; the applicant is told"),
        (status = 403, description = "`not_agency_owner`"),
        (status = 404, description = "`not_found`: no such action or application"),
        (status = 409, description = "`already_processed`, `agency_full` (at its member limit; nothing written) or `already_in_agency`")))]
async fn decide(
    State(s): State<AppState>,
    via: Via,
    u: CurrentUser,
    Path((id, action)): Path<(AgencyApplicationId, String)>,
) -> WebResult<Response> {
    let now = Utc::now();
    let outcome = async {
        let (notice, app) = match action.as_str() {
            "accept" => ("Accepted: welcome your new member.", ag::decide(&s.db, u.id(), id, true, now).await?),
            "reject" => ("Declined.", ag::decide(&s.db, u.id(), id, false, now).await?),
            "withdraw" => {
                ag::withdraw(&s.db, u.id(), id, now).await?;
                ("Application withdrawn.", ag::application(&s.db, id).await?)
            }
            _ => return Err(AppError::NotFound.into()),
        };
        Ok::<_, WebError>((notice, json!({"application": app})))
    }
    .await;
    let back = if action == "withdraw" { "/agencies" } else { "/agency" };
    answer(via, back, StatusCode::OK, outcome)
}

#[utoipa::path(post, path = "/api/v1/agency/members/{account}/remove", tag = "agencies",
    params(("account" = String, Path, description = "The member's account id (one's own: leave)")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{agency_id, account_id, ends_at}`: notice is given; the membership ends at `ends_at` (the leave notice, default 7 days, `ROOMS_AGENCY_LEAVE_NOTICE_DAYS`), until then the member's gifts still credit the agency; both sides are told"),
        (status = 404, description = "`not_found`: not a member of the caller's agency"),
        (status = 409, description = "`already_leaving`: notice was already given")))]
async fn remove(State(s): State<AppState>, via: Via, u: CurrentUser, Path(account): Path<AccountId>) -> WebResult<Response> {
    let leaving = account == u.id();
    let notice = chrono::Duration::from_std(s.config.agency_leave_notice).unwrap_or_else(|_| chrono::Duration::days(7));
    let outcome = async {
        let l = ag::remove(&s.db, u.id(), account, notice, Utc::now()).await?;
        let when = l.ends_at.format("%Y-%m-%d %H:%M");
        let text = if leaving {
            format!("Notice given: you leave the agency {when} UTC.")
        } else {
            format!("Notice given: the member leaves {when} UTC.")
        };
        Ok::<_, WebError>((text, json!(l)))
    }
    .await;
    answer(via, if leaving { "/agencies" } else { "/agency" }, StatusCode::OK, outcome)
}

// ------------------------------------------------------------ invitations

#[derive(Deserialize, ToSchema)]
struct InviteIn {
    /// The user's public number.
    number: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/agency/invitations", tag = "agencies", request_body = InviteIn, security(("bearer" = []), ("session" = [])),
    responses((status = 201, description = "`{invitation: {id, agency_id, agency_name, account_id, display_name, handle, public_number, status, created_at, expires_at}}`: pending for 7 days; the user is told live and by a notice"),
        (status = 403, description = "`not_agency_owner`"),
        (status = 409, description = "`agency_full` (at its member limit), `agency_not_active`, `already_in_agency` (the user owns or belongs to an agency) or `invitation_pending`"),
        (status = 422, description = "`validation` on `number`: no user has it")))]
async fn invite(State(s): State<AppState>, via: Via, u: CurrentUser, Input(f): Input<InviteIn>) -> WebResult<Response> {
    let outcome = async {
        let number: i64 = f
            .number
            .as_deref()
            .map(str::trim)
            .unwrap_or("")
            .parse()
            .map_err(|_| AppError::field("number", "Enter the user's public number."))?;
        let i = ag::invite(&s.db, u.id(), number, Utc::now()).await?;
        Ok::<_, WebError>((format!("Invited {} (@{}).", i.display_name, i.handle), json!({"invitation": i})))
    }
    .await;
    answer(via, "/agency", StatusCode::CREATED, outcome)
}

#[utoipa::path(get, path = "/api/v1/me/agency/invitations", tag = "agencies", security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{invitations: [invitation]}`: agencies' invitations waiting for one's answer (pending, not expired), newest first")))]
async fn my_invitations_api(State(s): State<AppState>, u: CurrentUser) -> WebResult<Response> {
    Ok(axum::Json(json!({"invitations": ag::invitations_for(&s.db, u.id(), Utc::now()).await?})).into_response())
}

#[utoipa::path(post, path = "/api/v1/agency/invitations/{id}/{action}", tag = "agencies",
    params(("id" = String, Path, description = "Invitation id"), ("action" = String, Path, description = "accept or decline (the invited user), or withdraw (the inviting agency's owner, while it is pending; on the page with `confirm=yes`)")),
    request_body(content = WithdrawIn, description = "Only for withdraw from the page: `confirm=yes`"),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{invitation}` as it now stands (`status` withdrawn after a withdrawal); the owner, or on withdrawal the invitee, is told"),
        (status = 404, description = "`not_found`: no such invitation for the caller, or no such action"),
        (status = 409, description = "`already_processed`, `invitation_expired`, `invitation_withdrawn` (the agency withdrew it), `agency_full` (nothing written) or `already_in_agency`"),
        (status = 422, description = "`validation` on `confirm`: a withdrawal from the page is confirmed first")))]
async fn answer_invitation(
    State(s): State<AppState>,
    via: Via,
    u: CurrentUser,
    Path((id, action)): Path<(AgencyInvitationId, String)>,
    Input(f): Input<WithdrawIn>,
) -> WebResult<Response> {
    if action == "withdraw" {
        let outcome = async {
            if !via.api {
                platform_backoffice::shell::confirmed(f.confirm.as_deref())?;
            }
            let i = ag::withdraw_invitation(&s.db, u.id(), id, Utc::now()).await?;
            Ok::<_, WebError>((format!("Invitation to {} withdrawn.", i.display_name), json!({"invitation": i})))
        }
        .await;
        return answer(via, "/agency", StatusCode::OK, outcome);
    }
    let outcome = async {
        let (accept, notice) = match action.as_str() {
            "accept" => (true, "Welcome to your agency."),
            "decline" => (false, "Invitation declined."),
            _ => return Err(AppError::NotFound.into()),
        };
        let i = ag::answer_invitation(&s.db, u.id(), id, accept, Utc::now()).await?;
        Ok::<_, WebError>((notice, json!({"invitation": i})))
    }
    .await;
    answer(via, "/agencies", StatusCode::OK, outcome)
}

/// A withdrawal's confirmation (pages).
#[derive(Deserialize, Default, ToSchema)]
pub(crate) struct WithdrawIn {
    /// `yes`: the withdrawal comes through its confirmation.
    confirm: Option<String>,
}

// ------------------------------------------------------- income (BR-6)

#[utoipa::path(post, path = "/api/v1/agency/salary/claim", tag = "agencies", security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{paid_cents}`: the salary of the highest target reached this month, less what was claimed already, paid into one's USD salary balance (an advance on the month; the month-end settlement pays the rest)"),
        (status = 409, description = "`not_agency_member` or `nothing_to_claim` (no new target reached)")))]
async fn claim_salary(State(s): State<AppState>, via: Via, u: CurrentUser) -> WebResult<Response> {
    let outcome = async {
        let cents = ag::claim_salary(&s.db, u.id(), Utc::now()).await?;
        Ok::<_, WebError>((format!("Salary claimed: ${}.{:02}.", cents / 100, cents % 100), json!({"paid_cents": cents})))
    }
    .await;
    answer(via, "/agencies", StatusCode::OK, outcome)
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
struct MonthQuery {
    /// YYYY-MM (UTC); default this month.
    month: Option<String>,
}

fn month_or_now(m: &Option<String>) -> String {
    m.as_deref().map(str::trim).filter(|m| !m.is_empty()).map_or_else(|| ag::month_of(Utc::now()), str::to_string)
}

#[utoipa::path(get, path = "/api/v1/agency/months", tag = "agencies", params(MonthQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{month, members: [{account_id, display_name, handle, public_number, coins, agency_share, active_days, valid_mic_seconds, estimated_salary_cents, advances_cents, balance_cents, settled, until}]}`: each member of the month (including those who left in it) with their coins as a member, the agency's share of them, days with mic time, mic time capped at 5 h a day, the salary of the highest target reached, salary paid ahead, their salary balance, and whether the month is settled"),
        (status = 403, description = "`not_agency_owner`"),
        (status = 422, description = "`validation` on `month`: YYYY-MM")))]
async fn month_api(State(s): State<AppState>, u: CurrentUser, Query(q): Query<MonthQuery>) -> WebResult<Response> {
    let a = own_agency(&s, u.id()).await?;
    let month = month_or_now(&q.month);
    let members = ag::month_dashboard(&s.db, a.id, &month, Utc::now()).await?;
    Ok(axum::Json(json!({"month": month, "members": members})).into_response())
}

/// Cents as dollars: `12.05`.
fn dollars(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

/// Seconds as hours with one decimal.
fn hours(secs: i64) -> String {
    format!("{:.1}", secs as f64 / 3600.0)
}

// -------------------------------------------------------------- dashboard

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
struct PeriodQuery {
    /// day, week or month (default).
    period: Option<String>,
}

/// The caller's own agency and the period asked for.
async fn own_dashboard(s: &AppState, who: AccountId, period: &Option<String>) -> WebResult<Dashboard> {
    let period = rules::dashboard_period(period.as_deref().unwrap_or(""))?;
    let Some(mine) = ag::standing(&s.db, who).await?.owns else {
        return Err(crate::error::refused("not_agency_owner", "Only an agency's owner sees its dashboard"));
    };
    Ok(ag::dashboard(&s.db, mine.id, period, &s.economy.settings.clock, Utc::now()).await?)
}

#[utoipa::path(get, path = "/api/v1/agency/dashboard", tag = "agencies", params(PeriodQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{agency, period, period_key, earnings, earnings_day, earnings_week, earnings_month, balance, members: [{account_id, display_name, handle, public_number, joined_at, diamonds, earned}], pending: [application]}`: the agency's share of its members' gifts in the period and in the current day, week and month, its coin balance, and each member's diamonds now and earned in the period"),
        (status = 403, description = "`not_agency_owner`"),
        (status = 422, description = "`validation` on `period`: day, week or month")))]
async fn dashboard_api(State(s): State<AppState>, u: CurrentUser, Query(q): Query<PeriodQuery>) -> WebResult<Response> {
    let d = own_dashboard(&s, u.id(), &q.period).await?;
    let pending = ag::pending(&s.db, d.agency.id).await?;
    let invited = ag::invitations_sent(&s.db, d.agency.id, Utc::now()).await?;
    let mut v = json!(d);
    v["pending"] = json!(pending);
    v["invitations"] = json!(invited);
    v["payouts"] = json!(economy::agency_payouts(&s.db, d.agency.id, 200).await?);
    Ok(axum::Json(v).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "agencies.html")]
struct FindPage {
    f: Frame,
    flash: Flash,
    standing: Standing,
    q: String,
    found: Vec<Agency>,
    search_error: String,
    invitations: Vec<Invitation>,
    /// One's salary (cents) and its exchanges for coins (6.4).
    salary_cents: i64,
    salary_exchanges: Vec<rooms_store::salary_exchange::SalaryExchange>,
    /// Why the salary exchange is off (staff switch); empty while it is on.
    salary_closed: String,
    /// What became of the invitation the notice's link names, when it is
    /// no longer waiting (withdrawn, expired, answered).
    invitation_note: String,
}

impl FindPage {
    fn may_apply(&self) -> bool {
        self.standing.owns.is_none() && self.standing.member_of.is_none() && self.standing.pending.is_none()
    }
    /// The salary section shows for members and for anyone with salary or exchanges.
    fn shows_salary(&self) -> bool {
        self.standing.member_of.is_some() || self.salary_cents > 0 || !self.salary_exchanges.is_empty()
    }
    fn dollars(&self, c: &i64) -> String {
        let c = *c;
        dollars(c)
    }
}

#[derive(Deserialize, Default)]
struct FindQuery {
    q: Option<String>,
    /// An invitation's id, from its notice's link: what became of it.
    invitation: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

async fn find_page(State(s): State<AppState>, csrf: CsrfToken, u: CurrentUser, Query(q): Query<FindQuery>) -> WebResult<FindPage> {
    let text = q.q.clone().unwrap_or_default().trim().to_string();
    let (found, search_error) = if text.is_empty() {
        (vec![], String::new())
    } else {
        match ag::search(&s.db, &text, 50).await {
            Ok(found) => (found, String::new()),
            Err(rooms_store::StoreError::Refused { message, .. }) => (vec![], message),
            Err(e) => return Err(e.into()),
        }
    };
    Ok(FindPage {
        f: Frame::new(&csrf, Some(&u)),
        flash: Flash { notice: q.notice.unwrap_or_default(), error: q.error.unwrap_or_default() },
        standing: ag::standing(&s.db, u.id()).await?,
        q: text,
        found,
        search_error,
        invitations: ag::invitations_for(&s.db, u.id(), Utc::now()).await?,
        salary_cents: rooms_store::salary_exchange::salary_balance(&s.db, u.id()).await?,
        salary_exchanges: rooms_store::salary_exchange::salary_exchanges(&s.db, u.id(), 50).await?,
        salary_closed: closed_reason(&s, rooms_store::exchange_switches::Exchange::Salary).await?,
        invitation_note: invitation_note(&s, u.id(), q.invitation.as_deref()).await?,
    })
}

/// The sentence for an invitation one followed a link to, once it is no
/// longer waiting for an answer; empty otherwise (or not one's own).
async fn invitation_note(s: &AppState, who: AccountId, id: Option<&str>) -> WebResult<String> {
    let Some(id) = id.and_then(|i| i.parse::<AgencyInvitationId>().ok()) else { return Ok(String::new()) };
    let i = match ag::invitation(&s.db, id).await {
        Ok(i) if i.account_id == who => i,
        _ => return Ok(String::new()),
    };
    Ok(match i.status.as_str() {
        "withdrawn" => format!("{} withdrew its invitation.", i.agency_name),
        "expired" => format!("{}'s invitation has expired.", i.agency_name),
        "accepted" => format!("You accepted {}'s invitation.", i.agency_name),
        "declined" => format!("You declined {}'s invitation.", i.agency_name),
        "cancelled" => format!("{}'s invitation ended when you joined another agency.", i.agency_name),
        _ => String::new(),
    })
}

/// The sentence shown instead of an exchange's form while staff keep it off.
pub(crate) async fn closed_reason(s: &AppState, e: rooms_store::exchange_switches::Exchange) -> WebResult<String> {
    let sw = crate::exchanges::switch(s, e).await?;
    Ok(if sw.open { String::new() } else { sw.closed_message() })
}

#[derive(Template, WebTemplate)]
#[template(path = "agency.html")]
struct DashboardPage {
    f: Frame,
    flash: Flash,
    d: Dashboard,
    pending: Vec<Application>,
    invited: Vec<Invitation>,
    payouts: Vec<(Payout, String)>,
    period: &'static str,
    month: String,
    months: Vec<ag::MemberMonth>,
}

impl DashboardPage {
    fn dollars(&self, c: &i64) -> String {
        let c = *c;
        dollars(c)
    }
    fn hours(&self, s: &i64) -> String {
        let s = *s;
        hours(s)
    }
}

#[derive(Deserialize, Default)]
struct DashboardQuery {
    period: Option<String>,
    month: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

async fn dashboard_page(
    State(s): State<AppState>,
    csrf: CsrfToken,
    u: CurrentUser,
    Query(q): Query<DashboardQuery>,
) -> WebResult<Response> {
    let d = match own_dashboard(&s, u.id(), &q.period).await {
        Err(WebError::Refused { .. }) => return Ok(axum::response::Redirect::to("/agencies").into_response()),
        other => other?,
    };
    let period = match d.period {
        Period::Daily => "day",
        Period::Weekly => "week",
        _ => "month",
    };
    let pending = ag::pending(&s.db, d.agency.id).await?;
    let month = month_or_now(&q.month);
    let names: std::collections::HashMap<AccountId, String> =
        d.members.iter().map(|m| (m.account_id, format!("{} @{}", m.display_name, m.handle))).collect();
    let payouts = economy::agency_payouts(&s.db, d.agency.id, 200)
        .await?
        .into_iter()
        .map(|p| {
            let who = names.get(&p.account_id).cloned().unwrap_or_else(|| p.account_id.to_string());
            (p, who)
        })
        .collect();
    Ok(DashboardPage {
        f: Frame::new(&csrf, Some(&u)),
        flash: Flash { notice: q.notice.unwrap_or_default(), error: q.error.unwrap_or_default() },
        invited: ag::invitations_sent(&s.db, d.agency.id, Utc::now()).await?,
        months: match ag::month_dashboard(&s.db, d.agency.id, &month, Utc::now()).await {
            Err(rooms_store::StoreError::Refused { .. }) => {
                return Ok(axum::response::Redirect::to("/agency?error=Choose+a+month+as+YYYY-MM").into_response())
            }
            other => other?,
        },
        month,
        d,
        pending,
        payouts,
        period,
    }
    .into_response())
}

// ---------------------------------------------------------------- payouts

/// The agency the caller owns.
async fn own_agency(s: &AppState, who: AccountId) -> WebResult<Agency> {
    ag::standing(&s.db, who)
        .await?
        .owns
        .ok_or_else(|| crate::error::refused("not_agency_owner", "Only an agency's owner confirms its members' payouts"))
}

#[utoipa::path(get, path = "/api/v1/agency/payouts", tag = "agencies", security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{payouts: [{id, account_id, diamonds, status, requested_at, agency_id, agency_confirmed_at, …}]}`: members' payout requests waiting for the owner, oldest first"),
        (status = 403, description = "`not_agency_owner`")))]
async fn payouts_api(State(s): State<AppState>, u: CurrentUser) -> WebResult<Response> {
    let a = own_agency(&s, u.id()).await?;
    Ok(axum::Json(json!({"payouts": economy::agency_payouts(&s.db, a.id, 200).await?})).into_response())
}

#[utoipa::path(post, path = "/api/v1/agency/payouts/{id}/{action}", tag = "agencies",
    params(("id" = String, Path, description = "Payout id"), ("action" = String, Path, description = "confirm (staff approve and pay it next) or reject (the diamonds return to the member)")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{payout}` as it now stands; the member is told"),
        (status = 403, description = "`not_agency_owner`: not the member's agency owner"),
        (status = 404, description = "`not_found`: no such payout or action"),
        (status = 409, description = "`already_processed`")))]
async fn payout_step(
    State(s): State<AppState>,
    via: Via,
    u: CurrentUser,
    Path((id, action)): Path<(PayoutId, String)>,
) -> WebResult<Response> {
    let outcome = async {
        let (action, notice) = match action.as_str() {
            "confirm" => (PayoutAction::AgencyConfirm, "Confirmed: staff will pay it."),
            "reject" => (PayoutAction::AgencyReject, "Declined: the diamonds went back to the member."),
            _ => return Err(AppError::NotFound.into()),
        };
        let p = economy::decide_payout(&s.db, id, u.id(), action, Utc::now()).await?;
        Ok::<_, WebError>((notice, json!({"payout": p})))
    }
    .await;
    answer(via, "/agency", StatusCode::OK, outcome)
}

// ------------------------------------------------------------ back office

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// pending, active, suspended or rejected.
    status: Option<String>,
    /// Page cursors from a previous answer.
    before: Option<String>,
    after: Option<String>,
}

async fn rows(s: &AppState, q: &ListQuery) -> WebResult<KeysetPage<Agency>> {
    let status = match q.status.as_deref().map(str::trim).unwrap_or("") {
        "" => None,
        v => Some(v.parse::<AgencyStatus>().map_err(|_| AppError::field("status", "Choose pending, active, suspended or rejected."))?),
    };
    let d = Page { before: q.before.clone(), after: q.after.clone() }.direction()?;
    let at = match &d {
        Direction::First => At::First,
        Direction::Before(c) => At::Before(c.key_as("before")?),
        Direction::After(c) => At::After(c.key_as("after")?),
    };
    let list = ag::list(&s.db, status, at, PAGE_ROWS).await?;
    Ok(KeysetPage::from_rows(list, &d, PAGE_ROWS as usize, |a: &Agency| Cursor::new(a.created_at.timestamp_micros(), a.id)))
}

async fn backoffice_list(State(s): State<AppState>, me: BackOffice, csrf: CsrfToken, Query(q): Query<ListQuery>) -> WebResult<Response> {
    me.require(StaffPermission::ManageUsers)?;
    let page = rows(&s, &q).await?;
    let status = q.status.clone().unwrap_or_default();
    let filters = Filters {
        action: "/backoffice/agencies".into(),
        fields: vec![FilterField::select(
            "status",
            "Status",
            &status,
            &[("", "Any"), ("pending", "Pending"), ("active", "Active"), ("suspended", "Suspended"), ("rejected", "Rejected")],
        )],
    };
    let table = Table {
        columns: ["Agency", "Country", "Status", "Members", "Created"].map(String::from).to_vec(),
        rows: page
            .items
            .iter()
            .map(|a| {
                vec![
                    Cell::link(a.name.clone(), format!("/backoffice/agencies/{}", a.id)),
                    Cell::text(a.country.clone()),
                    Cell::text(a.status.clone()),
                    Cell::mono(format!("{} / {}", a.member_count, a.member_limit)),
                    Cell::text(a.created_at.format("%Y-%m-%d").to_string()),
                ]
            })
            .collect(),
        empty: "No agency matches.".into(),
        keys: page.items.iter().map(|a| a.name.clone()).collect(),
    };
    let pager = page.pager("/backoffice/agencies", &[("status", &status)]);
    let shell = shell_for(&me, &csrf, "Agencies", "/backoffice/agencies", Flash::default());
    Ok(ListPage { shell, filters, table, pager }.response()?)
}

#[utoipa::path(get, path = "/api/v1/admin/agencies", tag = "back office", params(ListQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{agencies: [agency], pager: {newer, older}}`, newest first"),
        (status = 403, description = "Needs manage_users"),
        (status = 422, description = "`validation` on `status`")))]
async fn admin_list_api(State(s): State<AppState>, me: BackOffice, Query(q): Query<ListQuery>) -> WebResult<Response> {
    me.require(StaffPermission::ManageUsers)?;
    let page = rows(&s, &q).await?;
    let pager = json!({"newer": page.newer.as_ref().map(Cursor::encode), "older": page.older.as_ref().map(Cursor::encode)});
    Ok(axum::Json(json!({"agencies": page.items, "pager": pager})).into_response())
}

#[derive(Template)]
#[template(path = "backoffice_rooms/agency.html")]
struct OnePage {
    shell: Shell,
    a: Agency,
    owner: String,
    members: Table,
    activity: Table,
    application: rooms_store::agency_details::Application,
    /// Whether the application has everything approval needs.
    complete: bool,
}

async fn backoffice_one(
    State(s): State<AppState>,
    me: BackOffice,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> WebResult<Response> {
    me.require(StaffPermission::ManageUsers)?;
    let id: AgencyId = platform_backoffice::forms::id(&id)?;
    let d = ag::dashboard(&s.db, id, Period::Monthly, &s.economy.settings.clock, Utc::now()).await?;
    let owner = rooms_store::accounts::by_id(&s.db, d.agency.owner_id).await?.map(|o| format!("{} @{}", o.display_name, o.handle));
    let members = Table {
        columns: ["Member", "Joined", "Diamonds", "Earned this month"].map(String::from).to_vec(),
        rows: d
            .members
            .iter()
            .map(|m| {
                vec![
                    Cell::link(format!("{} @{}", m.display_name, m.handle), format!("/backoffice/users/{}", m.account_id)),
                    Cell::text(m.joined_at.format("%Y-%m-%d").to_string()),
                    Cell::mono(m.diamonds.to_string()),
                    Cell::mono(m.earned.to_string()),
                ]
            })
            .collect(),
        empty: "No members yet.".into(),
        keys: vec![],
    };
    let subject = id.to_string();
    let filter = platform_audit::Filter { subject_id: Some(&subject), ..Default::default() };
    let entries = platform_audit::list(&s.db, &filter, platform_audit::Position::Newest, 20).await?.entries;
    let activity = Table {
        columns: ["When (UTC)", "Who", "Action", "Reason"].map(String::from).to_vec(),
        rows: entries
            .iter()
            .map(|e| {
                vec![
                    Cell::text(e.at.format("%Y-%m-%d %H:%M:%S").to_string()),
                    Cell::mono(format!("{} {}", e.actor_kind, e.actor_id.clone().unwrap_or_default())),
                    Cell::text(e.action.clone()),
                    Cell::text(e.reason.clone().unwrap_or_default()),
                ]
            })
            .collect(),
        empty: "No activity.".into(),
        keys: vec![],
    };
    let shell = shell_for(&me, &csrf, &d.agency.name, "/backoffice/agencies", flash);
    let application = rooms_store::agency_details::application(&s.db, id).await?;
    let complete = application.is_complete(&d.agency.logo_url);
    let page = OnePage { shell, owner: owner.unwrap_or_default(), a: d.agency, members, activity, application, complete };
    Ok(Html(page.render().map_err(|e| AppError::Internal(e.to_string()))?).into_response())
}

#[derive(Deserialize, ToSchema)]
struct StatusIn {
    /// active (approve or reactivate), rejected (a pending one) or suspended.
    status: Option<String>,
    /// Shown to the owner; required to reject or suspend.
    reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/admin/agencies/{id}/status", tag = "back office", params(("id" = String, Path, description = "Agency id")),
    request_body = StatusIn, security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{agency}`; audit-logged, the owner is told"),
        (status = 403, description = "Needs manage_users"),
        (status = 404, description = "No such agency"),
        (status = 409, description = "`bad_transition`: pending → active or rejected, active → suspended, suspended → active; `details_missing`: a pending application without its logo, details and both ID sides cannot be approved"),
        (status = 422, description = "`validation` on `status` or `reason`")))]
async fn set_status(
    State(s): State<AppState>,
    me: BackOffice,
    via: Via,
    Path(id): Path<String>,
    Input(f): Input<StatusIn>,
) -> WebResult<Response> {
    me.require(StaffPermission::ManageUsers)?;
    let id: AgencyId = platform_backoffice::forms::id(&id)?;
    let outcome = async {
        let to: AgencyStatus = f
            .status
            .as_deref()
            .map(str::trim)
            .unwrap_or("")
            .parse()
            .map_err(|_| AppError::field("status", "Choose active, rejected or suspended."))?;
        let reason = f.reason.as_deref().map(str::trim).unwrap_or("");
        if matches!(to, AgencyStatus::Rejected | AgencyStatus::Suspended) && reason.is_empty() {
            return Err(AppError::field("reason", "Give a reason; the owner sees it.").into());
        }
        if reason.chars().count() > 200 {
            return Err(AppError::field("reason", "At most 200 characters.").into());
        }
        let a = ag::set_status(&s.db, me.user.id(), id, to, reason, Utc::now()).await?;
        Ok::<_, WebError>((format!("Agency is now {to}."), json!({"agency": a})))
    }
    .await;
    answer(via, &format!("/backoffice/agencies/{id}"), StatusCode::OK, outcome)
}

#[derive(Deserialize, ToSchema)]
struct LimitIn {
    /// 1 to 10,000, not below the members it has.
    member_limit: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/admin/agencies/{id}/limit", tag = "back office", params(("id" = String, Path, description = "Agency id")),
    request_body = LimitIn, security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{agency}`; audit-logged"),
        (status = 403, description = "Needs manage_users"),
        (status = 404, description = "No such agency"),
        (status = 422, description = "`validation` on `member_limit`")))]
async fn set_limit(
    State(s): State<AppState>,
    me: BackOffice,
    via: Via,
    Path(id): Path<String>,
    Input(f): Input<LimitIn>,
) -> WebResult<Response> {
    me.require(StaffPermission::ManageUsers)?;
    let id: AgencyId = platform_backoffice::forms::id(&id)?;
    let outcome = async {
        let limit: i64 = f
            .member_limit
            .as_deref()
            .map(str::trim)
            .unwrap_or("")
            .parse()
            .map_err(|_| AppError::field("member_limit", "Enter a whole number of members."))?;
        let a = ag::set_member_limit(&s.db, me.user.id(), id, limit, Utc::now()).await?;
        Ok::<_, WebError>((format!("Member limit set to {limit}."), json!({"agency": a})))
    }
    .await;
    answer(via, &format!("/backoffice/agencies/{id}"), StatusCode::OK, outcome)
}
