//! The economy's JSON API.

use super::{money, payments};
use crate::api::{Json, OptJson};
use crate::auth::{CurrentUser, Staff};
use crate::error::{AppError, WebResult};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use rooms_domain::ids::{AccountId, GiftId, PackageId, PayoutId, RoomId};
use rooms_domain::progress::Period;
use rooms_store::economy::{self, PayoutAction};
use rooms_store::gifts::{self, EarnedBy, GiftRequest, HistoryOf, Recipients};
use rooms_store::leaderboards::Board;
use rooms_store::{accounts, rooms};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The economy's JSON API; each route is described by its handler's
/// `#[utoipa::path]`.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(wallet))
        .routes(routes!(packages))
        .routes(routes!(history))
        .routes(routes!(purchases, buy))
        .routes(routes!(verify))
        .routes(routes!(transfer))
        .routes(routes!(payments::webhook))
        .routes(routes!(catalogue))
        .routes(routes!(room_gifts, send_gift))
        .routes(routes!(my_gifts))
        .routes(routes!(diamonds))
        .routes(routes!(exchange))
        .routes(routes!(my_payouts, request_payout))
        .routes(routes!(all_payouts))
        .routes(routes!(decide_payout))
        .routes(routes!(leaderboard))
}

fn ok(v: Value) -> Response {
    axum::Json(v).into_response()
}

#[utoipa::path(get, path = "/api/v1/coins", tag = "coins", security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{coins, diamonds}`")))]
async fn wallet(State(s): State<AppState>, u: CurrentUser) -> WebResult<Response> {
    let b = economy::balances(&s.db, u.id()).await?;
    Ok(ok(json!({"coins": b.coins, "diamonds": b.diamonds})))
}

#[utoipa::path(get, path = "/api/v1/coins/packages", tag = "coins", security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{country, packages}`: recharge packages for the caller country")))]
async fn packages(State(s): State<AppState>, u: CurrentUser) -> WebResult<Response> {
    let list = economy::packages_for(&s.db, u.account.country.as_deref()).await?;
    Ok(ok(json!({"country": u.account.country, "packages": list})))
}

#[derive(Deserialize)]
struct HistoryQuery {
    unit: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

/// The unit a query names: coins (default) or diamonds.
fn unit_of(q: Option<&str>) -> WebResult<platform_ledger::Unit> {
    match q.unwrap_or("coins") {
        "coins" => Ok(economy::coins()),
        "diamonds" => Ok(economy::diamonds()),
        _ => Err(AppError::field("unit", "coins or diamonds").into()),
    }
}

#[utoipa::path(get, path = "/api/v1/coins/history", tag = "coins", params(("unit" = Option<String>, Query, description = "coins (default) or diamonds"), ("before" = Option<i64>, Query, description = "Entries older than this seq"), ("limit" = Option<i64>, Query, description = "1 to 100, default 50")), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{unit, entries, next_before}`: ledger entries newest first")))]
async fn history(State(s): State<AppState>, u: CurrentUser, Query(q): Query<HistoryQuery>) -> WebResult<Response> {
    let unit = unit_of(q.unit.as_deref())?;
    let limit = q.limit.unwrap_or(50).clamp(1, 100);
    let entries = economy::history(&s.db, u.id(), &unit, q.before, limit).await?;
    let next = if entries.len() as i64 == limit { entries.last().map(|e| e.seq) } else { None };
    Ok(ok(json!({"unit": unit.to_string(), "entries": entries, "next_before": next})))
}

#[utoipa::path(get, path = "/api/v1/coins/purchases", tag = "coins", security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{purchases}`: the caller purchases, newest 50")))]
async fn purchases(State(s): State<AppState>, u: CurrentUser) -> WebResult<Response> {
    Ok(ok(json!({"purchases": economy::purchases_of(&s.db, u.id(), 50).await?})))
}

#[derive(Deserialize, ToSchema)]
struct Buy {
    #[schema(value_type = String)]
    package_id: PackageId,
}

#[utoipa::path(post, path = "/api/v1/coins/purchases", tag = "coins", request_body = Buy, security(("bearer" = []), ("session" = [])), responses((status = 201, description = "`{reference, authorization_url, purchase}`: pay at the provider checkout"), (status = 404, description = "No such package"), (status = 409, description = "The package is not on sale")))]
async fn buy(State(s): State<AppState>, u: CurrentUser, headers: HeaderMap, Json(b): Json<Buy>) -> WebResult<Response> {
    let site = payments::site_url(&s, &headers);
    let (checkout, purchase) = payments::start_checkout(&s, &u.account, b.package_id, &site).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"reference": purchase.reference, "authorization_url": checkout.authorization_url, "purchase": purchase})),
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/coins/purchases/{reference}/verify", tag = "coins", params(("reference" = String, Path, description = "The purchase reference")), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{purchase, balance}`: settled at most once"), (status = 404, description = "Not the caller purchase")))]
async fn verify(State(s): State<AppState>, u: CurrentUser, Path(reference): Path<String>) -> WebResult<Response> {
    let mine = economy::purchase(&s.db, &reference).await?;
    if mine.account_id != u.id() {
        return Err(AppError::NotFound.into());
    }
    let (_, p) = payments::verify(&s, &reference).await?;
    Ok(ok(json!({"purchase": p, "balance": economy::balances(&s.db, u.id()).await?})))
}

#[derive(Deserialize, ToSchema)]
struct TransferIn {
    /// The recipient's public number.
    to: i64,
    amount: i64,
    #[serde(default)]
    confirm: bool,
    idempotency_key: Option<String>,
}

/// Resolves a public number to an account other than `me`.
pub(crate) async fn recipient(s: &AppState, number: i64) -> WebResult<accounts::PublicProfile> {
    let found = accounts::search(&s.db, &number.to_string(), 1).await?;
    found.into_iter().find(|p| p.public_number == number).ok_or_else(|| AppError::field("to", "No one has that number").into())
}

#[utoipa::path(post, path = "/api/v1/coins/transfers", tag = "coins", request_body = TransferIn, security(("bearer" = []), ("session" = [])), responses((status = 201, description = "`{transfer, to}`"), (status = 200, description = "The same idempotency key again: the first answer"), (status = 402, description = "`insufficient_coins` (or diamonds) with `required` and `available`; nothing written")))]
async fn transfer(State(s): State<AppState>, u: CurrentUser, Json(t): Json<TransferIn>) -> WebResult<Response> {
    let to = recipient(&s, t.to).await?;
    if !t.confirm {
        let words =
            format!("Confirm sending {} coins to {} ({}): send again with \"confirm\": true.", t.amount, to.display_name, to.public_number);
        return Err(AppError::field("confirm", words).into());
    }
    let key = t.idempotency_key.unwrap_or_else(platform_accounts::random_token);
    let done = economy::transfer(&s.db, u.id(), to.id, t.amount, &key, Utc::now()).await.map_err(|e| money(e, "coins"))?;
    let status = if done.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, axum::Json(json!({"transfer": done, "to": to}))).into_response())
}

#[utoipa::path(get, path = "/api/v1/gifts", tag = "gifts", security(()), responses((status = 200, description = "`{gifts}`: the active catalogue")))]
async fn catalogue(State(s): State<AppState>) -> WebResult<Response> {
    Ok(ok(json!({"gifts": gifts::catalogue(&s.db).await?})))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum To {
    One(AccountId),
    Several(Vec<AccountId>),
    /// `"all"`: everyone on a seat.
    All(String),
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct GiftIn {
    #[schema(value_type = String)]
    gift_id: GiftId,
    /// A seat holder's account id, a list of them, or `"all"` (everyone on a seat).
    #[schema(value_type = Object)]
    to: To,
    #[serde(default = "one")]
    quantity: i64,
    #[serde(default = "one")]
    combo: i64,
    idempotency_key: Option<String>,
}

fn one() -> i64 {
    1
}

/// Sends a gift for `u`; the shared path of the API and the page script.
pub(crate) async fn send(s: &AppState, u: &CurrentUser, room: RoomId, g: GiftIn, header_key: Option<String>) -> WebResult<(bool, Value)> {
    s.economy.gifts.check(u.id().to_string())?;
    let recipients = match g.to {
        To::All(w) if w == "all" => Recipients::AllSeated,
        To::All(_) => return Err(AppError::field("to", "an account id, a list of them, or \"all\"").into()),
        To::One(a) => Recipients::Seated(vec![a]),
        To::Several(v) if v.is_empty() => return Err(AppError::field("to", "name at least one seat holder").into()),
        To::Several(v) => Recipients::Seated(v),
    };
    let key = g.idempotency_key.or(header_key).unwrap_or_else(platform_accounts::random_token);
    // Accepted with the other requests waiting on this node, in one transaction.
    let request = GiftRequest { sender: u.id(), room, gift: g.gift_id, recipients, quantity: g.quantity, combo: g.combo, key: key.clone() };
    let sent = s.economy.accepts.accept(&s.db, &s.economy.settings, request).await.map_err(|e| money(e, "coins"))?;
    // The room's gift frame is committed: it goes out now, not after the
    // shares' batch below (the request's end would wake the tailer too late).
    s.realtime.written();
    // A gift accepted in a batch had its shares credited in the same
    // transaction; one accepted on its own is credited by this node's
    // batched writer, with every other gift waiting, and the answer waits
    // for that batch.
    if !sent.duplicate && !sent.credited {
        s.economy.credits.settle(&s.db).await;
    }
    // The boards read on this node show it at once (other nodes hear of it from their tailers).
    s.boards.touch();
    Ok((sent.duplicate, json!({"sends": sent.sends, "balance": sent.balance, "duplicate": sent.duplicate, "idempotency_key": key})))
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/gifts", tag = "gifts", params(("id" = String, Path, description = "Room id")), request_body = GiftIn, security(("bearer" = []), ("session" = [])), responses((status = 201, description = "`{sends, balance, duplicate, idempotency_key}`"), (status = 200, description = "The same key again: the first answer, charged once"), (status = 402, description = "`insufficient_coins` (or diamonds) with `required` and `available`; nothing written"), (status = 403, description = "`vip_required`: a VIP-only gift from a sender below its tier"), (status = 409, description = "A recipient holds no seat, or the gift is retired")))]
async fn send_gift(
    State(s): State<AppState>,
    u: CurrentUser,
    Path(id): Path<RoomId>,
    headers: HeaderMap,
    Json(g): Json<GiftIn>,
) -> WebResult<Response> {
    let header_key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
    let (duplicate, body) = send(&s, &u, id, g, header_key).await?;
    Ok((if duplicate { StatusCode::OK } else { StatusCode::CREATED }, axum::Json(body)).into_response())
}

#[derive(Deserialize)]
struct Paging {
    before: Option<i64>,
    limit: Option<i64>,
    dir: Option<String>,
    by: Option<String>,
    period: Option<String>,
    page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/rooms/{id}/gifts", tag = "gifts", params(("id" = String, Path, description = "Room id"), ("before" = Option<i64>, Query, description = "Older than this"), ("limit" = Option<i64>, Query, description = "Default 50")), security(()), responses((status = 200, description = "`{gifts}`: the room gift history"), (status = 404, description = "No such room")))]
async fn room_gifts(State(s): State<AppState>, Path(id): Path<RoomId>, Query(q): Query<Paging>) -> WebResult<Response> {
    rooms::get(&s.db, id).await?.ok_or(AppError::NotFound)?;
    let lines = gifts::history(&s.db, HistoryOf::Room(id), q.before, q.limit.unwrap_or(50)).await?;
    Ok(ok(json!({"gifts": lines})))
}

#[utoipa::path(get, path = "/api/v1/me/gifts", tag = "gifts", params(("dir" = Option<String>, Query, description = "received (default) or sent"), ("before" = Option<i64>, Query, description = "Older than this"), ("limit" = Option<i64>, Query, description = "Default 50")), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{gifts}`")))]
async fn my_gifts(State(s): State<AppState>, u: CurrentUser, Query(q): Query<Paging>) -> WebResult<Response> {
    let of = match q.dir.as_deref().unwrap_or("received") {
        "received" => HistoryOf::Received(u.id()),
        "sent" => HistoryOf::Sent(u.id()),
        _ => return Err(AppError::field("dir", "sent or received").into()),
    };
    Ok(ok(json!({"gifts": gifts::history(&s.db, of, q.before, q.limit.unwrap_or(50)).await?})))
}

#[utoipa::path(get, path = "/api/v1/diamonds", tag = "diamonds", params(("by" = Option<String>, Query, description = "day (default), room or gift"), ("limit" = Option<i64>, Query, description = "1 to 366")), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{diamonds, rate, earned}`")))]
async fn diamonds(State(s): State<AppState>, u: CurrentUser, Query(q): Query<Paging>) -> WebResult<Response> {
    let by = match q.by.as_deref().unwrap_or("day") {
        "day" => EarnedBy::Day,
        "room" => EarnedBy::Room,
        "gift" => EarnedBy::Gift,
        _ => return Err(AppError::field("by", "day, room or gift").into()),
    };
    let b = economy::balances(&s.db, u.id()).await?;
    let earned = gifts::diamonds_earned(&s.db, u.id(), by, q.limit.unwrap_or(31).clamp(1, 366)).await?;
    Ok(ok(json!({"diamonds": b.diamonds, "rate": s.economy.diamond_rate, "earned": earned})))
}

#[derive(Deserialize, ToSchema)]
struct Diamonds {
    diamonds: i64,
}

pub(crate) fn exchange_gate(s: &AppState, who: AccountId) -> WebResult<()> {
    Ok(s.economy.exchanges.check(who.to_string())?)
}

#[utoipa::path(post, path = "/api/v1/diamonds/exchange", tag = "diamonds", request_body = Diamonds, security(("bearer" = []), ("session" = [])), responses((status = 201, description = "`{exchange}`: diamonds turned into coins"), (status = 402, description = "`insufficient_coins` (or diamonds) with `required` and `available`; nothing written"), (status = 409, description = "`exchange_closed`")))]
async fn exchange(State(s): State<AppState>, u: CurrentUser, Json(d): Json<Diamonds>) -> WebResult<Response> {
    crate::exchanges::require_open(&s, rooms_store::exchange_switches::Exchange::Diamonds).await?;
    exchange_gate(&s, u.id())?;
    let x = economy::exchange(&s.db, u.id(), d.diamonds, s.economy.diamond_rate, Utc::now()).await.map_err(|e| money(e, "diamonds"))?;
    Ok((StatusCode::CREATED, axum::Json(json!({"exchange": x}))).into_response())
}

#[utoipa::path(get, path = "/api/v1/diamonds/payouts", tag = "diamonds", security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{payouts}`")))]
async fn my_payouts(State(s): State<AppState>, u: CurrentUser) -> WebResult<Response> {
    Ok(ok(json!({"payouts": economy::payouts(&s.db, Some(u.id()), 50).await?})))
}

#[utoipa::path(post, path = "/api/v1/diamonds/payouts", tag = "diamonds", request_body = Diamonds, security(("bearer" = []), ("session" = [])), responses((status = 201, description = "`{payout}`: the diamonds are held at once"), (status = 402, description = "`insufficient_coins` (or diamonds) with `required` and `available`; nothing written")))]
async fn request_payout(State(s): State<AppState>, u: CurrentUser, Json(d): Json<Diamonds>) -> WebResult<Response> {
    exchange_gate(&s, u.id())?;
    let p = economy::request_payout(&s.db, u.id(), d.diamonds, Utc::now()).await.map_err(|e| money(e, "diamonds"))?;
    Ok((StatusCode::CREATED, axum::Json(json!({"payout": p}))).into_response())
}

#[utoipa::path(get, path = "/api/v1/admin/payouts", tag = "staff", security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{payouts}`: every payout request, newest 200")))]
async fn all_payouts(State(s): State<AppState>, _staff: Staff) -> WebResult<Response> {
    Ok(ok(json!({"payouts": economy::payouts(&s.db, None, 200).await?})))
}

#[utoipa::path(post, path = "/api/v1/admin/payouts/{id}/{action}", tag = "staff", params(("id" = String, Path, description = "Payout id"), ("action" = String, Path, description = "approve, reject or paid")), security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{payout}`"), (status = 404, description = "No such payout or action"), (status = 409, description = "`already_processed`, or `agency_confirmation_pending`: an agency member's payout waits for the agency's owner before staff approve it")))]
async fn decide_payout(
    State(s): State<AppState>,
    Staff(staff): Staff,
    Path((id, action)): Path<(PayoutId, String)>,
    _b: OptJson<Value>,
) -> WebResult<Response> {
    let action = match action.as_str() {
        "approve" => PayoutAction::Approve,
        "reject" => PayoutAction::Reject,
        "paid" => PayoutAction::MarkPaid,
        _ => return Err(AppError::NotFound.into()),
    };
    let p = economy::decide_payout(&s.db, id, staff.id(), action, Utc::now()).await?;
    Ok(ok(json!({"payout": p})))
}

/// A board and period from their names.
pub(crate) fn board_and_period(board: &str, period: Option<&str>) -> WebResult<(Board, Period)> {
    let b = Board::parse(board).ok_or(AppError::NotFound)?;
    let p = Period::parse(period.unwrap_or("daily")).ok_or_else(|| AppError::field("period", "daily, weekly, monthly or all"))?;
    Ok((b, p))
}

#[utoipa::path(get, path = "/api/v1/leaderboards/{board}", tag = "leaderboards", params(("board" = String, Path, description = "wealth, charm, rooms or agencies"), ("period" = Option<String>, Query, description = "daily (default), weekly, monthly or all"), ("page" = Option<i64>, Query, description = "From 0, 20 a page")), security((), ("bearer" = []), ("session" = [])), responses((status = 200, description = "`{board, period, key, rows, me}`: `me` is the caller rank when signed in"), (status = 404, description = "No such board")))]
async fn leaderboard(
    State(s): State<AppState>,
    u: crate::auth::MaybeUser,
    Path(board): Path<String>,
    Query(q): Query<Paging>,
) -> WebResult<Response> {
    let (b, p) = board_and_period(&board, q.period.as_deref())?;
    let now = Utc::now();
    let clock = &s.economy.settings.clock;
    s.boards.catch_up(&s.db, clock).await;
    let rows = s.boards.pages.page(&s.db, b, p, clock, now, q.page.unwrap_or(0)).await?;
    let me = match (&u.0, b) {
        (Some(u), Board::Wealth | Board::Charm) => s.boards.pages.rank(&s.db, b, p, clock, now, &u.id().to_string()).await?,
        _ => None,
    };
    Ok(ok(json!({
        "board": b, "period": p, "key": clock.key(p, now), "rows": *rows,
        "me": me.map(|(rank, amount)| json!({"rank": rank, "amount": amount})),
    })))
}
