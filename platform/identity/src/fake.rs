//! A local OpenID Connect provider for demos and tests. It serves
//! discovery (`/.well-known/openid-configuration`), a JWKS (`/jwks`) with
//! an RSA key generated at start, an authorization page (`/authorize`) that
//! lists test identities to sign in as (or deny), and a token endpoint
//! (`/token`) that checks the client, the redirect URI, the single-use code
//! and the PKCE verifier before issuing an RS256-signed ID token. The
//! [`Tamper`] knobs make it issue the bad tokens a relying party must
//! refuse.

use crate::oidc::pkce_challenge;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Someone to sign in as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    pub picture: Option<String>,
}

impl Identity {
    pub fn new(sub: &str, email: &str, name: &str) -> Self {
        Identity { sub: sub.into(), email: email.into(), email_verified: true, name: name.into(), picture: None }
    }
}

/// What the next ID tokens get wrong, for tests.
#[derive(Debug, Clone, Default)]
pub struct Tamper {
    /// `aud` (and `azp`) set to this instead of the client id.
    pub audience: Option<String>,
    /// `exp` this many seconds in the past.
    pub expired_secs_ago: Option<u64>,
    /// Signed with a key that is not in the JWKS (same `kid`).
    pub foreign_key: bool,
    /// `nonce` replaced by this.
    pub nonce: Option<String>,
    /// `iss` replaced by this.
    pub issuer: Option<String>,
}

struct Grant {
    client_id: String,
    redirect_uri: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    identity: Identity,
}

struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

fn make_key(kid: &str) -> SigningKey {
    // Key generation takes a moment; the fake generates at most two per
    // process (its own and the foreign one).
    let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key generation");
    let der = key.to_pkcs1_der().expect("PKCS#1 encoding");
    let jwk = json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()), "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    });
    SigningKey { kid: kid.into(), encoding: EncodingKey::from_rsa_der(der.as_bytes()), jwk }
}

fn own_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| make_key(&format!("fake-{}", hex_id())))
}

fn foreign_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| make_key("foreign"))
}

fn hex_id() -> String {
    rand::random::<[u8; 8]>().iter().map(|b| format!("{b:02x}")).collect()
}

struct Inner {
    issuer: String,
    clients: Mutex<HashMap<String, (String, Vec<String>)>>,
    identities: Mutex<Vec<Identity>>,
    codes: Mutex<HashMap<String, Grant>>,
    tamper: Mutex<Tamper>,
}

/// The fake provider; cheap to clone, clones share state.
#[derive(Clone)]
pub struct FakeOidc(Arc<Inner>);

impl std::fmt::Debug for FakeOidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeOidc").field("issuer", &self.0.issuer).finish_non_exhaustive()
    }
}

/// A person at the fake provider, as a browser would do it: opens the
/// authorization page at `authorization_url`, picks the identity `sub`
/// (or `"deny"`), and returns where the provider sends them back (the
/// client's redirect URI with `code` and `state`, or `error`).
pub async fn choose(authorization_url: &str, sub: &str) -> Result<String, String> {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().map_err(|e| e.to_string())?;
    let page = http.get(authorization_url).send().await.map_err(|e| e.to_string())?;
    if !page.status().is_success() {
        return Err(format!("the authorization page answered {}", page.status()));
    }
    let (endpoint, query) = authorization_url.split_once('?').ok_or("no query in the authorization URL")?;
    let mut form: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|e| e.to_string())?;
    form.push(("identity".into(), sub.into()));
    let back = http.post(endpoint).form(&form).send().await.map_err(|e| e.to_string())?;
    let location = back.headers().get("location").and_then(|l| l.to_str().ok()).ok_or("no redirect back")?;
    Ok(location.to_string())
}

impl FakeOidc {
    /// `issuer` is the URL the router is reachable at (with any prefix it
    /// is nested under): discovery and every endpoint hang off it.
    pub fn new(issuer: impl Into<String>) -> Self {
        FakeOidc(Arc::new(Inner {
            issuer: issuer.into().trim_end_matches('/').to_string(),
            clients: Mutex::default(),
            identities: Mutex::new(vec![
                Identity {
                    picture: Some("https://example.com/amina.png".into()),
                    ..Identity::new("100001", "amina@example.com", "Amina Njeri")
                },
                Identity::new("100002", "brian@example.com", "Brian Otieno"),
                Identity { email_verified: false, ..Identity::new("100003", "unverified@example.com", "Unverified Person") },
            ]),
            codes: Mutex::default(),
            tamper: Mutex::default(),
        }))
    }

    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// Registers a client with its secret and allowed redirect URIs.
    pub fn add_client(&self, client_id: &str, client_secret: &str, redirect_uris: &[&str]) {
        let uris = redirect_uris.iter().map(|u| u.to_string()).collect();
        self.0.clients.lock().expect("lock").insert(client_id.into(), (client_secret.into(), uris));
    }

    /// Replaces the identities offered on the authorization page.
    pub fn set_identities(&self, identities: Vec<Identity>) {
        *self.0.identities.lock().expect("lock") = identities;
    }

    pub fn identities(&self) -> Vec<Identity> {
        self.0.identities.lock().expect("lock").clone()
    }

    pub fn set_tamper(&self, t: Tamper) {
        *self.0.tamper.lock().expect("lock") = t;
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize_page).post(authorize))
            .route("/token", axum::routing::post(token))
            .with_state(self.clone())
    }

    /// Signs `claims` as this provider's ID token (for tests that craft
    /// their own).
    pub fn sign(&self, claims: &Value) -> String {
        let key = own_key();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.encoding).expect("RS256 signing")
    }

    fn id_token(&self, grant: &Grant) -> String {
        let t = self.0.tamper.lock().expect("lock").clone();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        let exp = match t.expired_secs_ago {
            Some(ago) => now.saturating_sub(ago),
            None => now + 3600,
        };
        let aud = t.audience.clone().unwrap_or_else(|| grant.client_id.clone());
        let id = &grant.identity;
        let claims = json!({
            "iss": t.issuer.clone().unwrap_or_else(|| self.0.issuer.clone()), "sub": id.sub, "aud": aud, "azp": aud,
            "iat": now.min(exp), "exp": exp, "nonce": t.nonce.clone().or_else(|| grant.nonce.clone()),
            "email": id.email, "email_verified": id.email_verified, "name": id.name, "picture": id.picture,
        });
        if t.foreign_key {
            let mut header = Header::new(Algorithm::RS256);
            header.kid = Some(own_key().kid.clone());
            return jsonwebtoken::encode(&header, &claims, &foreign_key().encoding).expect("RS256 signing");
        }
        self.sign(&claims)
    }
}

async fn discovery(State(fake): State<FakeOidc>) -> Json<Value> {
    let i = &fake.0.issuer;
    Json(json!({
        "issuer": i, "authorization_endpoint": format!("{i}/authorize"), "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"), "response_types_supported": ["code"], "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"], "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "code_challenge_methods_supported": ["S256"], "claims_supported": ["sub", "email", "email_verified", "name", "picture"],
    }))
}

async fn jwks() -> Json<Value> {
    Json(json!({"keys": [own_key().jwk.clone()]}))
}

#[derive(Debug, Deserialize)]
struct AuthorizeParams {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    /// The chosen identity's `sub` (the page's buttons), or `deny`.
    identity: Option<String>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Checks the request the way a provider must before showing anything.
fn check(fake: &FakeOidc, p: &AuthorizeParams) -> Result<(), (StatusCode, String)> {
    let clients = fake.0.clients.lock().expect("lock");
    let Some((_, uris)) = p.client_id.as_ref().and_then(|c| clients.get(c)) else {
        return Err((StatusCode::BAD_REQUEST, "invalid_client: unknown client_id".into()));
    };
    if !p.redirect_uri.as_ref().is_some_and(|r| uris.contains(r)) {
        return Err((StatusCode::BAD_REQUEST, "redirect_uri_mismatch: the redirect URI is not registered".into()));
    }
    if p.response_type.as_deref() != Some("code") {
        return Err((StatusCode::BAD_REQUEST, "unsupported_response_type".into()));
    }
    if !p.scope.as_deref().is_some_and(|s| s.split(' ').any(|x| x == "openid")) {
        return Err((StatusCode::BAD_REQUEST, "invalid_scope: openid is required".into()));
    }
    if p.code_challenge.is_some() && p.code_challenge_method.as_deref() != Some("S256") {
        return Err((StatusCode::BAD_REQUEST, "invalid_request: only S256 code challenges".into()));
    }
    Ok(())
}

async fn authorize_page(State(fake): State<FakeOidc>, Query(p): Query<AuthorizeParams>) -> Response {
    if let Err(e) = check(&fake, &p) {
        return e.into_response();
    }
    let hidden: String = [
        ("response_type", &p.response_type),
        ("client_id", &p.client_id),
        ("redirect_uri", &p.redirect_uri),
        ("scope", &p.scope),
        ("state", &p.state),
        ("nonce", &p.nonce),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!(r#"<input type="hidden" name="{k}" value="{}">"#, escape(v))))
    .collect();
    let people: String = fake
        .identities()
        .iter()
        .map(|i| {
            format!(
                r#"<button type="submit" name="identity" value="{sub}"><strong>{name}</strong><br><span>{email}{unverified}</span></button>"#,
                sub = escape(&i.sub),
                name = escape(&i.name),
                email = escape(&i.email),
                unverified = if i.email_verified { "" } else { " · email not verified" },
            )
        })
        .collect();
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Test identity provider</title>
<style>body{{font-family:system-ui,sans-serif;background:#f1f3f4;margin:0;padding:32px 16px}}main{{max-width:400px;margin:auto;background:#fff;border-radius:12px;padding:24px;box-shadow:0 1px 4px rgba(0,0,0,.12)}}
button{{display:block;width:100%;text-align:left;padding:12px 14px;margin-top:10px;border:1px solid #dadce0;border-radius:8px;background:#fff;font-size:1rem;cursor:pointer}}button span{{color:#5f6368;font-size:.85rem;overflow-wrap:anywhere}}button.deny{{text-align:center;background:#f1f3f4}}.note{{color:#5f6368;font-size:.85rem}}</style></head>
<body><main><p class="note">Test identity provider: nobody's real account.</p><h1>Choose an account</h1><p class="note">to continue to {client}</p>
<form method="post" action="authorize">{hidden}{people}<button class="deny" type="submit" name="identity" value="deny">Cancel</button></form></main></body></html>"#,
        client = escape(p.client_id.as_deref().unwrap_or_default()),
    ))
    .into_response()
}

fn back_to_client(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{redirect_uri}{sep}{}", serde_urlencoded::to_string(pairs).unwrap_or_default())).into_response()
}

async fn authorize(State(fake): State<FakeOidc>, Form(p): Form<AuthorizeParams>) -> Response {
    if let Err(e) = check(&fake, &p) {
        return e.into_response();
    }
    let redirect_uri = p.redirect_uri.clone().unwrap_or_default();
    let state = p.state.clone().unwrap_or_default();
    let chosen = p.identity.as_deref().unwrap_or("deny");
    let Some(identity) = fake.identities().into_iter().find(|i| i.sub == chosen) else {
        return back_to_client(&redirect_uri, &[("error", "access_denied"), ("state", &state)]);
    };
    let code = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>());
    fake.0.codes.lock().expect("lock").insert(
        code.clone(),
        Grant {
            client_id: p.client_id.clone().unwrap_or_default(),
            redirect_uri: redirect_uri.clone(),
            nonce: p.nonce.clone(),
            code_challenge: p.code_challenge.clone(),
            identity,
        },
    );
    back_to_client(&redirect_uri, &[("code", &code), ("state", &state)])
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({"error": error, "error_description": description}))).into_response()
}

/// `client_secret_basic` (form-encoded parts) or `client_secret_post`.
fn client_credentials(headers: &HeaderMap, form: &TokenForm) -> Option<(String, String)> {
    let basic = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Basic "));
    if let Some(decoded) = basic.and_then(|b| STANDARD.decode(b).ok()).and_then(|b| String::from_utf8(b).ok()) {
        let (id, secret) = decoded.split_once(':')?;
        let dec = |s: &str| serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("x={s}")).ok()?.pop().map(|(_, v)| v);
        return Some((dec(id)?, dec(secret)?));
    }
    Some((form.client_id.clone()?, form.client_secret.clone()?))
}

async fn token(State(fake): State<FakeOidc>, headers: HeaderMap, Form(f): Form<TokenForm>) -> Response {
    let Some((client_id, secret)) = client_credentials(&headers, &f) else {
        return token_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication is required");
    };
    let known = fake.0.clients.lock().expect("lock").get(&client_id).map(|(s, _)| s.clone());
    if known.as_deref() != Some(secret.as_str()) {
        return token_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client or wrong secret");
    }
    if f.grant_type.as_deref() != Some("authorization_code") {
        return token_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "authorization_code only");
    }
    // A code is good once, whatever happens next.
    let Some(grant) = f.code.as_ref().and_then(|c| fake.0.codes.lock().expect("lock").remove(c)) else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_grant", "unknown, used or expired code");
    };
    if grant.client_id != client_id || f.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return token_error(StatusCode::BAD_REQUEST, "invalid_grant", "the code was issued to another client or redirect URI");
    }
    if let Some(challenge) = &grant.code_challenge {
        if f.code_verifier.as_deref().map(pkce_challenge).as_deref() != Some(challenge.as_str()) {
            return token_error(StatusCode::BAD_REQUEST, "invalid_grant", "PKCE verification failed");
        }
    }
    Json(json!({
        "access_token": URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>()), "token_type": "Bearer", "expires_in": 3599,
        "scope": "openid email profile", "id_token": fake.id_token(&grant),
    }))
    .into_response()
}
