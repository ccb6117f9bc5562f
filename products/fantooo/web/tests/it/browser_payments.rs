//! Buying credits in real Chromium against the built-in fake Paystack (the
//! demo's `--payments fake` setup): one tab keeps /credits open while a
//! second tab goes through the hosted checkout; the first tab's balance
//! updates live when the payment lands.

use crate::browser::{browser, start_driver, wait_for_path};
use crate::browser_chat::{ready, register};
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

/// Out of credits in the middle of a chat: the paywall offers the free
/// credit first, its packages start checkout at a tap, the unsent message
/// survives the trip, and paying lands back in the same chat — at phone
/// width and at 1280 px, with screenshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_paywall_keeps_the_users_place_at_phone_and_desktop_width() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = TestApp::with_config(fantooo_store::Backend::Sqlite, |c| c.payments = PaymentsConfig::fake_at(addr)).await;
    spec_packages(&app.db).await;
    crate::chat::flat_pricing(&app.db).await;
    crate::chat::make_profile(&app.db, "Neema", false).await;
    let router = app.router.clone();
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    let base = format!("http://{addr}");
    for (label, width, height) in [("phone", 390, 844), ("desktop", 1280, 900)] {
        let profile = tempfile::tempdir().unwrap();
        let d = browser(&driver_url, profile.path()).await;
        let result = async {
            d.set_window_rect(0, 0, width, height).await?;
            register(&d, &base, &format!("payer_{label}")).await?;
            ready(&d, By::Css("a.profile-link")).await?.click().await?;
            ready(&d, By::XPath("//button[contains(., 'Message Neema')]")).await?.click().await?;
            d.query(By::Css("#chat[data-live='1']")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
            let chat_path = d.current_url().await?.path().to_string();
            for n in 1..=3 {
                ready(&d, By::Id("content")).await?.send_keys(format!("Free one {n}")).await?;
                ready(&d, By::Id("send")).await?.click().await?;
                d.query(By::XPath(format!("//li[contains(@class,'msg-mine') and @data-seq][p[text()='Free one {n}']]")))
                    .wait(Duration::from_secs(10), Duration::from_millis(100))
                    .first()
                    .await?;
            }
            ready(&d, By::Id("content")).await?.send_keys("Worth paying for").await?;
            ready(&d, By::Id("send")).await?.click().await?;
            let dialog = d.find(By::Id("buy-credits")).await?;
            dialog.wait_until().displayed().await?;
            // The free credit is offered before the packages.
            let text = dialog.text().await?;
            let (free, pack) = (text.find("Claim today's 1 free credits"), text.find("50 credits"));
            assert!(free.is_some() && pack.is_some() && free < pack, "{label}: {text}");
            crate::browser::shot(&d, &format!("paywall-{label}")).await;

            // Reloading keeps the draft (the dialog comes back with the page's state).
            d.goto(format!("{base}{chat_path}")).await?;
            let content = ready(&d, By::Id("content")).await?;
            assert_eq!(content.value().await?.as_deref(), Some("Worth paying for"), "{label}: the draft survives a reload");

            // Out of credits again; tap the 50 pack in the dialog.
            ready(&d, By::Id("send")).await?.click().await?;
            let dialog = d.find(By::Id("buy-credits")).await?;
            dialog.wait_until().displayed().await?;
            let pack = d.find(By::XPath("//dialog[@id='buy-credits']//button[contains(., '50 credits')]")).await?;
            d.execute("arguments[0].scrollIntoView({block: 'center'})", vec![pack.to_json()?]).await?;
            pack.click().await?;
            for _ in 0..100 {
                if d.current_url().await?.path().starts_with("/fake-paystack/checkout/") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(d.current_url().await?.path().starts_with("/fake-paystack/checkout/"), "{label}: at the hosted checkout");
            d.find(By::Id("pay")).await?.click().await?;
            wait_for_path(&d, &chat_path).await;
            assert!(d.current_url().await?.query().unwrap_or("").contains("added=50"), "{label}");
            let notice = d.find(By::Id("chat-notice")).await?;
            assert!(notice.text().await?.contains("50 credits added"), "{label}");
            assert_eq!(ready(&d, By::Id("content")).await?.value().await?.as_deref(), Some("Worth paying for"), "{label}: draft kept");
            crate::browser::shot(&d, &format!("paywall-back-{label}")).await;
            // And now it sends.
            ready(&d, By::Id("send")).await?.click().await?;
            d.query(By::XPath("//li[contains(@class,'msg-mine') and @data-seq][p[text()='Worth paying for']]"))
                .wait(Duration::from_secs(10), Duration::from_millis(100))
                .first()
                .await?;
            Ok::<_, WebDriverError>(())
        }
        .await;
        // On a failure, say where the page stood: its path, its toasts,
        // its last message and whether the dialog is open (and keep a
        // screenshot), so a timed-out wait tells what the user saw.
        let seen = match &result {
            Ok(()) => String::new(),
            Err(_) => {
                crate::browser::shot(&d, &format!("paywall-failed-{label}")).await;
                d.execute(
                    "var t = document.querySelector('.toast-region'), l = document.querySelector('#messages li:last-child'),
                         g = document.getElementById('buy-credits');
                     return [location.pathname + location.search, 'toasts: ' + (t ? t.innerText : ''),
                             'last: ' + (l ? l.className + ' ' + l.innerText : ''), 'dialog open: ' + !!(g && g.open)].join(' | ');",
                    vec![],
                )
                .await
                .map(|r| r.json().to_string())
                .unwrap_or_else(|e| format!("(the page could not be read: {e})"))
            }
        };
        let _ = d.quit().await;
        result.unwrap_or_else(|e| panic!("{label}: {e}; the page: {seen}"));
    }
}
