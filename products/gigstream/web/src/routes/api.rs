//! The JSON API under `/api/v1`: the same operations as the pages, with
//! errors that name their fields. Clients sign in for a bearer token.

use super::common::{action_of, order_step, read_delivery, store_upload, JsonIn, StepInput, GALLERY};
use crate::auth::{self, ClientIp, CurrentUser, MaybeUser};
use crate::forms::{check_sign_up, GigForm, ProfileForm, SignUp};
use crate::{AppError, AppResult, AppState};
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::Utc;
use gigstream_domain::gig::{GigStatus, Tier};
use gigstream_domain::ids::{GigId, OrderId};
use gigstream_store::accounts::{self, NewAccount};
use gigstream_store::orders;
use gigstream_store::search::{self, Filters, PriceBand, Sort};
use gigstream_store::{escrow, gigs, profiles};
use platform_accounts::Via;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/signup", post(signup))
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/profile", put(save_profile))
        .route("/api/v1/categories", get(categories))
        .route("/api/v1/search", get(search_api))
        .route("/api/v1/autocomplete", get(autocomplete))
        .route("/api/v1/gigs", post(create_gig))
        .route("/api/v1/gigs/{slug}", get(gig))
        .route("/api/v1/gigs/id/{id}", put(update_gig).delete(delete_gig))
        .route("/api/v1/gigs/id/{id}/{status}", post(gig_status))
        .route("/api/v1/gigs/id/{id}/images", post(upload_image))
        .route("/api/v1/users/{username}", get(user))
        .route("/api/v1/orders", post(place_order).get(my_orders))
        .route("/api/v1/orders/{id}", get(order))
        .route("/api/v1/orders/{id}/{action}", post(order_action))
}

#[derive(Deserialize)]
struct Login {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

async fn signup(State(state): State<AppState>, ClientIp(ip): ClientIp, JsonIn(form): JsonIn<SignUp>) -> AppResult<Response> {
    state.limits.check_auth(&ip, &form.email)?;
    let (email, username, name) = check_sign_up(&form)?;
    let hash = auth::hash_password(form.password.clone(), state.config.fast_password_hashing).await?;
    let new = NewAccount { email: &email, username: &username, display_name: &name, password_hash: &hash, is_admin: false };
    let account = accounts::create(&state.db, &new, Utc::now()).await?;
    let token = auth::start_session(&state, account.id, Via::Bearer, &ip, None).await?;
    Ok((StatusCode::CREATED, Json(json!({ "token": token, "account": account }))).into_response())
}

async fn login(State(state): State<AppState>, ClientIp(ip): ClientIp, JsonIn(form): JsonIn<Login>) -> AppResult<Json<Value>> {
    state.limits.check_auth(&ip, &form.login)?;
    let account = auth::verify_login(&state, &form.login, &form.password, &ip).await?;
    let token = auth::start_session(&state, account.id, Via::Bearer, &ip, None).await?;
    Ok(Json(json!({ "token": token, "account": account })))
}

async fn logout(State(state): State<AppState>, user: CurrentUser) -> AppResult<StatusCode> {
    accounts::sessions().revoke(&state.db, &user.session.token, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<Value>> {
    let profile = profiles::get(&state.db, user.account.id).await?;
    let pending = escrow::pending_earnings(&state.db, user.account.id, state.config.currency).await?;
    Ok(Json(json!({ "account": user.account, "profile": profile, "pending_earnings_minor": pending, "currency": state.config.currency })))
}

async fn save_profile(State(state): State<AppState>, user: CurrentUser, JsonIn(form): JsonIn<ProfileForm>) -> AppResult<Json<Value>> {
    let profile = form.check()?;
    profiles::save(&state.db, user.account.id, &profile, Utc::now()).await?;
    Ok(Json(json!({ "profile": profile })))
}

async fn categories(State(state): State<AppState>) -> AppResult<Json<Value>> {
    Ok(Json(json!({ "categories": gigs::categories(&state.db).await? })))
}

/// Search parameters of the page and the API.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchParams {
    pub q: String,
    pub category: String,
    pub price: String,
    pub delivery: String,
    pub rating: String,
    pub level: String,
    pub sort: String,
    pub cursor: String,
}

impl SearchParams {
    /// The store's query; unknown filter values are a field error.
    pub fn query(&self, limit: i64) -> AppResult<search::Query> {
        let opt = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string);
        let bad = |field: &'static str| AppError::field(field, format!("Unknown {field} filter"));
        let filters = Filters {
            q: self.q.chars().take(200).collect(),
            category: opt(&self.category),
            price: opt(&self.price).map(|p| p.parse::<PriceBand>().map_err(|_| bad("price"))).transpose()?,
            delivery_days: opt(&self.delivery).map(|d| d.parse::<i32>().map_err(|_| bad("delivery"))).transpose()?,
            rating_x100: opt(&self.rating).map(|d| d.parse::<i32>().map_err(|_| bad("rating"))).transpose()?,
            level: opt(&self.level).map(|l| l.parse().map_err(|_| bad("level"))).transpose()?,
        };
        let sort = match opt(&self.sort) {
            Some(s) => s.parse::<Sort>().map_err(|_| bad("sort"))?,
            None => Sort::Relevance,
        };
        Ok(search::Query { filters, sort, cursor: opt(&self.cursor), limit })
    }
}

async fn search_api(State(state): State<AppState>, Query(params): Query<SearchParams>) -> AppResult<Json<search::Results>> {
    Ok(Json(search::search(&state.db, &params.query(20)?).await?))
}

#[derive(Deserialize)]
struct Typed {
    #[serde(default)]
    q: String,
}

async fn autocomplete(State(state): State<AppState>, Query(t): Query<Typed>) -> AppResult<Json<Value>> {
    let typed: String = t.q.chars().take(100).collect();
    Ok(Json(json!({ "completions": search::autocomplete(&state.db, &typed).await? })))
}

async fn create_gig(State(state): State<AppState>, user: CurrentUser, JsonIn(form): JsonIn<GigForm>) -> AppResult<Response> {
    let input = form.check(state.config.currency)?;
    let gig = gigs::create(&state.db, user.account.id, &input, Utc::now()).await?;
    let packages = gigs::packages(&state.db, gig.id).await?;
    Ok((StatusCode::CREATED, Json(json!({ "gig": gig, "packages": packages }))).into_response())
}

async fn gig(State(state): State<AppState>, MaybeUser(user): MaybeUser, Path(slug): Path<String>) -> AppResult<Json<gigs::GigPage>> {
    Ok(Json(gigs::page(&state.db, &slug, user.map(|u| u.account.id)).await?))
}

fn gig_id(id: &str) -> AppResult<GigId> {
    id.parse().map_err(|_| AppError::NotFound)
}

async fn update_gig(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonIn(form): JsonIn<GigForm>,
) -> AppResult<Json<Value>> {
    let input = form.check(state.config.currency)?;
    let gig = gigs::update(&state.db, gig_id(&id)?, user.account.id, &input, Utc::now()).await?;
    Ok(Json(json!({ "gig": gig })))
}

async fn delete_gig(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> AppResult<StatusCode> {
    gigs::set_status(&state.db, gig_id(&id)?, user.account.id, GigStatus::Deleted, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn gig_status(State(state): State<AppState>, user: CurrentUser, Path((id, status)): Path<(String, String)>) -> AppResult<StatusCode> {
    let status = match status.as_str() {
        "pause" => GigStatus::Paused,
        "resume" => GigStatus::Active,
        _ => return Err(AppError::NotFound),
    };
    gigs::set_status(&state.db, gig_id(&id)?, user.account.id, status, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn upload_image(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    mut form: Multipart,
) -> AppResult<Response> {
    let id = gig_id(&id)?;
    let gig = gigs::get(&state.db, id).await?;
    if gig.seller_id != user.account.id {
        return Err(AppError::NotFound);
    }
    while let Some(field) = form.next_field().await.map_err(AppError::rejected)? {
        if field.name() == Some("image") {
            let declared = field.content_type().map(str::to_string);
            let name = super::common::file_name(field.file_name(), "image");
            let bytes = field.bytes().await.map_err(AppError::rejected)?.to_vec();
            let (key, mime) = store_upload(&state, &user, "gigs", (bytes, &name), declared.as_deref(), &GALLERY).await?;
            if let Err(e) = gigs::add_image(&state.db, id, user.account.id, &key, mime, Utc::now()).await {
                // Nothing half-written: the stored file goes with the refusal.
                let _ = state.media.delete(&platform_media::MediaKey::parse(&key).expect("our key")).await;
                return Err(e.into());
            }
            return Ok((
                StatusCode::CREATED,
                Json(json!({ "key": key, "url": state.media.url(&platform_media::MediaKey::parse(&key).expect("our key")) })),
            )
                .into_response());
        }
    }
    Err(AppError::field("image", "Attach a picture in the field `image`"))
}

async fn user(State(state): State<AppState>, Path(username): Path<String>) -> AppResult<Json<Value>> {
    let account = accounts::by_username(&state.db, &username).await?;
    let profile = profiles::get(&state.db, account.id).await?;
    let stats = profiles::stats(&state.db, account.id).await?;
    let gigs = gigs::by_seller(&state.db, account.id, false).await?;
    Ok(Json(json!({
        "username": account.username, "display_name": account.display_name, "member_since": account.created_at,
        "profile": profile, "stats": stats, "gigs": gigs,
    })))
}

#[derive(Deserialize)]
struct PlaceOrder {
    gig_id: GigId,
    tier: Tier,
    /// `stripe` or `paypal`: opens the checkout at once. Without it, pay
    /// later through `POST /api/v1/orders/{id}/pay`.
    #[serde(default)]
    method: Option<String>,
}

async fn place_order(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: axum::http::HeaderMap,
    JsonIn(p): JsonIn<PlaceOrder>,
) -> AppResult<Response> {
    let method = p.method.as_deref().map(|m| crate::payments::method_of(m, "method")).transpose()?;
    if let Some(m) = method {
        state.payments.require(m, "method")?;
    }
    let o = orders::place(&state.db, user.account.id, p.gig_id, p.tier, crate::settings::current(&state).await?.fees, Utc::now()).await?;
    let checkout_url = match method {
        Some(m) => Some(crate::payments::start(&state, &o, m, &user.account.email, &super::money::origin(&state, &headers)).await?),
        None => None,
    };
    Ok((StatusCode::CREATED, Json(json!({ "order": o, "checkout_url": checkout_url, "methods": state.payments.methods() })))
        .into_response())
}

#[derive(Deserialize)]
struct Side {
    #[serde(default)]
    role: String,
}

async fn my_orders(State(state): State<AppState>, user: CurrentUser, Query(side): Query<Side>) -> AppResult<Json<Value>> {
    let as_seller = side.role == "seller";
    Ok(Json(json!({ "orders": orders::for_account(&state.db, user.account.id, as_seller, 100).await? })))
}

fn order_id(id: &str) -> AppResult<OrderId> {
    id.parse().map_err(|_| AppError::NotFound)
}

async fn order(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> AppResult<Json<Value>> {
    let (o, actor) = super::common::order_for(&state, &user, order_id(&id)?).await?;
    let timeline = orders::timeline(&state.db, o.id).await?;
    let deliveries = orders::deliveries(&state.db, o.id).await?;
    Ok(Json(json!({ "order": o, "you_are": actor, "late": o.is_late(Utc::now()), "timeline": timeline, "deliveries": deliveries })))
}

/// An order step; a delivery may be multipart with files.
async fn order_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, action)): Path<(String, String)>,
    req: Request,
) -> AppResult<Json<Value>> {
    let id = order_id(&id)?;
    let action = action_of(&action)?;
    let multipart = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("multipart/"));
    let input = if multipart {
        let form = Multipart::from_request(req, &state).await.map_err(AppError::rejected)?;
        let (message, files) = read_delivery(&state, &user, form).await?;
        StepInput { message, files, ..StepInput::default() }
    } else if req.headers().get(header::CONTENT_LENGTH).is_some_and(|v| v != "0") || req.headers().contains_key(header::CONTENT_TYPE) {
        JsonIn::<StepInput>::from_request(req, &state).await?.0
    } else {
        StepInput::default()
    };
    let o = order_step(&state, &user, id, action, input).await?;
    Ok(Json(json!({ "order": o })))
}
