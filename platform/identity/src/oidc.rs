//! The OpenID Connect relying party (OpenID Connect Core 1.0, section 3.1:
//! the authorization code flow; RFC 7636: PKCE with S256).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use subtle::ConstantTimeEq;
use tokio::sync::{OnceCell, RwLock};

/// One provider, as registered there.
#[derive(Clone)]
pub struct OidcConfig {
    /// The issuer URL exactly as the provider states it
    /// (`https://accounts.google.com`); discovery is under it.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Our callback, registered with the provider.
    pub redirect_url: String,
    /// Always includes `openid`.
    pub scopes: Vec<String>,
    /// Refuse identities whose email the provider has not verified (on by
    /// default: an account is found by its email).
    pub require_verified_email: bool,
    /// How long a [`PendingLogin`] stays usable.
    pub login_timeout: Duration,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_url", &self.redirect_url)
            .finish_non_exhaustive()
    }
}

impl OidcConfig {
    pub const GOOGLE_ISSUER: &'static str = "https://accounts.google.com";

    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        redirect_url: impl Into<String>,
    ) -> Self {
        OidcConfig {
            issuer: issuer.into().trim_end_matches('/').to_string(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            redirect_url: redirect_url.into(),
            scopes: vec!["openid".into(), "email".into(), "profile".into()],
            require_verified_email: true,
            login_timeout: Duration::from_secs(600),
        }
    }

    /// Google's issuer with the scopes `openid email profile`.
    pub fn google(client_id: impl Into<String>, client_secret: impl Into<String>, redirect_url: impl Into<String>) -> Self {
        Self::new(Self::GOOGLE_ISSUER, client_id, client_secret, redirect_url)
    }

    /// Issuer values accepted in ID tokens: Google also writes its issuer
    /// without the scheme.
    fn accepted_issuers(&self) -> Vec<String> {
        let mut v = vec![self.issuer.clone()];
        if self.issuer == Self::GOOGLE_ISSUER {
            v.push("accounts.google.com".into());
        }
        v
    }
}

/// The discovery document fields this client reads.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
}

/// What the product keeps between sending the person to the provider and
/// the callback (server-side session or a signed, HttpOnly cookie). Never
/// show it to anyone: the PKCE verifier is a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// Unix seconds.
    pub created_at: u64,
}

/// The query of the callback request (`?code=…&state=…` or
/// `?error=…&state=…`); deserialise it with axum's `Query`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// A verified identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claims {
    /// The provider's stable id for the person: store it with the account
    /// (with the issuer), not the email, to recognise them next time.
    pub sub: String,
    pub issuer: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub picture: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    #[error("the sign-in provider could not be reached: {0}")]
    Transport(String),
    #[error("the sign-in provider's discovery document is unusable: {0}")]
    Discovery(String),
    /// The provider said no (`access_denied` when the person cancelled).
    #[error("the sign-in provider refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Provider { error: String, description: Option<String> },
    /// The callback does not belong to this pending login (CSRF or a
    /// second tab).
    #[error("the sign-in attempt does not match this browser; please start again")]
    StateMismatch,
    #[error("the sign-in attempt took too long; please start again")]
    LoginExpired,
    #[error("the ID token's signature is not the provider's")]
    BadSignature,
    #[error("the ID token was issued by {0:?}, not this provider")]
    WrongIssuer(String),
    #[error("the ID token is for another application")]
    WrongAudience,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token does not answer this sign-in attempt (nonce)")]
    NonceMismatch,
    #[error("the provider has not verified this email address")]
    UnverifiedEmail,
    #[error("malformed ID token or answer: {0}")]
    Malformed(String),
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// The S256 code challenge of a PKCE verifier (RFC 7636, 4.2).
pub(crate) fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The relying party for one provider. Cheap to share (`Arc`); discovery
/// and the JWKS are fetched on first use and cached (the JWKS is fetched
/// again when a token names a key it does not hold: keys rotate).
pub struct OidcClient {
    config: OidcConfig,
    http: reqwest::Client,
    metadata: OnceCell<ProviderMetadata>,
    jwks: RwLock<Option<JwkSet>>,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient").field("config", &self.config).finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct IdTokenClaims {
    sub: String,
    iss: String,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    email: Option<String>,
    /// A boolean, though some providers have sent the string "true".
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    picture: Option<String>,
}

impl OidcClient {
    pub fn new(config: OidcConfig) -> Self {
        // Redirects are not followed: a token endpoint that redirects is
        // misconfigured, and following would send the code elsewhere.
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        OidcClient { config, http, metadata: OnceCell::new(), jwks: RwLock::new(None) }
    }

    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let resp = self.http.get(url).send().await.map_err(|e| OidcError::Transport(e.without_url().to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(OidcError::Transport(format!("HTTP {status} from {url}")));
        }
        resp.json().await.map_err(|e| OidcError::Discovery(format!("{url}: {}", e.without_url())))
    }

    /// The provider's discovery document (fetched once).
    pub async fn metadata(&self) -> Result<&ProviderMetadata, OidcError> {
        self.metadata
            .get_or_try_init(|| async {
                let url = format!("{}/.well-known/openid-configuration", self.config.issuer);
                let m: ProviderMetadata = self.get_json(&url).await?;
                // OpenID Connect Discovery 1.0, 4.3: the issuer must match.
                if m.issuer.trim_end_matches('/') != self.config.issuer {
                    return Err(OidcError::Discovery(format!("issuer {:?} is not {:?}", m.issuer, self.config.issuer)));
                }
                if !m.id_token_signing_alg_values_supported.is_empty()
                    && !m.id_token_signing_alg_values_supported.iter().any(|a| a == "RS256")
                {
                    return Err(OidcError::Discovery("the provider does not sign ID tokens with RS256".into()));
                }
                Ok(m)
            })
            .await
    }

    /// Starts a sign-in: where to send the person, and what to keep until
    /// the callback.
    pub async fn begin(&self) -> Result<(String, PendingLogin), OidcError> {
        let m = self.metadata().await?;
        let pending = PendingLogin { state: random_token(), nonce: random_token(), pkce_verifier: random_token(), created_at: now_secs() };
        let mut scopes = self.config.scopes.clone();
        if !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".into());
        }
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", &self.config.client_id),
            ("redirect_uri", &self.config.redirect_url),
            ("scope", &scopes.join(" ")),
            ("state", &pending.state),
            ("nonce", &pending.nonce),
            ("code_challenge", &pkce_challenge(&pending.pkce_verifier)),
            ("code_challenge_method", "S256"),
        ])
        .map_err(|e| OidcError::Malformed(e.to_string()))?;
        let sep = if m.authorization_endpoint.contains('?') { '&' } else { '?' };
        Ok((format!("{}{sep}{query}", m.authorization_endpoint), pending))
    }

    /// Finishes a sign-in from the callback: checks the state, exchanges
    /// the code (with the PKCE verifier) and verifies the ID token.
    pub async fn complete(&self, pending: &PendingLogin, callback: &Callback) -> Result<Claims, OidcError> {
        if let Some(error) = &callback.error {
            return Err(OidcError::Provider { error: error.clone(), description: callback.error_description.clone() });
        }
        if !callback.state.as_deref().is_some_and(|s| eq(s, &pending.state)) {
            return Err(OidcError::StateMismatch);
        }
        if now_secs().saturating_sub(pending.created_at) > self.config.login_timeout.as_secs() {
            return Err(OidcError::LoginExpired);
        }
        let code = callback.code.as_deref().ok_or_else(|| OidcError::Malformed("the callback has no code".into()))?;
        let id_token = self.exchange(code, &pending.pkce_verifier).await?;
        self.verify_id_token(&id_token, &pending.nonce).await
    }

    /// POSTs the code to the token endpoint and returns the `id_token`.
    async fn exchange(&self, code: &str, verifier: &str) -> Result<String, OidcError> {
        let m = self.metadata().await?;
        let methods = &m.token_endpoint_auth_methods_supported;
        // client_secret_basic is the spec's default; some providers take
        // only client_secret_post.
        let basic = methods.is_empty() || methods.iter().any(|x| x == "client_secret_basic");
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.config.redirect_url),
            ("code_verifier", verifier),
        ];
        if !basic {
            form.push(("client_id", &self.config.client_id));
            form.push(("client_secret", &self.config.client_secret));
        }
        let body = serde_urlencoded::to_string(&form).map_err(|e| OidcError::Malformed(e.to_string()))?;
        let mut req = self
            .http
            .post(&m.token_endpoint)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body);
        if basic {
            // RFC 6749, 2.3.1: both parts form-encoded before Basic.
            let enc = |s: &str| serde_urlencoded::to_string([("", s)]).map(|q| q[1..].to_string()).unwrap_or_default();
            req = req.basic_auth(enc(&self.config.client_id), Some(enc(&self.config.client_secret)));
        }
        let resp = req.send().await.map_err(|e| OidcError::Transport(e.without_url().to_string()))?;
        let status = resp.status();
        let answer: serde_json::Value =
            resp.json().await.map_err(|e| OidcError::Transport(format!("HTTP {status} from the token endpoint: {}", e.without_url())))?;
        if !status.is_success() {
            return Err(OidcError::Provider {
                error: answer["error"].as_str().unwrap_or("token_error").to_string(),
                description: answer["error_description"].as_str().map(str::to_string),
            });
        }
        answer["id_token"].as_str().map(str::to_string).ok_or_else(|| OidcError::Malformed("the token answer has no id_token".into()))
    }

    async fn jwks(&self, refresh: bool) -> Result<JwkSet, OidcError> {
        if !refresh {
            if let Some(set) = self.jwks.read().await.as_ref() {
                return Ok(set.clone());
            }
        }
        let uri = self.metadata().await?.jwks_uri.clone();
        let set: JwkSet = self.get_json(&uri).await?;
        *self.jwks.write().await = Some(set.clone());
        Ok(set)
    }

    /// Verifies an ID token: RS256 signature by a key in the provider's
    /// JWKS, issuer, audience (and `azp`), expiry (60 s leeway), nonce,
    /// and a verified email when the config requires one.
    pub async fn verify_id_token(&self, id_token: &str, nonce: &str) -> Result<Claims, OidcError> {
        let header = jsonwebtoken::decode_header(id_token).map_err(|e| OidcError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(OidcError::BadSignature);
        }
        let kid = header.kid.ok_or_else(|| OidcError::Malformed("the ID token names no key (kid)".into()))?;
        let mut set = self.jwks(false).await?;
        if set.find(&kid).is_none() {
            set = self.jwks(true).await?;
        }
        let jwk = set.find(&kid).ok_or(OidcError::BadSignature)?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| OidcError::Malformed(format!("JWKS key {kid}: {e}")))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = 60;
        validation.set_audience(&[&self.config.client_id]);
        validation.set_issuer(&self.config.accepted_issuers());
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<IdTokenClaims>(id_token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::InvalidSignature | K::InvalidAlgorithm | K::InvalidRsaKey(_) => OidcError::BadSignature,
                K::ExpiredSignature => OidcError::Expired,
                K::InvalidAudience => OidcError::WrongAudience,
                K::InvalidIssuer => OidcError::WrongIssuer(issuer_of(id_token)),
                _ => OidcError::Malformed(e.to_string()),
            }
        })?;
        let c = data.claims;
        if c.azp.as_deref().is_some_and(|azp| azp != self.config.client_id) {
            return Err(OidcError::WrongAudience);
        }
        if !c.nonce.as_deref().is_some_and(|n| eq(n, nonce)) {
            return Err(OidcError::NonceMismatch);
        }
        let email_verified = match &c.email_verified {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => s == "true",
            _ => false,
        };
        if self.config.require_verified_email && (c.email.is_none() || !email_verified) {
            return Err(OidcError::UnverifiedEmail);
        }
        Ok(Claims { sub: c.sub, issuer: c.iss, email: c.email, email_verified, name: c.name, picture: c.picture })
    }
}

/// The `iss` of a token, unverified, for an error message.
fn issuer_of(token: &str) -> String {
    let payload = token.split('.').nth(1).and_then(|p| URL_SAFE_NO_PAD.decode(p).ok());
    payload
        .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p).ok())
        .and_then(|v| v["iss"].as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn google_accepts_both_issuer_spellings() {
        let c = OidcConfig::google("id", "hunter2-value", "https://x/cb");
        assert_eq!(c.accepted_issuers(), ["https://accounts.google.com", "accounts.google.com"]);
        assert_eq!(OidcConfig::new("http://127.0.0.1:1/", "a", "b", "c").accepted_issuers(), ["http://127.0.0.1:1"]);
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn pending_logins_are_unguessable_and_serialisable() {
        let a = PendingLogin { state: random_token(), nonce: random_token(), pkce_verifier: random_token(), created_at: 1 };
        assert_eq!(a.pkce_verifier.len(), 43, "RFC 7636: 43 to 128 characters");
        assert_ne!(a.state, a.nonce);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<PendingLogin>(&json).unwrap(), a);
    }
}
