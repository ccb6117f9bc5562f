//! Admin steps, gallery uploads and sign-in limits through the router.

use crate::support::{backends, TestApp, PASSWORD};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::Utc;
use gigstream_store::accounts::{self, NewAccount};
use serde_json::json;

fn gig() -> serde_json::Value {
    json!({
        "title": "I will write a product description that sells",
        "category": "writing-translation",
        "tags": "copywriting",
        "description": "<p>Product descriptions that turn visitors into buyers.</p>",
        "packages": [{ "tier": "basic", "name": "One product", "price": "50", "delivery_days": 2, "revisions": 1 }],
        "requirements": [{ "question": "Which product?", "required": true }]
    })
}

fn multipart(field: &str, filename: &str, content_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    platform_testkit::multipart(&[platform_testkit::form::file(field, filename, content_type, bytes)])
}

#[tokio::test]
async fn an_admin_splits_a_dispute_and_others_may_not() {
    for backend in backends() {
        let (app, _) = TestApp::served(backend).await;
        let hash = gigstream_web::auth::hash_password(PASSWORD.into(), true).await.unwrap();
        accounts::create(
            &app.db,
            &NewAccount { email: "ops@example.test", username: "ops", display_name: "Ops", password_hash: &hash, is_admin: true },
            Utc::now(),
        )
        .await
        .unwrap();
        let (_, v) = app.call(Method::POST, "/api/v1/login", None, Some(json!({ "login": "ops", "password": PASSWORD }))).await;
        let admin = v["token"].as_str().unwrap().to_string();
        let seller = app.sign_up("writer").await;
        let buyer = app.sign_up("shop").await;
        let (_, v) = app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig())).await;
        let gig_id = v["gig"]["id"].as_str().unwrap().to_string();
        let (_, v) = app
            .call(Method::POST, "/api/v1/orders", Some(&buyer), Some(json!({ "gig_id": gig_id, "tier": "basic", "method": "stripe" })))
            .await;
        let order = v["order"]["id"].as_str().unwrap().to_string();
        assert_eq!(app.pay_stripe(v["checkout_url"].as_str().unwrap()).await, [200, 200]);
        let (s, _) = app
            .call(
                Method::POST,
                &format!("/api/v1/orders/{order}/dispute"),
                Some(&seller),
                Some(json!({ "reason": "No answers for a week" })),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let body = json!({ "outcome": "split", "refund_minor": 2_000, "note": "Half the work was done", "request_key": "r-1" });
        let (s, _) = app.call(Method::POST, &format!("/api/v1/admin/orders/{order}/resolve"), Some(&buyer), Some(body.clone())).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, v) = app.call(Method::POST, &format!("/api/v1/admin/orders/{order}/resolve"), Some(&admin), Some(body.clone())).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        // $50 + $2.50 paid: $20 back; $30 left, fee $6 → seller $24, platform $6 + $2.50.
        let o = &v["order"];
        assert_eq!(
            (o["status"].as_str(), o["refunded_minor"].as_i64(), o["seller_earned_minor"].as_i64(), o["platform_earned_minor"].as_i64()),
            (Some("resolved"), Some(2_000), Some(2_400), Some(850))
        );
        let (s, v) = app.call(Method::POST, &format!("/api/v1/admin/orders/{order}/resolve"), Some(&admin), Some(body)).await;
        assert_eq!(s, StatusCode::CONFLICT, "resolved once: {v}");
        let report = gigstream_store::invariants::check(&app.db).await.unwrap();
        assert!(report.is_clean(), "{:?}", report.violations);
    }
}

#[tokio::test]
async fn gallery_pictures_are_sniffed_and_served_publicly() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let seller = app.sign_up("painter").await;
        let (_, v) = app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig())).await;
        let id = v["gig"]["id"].as_str().unwrap().to_string();
        let upload = |token: &str, ct: &str, bytes: &[u8]| {
            let (content_type, body) = multipart("image", "x.png", ct, bytes);
            Request::post(format!("/api/v1/gigs/id/{id}/images"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body))
                .unwrap()
        };
        // Text claiming to be a PNG is refused, on the field.
        let (s, _, body) = app.raw(upload(&seller, "image/png", b"<script>alert(1)</script>")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("\"field\":\"image\""), "{body}");
        let png = include_bytes!("../../assets/test.png");
        let other = app.sign_up("intruder").await;
        assert_eq!(app.raw(upload(&other, "image/png", png)).await.0, StatusCode::NOT_FOUND);
        let (s, _, body) = app.raw(upload(&seller, "image/png", png)).await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let key = serde_json::from_str::<serde_json::Value>(&body).unwrap()["key"].as_str().unwrap().to_string();
        assert!(key.starts_with("gigs/") && key.ends_with(".png"));
        let (s, h, _) = app.raw(Request::get(format!("/media/{key}")).body(Body::empty()).unwrap()).await;
        assert_eq!((s, h[header::CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, "image/png"));
        let (_, v) = app.call(Method::GET, "/api/v1/search?q=product", None, None).await;
        assert_eq!(v["hits"][0]["cover"], key.as_str());
    }
}

#[tokio::test]
async fn sign_in_attempts_are_limited() {
    for backend in backends() {
        let app = TestApp::with_config(backend, |c| c.auth_per_minute = 3).await;
        let mut statuses = vec![];
        for _ in 0..4 {
            statuses.push(
                app.call(Method::POST, "/api/v1/login", None, Some(json!({ "login": "someone", "password": "Wrong!pass1" }))).await.0,
            );
        }
        assert_eq!(statuses, [StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS]);
    }
}
