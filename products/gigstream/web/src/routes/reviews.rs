//! Reviews: the form on a completed order (each side reviews the other,
//! editable for 24 hours), the seller's one reply, the seller's review
//! insights page, the summaries shown on gigs and profiles, and their JSON
//! twins.

use super::common::{FormIn, JsonIn};
use super::pages::chrome;
use crate::auth::{CsrfToken, CurrentUser};
use crate::views::{ReviewInsightsPage, ReviewLine, ReviewPage, ReviewSummary};
use crate::{AppError, AppResult, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use gigstream_domain::ids::{AccountId, GigId, OrderId};
use gigstream_domain::reviews::{self, ReviewId, ReviewInput, Subject};
use gigstream_store::orders::{self, Order};
use gigstream_store::reviews::Review;
use gigstream_store::{accounts, gigs};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/orders/{id}/reviews", get(order_reviews_api).post(write_api))
        .route("/api/v1/reviews/{id}/reply", post(reply_api))
        .route("/api/v1/users/{username}/reviews", get(user_reviews_api))
        .route("/api/v1/gigs/{slug}/reviews", get(gig_reviews_api))
        .route("/orders/{id}/review", get(review_page).post(write_page))
        .route("/reviews/{id}/reply", post(reply_page))
        .route("/dashboard/reviews", get(insights_page))
}

/// Months of trend on the insights page and in the API.
const TREND_MONTHS: u32 = 6;

fn order_id(s: &str) -> Result<OrderId, AppError> {
    s.parse().map_err(|_| AppError::NotFound)
}

/// The order, for its buyer or seller only.
async fn party_order(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<Order> {
    let o = orders::get(&state.db, order_id(id)?).await?;
    if user.account.id != o.buyer_id && user.account.id != o.seller_id {
        return Err(AppError::NotFound);
    }
    Ok(o)
}

fn subject_for(o: &Order, me: AccountId) -> Subject {
    if me == o.buyer_id {
        Subject::Seller
    } else {
        Subject::Buyer
    }
}

async fn write(state: &AppState, user: &CurrentUser, o: &Order, input: &ReviewInput) -> AppResult<(Review, bool)> {
    let subject = subject_for(o, user.account.id);
    let ratings = reviews::check(subject, input)?;
    let before = gigstream_store::reviews::for_order(&state.db, o.id).await?.into_iter().any(|r| r.subject == subject);
    let r = gigstream_store::reviews::write(&state.db, o, user.account.id, &ratings, Utc::now()).await?;
    if !before {
        let title = format!("{} reviewed you", r.reviewer_name);
        let body = format!("{} out of 5 for “{}”.", r.overall, r.gig_title);
        let event = gigstream_domain::notifications::Event::ReviewReceived;
        crate::notify::send(state, r.reviewee_id, event, &title, &body, &format!("/orders/{}", o.id)).await;
    }
    Ok((r, !before))
}

async fn order_reviews_api(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> AppResult<Json<Value>> {
    let o = party_order(&state, &user, &id).await?;
    let list = gigstream_store::reviews::for_order(&state.db, o.id).await?;
    Ok(Json(json!({ "reviews": list, "may_review": reviews::reviewable(o.status).is_ok() })))
}

async fn write_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonIn(input): JsonIn<ReviewInput>,
) -> AppResult<Response> {
    let o = party_order(&state, &user, &id).await?;
    let (r, fresh) = write(&state, &user, &o, &input).await?;
    Ok((if fresh { StatusCode::CREATED } else { StatusCode::OK }, Json(json!({ "review": r }))).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReplyIn {
    reply: String,
}

async fn reply(state: &AppState, user: &CurrentUser, id: &str, text: &str) -> AppResult<Review> {
    let id: ReviewId = id.parse().map_err(|_| AppError::NotFound)?;
    let text = reviews::check_reply(text)?;
    Ok(gigstream_store::reviews::reply(&state.db, id, user.account.id, &text, Utc::now()).await?)
}

async fn reply_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonIn(r): JsonIn<ReplyIn>,
) -> AppResult<Json<Value>> {
    Ok(Json(json!({ "review": reply(&state, &user, &id, &r.reply).await? })))
}

pub(super) async fn analytics_of(state: &AppState, seller: AccountId, gig: Option<GigId>) -> AppResult<reviews::Analytics> {
    let points = gigstream_store::reviews::points(&state.db, seller, gig).await?;
    Ok(reviews::analyze(&points, Utc::now(), TREND_MONTHS))
}

async fn user_reviews_api(State(state): State<AppState>, Path(username): Path<String>) -> AppResult<Json<Value>> {
    let a = accounts::by_username(&state.db, &username).await?;
    let list = gigstream_store::reviews::of_seller(&state.db, a.id, None, 50).await?;
    Ok(Json(json!({ "analytics": analytics_of(&state, a.id, None).await?, "reviews": list })))
}

async fn gig_reviews_api(State(state): State<AppState>, Path(slug): Path<String>) -> AppResult<Json<Value>> {
    let page = gigs::page(&state.db, &slug, None).await?;
    let g = &page.gig;
    let list = gigstream_store::reviews::of_seller(&state.db, g.seller_id, Some(g.id), 50).await?;
    Ok(Json(json!({
        "rating_x100": g.rating_x100,
        "rating_count": g.rating_count,
        "analytics": analytics_of(&state, g.seller_id, Some(g.id)).await?,
        "reviews": list,
    })))
}

fn line(r: &Review, now: chrono::DateTime<Utc>) -> ReviewLine {
    ReviewLine {
        id: r.id.to_string(),
        reviewer: r.reviewer_name.clone(),
        gig_title: r.gig_title.clone(),
        overall: r.overall,
        stars: "★".repeat(r.overall as usize) + &"☆".repeat(5 - r.overall as usize),
        communication: r.communication,
        as_described: r.as_described,
        recommend: r.recommend,
        comment: r.comment.clone(),
        reply: r.reply.clone(),
        at: r.created_at.format("%d %b %Y").to_string(),
        editable: r.editable(now),
    }
}

/// The review block of a gig page or a profile: the average, the count,
/// the distribution and the latest reviews of the seller (of one gig).
pub async fn summary(state: &AppState, seller: AccountId, gig: Option<GigId>) -> AppResult<ReviewSummary> {
    let a = analytics_of(state, seller, gig).await?;
    let now = Utc::now();
    let latest = gigstream_store::reviews::of_seller(&state.db, seller, gig, 5).await?;
    Ok(ReviewSummary {
        count: a.count,
        average: a.average_x100.map(reviews::stars_text),
        recommend_percent: a.recommend_percent,
        distribution: a.distribution.iter().map(|b| (b.stars, b.count, b.percent)).collect(),
        latest: latest.iter().map(|r| line(r, now)).collect(),
    })
}

async fn render(
    state: &AppState,
    csrf: &CsrfToken,
    user: &CurrentUser,
    o: &Order,
    input: ReviewInput,
    errors: Vec<(String, String)>,
) -> AppResult<Response> {
    let me = user.account.id;
    let now = Utc::now();
    let list = gigstream_store::reviews::for_order(&state.db, o.id).await?;
    let subject = subject_for(o, me);
    let mine = list.iter().find(|r| r.subject == subject);
    let theirs = list.iter().find(|r| r.subject != subject);
    let open = reviews::reviewable(o.status);
    let may_write = open.is_ok() && mine.is_none_or(|r| r.editable(now));
    // The form starts from what was sent, else from one's review.
    let form = if errors.is_empty() {
        match mine {
            Some(r) => ReviewInput {
                overall: r.overall as i64,
                communication: r.communication.map(i64::from),
                as_described: r.as_described.map(i64::from),
                recommend: r.recommend,
                comment: r.comment.clone(),
            },
            None => input,
        }
    } else {
        input
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = ReviewPage {
        chrome: chrome(csrf, Some(user)),
        order_id: o.id.to_string(),
        title: o.gig_title.clone(),
        of_seller: subject == Subject::Seller,
        closed_reason: open.err(),
        may_write,
        mine: mine.map(|r| line(r, now)),
        theirs: theirs.map(|r| line(r, now)),
        may_reply: theirs.is_some_and(|r| r.subject == Subject::Seller && r.reply.is_none()),
        overall: form.overall,
        communication: form.communication.unwrap_or(0),
        as_described: form.as_described.unwrap_or(0),
        recommend: form.recommend,
        comment: form.comment,
        errors,
    };
    Ok((status, page).into_response())
}

async fn review_page(State(state): State<AppState>, csrf: CsrfToken, user: CurrentUser, Path(id): Path<String>) -> AppResult<Response> {
    let o = party_order(&state, &user, &id).await?;
    render(&state, &csrf, &user, &o, ReviewInput::default(), vec![]).await
}

/// The review form's fields; radio groups that were left alone are absent.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ReviewForm {
    overall: String,
    communication: String,
    as_described: String,
    recommend: String,
    comment: String,
}

impl ReviewForm {
    fn input(&self) -> ReviewInput {
        let n = |s: &str| if s.is_empty() { None } else { Some(s.parse::<i64>().unwrap_or(0)) };
        ReviewInput {
            overall: n(&self.overall).unwrap_or(0),
            communication: n(&self.communication),
            as_described: n(&self.as_described),
            recommend: match self.recommend.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            comment: self.comment.clone(),
        }
    }
}

async fn write_page(
    State(state): State<AppState>,
    csrf: CsrfToken,
    user: CurrentUser,
    Path(id): Path<String>,
    FormIn(f): FormIn<ReviewForm>,
) -> AppResult<Response> {
    let o = party_order(&state, &user, &id).await?;
    let input = f.input();
    match write(&state, &user, &o, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/orders/{}/review", o.id)).into_response()),
        Err(AppError::Validation(e)) => {
            let errors = e.0.iter().map(|f| (f.field.to_string(), f.message.clone())).collect();
            render(&state, &csrf, &user, &o, input, errors).await
        }
        Err(e) => Err(e),
    }
}

async fn reply_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    FormIn(r): FormIn<ReplyIn>,
) -> AppResult<Response> {
    let review = reply(&state, &user, &id, &r.reply).await?;
    Ok(Redirect::to(&format!("/orders/{}/review", review.order_id)).into_response())
}

async fn insights_page(State(state): State<AppState>, csrf: CsrfToken, user: CurrentUser) -> AppResult<Response> {
    let a = analytics_of(&state, user.account.id, None).await?;
    let now = Utc::now();
    let latest = gigstream_store::reviews::of_seller(&state.db, user.account.id, None, 20).await?;
    Ok(ReviewInsightsPage {
        chrome: chrome(&csrf, Some(&user)),
        count: a.count,
        average: a.average_x100.map(reviews::stars_text),
        communication: a.communication_x100.map(reviews::stars_text),
        as_described: a.as_described_x100.map(reviews::stars_text),
        recommend_percent: a.recommend_percent,
        distribution: a.distribution.iter().map(|b| (b.stars, b.count, b.percent)).collect(),
        by_category: a.by_category.iter().map(|c| (c.category.clone(), c.count, reviews::stars_text(c.average_x100))).collect(),
        trend: a.trend.iter().map(|m| (m.month.clone(), m.count, m.average_x100.map(reviews::stars_text))).collect(),
        latest: latest.iter().map(|r| line(r, now)).collect(),
    }
    .into_response())
}
