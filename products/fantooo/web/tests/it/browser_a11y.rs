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

/// The staff side: the back office (dashboard, users, chats and the chat
/// inspector, operators, profiles, analytics, settings) and the operator's
/// waiting room and console.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_pages_pass_axe_in_light_and_dark_at_phone_and_desktop_width() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    let Some(axe) = chrome::axe_source(env!("CARGO_MANIFEST_DIR")) else { return };
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    let (mut user, uid, chat) = crate::chat::user_with_chat(&app, "a11y_reader").await;
    crate::chat::grant(&app.db, uid, 50).await;
    crate::chat::say(&mut user, chat, "Hi there, how is your evening going?").await;
    admin_client(&app, "a11y@fantooo.com", fantooo_domain::AdminRole::SuperAdmin).await;
    crate::browser_staff::operator_holding(&app, "a11yop@fantooo.com", chat).await;
    let base = serve(&app).await;
    let (dir_admin, dir_op) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let admin = browser(&driver_url, dir_admin.path()).await;
    let op = browser(&driver_url, dir_op.path()).await;
    let result = async {
        crate::browser_staff::sign_in(&admin, &base, "/admin-login", "a11y@fantooo.com", "/admin").await?;
        let inspector = format!("/admin/chats/{chat}");
        let pages = [
            "/admin",
            "/admin/users",
            "/admin/chats",
            &inspector,
            "/admin/operators",
            "/admin/profiles",
            "/admin/stats",
            "/admin/settings",
        ]
        .map(String::from);
        let mut found = chrome::axe_sweep(&admin, &base, &pages, &axe).await?;
        crate::browser_staff::sign_in(&op, &base, "/op-login", "a11yop@fantooo.com", "/operator/waiting").await?;
        let pages = ["/op-login", "/admin-login", "/operator/waiting", &format!("/operator/chat/{chat}")].map(String::from);
        found.extend(chrome::axe_sweep(&op, &base, &pages, &axe).await?);
        Ok::<_, WebDriverError>(found)
    }
    .await;
    let _ = admin.quit().await;
    let _ = op.quit().await;
    let found = result.expect("pages checked");
    assert!(found.is_empty(), "axe-core found {} violations:\n{}", found.len(), found.join("\n"));
}
