//! Back-office lists that page: the gig moderation queue (oldest first),
//! security events and refunds walk forward and back by cursor with their
//! filters kept; a bad cursor names its field. The admin pages are then
//! looked at in headless Chromium at 1280 and 375 px (skipped without
//! Chromium, a failure with REQUIRE_BROWSER=1).

use crate::browser::{browser, driver, js, shot, sign_in};
use crate::support::{backends, TestApp};
use axum::http::{Method, StatusCode};
use chrono::Utc;
use gigstream_store::security::{self, Detail, Kind};
use serde_json::{json, Value};

/// `count` gigs by one seller, created in order; returns their slugs.
async fn gigs(app: &TestApp, count: usize) -> Vec<String> {
    let seller = app.sign_up("prolific").await;
    let mut slugs = vec![];
    for n in 0..count {
        let body = json!({
            "title": format!("I will draw portrait number {n:03} for you"),
            "category": "graphics-design",
            "description": "<p>Hand-drawn portraits from your photos, delivered as files.</p>",
            "packages": [{ "tier": "basic", "name": "One", "price": "20", "delivery_days": 3, "revisions": 1, "items": ["A portrait"] }],
        });
        let (s, v) = app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        slugs.push(v["gig"]["slug"].as_str().unwrap().to_string());
    }
    slugs
}

async fn events(app: &TestApp, count: usize) {
    for n in 0..count {
        let (kind, detail) = if n % 2 == 0 {
            (Kind::FailedLogin, Detail { login: format!("guess{n}"), ..Detail::default() })
        } else {
            (Kind::InfectedUpload, Detail { signature: "Eicar-Test-Signature".into(), file_name: format!("f{n}.pdf"), ..Detail::default() })
        };
        security::record(&app.db, kind, None, Some("203.0.113.9"), &detail, Utc::now()).await.unwrap();
    }
}

/// Walks a paged admin API list from its first page by `older` links,
/// then back by `newer`; returns the keys of each page in order.
async fn walk(app: &TestApp, admin: &str, path: &str, list: &str, key: &str) -> Vec<Vec<String>> {
    let keys = |v: &Value| v[list].as_array().unwrap().iter().map(|x| x[key].to_string()).collect::<Vec<_>>();
    let sep = if path.contains('?') { '&' } else { '?' };
    let (s, mut v) = app.call(Method::GET, path, Some(admin), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut pages = vec![keys(&v)];
    assert!(v["newer"].is_null(), "the first page has nothing newer");
    while let Some(older) = v["older"].as_str().map(str::to_string) {
        let (s, next) = app.call(Method::GET, &format!("{path}{sep}before={older}"), Some(admin), None).await;
        assert_eq!(s, StatusCode::OK, "{next}");
        v = next;
        pages.push(keys(&v));
    }
    // And back: the newer link of the last page shows the page before it.
    if pages.len() > 1 {
        let newer = v["newer"].as_str().expect("a later page links back");
        let (_, back) = app.call(Method::GET, &format!("{path}{sep}after={newer}"), Some(admin), None).await;
        assert_eq!(keys(&back), pages[pages.len() - 2], "{path}");
    }
    pages
}

#[tokio::test]
async fn the_moderation_queue_security_events_and_refunds_page() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = app.admin("ops").await;
        let slugs = gigs(&app, 53).await;
        events(&app, 120).await;

        // The queue: oldest first, 50 then 3, nothing lost or repeated.
        let pages = walk(&app, &admin, "/api/v1/admin/gigs", "gigs", "slug").await;
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [50, 3], "{backend:?}");
        let mut seen: Vec<String> = pages.concat().into_iter().map(|s| s.trim_matches('"').to_string()).collect();
        assert_eq!(seen.first(), slugs.first(), "oldest first");
        seen.sort();
        let mut all = slugs.clone();
        all.sort();
        assert_eq!(seen, all, "each once");

        // Security events: newest first, the kind filter kept across pages.
        let pages = walk(&app, &admin, "/api/v1/admin/security", "events", "seq").await;
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [50, 50, 20]);
        let seqs: Vec<i64> = pages.concat().iter().map(|s| s.parse().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first: {seqs:?}");
        let pages = walk(&app, &admin, "/api/v1/admin/security?kind=failed_login", "events", "kind").await;
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [50, 10]);
        assert!(pages.concat().iter().all(|k| k == "\"failed_login\""));

        // Refunds: none yet, no pager; a broken cursor names its field.
        let (s, v) = app.call(Method::GET, "/api/v1/admin/refunds", Some(&admin), None).await;
        assert_eq!((s, v["refunds"].as_array().map(Vec::len), v["older"].is_null()), (StatusCode::OK, Some(0), true), "{v}");
        for path in ["/api/v1/admin/refunds?before=junk", "/api/v1/admin/gigs?after=junk", "/api/v1/admin/security?before=junk"] {
            let (s, v) = app.call(Method::GET, path, Some(&admin), None).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {v}");
            assert!(["before", "after"].contains(&v["fields"][0]["field"].as_str().unwrap()), "{v}");
        }

        // The pages carry the links, with the filter in them.
        let (s, v) = app.call(Method::GET, "/admin/security?kind=infected_upload", Some(&admin), None).await;
        let html = v.as_str().unwrap_or_default().to_string();
        assert_eq!(s, StatusCode::OK, "{html}");
        // The `&` between the parameters is escaped (askama writes `&#38;`).
        assert!(html.contains("rel=\"next\" href=\"/admin/security?kind=infected_upload&#38;before="), "{html}");
    }
}

/// Rows for the money pages, on the first of `slugs`' gigs: an open
/// dispute, a dispute settled by a split (a refund), and a completed order
/// whose cleared earnings wait in a withdrawal request. Returns the open
/// dispute's order id.
async fn money_rows(app: &TestApp, admin: &str, slugs: &[String]) -> String {
    let login = json!({ "login": "prolific", "password": crate::support::PASSWORD });
    let (_, v) = app.call(Method::POST, "/api/v1/login", None, Some(login)).await;
    let seller = v["token"].as_str().unwrap().to_string();
    let (_, v) = app.call(Method::GET, &format!("/api/v1/gigs/{}", slugs[0]), None, None).await;
    let gig = v["gig"]["id"].as_str().unwrap().to_string();
    let buyer = app.sign_up("patron_with_a_long_username_x").await;
    let ok = |r: (StatusCode, Value)| assert!(r.0.is_success(), "{r:?}");
    let reason = json!({ "reason": "The portrait arrived without the second person in the photo, and no answer for a week since" });
    let open = app.paid_order(&buyer, &gig).await;
    ok(app.call(Method::POST, &format!("/api/v1/orders/{open}/dispute"), Some(&buyer), Some(reason.clone())).await);
    let split = app.paid_order(&buyer, &gig).await;
    ok(app.call(Method::POST, &format!("/api/v1/orders/{split}/dispute"), Some(&buyer), Some(reason)).await);
    let body = json!({ "outcome": "split", "refund_minor": 1_000, "note": "Half the work was done", "request_key": "r-1" });
    ok(app.call(Method::POST, &format!("/api/v1/admin/orders/{split}/resolve"), Some(admin), Some(body)).await);
    let done = app.paid_order(&buyer, &gig).await;
    let step = |a: &str| format!("/api/v1/orders/{done}/{a}");
    ok(app.call(Method::POST, &step("requirements"), Some(&buyer), Some(json!({ "answers": [] }))).await);
    ok(app.call(Method::POST, &step("deliver"), Some(&seller), Some(json!({ "message": "Here it is" }))).await);
    ok(app.call(Method::POST, &step("accept"), Some(&buyer), None).await);
    let days = app.state.config.clearance_days;
    let later = Utc::now() + chrono::Duration::days(i64::from(days)) + chrono::Duration::minutes(1);
    gigstream_store::wallet::clear_due(&app.db, later, days).await.unwrap();
    let ask = json!({ "amount": "20", "method": "paypal", "destination": "a.very.long.payout.address.for.testing@example.test" });
    let (s, v) = app.call(Method::POST, "/api/v1/wallet/withdrawals", Some(&seller), Some(ask)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    open
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_pages_fit_wide_and_phone_screens() {
    let Some(d) = driver().await else { return };
    let (app, base) = TestApp::served(gigstream_store::Backend::Sqlite).await;
    let admin = app.admin("ops").await;
    let slugs = gigs(&app, 52).await;
    events(&app, 55).await;
    let disputed = money_rows(&app, &admin, &slugs).await;
    // Each money page has its rows (so the test looks at filled tables).
    for (path, list) in [
        ("/api/v1/admin/orders?status=disputed", "orders"),
        ("/api/v1/admin/refunds", "refunds"),
        ("/api/v1/admin/withdrawals", "withdrawals"),
    ] {
        let (s, v) = app.call(Method::GET, path, Some(&admin), None).await;
        assert_eq!((s, v[list].as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{path}: {v}");
    }
    let profile = tempfile::tempdir().unwrap();
    let w = browser(&d, profile.path()).await;
    let outcome = async {
        sign_in(&w, &base, "ops", "/admin/users").await?;
        for (path, name) in [
            ("/admin/users", "admin-users"),
            ("/admin/gigs", "admin-gigs"),
            ("/admin/orders", "admin-orders"),
            ("/admin/orders?status=disputed", "admin-disputes"),
            ("/admin/refunds", "admin-refunds"),
            ("/admin/withdrawals", "admin-withdrawals"),
            ("/admin/security", "admin-security"),
            ("/admin/analytics", "admin-analytics"),
            ("/admin/settings", "admin-settings"),
            ("/admin/audit", "admin-audit"),
        ] {
            w.set_window_rect(0, 0, 1280, 900).await?;
            w.goto(format!("{base}{path}")).await?;
            let title = w.title().await?;
            assert!(!title.to_lowercase().contains("not found") && !title.to_lowercase().contains("error"), "{path}: {title}");
            shot(&w, 1280, name).await?;
            shot(&w, 375, name).await?;
            // At phone width every section's tab is on screen, the current one included.
            let hidden = js(
                &w,
                "return [...document.querySelectorAll('.bo-nav a')].filter(a => { const r = a.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth; }).map(a => a.textContent.trim());",
            )
            .await;
            assert_eq!(hidden, json!([]), "{path}: tabs out of view at 375px");
        }
        // The disputed order's own page, with its timeline and the settlement forms.
        w.set_window_rect(0, 0, 1280, 900).await?;
        w.goto(format!("{base}/admin/orders/{disputed}")).await?;
        let text = w.find(thirtyfour::By::Css("body")).await?.text().await?;
        assert!(text.contains("no answer for a week"), "{text}");
        shot(&w, 1280, "admin-order-dispute").await?;
        shot(&w, 375, "admin-order-dispute").await?;
        // The pager works in the browser: the queue's second page.
        w.set_window_rect(0, 0, 1280, 900).await?;
        w.goto(format!("{base}/admin/gigs")).await?;
        w.find(thirtyfour::By::Css("a[rel=next]")).await?.click().await?;
        let rows = w.find_all(thirtyfour::By::Css("[data-key]")).await?.len();
        assert_eq!(rows, 2, "52 gigs: 50, then 2");
        shot(&w, 375, "admin-gigs-page2").await?;
        Ok::<_, thirtyfour::prelude::WebDriverError>(())
    }
    .await;
    let _ = w.quit().await;
    outcome.unwrap();
}
