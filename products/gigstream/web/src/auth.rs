//! Who is asking: the session (cookie or bearer token) resolved by the
//! session layer, and extractors for handlers that need an account.

use crate::{AppError, AppState};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{Duration, Utc};
use gigstream_domain::ids::AccountId;
use gigstream_store::accounts::{self, Account, Kind};
use gigstream_store::security;
use platform_accounts::password::{self, Cost};
use platform_accounts::{SessionSpec, Via};

pub use platform_web::request::{ClientIp, CsrfToken};

pub const SESSION_COOKIE: &str = "gigstream_session";
pub const CSRF_COOKIE: &str = "gigstream_csrf";
pub const SESSION_DAYS: i64 = 30;

/// A live session, as the session layer found it.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub account_id: AccountId,
    pub via_cookie: bool,
    pub csrf_token: String,
}

/// The signed-in account; 401 without one.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub account: Account,
    pub session: Session,
    /// The client's address, as the session layer found it.
    pub ip: Option<String>,
}

/// The signed-in account, if any.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(session) = parts.extensions.get::<Session>().cloned() else { return Ok(MaybeUser(None)) };
        let ip = parts.extensions.get::<ClientIp>().map(|c| c.0.clone());
        match accounts::by_id(&state.db, session.account_id).await {
            Ok(account) if account.is_active => Ok(MaybeUser(Some(CurrentUser { account, session, ip }))),
            Ok(_) | Err(gigstream_store::StoreError::NotFound) => Ok(MaybeUser(None)),
            Err(e) => Err(e.into()),
        }
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        MaybeUser::from_request_parts(parts, state).await?.0.ok_or(AppError::Unauthenticated)
    }
}

/// An admin; 403 for anyone else signed in.
pub struct CurrentAdmin(pub CurrentUser);

impl FromRequestParts<AppState> for CurrentAdmin {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        if !user.account.is_admin {
            return Err(AppError::Forbidden);
        }
        Ok(CurrentAdmin(user))
    }
}

pub async fn hash_password(password: String, fast: bool) -> Result<String, AppError> {
    password::hash(password, Cost::fast_if(fast)).await.map_err(|e| AppError::Internal(e.to_string()))
}

/// Checks a login and password; the same answer (and about the same time)
/// for an unknown login and a wrong password, recorded as a security
/// event. A suspended or banned account with the right password is told
/// plainly why it cannot sign in (on the `login` field).
pub async fn verify_login(state: &AppState, login: &str, password_text: &str, ip: &str) -> Result<Account, AppError> {
    let found = accounts::for_login(&state.db, login).await?;
    let (account, hash) = match found {
        Some((a, h)) => (Some(a), Some(h)),
        None => (None, None),
    };
    if password::verify(password_text.to_string(), hash).await {
        let account = account.ok_or(AppError::LoginFailed)?;
        if let Some(why) = account.standing.sign_in_refusal(&account.standing_reason) {
            return Err(AppError::field("login", why));
        }
        if !account.is_active {
            return Err(AppError::LoginFailed);
        }
        Ok(account)
    } else {
        let detail = security::Detail { login: login.trim().chars().take(100).collect(), ..security::Detail::default() };
        let who = account.map(|a| a.id);
        if let Err(e) = security::record(&state.db, security::Kind::FailedLogin, who, Some(ip), &detail, Utc::now()).await {
            tracing::warn!(error = %e, "failed sign-in not recorded");
        }
        Err(AppError::LoginFailed)
    }
}

/// Starts a session for `account`; returns its token.
pub async fn start_session(state: &AppState, account: AccountId, via: Via, ip: &str, user_agent: Option<&str>) -> Result<String, AppError> {
    let spec = SessionSpec { account, kind: Kind::Member, via, ttl: Duration::days(SESSION_DAYS), ip: Some(ip), user_agent };
    Ok(accounts::sessions().create(&state.db, spec, Utc::now()).await?.token)
}
