//! Buying credits: the /credits page (packages with savings and badges, the
//! suggested package, tier, streak, achievements, history), the checkout
//! start and return, the provider's webhook, and the same as JSON.

use crate::auth::{CsrfToken, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::purchases::{self, decision_name};
use crate::routes::api::ApiJson;
use crate::templates::Chrome;
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use fantooo_domain::ids::{ChatId, PackageId};
use fantooo_domain::offer::{baseline, savings_percent, suggest};
use fantooo_domain::payment::{Decision, TransactionStatus};
use fantooo_domain::rewards::Achievement;
use fantooo_domain::{Kes, UserTier};
use fantooo_store::ledger::{self, Entry};
use fantooo_store::notifications::UserNotification as Notification;
use fantooo_store::packages::{self, Package};
use fantooo_store::payments::{self, Transaction};
use fantooo_store::{chats, rewards, users};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/credits", get(credits_page))
        .route("/credits/buy", post(buy_form))
        .route("/credits/return", get(return_page))
        .route("/chat/{id}/paid", get(paid_in_chat))
        .route("/credits/daily", post(daily_form))
        .route("/credits/achievements", post(achievements_form))
        .route("/api/credits", get(api_overview))
        .route("/api/payments/packages", get(api_packages))
        .route("/api/payments/initialize", post(api_initialize))
        .route("/api/payments/verify", post(api_verify))
        .route("/api/payments/transactions", get(api_transactions))
        .route("/api/rewards", get(api_rewards))
        .route("/api/rewards/daily", post(api_daily))
        .route("/api/rewards/achievements", post(api_claim_achievements))
        .route("/api/webhooks/paystack", post(paystack_webhook))
}

/// A package as the buyer sees it.
#[derive(Debug, Clone, Serialize)]
pub struct OfferView {
    #[serde(flatten)]
    pub package: Package,
    pub cents_per_credit: i64,
    pub savings_percent: i64,
    pub total_credits: i64,
    pub suggested: bool,
}

impl OfferView {
    pub fn per_credit(&self) -> Kes {
        Kes(self.cents_per_credit)
    }
    pub fn price(&self) -> Kes {
        Kes(self.package.price_cents)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AchievementView {
    pub achievement: Achievement,
    pub title: &'static str,
    pub description: &'static str,
    pub reward: i64,
    pub earned: bool,
    /// Met but not yet claimed.
    pub claimable: bool,
    pub have: i64,
    pub goal: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Streak {
    pub days: i64,
    pub claimed_today: bool,
}

/// Everything the credits page and `GET /api/credits` show.
#[derive(Debug, Serialize)]
pub struct Overview {
    pub balance: i64,
    pub tier: UserTier,
    pub total_spent_cents: i64,
    /// The next tier and the spend still needed to reach it.
    pub next_tier: Option<(UserTier, i64)>,
    pub packages: Vec<OfferView>,
    pub suggested_package_id: Option<PackageId>,
    pub messages_per_day: f64,
    pub streak: Streak,
    pub achievements: Vec<AchievementView>,
}

async fn offers(state: &AppState, user: &users::User) -> AppResult<(Vec<OfferView>, f64)> {
    let list = packages::offered_to(&state.db, user.id).await?;
    let plain: Vec<_> = list.iter().map(Package::offer).collect();
    let base = baseline(&plain);
    let rate = rewards::messages_per_day(&state.db, user.id, 7, chrono::Utc::now()).await?;
    let pick = suggest(&plain, rate);
    let views = list
        .into_iter()
        .enumerate()
        .map(|(i, package)| {
            let o = package.offer();
            OfferView {
                cents_per_credit: o.cents_per_credit(),
                savings_percent: base.map(|b| savings_percent(&o, &b)).unwrap_or(0),
                total_credits: o.total_credits(),
                suggested: pick == Some(i),
                package,
            }
        })
        .collect();
    Ok((views, rate))
}

pub async fn overview(state: &AppState, user: &users::User) -> AppResult<Overview> {
    let now = chrono::Utc::now();
    let (packages, rate) = offers(state, user).await?;
    let (days, claimed_today) = rewards::streak(&state.db, user.id, now).await?;
    let earned = rewards::earned(&state.db, user.id).await?;
    let progress = rewards::progress(&state.db, user.id).await?;
    let achievements = Achievement::ALL
        .iter()
        .map(|a| {
            let (have, goal) = a.progress(&progress);
            let is_earned = earned.iter().any(|e| e.achievement == *a);
            AchievementView {
                achievement: *a,
                title: a.title(),
                description: a.description(),
                reward: a.reward().get(),
                earned: is_earned,
                claimable: !is_earned && a.is_met(&progress),
                have,
                goal,
            }
        })
        .collect();
    Ok(Overview {
        balance: user.credits.get(),
        tier: user.user_tier,
        total_spent_cents: user.total_spent_cents,
        next_tier: UserTier::next(Kes(user.total_spent_cents)).map(|(t, k)| (t, k.cents())),
        suggested_package_id: packages.iter().find(|o| o.suggested).map(|o| o.package.id),
        packages,
        messages_per_day: rate,
        streak: Streak { days, claimed_today },
        achievements,
    })
}

/// Free credits the user may claim right now: today's streak reward (when
/// today's visit is not counted yet and the next day pays) and met
/// achievements not yet claimed.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Claimable {
    pub daily: Option<i64>,
    pub achievements: i64,
}

impl Claimable {
    pub fn total(&self) -> i64 {
        self.daily.unwrap_or(0) + self.achievements
    }
}

pub async fn claimable(state: &AppState, user: fantooo_domain::ids::UserId) -> AppResult<Claimable> {
    let (days, claimed_today) = rewards::streak(&state.db, user, chrono::Utc::now()).await?;
    let daily = if claimed_today { None } else { fantooo_domain::rewards::daily_reward(days + 1).map(|c| c.get()) };
    let earned = rewards::earned(&state.db, user).await?;
    let progress = rewards::progress(&state.db, user).await?;
    let achievements = Achievement::ALL
        .iter()
        .filter(|a| a.is_met(&progress) && !earned.iter().any(|e| e.achievement == **a))
        .map(|a| a.reward().get())
        .sum();
    Ok(Claimable { daily, achievements })
}

#[derive(Template, WebTemplate)]
#[template(path = "credits.html")]
struct CreditsPage {
    chrome: Chrome,
    o: Overview,
    transactions: Vec<Transaction>,
    ledger: Vec<Entry>,
    notifications: Vec<Notification>,
    notice: Option<String>,
    error: Option<String>,
}

impl CreditsPage {
    fn next_tier_text(&self) -> String {
        match self.o.next_tier {
            Some((tier, cents)) => format!("Spend {} more to reach {tier}.", Kes(cents)),
            None => "You are at the top tier.".into(),
        }
    }
    fn spent(&self) -> Kes {
        Kes(self.o.total_spent_cents)
    }
    fn has_claimable(&self) -> bool {
        self.o.achievements.iter().any(|a| a.claimable)
    }
}

async fn render_credits(
    state: &AppState,
    me: &CurrentUser,
    csrf: &CsrfToken,
    notice: Option<String>,
    error: Option<String>,
) -> AppResult<CreditsPage> {
    // Re-read the user: a purchase or reward may have just changed it.
    let user = users::by_id(&state.db, me.user.id).await?;
    Ok(CreditsPage {
        chrome: me.chrome(csrf, "/credits"),
        o: overview(state, &user).await?,
        transactions: payments::for_user(&state.db, user.id, 20).await?,
        ledger: ledger::entries(&state.db, user.id, None, 20).await?,
        notifications: fantooo_store::notifications::for_user(&state.db, user.id, 5).await?,
        notice,
        error,
    })
}

async fn credits_page(State(state): State<AppState>, me: CurrentUser, csrf: CsrfToken) -> AppResult<Response> {
    Ok(render_credits(&state, &me, &csrf, None, None).await?.into_response())
}

#[derive(Deserialize)]
struct BuyInput {
    #[serde(default)]
    package_id: String,
    /// The chat to come back to after paying (the chat's paywall sends it).
    #[serde(default)]
    back: Option<String>,
}

/// The buyer's own chat named by a `back` field, if any.
async fn back_chat(state: &AppState, me: &CurrentUser, back: Option<&str>) -> AppResult<Option<ChatId>> {
    let Some(raw) = back.map(str::trim).filter(|b| !b.is_empty()) else { return Ok(None) };
    let id: ChatId = raw.parse().map_err(|_| AppError::field("back", "Unknown chat."))?;
    match chats::by_id(&state.db, id).await {
        Ok(c) if c.real_user_id == me.user.id => Ok(Some(id)),
        Ok(_) | Err(fantooo_store::StoreError::NotFound) => Err(AppError::field("back", "Unknown chat.")),
        Err(e) => Err(e.into()),
    }
}

fn parse_package(raw: &str) -> AppResult<PackageId> {
    raw.trim().parse().map_err(|_| AppError::field("package_id", "Choose a package."))
}

/// The buy button: opens the checkout and sends the browser to it.
async fn buy_form(
    State(state): State<AppState>,
    me: CurrentUser,
    csrf: CsrfToken,
    headers: HeaderMap,
    Form(input): Form<BuyInput>,
) -> AppResult<Response> {
    let site = purchases::site_url(&state, &headers);
    let started = match (parse_package(&input.package_id), back_chat(&state, &me, input.back.as_deref()).await) {
        (Ok(id), Ok(back)) => purchases::start_checkout(&state, &me.user, id, &site, back).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match started {
        Ok((checkout, _)) => Ok(Redirect::to(&checkout.authorization_url).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::PaymentProvider(_))) => {
            let status = e.status();
            let message = e.body().message;
            Ok((status, render_credits(&state, &me, &csrf, None, Some(message)).await?).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct ReturnQuery {
    reference: Option<String>,
    trxref: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "credits_return.html")]
struct ReturnPage {
    chrome: Chrome,
    /// The chat the purchase started from.
    back: Option<ChatId>,
    transaction: Transaction,
    balance: i64,
    ok: bool,
    headline: String,
    detail: String,
}

/// Words for the buyer about where a purchase stands.
fn outcome_text(t: &Transaction) -> (bool, String, String) {
    match t.status {
        TransactionStatus::Success => {
            (true, format!("{} credits added", t.credits_amount), "Thank you! Your credits are ready to use.".into())
        }
        TransactionStatus::Processing => (
            false,
            "Payment received, being checked".into(),
            "Something about this payment needs a quick look by our team. Your credits will be added as soon as it is confirmed.".into(),
        ),
        TransactionStatus::Failed => (
            false,
            "Payment not completed".into(),
            format!("{} No money was taken for credits. You can try again.", t.failure_reason.clone().unwrap_or_default()),
        ),
        TransactionStatus::Pending | TransactionStatus::Refunded => (
            false,
            "Waiting for the payment".into(),
            "We have not heard from the payment service yet. This page will show your credits once it confirms.".into(),
        ),
    }
}

/// Where the provider sends the buyer back: ask the provider, apply, show.
async fn return_page(State(state): State<AppState>, me: CurrentUser, csrf: CsrfToken, Query(q): Query<ReturnQuery>) -> AppResult<Response> {
    returned(&state, &me, &csrf, q, None).await
}

/// The return from a purchase started in a chat: once the credits are in,
/// straight back to that chat; otherwise the purchase page, with a way back.
async fn paid_in_chat(
    State(state): State<AppState>,
    me: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Query(q): Query<ReturnQuery>,
) -> AppResult<Response> {
    let back = back_chat(&state, &me, Some(&id)).await.map_err(|_| AppError::NotFound)?;
    returned(&state, &me, &csrf, q, back).await
}

async fn returned(state: &AppState, me: &CurrentUser, csrf: &CsrfToken, q: ReturnQuery, back: Option<ChatId>) -> AppResult<Response> {
    let reference = q.reference.or(q.trxref).filter(|r| !r.is_empty()).ok_or(AppError::NotFound)?;
    let mine = payments::by_reference(&state.db, &reference).await?;
    if mine.real_user_id != Some(me.user.id) {
        return Err(AppError::NotFound);
    }
    let transaction = match purchases::verify(state, &reference, None).await {
        Ok(s) => s.transaction,
        // The webhook may still settle it; show what we know.
        Err(AppError::PaymentProvider(_)) => mine,
        Err(e) => return Err(e),
    };
    let balance = ledger::balance(&state.db, me.user.id).await?.get();
    let (ok, headline, detail) = outcome_text(&transaction);
    if let (true, Some(chat)) = (ok, back) {
        return Ok(Redirect::to(&format!("/chat/{chat}?added={}", transaction.credits_amount)).into_response());
    }
    Ok(ReturnPage { chrome: me.chrome(csrf, "/credits"), back, transaction, balance, ok, headline, detail }.into_response())
}

#[derive(Deserialize, Default)]
struct BackInput {
    #[serde(default)]
    back: Option<String>,
}

async fn daily_form(State(state): State<AppState>, me: CurrentUser, csrf: CsrfToken, Form(f): Form<BackInput>) -> AppResult<Response> {
    let back = back_chat(&state, &me, f.back.as_deref()).await?;
    let visit = purchases::record_visit(&state, me.user.id).await?;
    if let Some(chat) = back {
        let added = visit.and_then(|v| v.reward).map(|c| c.get()).unwrap_or(0);
        return Ok(Redirect::to(&format!("/chat/{chat}?added={added}")).into_response());
    }
    let notice = match visit {
        Some(v) => Some(match v.reward {
            Some(c) => format!("Day {} of your streak: {c} free credits added.", v.streak),
            None => format!("Day {} of your streak. Come back tomorrow!", v.streak),
        }),
        None => Some("Today's visit is already counted.".into()),
    };
    Ok(render_credits(&state, &me, &csrf, notice, None).await?.into_response())
}

async fn achievements_form(
    State(state): State<AppState>,
    me: CurrentUser,
    csrf: CsrfToken,
    Form(f): Form<BackInput>,
) -> AppResult<Response> {
    let back = back_chat(&state, &me, f.back.as_deref()).await?;
    let new = purchases::claim_achievements(&state, me.user.id).await?;
    if let Some(chat) = back {
        let added: i64 = new.iter().map(|e| e.credits.get()).sum();
        return Ok(Redirect::to(&format!("/chat/{chat}?added={added}")).into_response());
    }
    let notice = if new.is_empty() {
        "Nothing new to claim yet.".to_string()
    } else {
        let total: i64 = new.iter().map(|e| e.credits.get()).sum();
        let names: Vec<&str> = new.iter().map(|e| e.achievement.title()).collect();
        format!("{} claimed: {total} credits added.", names.join(", "))
    };
    Ok(render_credits(&state, &me, &csrf, Some(notice), None).await?.into_response())
}

// ---------------------------------------------------------------- JSON

async fn api_overview(State(state): State<AppState>, me: CurrentUser) -> AppResult<Json<Overview>> {
    Ok(Json(overview(&state, &me.user).await?))
}

async fn api_packages(State(state): State<AppState>, me: CurrentUser) -> AppResult<Json<serde_json::Value>> {
    let (list, _) = offers(&state, &me.user).await?;
    Ok(Json(json!({ "packages": list })))
}

async fn api_initialize(
    State(state): State<AppState>,
    me: CurrentUser,
    headers: HeaderMap,
    ApiJson(input): ApiJson<BuyInput>,
) -> AppResult<Response> {
    let id = parse_package(&input.package_id)?;
    let back = back_chat(&state, &me, input.back.as_deref()).await?;
    let site = purchases::site_url(&state, &headers);
    let (checkout, s) = purchases::start_checkout(&state, &me.user, id, &site, back).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "reference": checkout.reference, "authorization_url": checkout.authorization_url, "access_code": checkout.access_code,
            "transaction": s.transaction,
        })),
    )
        .into_response())
}

#[derive(Deserialize)]
struct VerifyInput {
    #[serde(default)]
    reference: String,
}

async fn api_verify(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiJson(input): ApiJson<VerifyInput>,
) -> AppResult<Json<serde_json::Value>> {
    let t = payments::by_reference(&state.db, input.reference.trim()).await?;
    if t.real_user_id != Some(me.user.id) {
        return Err(AppError::NotFound);
    }
    let s = purchases::verify(&state, &t.provider_reference, None).await?;
    let balance = ledger::balance(&state.db, me.user.id).await?;
    let review = match &s.decision {
        Decision::Review(r) => Some(r.clone()),
        _ => None,
    };
    Ok(Json(json!({ "transaction": s.transaction, "outcome": decision_name(&s.decision), "review_reason": review, "balance": balance })))
}

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<i64>,
}

async fn api_transactions(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<serde_json::Value>> {
    let limit = match q.limit {
        None => 50,
        Some(l) if (1..=200).contains(&l) => l,
        Some(_) => return Err(AppError::field("limit", "limit must be between 1 and 200")),
    };
    Ok(Json(json!({ "transactions": payments::for_user(&state.db, me.user.id, limit).await? })))
}

async fn api_rewards(State(state): State<AppState>, me: CurrentUser) -> AppResult<Json<serde_json::Value>> {
    let o = overview(&state, &me.user).await?;
    Ok(Json(json!({ "streak": o.streak, "achievements": o.achievements })))
}

async fn api_daily(State(state): State<AppState>, me: CurrentUser) -> AppResult<Json<serde_json::Value>> {
    let visit = purchases::record_visit(&state, me.user.id).await?;
    let balance = ledger::balance(&state.db, me.user.id).await?;
    Ok(Json(json!({ "counted": visit.is_some(), "visit": visit, "balance": balance })))
}

async fn api_claim_achievements(State(state): State<AppState>, me: CurrentUser) -> AppResult<Json<serde_json::Value>> {
    let new = purchases::claim_achievements(&state, me.user.id).await?;
    let balance = ledger::balance(&state.db, me.user.id).await?;
    Ok(Json(json!({ "claimed": new, "balance": balance })))
}

/// Paystack's webhook. 401 for a bad signature; 200 for every authentic
/// charge event, whether it credited, was a duplicate or went to review,
/// so the provider stops retrying. Store failures answer 500, and the
/// provider's retry is safe because settling is idempotent.
async fn paystack_webhook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> AppResult<Json<serde_json::Value>> {
    let outcome = purchases::webhook(&state, &headers, &body).await?;
    Ok(Json(json!({ "received": true, "result": outcome })))
}
