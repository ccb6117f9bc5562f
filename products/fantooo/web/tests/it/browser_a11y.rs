//! Accessibility in real Chromium: axe-core, the engine Lighthouse runs,
//! finds no WCAG 2 A or AA violation (contrast, names, labels, landmarks…)
//! on the public pages and the user's pages, in the light and the dark
//! scheme, at phone and desktop width.

use crate::browser::{browser, serve, start_driver};
use crate::browser_chat::{ready, register};
use crate::chat::{flat_pricing, make_profile};
use crate::payments::spec_packages;
use crate::support::*;
use platform_testkit::browser as chrome;
use std::time::Duration;
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_and_user_pages_pass_axe_in_light_and_dark_at_phone_and_desktop_width() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    let Some(axe) = chrome::axe_source(env!("CARGO_MANIFEST_DIR")) else { return };
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    spec_packages(&app.db).await;
    flat_pricing(&app.db).await;
    make_profile(&app.db, "Neema", true).await;
    let base = serve(&app).await;
    let profile = tempfile::tempdir().unwrap();
    let d = browser(&driver_url, profile.path()).await;
    let result = async {
        let public = ["/", "/login", "/get-started", "/forgot-password", "/terms", "/privacy"].map(String::from);
        let mut found = chrome::axe_sweep(&d, &base, &public, &axe).await?;

        register(&d, &base, "auditor").await?;
        ready(&d, By::Css("a.profile-link")).await?.click().await?;
        let profile_path = d.current_url().await?.path().to_string();
        ready(&d, By::XPath("//button[contains(., 'Message Neema')]")).await?.click().await?;
        d.query(By::Css("#chat[data-live='1']")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
        let chat_path = d.current_url().await?.path().to_string();
        let user = ["/discover", &profile_path, "/chats", &chat_path, "/credits", "/me"].map(String::from);
        found.extend(chrome::axe_sweep(&d, &base, &user, &axe).await?);
        Ok::<_, WebDriverError>(found)
    }
    .await;
    let _ = d.quit().await;
    let found = result.expect("pages checked");
    assert!(found.is_empty(), "axe-core found {} violations:\n{}", found.len(), found.join("\n"));
}
