//! Accessibility in real Chromium: axe-core, the engine Lighthouse runs,
//! finds no WCAG 2 A or AA violation (contrast, names, labels, landmarks…)
//! on the signed-out pages and a seller's pages, in the light and the dark
//! scheme, at phone and desktop width.

use crate::browser::{browser, driver, serve, sign_in};
use crate::support::TestApp;
use crate::uploads::gig;
use platform_testkit::browser as chrome;
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_and_seller_pages_pass_axe_in_light_and_dark_at_phone_and_desktop_width() {
    let Some(d) = driver().await else { return };
    let Some(axe) = chrome::axe_source(env!("CARGO_MANIFEST_DIR")) else { return };
    let app = TestApp::new(gigstream_store::Backend::Sqlite).await;
    let base = format!("http://{}", serve(&app).await);
    let seller = app.sign_up("sasha").await;
    gig(&app, &seller).await;
    let profile = tempfile::tempdir().unwrap();
    let w = browser(&d, profile.path()).await;
    let result = async {
        let gig_path = "/gigs/i-will-design-a-logo-for-your-shop";
        let public = ["/", "/search?q=logo", gig_path, "/u/sasha", "/login", "/signup", "/terms", "/privacy"].map(String::from);
        let mut found = chrome::axe_sweep(&w, &base, &public, &axe).await?;
        sign_in(&w, &base, "sasha", "/dashboard").await?;
        let seller = [
            "/dashboard",
            "/dashboard/buying",
            "/gigs/new",
            "/messages",
            "/notifications",
            "/wallet",
            "/invoices",
            "/account",
            "/profile",
            "/settings/notifications",
        ]
        .map(String::from);
        found.extend(chrome::axe_sweep(&w, &base, &seller, &axe).await?);
        Ok::<_, WebDriverError>(found)
    }
    .await;
    let _ = w.quit().await;
    let found = result.expect("pages checked");
    assert!(found.is_empty(), "axe-core found {} violations:\n{}", found.len(), found.join("\n"));
}
