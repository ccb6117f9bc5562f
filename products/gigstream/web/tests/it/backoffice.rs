//! The back office: standing of accounts, permissions per role, settings,
//! gig moderation, its pages on the shell, and the audit log.

use crate::support::{backends, TestApp, PASSWORD};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use gigstream_domain::ids::AccountId;
use platform_accounts::Via;
use serde_json::{json, Value};

pub fn gig(title: &str) -> Value {
    json!({
        "title": title,
        "category": "writing-translation",
        "tags": "copywriting",
        "description": "<p>Product descriptions that turn visitors into buyers.</p>",
        "packages": [{ "tier": "basic", "name": "One product", "price": "50", "delivery_days": 2, "revisions": 1 }],
        "requirements": [{ "question": "Which product?", "required": true }]
    })
}

pub async fn id_of(app: &TestApp, token: &str) -> String {
    let (s, v) = app.call(Method::GET, "/api/v1/me", Some(token), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["account"]["id"].as_str().unwrap().to_string()
}

/// A cookie session for `username`: (cookie header, its CSRF token).
pub async fn browser_session(app: &TestApp, username: &str) -> (String, String) {
    let (account, _) = gigstream_store::accounts::for_login(&app.db, username).await.unwrap().unwrap();
    let token = gigstream_web::auth::start_session(&app.state, account.id, Via::Cookie, "127.0.0.1", None).await.unwrap();
    let cookie = format!("gigstream_session={token}");
    let (s, _, body) = app.raw(Request::get("/terms").header(header::COOKIE, &cookie).body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    let csrf = body.split("name=\"csrf-token\" content=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    (cookie, csrf)
}

pub async fn page(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let (s, _, body) = app.raw(Request::get(path).header(header::COOKIE, cookie).body(Body::empty()).unwrap()).await;
    (s, body)
}

pub async fn post_form(app: &TestApp, cookie: &str, path: &str, form: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    app.raw(
        Request::post(path)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.to_string()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_suspended_user_is_signed_out_told_why_and_cannot_sell() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = app.admin("ops").await;
        let seller = app.sign_up("writer").await;
        let (s, _) = app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig("I will write a product description"))).await;
        assert_eq!(s, StatusCode::CREATED);
        let id = id_of(&app, &seller).await;
        let path = format!("/api/v1/admin/users/{id}/suspend");
        let (s, v) = app.call(Method::POST, &path, Some(&admin), Some(json!({ "reason": "" }))).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")), "{v}");
        assert_eq!(app.call(Method::GET, "/api/v1/me", Some(&seller), None).await.0, StatusCode::OK, "nothing changed on a refusal");
        let (s, v) = app.call(Method::POST, &path, Some(&admin), Some(json!({ "reason": "Spam in messages" }))).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["user"]["standing"], "suspended");
        // The session is gone, the gig left search, signing in says why.
        assert_eq!(app.call(Method::GET, "/api/v1/me", Some(&seller), None).await.0, StatusCode::UNAUTHORIZED);
        let (_, v) = app.call(Method::GET, "/api/v1/search?q=product", None, None).await;
        assert_eq!(v["hits"].as_array().unwrap().len(), 0, "{v}");
        let (s, v) = app.call(Method::POST, "/api/v1/login", None, Some(json!({ "login": "writer", "password": PASSWORD }))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let message = v["fields"][0]["message"].as_str().unwrap();
        assert!(message.contains("suspended") && message.contains("Spam in messages"), "{message}");
        // A wrong password still says nothing about the account.
        let (s, v) = app.call(Method::POST, "/api/v1/login", None, Some(json!({ "login": "writer", "password": "Wrong!pass1" }))).await;
        assert_eq!((s, v["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("login_failed")));
        // The admin cannot act on themself; the audit log has the step.
        let me = id_of(&app, &admin).await;
        let (s, _) = app
            .call(Method::POST, &format!("/api/v1/admin/users/{me}/ban"), Some(&admin), Some(json!({ "reason": "Testing myself" })))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (_, v) = app.call(Method::GET, &format!("/api/v1/admin/audit?subject={id}"), Some(&admin), None).await;
        let entries = v["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{v}");
        assert_eq!((entries[0]["action"].as_str(), entries[0]["reason"].as_str()), (Some("user.suspend"), Some("Spam in messages")));
        // Reinstated: signs in again; a ban ends that session too.
        let (s, _) = app.call(Method::POST, &format!("/api/v1/admin/users/{id}/reinstate"), Some(&admin), None).await;
        assert_eq!(s, StatusCode::OK);
        let (s, v) = app.call(Method::POST, "/api/v1/login", None, Some(json!({ "login": "writer", "password": PASSWORD }))).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let again = v["token"].as_str().unwrap().to_string();
        let (s, _) = app
            .call(Method::POST, &format!("/api/v1/admin/users/{id}/ban"), Some(&admin), Some(json!({ "reason": "Fraud confirmed" })))
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(app.call(Method::GET, "/api/v1/me", Some(&again), None).await.0, StatusCode::UNAUTHORIZED);
        let (_, v) = app.call(Method::POST, "/api/v1/login", None, Some(json!({ "login": "writer", "password": PASSWORD }))).await;
        assert!(v["fields"][0]["message"].as_str().unwrap().contains("banned"), "{v}");
        // Failed sign-ins are security events.
        let (_, v) = app.call(Method::GET, "/api/v1/admin/security?kind=failed_login", Some(&admin), None).await;
        assert_eq!(v["events"].as_array().unwrap().len(), 1, "{v}");
    }
}

#[tokio::test]
async fn each_role_opens_only_its_part_of_the_back_office() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let owner = app.admin("owner").await;
        let moderator = app.admin("moder").await;
        let id: AccountId = id_of(&app, &moderator).await.parse().unwrap();
        platform_db::on_pool!(&app.db, p => {
            sqlx::query("UPDATE accounts SET admin_role = 'moderator' WHERE id = $1").bind(id).execute(p).await.unwrap();
        });
        let buyer = app.sign_up("shopper").await;
        for (token, path, want) in [
            (&moderator, "/api/v1/admin/users", StatusCode::OK),
            (&moderator, "/api/v1/admin/gigs", StatusCode::OK),
            (&moderator, "/api/v1/admin/settings", StatusCode::FORBIDDEN),
            (&moderator, "/api/v1/admin/withdrawals", StatusCode::FORBIDDEN),
            (&moderator, "/api/v1/admin/analytics", StatusCode::FORBIDDEN),
            (&owner, "/api/v1/admin/settings", StatusCode::OK),
            (&owner, "/api/v1/admin/analytics", StatusCode::OK),
            (&buyer, "/api/v1/admin/users", StatusCode::FORBIDDEN),
        ] {
            assert_eq!(app.call(Method::GET, path, Some(token), None).await.0, want, "{path}");
        }
        let (s, _) = app.call(Method::PUT, "/api/v1/admin/settings", Some(&moderator), Some(json!({ "clearance_days": 1 }))).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // Bad filters name their field.
        let (s, v) = app.call(Method::GET, "/api/v1/admin/users?standing=sleeping", Some(&owner), None).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("standing")));
        let (s, v) = app.call(Method::GET, "/api/v1/admin/users?before=garbage", Some(&owner), None).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("before")));
    }
}

#[tokio::test]
async fn settings_are_checked_audited_and_used_by_new_orders() {
    for backend in backends() {
        let (app, _) = TestApp::served(backend).await;
        let admin = app.admin("ops").await;
        let bad = json!({ "platform_fee_percent": "60", "buyer_fee_percent": "abc", "buyer_fee_min": "1", "clearance_days": "400" });
        let (s, v) = app.call(Method::PUT, "/api/v1/admin/settings", Some(&admin), Some(bad)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let fields: Vec<&str> = v["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["buyer_fee_percent"], "format errors first: {v}");
        let bad = json!({ "platform_fee_percent": "60", "clearance_days": "400" });
        let (_, v) = app.call(Method::PUT, "/api/v1/admin/settings", Some(&admin), Some(bad)).await;
        let fields: Vec<&str> = v["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["platform_fee_percent", "clearance_days"]);
        let (_, v) = app.call(Method::GET, "/api/v1/admin/settings", Some(&admin), None).await;
        assert_eq!(
            v["settings"],
            json!({ "platform_fee_percent": "20", "buyer_fee_percent": "5", "buyer_fee_min_minor": 100, "clearance_days": 14 })
        );
        let good = json!({ "platform_fee_percent": "10", "buyer_fee_percent": "2", "buyer_fee_min": "0.50", "clearance_days": 7 });
        let (s, v) = app.call(Method::PUT, "/api/v1/admin/settings", Some(&admin), Some(good)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["settings"]["buyer_fee_min_minor"], 50);
        // A new order is placed under the new fees: 2 % of $50 = $1.00, platform 10 %.
        let seller = app.sign_up("writer").await;
        let (_, v) = app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig("I will write a product description"))).await;
        let gig_id = v["gig"]["id"].as_str().unwrap().to_string();
        let buyer = app.sign_up("shop").await;
        let body = json!({ "gig_id": gig_id, "tier": "basic", "method": "stripe" });
        let (s, v) = app.call(Method::POST, "/api/v1/orders", Some(&buyer), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!((v["order"]["buyer_fee_minor"].as_i64(), v["order"]["platform_fee_bps"].as_i64()), (Some(100), Some(1000)));
        let (_, v) = app.call(Method::GET, "/api/v1/wallet", Some(&seller), None).await;
        assert_eq!(v["clearance_days"], 7);
        let (_, v) = app.call(Method::GET, "/api/v1/admin/audit?action=settings.update", Some(&admin), None).await;
        assert_eq!(v["entries"].as_array().unwrap().len(), 1, "only the saved change is recorded: {v}");
    }
}

#[tokio::test]
async fn a_removed_gig_leaves_search_and_its_seller_sees_why() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = app.admin("ops").await;
        let seller = app.sign_up("writer").await;
        let (_, v) = app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig("I will write a product description"))).await;
        let gig_id = v["gig"]["id"].as_str().unwrap().to_string();
        let (_, v) = app.call(Method::GET, "/api/v1/admin/gigs", Some(&admin), None).await;
        assert_eq!(v["gigs"].as_array().unwrap().len(), 1, "waiting for review: {v}");
        let path = format!("/api/v1/admin/gigs/{gig_id}/remove");
        let (s, v) = app.call(Method::POST, &path, Some(&admin), Some(json!({ "reason": "no" }))).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")));
        let (s, _) = app.call(Method::POST, &path, Some(&admin), Some(json!({ "reason": "Copied from another seller" }))).await;
        assert_eq!(s, StatusCode::OK);
        let (s, v) = app.call(Method::POST, &path, Some(&admin), Some(json!({ "reason": "Copied from another seller" }))).await;
        assert_eq!(s, StatusCode::CONFLICT, "once: {v}");
        let (_, v) = app.call(Method::GET, "/api/v1/search?q=product", None, None).await;
        assert_eq!(v["hits"].as_array().unwrap().len(), 0);
        let (_, v) = app.call(Method::GET, "/api/v1/me/removed-gigs", Some(&seller), None).await;
        assert_eq!(v["removed_gigs"][0]["reason"], "Copied from another seller");
        let (_, v) = app.call(Method::GET, "/api/v1/admin/gigs?view=removed", Some(&admin), None).await;
        assert_eq!(v["gigs"].as_array().unwrap().len(), 1);
        let (_, v) = app.call(Method::GET, "/api/v1/admin/gigs", Some(&admin), None).await;
        assert_eq!(v["gigs"].as_array().unwrap().len(), 0);
        let (cookie, _) = browser_session(&app, "writer").await;
        let (_, body) = page(&app, &cookie, "/account").await;
        assert!(body.contains("Copied from another seller"), "the seller's account page says why");
    }
}

#[tokio::test]
async fn back_office_pages_render_and_confirm_before_acting() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.admin("ops").await;
        let seller = app.sign_up("writer").await;
        let (_, v) = app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig("I will write a product description"))).await;
        let gig_id = v["gig"]["id"].as_str().unwrap().to_string();
        let seller_id = id_of(&app, &seller).await;
        let (cookie, csrf) = browser_session(&app, "ops").await;
        for (path, text) in [
            ("/admin/users", "@writer"),
            ("/admin/users?q=writ&standing=active", "@writer"),
            (&format!("/admin/users/{seller_id}") as &str, "Suspend"),
            ("/admin/gigs", "I will write a product description"),
            (&format!("/admin/gigs/{gig_id}"), "Remove"),
            ("/admin/orders", "No orders match."),
            ("/admin/orders?status=disputed", "Disputes"),
            ("/admin/withdrawals", "No withdrawals match."),
            ("/admin/refunds", "No refunds."),
            ("/admin/security", "No security events."),
            ("/admin/analytics", "<svg"),
            ("/admin/settings", "Clearance period"),
            ("/admin/audit", "Nothing recorded"),
        ] {
            let (s, body) = page(&app, &cookie, path).await;
            assert_eq!(s, StatusCode::OK, "{path}: {body}");
            assert!(body.contains(text), "{path} shows {text:?}");
            assert!(body.contains("/admin/assets/backoffice.css"), "{path} is on the shell");
        }
        let (s, body) = page(&app, &cookie, "/admin/users?standing=sleeping").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("Choose active, suspended, banned or deleted."), "{body}");
        // Without the confirmation nothing happens; with it, the user is suspended.
        let action = format!("/admin/users/{seller_id}/suspend");
        let (s, h, _) = post_form(&app, &cookie, &action, &format!("csrf_token={csrf}&reason=Spam+everywhere")).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(h[header::LOCATION].to_str().unwrap().contains("error="), "{h:?}");
        assert_eq!(app.call(Method::GET, "/api/v1/me", Some(&seller), None).await.0, StatusCode::OK);
        let (s, h, _) = post_form(&app, &cookie, &action, &format!("csrf_token={csrf}&confirm=yes&reason=Spam+everywhere")).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let to = h[header::LOCATION].to_str().unwrap().to_string();
        assert!(to.contains("notice="), "{to}");
        assert_eq!(app.call(Method::GET, "/api/v1/me", Some(&seller), None).await.0, StatusCode::UNAUTHORIZED);
        let (_, body) = page(&app, &cookie, &to).await;
        assert!(body.contains("suspended") && body.contains("Reinstate"), "{body}");
        // The settings form: a bad value goes back with its message, nothing saved.
        let (s, h, _) = post_form(&app, &cookie, "/admin/settings", &format!("csrf_token={csrf}&clearance_days=999")).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(h[header::LOCATION].to_str().unwrap().contains("error="));
        let (_, body) = page(&app, &cookie, "/admin/settings").await;
        assert!(body.contains("value=\"14\""), "unchanged");
    }
}
