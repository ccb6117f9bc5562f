//! Pages for visitors and real users.

use crate::auth::{ClientIp, CsrfToken, CurrentUser, MaybeSession};
use crate::error::{AppError, AppResult};
use crate::flows::{self, SignupInput};
use crate::middleware::session::{clear_session_cookie, session_cookie};
use crate::templates::{self as t, Chrome};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use fantooo_domain::{validation as v, AccountKind, FieldErrors};
use fantooo_store::accounts::{self, Via};
use fantooo_store::{profiles, users};
use serde::Deserialize;

/// Where each kind of account lands after signing in.
pub fn home_of(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::User => "/discover",
        AccountKind::Operator => "/operator/waiting",
        AccountKind::Admin => "/admin",
    }
}

/// Only same-site relative paths are followed after login.
pub fn safe_next(next: Option<&str>, kind: AccountKind) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => home_of(kind).to_string(),
    }
}

pub fn with_session_cookie(state: &AppState, token: &str, to: &str) -> Response {
    let max_age = state.config.session_ttl.as_secs();
    let mut resp = Redirect::to(to).into_response();
    if let Ok(v) = session_cookie(token, max_age, state.config.secure_cookies).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

pub async fn landing(State(state): State<AppState>, MaybeSession(s): MaybeSession, csrf: CsrfToken) -> AppResult<Response> {
    if let Some(s) = &s {
        return Ok(Redirect::to(home_of(s.kind)).into_response());
    }
    let profiles = profiles::list_public(&state.db, 4, 0).await?;
    Ok(t::Landing { chrome: Chrome::anonymous(&csrf.0, "/"), profiles }.into_response())
}

pub async fn get_started(State(state): State<AppState>, MaybeSession(s): MaybeSession, csrf: CsrfToken) -> Response {
    if let Some(s) = &s {
        return Redirect::to(home_of(s.kind)).into_response();
    }
    t::GetStarted {
        chrome: Chrome::anonymous(&csrf.0, "/get-started"),
        values: Default::default(),
        errors: FieldErrors::new(),
        email_domain: state.config.email_domain.clone(),
        location_suggestions: vec![],
    }
    .into_response()
}

pub async fn get_started_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    csrf: CsrfToken,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let pairs: serde_json::Map<String, serde_json::Value> = form.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
    let values: t::SignupValues = serde_json::from_value(serde_json::Value::Object(pairs.clone())).unwrap_or_default();
    let input: SignupInput = serde_json::from_value(serde_json::Value::Object(pairs)).unwrap_or_default();
    let review = crate::circumvention::screen_signup(&state, &ip, &headers).await?;
    match flows::register(&state, &input, &ip, review).await {
        Ok(user) => {
            crate::circumvention::record(&state, user.id, "signup", &ip, &headers).await;
            let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
            let session = flows::open_session(&state, user.account_id, AccountKind::User, Via::Cookie, &ip, ua).await?;
            Ok(with_session_cookie(&state, &session.token, "/discover"))
        }
        Err(AppError::Validation(errors)) => {
            let location_suggestions = match errors.for_field("location") {
                Some(_) if !input.location.trim().is_empty() => {
                    flows::location_suggestions(&state, input.location.trim()).await.iter().map(|p| p.display()).collect()
                }
                _ => vec![],
            };
            let page = t::GetStarted {
                chrome: Chrome::anonymous(&csrf.0, "/get-started"),
                values,
                errors,
                email_domain: state.config.email_domain.clone(),
                location_suggestions,
            };
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    pub password: String,
    pub next: Option<String>,
}

/// Shared sign-in page handling for the three account kinds.
pub struct LoginPage {
    pub kind: AccountKind,
    pub title: &'static str,
    pub subtitle: &'static str,
    pub action: &'static str,
    pub login_label: &'static str,
    pub login_type: &'static str,
    pub show_signup: bool,
}

impl LoginPage {
    pub fn render(&self, csrf: &CsrfToken, login: String, next: String, error: String) -> t::Login {
        t::Login {
            chrome: Chrome::anonymous(&csrf.0, self.action),
            title: self.title,
            subtitle: self.subtitle,
            action: self.action,
            login_label: self.login_label,
            login_type: self.login_type,
            login_value: login,
            next,
            error,
            show_signup: self.show_signup,
        }
    }

    pub async fn submit(&self, state: &AppState, ip: &str, csrf: &CsrfToken, headers: &HeaderMap, form: LoginForm) -> AppResult<Response> {
        let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
        let guarded = if self.kind == AccountKind::User {
            crate::circumvention::guard_sign_in(state, &form.login, ip, headers).await
        } else {
            Ok(())
        };
        let attempt = match guarded {
            Ok(()) => flows::login(state, self.kind, &form.login, &form.password, Via::Cookie, ip, ua).await,
            Err(e) => Err(e),
        };
        if attempt.is_ok() && self.kind == AccountKind::User {
            crate::circumvention::record_login(state, &form.login, ip, headers).await;
        }
        match attempt {
            Ok(session) => Ok(with_session_cookie(state, &session.token, &safe_next(form.next.as_deref(), self.kind))),
            Err(e @ (AppError::LoginFailed | AppError::Validation(_) | AppError::BadRequest(_))) => {
                let status = e.status();
                let page = self.render(csrf, form.login, form.next.unwrap_or_default(), e.body().message);
                Ok((status, page).into_response())
            }
            Err(e) => Err(e),
        }
    }
}

pub const USER_LOGIN: LoginPage = LoginPage {
    kind: AccountKind::User,
    title: "Welcome back",
    subtitle: "Log in to continue your conversations.",
    action: "/login",
    login_label: "Username",
    login_type: "text",
    show_signup: true,
};

pub async fn user_login(MaybeSession(s): MaybeSession, csrf: CsrfToken, Query(q): Query<NextQuery>) -> Response {
    if let Some(s) = s.filter(|s| s.kind == AccountKind::User) {
        return Redirect::to(home_of(s.kind)).into_response();
    }
    USER_LOGIN.render(&csrf, String::new(), q.next.unwrap_or_default(), String::new()).into_response()
}

pub async fn user_login_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    csrf: CsrfToken,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    USER_LOGIN.submit(&state, &ip, &csrf, &headers, form).await
}

pub async fn logout(State(state): State<AppState>, MaybeSession(s): MaybeSession) -> AppResult<Response> {
    let to = match &s {
        Some(s) => {
            accounts::SESSIONS.revoke(&state.db, &s.token, chrono::Utc::now()).await?;
            state.signed_out(&s.token);
            match s.kind {
                AccountKind::User => "/",
                AccountKind::Operator => "/op-login",
                AccountKind::Admin => "/admin-login",
            }
        }
        None => "/",
    };
    let mut resp = Redirect::to(to).into_response();
    if let Ok(v) = clear_session_cookie(state.config.secure_cookies).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[derive(Deserialize)]
pub struct SavedQuery {
    pub saved: Option<String>,
    pub password: Option<String>,
    pub recovery: Option<String>,
}

pub async fn me(State(state): State<AppState>, me: CurrentUser, csrf: CsrfToken, Query(q): Query<SavedQuery>) -> AppResult<Response> {
    let notice = match (q.password.as_deref(), q.recovery.as_deref()) {
        (Some("reset"), _) => Some("Your new password is set and you are logged in. Every other device was signed out."),
        (Some(_), _) => Some("Password changed. Other devices were signed out."),
        (_, Some("sent")) => Some("We sent a confirmation link to your recovery email. Open it to finish."),
        (_, Some("removed")) => Some("Recovery email removed."),
        _ => None,
    }
    .map(str::to_string);
    render_me(&state, me, &csrf, q.saved.is_some(), FieldErrors::new(), notice).await
}

/// The account page, with the errors of a form on it (422) or a notice.
pub async fn render_me(
    state: &AppState,
    me: CurrentUser,
    csrf: &CsrfToken,
    saved: bool,
    errors: FieldErrors,
    notice: Option<String>,
) -> AppResult<Response> {
    let chrome = me.chrome(csrf, "/me");
    let (chats, ledger) = me_history(state, &me).await?;
    let status = if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, t::Me { chrome, user: me.user, saved, notice, errors, chats, ledger }).into_response())
}

/// The chats and recent credit movements shown on /me.
async fn me_history(
    state: &AppState,
    me: &CurrentUser,
) -> AppResult<(Vec<fantooo_store::chats::ChatSummary>, Vec<fantooo_store::ledger::Entry>)> {
    let chats = fantooo_store::chats::list_for_user(&state.db, me.user.id, 20).await?;
    let ledger = fantooo_store::ledger::entries(&state.db, me.user.id, None, 20).await?;
    Ok((chats, ledger))
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub bio: String,
}

/// Validates a profile edit; shared with the API.
pub fn validate_profile(form: &ProfileForm) -> Result<(String, Option<String>), FieldErrors> {
    let mut errs = FieldErrors::new();
    let name = errs.check(v::display_name("display_name", &form.display_name));
    let bio = form.bio.trim();
    if bio.chars().count() > 500 {
        errs.add("bio", "About me must be at most 500 characters");
    }
    errs.clone().into_result()?;
    Ok((name.unwrap_or_default(), (!bio.is_empty()).then(|| bio.to_string())))
}

pub async fn me_submit(
    State(state): State<AppState>,
    me: CurrentUser,
    csrf: CsrfToken,
    Form(form): Form<ProfileForm>,
) -> AppResult<Response> {
    match validate_profile(&form) {
        Ok((name, bio)) => {
            users::update_profile(&state.db, me.user.id, &name, bio.as_deref()).await?;
            Ok(Redirect::to("/me?saved=1").into_response())
        }
        Err(errors) => render_me(&state, me, &csrf, false, errors, None).await,
    }
}
