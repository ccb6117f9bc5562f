//! VIP over HTTP: the tiers (`GET /api/v1/vip`), one's own tier and
//! purchases (`GET /api/v1/me/vip`), buying or renewing a tier at the price
//! seen (`POST /api/v1/vip/{tier}/purchase`), giving one to someone else
//! (`POST /api/v1/vip/{tier}/gift`), and the `/vip` page with its "Give VIP"
//! form and confirmation.

use crate::auth::CurrentUser;
use crate::error::{AppError, WebResult};
use crate::pages::Frame as PageFrame;
use crate::status::levels::describe;
use crate::status::sale::{created, paid, seen, BuyForm, BuyIn};
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use platform_web::request::CsrfToken;
use rooms_domain::ids::AccountId;
use rooms_domain::vip::{Tier, TOP_TIER};
use rooms_store::accounts::{self, PublicProfile};
use rooms_store::vip::{self, Membership, Purchase};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> Router<AppState> {
    Router::new().route("/vip", get(page)).route("/vip/{tier}/buy", post(buy_form)).route("/vip/give", post(give_form))
}

/// The JSON API of VIP, described by each handler's `#[utoipa::path]`.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(tiers)).routes(routes!(mine)).routes(routes!(buy)).routes(routes!(give))
}

/// A tier as the API shows it: its data and what it unlocks in all.
fn tier_json(t: &Tier, all: &rooms_domain::vip::Tiers) -> serde_json::Value {
    json!({"tier": t.tier, "name": t.name, "price": t.price, "days": t.days, "extra_seats": t.extra_seats,
           "privileges": t.privileges, "unlocks": all.unlocked(t.tier)})
}

#[utoipa::path(get, path = "/api/v1/vip", tag = "vip", security(()),
    responses((status = 200, description = "`{tiers: [{tier, name, price, days, extra_seats, privileges, unlocks}]}`: each tier's price in coins, the days a purchase adds, the seats it adds to the holder's own room (within 15), what it adds and what it unlocks with the tiers below")))]
async fn tiers(State(s): State<AppState>) -> WebResult<Response> {
    let all = vip::tiers(&s.db).await?;
    Ok(axum::Json(json!({"tiers": all.all().iter().map(|t| tier_json(t, &all)).collect::<Vec<_>>()})).into_response())
}

#[utoipa::path(get, path = "/api/v1/me/vip", tag = "vip", security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{vip: {tier, name, expires_at, privileges, extra_seats} | null, purchases: [{id, tier, kind, price, days, expires_at, created_at}]}`")))]
async fn mine(State(s): State<AppState>, u: CurrentUser) -> WebResult<Response> {
    let m = vip::membership(&s.db, u.id(), Utc::now()).await?;
    Ok(axum::Json(json!({"vip": m, "purchases": vip::purchases(&s.db, u.id(), 20).await?})).into_response())
}

/// The tier named in a path: 1 to 7.
fn tier_param(t: &str) -> Result<i64, AppError> {
    t.trim()
        .parse::<i64>()
        .ok()
        .filter(|t| (1..=TOP_TIER).contains(t))
        .ok_or_else(|| AppError::field("tier", format!("Choose a tier from 1 to {TOP_TIER}")))
}

#[utoipa::path(post, path = "/api/v1/vip/{tier}/purchase", tag = "vip", params(("tier" = i64, Path, description = "Tier, 1 to 7")),
    request_body = BuyIn, security(("bearer" = []), ("session" = [])),
    responses((status = 201, description = "`{purchase}`: `{purchase_id, tier, kind: new|renewal|upgrade, price, days, expires_at, balance}`; the same tier again adds its days to the time left, a higher one starts now"),
        (status = 402, description = "`insufficient_coins` with `required` and `available`; nothing written"),
        (status = 409, description = "`tier_unavailable`, `price_changed` (refresh and try again), `higher_tier_held` (buy that tier to extend it) or `duplicate_purchase` (the key was used)"),
        (status = 422, description = "`validation` on `tier`, `price` or `idempotency_key`")))]
async fn buy(
    State(s): State<AppState>,
    u: CurrentUser,
    Path(tier): Path<String>,
    crate::api::Json(b): crate::api::Json<BuyIn>,
) -> WebResult<Response> {
    let tier = tier_param(&tier)?;
    let (price, key) = b.parts()?;
    created(vip::buy(&s.db, u.id(), tier, price, &key, Utc::now()).await)
}

#[derive(Deserialize, ToSchema)]
struct GiftIn {
    /// Who gets it: their public number, or their account id.
    #[schema(value_type = Object)]
    recipient: Option<serde_json::Value>,
    /// The price the giver was shown.
    price: Option<i64>,
    /// One gift per key (1 to 100 characters; shared with the giver's own purchases).
    idempotency_key: Option<String>,
}

/// The recipient named by a public number (digits) or an account id.
async fn recipient_of(s: &AppState, named: &str) -> WebResult<PublicProfile> {
    let named = named.trim();
    let found = if let Ok(number) = named.parse::<i64>() {
        accounts::by_number(&s.db, number).await?
    } else if let Ok(id) = named.parse::<AccountId>() {
        accounts::profile(&s.db, id).await?
    } else {
        return Err(AppError::field("recipient", "Enter their ID number (digits) or account id").into());
    };
    found.ok_or_else(|| AppError::field("recipient", format!("No one has the ID {named}")).into())
}

#[utoipa::path(post, path = "/api/v1/vip/{tier}/gift", tag = "vip", params(("tier" = i64, Path, description = "Tier, 1 to 7")),
    request_body = GiftIn, security(("bearer" = []), ("session" = [])),
    responses((status = 201, description = "`{purchase, to}`: `purchase` as for buying (`balance` is the giver's), `to` the recipient's public profile; the giver pays (ledger reason `vip_gift`), the time stacks on the recipient's same tier and a higher one starts now; the recipient gets a `vip_gift` event on their channel"),
        (status = 402, description = "`insufficient_coins` with `required` and `available`; nothing written"),
        (status = 409, description = "`recipient_higher_tier` (they hold a higher tier: give that one), `tier_unavailable`, `price_changed` (refresh and try again) or `duplicate_purchase` (the key was used, by a gift or a purchase)"),
        (status = 422, description = "`validation` on `tier`, `recipient` (no such person, not active, or yourself: buy it instead), `price` or `idempotency_key`")))]
async fn give(
    State(s): State<AppState>,
    u: CurrentUser,
    Path(tier): Path<String>,
    crate::api::Json(b): crate::api::Json<GiftIn>,
) -> WebResult<Response> {
    let tier = tier_param(&tier)?;
    let named = match b.recipient {
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(serde_json::Value::String(t)) if !t.trim().is_empty() => t,
        _ => return Err(AppError::field("recipient", "Send their ID number or account id").into()),
    };
    let to = recipient_of(&s, &named).await?;
    let (price, key) = seen(b.price, b.idempotency_key)?;
    let done = paid(vip::give(&s.db, u.id(), to.id, tier, price, &key, Utc::now()).await)?;
    Ok((StatusCode::CREATED, axum::Json(json!({"purchase": done, "to": to}))).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "vip.html")]
struct VipPage {
    f: PageFrame,
    tiers: Vec<(Tier, Vec<&'static str>)>,
    vip: Option<Membership>,
    purchases: Vec<Purchase>,
    coins: i64,
    notice: String,
    key: String,
}

impl VipPage {
    fn held(&self) -> i64 {
        self.vip.as_ref().map_or(0, |m| m.tier)
    }
}

#[derive(Deserialize, Default)]
struct Notice {
    notice: Option<String>,
}

async fn page(State(s): State<AppState>, csrf: CsrfToken, u: CurrentUser, Query(q): Query<Notice>) -> WebResult<VipPage> {
    let notice = match q.notice.as_deref() {
        Some("new") => "Welcome to VIP: your badge is on.",
        Some("renewal") => "Renewed: the days were added to your time left.",
        Some("upgrade") => "Upgraded: your new tier starts now.",
        Some("given") => "VIP given: they have been told.",
        _ => "",
    };
    let all = vip::tiers(&s.db).await?;
    let tiers = all.all().iter().map(|t| (t.clone(), t.privileges.iter().map(|p| describe(*p)).collect())).collect();
    Ok(VipPage {
        f: PageFrame::new(&csrf, Some(&u)),
        tiers,
        vip: vip::membership(&s.db, u.id(), Utc::now()).await?,
        purchases: vip::purchases(&s.db, u.id(), 10).await?,
        coins: rooms_store::economy::balances(&s.db, u.id()).await?.coins,
        notice: notice.to_string(),
        key: platform_accounts::random_token(),
    })
}

async fn buy_form(State(s): State<AppState>, u: CurrentUser, Path(tier): Path<String>, Form(b): Form<BuyForm>) -> WebResult<Response> {
    let tier = tier_param(&tier)?;
    let done = paid(vip::buy(&s.db, u.id(), tier, b.price, &b.key, Utc::now()).await)?;
    let kind = serde_json::to_value(done.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    Ok(Redirect::to(&format!("/vip?notice={kind}")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "vip_give_confirm.html")]
struct GiveConfirm {
    f: PageFrame,
    tier: Tier,
    to_number: i64,
    to_name: String,
    coins: i64,
    key: String,
}

#[derive(Deserialize)]
struct GiveForm {
    tier: String,
    recipient: String,
    /// Step 2 only: the price the confirmation showed.
    price: Option<i64>,
    confirm: Option<String>,
    key: Option<String>,
}

/// Step 1 shows the tier, its price and who gets it; step 2 (`confirm`)
/// gives it at the price that was shown.
async fn give_form(State(s): State<AppState>, csrf: CsrfToken, u: CurrentUser, Form(g): Form<GiveForm>) -> WebResult<Response> {
    let tier = tier_param(&g.tier)?;
    let to = recipient_of(&s, &g.recipient).await?;
    if to.id == u.id() {
        return Err(AppError::field("recipient", "That is you: buy VIP for yourself above").into());
    }
    match (g.confirm.as_deref(), g.price, g.key) {
        (Some("yes"), Some(price), Some(key)) => {
            paid(vip::give(&s.db, u.id(), to.id, tier, price, &key, Utc::now()).await)?;
            Ok(Redirect::to("/vip?notice=given").into_response())
        }
        _ => {
            let all = vip::tiers(&s.db).await?;
            let tier = all.get(tier).cloned().ok_or_else(|| AppError::field("tier", "There is no such tier"))?;
            Ok(GiveConfirm {
                f: PageFrame::new(&csrf, Some(&u)),
                tier,
                to_number: to.public_number,
                to_name: to.display_name,
                coins: rooms_store::economy::balances(&s.db, u.id()).await?.coins,
                key: platform_accounts::random_token(),
            }
            .into_response())
        }
    }
}
