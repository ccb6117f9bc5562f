//! The seller's and the buyer's dashboards, as pages and JSON, and saving
//! gigs as favourites.

use crate::flow::gig_body;
use crate::support::{backends, TestApp};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::Utc;
use serde_json::json;
use thirtyfour::prelude::*;

fn get(path: &str, token: &str) -> Request<Body> {
    Request::get(path).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn dashboards_chart_earnings_count_orders_and_keep_favourites() {
    for backend in backends() {
        let (app, _) = TestApp::served(backend).await;
        let seller = app.sign_up("dashsel").await;
        let buyer = app.sign_up("dashbuy").await;
        let (s, v) =
            app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig_body("I will design a minimalist logo for your brand"))).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let gig = v["gig"]["id"].as_str().unwrap().to_string();
        let slug = v["gig"]["slug"].as_str().unwrap().to_string();

        // Before any order: no earnings, and the first quick action is to deliver nothing.
        let (s, v) = app.call(Method::GET, "/api/v1/dashboard/selling", Some(&seller), None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["earnings_by_day"].as_array().unwrap().len(), 30);
        assert_eq!(v["earnings_by_month"].as_array().unwrap().len(), 12);
        assert!(v["pipeline"].as_array().unwrap().is_empty());

        // One order runs to completion: $100 less 20% is $80 earned today.
        let order = app.paid_order(&buyer, &gig).await;
        let path = |a: &str| format!("/api/v1/orders/{order}/{a}");
        let (s, _) = app.call(Method::POST, &path("requirements"), Some(&buyer), Some(json!({ "answers": ["Acme"] }))).await;
        assert_eq!(s, StatusCode::OK);
        // Waiting for the seller's delivery: the quick actions say so.
        let (_, v) = app.call(Method::GET, "/api/v1/dashboard/selling", Some(&seller), None).await;
        assert_eq!(v["quick_actions"][0]["label"], "Work on 1 order", "{v}");
        assert_eq!(v["pipeline"], json!([{ "label": "In progress", "statuses": ["in_progress"], "count": 1 }]));
        let (s, _) = app.call(Method::POST, &path("deliver"), Some(&seller), Some(json!({ "message": "Here it is" }))).await;
        assert_eq!(s, StatusCode::OK);
        // The buyer is asked to review the delivery.
        let (_, v) = app.call(Method::GET, "/api/v1/dashboard/buying", Some(&buyer), None).await;
        assert_eq!(
            (v["to_do"][0][0]["id"].as_str(), v["to_do"][0][1].as_str()),
            (Some(order.as_str()), Some("Review the delivery")),
            "{v}"
        );
        let (s, _) = app.call(Method::POST, &path("accept"), Some(&buyer), None).await;
        assert_eq!(s, StatusCode::OK);

        let (_, v) = app.call(Method::GET, "/api/v1/dashboard/selling", Some(&seller), None).await;
        let today = Utc::now().format("%Y-%m-%d").to_string();
        let month = Utc::now().format("%Y-%m").to_string();
        assert_eq!(v["earnings_by_day"][29], json!({ "label": today, "orders": 1, "amount_minor": 8000 }), "{v}");
        assert_eq!(v["earnings_by_day"][28]["amount_minor"], 0);
        assert_eq!(v["earnings_by_month"][11], json!({ "label": month, "orders": 1, "amount_minor": 8000 }));
        assert_eq!(v["pipeline"][0]["label"], "Completed");
        assert_eq!(v["activity"][0]["action"], "release");
        assert_eq!(v["activity"][0]["selling"], true);
        assert_eq!(v["balances"]["pending"], 8000);
        assert!(!v["quick_actions"].as_array().unwrap().iter().any(|a| a["label"].as_str().unwrap().starts_with("Work on")));

        // The page: both charts named for screen readers, with their tables.
        let (s, _, html) = app.raw(get("/dashboard", &seller)).await;
        assert_eq!(s, StatusCode::OK);
        for id in ["earnings-day", "earnings-month"] {
            assert!(html.contains(&format!("aria-labelledby=\"{id}-title {id}-desc\"")), "{id}");
        }
        assert!(html.contains(&format!("<th scope=\"row\">{month}</th><td>1</td><td>$80.00</td>")), "monthly table");
        assert!(html.contains(&format!("highest was $80.00 on {today}")), "the daily chart's description");
        assert!(html.contains("<span class=\"big\">$80.00</span><span class=\"muted\">earned this month</span>"));
        assert!(html.contains("1</span> <span>Completed"), "the pipeline");

        // Favourites: saved through the API, shown to the buyer, taken off by the page's form.
        let fav = format!("/api/v1/gigs/id/{gig}/favourite");
        let (s, v) = app.call(Method::PUT, &fav, Some(&buyer), None).await;
        assert_eq!((s, v["favourite"].as_bool()), (StatusCode::OK, Some(true)));
        let (s, _) = app.call(Method::PUT, "/api/v1/gigs/id/not-a-gig/favourite", Some(&buyer), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, v) = app.call(Method::GET, "/api/v1/dashboard/buying", Some(&buyer), None).await;
        assert_eq!(v["favourites"][0]["id"], gig.as_str());
        assert_eq!(v["orders"][0]["id"], order.as_str());
        assert!(v["to_do"].as_array().unwrap().is_empty(), "nothing waits for the buyer now");
        let (_, _, html) = app.raw(get("/dashboard/buying", &buyer)).await;
        assert!(html.contains(&format!("/gigs/{slug}")) && html.contains("Favourites"), "{html}");
        let (_, _, html) = app.raw(get(&format!("/gigs/{slug}"), &buyer)).await;
        assert!(html.contains("★ Saved to favourites"));
        let (_, _, html) = app.raw(get(&format!("/gigs/{slug}"), &seller)).await;
        assert!(!html.contains("favourites"), "no button for the gig's own seller");
        let form = Request::post(format!("/gigs/{slug}/favourite"))
            .header(header::AUTHORIZATION, format!("Bearer {buyer}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("save=0"))
            .unwrap();
        let (s, h, _) = app.raw(form).await;
        assert_eq!((s, h[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, format!("/gigs/{slug}").as_str()));
        let (_, v) = app.call(Method::GET, "/api/v1/dashboard/buying", Some(&buyer), None).await;
        assert!(v["favourites"].as_array().unwrap().is_empty());

        // Signed out: sent to sign in; the API answers 401.
        let (s, h, _) = app.raw(Request::get("/dashboard/buying").body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(h[header::LOCATION].to_str().unwrap().starts_with("/login?next="));
        assert_eq!(app.call(Method::GET, "/api/v1/dashboard/selling", None, None).await.0, StatusCode::UNAUTHORIZED);
    }
}

/// The seller's and the buyer's dashboards in Chromium at 1280 and 375 px
/// (screenshots under the target directory; nothing scrolls sideways).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboards_fit_wide_and_phone_screens() {
    use crate::browser::{browser, driver, serve, shot, sign_in};
    let Some(d) = driver().await else { return };
    let (app, _) = TestApp::served(platform_db::Backend::Sqlite).await;
    let seller = app.sign_up("screensel").await;
    let buyer = app.sign_up("screenbuy").await;
    let (_, v) =
        app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig_body("I will design a minimalist logo for your brand"))).await;
    let gig = v["gig"]["id"].as_str().unwrap().to_string();
    // Three orders: one accepted (earnings), one delivered, one in progress.
    for steps in [3, 2, 1] {
        let order = app.paid_order(&buyer, &gig).await;
        let path = |a: &str| format!("/api/v1/orders/{order}/{a}");
        let calls = [
            (path("requirements"), &buyer, Some(json!({ "answers": ["Acme"] }))),
            (path("deliver"), &seller, Some(json!({ "message": "Done" }))),
            (path("accept"), &buyer, None),
        ];
        for (p, who, body) in calls.into_iter().take(steps) {
            assert_eq!(app.call(Method::POST, &p, Some(who), body).await.0, StatusCode::OK, "{p}");
        }
    }
    app.call(Method::PUT, &format!("/api/v1/gigs/id/{gig}/favourite"), Some(&buyer), None).await;
    let base = format!("http://{}", serve(&app).await);
    let profile = tempfile::tempdir().unwrap();
    let w = browser(&d, profile.path()).await;
    let run = async {
        sign_in(&w, &base, "screensel", "/dashboard").await?;
        w.find(By::Css("svg.chart")).await?;
        for width in [1280, 375] {
            shot(&w, width, "dashboard-seller").await?;
        }
        w.goto(format!("{base}/logout")).await?;
        w.delete_all_cookies().await?;
        sign_in(&w, &base, "screenbuy", "/dashboard/buying").await?;
        w.find(By::Css(".cards .card")).await?;
        for width in [1280, 375] {
            shot(&w, width, "dashboard-buyer").await?;
        }
        WebDriverResult::Ok(())
    };
    let r = run.await;
    w.quit().await.unwrap();
    r.unwrap();
}

/// `/metrics` is GigStream's request counters for a scraper with the token;
/// without a configured token it is not there.
#[tokio::test]
async fn metrics_need_the_configured_token() {
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder().handle();
    let plain = TestApp::new(platform_db::Backend::Sqlite).await;
    assert_eq!(plain.raw(Request::get("/metrics").body(Body::empty()).unwrap()).await.0, StatusCode::NOT_FOUND);
    let mut app = TestApp::with_config(platform_db::Backend::Sqlite, |c| c.metrics_token = Some("s3cret".into())).await;
    app.state.metrics = Some(handle);
    let router = gigstream_web::app(app.state.clone());
    app.router = router;
    for (token, want) in [(None, StatusCode::UNAUTHORIZED), (Some("wrong"), StatusCode::UNAUTHORIZED), (Some("s3cret"), StatusCode::OK)] {
        let mut req = Request::get("/metrics");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let (s, h, _) = app.raw(req.body(Body::empty()).unwrap()).await;
        assert_eq!(s, want, "{token:?}");
        if s == StatusCode::OK {
            assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain"));
        }
    }
    let (s, v) = app.call(Method::GET, "/api/health", None, None).await;
    assert_eq!((s, v["status"].as_str(), v["database"]["status"].as_str()), (StatusCode::OK, Some("ok"), Some("ok")));
}
