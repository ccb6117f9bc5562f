//! The marketplace end to end through the API, and the pages around it.

use crate::support::{backends, TestApp, PASSWORD};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;

pub(crate) fn gig_body(title: &str) -> serde_json::Value {
    json!({
        "title": title,
        "category": "graphics-design",
        "subcategory": "logo-design",
        "tags": "logo, branding",
        "description": "<p>A <b>clean vector logo</b> for your brand.</p><img src=x onerror=alert(1)><script>alert(1)</script>",
        "packages": [
            { "tier": "basic", "name": "Starter", "price": "100", "delivery_days": 3, "revisions": 1, "items": ["Vector file"] },
            { "tier": "standard", "name": "Business", "price": "180.50", "delivery_days": 5, "revisions": 3, "items": ["Vector file", "Brand sheet"] }
        ],
        "faq": [{ "question": "Which formats?", "answer": "SVG, PNG and PDF." }],
        "requirements": [{ "question": "Your brand name?", "required": true }]
    })
}

#[tokio::test]
async fn a_buyer_finds_orders_pays_and_accepts_and_the_seller_earns() {
    for backend in backends() {
        let (app, base) = TestApp::served(backend).await;
        let seller = app.sign_up("sella").await;
        let buyer = app.sign_up("buyo").await;

        // The seller publishes a gig; the description is cleaned.
        let (s, v) =
            app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig_body("I will design a minimalist logo for your brand"))).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let html = v["gig"]["description_html"].as_str().unwrap();
        assert!(!html.contains("script") && !html.contains("onerror"), "{html}");
        let gig_id = v["gig"]["id"].as_str().unwrap().to_string();
        assert_eq!(v["packages"][1]["price_minor"], 18050);

        // The buyer searches with a typo'd prefix and finds it.
        let (s, v) = app.call(Method::GET, "/api/v1/search?q=minimal%20log", None, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["total"], 1, "{backend:?} {v}");
        assert_eq!(v["hits"][0]["id"], gig_id.as_str());
        assert_eq!(v["facets"]["category"][0]["count"], 1);
        let (_, v) = app.call(Method::GET, "/api/v1/search?q=minimalst", None, None).await;
        assert_eq!(v["suggestion"], "minimalist");
        assert_eq!(v["hits"][0]["id"], gig_id.as_str());
        let (s, v) = app.call(Method::GET, "/api/v1/search?sort=cheapest", None, None).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("sort")));

        // Orders the basic package: $100 + $5 service fee, price locked.
        let (s, v) = app
            .call(Method::POST, "/api/v1/orders", Some(&buyer), Some(json!({ "gig_id": gig_id, "tier": "basic", "method": "bitcoin" })))
            .await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("method")), "{v}");
        let (s, v) = app
            .call(Method::POST, "/api/v1/orders", Some(&buyer), Some(json!({ "gig_id": gig_id, "tier": "basic", "method": "stripe" })))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let order = v["order"]["id"].as_str().unwrap().to_string();
        assert_eq!((v["order"]["total_minor"].as_i64(), v["order"]["status"].as_str()), (Some(10_500), Some("placed")));
        let checkout = v["checkout_url"].as_str().unwrap().to_string();
        assert!(checkout.starts_with(&format!("{base}/fake-stripe/c/pay/cs_test_")), "{checkout}");

        // Too early: requirements before payment is a 409 in words.
        let path = |a: &str| format!("/api/v1/orders/{order}/{a}");
        let (s, v) = app.call(Method::POST, &path("requirements"), Some(&buyer), Some(json!({ "answers": ["Acme"] }))).await;
        assert_eq!((s, v["message"].as_str()), (StatusCode::CONFLICT, Some("Pay for the order first; requirements come after payment.")));

        // The buyer pays on Stripe's page; its webhooks and the buyer's return both report it: once counts.
        assert_eq!(app.pay_stripe(&checkout).await, [200, 200]);
        let (s, _, _) = app
            .raw(
                Request::get(format!("/orders/{order}/paid"))
                    .header(header::AUTHORIZATION, format!("Bearer {buyer}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, v) = app.call(Method::GET, &format!("/api/v1/orders/{order}"), Some(&buyer), None).await;
        assert_eq!((v["order"]["status"].as_str(), v["order"]["paid_minor"].as_i64()), (Some("paid"), Some(10_500)));

        // Only the buyer submits requirements; a missing answer names its field.
        let (s, _) = app.call(Method::POST, &path("requirements"), Some(&seller), Some(json!({ "answers": ["x"] }))).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, v) = app.call(Method::POST, &path("requirements"), Some(&buyer), Some(json!({ "answers": [""] }))).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("answers")));
        let (s, _) = app.call(Method::POST, &path("requirements"), Some(&buyer), Some(json!({ "answers": ["Acme Bakery"] }))).await;
        assert_eq!(s, StatusCode::OK);

        // Delivery with two files (multipart), a revision, a second delivery with one.
        let png: &[u8] = include_bytes!("../../assets/test.png");
        let (s, v, _) = crate::uploads::post_multipart(
            &app,
            &path("deliver"),
            &seller,
            &[("message", None, b"First concepts"), ("files", Some("logo.png"), png), ("files", Some("logo-dark.png"), png)],
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = app.call(Method::POST, &path("deliver"), Some(&seller), Some(json!({ "message": "again" }))).await;
        assert_eq!(s, StatusCode::CONFLICT, "{v}");
        let (s, _) = app.call(Method::POST, &path("revision"), Some(&buyer), Some(json!({ "note": "Warmer colours please" }))).await;
        assert_eq!(s, StatusCode::OK);
        let (s, v, _) = crate::uploads::post_multipart(
            &app,
            &path("deliver"),
            &seller,
            &[("message", None, b"Warmer version"), ("files", Some("logo-warm.png"), png)],
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = app.call(Method::POST, &path("revision"), Some(&buyer), Some(json!({ "note": "More" }))).await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(v["message"].as_str().unwrap().contains("all have been used"));

        // Both versions are kept, numbered, each with its own files.
        let (_, v) = app.call(Method::GET, &format!("/api/v1/orders/{order}"), Some(&buyer), None).await;
        let versions: Vec<(i64, &str, Vec<&str>)> = v["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let names = d["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
                (d["version"].as_i64().unwrap(), d["message"].as_str().unwrap(), names)
            })
            .collect();
        assert_eq!(versions, [(1, "First concepts", vec!["logo.png", "logo-dark.png"]), (2, "Warmer version", vec!["logo-warm.png"])]);
        let keys: Vec<String> = v["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|d| d["files"].as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap().to_string()))
            .collect();
        let (_, page) = app.call(Method::GET, &format!("/orders/{order}"), Some(&seller), None).await;
        let page = page.as_str().unwrap_or_default().to_string();
        assert!(page.contains("Version 1") && page.contains("Version 2"), "{page}");
        assert!(keys.iter().all(|k| page.contains(&format!("href=\"/media/{k}\""))), "every version's files are linked");

        // Every delivered file, first version included: the parties download it, nobody else.
        let get = |key: &str, token: Option<&str>| {
            let mut r = Request::get(format!("/media/{key}"));
            if let Some(t) = token {
                r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
            }
            r.body(Body::empty()).unwrap()
        };
        let stranger = app.sign_up("nosy").await;
        let admin = app.admin("ops").await;
        for key in &keys {
            let (s, h, _) = app.raw(get(key, Some(&buyer))).await;
            assert_eq!((s, h[header::CONTENT_DISPOSITION].to_str().unwrap()), (StatusCode::OK, "attachment"), "{key}");
            assert_eq!(app.raw(get(key, Some(&seller))).await.0, StatusCode::OK, "{key}");
            for token in [Some(stranger.as_str()), Some(admin.as_str()), None] {
                assert_eq!(app.raw(get(key, token)).await.0, StatusCode::NOT_FOUND, "{key}");
            }
        }
        let (s, _) = app.call(Method::GET, &format!("/api/v1/orders/{order}"), Some(&stranger), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // Accept: released to the seller's pending earnings minus 20%.
        let (s, v) = app.call(Method::POST, &path("accept"), Some(&buyer), None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["order"]["status"], "released");
        let (_, me) = app.call(Method::GET, "/api/v1/me", Some(&seller), None).await;
        assert_eq!(me["pending_earnings_minor"], 8_000, "{backend:?}");
        let (_, v) = app.call(Method::GET, &format!("/api/v1/orders/{order}"), Some(&seller), None).await;
        let kinds: Vec<&str> = v["timeline"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["place", "pay", "submit_requirements", "deliver", "request_revision", "deliver", "accept", "release"]);
        let report = gigstream_store::invariants::check(&app.db).await.unwrap();
        assert!(report.is_clean(), "{:?}", report.violations);

        // The seller's public profile lists the gig and the completed order.
        let (s, v) = app.call(Method::GET, "/api/v1/users/sella", None, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!((v["stats"]["orders_completed"].as_i64(), v["gigs"].as_array().map(Vec::len)), (Some(1), Some(1)));
    }
}

#[tokio::test]
async fn sign_in_is_one_answer_for_unknown_and_wrong_and_input_names_fields() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.sign_up("amina").await;
        let wrong = app.call(Method::POST, "/api/v1/login", None, Some(json!({ "login": "amina", "password": "Wrong!pass1" }))).await;
        let unknown = app.call(Method::POST, "/api/v1/login", None, Some(json!({ "login": "nobody", "password": "Wrong!pass1" }))).await;
        assert_eq!(wrong.0, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong, unknown);
        let ok = app.call(Method::POST, "/api/v1/login", None, Some(json!({ "login": "amina@example.test", "password": PASSWORD }))).await;
        assert_eq!(ok.0, StatusCode::OK);
        let (s, v) = app
            .call(
                Method::POST,
                "/api/v1/signup",
                None,
                Some(json!({ "email": "x", "username": "1", "display_name": "", "password": "weak" })),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = v["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["email", "username", "display_name", "password"]);
        let (s, v) = app
            .call(
                Method::POST,
                "/api/v1/signup",
                None,
                Some(json!({ "email": "amina@example.test", "username": "amina2", "display_name": "A", "password": PASSWORD })),
            )
            .await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("email")));
        let token = app.sign_up("seller").await;
        let mut bad = gig_body("short");
        bad["packages"][0]["price"] = json!("1");
        let (s, v) = app.call(Method::POST, "/api/v1/gigs", Some(&token), Some(bad)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = v["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&"title") && fields.contains(&"price"), "{fields:?}");
        let (s, _) = app.call(Method::POST, "/api/v1/gigs", None, Some(gig_body("I will design a minimalist logo for your brand"))).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn pages_render_and_forms_need_their_token() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let seller = app.sign_up("pagesel").await;
        let (_, v) =
            app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig_body("I will design a minimalist logo for your brand"))).await;
        let slug = v["gig"]["slug"].as_str().unwrap().to_string();
        for path in ["/", "/search?q=logo", "/search?q=zzzzqqq", &format!("/gigs/{slug}"), "/u/pagesel", "/login", "/signup"] {
            let (s, h, body) = app.raw(Request::get(path).body(Body::empty()).unwrap()).await;
            assert_eq!(s, StatusCode::OK, "{path}: {body}");
            assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
            assert!(!body.contains("<script>alert"), "{path}");
        }
        let (_, _, body) = app.raw(Request::get("/search?q=logo").body(Body::empty()).unwrap()).await;
        assert!(body.contains("minimalist logo") && body.contains("Category"), "facets and the hit");
        let (_, _, body) = app.raw(Request::get(format!("/gigs/{slug}")).body(Body::empty()).unwrap()).await;
        assert!(body.contains("Starter") && body.contains("$100.00") && body.contains("<b>clean vector logo</b>"));
        let (_, _, body) = app.raw(Request::get("/u/pagesel").body(Body::empty()).unwrap()).await;
        assert!(!body.contains("Reviews"), "no reviews exist, so no reviews section");
        assert!(body.contains(&format!("/gigs/{slug}")), "the seller's gigs are listed");
        // A browser without a session is sent to sign in.
        let (s, h, _) = app.raw(Request::get("/dashboard").body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(h[header::LOCATION].to_str().unwrap().starts_with("/login?next="));
        // A form without its CSRF token is refused.
        let req = Request::post("/signup")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("email=a%40b.co"))
            .unwrap();
        assert_eq!(app.raw(req).await.0, StatusCode::FORBIDDEN);
    }
}
