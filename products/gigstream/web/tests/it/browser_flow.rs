//! The marketplace end to end in headless Chromium through the real pages:
//! a buyer finds a gig by search, orders its basic package and pays on the
//! fake Stripe's checkout page, answers the requirements; the seller
//! delivers a file, the buyer asks for a revision, the seller delivers
//! again and the buyer accepts. The seller's wallet shows the earnings
//! pending, the clearance job (run here with the clock moved past the
//! clearance period) makes them available, and the seller withdraws them
//! through the fake Stripe's Connect transfers and sees the withdrawal
//! paid. Each step is checked on what the pages show; screenshots at 1280
//! and 375 px are saved under the target directory.

use crate::browser::{browser, driver, js, shot, sign_in, until};
use crate::flow::gig_body;
use crate::support::TestApp;
use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use thirtyfour::prelude::*;

/// The text of the first element matching `css`.
async fn text(w: &WebDriver, css: &str) -> WebDriverResult<String> {
    w.find(By::Css(css)).await?.text().await
}

/// The texts of every element matching `css`.
async fn texts(w: &WebDriver, css: &str) -> WebDriverResult<Vec<String>> {
    let mut out = vec![];
    for e in w.find_all(By::Css(css)).await? {
        out.push(e.text().await?);
    }
    Ok(out)
}

/// The wallet's four figures: available, pending, being withdrawn, withdrawn.
async fn balances(w: &WebDriver) -> WebDriverResult<Vec<String>> {
    texts(w, ".wallet-stats .big").await
}

/// Clicks the button whose text is `label` and waits for the next page.
async fn press(w: &WebDriver, label: &str) -> WebDriverResult<()> {
    js(w, "window.leaving = true; return null;").await;
    w.find(By::XPath(format!("//main//button[normalize-space()='{label}']"))).await?.click().await?;
    until(w, "return window.leaving === undefined && document.readyState === 'complete';", label).await;
    Ok(())
}

/// Reloads and waits for the page.
async fn reload(w: &WebDriver) -> WebDriverResult<()> {
    w.refresh().await?;
    until(w, "return document.readyState === 'complete';", "the page loads").await;
    Ok(())
}

async fn both_widths(w: &WebDriver, name: &str) -> WebDriverResult<()> {
    shot(w, 375, name).await?;
    shot(w, 1280, name).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_order_pay_deliver_revise_accept_clear_and_withdraw() {
    let Some(d) = driver().await else { return };
    let (app, base) = TestApp::served(gigstream_store::Backend::Sqlite).await;
    let seller = app.sign_up("sasha").await;
    app.sign_up("billie").await;
    let admin = app.admin("ops").await;
    let (s, v) =
        app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig_body("I will design a minimalist logo for your brand"))).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // A second gig the search must leave out.
    let mut other = gig_body("I will write a product description for your shop");
    other["tags"] = "copywriting".into();
    other["description"] = "<p>Product pages in words that sell, written for your shop.</p>".into();
    let (s, v) = app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(other)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    let (pa, pb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let files = tempfile::tempdir().unwrap();
    let (first, second) = (files.path().join("logo-v1.png"), files.path().join("logo-v2.png"));
    for f in [&first, &second] {
        std::fs::write(f, include_bytes!("../../assets/test.png")).unwrap();
    }
    let buyer = browser(&d, pa.path()).await;
    let seller_w = browser(&d, pb.path()).await;
    let outcome = async {
        // The buyer searches from the header (one word misspelt) and finds the gig.
        sign_in(&buyer, &base, "billie", "/").await?;
        let q = buyer.find(By::Css("header input[name=q]")).await?;
        q.send_keys("minimal logo").await?;
        q.send_keys(Key::Enter).await?;
        until(&buyer, "return location.pathname === '/search' && document.readyState === 'complete';", "the results").await;
        let head = text(&buyer, ".results-head p").await?;
        assert_eq!(head, "1 service for “minimal logo”");
        assert_eq!(texts(&buyer, ".card-title").await?, ["I will design a minimalist logo for your brand"]);
        let facets = texts(&buyer, ".facets summary").await?;
        assert!(facets.iter().any(|f| f == "Category"), "{facets:?}");
        both_widths(&buyer, "flow-search").await?;

        // The gig page; the basic package is ordered.
        buyer.find(By::Css(".card-link")).await?.click().await?;
        until(&buyer, "return location.pathname.startsWith('/gigs/');", "the gig page").await;
        assert_eq!(text(&buyer, "h1").await?, "I will design a minimalist logo for your brand");
        both_widths(&buyer, "flow-gig").await?;
        press(&buyer, "Continue ($100.00)").await?;
        let order_path = js(&buyer, "return location.pathname;").await.as_str().unwrap().to_string();
        assert!(order_path.starts_with("/orders/"), "{order_path}");
        assert_eq!(text(&buyer, "main .badge").await?, "Awaiting payment");
        assert_eq!(text(&buyer, "#pay h2").await?, "Pay $105.00 into escrow");
        both_widths(&buyer, "flow-order-placed").await?;

        // Paid on the fake Stripe's hosted page; back on the order, the money is in escrow.
        buyer.find(By::Css("#pay input[value=stripe]")).await?.click().await?;
        press(&buyer, "Pay $105.00").await?;
        assert!(js(&buyer, "return location.pathname;").await.as_str().unwrap().starts_with("/fake-stripe/c/pay/cs_test_"));
        assert_eq!(text(&buyer, "h1").await?, "Pay USD 105.00");
        both_widths(&buyer, "flow-stripe-checkout").await?;
        buyer.find(By::Id("pay")).await?.click().await?;
        until(&buyer, &format!("return location.pathname === '{order_path}' && document.readyState === 'complete';"), "back on the order")
            .await;
        assert_eq!(text(&buyer, "main .badge").await?, "Awaiting requirements");
        let timeline = texts(&buyer, ".timeline li strong").await?;
        assert_eq!(timeline, ["Order placed", "Payment received; the money is held in escrow"]);
        assert!(buyer.find_all(By::Css("#pay")).await?.is_empty(), "no second payment is offered");

        // The buyer answers the requirements; the work starts.
        buyer.find(By::Css("textarea[name=answers]")).await?.send_keys("Acme Bakery, warm and friendly").await?;
        press(&buyer, "Submit and start the order").await?;
        assert_eq!(text(&buyer, "main .badge").await?, "In progress");
        assert_eq!(texts(&buyer, "main dd").await?, ["Acme Bakery, warm and friendly"]);
        let invoice = text(&buyer, ".invoice-link").await?;
        assert!(invoice.starts_with("Invoice ") && invoice.ends_with("(PDF)"), "{invoice}");

        // The seller sees the answers and delivers a file.
        sign_in(&seller_w, &base, "sasha", &order_path).await?;
        assert_eq!(text(&seller_w, "main .badge").await?, "In progress");
        assert_eq!(texts(&seller_w, "main dd").await?, ["Acme Bakery, warm and friendly"]);
        seller_w.find(By::Css("textarea[name=message]")).await?.send_keys("First concepts attached").await?;
        seller_w.find(By::Css("input[type=file][name=files]")).await?.send_keys(first.to_str().unwrap()).await?;
        press(&seller_w, "Deliver").await?;
        assert_eq!(text(&seller_w, "main .badge").await?, "Delivered");
        assert_eq!(texts(&seller_w, "main .card-box li a").await?, ["logo-v1.png"]);
        both_widths(&seller_w, "flow-delivered-seller").await?;

        // The buyer opens the delivered file and asks for a revision.
        reload(&buyer).await?;
        assert_eq!(text(&buyer, "main .badge").await?, "Delivered");
        let href = buyer.find(By::LinkText("logo-v1.png")).await?.attr("href").await?.unwrap();
        let fetched = js(&buyer, &format!("return fetch('{href}').then(r => r.status + ' ' + r.headers.get('content-type'));")).await;
        assert_eq!(fetched, "200 image/png");
        assert!(text(&buyer, ".order-layout aside .card-box").await?.contains("Revisions left: 1"));
        buyer.find(By::Css("form[action$='/revision'] textarea")).await?.send_keys("Warmer colours please").await?;
        press(&buyer, "Request a revision").await?;
        assert_eq!(text(&buyer, "main .badge").await?, "Revision requested");
        assert!(text(&buyer, ".order-layout aside .card-box").await?.contains("Revisions left: 0"));

        // The seller delivers again.
        reload(&seller_w).await?;
        assert_eq!(text(&seller_w, "main .badge").await?, "Revision requested");
        assert!(texts(&seller_w, ".timeline q").await?.contains(&"Warmer colours please".to_string()));
        seller_w.find(By::Css("textarea[name=message]")).await?.send_keys("Warmer version").await?;
        seller_w.find(By::Css("input[type=file][name=files]")).await?.send_keys(second.to_str().unwrap()).await?;
        press(&seller_w, "Deliver").await?;
        assert_eq!(text(&seller_w, "main .badge").await?, "Delivered");

        // The buyer has no revision left, and accepts (after the page's confirmation).
        reload(&buyer).await?;
        let files = texts(&buyer, "main .card-box li a").await?;
        assert_eq!(files, ["logo-v1.png", "logo-v2.png"]);
        assert!(buyer.find_all(By::Css("form[action$='/revision']")).await?.is_empty(), "the one revision is used");
        js(&buyer, "window.confirm = () => true; return null;").await;
        press(&buyer, "Accept delivery and release payment").await?;
        assert_eq!(text(&buyer, "main .badge").await?, "Completed");
        let timeline = texts(&buyer, ".timeline li strong").await?;
        assert_eq!(timeline.last().map(String::as_str), Some("Money released to the seller"), "{timeline:?}");
        both_widths(&buyer, "flow-accepted-buyer").await?;

        // The seller's wallet: $100 less the 20% fee, pending until the clearance date.
        seller_w.goto(format!("{base}/wallet")).await?;
        let days = gigstream_web::settings::current(&app.state).await.unwrap().clearance_days;
        assert_eq!(balances(&seller_w).await?, ["$0.00", "$80.00", "$0.00", "$0.00"]);
        let clears = (Utc::now() + Duration::days(i64::from(days))).format("%d %b %Y").to_string();
        let earning = text(&seller_w, ".rows li").await?;
        assert!(earning.contains("$80.00") && earning.ends_with(&format!("pending until {clears}")), "{earning}");
        both_widths(&seller_w, "flow-wallet-pending").await?;

        // The clearance job, a day early (nothing) and once the period has passed.
        let early = Utc::now() + Duration::days(i64::from(days) - 1);
        assert_eq!(gigstream_store::wallet::clear_due(&app.db, early, days).await.unwrap(), 0);
        let due = Utc::now() + Duration::days(i64::from(days)) + Duration::minutes(1);
        assert_eq!(gigstream_store::wallet::clear_due(&app.db, due, days).await.unwrap(), 1);
        reload(&seller_w).await?;
        assert_eq!(balances(&seller_w).await?, ["$80.00", "$0.00", "$0.00", "$0.00"]);
        assert!(text(&seller_w, ".rows li").await?.contains("available since"));

        // A withdrawal over the balance names its field; then $80 to Stripe.
        let form = seller_w.find(By::Id("withdraw")).await?;
        form.find(By::Name("amount")).await?.send_keys("500").await?;
        form.find(By::Css("input[value=stripe]")).await?.click().await?;
        form.find(By::Name("destination")).await?.send_keys("acct_1Sasha").await?;
        press(&seller_w, "Request withdrawal").await?;
        assert_eq!(texts(&seller_w, ".errors li").await?.len(), 1);
        assert_eq!(js(&seller_w, "return document.querySelector('.errors li').dataset.field;").await, "amount");
        assert_eq!(js(&seller_w, "return document.querySelector('input[name=destination]').value;").await, "acct_1Sasha");
        let amount = seller_w.find(By::Name("amount")).await?;
        amount.clear().await?;
        amount.send_keys("80").await?;
        press(&seller_w, "Request withdrawal").await?;
        assert!(seller_w.find_all(By::Css(".errors")).await?.is_empty());
        assert_eq!(balances(&seller_w).await?, ["$0.00", "$0.00", "$80.00", "$0.00"]);
        let line = text(&seller_w, "section .rows:last-of-type li").await?;
        assert!(line.contains("$80.00") && line.contains("to Card (Stripe)") && line.contains("Waiting for approval"), "{line}");

        // An admin approves it; the payout goes through the fake Stripe's Connect transfers.
        let (_, v) = app.call(Method::GET, "/api/v1/wallet", Some(&seller), None).await;
        let w = v["withdrawals"][0]["id"].as_str().unwrap().to_string();
        let (s, v) = app.call(Method::POST, &format!("/api/v1/admin/withdrawals/{w}/approve"), Some(&admin), None).await;
        assert_eq!((s, v["withdrawal"]["status"].as_str()), (StatusCode::OK, Some("paid")), "{v}");
        let transfers = app.fakes().stripe.transfers();
        assert_eq!(transfers.len(), 1, "{transfers:?}");
        assert_eq!((transfers[0]["amount"].as_i64(), transfers[0]["destination"].as_str()), (Some(8_000), Some("acct_1Sasha")));

        // The seller sees it paid.
        reload(&seller_w).await?;
        assert_eq!(balances(&seller_w).await?, ["$0.00", "$0.00", "$0.00", "$80.00"]);
        let line = text(&seller_w, "section .rows:last-of-type li").await?;
        assert!(line.contains("$80.00") && line.contains("to Card (Stripe)") && line.contains("Paid"), "{line}");
        both_widths(&seller_w, "flow-wallet-paid").await?;
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = buyer.quit().await;
    let _ = seller_w.quit().await;
    outcome.unwrap();
    let report = gigstream_store::invariants::check(&app.db).await.unwrap();
    assert!(report.is_clean(), "{:?}", report.violations);
}
