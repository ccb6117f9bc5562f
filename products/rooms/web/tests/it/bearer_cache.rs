//! Each node's cache of bearer credentials (`rooms_web::auth::BearerCache`):
//! a role or profile change is seen on every node within the stated bound
//! of its commit, at once on the node that made it. Two apps on one
//! database stand for two nodes.

use crate::support::*;
use axum::http::{Method, StatusCode};
use rooms_web::auth::BOUND;
use serde_json::json;
use std::time::Instant;

/// Two nodes on one database, and a new user `handle` signed up on the
/// first, with a client of each node holding the same bearer token; both
/// nodes' caches confirmed after the sign-up.
async fn two_nodes(b: rooms_store::Backend, handle: &str) -> (TestApp, TestApp, Client, Client) {
    let a = TestApp::new(b).await;
    let other = a.second_node(|_| {}).await;
    let mut on_a = a.client();
    on_a.sign_up(&format!("{handle}@example.com"), handle).await;
    let mut on_b = other.client();
    on_b.bearer = on_a.bearer.clone();
    a.settled().await;
    other.settled().await;
    (a, other, on_a, on_b)
}

async fn set_role(app: &TestApp, handle: &str, role: &str) -> Instant {
    platform_db::on_pool!(&app.db, p => {
        sqlx::query("UPDATE accounts SET role = $1 WHERE handle = $2").bind(role).bind(handle).execute(p).await.unwrap();
    });
    Instant::now()
}

#[tokio::test]
async fn a_role_change_behind_the_nodes_backs_is_seen_on_every_node_within_the_bound() {
    for b in backends() {
        let (a, other, mut on_a, mut on_b) = two_nodes(b, "riz").await;
        for c in [&mut on_a, &mut on_b] {
            assert_eq!(c.get("/api/v1/admin/users").await.status, StatusCode::FORBIDDEN, "{b:?}");
            assert_eq!(c.get("/api/v1/admin/users").await.status, StatusCode::FORBIDDEN, "{b:?}");
        }
        let hits = other.bearer_cache.as_ref().expect("the cache is on").hits();
        assert_eq!(on_b.get("/api/v1/me").await.status, StatusCode::OK, "{b:?}");
        assert!(other.bearer_cache.as_ref().expect("the cache is on").hits() > hits, "{b:?}: served from the cache");

        let granted = set_role(&a, "riz", "admin").await;
        tokio::time::sleep_until((granted + BOUND).into()).await;
        for c in [&mut on_a, &mut on_b] {
            assert_eq!(c.get("/api/v1/admin/users").await.status, StatusCode::OK, "{b:?}: staff on both nodes within the bound");
        }
        let taken = set_role(&a, "riz", "user").await;
        tokio::time::sleep_until((taken + BOUND).into()).await;
        for c in [&mut on_a, &mut on_b] {
            assert_eq!(c.get("/api/v1/admin/users").await.status, StatusCode::FORBIDDEN, "{b:?}: no longer staff on either node");
        }
    }
}

#[tokio::test]
async fn a_profile_change_shows_at_once_on_its_node_and_on_the_other_within_the_bound() {
    for b in backends() {
        let (_a, _other, mut on_a, mut on_b) = two_nodes(b, "ama").await;
        for c in [&mut on_a, &mut on_b] {
            assert_eq!(c.get("/api/v1/me").await.json()["account"]["display_name"], "ama Person", "{b:?}");
        }
        let r = on_a
            .send(Method::PATCH, "/api/v1/me", Some("application/json"), json!({"display_name": "Ama Owusu"}).to_string().into_bytes())
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
        let changed = Instant::now();
        assert_eq!(on_a.get("/api/v1/me").await.json()["account"]["display_name"], "Ama Owusu", "{b:?}: at once on its node");
        tokio::time::sleep_until((changed + BOUND).into()).await;
        assert_eq!(on_b.get("/api/v1/me").await.json()["account"]["display_name"], "Ama Owusu", "{b:?}: the other node within the bound");
    }
}

#[tokio::test]
async fn with_the_cache_off_a_node_keeps_nothing() {
    for b in backends() {
        let app = TestApp::with(b, |c| c.bearer_cache = false).await;
        assert!(app.bearer_cache.is_none());
        let mut c = app.client();
        c.sign_up("kofi@example.com", "kofi").await;
        assert_eq!(c.get("/api/v1/me").await.status, StatusCode::OK, "{b:?}");
        set_role(&app, "kofi", "admin").await;
        assert_eq!(c.get("/api/v1/admin/users").await.status, StatusCode::OK, "{b:?}: read at once");
    }
}
