//! Each node's cache of live sessions: a cached request asks the database
//! nothing about its session, and every revocation or sign-in change is
//! refused on every node within the stated bound. Two apps on one
//! database stand for two nodes.

use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_domain::ids::AccountId;
use fantooo_domain::AccountKind;
use fantooo_store::accounts::SESSIONS;
use fantooo_web::middleware::session::{SessionCache, BOUND, POLL_EVERY};
use platform_accounts::{SessionSpec, Via};
use serde_json::json;

/// A chat that does not exist: its page asks only who is asking (the
/// chat access rule's viewer, from the session alone), then answers 404.
const NO_CHAT: &str = "/api/chats/00000000-0000-0000-0000-000000000000";

fn cache(app: &TestApp) -> &SessionCache {
    app.state.session_cache.as_deref().expect("the session cache is on")
}

/// A client of `app` holding `token` as its bearer.
fn holder(app: &TestApp, token: &str) -> Client {
    let mut c = app.client();
    c.bearer = Some(token.to_string());
    c
}

/// Waits until the node's cache was confirmed by a version read, so the
/// next request may be served from it.
async fn confirmed() {
    tokio::time::sleep(POLL_EVERY * 2).await;
}

/// Signs in again through the API: another session of the same account.
async fn login(app: &TestApp, username: &str) -> String {
    let mut c = app.client();
    let r = c.json(Method::POST, "/api/auth/login", json!({"login": username, "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["token"].as_str().expect("a token").to_string()
}

#[tokio::test]
async fn a_cached_request_makes_no_session_lookup() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut c = api_user(&app, "cached_amina").await;
        confirmed().await;
        let (lookups, hits) = (cache(&app).lookups(), cache(&app).hits());
        assert_eq!(c.api_get("/api/me").await.status, StatusCode::OK);
        assert_eq!(cache(&app).lookups(), lookups + 1, "{backend:?}: the first request looks the session up");
        for _ in 0..5 {
            let me = c.api_get("/api/me").await;
            assert_eq!(me.status, StatusCode::OK, "{backend:?}");
            assert_eq!(me.json()["user"]["username"], "cached_amina");
        }
        assert_eq!(cache(&app).lookups(), lookups + 1, "{backend:?}: cached requests look nothing up");
        assert_eq!(cache(&app).hits(), hits + 5, "{backend:?}");
    }
}

#[tokio::test]
async fn a_sign_out_on_one_node_is_refused_on_the_other_within_the_bound() {
    for backend in backends() {
        let a = TestApp::new(backend).await;
        let b = a.second_node().await;
        let mut on_a = api_user(&a, "leaving_baraka").await;
        let mut on_b = holder(&b, &on_a.token());
        confirmed().await;
        assert_eq!(on_b.api_get("/api/me").await.status, StatusCode::OK, "{backend:?}");
        assert_eq!(on_b.api_get("/api/me").await.status, StatusCode::OK, "{backend:?}");
        assert!(cache(&b).hits() >= 1, "{backend:?}: node B served the session from its cache");
        let r = on_a.json(Method::POST, "/api/auth/logout", json!({})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{backend:?}: {}", r.body);
        // The node that signed out drops it at once.
        assert_eq!(on_a.api_get("/api/me").await.status, StatusCode::UNAUTHORIZED, "{backend:?}");
        tokio::time::sleep(BOUND).await;
        assert_eq!(on_b.api_get("/api/me").await.status, StatusCode::UNAUTHORIZED, "{backend:?}: node B within the bound");
    }
}

#[tokio::test]
async fn a_banned_user_is_refused_on_every_node_within_the_bound() {
    for backend in backends() {
        let a = TestApp::new(backend).await;
        let b = a.second_node().await;
        let on_a = api_user(&a, "banned_chege").await;
        let (mut on_a, mut on_b) = (holder(&a, &on_a.token()), holder(&b, &on_a.token()));
        confirmed().await;
        for c in [&mut on_a, &mut on_b] {
            assert_eq!(c.api_get("/api/me").await.status, StatusCode::OK, "{backend:?}");
            // A chat request reads who the user is from the session alone.
            assert_eq!(c.api_get(NO_CHAT).await.status, StatusCode::NOT_FOUND, "{backend:?}");
        }
        let hits = cache(&b).hits();
        assert_eq!(on_b.api_get(NO_CHAT).await.status, StatusCode::NOT_FOUND, "{backend:?}");
        assert_eq!(cache(&b).hits(), hits + 1, "{backend:?}: served from the cache before the ban");
        // Written by some other process: neither node is told.
        exec(&a.db, "UPDATE real_users SET is_banned = TRUE, ban_reason = 'spam' WHERE username = 'banned_chege'").await;
        tokio::time::sleep(BOUND).await;
        for c in [&mut on_a, &mut on_b] {
            assert_eq!(c.api_get(NO_CHAT).await.status, StatusCode::FORBIDDEN, "{backend:?}");
        }
    }
}

#[tokio::test]
async fn a_password_change_signs_out_the_other_sessions_on_every_node() {
    for backend in backends() {
        let a = TestApp::new(backend).await;
        let b = a.second_node().await;
        let mut changing = api_user(&a, "careful_njeri").await;
        let other = login(&a, "careful_njeri").await;
        let (mut other_on_a, mut other_on_b) = (holder(&a, &other), holder(&b, &other));
        confirmed().await;
        assert_eq!(other_on_a.api_get("/api/me").await.status, StatusCode::OK, "{backend:?}");
        assert_eq!(other_on_b.api_get("/api/me").await.status, StatusCode::OK, "{backend:?}");
        assert_eq!(other_on_b.api_get("/api/me").await.status, StatusCode::OK, "{backend:?}");
        let r = changing.json(Method::PUT, "/api/me/password", json!({"current_password": PASSWORD, "new_password": "N3w!passw0rd"})).await;
        assert!(r.status.is_success(), "{backend:?}: {} {}", r.status, r.body);
        assert_eq!(
            other_on_a.api_get("/api/me").await.status,
            StatusCode::UNAUTHORIZED,
            "{backend:?}: at once on the node that changed it"
        );
        assert_eq!(changing.api_get("/api/me").await.status, StatusCode::OK, "{backend:?}: the session that changed it stays");
        tokio::time::sleep(BOUND).await;
        assert_eq!(other_on_b.api_get("/api/me").await.status, StatusCode::UNAUTHORIZED, "{backend:?}: on the other node within the bound");
        assert_eq!(holder(&b, &changing.token()).api_get("/api/me").await.status, StatusCode::OK, "{backend:?}");
    }
}

#[tokio::test]
async fn an_expired_session_is_refused_though_cached() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        api_user(&app, "brief_otieno").await;
        let account: AccountId = fantooo_store::users::by_username(&app.db, "brief_otieno").await.expect("the user").account_id;
        let spec = SessionSpec {
            account,
            kind: AccountKind::User,
            via: Via::Bearer,
            ttl: chrono::Duration::milliseconds(1500),
            ip: None,
            user_agent: None,
        };
        let brief = SESSIONS.create(&app.db, spec, chrono::Utc::now()).await.expect("a session");
        let mut c = holder(&app, &brief.token);
        confirmed().await;
        assert_eq!(c.api_get("/api/me").await.status, StatusCode::OK, "{backend:?}");
        let hits = cache(&app).hits();
        assert_eq!(c.api_get("/api/me").await.status, StatusCode::OK, "{backend:?}");
        assert_eq!(cache(&app).hits(), hits + 1, "{backend:?}: served from the cache");
        let left = (brief.expires_at - chrono::Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(left + std::time::Duration::from_millis(20)).await;
        assert_eq!(c.api_get("/api/me").await.status, StatusCode::UNAUTHORIZED, "{backend:?}");
    }
}

#[tokio::test]
async fn a_deleted_operator_is_refused_on_every_node_within_the_bound() {
    for backend in backends() {
        let a = TestApp::new(backend).await;
        let b = a.second_node().await;
        let token = login_operator(&a, "gone_op@fantooo.com").await;
        let (mut on_a, mut on_b) = (holder(&a, &token), holder(&b, &token));
        confirmed().await;
        for c in [&mut on_a, &mut on_b] {
            assert_eq!(c.api_get(NO_CHAT).await.status, StatusCode::NOT_FOUND, "{backend:?}");
        }
        exec(&a.db, "UPDATE operators SET deleted_at = created_at WHERE email = 'gone_op@fantooo.com'").await;
        tokio::time::sleep(BOUND).await;
        for c in [&mut on_a, &mut on_b] {
            assert_eq!(c.api_get(NO_CHAT).await.status, StatusCode::UNAUTHORIZED, "{backend:?}");
        }
    }
}

/// Creates an operator and signs them in through the API; their token.
async fn login_operator(app: &TestApp, email: &str) -> String {
    operator_client(app, email).await;
    let mut c = app.client();
    let r = c.json(Method::POST, "/api/auth/login", json!({"login": email, "password": PASSWORD, "kind": "operator"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["token"].as_str().expect("a token").to_string()
}
