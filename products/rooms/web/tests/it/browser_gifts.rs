//! Two headless Chromium through the economy's pages (screenshots in
//! `target/screenshots/rooms-gifts-*.png`, 375 px and 1280 px): a fan buys
//! coins on `/coins` through the fake Paystack's hosted checkout, opens the
//! room and sends a gift to the seat holder from the gift panel; the seat
//! holder's open room page plays the animation and its diamond count rises
//! live, and an open leaderboard page moves without reloading. Skipped
//! without Chromium.

use crate::browser_pages::{shot, sign_in, until};
use crate::chrome::{chromedriver, chromium, js};
use crate::support::{id_of, scene, TestApp};
use axum::http::StatusCode;
use chrono::Utc;
use rooms_store::economy::{self, NewPackage};
use rooms_store::gifts;
use rooms_web::economy::Economy;
use serde_json::json;
use std::sync::Arc;
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bought_gift_reaches_the_receiver_live_at_both_widths() {
    let Some(driver) = chromedriver().await else { return };
    let site = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", site.local_addr().unwrap());
    let secret = platform_payments::fake::FakePaystack::random_secret();
    let app = TestApp::with_state(rooms_store::Backend::Sqlite, |s| s.economy = Arc::new(Economy::fake(&secret, &base, None))).await;
    platform_testkit::serve_on(site, app.router.clone());

    // A room whose owner is in it, a seat holder who is an agency member
    // (so her share is paid in diamonds), a fan with no coins yet, and a
    // gift of 50 coins.
    let now = Utc::now();
    let mut s = scene(&app, 50).await;
    let owner_id = id_of(&mut s.owner).await;
    let (room, star_id, mut fan) = (s.room, s.star_id, s.fan);
    let agency = gifts::create_agency(&app.db, "Stars", owner_id, now).await.unwrap();
    gifts::join_agency(&app.db, agency, star_id, now).await.unwrap();
    let package = NewPackage { name: "Starter", coins: 500, bonus_coins: 20, price_minor: 199, currency: "USD", countries: &[], sort: 0 };
    economy::create_package(&app.db, &package, now).await.unwrap();

    let (p1, p2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sender = chromium(&driver, p1.path()).await;
    let receiver = chromium(&driver, p2.path()).await;
    let outcome = async {
        // The receiver watches the room on a wide screen, the sender is on a phone.
        receiver.set_window_rect(0, 0, 1280, 900).await?;
        sign_in(&receiver, &base, "star@example.com").await?;
        receiver.goto(format!("{base}/rooms/{room}")).await?;
        until(&receiver, "const b = document.getElementById('gift-diamonds'); return !!b && b.textContent === '0';", "the receiver's diamonds")
            .await;

        sender.set_window_rect(0, 0, 375, 812).await?;
        sign_in(&sender, &base, "fan@example.com").await?;
        sender.goto(format!("{base}/coins")).await?;
        assert_eq!(sender.find(By::Id("coin-balance")).await?.text().await?, "0");
        shot(&sender, "gifts-coins-375").await;
        sender.find(By::Css(".packages button.btn")).await?.click().await?;
        // The provider's hosted checkout page, then back to the site.
        until(&sender, "return !!document.getElementById('pay');", "the provider's checkout page").await;
        sender.find(By::Id("pay")).await?.click().await?;
        until(&sender, "return location.pathname === '/coins' && location.search.includes('notice=');", "back from checkout").await;
        until(&sender, "return document.getElementById('coin-balance').textContent === '520';", "520 coins bought").await;
        shot(&sender, "gifts-bought-375").await;

        sender.goto(format!("{base}/rooms/{room}")).await?;
        until(&sender, "return document.querySelectorAll('#gifts .gift-list button').length > 0 && document.getElementById('gift-coins').textContent === '520';", "the gift panel").await;
        until(&sender, &format!("return [...document.querySelectorAll('#gifts select option')].some((o) => o.value === '{star_id}');"), "the seat holder as a recipient").await;
        sender.execute(&format!("const s = document.querySelector('#gifts select'); s.value = '{star_id}';"), vec![]).await?;
        shot(&sender, "gifts-panel-375").await;
        sender.find(By::Css("#gifts form.gift-send button")).await?.click().await?;
        until(&sender, "return document.getElementById('gift-coins').textContent === '470';", "the sender's coins after the gift").await;

        // The receiver's page: the animation plays and the diamonds rise.
        until(&receiver, "return !!document.querySelector('#gift-fx .burst img');", "the gift animation on the receiver's page").await;
        let line = js(&receiver, "return document.querySelector('#gift-fx p').textContent;").await;
        assert_eq!(line, "fan Person sent Heart to star Person", "{line}");
        shot(&receiver, "gifts-received-1280").await;
        until(&receiver, "return document.getElementById('gift-diamonds').textContent === '35';", "35 diamonds (70 % of 50)").await;
        receiver.set_window_rect(0, 0, 375, 812).await?;
        shot(&receiver, "gifts-received-375").await;
        until(&sender, "return !!document.querySelector('#gift-log li');", "the sender's gift log").await;
        sender.set_window_rect(0, 0, 1280, 900).await?;
        shot(&sender, "gifts-sent-1280").await;

        // An open leaderboard moves with the next gift, without a reload.
        receiver.goto(format!("{base}/leaderboards?board=charm&period=daily")).await?;
        until(&receiver, "return document.querySelector('#board .amount') && document.querySelector('#board .amount').textContent === '50';", "the charm board").await;
        js(&receiver, "window.notReloaded = true; return true;").await;
        let r = fan.post(&format!("/api/v1/rooms/{room}/gifts"), json!({"gift_id": js(&sender, "return document.querySelector('#gifts .gift-list button').dataset.gift;").await, "to": star_id, "idempotency_key": "second"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        until(&receiver, "return window.notReloaded === true && document.querySelector('#board .amount').textContent === '100';", "the board moved live").await;
        shot(&receiver, "gifts-board-375").await;
        receiver.set_window_rect(0, 0, 1280, 900).await?;
        shot(&receiver, "gifts-board-1280").await;
        Ok::<(), WebDriverError>(())
    }
    .await;
    sender.quit().await.ok();
    receiver.quit().await.ok();
    outcome.unwrap();
    assert!(rooms_store::check::run(&app.db).await.unwrap().is_empty());
}
