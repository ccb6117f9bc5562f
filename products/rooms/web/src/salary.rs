//! Salary exchanged for coins over HTTP (requirement 6.4, BR-2: $1 = 100
//! coins): `POST /api/v1/agency/salary/exchange` and its history
//! `GET /api/v1/agency/salary/exchanges`, and on the agencies page a form
//! in dollars with a confirmation step (`/agency/salary/exchange`: the
//! first post shows what will happen, the second, with `confirm=yes` and
//! the key minted for it, exchanges). The transaction and its idempotency
//! are `rooms_store::salary_exchange`; the rule is `rooms_domain::agency`.

use crate::api::Json;
use crate::auth::CurrentUser;
use crate::economy::resellers::answer;
use crate::error::{AppError, WebError, WebResult};
use crate::pages::Frame;
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use platform_backoffice::forms::{with_param, Via};
use platform_web::request::CsrfToken;
use rooms_domain::agency::{self as rules, SALARY_COINS_PER_DOLLAR};
use rooms_store::salary_exchange as sx;
use rooms_store::StoreError;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

/// Where the page's salary section is.
const BACK: &str = "/agencies";

/// Cents as dollars: `12.05`.
pub(crate) fn dollars(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

/// Too little salary: 402 `insufficient_salary` with `required` and
/// `available` in cents, the message in dollars.
fn short(e: StoreError) -> WebError {
    match e {
        StoreError::Insufficient { required, available } => AppError::Insufficient {
            unit: "salary",
            required,
            available,
            message: format!("Not enough salary: this needs ${}, you have ${}.", dollars(required), dollars(available)),
        }
        .into(),
        other => other.into(),
    }
}

/// The switch-off and the per-minute limit shared with the diamond exchange.
async fn gate(s: &AppState, u: &CurrentUser) -> WebResult<()> {
    crate::exchanges::require_open(s, rooms_store::exchange_switches::Exchange::Salary).await?;
    crate::economy::api::exchange_gate(s, u.id())
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct ExchangeIn {
    /// US cents of salary to exchange (at most one's salary balance).
    cents: i64,
    /// Repeating a request with the same key answers the first exchange.
    idempotency_key: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/agency/salary/exchange", tag = "agencies", request_body = ExchangeIn, security(("bearer" = []), ("session" = [])),
    responses((status = 201, description = "`{exchange: {id, account_id, cents, rate, coins, created_at}, duplicate, salary_cents, coins}`: `cents` of one's salary exchanged for coins at `rate` coins per dollar (BR-2: 100), in one ledgered transaction; `salary_cents` and `coins` are the balances after"),
        (status = 200, description = "The same idempotency key again: the first exchange (`duplicate: true`), nothing moved"),
        (status = 402, description = "`insufficient_salary` with `required` and `available` (cents): more than one's salary; nothing written"),
        (status = 409, description = "`salary_exchange_closed`: switched off by staff"),
        (status = 422, description = "`validation` on `cents` (at least 1, a whole number of coins) or `idempotency_key`")))]
pub(crate) async fn exchange_api(State(s): State<AppState>, u: CurrentUser, Json(x): Json<ExchangeIn>) -> WebResult<Response> {
    gate(&s, &u).await?;
    let key = x.idempotency_key.unwrap_or_else(platform_accounts::random_token);
    let done = sx::exchange_salary(&s.db, u.id(), x.cents, &key, Utc::now()).await.map_err(short)?;
    let status = if done.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, axum::Json(json!(done))).into_response())
}

#[utoipa::path(get, path = "/api/v1/agency/salary/exchanges", tag = "agencies", security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{salary_cents, rate, exchanges: [{id, account_id, cents, rate, coins, created_at}]}`: one's salary balance (cents), the rate in force (coins per dollar) and one's exchanges, newest 100 first")))]
pub(crate) async fn exchanges_api(State(s): State<AppState>, u: CurrentUser) -> WebResult<Response> {
    let salary_cents = sx::salary_balance(&s.db, u.id()).await?;
    let exchanges = sx::salary_exchanges(&s.db, u.id(), 100).await?;
    Ok(axum::Json(json!({"salary_cents": salary_cents, "rate": SALARY_COINS_PER_DOLLAR, "exchanges": exchanges})).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "salary_exchange_confirm.html")]
struct ConfirmPage {
    f: Frame,
    dollars: String,
    amount: String,
    coins: i64,
    left: String,
    key: String,
}

#[derive(Deserialize)]
pub(crate) struct ExchangeForm {
    dollars: String,
    #[serde(default)]
    confirm: Option<String>,
    key: Option<String>,
}

/// Step 1 shows how many coins the amount makes and what salary stays;
/// step 2 (`confirm=yes` with its key) exchanges and goes back to the page.
pub(crate) async fn exchange_page(
    State(s): State<AppState>,
    csrf: CsrfToken,
    via: Via,
    u: CurrentUser,
    Form(f): Form<ExchangeForm>,
) -> WebResult<Response> {
    let back = |m: &str| Ok(Redirect::to(&format!("{}#salary", with_param(BACK, "error", m))).into_response());
    let Some(cents) = rules::parse_dollars(&f.dollars) else {
        return back("Enter an amount in dollars, such as 12.50.");
    };
    let coins = match rules::salary_to_coins(cents, SALARY_COINS_PER_DOLLAR) {
        Ok(c) => c,
        Err(r) => return back(&r.message()),
    };
    match (f.confirm.as_deref(), f.key) {
        (Some("yes"), Some(key)) => {
            let outcome = async {
                gate(&s, &u).await?;
                let done = sx::exchange_salary(&s.db, u.id(), cents, &key, Utc::now()).await.map_err(short)?;
                let words = format!("Exchanged ${} of salary for {} coins.", dollars(done.exchange.cents), done.exchange.coins);
                Ok::<_, WebError>((words, json!(done)))
            }
            .await;
            answer(via, BACK, StatusCode::CREATED, outcome)
        }
        _ => {
            let held = sx::salary_balance(&s.db, u.id()).await?;
            if cents > held {
                return back(&format!("Not enough salary: this needs ${}, you have ${}.", dollars(cents), dollars(held)));
            }
            Ok(ConfirmPage {
                f: Frame::new(&csrf, Some(&u)),
                dollars: dollars(cents),
                amount: f.dollars.trim().to_string(),
                coins,
                left: dollars(held - cents),
                key: platform_accounts::random_token(),
            }
            .into_response())
        }
    }
}
