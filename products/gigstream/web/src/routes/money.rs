//! Money pages and API: paying for an order (Stripe or PayPal), the
//! providers' webhooks and return links, the seller's wallet and
//! withdrawals, and the admins' withdrawal queue.

use super::common::{order_for, FormIn, JsonIn};
use crate::auth::{CsrfToken, CurrentUser};
use crate::payments::{self, method_of, Settled};
use crate::templates::{money, Chrome, WalletPage, WithdrawalLine};
use crate::{AppError, AppResult, AppState};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use gigstream_domain::ids::OrderId;
use gigstream_domain::order::{Actor, OrderStatus};
use gigstream_domain::wallet::PayMethod;
use gigstream_store::orders::Order;
use gigstream_store::wallet::{self, Withdrawal};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/webhooks/{provider}", post(webhook))
        .route("/orders/{id}/pay", post(pay_page))
        .route("/orders/{id}/paid", get(paid_return))
        .route("/api/v1/orders/{id}/pay", post(pay_api))
        .route("/wallet", get(wallet_page))
        .route("/wallet/withdrawals", post(withdraw_page))
        .route("/api/v1/wallet", get(wallet_api))
        .route("/api/v1/wallet/withdrawals", post(withdraw_api))
}

/// This site as the buyer reached it, for the providers' return links.
pub(super) fn origin(state: &AppState, headers: &HeaderMap) -> String {
    let scheme = if state.config.secure_cookies { "https" } else { "http" };
    match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host) => format!("{scheme}://{host}"),
        None => state.payments.self_url.clone().unwrap_or_else(|| format!("{scheme}://localhost")),
    }
}

async fn webhook(State(state): State<AppState>, Path(provider): Path<String>, headers: HeaderMap, body: Bytes) -> AppResult<Json<Value>> {
    let method: PayMethod = provider.parse().map_err(|_| AppError::NotFound)?;
    let outcome = payments::webhook(&state, method, &headers, &body).await?;
    if outcome == Settled::Credited {
        tracing::info!(provider = %method, "payment credited to escrow");
    }
    Ok(Json(json!({ "received": true, "outcome": outcome })))
}

/// The buyer's unpaid order, or 404 / 409.
async fn payable(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<Order> {
    let id: OrderId = id.parse().map_err(|_| AppError::NotFound)?;
    let (o, actor) = order_for(state, user, id).await?;
    if actor != Actor::Buyer {
        return Err(AppError::Forbidden);
    }
    if o.status != OrderStatus::Placed {
        return Err(AppError::Conflict("This order is already paid.".into()));
    }
    Ok(o)
}

#[derive(Deserialize)]
struct PayForm {
    #[serde(default)]
    method: String,
}

async fn pay_page(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    FormIn(f): FormIn<PayForm>,
) -> AppResult<Response> {
    let o = payable(&state, &user, &id).await?;
    let method = method_of(&f.method, "method")?;
    let url = payments::start(&state, &o, method, &user.account.email, &origin(&state, &headers)).await?;
    Ok(Redirect::to(&url).into_response())
}

async fn pay_api(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonIn(f): JsonIn<PayForm>,
) -> AppResult<Json<Value>> {
    let o = payable(&state, &user, &id).await?;
    let method = method_of(&f.method, "method")?;
    let url = payments::start(&state, &o, method, &user.account.email, &origin(&state, &headers)).await?;
    Ok(Json(json!({ "checkout_url": url, "method": method })))
}

/// Back from the provider: settle what was paid, then show the order.
async fn paid_return(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> AppResult<Response> {
    let id: OrderId = id.parse().map_err(|_| AppError::NotFound)?;
    let (o, _) = order_for(&state, &user, id).await?;
    if o.status == OrderStatus::Placed {
        payments::on_return(&state, id).await?;
    }
    Ok(Redirect::to(&format!("/orders/{id}")).into_response())
}

pub(super) fn withdrawal_json(w: &Withdrawal) -> Value {
    json!({
        "id": w.id, "amount_minor": w.amount_minor, "fee_minor": w.fee_minor, "payout_minor": w.payout_minor(),
        "currency": w.currency, "method": w.method, "destination": w.destination, "status": w.status,
        "payout_id": w.payout_id, "note": w.note, "created_at": w.created_at, "paid_at": w.paid_at,
    })
}

async fn wallet_api(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<Value>> {
    let me = user.account.id;
    let cur = state.config.currency;
    let days = crate::settings::current(&state).await?.clearance_days;
    let earnings: Vec<Value> = wallet::earnings(&state.db, me, 100)
        .await?
        .iter()
        .map(|e| {
            json!({ "order_id": e.order_id, "gig_title": e.gig_title, "amount_minor": e.amount_minor, "released_at": e.released_at,
                    "clears_at": gigstream_domain::wallet::clears_at(e.released_at, days), "cleared": e.cleared_at.is_some() })
        })
        .collect();
    let withdrawals: Vec<Value> = wallet::withdrawals_of(&state.db, me, 100).await?.iter().map(withdrawal_json).collect();
    Ok(Json(json!({
        "currency": cur, "balances": wallet::balances(&state.db, me, cur).await?, "clearance_days": days,
        "minimum_withdrawal_minor": state.config.withdrawals.minimum_minor, "withdrawal_fee_minor": state.config.withdrawals.fee_minor,
        "methods": state.payments.methods(), "earnings": earnings, "withdrawals": withdrawals,
    })))
}

#[derive(Deserialize)]
struct WithdrawForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    destination: String,
}

async fn request_withdrawal(state: &AppState, user: &CurrentUser, f: &WithdrawForm) -> AppResult<Withdrawal> {
    let cur = state.config.currency;
    let amount =
        gigstream_domain::Money::parse(&f.amount, cur).map_err(|_| AppError::field("amount", "Enter an amount such as 25 or 25.50"))?.minor;
    let method = method_of(&f.method, "method")?;
    state.payments.require(method, "method")?;
    let policy = state.config.withdrawals;
    let ask = wallet::Ask { currency: cur, amount, method, destination: &f.destination };
    Ok(wallet::request(&state.db, user.account.id, &ask, policy, Utc::now()).await?)
}

async fn withdraw_api(State(state): State<AppState>, user: CurrentUser, JsonIn(f): JsonIn<WithdrawForm>) -> AppResult<Response> {
    let w = request_withdrawal(&state, &user, &f).await?;
    Ok((StatusCode::CREATED, Json(json!({ "withdrawal": withdrawal_json(&w) }))).into_response())
}

async fn render_wallet(
    state: &AppState,
    csrf: &CsrfToken,
    user: &CurrentUser,
    errors: Vec<(String, String)>,
    form: WithdrawForm,
) -> AppResult<Response> {
    let me = user.account.id;
    let cur = state.config.currency;
    let days = crate::settings::current(state).await?.clearance_days;
    let b = wallet::balances(&state.db, me, cur).await?;
    let fmt = |t: chrono::DateTime<Utc>| t.format("%d %b %Y").to_string();
    Ok(WalletPage {
        chrome: Chrome { csrf: csrf.0.clone(), username: Some(user.account.username.clone()), q: String::new() },
        pending: money(b.pending, cur),
        available: money(b.available, cur),
        withdrawing: money(b.withdrawing, cur),
        withdrawn: money(b.withdrawn, cur),
        clearance_days: days,
        minimum: money(state.config.withdrawals.minimum_minor, cur),
        fee: money(state.config.withdrawals.fee_minor, cur),
        methods: state.payments.methods().iter().map(|m| (m.as_str(), m.label(), m.destination_hint())).collect(),
        earnings: wallet::earnings(&state.db, me, 50)
            .await?
            .iter()
            .map(|e| {
                let when = match e.cleared_at {
                    Some(t) => format!("available since {}", fmt(t)),
                    None => format!("pending until {}", fmt(gigstream_domain::wallet::clears_at(e.released_at, days))),
                };
                (e.order_id.to_string(), e.gig_title.clone(), money(e.amount_minor, e.currency), when)
            })
            .collect(),
        withdrawals: wallet::withdrawals_of(&state.db, me, 50).await?.iter().map(|w| line(w, &fmt)).collect(),
        errors,
        amount: form.amount,
        method: form.method,
        destination: form.destination,
    }
    .into_response())
}

fn line(w: &Withdrawal, fmt: &dyn Fn(chrono::DateTime<Utc>) -> String) -> WithdrawalLine {
    WithdrawalLine {
        id: w.id.to_string(),
        amount: money(w.amount_minor, w.currency),
        payout: money(w.payout_minor(), w.currency),
        method: w.method.label(),
        destination: w.destination.clone(),
        status: w.status.label(),
        status_class: w.status.as_str(),
        note: w.note.clone(),
        at: fmt(w.created_at),
    }
}

async fn wallet_page(State(state): State<AppState>, csrf: CsrfToken, user: CurrentUser) -> AppResult<Response> {
    render_wallet(&state, &csrf, &user, vec![], WithdrawForm { amount: String::new(), method: String::new(), destination: String::new() })
        .await
}

async fn withdraw_page(
    State(state): State<AppState>,
    csrf: CsrfToken,
    user: CurrentUser,
    FormIn(f): FormIn<WithdrawForm>,
) -> AppResult<Response> {
    match request_withdrawal(&state, &user, &f).await {
        Ok(_) => Ok(Redirect::to("/wallet").into_response()),
        Err(AppError::Validation(e)) => {
            let errors = e.0.iter().map(|f| (f.field.to_string(), f.message.clone())).collect();
            let mut page = render_wallet(&state, &csrf, &user, errors, f).await?;
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        Err(e) => Err(e),
    }
}
