//! Staff switches for the exchanges (requirement 6.4, 10): the diamond →
//! coin exchange and the salary → coin exchange are each switched off and
//! on from the back office (`/backoffice/exchanges`, with a confirmation
//! and a reason; `POST /api/v1/admin/exchanges/{exchange}`), audited with
//! the change (`rooms_store::exchange_switches`). Until staff change one,
//! it follows the configuration (`Economy::exchange_open`,
//! `salary_exchange_open`). While one is off its form is hidden on the
//! user's page with the reason, and its API answers 409 with
//! `exchange_closed` / `salary_exchange_closed`.

use crate::admin::{shell_for, BackOffice};
use crate::error::{refused, AppError, WebResult};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use platform_backoffice::forms::{Flash, Input, Via};
use platform_backoffice::shell::{self, Shell};
use platform_web::request::CsrfToken;
use rooms_domain::staff::StaffPermission;
use rooms_store::exchange_switches::{self as switches, Exchange, Switch};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The configured state of `e` (before any staff change).
fn configured(s: &AppState, e: Exchange) -> bool {
    match e {
        Exchange::Diamonds => s.economy.exchange_open,
        Exchange::Salary => s.economy.salary_exchange_open,
    }
}

/// The switch of `e` as it stands.
pub async fn switch(s: &AppState, e: Exchange) -> WebResult<Switch> {
    Ok(switches::get(&s.db, e, configured(s, e)).await?)
}

/// Refuses with 409 and the exchange's closed code and reason when it is off.
pub async fn require_open(s: &AppState, e: Exchange) -> WebResult<()> {
    let sw = switch(s, e).await?;
    if sw.open {
        Ok(())
    } else {
        Err(refused(e.closed_code(), sw.closed_message()))
    }
}

fn switch_json(sw: &Switch) -> serde_json::Value {
    json!({
        "exchange": sw.exchange,
        "open": sw.open,
        "reason": sw.reason,
        "message": if sw.open { String::new() } else { sw.closed_message() },
        "changed_by": sw.changed_by,
        "changed_at": sw.changed_at,
    })
}

async fn all(s: &AppState) -> WebResult<Vec<Switch>> {
    let mut out = vec![];
    for e in Exchange::ALL {
        out.push(switch(s, e).await?);
    }
    Ok(out)
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/backoffice/exchanges", get(page)).route("/backoffice/exchanges/{exchange}", post(set_page))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_api)).routes(routes!(admin_list_api)).routes(routes!(set_api))
}

/// Whether each exchange is open, and why not.
#[utoipa::path(get, path = "/api/v1/exchanges", tag = "diamonds", security(()),
    responses((status = 200, description = "`{exchanges: [{exchange: diamonds|salary, open, reason, message, changed_by, changed_at}]}`: `message` is the sentence shown while an exchange is off")))]
async fn list_api(State(s): State<AppState>) -> WebResult<Response> {
    let list: Vec<_> = all(&s).await?.iter().map(switch_json).collect();
    Ok(axum::Json(json!({ "exchanges": list })).into_response())
}

/// The switches, for staff.
#[utoipa::path(get, path = "/api/v1/admin/exchanges", tag = "back office", security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{exchanges: [{exchange: diamonds|salary, open, reason, message, changed_by, changed_at}]}`"),
              (status = 403, description = "Needs manage_exchanges")))]
async fn admin_list_api(State(s): State<AppState>, me: BackOffice) -> WebResult<Response> {
    me.require(StaffPermission::ManageExchanges)?;
    list_api(State(s)).await
}

#[derive(Deserialize, ToSchema)]
pub struct SwitchInput {
    /// `true` switches the exchange on, `false` off.
    #[schema(value_type = bool)]
    open: Option<String>,
    /// Why (shown to users while it is off); required to switch off.
    reason: Option<String>,
    /// `yes`: the change comes through the confirmation.
    confirm: Option<String>,
}

async fn apply(s: &AppState, me: &BackOffice, exchange: &str, f: &SwitchInput) -> Result<(String, serde_json::Value), AppError> {
    me.require(StaffPermission::ManageExchanges).map_err(|_| AppError::Forbidden)?;
    let e: Exchange = exchange.parse().map_err(|_| AppError::NotFound)?;
    let open = match f.open.as_deref().map(str::trim) {
        Some("true") | Some("on") | Some("1") => true,
        Some("false") | Some("off") | Some("0") => false,
        _ => return Err(AppError::field("open", "Choose on (true) or off (false).")),
    };
    shell::confirmed(f.confirm.as_deref())?;
    let reason = f.reason.as_deref().unwrap_or_default().trim().to_string();
    if !open && reason.is_empty() {
        return Err(AppError::field("reason", "Give a reason; users see it while the exchange is off."));
    }
    if reason.chars().count() > 200 {
        return Err(AppError::field("reason", "Keep the reason within 200 characters."));
    }
    let changed = switches::set(&s.db, me.user.id(), e, open, &reason, configured(s, e), Utc::now())
        .await
        .map_err(|err| AppError::Internal(err.to_string()))?;
    let sw = switches::get(&s.db, e, configured(s, e)).await.map_err(|err| AppError::Internal(err.to_string()))?;
    let notice = match (changed, open) {
        (false, _) => format!("{} was already {}.", e.label(), if open { "on" } else { "off" }),
        (true, true) => format!("{} switched on.", e.label()),
        (true, false) => format!("{} switched off.", e.label()),
    };
    Ok((notice, json!({ "exchange": switch_json(&sw), "changed": changed })))
}

/// Switches an exchange on or off (confirmed, with a reason to switch off).
#[utoipa::path(post, path = "/api/v1/admin/exchanges/{exchange}", tag = "back office",
    params(("exchange" = String, Path, description = "diamonds or salary")),
    request_body = SwitchInput, security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{exchange: {exchange, open, reason, message, changed_by, changed_at}, changed}`: `changed` false when it already stood so (nothing audited)"),
              (status = 403, description = "Needs manage_exchanges"),
              (status = 404, description = "No such exchange")))]
async fn set_api(
    State(s): State<AppState>,
    me: BackOffice,
    via: Via,
    Path(exchange): Path<String>,
    Input(f): Input<SwitchInput>,
) -> WebResult<Response> {
    Ok(via.finish("/backoffice/exchanges", apply(&s, &me, &exchange, &f).await)?)
}

async fn set_page(
    State(s): State<AppState>,
    me: BackOffice,
    via: Via,
    Path(exchange): Path<String>,
    Input(f): Input<SwitchInput>,
) -> WebResult<Response> {
    me.require(StaffPermission::ManageExchanges)?;
    Ok(via.finish("/backoffice/exchanges", apply(&s, &me, &exchange, &f).await)?)
}

struct Row {
    name: &'static str,
    label: &'static str,
    open: bool,
    reason: String,
    changed: String,
}

#[derive(Template)]
#[template(path = "backoffice_rooms/exchanges.html")]
struct ExchangesPage {
    shell: Shell,
    rows: Vec<Row>,
}

async fn page(State(s): State<AppState>, me: BackOffice, csrf: CsrfToken, Query(flash): Query<Flash>) -> WebResult<Response> {
    me.require(StaffPermission::ManageExchanges)?;
    let rows = all(&s)
        .await?
        .into_iter()
        .map(|sw| Row {
            name: sw.exchange.as_str(),
            label: sw.exchange.label(),
            open: sw.open,
            reason: sw.reason.clone(),
            changed: match sw.changed_at {
                Some(at) => format!("Changed {} UTC", at.format("%Y-%m-%d %H:%M")),
                None => "As configured; never changed".into(),
            },
        })
        .collect();
    let page = ExchangesPage { shell: shell_for(&me, &csrf, "Exchanges", "/backoffice/exchanges", flash), rows };
    Ok(Html(page.render().map_err(|e| AppError::Internal(e.to_string()))?).into_response())
}
