//! Accessibility in real Chromium: axe-core, the engine Lighthouse runs,
//! finds no WCAG 2 A or AA violation (contrast, names, labels, landmarks…)
//! on the signed-out pages and a member's pages, in the light and the dark
//! scheme, at phone and desktop width.

use crate::browser_pages::sign_in;
use crate::chrome::{chromedriver, chromium};
use crate::support::{scene, TestApp};
use platform_testkit::browser as chrome;
use std::net::SocketAddr;
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_and_member_pages_pass_axe_in_light_and_dark_at_phone_and_desktop_width() {
    let Some(driver) = chromedriver().await else { return };
    let Some(axe) = chrome::axe_source(env!("CARGO_MANIFEST_DIR")) else { return };
    let app = TestApp::new(rooms_store::Backend::Sqlite).await;
    let s = scene(&app, 10).await;
    let site = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", site.local_addr().unwrap());
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(site, router.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap() });
    let profile = tempfile::tempdir().unwrap();
    let d = chromium(&driver, profile.path()).await;
    let result = async {
        let public = ["/signin", "/signup", "/reset"].map(String::from);
        let mut found = chrome::axe_sweep(&d, &base, &public, &axe).await?;
        sign_in(&d, &base, "fan@example.com").await?;
        let room = format!("/rooms/{}", s.room);
        let member =
            ["/", &room, "/rooms/new", "/coins", "/frames", "/levels", "/vip", "/leaderboards", "/messages", "/agencies"].map(String::from);
        found.extend(chrome::axe_sweep(&d, &base, &member, &axe).await?);
        Ok::<_, WebDriverError>(found)
    }
    .await;
    let _ = d.quit().await;
    let found = result.expect("pages checked");
    assert!(found.is_empty(), "axe-core found {} violations:\n{}", found.len(), found.join("\n"));
}
