//! Two people message each other in headless Chromium through the real
//! pages (skipped with a message when Chromium is not installed, a failure
//! with REQUIRE_BROWSER=1): the buyer asks from the gig page, the seller
//! sees the unread badge, answers with a picture; the buyer's page shows
//! the seller typing and the new message live, and the seller's page shows
//! it seen. Both pages are checked at 1280 and 375 px wide, with
//! screenshots saved under the target directory.

use crate::support::{TestApp, PASSWORD};
use crate::uploads::gig;
pub(crate) use platform_testkit::browser::js;
use platform_testkit::browser::{self as chrome};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use thirtyfour::prelude::*;

pub(crate) type Driver = chrome::Chromedriver;

pub(crate) async fn driver() -> Option<Driver> {
    chrome::chromedriver("the messaging browser test").await
}

pub(crate) async fn browser(d: &Driver, profile: &std::path::Path) -> WebDriver {
    let w = chrome::chromium(d.url(), profile, &["--hide-scrollbars"]).await;
    w.set_window_rect(0, 0, 1280, 900).await.unwrap();
    w
}

pub(crate) async fn serve(app: &TestApp) -> SocketAddr {
    platform_testkit::serve(app.router.clone()).await
}

/// Waits (bounded) until `script` returns true.
pub(crate) async fn until(w: &WebDriver, script: &str, what: &str) {
    let started = Instant::now();
    while js(w, script).await != Value::Bool(true) {
        assert!(started.elapsed() < Duration::from_secs(15), "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn sign_in(w: &WebDriver, base: &str, login: &str, next: &str) -> WebDriverResult<()> {
    w.goto(format!("{base}/login?next={next}")).await?;
    w.find(By::Name("login")).await?.send_keys(login).await?;
    w.find(By::Name("password")).await?.send_keys(PASSWORD).await?;
    w.find(By::XPath("//main//button[normalize-space()='Sign in']")).await?.click().await?;
    until(w, &format!("return location.pathname === '{next}';"), "signed in").await;
    Ok(())
}

/// Saves a screenshot at `width` and checks nothing sticks out sideways.
pub(crate) async fn shot(w: &WebDriver, width: u32, name: &str) -> WebDriverResult<()> {
    w.set_window_rect(0, 0, width, 900).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let overflow = js(w, "return document.documentElement.scrollWidth - document.documentElement.clientWidth;").await;
    assert!(overflow.as_i64().unwrap_or(0) <= 0, "{name} at {width}px scrolls sideways by {overflow}px");
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gigstream-screens");
    std::fs::create_dir_all(&dir).unwrap();
    w.screenshot(&dir.join(format!("{name}-{width}.png"))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_message_with_a_picture_typing_and_read_receipts() {
    let Some(d) = driver().await else { return };
    let app = TestApp::new(gigstream_store::Backend::Sqlite).await;
    let base = format!("http://{}", serve(&app).await);
    let seller = app.sign_up("sasha").await;
    app.sign_up("billie").await;
    gig(&app, &seller).await;
    let (pa, pb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let picture = pb.path().join("sketch.png");
    std::fs::write(&picture, include_bytes!("../../assets/test.png")).unwrap();
    let buyer = browser(&d, pa.path()).await;
    let seller_w = browser(&d, pb.path()).await;
    let outcome = async {
        // The buyer asks from the gig page and lands in the conversation.
        let gig_path = "/gigs/i-will-design-a-logo-for-your-shop";
        sign_in(&buyer, &base, "billie", gig_path).await?;
        buyer.find(By::Css("textarea[name=body]")).await?.send_keys("Hello! Can you add my slogan?").await?;
        buyer.find(By::Css("form[action$='/contact'] button")).await?.click().await?;
        until(&buyer, "return location.pathname.startsWith('/messages/');", "the conversation page").await;
        until(&buyer, "return document.querySelector('[data-thread]').dataset.live === '1';", "the buyer's socket").await;

        // The seller's inbox shows one unread; the thread opens live.
        sign_in(&seller_w, &base, "sasha", "/messages").await?;
        let badge = seller_w.find(By::Css("[data-conversation] [data-unread]")).await?.text().await?;
        assert_eq!(badge, "1");
        shot(&seller_w, 1280, "inbox").await?;
        shot(&seller_w, 375, "inbox").await?;
        seller_w.set_window_rect(0, 0, 1280, 900).await?;
        seller_w.find(By::Css("[data-conversation] a")).await?.click().await?;
        until(&seller_w, "return document.querySelector('[data-thread]')?.dataset.live === '1';", "the seller's socket").await;

        // Typing shows on the other side.
        seller_w.find(By::Css("textarea[name=body]")).await?.send_keys("Sure, ").await?;
        until(&buyer, "const t = document.querySelector('[data-typing]'); return !t.hidden && t.textContent === 'sasha is typing…';", "typing shown").await;

        // A message with a picture arrives live; the buyer's open page reads it and the seller sees it seen.
        seller_w.find(By::Css("textarea[name=body]")).await?.send_keys("here is a first sketch").await?;
        seller_w.find(By::Css("input[type=file]")).await?.send_keys(picture.to_str().unwrap()).await?;
        seller_w.find(By::Css("[data-composer] button")).await?.click().await?;
        until(&buyer, "return [...document.querySelectorAll('.bubble')].some(b => b.textContent.includes('Sure, here is a first sketch') && b.querySelector('img'));", "the message with its picture").await;
        until(&buyer, "const i = document.querySelector('.bubble img'); return i.complete && i.naturalWidth === 300;", "the picture loads").await;
        until(&buyer, "return document.querySelector('[data-typing]').hidden;", "typing cleared by the message").await;
        until(&seller_w, "const s = [...document.querySelectorAll('.bubble.mine [data-seen]')]; return s.length === 1 && !s[0].hidden;", "seen").await;

        // Both pages at both widths.
        for w in [1280, 375] {
            shot(&buyer, w, "thread-buyer").await?;
            shot(&seller_w, w, "thread-seller").await?;
        }
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = buyer.quit().await;
    let _ = seller_w.quit().await;
    outcome.unwrap();
}
