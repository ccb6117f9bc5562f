//! What users do to their own account besides editing the profile:
//! change the password, take a copy of their data, delete the account
//! (the same GDPR deletion staff perform: words anonymised everywhere,
//! unused credits refunded). Each as a page form and as JSON.

use super::public::render_me;
use crate::auth::{hash_password, ClientIp, CsrfToken, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::middleware::session::clear_session_cookie;
use crate::routes::api::ApiJson;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Form, Json, Router};
use fantooo_domain::chat::Viewer;
use fantooo_domain::{validation as v, FieldErrors};
use fantooo_store::{accounts, chats, ledger, messages, notifications, payments, user_admin};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/password", post(password_form))
        .route("/api/me/password", put(password_api))
        .route("/me/export", get(export))
        .route("/api/me/export", get(export))
        .route("/me/delete", post(delete_form))
        .route("/api/me/delete", post(delete_api))
}

// ---------------------------------------------------------------- password

#[derive(Deserialize, Default)]
struct PasswordInput {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_confirm: Option<String>,
}

/// Checks the current password and the new one's strength, then replaces
/// it; every other session of the account is signed out.
async fn change_password(state: &AppState, me: &CurrentUser, input: &PasswordInput) -> AppResult<()> {
    let mut errs = FieldErrors::new();
    if let Err(e) = v::password(&input.new_password) {
        errs.add("new_password", e.message);
    }
    if input.new_password_confirm.as_deref().is_some_and(|c| c != input.new_password) {
        errs.add("new_password_confirm", "Passwords do not match");
    }
    if input.new_password == input.current_password && !input.new_password.is_empty() {
        errs.add("new_password", "Choose a password different from the current one");
    }
    state.limits.check_auth_account(&me.user.username)?;
    let stored = accounts::password_hash(&state.db, me.session.account_id).await?;
    if !platform_accounts::password::verify(input.current_password.clone(), Some(stored)).await {
        errs.add("current_password", "That is not your current password");
    }
    errs.into_result()?;
    let hash = hash_password(input.new_password.clone(), state.config.fast_password_hashing).await?;
    accounts::set_password(&state.db, me.session.account_id, &hash, &me.session.token).await?;
    state.sign_in_changed(Some(me.session.account_id));
    Ok(())
}

async fn password_form(
    State(state): State<AppState>,
    me: CurrentUser,
    csrf: CsrfToken,
    Form(input): Form<PasswordInput>,
) -> AppResult<Response> {
    match change_password(&state, &me, &input).await {
        Ok(()) => Ok(Redirect::to("/me?password=changed").into_response()),
        Err(AppError::Validation(errors)) => render_me(&state, me, &csrf, false, errors, None).await,
        Err(e) => Err(e),
    }
}

async fn password_api(State(state): State<AppState>, me: CurrentUser, ApiJson(input): ApiJson<PasswordInput>) -> AppResult<StatusCode> {
    change_password(&state, &me, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- export

/// Everything kept about the user, as one JSON file: the account, every
/// chat with its messages, credit movements, purchases and notices.
async fn export(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    let user = me.user.id;
    let viewer = Viewer::User(user);
    let mut chat_list = Vec::new();
    for summary in chats::list_for_user(&state.db, user, 10_000).await? {
        let chat = chats::by_id(&state.db, summary.id).await?;
        let mut history = Vec::new();
        let mut before = None;
        loop {
            let page = messages::history(&state.db, chat.id, before, 500).await?;
            let done = page.len() < 500;
            before = page.last().map(|m| m.seq);
            history.extend(page);
            if done {
                break;
            }
        }
        history.sort_by_key(|m| m.seq);
        chat_list.push(json!({
            "chat": crate::user_json::chat_for(viewer, &chat),
            "profile_name": summary.profile_name,
            "messages": history.iter().map(crate::user_json::message).collect::<Vec<_>>(),
        }));
    }
    let body = json!({
        "exported_at": chrono::Utc::now(),
        "account": me.user,
        "chats": chat_list,
        "credit_history": ledger::entries(&state.db, user, None, 100_000).await?,
        "purchases": payments::for_user(&state.db, user, 100_000).await?,
        "notifications": notifications::for_user(&state.db, user, 10_000).await?,
    });
    let name = format!("attachment; filename=\"fantooo-{}-data.json\"", me.user.username);
    Ok(([(header::CONTENT_TYPE, "application/json".to_string()), (header::CONTENT_DISPOSITION, name)], Json(body)).into_response())
}

// ---------------------------------------------------------------- delete

#[derive(Deserialize, Default)]
struct DeleteInput {
    #[serde(default)]
    password: String,
    /// The word DELETE, typed.
    #[serde(default)]
    confirm: String,
}

async fn delete_account(state: &AppState, me: &CurrentUser, ip: &str, input: &DeleteInput) -> AppResult<user_admin::Deletion> {
    let mut errs = FieldErrors::new();
    if input.confirm.trim() != "DELETE" {
        errs.add("confirm", "Type DELETE to confirm; this cannot be undone");
    }
    state.limits.check_auth_account(&me.user.username)?;
    let stored = accounts::password_hash(&state.db, me.session.account_id).await?;
    if !platform_accounts::password::verify(input.password.clone(), Some(stored)).await {
        errs.add("password", "That is not your password");
    }
    errs.into_result()?;
    let done =
        user_admin::gdpr_delete(&state.db, me.user.id, "deleted by the user", None, me.session.account_id, Some(ip), chrono::Utc::now())
            .await?;
    state.sign_in_changed(Some(me.session.account_id));
    state.realtime.written();
    Ok(done)
}

async fn delete_form(
    State(state): State<AppState>,
    me: CurrentUser,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Form(input): Form<DeleteInput>,
) -> AppResult<Response> {
    match delete_account(&state, &me, &ip, &input).await {
        Ok(_) => {
            let mut resp = Redirect::to("/?deleted=1").into_response();
            if let Ok(v) = clear_session_cookie(state.config.secure_cookies).parse() {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(resp)
        }
        Err(AppError::Validation(errors)) => render_me(&state, me, &csrf, false, errors, None).await,
        Err(e) => Err(e),
    }
}

async fn delete_api(
    State(state): State<AppState>,
    me: CurrentUser,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<DeleteInput>,
) -> AppResult<Response> {
    let done = delete_account(&state, &me, &ip, &input).await?;
    Ok(Json(json!({ "deleted": true, "refund_pending_credits": done.unused_credits, "refund_amount_cents": done.refund_amount_cents }))
        .into_response())
}
