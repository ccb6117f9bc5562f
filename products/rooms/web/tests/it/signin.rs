//! Google sign-in through the local OpenID Connect provider over real
//! loopback HTTP (pages and API: sign-up, sign-in again, linking by
//! verified email, the profile asked for first, refusals), and reset mail.

use crate::pages::csrf_of;
use crate::support::{backends, TestApp, PASSWORD};
use axum::http::StatusCode;
use platform_identity::fake::FakeOidc;
use platform_identity::{OidcClient, OidcConfig};
use platform_mail::MemoryMailer;
use rooms_domain::account::AccountStatus;
use serde_json::json;
use std::sync::Arc;

const SITE: &str = "http://rooms.test";
const REDIRECT: &str = "http://rooms.test/auth/google/callback";

async fn provider() -> (FakeOidc, Arc<OidcClient>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let fake = FakeOidc::new(&issuer);
    fake.add_client("rooms", "rooms-secret", &[REDIRECT]);
    let app = fake.router();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (fake, Arc::new(OidcClient::new(OidcConfig::new(issuer, "rooms", "rooms-secret", REDIRECT))))
}

async fn google_app(b: rooms_store::Backend) -> (TestApp, FakeOidc) {
    let (fake, client) = provider().await;
    (TestApp::with_state(b, |s| s.google = Some(client)).await, fake)
}

/// The person at the provider: opens the page, picks `identity`, and comes
/// back; returns the path and query of the redirect to our callback.
async fn at_provider(url: &str, identity: &str) -> String {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = http.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let (endpoint, query) = url.split_once('?').unwrap();
    let mut form: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    form.push(("identity".into(), identity.into()));
    let back = http.post(endpoint).form(&form).send().await.unwrap();
    let location = back.headers()["location"].to_str().unwrap();
    location.strip_prefix(SITE).unwrap_or_else(|| panic!("back to us: {location}")).to_string()
}

/// An app's whole Google sign-in through the API as `identity`: start,
/// the provider, complete; the completion's answer.
async fn api_google(app: &TestApp, c: &mut crate::support::Client, identity: &str) -> crate::support::Resp {
    let v = app.client().post("/api/v1/auth/google/start", json!({})).await.json();
    let back = at_provider(v["authorization_url"].as_str().unwrap(), identity).await;
    c.post(
        "/api/v1/auth/google/complete",
        json!({"login": v["login"], "code": query_param(&back, "code"), "state": query_param(&back, "state")}),
    )
    .await
}

fn query_param(path: &str, name: &str) -> String {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(path.split_once('?').unwrap().1).unwrap();
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v).unwrap_or_default()
}

#[tokio::test]
async fn google_sign_up_asks_for_the_profile_first_then_signs_in_again() {
    for b in backends() {
        let (app, _fake) = google_app(b).await;
        let mut c = app.client();
        assert!(c.get("/signin").await.body.contains("href=\"/auth/google\""));
        assert!(c.get("/signup").await.body.contains("Continue with Google"));

        let start = c.get("/auth/google").await;
        assert_eq!(start.status, StatusCode::SEE_OTHER);
        assert!(start.location().contains("/authorize?") && start.location().contains("code_challenge_method=S256"));
        assert!(c.cookies.contains_key("rooms_oidc"));
        let back = at_provider(start.location(), "100001").await;
        // Someone else's browser (no attempt cookie) cannot use the redirect.
        let mut other = app.client();
        let stolen = other.get(&back).await;
        assert_eq!(stolen.status, StatusCode::FORBIDDEN, "{}", stolen.body);
        assert!(!other.cookies.contains_key("rooms_session"));

        let done = c.get(&back).await;
        assert_eq!((done.status, done.location()), (StatusCode::SEE_OTHER, "/welcome"), "{}", done.body);
        assert!(c.cookies.contains_key("rooms_session") && !c.cookies.contains_key("rooms_oidc"));

        // Nothing else opens before the profile.
        for path in ["/", "/rooms/new", "/messages"] {
            let r = c.get(path).await;
            assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/welcome"), "{path}");
        }
        assert_eq!(c.get("/api/v1/rooms").await.code(), "profile_incomplete");
        let me = c.get("/api/v1/me").await.json();
        assert_eq!(me["account"]["email"], "amina@example.com");
        assert_eq!(me["account"]["needs_profile"], true);

        let welcome = c.get("/welcome").await;
        assert!(welcome.body.contains("amina@example.com") && welcome.body.contains("value=\"Amina Njeri\""), "{}", welcome.body);
        let csrf = csrf_of(&welcome.body);
        let young = c
            .form(
                "/welcome",
                &[
                    ("csrf_token", &csrf),
                    ("full_name", "Amina Njeri"),
                    ("handle", "amina"),
                    ("birth_date", "2015-01-01"),
                    ("country", "KE"),
                ],
            )
            .await;
        assert_eq!(young.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(young.body.contains("18"), "{}", young.body);
        let ok = c
            .form(
                "/welcome",
                &[("csrf_token", &csrf), ("full_name", "Amina N."), ("handle", "amina"), ("birth_date", "1995-01-01"), ("country", "KE")],
            )
            .await;
        assert_eq!((ok.status, ok.location()), (StatusCode::SEE_OTHER, "/"), "{}", ok.body);
        let home = c.get("/").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.body.contains("Amina N."));
        let number = c.get("/api/v1/me").await.json()["account"]["public_number"].as_i64().unwrap();

        // Next time: the same account, straight in.
        let mut again = app.client();
        let start = again.get("/auth/google").await;
        let back = at_provider(start.location(), "100001").await;
        let done = again.get(&back).await;
        assert_eq!((done.status, done.location()), (StatusCode::SEE_OTHER, "/"));
        let me = again.get("/api/v1/me").await.json();
        assert_eq!(me["account"]["public_number"].as_i64(), Some(number));
        assert_eq!(me["account"]["handle"], "amina");
        // A password sign-in with the provider's email is not possible: the
        // account's password is a secret nobody was given.
        let r = app.client().post("/api/v1/auth/signin", json!({"login": "amina@example.com", "password": PASSWORD})).await;
        assert_eq!(r.code(), "login_failed");
    }
}

#[tokio::test]
async fn google_links_to_the_account_with_its_verified_email_and_apps_get_tokens() {
    for b in backends() {
        let (app, _fake) = google_app(b).await;
        let mut owner = app.client();
        let brian = owner.sign_up("Brian@Example.com", "brian").await;
        let number = brian["account"]["public_number"].as_i64().unwrap();

        let mut phone = app.client();
        let start = phone.post("/api/v1/auth/google/start", json!({})).await;
        assert_eq!(start.status, StatusCode::OK, "{}", start.body);
        let v = start.json();
        let back = at_provider(v["authorization_url"].as_str().unwrap(), "100002").await;
        let complete = json!({"login": v["login"], "code": query_param(&back, "code"), "state": query_param(&back, "state")});
        let done = phone.post("/api/v1/auth/google/complete", complete.clone()).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        let d = done.json();
        assert_eq!(d["outcome"], "linked");
        assert_eq!(d["account"]["public_number"].as_i64(), Some(number));
        assert_eq!(d["account"]["needs_profile"], false);
        phone.bearer = Some(d["tokens"]["access_token"].as_str().unwrap().to_string());
        assert_eq!(phone.get("/api/v1/me").await.json()["account"]["handle"], "brian");
        // The code was spent.
        assert_eq!(phone.post("/api/v1/auth/google/complete", complete).await.code(), "sign_in_failed");
        // A tampered attempt is refused.
        let forged = json!({"login": format!("{}x", v["login"].as_str().unwrap()), "code": "c", "state": "s"});
        assert_eq!(phone.post("/api/v1/auth/google/complete", forged).await.code(), "sign_in_failed");

        // Signing in again finds the link.
        assert_eq!(api_google(&app, &mut app.client(), "100002").await.json()["outcome"], "signed_in");

        // An unverified email never signs in.
        let r = api_google(&app, &mut app.client(), "100003").await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "email_unverified".to_string()));

        // A banned account is refused with its reason.
        let id: rooms_domain::ids::AccountId = serde_json::from_value(brian["account"]["id"].clone()).unwrap();
        rooms_store::accounts::set_status(&app.db, id, id, AccountStatus::Banned, "spam", chrono::Utc::now()).await.unwrap();
        let r = api_google(&app, &mut app.client(), "100002").await;
        assert_eq!(r.code(), "account_blocked");
        assert!(r.json()["message"].as_str().unwrap().contains("spam"));

        // A new person through the API gives the profile through the API.
        let mut amina = app.client();
        let d = api_google(&app, &mut amina, "100001").await.json();
        assert_eq!((d["outcome"].as_str(), d["account"]["needs_profile"].as_bool()), (Some("created"), Some(true)));
        amina.bearer = Some(d["tokens"]["access_token"].as_str().unwrap().to_string());
        assert_eq!(amina.post("/api/v1/rooms", json!({"name": "Mine"})).await.code(), "profile_incomplete");
        let taken = amina
            .post("/api/v1/me/profile", json!({"handle": "brian", "full_name": "Amina", "birth_date": "1990-01-01", "country": "KE"}))
            .await;
        assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", taken.body);
        assert_eq!(taken.json()["fields"][0]["field"], "handle");
        let ok = amina
            .post("/api/v1/me/profile", json!({"handle": "amina", "full_name": "Amina", "birth_date": "1990-01-01", "country": "KE"}))
            .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert_eq!(ok.json()["account"]["country"], "KE");
        assert_eq!(amina.post("/api/v1/rooms", json!({"name": "Mine"})).await.status, StatusCode::CREATED);
        let again = amina
            .post("/api/v1/me/profile", json!({"handle": "amina2", "full_name": "Amina", "birth_date": "1990-01-01", "country": "KE"}))
            .await;
        assert_eq!(again.code(), "profile_complete");
    }
}

#[tokio::test]
async fn without_google_configured_its_routes_are_not_there() {
    let app = TestApp::new(backends()[0]).await;
    let mut c = app.client();
    assert_eq!(c.get("/auth/google").await.status, StatusCode::NOT_FOUND);
    assert!(!c.get("/signin").await.body.contains("/auth/google"));
    assert_eq!(c.post("/api/v1/auth/google/start", json!({})).await.status, StatusCode::NOT_FOUND);
}

/// The link in a reset mail, and its token.
fn link_of(text: &str) -> (String, String) {
    let start = text.find("http").expect("a link");
    let link: String = text[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    let token = link.split_once("token=").unwrap().1.to_string();
    (link, token)
}

async fn mails_to(mailer: &MemoryMailer, to: &str, n: usize) -> Vec<platform_mail::Email> {
    // The mail goes out on its own task after the answer.
    for _ in 0..500 {
        let got = mailer.sent_to(to);
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    mailer.sent_to(to)
}

#[tokio::test]
async fn reset_mail_is_single_use_replaced_by_the_next_limited_and_the_same_answer_for_nobody() {
    for b in backends() {
        let mailer = MemoryMailer::new();
        let m = mailer.clone();
        let app = TestApp::build_with(b, |c| c.public_url = SITE.into(), move |s| s.mailer = Arc::new(m)).await;
        let mut pat = app.client();
        pat.sign_up("pat@example.com", "pat").await;
        app.client().sign_up("+254711000222", "phoneonly").await;

        let mut anon = app.client();
        let known = anon.post("/api/v1/auth/reset", json!({"login": "Pat@Example.com"})).await;
        let unknown = anon.post("/api/v1/auth/reset", json!({"login": "nobody@example.com"})).await;
        let phone = anon.post("/api/v1/auth/reset", json!({"login": "+254711000222"})).await;
        assert_eq!(known.status, StatusCode::ACCEPTED);
        assert_eq!((unknown.status, &unknown.body), (known.status, &known.body), "no account enumeration");
        assert_eq!((phone.status, &phone.body), (known.status, &known.body));
        let first = mails_to(&mailer, "pat@example.com", 1).await;
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].subject, "Reset your Rooms password");
        let (link, token1) = link_of(&first[0].text);
        assert!(link.starts_with("http://rooms.test/reset/confirm?token="), "{link}");
        assert!(first[0].text.contains("15 minutes"));

        // A second request replaces the first link.
        anon.post("/api/v1/auth/reset", json!({"login": "pat@example.com"})).await;
        let (_, token2) = link_of(&mails_to(&mailer, "pat@example.com", 2).await[1].text);
        assert_ne!(token1, token2);
        let new_password = "N3w!pass";
        let old = anon.post("/api/v1/auth/reset/confirm", json!({"token": token1, "password": new_password})).await;
        assert_eq!(old.code(), "reset_token_invalid");
        // The page shows the form with the token from the link.
        let page = anon.get(&format!("/reset/confirm?token={token2}")).await;
        assert!(page.body.contains(&format!("value=\"{token2}\"")));
        let ok = anon.post("/api/v1/auth/reset/confirm", json!({"token": token2, "password": new_password})).await;
        assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.body);
        let twice = anon.post("/api/v1/auth/reset/confirm", json!({"token": token2, "password": "An0ther!p"})).await;
        assert_eq!(twice.code(), "reset_token_invalid", "a link works once");
        let signin = anon.post("/api/v1/auth/signin", json!({"login": "pat@example.com", "password": new_password})).await;
        assert_eq!(signin.status, StatusCode::OK);
        assert_eq!(pat.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED, "a reset ends other sessions");

        // Three mails an hour per account; the fourth request is answered alike and sends nothing.
        let third = anon.post("/api/v1/auth/reset", json!({"login": "pat@example.com"})).await;
        assert_eq!(mails_to(&mailer, "pat@example.com", 3).await.len(), 3);
        let fourth = anon.post("/api/v1/auth/reset", json!({"login": "pat@example.com"})).await;
        assert_eq!((fourth.status, &fourth.body), (third.status, &third.body));
        let issued: i64 = platform_db::on_pool!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM one_time_tokens WHERE purpose = 'reset_email'").fetch_one(p).await.unwrap());
        assert_eq!(issued, 3);
        assert!(mailer.sent_to("nobody@example.com").is_empty() && mailer.sent_to("+254711000222").is_empty());
        assert_eq!(mailer.sent().len(), 3);

        // The page says the same.
        let form = anon.get("/reset").await;
        let csrf = csrf_of(&form.body);
        let r = anon.form("/reset", &[("csrf_token", &csrf), ("login", "nobody@example.com")]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("If an account uses that address"));
    }
}

#[tokio::test]
async fn reset_mail_goes_out_over_smtp() {
    let sink = platform_mail::testing::SmtpSink::start().await.unwrap();
    let smtp = platform_mail::SmtpMailer::new(sink.config()).unwrap();
    let app = TestApp::build_with(backends()[0], |c| c.public_url = SITE.into(), move |s| s.mailer = Arc::new(smtp)).await;
    app.client().sign_up("sam@example.com", "sam").await;
    app.client().post("/api/v1/auth/reset", json!({"login": "sam@example.com"})).await;
    let got = sink.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_to, ["sam@example.com"]);
    assert!(got[0].text().unwrap().contains("http://rooms.test/reset/confirm?token="));
}
