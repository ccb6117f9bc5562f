//! Signing in with Google (1.2) through platform-identity's OpenID Connect
//! client (authorization code flow with PKCE), and password reset mail
//! (1.7) through platform-mail.
//!
//! Google: `/auth/google` sends the browser to the provider and keeps the
//! attempt's secrets (state, nonce, PKCE verifier) in a short-lived,
//! HttpOnly cookie sealed with the token secret; the callback checks them,
//! verifies the ID token and finds the account: by the identity if it was
//! linked before, else by the provider-verified email (the identity is then
//! linked), else a new account is made from that email. A new account gives
//! its handle, birth date and country on `/welcome` before anything else
//! opens. Apps do the same through `POST /api/v1/auth/google/start` (the
//! URL and the sealed attempt) and `/complete` (the attempt, `code` and
//! `state` taken from the redirect), which answers with tokens.
//!
//! Reset mail: one answer whether or not the account exists; the link is
//! single-use, stored hashed, lives 15 minutes, replaces earlier links, and
//! an account gets at most three an hour. The mail is sent after the answer
//! (on its own task), so the answer's timing does not tell either.

use crate::api::Json;
use crate::auth::{hash_password, CurrentUser};
use crate::error::{refused, AppError, WebError, WebResult};
use crate::pages::Frame;
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use platform_identity::{Callback, Claims, OidcError, PendingLogin};
use platform_kernel::FieldErrors;
use platform_web::request::{cookie, set_cookie, ClientIp, CsrfToken};
use rooms_domain::account::{AdultBirthDate, Country, Email, FullName, Handle, Login, ResetChannel};
use rooms_domain::ids::AccountId;
use rooms_store::accounts::{self, Account};
use rooms_store::identities::{self, Completion, External, Outcome};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;

/// The cookie holding a Google sign-in attempt between the two requests.
pub const OIDC_COOKIE: &str = "rooms_oidc";

/// The JSON API of Google sign-in and the profile a provider-made account
/// still lacks, described by each handler's `#[utoipa::path]`.
pub fn api() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new().routes(routes!(api_start)).routes(routes!(api_complete)).routes(routes!(api_complete_profile))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/google", get(google_start))
        .route("/auth/google/callback", get(google_callback))
        .route("/welcome", get(welcome_page).post(welcome))
}

/// Paths an account without its profile may use (1.2: the rest opens once
/// the profile is complete).
pub fn open_before_profile(path: &str) -> bool {
    matches!(path, "/welcome" | "/signout" | "/api/v1/me" | "/api/v1/me/profile" | "/api/v1/auth/signout")
}

// --- the attempt, sealed --------------------------------------------------

fn mac(secret: &[u8], body: &str) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(b"rooms-oidc-attempt:");
    m.update(body.as_bytes());
    m
}

/// The attempt as an opaque string only this server can open.
pub fn seal(secret: &[u8], pending: &PendingLogin) -> String {
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(pending).unwrap_or_default());
    let tag = URL_SAFE_NO_PAD.encode(mac(secret, &body).finalize().into_bytes());
    format!("{body}.{tag}")
}

/// The attempt, if `sealed` came from [`seal`] with this secret.
pub fn open(secret: &[u8], sealed: &str) -> Option<PendingLogin> {
    let (body, tag) = sealed.split_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    mac(secret, body).verify_slice(&tag).ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()
}

// --- Google ---------------------------------------------------------------

fn google(s: &AppState) -> WebResult<&platform_identity::OidcClient> {
    s.google.as_deref().ok_or_else(|| AppError::NotFound.into())
}

fn oidc_refusal(e: OidcError) -> WebError {
    match e {
        OidcError::Transport(_) | OidcError::Discovery(_) => {
            tracing::warn!(error = %e, "sign-in provider unavailable");
            refused("provider_unavailable", "Google sign-in is unavailable right now; please try again or use your password")
        }
        OidcError::UnverifiedEmail => refused("email_unverified", "Google has not verified this email address, so it cannot sign you in"),
        OidcError::Provider { error, .. } if error == "access_denied" => refused("sign_in_cancelled", "Google sign-in was cancelled"),
        other => {
            tracing::info!(error = %other, "sign-in with Google refused");
            refused("sign_in_failed", other.to_string())
        }
    }
}

/// The account of a verified identity: found, linked or created; refused
/// when blocked.
async fn account_of(s: &AppState, claims: &Claims) -> WebResult<(Account, Outcome)> {
    let email = claims.email.as_deref().map(Email::parse).and_then(Result::ok);
    let Some(email) = email.filter(|_| claims.email_verified) else {
        return Err(refused("email_unverified", "Google did not share a verified email address"));
    };
    let name = claims
        .name
        .as_deref()
        .and_then(|n| FullName::parse("full_name", n).ok())
        .or_else(|| FullName::parse("full_name", &format!("{:.<3}", email.as_str().split('@').next().unwrap_or_default())).ok())
        .ok_or_else(|| AppError::Internal("no usable name".into()))?;
    let ext = External { issuer: claims.issuer.clone(), subject: claims.sub.clone(), email, name };
    // A new account's password is a random secret nobody knows, hashed like
    // any other: it signs in through Google until a reset sets a password.
    let unusable = hash_password(platform_accounts::random_token(), s.config.fast_password_hashing).await?;
    let outcome = identities::sign_in(&s.db, &ext, &unusable, Utc::now()).await?;
    let account = accounts::by_id(&s.db, outcome.account()).await?.ok_or(AppError::NotFound)?;
    if account.status != rooms_domain::account::AccountStatus::Active {
        let reason = account.status_reason.clone().unwrap_or_default();
        return Err(refused(
            "account_blocked",
            format!("This account is {}{}", account.status, if reason.is_empty() { String::new() } else { format!(": {reason}") }),
        ));
    }
    accounts::record_login(&s.db, account.id, Utc::now()).await?;
    Ok((account, outcome))
}

async fn google_start(State(s): State<AppState>) -> WebResult<Response> {
    let (url, pending) = google(&s)?.begin().await.map_err(oidc_refusal)?;
    // Lax: the provider's redirect back is a top-level cross-site GET.
    let c = set_cookie(OIDC_COOKIE, &seal(&s.config.token_secret, &pending), "Lax", Some(600), s.config.https);
    Ok(([(header::SET_COOKIE, c)], Redirect::to(&url)).into_response())
}

async fn google_callback(
    State(s): State<AppState>,
    ip: ClientIp,
    headers: axum::http::HeaderMap,
    Query(cb): Query<Callback>,
) -> WebResult<Response> {
    let client = google(&s)?;
    let pending = cookie(&headers, OIDC_COOKIE).and_then(|v| open(&s.config.token_secret, v)).ok_or_else(|| {
        refused("sign_in_failed", "This sign-in attempt does not match this browser (or took too long); please start again")
    })?;
    let claims = client.complete(&pending, &cb).await.map_err(oidc_refusal)?;
    let (account, _) = account_of(&s, &claims).await?;
    let to = if account.needs_profile { "/welcome" } else { "/" };
    let mut resp = crate::pages::start_session(&s, account.id, &ip, to).await?;
    let clear = set_cookie(OIDC_COOKIE, "", "Lax", Some(0), s.config.https);
    resp.headers_mut().append(header::SET_COOKIE, crate::header(&clear));
    Ok(resp)
}

#[utoipa::path(post, path = "/api/v1/auth/google/start", tag = "accounts", security(()), responses((status = 200, description = "`{authorization_url, login}`: open the URL; keep `login` for completing"), (status = 503, description = "`provider_unavailable`: Google sign-in is not configured")))]
async fn api_start(State(s): State<AppState>) -> WebResult<Response> {
    let (url, pending) = google(&s)?.begin().await.map_err(oidc_refusal)?;
    Ok(axum::Json(json!({"authorization_url": url, "login": seal(&s.config.token_secret, &pending)})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ApiComplete {
    login: String,
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/auth/google/complete", tag = "accounts", request_body = ApiComplete, security(()), responses((status = 200, description = "`{account, tokens, outcome}`: outcome signed_in, linked or created"), (status = 403, description = "`sign_in_failed`, `sign_in_cancelled`, `email_unverified` or `account_blocked`")))]
async fn api_complete(State(s): State<AppState>, Json(f): Json<ApiComplete>) -> WebResult<Response> {
    let client = google(&s)?;
    let pending =
        open(&s.config.token_secret, &f.login).ok_or_else(|| refused("sign_in_failed", "Unknown sign-in attempt; start again"))?;
    let cb = Callback { code: f.code, state: f.state, error: f.error, error_description: None };
    let claims = client.complete(&pending, &cb).await.map_err(oidc_refusal)?;
    let (account, outcome) = account_of(&s, &claims).await?;
    let tokens = crate::api::tokens_for(&s, account.id).await?;
    let how = match outcome {
        Outcome::Known(_) => "signed_in",
        Outcome::Linked(_) => "linked",
        Outcome::Created(_) => "created",
    };
    Ok(axum::Json(json!({"account": account, "tokens": tokens, "outcome": how})).into_response())
}

// --- the profile a provider-made account still lacks ------------------------

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ProfileForm {
    pub handle: String,
    pub full_name: String,
    pub birth_date: String,
    pub country: String,
}

async fn complete_profile(s: &AppState, id: AccountId, f: &ProfileForm) -> WebResult<()> {
    let mut errs = FieldErrors::new();
    let handle = errs.check(Handle::parse(&f.handle));
    let full_name = errs.check(FullName::parse("full_name", &f.full_name));
    let birth_date = errs.check(AdultBirthDate::parse(&f.birth_date, Utc::now().date_naive()));
    let country = errs.check(Country::parse(&f.country));
    let (Some(handle), Some(full_name), Some(birth_date), Some(country)) = (handle, full_name, birth_date, country) else {
        return Err(errs.into());
    };
    identities::complete_profile(&s.db, id, &Completion { handle, full_name, birth_date, country }).await?;
    s.sign_in_changed(id);
    Ok(())
}

#[derive(Template, WebTemplate)]
#[template(path = "welcome.html")]
struct WelcomePage {
    f: Frame,
    full_name: String,
    email: String,
}

async fn welcome_page(csrf: CsrfToken, u: CurrentUser) -> WebResult<Response> {
    if !u.account.needs_profile {
        return Ok(Redirect::to("/").into_response());
    }
    let page = WelcomePage {
        f: Frame::new(&csrf, Some(&u)),
        full_name: u.account.full_name.clone(),
        email: u.account.email.clone().unwrap_or_default(),
    };
    Ok(page.into_response())
}

async fn welcome(State(s): State<AppState>, u: CurrentUser, Form(f): Form<ProfileForm>) -> WebResult<Response> {
    complete_profile(&s, u.id(), &f).await?;
    Ok(Redirect::to("/").into_response())
}

#[utoipa::path(post, path = "/api/v1/me/profile", tag = "accounts", request_body = ProfileForm, security(("bearer" = []), ("session" = [])), responses((status = 200, description = "`{account}`: the profile is complete"), (status = 409, description = "`profile_complete`, or the handle is taken")))]
async fn api_complete_profile(State(s): State<AppState>, u: CurrentUser, Json(f): Json<ProfileForm>) -> WebResult<Response> {
    complete_profile(&s, u.id(), &f).await?;
    let account = accounts::by_id(&s.db, u.id()).await?.ok_or(AppError::NotFound)?;
    Ok(axum::Json(json!({"account": account})).into_response())
}

// --- reset mail -------------------------------------------------------------

/// Handles a reset request for `raw` (the same answer either way): for an
/// email account with mails left this hour, issues a link and mails it
/// after returning.
pub async fn request_reset(s: &AppState, raw: &str) -> WebResult<()> {
    s.limits.auth.check(format!("acct:{}", crate::actions::login_key(raw)))?;
    let Ok(login @ Login::Email(_)) = Login::parse(raw) else { return Ok(()) };
    let Some((_, token)) = accounts::issue_reset(&s.db, &login, ResetChannel::Email, None, Utc::now()).await? else { return Ok(()) };
    let mail = reset_mail(&s.config, login.key(), &token);
    let mailer = s.mailer.clone();
    tokio::spawn(async move {
        if let Err(e) = mailer.send(&mail).await {
            tracing::warn!(error = %e, "password reset mail not sent");
        }
    });
    Ok(())
}

/// The reset message: the link to the confirm page on the configured public
/// URL (never the request's Host header, which the requester controls).
pub fn reset_mail(config: &crate::WebConfig, to: &str, token: &str) -> platform_mail::Email {
    let link = format!("{}/reset/confirm?token={token}", config.public_url.trim_end_matches('/'));
    let minutes = rooms_domain::limits::RESET_TOKEN_EMAIL.as_secs() / 60;
    platform_mail::Email::new(config.mail_from.clone(), to, "Reset your Rooms password").text(format!(
        "Someone asked to reset the password of your Rooms account.\r\n\r\n\
         To choose a new password, open this link within {minutes} minutes:\r\n{link}\r\n\r\n\
         The link works once. If you did not ask for this, ignore this message: your password stays as it is.\r\n"
    ))
}

/// The answer to a reset request (page and API say the same).
pub const RESET_ANSWER: &str = "If an account uses that address, a reset link is on its way.";

pub(crate) fn accepted() -> Response {
    (StatusCode::ACCEPTED, axum::Json(json!({"message": RESET_ANSWER}))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_attempts_open_only_with_the_secret_and_unchanged() {
        let p = PendingLogin { state: "s".into(), nonce: "n".into(), pkce_verifier: "v".repeat(43), created_at: 7 };
        let sealed = seal(b"0123456789abcdef0123456789abcdef", &p);
        assert_eq!(open(b"0123456789abcdef0123456789abcdef", &sealed), Some(p.clone()));
        assert_eq!(open(b"another secret of thirty-two byte", &sealed), None);
        let (body, tag) = sealed.split_once('.').unwrap();
        let mut forged: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
        forged["created_at"] = json!(9_999_999_999u64);
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(forged.to_string()));
        assert_eq!(open(b"0123456789abcdef0123456789abcdef", &forged), None, "a changed attempt is refused");
        assert_eq!(open(b"0123456789abcdef0123456789abcdef", "junk"), None);
    }

    #[test]
    fn only_the_profile_pages_open_before_the_profile() {
        assert!(open_before_profile("/welcome") && open_before_profile("/api/v1/me/profile"));
        assert!(!open_before_profile("/") && !open_before_profile("/rooms/new") && !open_before_profile("/api/v1/rooms"));
    }
}
