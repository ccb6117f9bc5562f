//! A way back in when the password is forgotten. The generated address
//! (`username@<domain>`) receives no mail, so users may add a recovery
//! email of their own, verified by a link sent to it and used for nothing
//! but password resets. A reset is asked for by username or recovery
//! email and always answered alike (no account enumeration); the link is
//! single-use, expires after an hour, is stored only as a hash, and
//! at most three are sent per account per hour (on top of the per-address
//! and per-login rate limits of every sign-in form).

use super::public::{render_me, with_session_cookie};
use crate::auth::{hash_password, ClientIp, CsrfToken, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::routes::api::ApiJson;
use crate::templates::Chrome;
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Form, Json, Router};
use chrono::Utc;
use fantooo_domain::{validation as v, AccountKind, FieldErrors};
use fantooo_store::accounts::Via;
use fantooo_store::recovery;
use platform_mail::Email;
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/recovery-email", post(set_form))
        .route("/me/recovery-email/remove", post(remove_form))
        .route("/api/me/recovery-email", put(set_api).delete(remove_api))
        .route("/recovery-email/verify", get(verify))
        .route("/forgot-password", get(forgot_page).post(forgot_form))
        .route("/api/auth/forgot-password", post(forgot_api))
        .route("/reset-password", get(reset_page).post(reset_form))
        .route("/api/auth/reset-password", post(reset_api))
}

/// The sender of the site's own mail.
fn from(state: &AppState) -> String {
    state.config.mail_from.clone().unwrap_or_else(|| format!("Fantooo <no-reply@{}>", state.config.email_domain))
}

// ---------------------------------------------------------------- recovery email

#[derive(Deserialize, Default)]
struct EmailInput {
    #[serde(default)]
    recovery_email: String,
}

/// Checks the address, records it unverified and mails the link that
/// verifies it.
async fn set_email(state: &AppState, me: &CurrentUser, headers: &HeaderMap, input: &EmailInput) -> AppResult<String> {
    let email = v::email(&input.recovery_email).map_err(|e| AppError::field("recovery_email", e.message))?;
    let own_domain = format!("@{}", state.config.email_domain.to_lowercase());
    if email.ends_with(&own_domain) {
        return Err(AppError::field(
            "recovery_email",
            format!(
                "Use an address you read outside {}: your {} address does not receive mail.",
                state.config.email_domain, state.config.email_domain
            ),
        ));
    }
    state.limits.check_auth_account(&me.user.username)?;
    let token = recovery::set_email(&state.db, me.user.id, &email, Utc::now()).await?;
    let link = format!("{}/recovery-email/verify?token={token}", crate::purchases::site_url(state, headers));
    let mail = Email::new(from(state), email.clone(), "Confirm your recovery email").text(format!(
        "Hi {},\n\nConfirm this address as your Fantooo recovery email by opening this link (it works for 24 hours):\n\n{link}\n\n\
         We only use it to send you a link when you forget your password. If you didn't ask for this, ignore this email.\n",
        me.user.display_name
    ));
    if let Err(e) = state.mailer.send(&mail).await {
        tracing::warn!(error = %e, "recovery email verification not sent");
        return Err(AppError::field("recovery_email", "We couldn't send the email just now. Please try again in a few minutes."));
    }
    Ok(email)
}

async fn set_form(
    State(state): State<AppState>,
    me: CurrentUser,
    csrf: CsrfToken,
    headers: HeaderMap,
    Form(input): Form<EmailInput>,
) -> AppResult<Response> {
    match set_email(&state, &me, &headers, &input).await {
        Ok(_) => Ok(Redirect::to("/me?recovery=sent#recovery").into_response()),
        Err(AppError::Validation(errors)) => render_me(&state, me, &csrf, false, errors, None).await,
        Err(e) => Err(e),
    }
}

async fn set_api(
    State(state): State<AppState>,
    me: CurrentUser,
    headers: HeaderMap,
    ApiJson(input): ApiJson<EmailInput>,
) -> AppResult<Response> {
    let email = set_email(&state, &me, &headers, &input).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "recovery_email": email, "verified": false }))).into_response())
}

async fn remove_form(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    recovery::remove_email(&state.db, me.user.id, Utc::now()).await?;
    Ok(Redirect::to("/me?recovery=removed#recovery").into_response())
}

async fn remove_api(State(state): State<AppState>, me: CurrentUser) -> AppResult<StatusCode> {
    recovery::remove_email(&state.db, me.user.id, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "notice.html")]
struct Notice {
    chrome: Chrome,
    title: &'static str,
    text: &'static str,
    next_href: &'static str,
    next_label: &'static str,
}

/// The link in the verification email; works signed in or not.
async fn verify(State(state): State<AppState>, csrf: CsrfToken, Query(q): Query<TokenQuery>) -> AppResult<Response> {
    let chrome = Chrome::anonymous(&csrf.0, "/recovery-email/verify");
    match recovery::verify_email(&state.db, q.token.trim(), Utc::now()).await {
        Ok(_) => Ok(Notice {
            chrome,
            title: "Recovery email confirmed",
            text: "Thank you. If you ever forget your password, ask for a reset link on the log-in page and we'll send it to this address.",
            next_href: "/me#recovery",
            next_label: "Back to your profile",
        }
        .into_response()),
        Err(fantooo_store::StoreError::NotFound) => Ok((
            StatusCode::NOT_FOUND,
            Notice {
                chrome,
                title: "This link doesn't work any more",
                text: "It has expired, was already used, or a newer one was sent. Add your recovery email again on your profile page to get a new link.",
                next_href: "/me#recovery",
                next_label: "Go to your profile",
            },
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- forgot

#[derive(Template, WebTemplate)]
#[template(path = "forgot_password.html")]
struct ForgotPage {
    chrome: Chrome,
    sent: bool,
    login: String,
    error: String,
}

#[derive(Deserialize, Default)]
struct ForgotInput {
    #[serde(default)]
    login: String,
}

/// Sends a reset link to every account the login names that has a
/// verified recovery email. The caller answers the same whatever happened.
async fn forgot(state: &AppState, headers: &HeaderMap, input: &ForgotInput) -> AppResult<()> {
    let login = input.login.trim();
    if login.is_empty() || login.chars().count() > 254 {
        return Err(AppError::field("login", "Enter your username or recovery email"));
    }
    state.limits.check_auth_account(login)?;
    let now = Utc::now();
    let site = crate::purchases::site_url(state, headers);
    for target in recovery::targets(&state.db, login).await? {
        let Some(token) = recovery::issue_reset(&state.db, &target, now).await? else {
            tracing::info!(user = %target.user_id, "password reset not sent: hourly limit reached");
            continue;
        };
        let mail = Email::new(from(state), target.email.clone(), "Reset your Fantooo password").text(format!(
            "Hi {},\n\nSomeone (hopefully you) asked to reset the password of your Fantooo account. Choose a new one here \
             (the link works once, for one hour):\n\n{site}/reset-password?token={token}\n\n\
             If you didn't ask for this, ignore this email: your password stays as it is.\n",
            target.username
        ));
        if let Err(e) = state.mailer.send(&mail).await {
            tracing::warn!(error = %e, user = %target.user_id, "password reset email not sent");
        }
    }
    Ok(())
}

async fn forgot_page(csrf: CsrfToken) -> Response {
    ForgotPage { chrome: Chrome::anonymous(&csrf.0, "/forgot-password"), sent: false, login: String::new(), error: String::new() }
        .into_response()
}

async fn forgot_form(
    State(state): State<AppState>,
    csrf: CsrfToken,
    headers: HeaderMap,
    Form(input): Form<ForgotInput>,
) -> AppResult<Response> {
    let chrome = Chrome::anonymous(&csrf.0, "/forgot-password");
    match forgot(&state, &headers, &input).await {
        Ok(()) => Ok(ForgotPage { chrome, sent: true, login: String::new(), error: String::new() }.into_response()),
        Err(AppError::Validation(errors)) => {
            let error = errors.0.first().map(|e| e.message.clone()).unwrap_or_default();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, ForgotPage { chrome, sent: false, login: input.login, error }).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn forgot_api(State(state): State<AppState>, headers: HeaderMap, ApiJson(input): ApiJson<ForgotInput>) -> AppResult<Response> {
    forgot(&state, &headers, &input).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "sent": "If an account with a verified recovery email matches, a link was sent to it." })))
        .into_response())
}

// ---------------------------------------------------------------- reset

#[derive(Template, WebTemplate)]
#[template(path = "reset_password.html")]
struct ResetPage {
    chrome: Chrome,
    token: String,
    usable: bool,
    errors: FieldErrors,
}

impl ResetPage {
    fn err(&self, field: &str) -> &str {
        self.errors.for_field(field).unwrap_or("")
    }
}

#[derive(Deserialize, Default)]
struct ResetInput {
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_confirm: Option<String>,
}

const EXPIRED: &str = "This reset link has expired or was already used. Ask for a new one.";

/// Checks the new password and uses the link: the password changes and
/// every session of the account ends.
async fn reset(state: &AppState, input: &ResetInput) -> AppResult<fantooo_domain::ids::AccountId> {
    let mut errs = FieldErrors::new();
    if let Err(e) = v::password(&input.new_password) {
        errs.add("new_password", e.message);
    }
    if input.new_password_confirm.as_deref().is_some_and(|c| c != input.new_password) {
        errs.add("new_password_confirm", "Passwords do not match");
    }
    errs.into_result()?;
    let token = input.token.trim();
    if token.is_empty() || !recovery::reset_usable(&state.db, token, Utc::now()).await? {
        return Err(AppError::field("token", EXPIRED));
    }
    let hash = hash_password(input.new_password.clone(), state.config.fast_password_hashing).await?;
    match recovery::reset_password(&state.db, token, &hash, Utc::now()).await {
        Ok(account) => {
            state.sign_in_changed(Some(account));
            Ok(account)
        }
        Err(fantooo_store::StoreError::NotFound) => Err(AppError::field("token", EXPIRED)),
        Err(e) => Err(e.into()),
    }
}

async fn reset_page(State(state): State<AppState>, csrf: CsrfToken, Query(q): Query<TokenQuery>) -> AppResult<Response> {
    let token = q.token.trim().to_string();
    let usable = !token.is_empty() && recovery::reset_usable(&state.db, &token, Utc::now()).await?;
    let page = ResetPage { chrome: Chrome::anonymous(&csrf.0, "/reset-password"), token, usable, errors: FieldErrors::new() };
    let status = if usable { StatusCode::OK } else { StatusCode::NOT_FOUND };
    Ok((status, page).into_response())
}

/// A successful reset signs the user in here (the link proved the mailbox).
async fn reset_form(
    State(state): State<AppState>,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(input): Form<ResetInput>,
) -> AppResult<Response> {
    match reset(&state, &input).await {
        Ok(account) => {
            let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
            let session = crate::flows::open_session(&state, account, AccountKind::User, Via::Cookie, &ip, ua).await?;
            Ok(with_session_cookie(&state, &session.token, "/me?password=reset"))
        }
        Err(AppError::Validation(errors)) => {
            let usable = errors.for_field("token").is_none();
            let page = ResetPage { chrome: Chrome::anonymous(&csrf.0, "/reset-password"), token: input.token, usable, errors };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn reset_api(State(state): State<AppState>, ApiJson(input): ApiJson<ResetInput>) -> AppResult<StatusCode> {
    reset(&state, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}
