//! Online status in headless Chromium (skipped when Chromium is missing, a
//! failure with REQUIRE_BROWSER=1): the buyer has the conversation open; the
//! seller's dot turns on, without a reload, when the seller opens any page
//! of the site, and off ("Last seen just now") once the seller's page is
//! closed — the page closes its socket when it is hidden, so nothing waits
//! for a timeout. On every store under test.

use crate::browser::{browser, driver, js, shot, sign_in, until};
use crate::support::{backends, TestApp};
use crate::uploads::gig;
use axum::http::{Method, StatusCode};
use serde_json::json;
use thirtyfour::prelude::*;

const DOT: &str = "document.querySelector('[data-presence]')";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dot_turns_on_when_the_other_opens_the_site_and_off_when_they_close_it() {
    let Some(d) = driver().await else { return };
    for backend in backends() {
        let (app, base) = TestApp::served(backend).await;
        let seller = app.sign_up("sasha").await;
        let buyer_token = app.sign_up("billie").await;
        let gig_id = gig(&app, &seller).await;
        let (s, v) =
            app.call(Method::POST, "/api/v1/conversations", Some(&buyer_token), Some(json!({ "gig": gig_id, "body": "Hi!" }))).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let thread = format!("/messages/{}", v["conversation"]["id"].as_str().unwrap());
        let (pa, pb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let buyer = browser(&d, pa.path()).await;
        let seller_w = browser(&d, pb.path()).await;
        let outcome = async {
            sign_in(&buyer, &base, "billie", &thread).await?;
            until(&buyer, "return document.querySelector('[data-thread]').dataset.live === '1';", "the buyer's socket").await;
            assert_eq!(js(&buyer, &format!("return {DOT}.className;")).await, "presence");
            assert_eq!(js(&buyer, &format!("return {DOT}.textContent;")).await, "Offline");
            js(&buyer, "window.samePage = true; return null;").await;

            // The seller opens the site (the dashboard, not the conversation).
            sign_in(&seller_w, &base, "sasha", "/dashboard").await?;
            until(&buyer, &format!("return {DOT}.classList.contains('online') && {DOT}.textContent === 'Online';"), "the dot turns on")
                .await;
            let dot = js(&buyer, &format!("return getComputedStyle({DOT}, '::before').backgroundColor;")).await;
            assert_ne!(dot, "rgba(0, 0, 0, 0)", "a visible dot");
            shot(&buyer, 375, "presence-online").await?;
            shot(&buyer, 1280, "presence-online").await?;

            // The seller moves to another page: still online.
            seller_w.goto(format!("{base}/messages")).await?;
            until(&seller_w, "return document.readyState === 'complete';", "the seller's inbox").await;
            tokio::time::sleep(std::time::Duration::from_millis(gigstream_domain::presence::OFFLINE_GRACE_MS + 1000)).await;
            assert_eq!(js(&buyer, &format!("return {DOT}.textContent;")).await, "Online");

            // The seller closes the page: the dot turns off on the buyer's open page.
            seller_w.goto("about:blank").await?;
            until(
                &buyer,
                &format!("return !{DOT}.classList.contains('online') && {DOT}.textContent === 'Last seen just now';"),
                "the dot turns off",
            )
            .await;
            assert_eq!(js(&buyer, "return window.samePage === true;").await, true, "no reload on the buyer's side");
            shot(&buyer, 1280, "presence-offline").await?;
            Ok::<_, WebDriverError>(())
        }
        .await;
        let _ = buyer.quit().await;
        let _ = seller_w.quit().await;
        outcome.unwrap();
    }
}
