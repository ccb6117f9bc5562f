//! Ban circumvention: a sign-up from an address or device a banned user
//! used creates the account flagged for an admin's review (or, with the
//! `ban_circumvention` setting at `block`, is refused); a user sign-in
//! from one is refused unless that account is under review or was allowed.
//! Every match is counted on the ban and raised to admins. Successful
//! sign-ups and sign-ins leave the traces a later ban will block.
//!
//! The device fingerprint is a random id the page script keeps in a
//! long-lived cookie (`fantooo_device`); API clients may send it as
//! `X-Device-Fingerprint`. Only short alphanumeric ids are accepted, so
//! the value can never smuggle markup or wildcards into a lookup.

use crate::error::{AppError, AppResult};
use crate::AppState;
use axum::http::{header, HeaderMap};
use fantooo_domain::account::{screen, CircumventionPolicy, ReviewStatus, Screening};
use fantooo_domain::ids::UserId;
use fantooo_domain::AccountKind;
use fantooo_store::{accounts, reviews, settings, user_admin, users};

/// The setting that chooses between flagging and refusing (see `CircumventionPolicy`).
pub const POLICY_KEY: &str = "ban_circumvention";

pub async fn policy(state: &AppState) -> AppResult<CircumventionPolicy> {
    Ok(settings::get::<CircumventionPolicy>(&state.db, POLICY_KEY).await?.unwrap_or_default())
}

fn refused(state: &AppState) -> AppError {
    state.realtime.written();
    metrics::counter!("fantooo_ban_circumvention_blocked_total").increment(1);
    AppError::BadRequest("Sign-up and sign-in are not available from this device or network.".into())
}

pub const DEVICE_COOKIE: &str = "fantooo_device";

pub fn device(headers: &HeaderMap) -> Option<String> {
    let from_header = headers.get("x-device-fingerprint").and_then(|v| v.to_str().ok()).map(str::to_string);
    let from_cookie = || {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|c| c.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == DEVICE_COOKIE)
            .map(|(_, v)| v.to_string())
    };
    from_header.or_else(from_cookie).filter(|d| (8..=64).contains(&d.len()) && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

/// Screens a sign-up: `Ok(None)` when nothing matched, `Ok(Some(flag))`
/// when the account is to be created flagged for review, an error when the
/// policy is to block.
pub async fn screen_signup(state: &AppState, ip: &str, headers: &HeaderMap) -> AppResult<Option<users::ReviewFlag>> {
    let policy = policy(state).await?;
    let device = device(headers);
    let blocked = policy == CircumventionPolicy::Block;
    let hit = user_admin::check_circumvention(&state.db, Some(ip), device.as_deref(), "registration", blocked, chrono::Utc::now()).await?;
    match (screen(policy, true, hit.is_some(), None), hit) {
        (Screening::Flag, Some(banned)) => {
            state.realtime.written();
            metrics::counter!("fantooo_ban_circumvention_flagged_total").increment(1);
            Ok(Some(users::ReviewFlag { banned_user_id: banned, ip: Some(ip.to_string()), device }))
        }
        (Screening::Refuse, _) => Err(refused(state)),
        _ => Ok(None),
    }
}

/// Refuses a user sign-in that matches a ban in force, unless the account
/// is the one under review (or allowed on review).
pub async fn guard_sign_in(state: &AppState, login: &str, ip: &str, headers: &HeaderMap) -> AppResult<()> {
    let review = match accounts::find_login(&state.db, AccountKind::User, &login.trim().to_lowercase()).await? {
        Some(r) => match users::by_account(&state.db, r.id).await {
            Ok(u) => reviews::status_of(&state.db, u.id).await?,
            Err(_) => None,
        },
        None => None,
    };
    if matches!(review, Some(ReviewStatus::Pending | ReviewStatus::Allowed)) {
        return Ok(());
    }
    let device = device(headers);
    let hit = user_admin::check_circumvention(&state.db, Some(ip), device.as_deref(), "sign-in", true, chrono::Utc::now()).await?;
    let policy = policy(state).await?;
    match screen(policy, false, hit.is_some(), review) {
        Screening::Proceed => Ok(()),
        // A banned-on-review account is refused by the ban check at sign-in.
        Screening::Refuse if hit.is_none() => Ok(()),
        _ => Err(refused(state)),
    }
}

fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok())
}

/// Remembers where a user signed up or in from. Failing to log it must not
/// fail the sign-in, so errors are only reported.
pub async fn record(state: &AppState, user: UserId, kind: &str, ip: &str, headers: &HeaderMap) {
    let device = device(headers);
    if let Err(e) = user_admin::record_activity(&state.db, user, kind, Some(ip), device.as_deref(), user_agent(headers)).await {
        tracing::warn!(error = %e, "user activity not recorded");
    }
}

/// `record` for a sign-in, where only the login name is at hand.
pub async fn record_login(state: &AppState, login: &str, ip: &str, headers: &HeaderMap) {
    let found = match accounts::find_login(&state.db, AccountKind::User, &login.trim().to_lowercase()).await {
        Ok(Some(r)) => users::by_account(&state.db, r.id).await.ok(),
        _ => None,
    };
    if let Some(u) = found {
        record(state, u.id, "login", ip, headers).await;
    }
}
