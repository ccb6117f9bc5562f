//! The dashboards: the seller's (earnings per day and per month as SVG
//! charts with their tables, the orders pipeline, the activity timeline,
//! quick actions, the response rate, review insights) and the buyer's
//! (orders, favourite gigs), each a page and a JSON twin; and saving a gig
//! as a favourite.

use super::common::FormIn;
use super::pages::{chrome, order_line};
use crate::auth::{CsrfToken, CurrentUser};
use crate::templates::{money, Card};
use crate::views::{BuyerDashboard, ChartView, SellerDashboard, TimelineLine};
use crate::{AppError, AppResult, AppState};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use gigstream_domain::dashboard::{self, Period, QuickAction, ResponseRate, SellerCounts, Stage};
use gigstream_domain::ids::GigId;
use gigstream_domain::order::{Action, OrderStatus};
use gigstream_domain::reviews::{stars_text, Analytics};
use gigstream_domain::Currency;
use gigstream_store::dashboard::{self as data, Activity};
use gigstream_store::orders::Order;
use gigstream_store::search::Hit;
use gigstream_store::wallet::{self, Balances};
use gigstream_store::{gigs, messages, orders};
use platform_backoffice::charts::{described_bars, Described};
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(seller_page))
        .route("/dashboard/buying", get(buyer_page))
        .route("/api/v1/dashboard/selling", get(seller_api))
        .route("/api/v1/dashboard/buying", get(buyer_api))
        .route("/gigs/{slug}/favourite", post(favourite_page))
        .route("/api/v1/gigs/id/{id}/favourite", put(favourite_put).delete(favourite_delete))
}

/// Days in the daily chart, months in the monthly one.
const DAYS: u32 = 30;
const MONTHS: u32 = 12;
/// The response rate looks at this many days of messages.
const RESPONSE_DAYS: i64 = 30;
const ACTIVITY: i64 = 15;

/// Everything on the seller's dashboard.
#[derive(Serialize)]
struct Selling {
    currency: Currency,
    balances: Balances,
    earnings_by_day: Vec<Period>,
    earnings_by_month: Vec<Period>,
    pipeline: Vec<Stage>,
    activity: Vec<Activity>,
    quick_actions: Vec<QuickAction>,
    response_rate: ResponseRate,
    reviews: Analytics,
    orders: Vec<Order>,
}

async fn selling(state: &AppState, user: &CurrentUser, now: DateTime<Utc>) -> AppResult<Selling> {
    let me = user.account.id;
    let currency = state.config.currency;
    let earned = data::earned_since(&state.db, me, now - Duration::days(31 * MONTHS as i64)).await?;
    let counts = data::status_counts(&state.db, me, true).await?;
    let count = |want: &[OrderStatus]| counts.iter().filter(|(s, _)| want.contains(s)).map(|(_, n)| n).sum::<i64>();
    let balances = wallet::balances(&state.db, me, currency).await?;
    let said = data::seller_messages(&state.db, me, now - Duration::days(RESPONSE_DAYS + 1)).await?;
    let quick = SellerCounts {
        gigs: gigs::by_seller(&state.db, me, false).await?.len() as i64,
        to_deliver: count(&[OrderStatus::InProgress, OrderStatus::RevisionRequested]),
        late: data::late_count(&state.db, me, now).await?,
        unread_messages: messages::unread_total(&state.db, me).await?,
        available_minor: balances.available,
        withdrawal_min_minor: state.config.withdrawals.minimum_minor,
    };
    Ok(Selling {
        currency,
        balances,
        earnings_by_day: dashboard::earnings_by_day(&earned, now.date_naive(), DAYS),
        earnings_by_month: dashboard::earnings_by_month(&earned, now, MONTHS),
        pipeline: dashboard::pipeline(&counts),
        activity: data::activity(&state.db, me, ACTIVITY).await?,
        quick_actions: dashboard::seller_actions(&quick),
        response_rate: dashboard::response_rate(&said, now, now - Duration::days(RESPONSE_DAYS)),
        reviews: super::reviews::analytics_of(state, me, None).await?,
        orders: orders::for_account(&state.db, me, true, 50).await?,
    })
}

async fn seller_api(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<Selling>> {
    Ok(Json(selling(&state, &user, Utc::now()).await?))
}

fn chart(id: &str, title: &str, periods: &[Period], currency: Currency) -> ChartView {
    let labels: Vec<String> = periods.iter().map(|p| p.label.clone()).collect();
    let texts: Vec<String> = periods.iter().map(|p| money(p.amount_minor, currency)).collect();
    let values: Vec<f64> = periods.iter().map(|p| p.amount_minor as f64).collect();
    let total: i64 = periods.iter().map(|p| p.amount_minor).sum();
    let best = periods.iter().enumerate().filter(|(_, p)| p.amount_minor > 0).max_by_key(|(i, p)| (p.amount_minor, *i));
    let desc = match (periods.first(), periods.last(), best) {
        (Some(first), Some(last), Some((i, p))) => format!(
            "From {} to {}: {} in all; the highest was {} on {}.",
            first.label,
            last.label,
            money(total, currency),
            texts[i],
            p.label
        ),
        (Some(first), Some(last), None) => format!("From {} to {}: no earnings yet.", first.label, last.label),
        _ => "No periods.".into(),
    };
    let svg = described_bars(&Described { id, title, desc: &desc, labels: &labels, values: &values, texts: &texts });
    ChartView {
        id: id.to_string(),
        title: title.to_string(),
        svg,
        rows: periods.iter().zip(&texts).map(|(p, t)| (p.label.clone(), p.orders, t.clone())).collect(),
    }
}

fn timeline(a: &[Activity]) -> Vec<TimelineLine> {
    a.iter()
        .map(|e| TimelineLine {
            order_id: e.order_id.to_string(),
            title: e.gig_title.clone(),
            what: e.action.parse::<Action>().map(Action::timeline_words).unwrap_or("Order placed"),
            side: if e.selling { "selling" } else { "buying" },
            status: e.to_status.label(),
            at: e.created_at.format("%Y-%m-%d %H:%M").to_string(),
        })
        .collect()
}

async fn seller_page(State(state): State<AppState>, csrf: CsrfToken, user: CurrentUser) -> AppResult<Response> {
    let now = Utc::now();
    let s = selling(&state, &user, now).await?;
    let c = s.currency;
    let gigs = gigs::by_seller(&state.db, user.account.id, true)
        .await?
        .into_iter()
        .map(|g| (g.slug, g.title, g.status.to_string(), money(g.min_price_minor, g.currency)))
        .collect();
    let r = &s.response_rate;
    Ok(SellerDashboard {
        chrome: chrome(&csrf, Some(&user)),
        pending: money(s.balances.pending, c),
        available: money(s.balances.available, c),
        month_total: money(s.earnings_by_month.last().map_or(0, |p| p.amount_minor), c),
        response_percent: r.percent,
        response_asked: r.asked,
        response_median: r.median_minutes.map(minutes_text),
        charts: vec![
            chart("earnings-day", "Earnings per day, last 30 days", &s.earnings_by_day, c),
            chart("earnings-month", "Earnings per month, last 12 months", &s.earnings_by_month, c),
        ],
        pipeline: s.pipeline.iter().map(|st| (st.label, st.count)).collect(),
        actions: s.quick_actions.clone(),
        timeline: timeline(&s.activity),
        review_count: s.reviews.count,
        review_average: s.reviews.average_x100.map(stars_text),
        review_recommend: s.reviews.recommend_percent,
        review_distribution: s.reviews.distribution.iter().map(|b| (b.stars, b.count, b.percent)).collect(),
        gigs,
        selling: s.orders.iter().map(order_line).collect(),
    }
    .into_response())
}

fn minutes_text(m: i64) -> String {
    match m {
        0 => "under a minute".into(),
        1..=59 => format!("{m} min"),
        _ => format!("{} h {} min", m / 60, m % 60),
    }
}

/// Everything on the buyer's dashboard.
#[derive(Serialize)]
struct Buying {
    /// Orders waiting for the buyer, with what to do.
    to_do: Vec<(Order, &'static str)>,
    orders: Vec<Order>,
    pipeline: Vec<Stage>,
    favourites: Vec<Hit>,
}

async fn buying(state: &AppState, user: &CurrentUser) -> AppResult<Buying> {
    let me = user.account.id;
    let orders = orders::for_account(&state.db, me, false, 50).await?;
    let to_do = orders.iter().filter_map(|o| dashboard::buyer_todo(o.status).map(|t| (o.clone(), t))).collect();
    Ok(Buying {
        to_do,
        pipeline: dashboard::pipeline(&data::status_counts(&state.db, me, false).await?),
        favourites: data::favourites(&state.db, me, 50).await?,
        orders,
    })
}

async fn buyer_api(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<Buying>> {
    Ok(Json(buying(&state, &user).await?))
}

async fn buyer_page(State(state): State<AppState>, csrf: CsrfToken, user: CurrentUser) -> AppResult<Response> {
    let b = buying(&state, &user).await?;
    Ok(BuyerDashboard {
        chrome: chrome(&csrf, Some(&user)),
        to_do: b.to_do.iter().map(|(o, t)| (order_line(o), *t)).collect(),
        pipeline: b.pipeline.iter().map(|st| (st.label, st.count)).collect(),
        orders: b.orders.iter().map(order_line).collect(),
        cards: b.favourites.iter().map(Card::from_hit).collect(),
    }
    .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FavouriteForm {
    /// "1" saves the gig, anything else takes it off.
    save: String,
}

async fn favourite_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    FormIn(form): FormIn<FavouriteForm>,
) -> AppResult<Response> {
    let page = gigs::page(&state.db, &slug, Some(user.account.id)).await?;
    set_favourite(&state, &user, page.gig.id, form.save == "1").await?;
    Ok(Redirect::to(&format!("/gigs/{slug}")).into_response())
}

async fn set_favourite(state: &AppState, user: &CurrentUser, gig: GigId, save: bool) -> AppResult<()> {
    if save {
        data::add_favourite(&state.db, user.account.id, gig, Utc::now()).await?;
    } else {
        data::remove_favourite(&state.db, user.account.id, gig).await?;
    }
    Ok(())
}

fn gig_id(s: &str) -> AppResult<GigId> {
    s.parse().map_err(|_| AppError::NotFound)
}

async fn favourite_put(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> AppResult<Json<serde_json::Value>> {
    set_favourite(&state, &user, gig_id(&id)?, true).await?;
    Ok(Json(serde_json::json!({ "favourite": true })))
}

async fn favourite_delete(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> AppResult<Json<serde_json::Value>> {
    set_favourite(&state, &user, gig_id(&id)?, false).await?;
    Ok(Json(serde_json::json!({ "favourite": false })))
}
