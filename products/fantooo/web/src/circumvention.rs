//! Ban circumvention: sign-ups and user sign-ins from an address or device
//! a banned user used are refused (and counted on the ban); successful
//! ones leave the traces a later ban will block.
//!
//! The device fingerprint is a random id the page script keeps in a
//! long-lived cookie (`fantooo_device`); API clients may send it as
//! `X-Device-Fingerprint`. Only short alphanumeric ids are accepted, so
//! the value can never smuggle markup or wildcards into a lookup.

use crate::error::{AppError, AppResult};
use crate::AppState;
use axum::http::{header, HeaderMap};
use fantooo_domain::ids::UserId;
use fantooo_domain::AccountKind;
use fantooo_store::{accounts, user_admin, users};

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

/// Refuses the attempt when it matches a ban in force.
pub async fn guard(state: &AppState, ip: &str, headers: &HeaderMap, context: &str) -> AppResult<()> {
    let device = device(headers);
    let hit = user_admin::check_circumvention(&state.db, Some(ip), device.as_deref(), context, chrono::Utc::now()).await?;
    if hit.is_some() {
        state.realtime.written();
        metrics::counter!("fantooo_ban_circumvention_blocked_total").increment(1);
        return Err(AppError::BadRequest("Sign-up and sign-in are not available from this device or network.".into()));
    }
    Ok(())
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
