//! Analytics over a date range from the pre-aggregated daily tables:
//! charts (server-side SVG), operator ranking, engagement, CSV export.

use super::kit::{self};
use super::nav;
use crate::auth::{CsrfToken, CurrentAdmin};
use crate::error::{AppError, AppResult};
use crate::templates::{AdminNav, Chrome};
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, NaiveDate, Utc};
use fantooo_domain::Permission;
use fantooo_store::analytics::{self, DailyStats, OperatorRank};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/stats", get(page))
        .route("/api/admin/stats", get(api))
        .route("/admin/stats/export.csv", get(export))
        .route("/api/admin/stats/export.csv", get(export))
        .route("/admin/stats/refresh", post(refresh))
        .route("/api/admin/stats/refresh", post(refresh))
}

#[derive(Deserialize, Default)]
struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The requested range (default: the last 30 days), at most two years.
fn range(q: &RangeQuery) -> AppResult<(NaiveDate, NaiveDate)> {
    let today = Utc::now().date_naive();
    let to = kit::date(&q.to).map_err(|_| AppError::field("to", "Use YYYY-MM-DD"))?.unwrap_or(today);
    let from = kit::date(&q.from).map_err(|_| AppError::field("from", "Use YYYY-MM-DD"))?.unwrap_or(to - Duration::days(29));
    if from > to {
        return Err(AppError::field("from", "The start must not be after the end"));
    }
    if (to - from).num_days() > 731 {
        return Err(AppError::field("from", "At most two years at a time"));
    }
    Ok((from, to))
}

/// Totals over the range and the rates derived from them.
#[derive(Debug, Clone, Default, Serialize)]
struct Summary {
    new_users: i64,
    messages: i64,
    chats_started: i64,
    revenue_cents: i64,
    credits_spent: i64,
    first_chatting_users: i64,
    first_paid_users: i64,
    /// Of the users who started chatting in the range, the share whose
    /// first paid message also fell in it.
    conversion_percent: f64,
    /// Average user messages per active user per day.
    messages_per_active_user: f64,
}

fn summarise(days: &[DailyStats]) -> Summary {
    let sum = |f: fn(&DailyStats) -> i64| days.iter().map(f).sum::<i64>();
    let active_days = sum(|d| d.active_users);
    let first_chatting = sum(|d| d.first_chatting_users);
    let first_paid = sum(|d| d.first_paid_users);
    Summary {
        new_users: sum(|d| d.new_users),
        messages: sum(|d| d.messages),
        chats_started: sum(|d| d.chats_started),
        revenue_cents: sum(|d| d.revenue_cents),
        credits_spent: sum(|d| d.credits_spent),
        first_chatting_users: first_chatting,
        first_paid_users: first_paid,
        conversion_percent: if first_chatting > 0 { (first_paid as f64 * 1000.0 / first_chatting as f64).round() / 10.0 } else { 0.0 },
        messages_per_active_user: if active_days > 0 {
            (sum(|d| d.user_messages) as f64 * 10.0 / active_days as f64).round() / 10.0
        } else {
            0.0
        },
    }
}

#[derive(Serialize)]
struct Report {
    from: NaiveDate,
    to: NaiveDate,
    summary: Summary,
    days: Vec<DailyStats>,
    operators: Vec<OperatorRank>,
}

async fn report(state: &AppState, me: &CurrentAdmin, q: &RangeQuery) -> AppResult<Report> {
    me.require(Permission::ViewAnalytics)?;
    let (from, to) = range(q)?;
    // Current when opened: today's numbers are recomputed if older than a
    // few seconds (the job keeps them fresh every 15 minutes otherwise).
    analytics::refresh_if_stale(&state.db, Utc::now(), Duration::seconds(10)).await?;
    let days = analytics::range(&state.db, from, to).await?;
    Ok(Report { from, to, summary: summarise(&days), operators: analytics::operator_ranking(&state.db, from, to, 20).await?, days })
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/stats.html")]
struct StatsPage {
    chrome: Chrome,
    nav: AdminNav,
    r: Report,
    charts: Vec<(&'static str, String)>,
}

impl StatsPage {
    fn kes(&self, cents: &i64) -> String {
        kit::kes(*cents)
    }
}

fn charts(days: &[DailyStats]) -> Vec<(&'static str, String)> {
    let labels: Vec<String> = days.iter().map(|d| d.day.to_string()).collect();
    let series = |f: &dyn Fn(&DailyStats) -> f64| days.iter().map(f).collect::<Vec<f64>>();
    let conversion =
        |d: &DailyStats| if d.first_chatting_users > 0 { d.first_paid_users as f64 * 100.0 / d.first_chatting_users as f64 } else { 0.0 };
    vec![
        ("New users", platform_backoffice::charts::bars("New users per day", &labels, &series(&|d| d.new_users as f64))),
        ("Active users", platform_backoffice::charts::bars("Active users per day", &labels, &series(&|d| d.active_users as f64))),
        ("Chats started", platform_backoffice::charts::bars("Chats started per day", &labels, &series(&|d| d.chats_started as f64))),
        ("Messages", platform_backoffice::charts::bars("Messages per day", &labels, &series(&|d| d.messages as f64))),
        (
            "Revenue (KES)",
            platform_backoffice::charts::bars("Revenue per day in KES", &labels, &series(&|d| d.revenue_cents as f64 / 100.0)),
        ),
        ("Free → paid conversion (%)", platform_backoffice::charts::bars("Conversion per day", &labels, &series(&conversion))),
    ]
}

async fn page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, Query(q): Query<RangeQuery>) -> AppResult<Response> {
    let r = report(&state, &me, &q).await?;
    let charts = charts(&r.days);
    Ok(StatsPage { chrome: me.chrome(&csrf, "/admin/stats"), nav: nav(&me), r, charts }.into_response())
}

async fn api(State(state): State<AppState>, me: CurrentAdmin, Query(q): Query<RangeQuery>) -> AppResult<Json<serde_json::Value>> {
    let r = report(&state, &me, &q).await?;
    Ok(Json(serde_json::to_value(&r).map_err(|e| AppError::Internal(e.to_string()))?))
}

async fn export(State(state): State<AppState>, me: CurrentAdmin, Query(q): Query<RangeQuery>) -> AppResult<Response> {
    let r = report(&state, &me, &q).await?;
    let mut csv = String::from("day,new_users,active_users,chats_started,messages,user_messages,paid_messages,credits_spent,revenue_kes,purchases,first_chatting_users,first_paid_users\n");
    for d in &r.days {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{:.2},{},{},{}\n",
            d.day,
            d.new_users,
            d.active_users,
            d.chats_started,
            d.messages,
            d.user_messages,
            d.paid_messages,
            d.credits_spent,
            d.revenue_cents as f64 / 100.0,
            d.purchases,
            d.first_chatting_users,
            d.first_paid_users
        ));
    }
    let name = format!("attachment; filename=\"fantooo-stats-{}-{}.csv\"", r.from, r.to);
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, name)], csv).into_response())
}

/// Re-aggregates now (the job does this every 15 minutes).
async fn refresh(State(state): State<AppState>, via: super::kit::Via, me: CurrentAdmin) -> AppResult<Response> {
    me.require(Permission::ViewAnalytics)?;
    let outcome = async {
        let days = analytics::refresh(&state.db, Utc::now(), 2, 400).await?;
        Ok((format!("{days} days refreshed"), json!({ "days": days })))
    }
    .await;
    via.finish("/admin/stats", outcome)
}
