//! CSRF, rate limits, headers, public language, health, metrics, partitions.

use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_store::{on_pool, Backend};
use serde_json::json;

#[tokio::test]
async fn state_changing_forms_need_the_csrf_token() {
    let app = TestApp::new(Backend::Sqlite).await;
    api_user(&app, "csrfuser").await;
    let mut c = app.client();
    c.get("/login").await;
    // No token, a wrong token: refused, and nothing happens.
    let r = c.post_form_raw("/login", &[("login", "csrfuser"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c.post_form_raw("/login", &[("login", "csrfuser"), ("password", PASSWORD), ("csrf_token", &"0".repeat(64))]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!c.cookies.contains_key("fantooo_session"));
    let r = c.post_form("/login", &[("login", "csrfuser"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // Signed in, the session's own token is required.
    c.get("/me").await;
    let r = c.post_form_raw("/me", &[("display_name", "Hacked")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c.send(Method::PATCH, "/api/me", Some("application/json"), br#"{"display_name":"Hacked"}"#.to_vec(), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "cookie-authenticated JSON needs X-CSRF-Token");
    let token = c.csrf.clone().unwrap();
    let r = c
        .send(Method::PATCH, "/api/me", Some("application/json"), br#"{"display_name":"Kept"}"#.to_vec(), &[("x-csrf-token", &token)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c.post_form("/me", &[("display_name", "Saved"), ("bio", "hello")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(c.get("/me").await.body.contains("Saved"));
    // Bearer-token API calls carry no ambient credentials and need no token.
    let mut api = api_user(&app, "bearer_user").await;
    let r = api.json(Method::PATCH, "/api/me", json!({"display_name": "Bearer"})).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = api.json(Method::PATCH, "/api/me", json!({"display_name": ""})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["fields"][0]["field"], "display_name");
}

#[tokio::test]
async fn auth_attempts_are_rate_limited_with_retry_after() {
    let app = TestApp::with_config(Backend::Sqlite, |c| c.auth_per_minute = 5).await;
    let mut c = app.client();
    for i in 0..5 {
        let r = c.post_form("/login", &[("login", &format!("nobody{i}")), ("password", "Wrong!pass1")]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let r = c.post_form("/login", &[("login", "nobody9"), ("password", "Wrong!pass1")]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    // Per account as well: another address hammering one login is stopped.
    let mut others: Vec<Client> = (0..6).map(|_| app.client()).collect();
    let mut statuses = vec![];
    for o in others.iter_mut() {
        statuses.push(o.json(Method::POST, "/api/auth/login", json!({"login": "target", "password": "Wrong!pass1"})).await.status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(), 1, "{statuses:?}");
}

#[tokio::test]
async fn api_requests_are_rate_limited() {
    let app = TestApp::with_config(Backend::Sqlite, |c| c.api_per_minute = 3).await;
    let mut c = app.client();
    for _ in 0..3 {
        assert_eq!(c.api_get("/api/auth/username-available?username=abc").await.status, StatusCode::OK);
    }
    let r = c.api_get("/api/auth/username-available?username=abc").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.json()["error"], "rate_limited");
    assert!(r.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn security_headers_and_request_ids() {
    let app = TestApp::with_config(Backend::Sqlite, |c| c.hsts = true).await;
    let r = app.client().get("/").await;
    for h in [
        "content-security-policy",
        "strict-transport-security",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
        "permissions-policy",
        "x-request-id",
    ] {
        assert!(r.headers.contains_key(h), "missing {h}");
    }
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    let cookie = r.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>().join("\n");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
}

#[tokio::test]
async fn public_pages_never_reveal_the_back_office() {
    let app = TestApp::new(Backend::Sqlite).await;
    fantooo_web::seed::seed_demo(&app.db, true, "fantooo.com").await.unwrap();
    let mut c = app.client();
    for path in ["/", "/login", "/get-started"] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        let lower = r.body.to_lowercase();
        for word in ["operator", "admin", "fictional", "managed"] {
            assert!(!lower.contains(word), "{path} mentions {word}");
        }
        for link in ["/op-login", "/admin-login", "/setup"] {
            assert!(!r.body.contains(link), "{path} links to {link}");
        }
    }
    // Signed-in users see the same discreet language.
    let mut user = app.client();
    user.post_form("/login", &[("login", "demo"), ("password", fantooo_web::seed::DEMO_PASSWORD)]).await;
    let r = user.get("/discover").await;
    assert_eq!(r.status, StatusCode::OK);
    let lower = r.body.to_lowercase();
    assert!(lower.contains("amara"));
    for word in ["operator", "admin", "fictional", "managed", "guideline"] {
        assert!(!lower.contains(word), "/discover mentions {word}");
    }
}

#[tokio::test]
async fn errors_are_friendly_pages_in_the_browser_and_json_in_the_api() {
    let app = TestApp::new(Backend::Sqlite).await;
    let mut c = app.client();
    let r = c.get("/no/such/page").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("<html") && r.body.contains("Page not found"));
    let r = c.api_get("/api/me").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"], "unauthenticated");
}

#[tokio::test]
async fn health_and_metrics() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let r = app.client().get("/api/health").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["database"]["status"], "ok");
        assert_eq!(r.json()["database"]["backend"], format!("{backend:?}").to_lowercase());
    }
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder().expect("recorder");
    let (db, _dir) = fresh_db(Backend::Sqlite).await;
    let geo = || std::sync::Arc::new(platform_geo::OfflineGazetteer::new());
    let metrics = |token: Option<&str>| {
        let mut r = axum::http::Request::get("/metrics");
        if let Some(t) = token {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        r.body(axum::body::Body::empty()).unwrap()
    };
    use tower::ServiceExt;
    // Without a configured token there is no /metrics at all.
    let closed = fantooo_web::app(fantooo_web::AppState::new(db.clone(), fantooo_web::WebConfig::default(), geo(), Some(handle.clone())));
    let resp = closed.clone().oneshot(metrics(None)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(closed.oneshot(metrics(Some("anything"))).await.unwrap().status(), StatusCode::NOT_FOUND);
    // With one, only a scraper holding it reads the metrics.
    let config = fantooo_web::WebConfig { metrics_token: Some("scrape-token".into()), ..fantooo_web::WebConfig::default() };
    let router = fantooo_web::app(fantooo_web::AppState::new(db, config, geo(), Some(handle)));
    let _ = router.clone().oneshot(axum::http::Request::get("/").body(axum::body::Body::empty()).unwrap()).await.unwrap();
    assert_eq!(router.clone().oneshot(metrics(None)).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(router.clone().oneshot(metrics(Some("scrape-tokem"))).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let resp = router.oneshot(metrics(Some("scrape-token"))).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("fantooo_http_requests_total"), "{text}");
    assert!(text.contains("route=\"/\""));
}

#[tokio::test]
async fn postgres_partitions_exist_ahead_and_schema_constraints_hold() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        if backend == Backend::Postgres {
            let now = chrono::Utc::now();
            let names: Vec<String> = (0..=3)
                .map(|o| {
                    let d = fantooo_store::partitions::month_start(now, o);
                    format!("messages_y{}m{:02}", chrono::Datelike::year(&d), chrono::Datelike::month(&d))
                })
                .collect();
            for n in names {
                let exists: bool = on_pool!(&app.db, p => sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = $1)").bind(&n).fetch_one(p).await.unwrap());
                assert!(exists, "{n}");
            }
        }
        // credits >= 0 and 3–10 pictures are enforced by the schema itself.
        let user = api_user(&app, "constraint").await;
        drop(user);
        let neg = on_pool!(&app.db, p => sqlx::query("UPDATE real_users SET credits = -1").execute(p).await.map(|_| ()));
        assert!(neg.is_err(), "{backend:?}");
        let two = on_pool!(&app.db, p => sqlx::query("INSERT INTO fictional_users (id, name, age, gender, location, bio, profile_pictures, created_at, updated_at) VALUES ($1, 'X', 30, 'female', 'Nairobi', 'bio', $2, $3, $3)")
            .bind(fantooo_domain::ids::ProfileId::new()).bind(sqlx::types::Json(vec!["a", "b"])).bind(chrono::Utc::now()).execute(p).await.map(|_| ()));
        assert!(two.is_err(), "{backend:?}: two pictures must be refused");
        let young = on_pool!(&app.db, p => sqlx::query("UPDATE real_users SET age = 17").execute(p).await.map(|_| ()));
        assert!(young.is_err(), "{backend:?}");
    }
}

/// A known address asked with the wrong method gets the usual JSON error
/// body, not an empty one.
#[tokio::test]
async fn wrong_methods_get_the_json_error_body() {
    let app = TestApp::new(Backend::Sqlite).await;
    let mut c = api_user(&app, "methodical").await;
    for (method, path) in [(Method::PATCH, "/api/chats"), (Method::DELETE, "/api/health"), (Method::PUT, "/api/me")] {
        let r = c.send(method.clone(), path, Some("application/json"), b"{}".to_vec(), &[("accept", "application/json")]).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(r.json()["error"], "method_not_allowed", "{method} {path}: {}", r.body);
        assert!(r.json()["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

/// Behind one proxy that appends the address it saw, a client cannot pick
/// its own address by sending `X-Forwarded-For` itself: limits and bans
/// apply to the real address.
#[tokio::test]
async fn a_forged_forwarded_for_does_not_escape_limits_or_bans() {
    for backend in backends() {
        let app = TestApp::with_config(backend, |c| c.auth_per_minute = 3).await;
        let real = "203.0.113.77";
        let mut attacker = app.client();
        let mut statuses = vec![];
        for n in 0..5 {
            attacker.ip = format!("198.51.100.{n}, {real}");
            let r = attacker.json(Method::POST, "/api/auth/login", json!({ "login": format!("nobody{n}"), "password": "x" })).await;
            statuses.push(r.status);
        }
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(), 2, "{backend:?}: {statuses:?}");

        // A ban follows the real address, whatever the client claims.
        let app = TestApp::new(backend).await;
        fantooo_store::settings::set(&app.db, "ban_circumvention", &fantooo_domain::account::CircumventionPolicy::Block, None)
            .await
            .unwrap();
        let mut spoofer = app.client();
        spoofer.ip = format!("192.0.2.1, {real}");
        let r = spoofer.json(Method::POST, "/api/auth/signup", signup_body("spoofer")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let uid = r.json()["user"]["id"].as_str().unwrap().to_string();
        let mut admin = admin_client(&app, "mod@fantooo.com", fantooo_domain::AdminRole::Moderator).await;
        let r =
            crate::backoffice::admin_json(&mut admin, Method::POST, &format!("/api/admin/users/{uid}/ban"), json!({ "reason": "spam" }))
                .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let mut again = app.client();
        again.ip = format!("192.0.2.99, {real}");
        let r = again.json(Method::POST, "/api/auth/signup", signup_body("spoofer2")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{backend:?}: a new forged entry does not hide the banned address: {}", r.body);
        let mut innocent = app.client();
        innocent.ip = format!("{real}, 198.51.100.200");
        let r = innocent.json(Method::POST, "/api/auth/signup", signup_body("innocent")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend:?}: claiming the banned address does not get someone banned: {}", r.body);
    }
}

/// Every page names itself to search engines and tabs: a description, a
/// favicon (also at /favicon.ico), theme colours for light and dark.
#[tokio::test]
async fn pages_carry_a_description_and_a_favicon() {
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    let mut c = app.client();
    for path in ["/", "/login", "/get-started", "/terms"] {
        let body = c.get(path).await.body;
        assert!(body.contains(r#"<meta name="description" content="Chat one-to-one"#), "{path}");
        assert!(body.contains(r#"<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">"#), "{path}");
        assert!(body.contains(r#"media="(prefers-color-scheme: dark)""#), "{path}");
    }
    for path in ["/assets/favicon.svg", "/favicon.ico"] {
        let r = c.get(path).await;
        assert_eq!(r.status, axum::http::StatusCode::OK, "{path}");
        assert!(r.body.starts_with("<svg"), "{path}");
    }
}

#[tokio::test]
async fn stylesheets_and_scripts_go_gzipped_and_revalidate_with_a_304() {
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    for path in ["/assets/app.css", "/assets/app.js", "/assets/chat.js"] {
        let body = platform_testkit::static_files::assert_compressed_and_revalidated(app.router.clone(), path).await;
        assert!(!body.is_empty(), "{path}");
    }
}
