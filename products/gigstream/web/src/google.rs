//! Signing in with Google through platform-identity's OpenID Connect
//! client (authorization code flow with PKCE).
//!
//! `/auth/google` sends the browser to the provider and keeps the attempt
//! (state, nonce, PKCE verifier) in a short-lived HttpOnly cookie sealed
//! with `platform_identity::seal`; the callback checks it, verifies the ID
//! token, and finds the account: by the identity if linked before, else by
//! the provider-verified email (the identity is linked then). With no
//! account, the verified identity goes into a second sealed cookie and
//! `/welcome` asks for a username and display name before the account
//! exists. Apps do the same through `POST /api/v1/auth/google/start` (the
//! URL and the sealed attempt), `/complete` (the attempt with `code` and
//! `state` from the redirect: a token, or `needs_account` with a sealed
//! `signup`) and `/signup` (that, a username and a display name).

use crate::auth::{self, ClientIp, CsrfToken, MaybeUser};
use crate::forms::check_identity;
use crate::middleware::session_cookie;
use crate::templates::Chrome;
use crate::{AppError, AppResult, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use gigstream_store::accounts::{self, Account, NewAccount};
use gigstream_store::identities::{self, External, Found};
use platform_accounts::Via;
use platform_identity::{seal, Callback, Claims, OidcClient, OidcError, PendingLogin};
use platform_web::request::{cookie, set_cookie};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The attempt between the two requests.
pub const OIDC_COOKIE: &str = "gigstream_oidc";
/// A verified identity that is becoming an account (`/welcome`).
pub const SIGNUP_COOKIE: &str = "gigstream_google_signup";
const ATTEMPT: &str = "gigstream-google-attempt";
const SIGNUP: &str = "gigstream-google-signup";
const ATTEMPT_SECS: u64 = 600;
const SIGNUP_SECS: u64 = 1800;

/// The configured provider and the key its cookies are sealed with.
pub struct Google {
    pub client: OidcClient,
    key: Vec<u8>,
}

impl Google {
    /// `secret` seals the cookies (the OAuth client secret serves: it is
    /// secret and the same on every node).
    pub fn new(client: OidcClient, secret: &str) -> Google {
        Google { client, key: secret.as_bytes().to_vec() }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/google", get(start_page))
        .route("/auth/google/callback", get(callback_page))
        .route("/welcome", get(welcome_page).post(welcome_submit))
        .route("/api/v1/auth/google/start", post(start_api))
        .route("/api/v1/auth/google/complete", post(complete_api))
        .route("/api/v1/auth/google/signup", post(signup_api))
}

fn google(state: &AppState) -> AppResult<&Google> {
    state.google.as_deref().ok_or(AppError::NotFound)
}

fn refusal(e: OidcError) -> AppError {
    match e {
        OidcError::Transport(_) | OidcError::Discovery(_) => {
            tracing::warn!(error = %e, "sign-in provider unavailable");
            AppError::DependencyDown("Google sign-in is unavailable right now; try again or use your password".into())
        }
        OidcError::UnverifiedEmail => AppError::field("google", "Google has not verified this email address, so it cannot sign you in"),
        OidcError::Provider { error, .. } if error == "access_denied" => AppError::BadRequest("Google sign-in was cancelled".into()),
        other => {
            tracing::info!(error = %other, "sign-in with Google refused");
            AppError::BadRequest(format!("Google sign-in failed: {other}"))
        }
    }
}

/// A verified identity that may become an account.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    ext: External,
    name: String,
}

fn pending_of(claims: &Claims) -> AppResult<Pending> {
    let email = claims.email.as_deref().map(str::trim).filter(|e| !e.is_empty() && claims.email_verified);
    let Some(email) = email else {
        return Err(AppError::field("google", "Google did not share a verified email address"));
    };
    let ext = External { issuer: claims.issuer.clone(), subject: claims.sub.clone(), email: email.to_lowercase() };
    let name = claims.name.clone().unwrap_or_default().chars().filter(|c| !matches!(c, '<' | '>')).take(50).collect();
    Ok(Pending { ext, name })
}

/// Where the identity leads: an account (found or linked now), or a sign-up.
async fn account_of(state: &AppState, p: &Pending) -> AppResult<Option<(Account, &'static str)>> {
    let (id, how) = match identities::find_or_link(&state.db, &p.ext, Utc::now()).await? {
        Found::Known(id) => (id, "signed_in"),
        Found::Linked(id) => (id, "linked"),
        Found::New => return Ok(None),
    };
    let account = accounts::by_id(&state.db, id).await?;
    if !account.is_active {
        return Err(AppError::Forbidden);
    }
    Ok(Some((account, how)))
}

fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok())
}

/// A redirect to `to` setting each cookie.
fn redirect_with(to: &str, cookies: &[String]) -> Response {
    let mut resp = Redirect::to(to).into_response();
    for c in cookies {
        if let Ok(v) = header::HeaderValue::from_str(c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

async fn start_page(State(state): State<AppState>) -> AppResult<Response> {
    let g = google(&state)?;
    let (url, pending) = g.client.begin().await.map_err(refusal)?;
    // Lax: the provider's redirect back is a top-level cross-site GET.
    let sealed = seal::seal(&g.key, ATTEMPT, ATTEMPT_SECS, &pending);
    Ok(redirect_with(&url, &[set_cookie(OIDC_COOKIE, &sealed, "Lax", Some(ATTEMPT_SECS), state.config.secure_cookies)]))
}

async fn callback_page(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Query(cb): Query<Callback>,
) -> AppResult<Response> {
    let g = google(&state)?;
    let attempt: PendingLogin = cookie(&headers, OIDC_COOKIE).and_then(|v| seal::open(&g.key, ATTEMPT, v)).ok_or_else(|| {
        AppError::BadRequest("This sign-in attempt does not match this browser (or took too long); please start again".into())
    })?;
    let claims = g.client.complete(&attempt, &cb).await.map_err(refusal)?;
    let pending = pending_of(&claims)?;
    let secure = state.config.secure_cookies;
    let clear = set_cookie(OIDC_COOKIE, "", "Lax", Some(0), secure);
    match account_of(&state, &pending).await? {
        Some((account, _)) => {
            let token = auth::start_session(&state, account.id, Via::Cookie, &ip, user_agent(&headers)).await?;
            Ok(redirect_with("/dashboard", &[session_cookie(&token, secure), clear]))
        }
        None => {
            let sealed = seal::seal(&g.key, SIGNUP, SIGNUP_SECS, &pending);
            Ok(redirect_with("/welcome", &[set_cookie(SIGNUP_COOKIE, &sealed, "Lax", Some(SIGNUP_SECS), secure), clear]))
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "welcome.html")]
struct WelcomePage {
    chrome: Chrome,
    email: String,
    username: String,
    display_name: String,
    errors: Vec<(String, String)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WelcomeForm {
    username: String,
    display_name: String,
}

fn signup_of(state: &AppState, headers: &HeaderMap) -> Option<Pending> {
    let g = state.google.as_deref()?;
    cookie(headers, SIGNUP_COOKIE).and_then(|v| seal::open(&g.key, SIGNUP, v))
}

fn chrome(csrf: &CsrfToken) -> Chrome {
    Chrome { csrf: csrf.0.clone(), username: None, q: String::new() }
}

async fn welcome_page(State(state): State<AppState>, csrf: CsrfToken, MaybeUser(user): MaybeUser, headers: HeaderMap) -> Response {
    if user.is_some() {
        return Redirect::to("/dashboard").into_response();
    }
    let Some(p) = signup_of(&state, &headers) else { return Redirect::to("/signup").into_response() };
    let suggested: String =
        p.ext.email.split('@').next().unwrap_or_default().chars().filter(char::is_ascii_alphanumeric).take(20).collect();
    WelcomePage { chrome: chrome(&csrf), email: p.ext.email, username: suggested.to_lowercase(), display_name: p.name, errors: vec![] }
        .into_response()
}

/// Makes the account of `p` with the chosen names; a refusal names its field.
async fn create(state: &AppState, p: &Pending, username: &str, display_name: &str) -> AppResult<Account> {
    let (username, name) = check_identity(username, display_name)?;
    // The password is a random secret nobody knows, hashed like any other:
    // the account signs in through Google.
    let hash = auth::hash_password(platform_accounts::random_token(), state.config.fast_password_hashing).await?;
    let new = NewAccount { email: &p.ext.email, username: &username, display_name: &name, password_hash: &hash, is_admin: false };
    Ok(identities::create(&state.db, &p.ext, &new, Utc::now()).await?)
}

async fn welcome_submit(
    State(state): State<AppState>,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    crate::routes::FormIn(f): crate::routes::FormIn<WelcomeForm>,
) -> AppResult<Response> {
    let Some(p) = signup_of(&state, &headers) else { return Ok(Redirect::to("/signup").into_response()) };
    match create(&state, &p, &f.username, &f.display_name).await {
        Ok(account) => {
            let secure = state.config.secure_cookies;
            let token = auth::start_session(&state, account.id, Via::Cookie, &ip, user_agent(&headers)).await?;
            Ok(redirect_with("/dashboard", &[session_cookie(&token, secure), set_cookie(SIGNUP_COOKIE, "", "Lax", Some(0), secure)]))
        }
        Err(AppError::Validation(errors)) => {
            let errors = errors.0.iter().map(|e| (e.field.to_string(), e.message.clone())).collect();
            let page =
                WelcomePage { chrome: chrome(&csrf), email: p.ext.email, username: f.username, display_name: f.display_name, errors };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn start_api(State(state): State<AppState>) -> AppResult<Json<serde_json::Value>> {
    let g = google(&state)?;
    let (url, pending) = g.client.begin().await.map_err(refusal)?;
    Ok(Json(json!({ "authorization_url": url, "login": seal::seal(&g.key, ATTEMPT, ATTEMPT_SECS, &pending) })))
}

#[derive(Deserialize)]
struct CompleteBody {
    login: String,
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn complete_api(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    crate::routes::JsonIn(b): crate::routes::JsonIn<CompleteBody>,
) -> AppResult<Response> {
    let g = google(&state)?;
    let attempt: PendingLogin =
        seal::open(&g.key, ATTEMPT, &b.login).ok_or_else(|| AppError::field("login", "Unknown or expired sign-in attempt; start again"))?;
    let given = |v: Option<String>| v.filter(|s| !s.is_empty());
    let cb = Callback { code: given(b.code), state: given(b.state), error: given(b.error), error_description: None };
    let claims = g.client.complete(&attempt, &cb).await.map_err(refusal)?;
    let pending = pending_of(&claims)?;
    match account_of(&state, &pending).await? {
        Some((account, how)) => {
            let token = auth::start_session(&state, account.id, Via::Bearer, &ip, user_agent(&headers)).await?;
            Ok(Json(json!({ "outcome": how, "token": token, "account": account })).into_response())
        }
        None => Ok(Json(json!({
            "outcome": "needs_account",
            "signup": seal::seal(&g.key, SIGNUP, SIGNUP_SECS, &pending),
            "email": pending.ext.email,
            "name": pending.name,
        }))
        .into_response()),
    }
}

#[derive(Deserialize)]
struct SignupBody {
    signup: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
}

async fn signup_api(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    crate::routes::JsonIn(b): crate::routes::JsonIn<SignupBody>,
) -> AppResult<Response> {
    let g = google(&state)?;
    let p: Pending =
        seal::open(&g.key, SIGNUP, &b.signup).ok_or_else(|| AppError::field("signup", "Unknown or expired Google sign-up; start again"))?;
    let account = create(&state, &p, &b.username, &b.display_name).await?;
    let token = auth::start_session(&state, account.id, Via::Bearer, &ip, user_agent(&headers)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "outcome": "created", "token": token, "account": account }))).into_response())
}
