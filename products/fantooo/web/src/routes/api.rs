//! The JSON API: the same flows as the pages, with bearer tokens.

use super::admin::{apply_pricing, pricing, PricingForm};
use super::public::{validate_profile, ProfileForm};
use crate::auth::{ClientIp, CurrentAdmin, CurrentUser, MaybeSession};
use crate::error::{AppError, AppResult};
use crate::flows::{self, SignupInput, StaffInput};
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use fantooo_domain::ids::AdminId;
use fantooo_domain::{validation as v, AccountKind, Permission};
use fantooo_store::accounts::{self, Via};
use fantooo_store::{admins, operators, packages, settings, stats, users, StoreError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/signup", post(signup))
        .route("/api/auth/signup/check", post(signup_check))
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/username-available", get(username_available))
        .route("/api/locations/suggest", get(suggest_locations))
        .route("/api/me", get(me).patch(update_me))
        .route("/api/setup", get(setup_status).post(setup))
        .route("/api/admin/admins", get(admin_list).post(admin_create))
        .route("/api/admin/admins/{id}/{action}", post(admin_change))
        .route("/api/admin/operators", get(operator_list).post(operator_create))
        .route("/api/admin/payments", get(payment_list))
        .route("/api/admin/settings/pricing", get(get_pricing).put(put_pricing))
}

/// JSON body extractor whose rejections use the API's error shape.
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(AppError::BadRequest("Send a JSON body with Content-Type: application/json".into()))
            }
            Err(e) => Err(AppError::from_rejection(e.status(), format!("Invalid JSON body: {}", e.body_text()))),
        }
    }
}

fn user_agent(h: &HeaderMap) -> Option<&str> {
    h.get(header::USER_AGENT).and_then(|v| v.to_str().ok())
}

async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(input): ApiJson<SignupInput>,
) -> AppResult<Response> {
    let review = crate::circumvention::screen_signup(&state, &ip, &headers).await?;
    let user = flows::register(&state, &input, &ip, review).await?;
    crate::circumvention::record(&state, user.id, "signup", &ip, &headers).await;
    let session = flows::open_session(&state, user.account_id, AccountKind::User, Via::Bearer, &ip, user_agent(&headers)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "token": session.token, "expires_at": session.expires_at, "user": user }))).into_response())
}

#[derive(Deserialize)]
struct SignupCheck {
    step: flows::SignupStep,
    #[serde(flatten)]
    input: SignupInput,
}

/// Checks one step of the sign-up form: 204 when it may move on, 422 with
/// the step's field errors otherwise. Nothing is created.
async fn signup_check(State(state): State<AppState>, ClientIp(ip): ClientIp, ApiJson(body): ApiJson<SignupCheck>) -> AppResult<StatusCode> {
    flows::check_signup_step(&state, &body.input, &ip, body.step).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct LoginBody {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    kind: Option<AccountKind>,
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> AppResult<Json<serde_json::Value>> {
    let kind = body.kind.unwrap_or(AccountKind::User);
    if kind == AccountKind::User {
        crate::circumvention::guard_sign_in(&state, &body.login, &ip, &headers).await?;
    }
    let session = flows::login(&state, kind, &body.login, &body.password, Via::Bearer, &ip, user_agent(&headers)).await?;
    if kind == AccountKind::User {
        crate::circumvention::record_login(&state, &body.login, &ip, &headers).await;
    }
    Ok(Json(json!({ "token": session.token, "kind": kind, "expires_at": session.expires_at })))
}

async fn logout(State(state): State<AppState>, MaybeSession(s): MaybeSession) -> AppResult<StatusCode> {
    let s = s.ok_or(AppError::Unauthenticated)?;
    accounts::SESSIONS.revoke(&state.db, &s.token, chrono::Utc::now()).await?;
    state.signed_out(&s.token);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct UsernameQuery {
    #[serde(default)]
    username: String,
}

async fn username_available(State(state): State<AppState>, Query(q): Query<UsernameQuery>) -> AppResult<Json<serde_json::Value>> {
    match v::username(&q.username) {
        Err(e) => Ok(Json(json!({ "username": q.username, "available": false, "error": e.message }))),
        Ok(u) => {
            let taken = users::username_taken(&state.db, &u).await?;
            Ok(Json(json!({ "username": u, "available": !taken, "error": if taken { Some("That username is taken") } else { None } })))
        }
    }
}

#[derive(Deserialize)]
struct SuggestQuery {
    #[serde(default)]
    q: String,
    limit: Option<usize>,
}

async fn suggest_locations(State(state): State<AppState>, Query(q): Query<SuggestQuery>) -> AppResult<Json<serde_json::Value>> {
    let term = q.q.trim();
    if term.chars().count() < 2 || term.len() > 100 {
        return Ok(Json(json!({ "places": [] })));
    }
    let places = state.geocoder.suggest(term, q.limit.unwrap_or(8).clamp(1, 20)).await.map_err(|e| {
        // An outage: logged and counted; the form still works without suggestions.
        let service = state.geocoder.service_name();
        tracing::error!(error = %e, service, "geocoder failed; no place suggestions");
        metrics::counter!("fantooo_geocoding_failures_total", "service" => service).increment(1);
        AppError::Unavailable
    })?;
    let places: Vec<_> = places
        .iter()
        .map(|p| json!({ "label": p.display(), "name": p.name, "country": p.country, "latitude": p.latitude, "longitude": p.longitude }))
        .collect();
    Ok(Json(json!({ "places": places })))
}

async fn me(State(state): State<AppState>, MaybeSession(s): MaybeSession) -> AppResult<Json<serde_json::Value>> {
    let s = s.ok_or(AppError::Unauthenticated)?;
    Ok(Json(match s.kind {
        AccountKind::User => json!({ "kind": "user", "user": users::by_account(&state.db, s.account_id).await? }),
        AccountKind::Operator => json!({ "kind": "operator", "operator": operators::by_account(&state.db, s.account_id).await? }),
        AccountKind::Admin => {
            let a = admins::by_account(&state.db, s.account_id).await?;
            let perms = a.effective_permissions();
            json!({ "kind": "admin", "admin": a, "permissions": perms })
        }
    }))
}

async fn update_me(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiJson(form): ApiJson<ProfileForm>,
) -> AppResult<Json<serde_json::Value>> {
    let (name, bio) = validate_profile(&form)?;
    users::update_profile(&state.db, me.user.id, &name, bio.as_deref()).await?;
    Ok(Json(json!({ "user": users::by_id(&state.db, me.user.id).await? })))
}

async fn setup_status(State(state): State<AppState>) -> AppResult<Json<serde_json::Value>> {
    if admins::any_exist(&state.db).await? {
        return Err(AppError::NotFound);
    }
    Ok(Json(json!({ "setup_required": true, "token_configured": state.config.admin_setup_token.is_some() })))
}

async fn setup(State(state): State<AppState>, ApiJson(input): ApiJson<StaffInput>) -> AppResult<Response> {
    let admin = flows::setup_first_admin(&state, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "admin": admin }))).into_response())
}

async fn admin_list(State(state): State<AppState>, me: CurrentAdmin) -> AppResult<Json<serde_json::Value>> {
    me.require(Permission::ManageAdmins)?;
    Ok(Json(json!({ "admins": admins::list(&state.db).await? })))
}

async fn admin_create(
    State(state): State<AppState>,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<StaffInput>,
) -> AppResult<Response> {
    me.require(Permission::ManageAdmins)?;
    let admin = flows::create_admin(&state, me.admin.id, &input, &ip).await?;
    Ok((StatusCode::CREATED, Json(json!({ "admin": admin }))).into_response())
}

async fn admin_change(
    State(state): State<AppState>,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path((id, action)): Path<(AdminId, String)>,
) -> AppResult<Json<serde_json::Value>> {
    me.require(Permission::ManageAdmins)?;
    flows::change_admin(&state, me.admin.id, id, &action, &ip).await?;
    // A deleted admin is no longer found: report it as null.
    let after = match admins::by_id(&state.db, id).await {
        Ok(a) => Some(a),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    Ok(Json(json!({ "admin": after })))
}

async fn operator_list(State(state): State<AppState>, me: CurrentAdmin) -> AppResult<Json<serde_json::Value>> {
    me.require(Permission::ManageOperators)?;
    Ok(Json(json!({ "operators": operators::list(&state.db).await? })))
}

async fn operator_create(
    State(state): State<AppState>,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<StaffInput>,
) -> AppResult<Response> {
    me.require(Permission::ManageOperators)?;
    let op = flows::create_operator(&state, me.admin.id, &input, &ip).await?;
    Ok((StatusCode::CREATED, Json(json!({ "operator": op }))).into_response())
}

async fn payment_list(State(state): State<AppState>, me: CurrentAdmin) -> AppResult<Json<serde_json::Value>> {
    me.require(Permission::ManagePayments)?;
    Ok(Json(
        json!({ "transactions": stats::recent_transactions(&state.db, 100).await?, "packages": packages::list_active(&state.db).await? }),
    ))
}

async fn get_pricing(State(state): State<AppState>, me: CurrentAdmin) -> AppResult<Json<serde_json::Value>> {
    me.require(Permission::SystemSettings)?;
    Ok(Json(json!({ "pricing": pricing(&state).await? })))
}

#[derive(Deserialize)]
struct PricingBody {
    free_messages_per_chat: Option<i64>,
    base_credits: Option<i64>,
    peak_start_hour: Option<i64>,
    peak_end_hour: Option<i64>,
    off_peak_start_hour: Option<i64>,
    off_peak_end_hour: Option<i64>,
    featured_percent: Option<i64>,
    peak_percent: Option<i64>,
    off_peak_percent: Option<i64>,
    loyalty_every: Option<i64>,
}

async fn put_pricing(
    State(state): State<AppState>,
    me: CurrentAdmin,
    ApiJson(b): ApiJson<PricingBody>,
) -> AppResult<Json<serde_json::Value>> {
    me.require(Permission::SystemSettings)?;
    let s = |v: Option<i64>| v.map(|n| n.to_string());
    let form = PricingForm {
        free_messages_per_chat: s(b.free_messages_per_chat),
        base_credits: s(b.base_credits),
        peak_start_hour: s(b.peak_start_hour),
        peak_end_hour: s(b.peak_end_hour),
        off_peak_start_hour: s(b.off_peak_start_hour),
        off_peak_end_hour: s(b.off_peak_end_hour),
        featured_percent: s(b.featured_percent),
        peak_percent: s(b.peak_percent),
        off_peak_percent: s(b.off_peak_percent),
        loyalty_every: s(b.loyalty_every),
    };
    let cfg = apply_pricing(pricing(&state).await?, &form)?;
    settings::set(&state.db, "pricing", &cfg, Some(me.admin.id)).await?;
    Ok(Json(json!({ "pricing": cfg })))
}
