//! Buying credits in real Chromium against the built-in fake Paystack (the
//! demo's `--payments fake` setup): one tab keeps /credits open while a
//! second tab goes through the hosted checkout; the first tab's balance
//! updates live when the payment lands.

use crate::browser::{browser, start_driver, wait_for_path};
use crate::browser_chat::register;
use crate::payments::spec_packages;
use crate::support::*;
use fantooo_web::config::PaymentsConfig;
use std::time::Duration;
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buying_50_credits_through_the_fake_checkout_updates_the_balance_live() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    // The fake lives inside the app, so the app must know its own address.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = TestApp::with_config(fantooo_store::Backend::Sqlite, |c| c.payments = PaymentsConfig::fake_at(addr)).await;
    spec_packages(&app.db).await;
    let router = app.router.clone();
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    let base = format!("http://{addr}");
    let profile = tempfile::tempdir().unwrap();
    let d = browser(&driver_url, profile.path()).await;
    let result = async {
        register(&d, &base, "kamau").await?;
        d.goto(format!("{base}/credits")).await?;
        d.query(By::Css("#credits[data-live='1']")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
        assert_eq!(d.find(By::Css("[data-credits]")).await?.text().await?, "0");
        let watching = d.window().await?;

        // A second tab buys the 50 pack through the hosted checkout.
        let buying = d.new_tab().await?;
        d.switch_to_window(buying).await?;
        d.goto(format!("{base}/credits")).await?;
        d.find(By::Css("button[data-buy='50']")).await?.click().await?;
        for _ in 0..100 {
            if d.current_url().await?.path().starts_with("/fake-paystack/checkout/") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(d.current_url().await?.path().starts_with("/fake-paystack/checkout/"), "at the hosted checkout");
        assert!(d.find(By::Tag("h1")).await?.text().await?.contains("KES 400.00"));
        d.find(By::Id("pay")).await?.click().await?;
        wait_for_path(&d, "/credits/return").await;
        assert_eq!(d.find(By::Tag("h1")).await?.text().await?, "50 credits added");

        // The first tab was never reloaded; the balance arrived over its socket.
        d.switch_to_window(watching).await?;
        let pill = d.find(By::Css("[data-credits]")).await?;
        for _ in 0..100 {
            if pill.text().await? == "50" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(pill.text().await?, "50");
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = d.quit().await;
    result.expect("browser purchase flow");
    let t = fantooo_store::stats::recent_transactions(&app.db, 1).await.unwrap();
    assert_eq!((t[0].status.as_str(), t[0].webhook_received_count), ("success", 1), "credited by the signed webhook, verified on return");
    crate::chat::assert_books_balance(&app.db).await;
}
