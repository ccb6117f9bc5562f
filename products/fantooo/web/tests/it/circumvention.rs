//! Ban circumvention as the spec has it: by default a sign-up from a banned
//! user's address or device creates the account flagged for review, and
//! admins allow or ban it from a queue; "block" refuses it outright.

use crate::backoffice::admin_json;
use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_domain::AdminRole;
use fantooo_store::on_pool;
use serde_json::json;

const DEVICE: &str = "device0123456789abcdef";

/// Signs up `name` from the banned address (or device), returning the response.
async fn signup_from(app: &TestApp, ip: &str, device: Option<&str>, name: &str) -> Resp {
    let mut c = app.client();
    c.ip = ip.into();
    let body = serde_json::to_vec(&signup_body(name)).unwrap();
    let extra: Vec<(&str, &str)> = device.map(|d| vec![("x-device-fingerprint", d)]).unwrap_or_default();
    c.send(Method::POST, "/api/auth/signup", Some("application/json"), body, &extra).await
}

/// A user banned after signing up from 203.0.113.7 with DEVICE; returns an admin client.
async fn banned_spammer(app: &TestApp) -> Client {
    let r = signup_from(app, "203.0.113.7", Some(DEVICE), "spammer").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let uid = r.json()["user"]["id"].as_str().unwrap().to_string();
    let mut admin = admin_client(app, "boss@fantooo.com", AdminRole::SuperAdmin).await;
    let r = admin_json(&mut admin, Method::POST, &format!("/api/admin/users/{uid}/ban"), json!({ "reason": "spam" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    admin
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    on_pool!(&app.db, p => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await.unwrap())
}

#[tokio::test]
async fn matching_signups_are_created_flagged_and_admins_allow_or_ban_them() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut admin = banned_spammer(&app).await;
        let settings = admin.api_get("/api/admin/settings").await.json();
        assert_eq!(settings["ban_circumvention"], "flag_for_review", "{b:?}: the default");

        // Same address, and same device from elsewhere: both created, both flagged.
        let r = signup_from(&app, "203.0.113.7", None, "newface").await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        let mut newface = app.client();
        newface.ip = "203.0.113.7".into();
        newface.bearer = Some(r.json()["token"].as_str().unwrap().to_string());
        assert_eq!(newface.api_get("/api/me").await.status, StatusCode::OK, "{b:?}: a flagged account works while under review");
        let r = signup_from(&app, "192.0.2.55", Some(DEVICE), "samedevice").await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        // A clean sign-up is not flagged.
        assert_eq!(signup_from(&app, "192.0.2.99", None, "honest").await.status, StatusCode::CREATED);

        let queue = admin.api_get("/api/admin/users/reviews").await;
        assert_eq!(queue.status, StatusCode::OK, "{b:?}: {}", queue.body);
        let q = queue.json();
        let pending = q["pending"].as_array().unwrap();
        let names: Vec<&str> = pending.iter().map(|r| r["username"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["newface", "samedevice"], "{b:?}");
        assert!(pending.iter().all(|r| r["banned_username"] == "spammer" && r["status"] == "pending"));
        assert_eq!(pending[1]["device_fingerprint"], DEVICE);
        // The matches are counted on the ban and raised to admins as flagged.
        assert_eq!(count(&app, "SELECT circumvention_attempts FROM banned_users_tracking").await, 2, "{b:?}");
        assert_eq!(count(&app, "SELECT COUNT(*) FROM admin_notices WHERE kind = 'security_alert' AND body LIKE 'Flagged%'").await, 2);

        // The page lists them with both actions.
        let page = admin.get("/admin/users/reviews").await;
        assert_eq!(page.status, StatusCode::OK);
        let (allow_id, ban_id) = (pending[0]["id"].as_str().unwrap().to_string(), pending[1]["id"].as_str().unwrap().to_string());
        assert!(page.body.contains(&format!("/admin/users/reviews/{allow_id}/allow")), "{}", page.body);
        assert!(page.body.contains(&format!("/admin/users/reviews/{ban_id}/ban")));

        // Allow (from the page form): the account keeps signing in from the banned address.
        let r = admin.post_form(&format!("/admin/users/reviews/{allow_id}/allow"), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b:?}: {}", r.body);
        assert!(r.location().contains("notice="), "{}", r.location());
        let mut back = app.client();
        back.ip = "203.0.113.7".into();
        let r = back.json(Method::POST, "/api/auth/login", json!({ "login": "newface", "password": PASSWORD })).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: an allowed account signs in: {}", r.body);
        // Deciding twice is a conflict.
        let r = admin_json(&mut admin, Method::POST, &format!("/api/admin/users/reviews/{allow_id}/ban"), json!({})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{b:?}: {}", r.body);

        // Ban (JSON): the account is banned and its session ends.
        let r = admin_json(&mut admin, Method::POST, &format!("/api/admin/users/reviews/{ban_id}/ban"), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
        assert_eq!(r.json()["review"]["status"], "banned");
        let banned: bool = on_pool!(&app.db, p => sqlx::query_scalar("SELECT is_banned FROM real_users WHERE username = 'samedevice'").fetch_one(p).await.unwrap());
        assert!(banned, "{b:?}");
        let mut again = app.client();
        again.ip = "192.0.2.55".into();
        let r = again.json(Method::POST, "/api/auth/login", json!({ "login": "samedevice", "password": PASSWORD })).await;
        assert_ne!(r.status, StatusCode::OK, "{b:?}: a banned-on-review account is out");

        // Both decisions are audited, with who and what.
        let audit: Vec<(String, String)> = on_pool!(&app.db, p => sqlx::query_as(
            "SELECT action, CAST(after_value AS TEXT) FROM audit_entries WHERE action LIKE 'signup_review_%' ORDER BY seq")
            .fetch_all(p).await.unwrap());
        let actions: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
        assert_eq!(actions, vec!["signup_review_allowed", "signup_review_banned"], "{b:?}");
        assert!(audit[1].1.contains("banned"));
        let q = admin.api_get("/api/admin/users/reviews").await.json();
        assert_eq!(q["pending"].as_array().unwrap().len(), 0);
        assert_eq!(q["decided"].as_array().unwrap().len(), 2);
        // Moderators manage users, so they see the queue; a missing review is 404.
        let r = admin_json(&mut admin, Method::POST, &format!("/api/admin/users/reviews/{}/allow", uuid::Uuid::now_v7()), json!({})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn the_block_setting_refuses_matching_signups_outright() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut admin = banned_spammer(&app).await;
        let r = admin_json(&mut admin, Method::PUT, "/api/admin/settings/circumvention", json!({ "policy": "sometimes" })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: {}", r.body);
        assert!(r.body.contains("policy"));
        let r = admin_json(&mut admin, Method::PUT, "/api/admin/settings/circumvention", json!({ "policy": "block" })).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
        assert_eq!(admin.api_get("/api/admin/settings").await.json()["ban_circumvention"], "block");
        let r = signup_from(&app, "203.0.113.7", None, "blocked1").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{b:?}: {}", r.body);
        let r = signup_from(&app, "192.0.2.55", Some(DEVICE), "blocked2").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{b:?}");
        assert!(!fantooo_store::users::username_taken(&app.db, "blocked1").await.unwrap());
        assert_eq!(count(&app, "SELECT COUNT(*) FROM signup_reviews").await, 0, "{b:?}: nothing to review");
        assert_eq!(count(&app, "SELECT COUNT(*) FROM admin_notices WHERE kind = 'security_alert' AND body LIKE 'Blocked%'").await, 2);
        // The change is audited; switching back flags again.
        assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_entries WHERE subject_id = 'ban_circumvention'").await, 1, "{b:?}");
        let r = admin.post_form("/admin/settings/circumvention", &[("policy", "flag_for_review")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b:?}: {}", r.body);
        assert_eq!(signup_from(&app, "203.0.113.7", None, "flagged").await.status, StatusCode::CREATED);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM signup_reviews WHERE status = 'pending'").await, 1);
        let page = admin.get("/admin/settings").await;
        assert!(page.body.contains("value=\"flag_for_review\" checked"), "{b:?}");
    }
}
