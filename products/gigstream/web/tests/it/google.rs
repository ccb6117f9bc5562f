//! Google sign-in through the local OpenID Connect provider over loopback
//! HTTP: a new person picks a username first; a known one goes straight
//! in; an existing account is linked by its verified email; apps get
//! tokens; attempts from another browser, unverified emails and taken
//! usernames are refused.

use crate::support::{backends, TestApp, PASSWORD};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use platform_identity::fake::{choose, FakeOidc, Identity};
use platform_identity::{OidcClient, OidcConfig};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tower::ServiceExt;

const SITE: &str = "http://gigstream.test";

async fn google_app(backend: gigstream_store::Backend) -> (TestApp, FakeOidc) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let fake = FakeOidc::new(&issuer);
    let redirect = format!("{SITE}/auth/google/callback");
    fake.add_client("gigstream", "gigstream-secret", &[&redirect]);
    let mut unverified = Identity::new("100009", "unverified@example.com", "Una Verified");
    unverified.email_verified = false;
    fake.set_identities(vec![
        Identity::new("100001", "nia.okafor@example.com", "Nia Okafor"),
        Identity::new("100002", "ada@example.test", "Ada L."),
        Identity::new("100003", "grace@example.com", "Grace Hopper"),
        unverified,
    ]);
    let router = fake.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = OidcClient::new(OidcConfig::new(issuer, "gigstream", "gigstream-secret", redirect));
    let mut app = TestApp::new(backend).await;
    app.state.google = Some(Arc::new(gigstream_web::google::Google::new(client, "gigstream-secret")));
    app.router = gigstream_web::app(app.state.clone());
    (app, fake)
}

/// A browser: keeps cookies between requests.
#[derive(Default)]
struct Browser {
    cookies: BTreeMap<String, String>,
}

struct Answer {
    status: StatusCode,
    location: String,
    body: String,
}

impl Browser {
    async fn send(&mut self, app: &TestApp, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Answer {
        let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut req = Request::builder().method(method).uri(path).header(header::COOKIE, jar.join("; "));
        let body = match form {
            Some(f) => {
                req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(serde_urlencoded::to_string(f).unwrap())
            }
            None => Body::empty(),
        };
        let resp = app.router.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        for c in resp.headers().get_all(header::SET_COOKIE) {
            let pair = c.to_str().unwrap().split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let status = resp.status();
        let location = resp.headers().get(header::LOCATION).map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
        let body = String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        Answer { status, location, body }
    }

    async fn get(&mut self, app: &TestApp, path: &str) -> Answer {
        self.send(app, Method::GET, path, None).await
    }
}

fn csrf_of(html: &str) -> String {
    let i = html.find("name=\"csrf_token\" value=\"").expect("a form with a CSRF token") + 25;
    html[i..].split('"').next().unwrap().to_string()
}

/// Picks `sub` at the provider; the path and query it sends us back to.
async fn at_provider(url: &str, sub: &str) -> String {
    let back = choose(url, sub).await.unwrap();
    back.strip_prefix(SITE).unwrap_or_else(|| panic!("back to us: {back}")).to_string()
}

fn param(path: &str, name: &str) -> String {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(path.split_once('?').unwrap().1).unwrap();
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v).unwrap_or_default()
}

#[tokio::test]
async fn a_new_person_picks_a_username_then_signs_in_again_straight_away() {
    for backend in backends() {
        let (app, _fake) = google_app(backend).await;
        let mut b = Browser::default();
        assert!(b.get(&app, "/login").await.body.contains("href=\"/auth/google\""));
        assert!(b.get(&app, "/signup").await.body.contains("Continue with Google"));
        let start = b.get(&app, "/auth/google").await;
        assert_eq!(start.status, StatusCode::SEE_OTHER);
        assert!(start.location.contains("/authorize?") && start.location.contains("code_challenge_method=S256"), "{}", start.location);
        assert!(b.cookies.contains_key("gigstream_oidc"));
        let back = at_provider(&start.location, "100001").await;

        // Another browser (no attempt cookie) cannot use the redirect.
        let mut other = Browser::default();
        let stolen = other.get(&app, &back).await;
        assert_eq!(stolen.status, StatusCode::BAD_REQUEST, "{}", stolen.body);
        assert!(stolen.body.contains("does not match this browser"), "{}", stolen.body);
        assert!(!other.cookies.contains_key("gigstream_session"));

        let done = b.get(&app, &back).await;
        assert_eq!((done.status, done.location.as_str()), (StatusCode::SEE_OTHER, "/welcome"), "{}", done.body);
        assert!(!b.cookies.contains_key("gigstream_session") && !b.cookies.contains_key("gigstream_oidc"));
        let welcome = b.get(&app, "/welcome").await;
        assert_eq!(welcome.status, StatusCode::OK);
        assert!(welcome.body.contains("nia.okafor@example.com") && welcome.body.contains("value=\"Nia Okafor\""), "{}", welcome.body);
        assert!(welcome.body.contains("value=\"niaokafor\""), "a username is suggested");
        let csrf = csrf_of(&welcome.body);
        let bad = b.send(&app, Method::POST, "/welcome", Some(&[("csrf_token", &csrf), ("username", "x"), ("display_name", "Nia")])).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("data-field=\"username\""), "{}", bad.body);
        let ok =
            b.send(&app, Method::POST, "/welcome", Some(&[("csrf_token", &csrf), ("username", "nia"), ("display_name", "Nia O.")])).await;
        assert_eq!((ok.status, ok.location.as_str()), (StatusCode::SEE_OTHER, "/dashboard"), "{}", ok.body);
        assert!(b.cookies.contains_key("gigstream_session") && !b.cookies.contains_key("gigstream_google_signup"));
        let dash = b.get(&app, "/dashboard").await;
        assert_eq!(dash.status, StatusCode::OK);
        assert!(dash.body.contains("@nia"), "signed in as nia");
        let account = gigstream_store::accounts::by_username(&app.db, "nia").await.unwrap();
        assert_eq!((account.email.as_str(), account.display_name.as_str()), ("nia.okafor@example.com", "Nia O."));
        // Nobody knows its password: a password sign-in with the email fails.
        let (s, _) =
            app.call(Method::POST, "/api/v1/login", None, Some(json!({ "login": "nia.okafor@example.com", "password": PASSWORD }))).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);

        // Next time: the same account, straight in.
        let mut again = Browser::default();
        let start = again.get(&app, "/auth/google").await;
        let done = again.get(&app, &at_provider(&start.location, "100001").await).await;
        assert_eq!((done.status, done.location.as_str()), (StatusCode::SEE_OTHER, "/dashboard"));
        assert!(again.get(&app, "/dashboard").await.body.contains("@nia"));
        assert_eq!(gigstream_store::identities::linked(&app.db, account.id).await.unwrap().len(), 1);

        // The welcome step without a verified Google identity goes to sign-up.
        let w = Browser::default().get(&app, "/welcome").await;
        assert_eq!((w.status, w.location.as_str()), (StatusCode::SEE_OTHER, "/signup"));
    }
}

/// An app's sign-in through the API as `sub`: start, provider, complete.
async fn api_google(app: &TestApp, sub: &str) -> (StatusCode, Value) {
    let (s, v) = app.call(Method::POST, "/api/v1/auth/google/start", None, Some(json!({}))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let back = at_provider(v["authorization_url"].as_str().unwrap(), sub).await;
    let body = json!({ "login": v["login"], "code": param(&back, "code"), "state": param(&back, "state"), "error": param(&back, "error") });
    app.call(Method::POST, "/api/v1/auth/google/complete", None, Some(body)).await
}

#[tokio::test]
async fn apps_link_by_verified_email_and_new_accounts_choose_a_free_username() {
    for backend in backends() {
        let (app, _fake) = google_app(backend).await;
        app.sign_up("ada").await; // ada@example.test, with a password

        let (s, v) = api_google(&app, "100002").await;
        assert_eq!((s, v["outcome"].as_str()), (StatusCode::OK, Some("linked")), "{v}");
        let token = v["token"].as_str().unwrap().to_string();
        let (s, me) = app.call(Method::GET, "/api/v1/me", Some(&token), None).await;
        assert_eq!((s, me["account"]["username"].as_str()), (StatusCode::OK, Some("ada")), "{me}");
        let (_, v) = api_google(&app, "100002").await;
        assert_eq!(v["outcome"], "signed_in");

        // A new identity: a username first (a taken one is refused on its field).
        let (s, v) = api_google(&app, "100003").await;
        assert_eq!((s, v["outcome"].as_str(), v["email"].as_str()), (StatusCode::OK, Some("needs_account"), Some("grace@example.com")));
        let signup = v["signup"].as_str().unwrap().to_string();
        let (s, e) = app
            .call(
                Method::POST,
                "/api/v1/auth/google/signup",
                None,
                Some(json!({ "signup": signup, "username": "ada", "display_name": "Grace" })),
            )
            .await;
        assert_eq!((s, e["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("username")), "{e}");
        let (s, v) = app
            .call(
                Method::POST,
                "/api/v1/auth/google/signup",
                None,
                Some(json!({ "signup": signup, "username": "grace", "display_name": "Grace H." })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let (_, me) = app.call(Method::GET, "/api/v1/me", Some(v["token"].as_str().unwrap()), None).await;
        assert_eq!(me["account"]["email"], "grace@example.com");
        // The same sealed sign-up cannot make a second account.
        let (s, e) = app
            .call(
                Method::POST,
                "/api/v1/auth/google/signup",
                None,
                Some(json!({ "signup": signup, "username": "grace2", "display_name": "G" })),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        // A forged sign-up is refused.
        let (s, _) = app
            .call(
                Method::POST,
                "/api/v1/auth/google/signup",
                None,
                Some(json!({ "signup": "eyJ4IjoxfQ.AAAA", "username": "eve", "display_name": "Eve" })),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

        // An email Google has not verified signs nobody in.
        let (s, e) = api_google(&app, "100009").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        // Cancelled at the provider.
        let (s, _) = api_google(&app, "deny").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn without_google_configured_its_routes_do_not_exist() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (s, _) = app.call(Method::POST, "/api/v1/auth/google/start", None, Some(json!({}))).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let mut b = Browser::default();
        assert!(!b.get(&app, "/login").await.body.contains("/auth/google"));
        assert_eq!(b.get(&app, "/auth/google").await.status, StatusCode::NOT_FOUND);
    }
}
