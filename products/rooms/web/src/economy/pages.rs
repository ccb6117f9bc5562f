//! The economy's pages: `/coins` (balances, packages for the viewer's
//! country, buying through the provider, transfers with a confirmation
//! step, diamonds: earnings, exchange and payouts, history) and
//! `/leaderboards` (boards per period, refreshed live by `gifts.js`), plus
//! the gift panel's script, style and animations.

use super::{money, payments};
use crate::auth::CurrentUser;
use crate::error::{AppError, WebResult};
use crate::pages::Frame;
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use platform_ledger::Entry;
use platform_web::request::CsrfToken;
use rooms_domain::ids::PackageId;
use rooms_domain::progress::{Period, Track};
use rooms_store::economy::{self, Balances, Package, Payout, Purchase};
use rooms_store::gifts::{self, Earned, EarnedBy};
use rooms_store::leaderboards::{self, Board, Level, Row};
use serde::Deserialize;

/// The demo gifts' animations: small SVGs of our own, animated by CSS.
pub const ANIMATIONS: &[(&str, &str)] = &[
    ("rose", include_str!("../../assets/gifts/rose.svg")),
    ("heart", include_str!("../../assets/gifts/heart.svg")),
    ("star", include_str!("../../assets/gifts/star.svg")),
    ("crown", include_str!("../../assets/gifts/crown.svg")),
    ("rocket", include_str!("../../assets/gifts/rocket.svg")),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/coins", get(coins_page))
        .route("/coins/buy", post(buy))
        .route("/coins/return", get(back_from_checkout))
        .route("/coins/transfer", post(transfer))
        .route("/coins/exchange", post(exchange))
        .route("/coins/payout", post(payout))
        .route("/leaderboards", get(leaderboards_page))
        .route("/assets/gifts/{name}", get(animation))
}

async fn animation(Path(name): Path<String>) -> WebResult<Response> {
    let stem = name.strip_suffix(".svg").ok_or(AppError::NotFound)?;
    let (_, svg) = ANIMATIONS.iter().find(|(n, _)| *n == stem).ok_or(AppError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], *svg).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "coins.html")]
struct CoinsPage {
    f: Frame,
    balances: Balances,
    packages: Vec<Package>,
    country: String,
    coin_history: Vec<Entry>,
    diamond_history: Vec<Entry>,
    purchases: Vec<Purchase>,
    payouts: Vec<Payout>,
    earned: Vec<Earned>,
    wealth: Level,
    charm: Level,
    rate: i64,
    notice: String,
    /// Why the diamond exchange is off (staff switch); empty while it is on.
    exchange_closed: String,
}

#[derive(Deserialize, Default)]
struct CoinsQuery {
    notice: Option<String>,
}

async fn coins_page(State(s): State<AppState>, csrf: CsrfToken, u: CurrentUser, Query(q): Query<CoinsQuery>) -> WebResult<CoinsPage> {
    let id = u.id();
    let notice = match q.notice.as_deref() {
        Some("credited") => "Payment received: your coins are in.",
        Some("pending") => "Your payment is being confirmed; the coins arrive as soon as it is.",
        Some("failed") => "The payment did not go through; nothing was charged here.",
        Some("review") => "The payment differs from the package price; staff will review it.",
        Some("sent") => "Coins sent.",
        Some("exchanged") => "Diamonds exchanged for coins.",
        Some("payout") => "Payout requested; staff will review it.",
        _ => "",
    };
    Ok(CoinsPage {
        balances: economy::balances(&s.db, id).await?,
        packages: economy::packages_for(&s.db, u.account.country.as_deref()).await?,
        country: u.account.country.clone().unwrap_or_default(),
        coin_history: economy::history(&s.db, id, &economy::coins(), None, 20).await?,
        diamond_history: economy::history(&s.db, id, &economy::diamonds(), None, 10).await?,
        purchases: economy::purchases_of(&s.db, id, 10).await?,
        payouts: economy::payouts(&s.db, Some(id), 10).await?,
        earned: gifts::diamonds_earned(&s.db, id, EarnedBy::Day, 7).await?,
        wealth: leaderboards::level(&s.db, Track::Wealth, &id.to_string()).await?,
        charm: leaderboards::level(&s.db, Track::Charm, &id.to_string()).await?,
        rate: s.economy.diamond_rate,
        notice: notice.to_string(),
        exchange_closed: crate::agencies::closed_reason(&s, rooms_store::exchange_switches::Exchange::Diamonds).await?,
        f: Frame::new(&csrf, Some(&u)),
    })
}

#[derive(Deserialize)]
struct BuyForm {
    package_id: PackageId,
}

async fn buy(State(s): State<AppState>, u: CurrentUser, headers: HeaderMap, Form(b): Form<BuyForm>) -> WebResult<Response> {
    let site = payments::site_url(&s, &headers);
    let (checkout, _) = payments::start_checkout(&s, &u.account, b.package_id, &site).await?;
    Ok(Redirect::to(&checkout.authorization_url).into_response())
}

#[derive(Deserialize)]
struct ReturnQuery {
    reference: Option<String>,
    trxref: Option<String>,
}

/// The provider sends the buyer back here: ask it, apply the answer.
async fn back_from_checkout(State(s): State<AppState>, u: CurrentUser, Query(q): Query<ReturnQuery>) -> WebResult<Response> {
    let reference = q.reference.or(q.trxref).ok_or_else(|| AppError::field("reference", "missing"))?;
    let p = economy::purchase(&s.db, &reference).await?;
    if p.account_id != u.id() {
        return Err(AppError::NotFound.into());
    }
    let status = match payments::verify(&s, &reference).await {
        Ok((_, p)) => p.status,
        Err(_) => "pending".to_string(),
    };
    let notice = if status == "credited" { "credited" } else { status.as_str() };
    Ok(Redirect::to(&format!("/coins?notice={notice}")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "transfer_confirm.html")]
struct ConfirmPage {
    f: Frame,
    to_number: i64,
    to_name: String,
    amount: i64,
    key: String,
}

#[derive(Deserialize)]
struct TransferForm {
    to: i64,
    amount: i64,
    #[serde(default)]
    confirm: Option<String>,
    key: Option<String>,
}

/// Step 1 shows who and how much; step 2 (`confirm`) moves the coins.
async fn transfer(State(s): State<AppState>, csrf: CsrfToken, u: CurrentUser, Form(t): Form<TransferForm>) -> WebResult<Response> {
    let to = super::api::recipient(&s, t.to).await?;
    if t.amount < 1 {
        return Err(AppError::field("amount", "Enter a whole number of coins, at least 1.").into());
    }
    match (t.confirm.as_deref(), t.key) {
        (Some("yes"), Some(key)) => {
            economy::transfer(&s.db, u.id(), to.id, t.amount, &key, Utc::now()).await.map_err(|e| money(e, "coins"))?;
            Ok(Redirect::to("/coins?notice=sent").into_response())
        }
        _ => Ok(ConfirmPage {
            f: Frame::new(&csrf, Some(&u)),
            to_number: to.public_number,
            to_name: to.display_name,
            amount: t.amount,
            key: platform_accounts::random_token(),
        }
        .into_response()),
    }
}

#[derive(Deserialize)]
struct DiamondsForm {
    diamonds: i64,
}

async fn exchange(State(s): State<AppState>, u: CurrentUser, Form(d): Form<DiamondsForm>) -> WebResult<Response> {
    crate::exchanges::require_open(&s, rooms_store::exchange_switches::Exchange::Diamonds).await?;
    super::api::exchange_gate(&s, u.id())?;
    economy::exchange(&s.db, u.id(), d.diamonds, s.economy.diamond_rate, Utc::now()).await.map_err(|e| money(e, "diamonds"))?;
    Ok(Redirect::to("/coins?notice=exchanged").into_response())
}

async fn payout(State(s): State<AppState>, u: CurrentUser, Form(d): Form<DiamondsForm>) -> WebResult<Response> {
    super::api::exchange_gate(&s, u.id())?;
    economy::request_payout(&s.db, u.id(), d.diamonds, Utc::now()).await.map_err(|e| money(e, "diamonds"))?;
    Ok(Redirect::to("/coins?notice=payout").into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "leaderboards.html")]
struct BoardsPage {
    f: Frame,
    board: &'static str,
    period: &'static str,
    rows: Vec<Row>,
    me: Option<(i64, i64)>,
}

impl BoardsPage {
    fn boards(&self) -> [(&'static str, &'static str); 4] {
        [("wealth", "Wealth"), ("charm", "Charm"), ("rooms", "Rooms"), ("agencies", "Agencies")]
    }
    fn periods(&self) -> [(&'static str, &'static str); 4] {
        [("daily", "Today"), ("weekly", "This week"), ("monthly", "This month"), ("all", "All time")]
    }
}

#[derive(Deserialize, Default)]
struct BoardsQuery {
    board: Option<String>,
    period: Option<String>,
}

async fn leaderboards_page(
    State(s): State<AppState>,
    csrf: CsrfToken,
    u: crate::auth::MaybeUser,
    Query(q): Query<BoardsQuery>,
) -> WebResult<BoardsPage> {
    let (board, period) = super::api::board_and_period(q.board.as_deref().unwrap_or("wealth"), q.period.as_deref())?;
    let now = Utc::now();
    let clock = &s.economy.settings.clock;
    s.boards.catch_up(&s.db, clock).await;
    let rows = s.boards.pages.page(&s.db, board, period, clock, now, 0).await?.to_vec();
    let me = match (&u.0, board) {
        (Some(u), Board::Wealth | Board::Charm) => s.boards.pages.rank(&s.db, board, period, clock, now, &u.id().to_string()).await?,
        _ => None,
    };
    Ok(BoardsPage { f: Frame::new(&csrf, u.0.as_ref()), board: board.as_str(), period: period_name(period), rows, me })
}

fn period_name(p: Period) -> &'static str {
    p.as_str()
}
