//! The authorization code flow with PKCE against the fake provider over
//! real loopback HTTP, and every way an answer must be refused.

use platform_identity::fake::{FakeOidc, Tamper};
use platform_identity::{Callback, OidcClient, OidcConfig, OidcError, PendingLogin};

const REDIRECT: &str = "http://app.test/auth/callback";

async fn start() -> (FakeOidc, OidcClient) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let fake = FakeOidc::new(&issuer);
    fake.add_client("rooms-web", "s3cret:&=", &[REDIRECT]);
    let app = fake.router();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (fake, OidcClient::new(OidcConfig::new(issuer, "rooms-web", "s3cret:&=", REDIRECT)))
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// What the person's browser does: open the authorization URL, pick an
/// identity on the page, follow the redirect back to us.
async fn pick(url: &str, identity: &str) -> Callback {
    let http = no_redirects();
    let page = http.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Choose an account") && page.contains("Amina Njeri"), "{page}");
    let (endpoint, query) = url.split_once('?').unwrap();
    let mut form: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    form.push(("identity".into(), identity.into()));
    let back = http.post(endpoint).form(&form).send().await.unwrap();
    assert_eq!(back.status(), 303);
    let location = back.headers()["location"].to_str().unwrap().to_string();
    let (target, query) = location.split_once('?').unwrap();
    assert_eq!(target, REDIRECT);
    serde_urlencoded::from_str(query).unwrap()
}

async fn sign_in(client: &OidcClient, identity: &str) -> Result<platform_identity::Claims, OidcError> {
    let (url, pending) = client.begin().await.unwrap();
    let callback = pick(&url, identity).await;
    client.complete(&pending, &callback).await
}

#[tokio::test]
async fn round_trip_returns_verified_claims() {
    let (_fake, client) = start().await;
    let (url, pending) = client.begin().await.unwrap();
    let query: Vec<(String, String)> = serde_urlencoded::from_str(url.split_once('?').unwrap().1).unwrap();
    let param = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(param("response_type"), Some("code"));
    assert_eq!(param("client_id"), Some("rooms-web"));
    assert_eq!(param("redirect_uri"), Some(REDIRECT));
    assert_eq!(param("scope"), Some("openid email profile"));
    assert_eq!(param("state"), Some(pending.state.as_str()));
    assert_eq!(param("nonce"), Some(pending.nonce.as_str()));
    assert_eq!(param("code_challenge_method"), Some("S256"));
    assert_ne!(param("code_challenge"), Some(pending.pkce_verifier.as_str()), "the verifier never leaves");

    // The pending login survives a trip through a cookie.
    let stored = serde_json::to_string(&pending).unwrap();
    let callback = pick(&url, "100001").await;
    let claims = client.complete(&serde_json::from_str(&stored).unwrap(), &callback).await.unwrap();
    assert_eq!(claims.sub, "100001");
    assert_eq!(claims.issuer, client.config().issuer);
    assert_eq!(claims.email.as_deref(), Some("amina@example.com"));
    assert!(claims.email_verified);
    assert_eq!(claims.name.as_deref(), Some("Amina Njeri"));
    assert_eq!(claims.picture.as_deref(), Some("https://example.com/amina.png"));

    // A code works once.
    assert!(matches!(client.complete(&pending, &callback).await, Err(OidcError::Provider { error, .. }) if error == "invalid_grant"));
    assert_eq!(sign_in(&client, "100002").await.unwrap().sub, "100002", "each attempt has its own secrets");
}

#[tokio::test]
async fn the_callback_must_belong_to_the_attempt() {
    let (_fake, client) = start().await;
    let (url, pending) = client.begin().await.unwrap();
    let callback = pick(&url, "100001").await;
    let forged = Callback { state: Some("someone-elses".into()), ..callback.clone() };
    assert_eq!(client.complete(&pending, &forged).await, Err(OidcError::StateMismatch));
    assert_eq!(client.complete(&pending, &Callback { state: None, ..callback.clone() }).await, Err(OidcError::StateMismatch));
    let old = PendingLogin { created_at: 0, ..pending.clone() };
    assert_eq!(client.complete(&old, &callback).await, Err(OidcError::LoginExpired));
    // The PKCE verifier must be the one whose challenge was sent.
    let other_verifier = PendingLogin { pkce_verifier: "x".repeat(43), ..pending.clone() };
    assert!(
        matches!(client.complete(&other_verifier, &callback).await, Err(OidcError::Provider { error, .. }) if error == "invalid_grant")
    );

    let (url, pending) = client.begin().await.unwrap();
    let denied = pick(&url, "deny").await;
    assert!(matches!(client.complete(&pending, &denied).await, Err(OidcError::Provider { error, .. }) if error == "access_denied"));
}

#[tokio::test]
async fn bad_id_tokens_are_refused() {
    let (fake, client) = start().await;
    let cases: Vec<(Tamper, OidcError)> = vec![
        (Tamper { nonce: Some("replayed".into()), ..Tamper::default() }, OidcError::NonceMismatch),
        (Tamper { audience: Some("another-app".into()), ..Tamper::default() }, OidcError::WrongAudience),
        (Tamper { expired_secs_ago: Some(3600), ..Tamper::default() }, OidcError::Expired),
        (Tamper { foreign_key: true, ..Tamper::default() }, OidcError::BadSignature),
        (
            Tamper { issuer: Some("https://evil.example".into()), ..Tamper::default() },
            OidcError::WrongIssuer("https://evil.example".into()),
        ),
    ];
    for (tamper, refused) in cases {
        fake.set_tamper(tamper.clone());
        assert_eq!(sign_in(&client, "100001").await, Err(refused), "{tamper:?}");
    }
    fake.set_tamper(Tamper::default());
    assert_eq!(sign_in(&client, "100003").await, Err(OidcError::UnverifiedEmail));
    assert!(sign_in(&client, "100001").await.is_ok(), "and a good one still passes");

    // Within the leeway an just-expired token passes.
    fake.set_tamper(Tamper { expired_secs_ago: Some(10), ..Tamper::default() });
    assert!(sign_in(&client, "100001").await.is_ok());

    // Tokens crafted directly: no kid in the JWKS, not RS256, junk.
    let claims = serde_json::json!({"iss": fake.issuer(), "sub": "1", "aud": "rooms-web", "exp": 4_000_000_000u64, "nonce": "n", "email": "a@b.c", "email_verified": true});
    assert!(client.verify_id_token(&fake.sign(&claims), "n").await.is_ok());
    let hs = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(b"guess")).unwrap();
    assert_eq!(client.verify_id_token(&hs, "n").await, Err(OidcError::BadSignature), "HS256 with a guessed key");
    assert!(matches!(client.verify_id_token("not.a.jwt", "n").await, Err(OidcError::Malformed(_))));
    let string_verified = serde_json::json!({"iss": fake.issuer(), "sub": "1", "aud": "rooms-web", "exp": 4_000_000_000u64, "nonce": "n", "email": "a@b.c", "email_verified": "true"});
    assert!(client.verify_id_token(&fake.sign(&string_verified), "n").await.unwrap().email_verified);
}

#[tokio::test]
async fn discovery_must_name_the_configured_issuer() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let served_at = format!("http://{}", listener.local_addr().unwrap());
    let fake = FakeOidc::new("https://accounts.example.com");
    let app = fake.router();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = OidcClient::new(OidcConfig::new(served_at, "a", "b", REDIRECT));
    assert!(matches!(client.begin().await, Err(OidcError::Discovery(m)) if m.contains("accounts.example.com")));
    let down = OidcClient::new(OidcConfig::new("http://127.0.0.1:9", "a", "b", REDIRECT));
    assert!(matches!(down.begin().await, Err(OidcError::Transport(_))));
}
