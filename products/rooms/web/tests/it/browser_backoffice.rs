//! Headless Chromium through the back office and the API reference at
//! 375 px and 1280 px, screenshots in `target/screenshots/rooms-bo-*.png`:
//! a super admin signs in, reads the figures, finds a user, adjusts her
//! coins through the form, confirms a suspension, edits the gift catalogue.
//! Skipped without Chromium.

use crate::browser_pages::shot;
use crate::chrome::{chromedriver, chromium, js};
use crate::support::{TestApp, PASSWORD};
use std::net::SocketAddr;
use thirtyfour::prelude::*;

async fn no_overflow(d: &WebDriver, what: &str) {
    let wide = js(d, "return document.documentElement.scrollWidth > window.innerWidth;").await;
    assert_eq!(wide.as_bool(), Some(false), "{what}: nothing wider than the window");
}

/// The page's text once it holds `needle` (a click's navigation may still
/// be under way when the next step starts).
async fn body(d: &WebDriver, needle: &str) -> String {
    let script = format!("return !!document.body && document.body.innerText.includes({});", serde_json::Value::from(needle));
    crate::browser_pages::until(d, &script, needle).await;
    js(d, "return document.body.innerText;").await.as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_back_office_at_phone_and_wide_widths() {
    let Some(driver) = chromedriver().await else { return };
    let app = TestApp::new(rooms_store::Backend::Sqlite).await;
    let mut boss = app.client();
    boss.sign_up("boss@example.com", "boss").await;
    platform_db::on_pool!(&app.db, p => { sqlx::query("UPDATE accounts SET role = 'super_admin' WHERE handle = 'boss'").execute(p).await.unwrap(); });
    app.settled().await;
    let ann = app.client().sign_up("ann@example.com", "ann").await;
    let ann_id = ann["account"]["id"].as_str().unwrap().to_string();
    let site = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", site.local_addr().unwrap());
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(site, router.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap() });

    let profile = tempfile::tempdir().unwrap();
    let d = chromium(&driver, profile.path()).await;
    let outcome = async {
        d.set_window_rect(0, 0, 375, 812).await?;
        d.goto(format!("{base}/signin")).await?;
        d.find(By::Name("login")).await?.send_keys("boss@example.com").await?;
        d.find(By::Name("password")).await?.send_keys(PASSWORD).await?;
        d.find(By::Css("form button.btn")).await?.click().await?;
        crate::browser_pages::until(&d, "return location.pathname !== '/signin';", "signed in").await;
        d.goto(format!("{base}/backoffice")).await?;
        let text = body(&d, "rooms open").await;
        assert!(text.contains("rooms open") && text.contains("database"), "{text}");
        assert_eq!(d.find_all(By::Css("figure.bo-chart svg rect")).await?.len(), 30);
        no_overflow(&d, "overview at 375").await;
        shot(&d, "bo-overview-375").await;

        d.goto(format!("{base}/backoffice/users?q=ann")).await?;
        d.find(By::Css("tr[data-key='ann'] a")).await?.click().await?;
        d.find(By::Name("amount")).await?.send_keys("250").await?;
        d.find(By::Name("reason")).await?.send_keys("welcome bonus").await?;
        d.find(By::XPath("//button[.='Adjust']")).await?.click().await?;
        let text = body(&d, "Adjusted by").await;
        assert!(text.contains("Adjusted by +250 coins: balance 250."), "{text}");
        assert_eq!(d.find(By::Css("[data-balance='coins'] b")).await?.text().await?, "250");
        // Suspension without ticking the confirmation is refused on the page.
        d.find(By::Css("form[action$='/status'] input[name=reason]")).await?.send_keys("spam").await?;
        d.find(By::XPath("//button[.='Apply status']")).await?.click().await?;
        body(&d, "Confirm this action first.").await;
        no_overflow(&d, "user page at 375").await;
        shot(&d, "bo-user-375").await;
        d.find(By::Css("form[action$='/status'] input[name=reason]")).await?.send_keys("spam").await?;
        d.find(By::Css("form[action$='/status'] input[name=confirm]")).await?.click().await?;
        d.find(By::XPath("//button[.='Apply status']")).await?.click().await?;
        body(&d, "Status set to suspended.").await;

        d.goto(format!("{base}/backoffice/gifts/new")).await?;
        d.find(By::Name("code")).await?.send_keys("comet").await?;
        d.find(By::Name("name")).await?.send_keys("Comet").await?;
        d.find(By::Name("price")).await?.clear().await?;
        d.find(By::Name("price")).await?.send_keys("300").await?;
        d.find(By::XPath("//button[.='Save gift']")).await?.click().await?;
        body(&d, "Gift created.").await;
        no_overflow(&d, "gift page at 375").await;
        shot(&d, "bo-gift-375").await;
        d.goto(format!("{base}/backoffice/transactions")).await?;
        no_overflow(&d, "transactions at 375").await;
        shot(&d, "bo-transactions-375").await;
        d.goto(format!("{base}/api/docs")).await?;
        no_overflow(&d, "API reference at 375").await;
        shot(&d, "api-docs-375").await;
        d.goto(format!("{base}/backoffice/exchanges")).await?;
        no_overflow(&d, "exchanges at 375").await;
        shot(&d, "bo-exchanges-375").await;

        d.set_window_rect(0, 0, 1280, 900).await?;
        for (path, name) in [
            ("/backoffice".to_string(), "bo-overview-1280"),
            (format!("/backoffice/users/{ann_id}"), "bo-user-1280"),
            ("/backoffice/users".to_string(), "bo-users-1280"),
            ("/backoffice/gifts".to_string(), "bo-gifts-1280"),
            ("/backoffice/audit".to_string(), "bo-audit-1280"),
            ("/backoffice/exchanges".to_string(), "bo-exchanges-1280"),
            ("/api/docs".to_string(), "api-docs-1280"),
        ] {
            d.goto(format!("{base}{path}")).await?;
            no_overflow(&d, name).await;
            shot(&d, name).await;
        }
        body(&d, "/api/v1/admin/users/{id}/adjust").await;
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = d.quit().await;
    outcome.unwrap();
}
