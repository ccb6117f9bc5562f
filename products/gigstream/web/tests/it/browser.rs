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

/// Waits (bounded by `secs`) until `script` returns true.
async fn until_within(w: &WebDriver, secs: u64, script: &str, what: &str) {
    let started = Instant::now();
    while js(w, script).await != Value::Bool(true) {
        assert!(started.elapsed() < Duration::from_secs(secs), "never: {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The buyer sends a PDF and a video (a QuickTime clip made by ffmpeg here)
/// in one message while the seller has the thread open: the seller sees the
/// typing, the message arrives live with the document and the video waiting
/// for its conversion, the buyer sees it seen; once converted the seller's
/// page swaps in a player with its poster, and the video plays. The poster
/// and the MP4 come with their types, and the MP4 in ranges (206 with
/// Content-Range), as the browser fetches them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_message_with_a_document_and_a_video_that_plays() {
    let Some(mov) = crate::videos::clip() else { return };
    let Some(d) = driver().await else { return };
    let (app, base) = TestApp::served(gigstream_store::Backend::Sqlite).await;
    let seller = app.sign_up("sasha").await;
    let buyer_token = app.sign_up("billie").await;
    let gig_id = gig(&app, &seller).await;
    let body = serde_json::json!({ "gig": gig_id, "body": "Hello! I have a clip for you." });
    let (s, v) = app.call(axum::http::Method::POST, "/api/v1/conversations", Some(&buyer_token), Some(body)).await;
    assert_eq!(s, axum::http::StatusCode::CREATED, "{v}");
    let thread = format!("/messages/{}", v["conversation"]["id"].as_str().unwrap());
    let (pa, pb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (brief, clip) = (pa.path().join("brief.pdf"), pa.path().join("raw-cut.mov"));
    std::fs::write(&brief, b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n").unwrap();
    std::fs::write(&clip, &mov).unwrap();
    let buyer = browser(&d, pa.path()).await;
    let seller_w = browser(&d, pb.path()).await;
    let outcome = async {
        sign_in(&buyer, &base, "billie", &thread).await?;
        sign_in(&seller_w, &base, "sasha", &thread).await?;
        for w in [&buyer, &seller_w] {
            until(w, "return document.querySelector('[data-thread]').dataset.live === '1';", "the socket").await;
        }

        // The buyer types: the seller sees it.
        let text = buyer.find(By::Css("textarea[name=body]")).await?;
        text.send_keys("Here is the brief and the raw cut").await?;
        until(&seller_w, "const t = document.querySelector('[data-typing]'); return !t.hidden && t.textContent === 'billie is typing…';", "typing shown").await;

        // One message with both files; the seller's page gets it live.
        let files = format!("{}\n{}", brief.display(), clip.display());
        buyer.find(By::Css("input[type=file]")).await?.send_keys(files).await?;
        buyer.find(By::Css("[data-composer] button")).await?.click().await?;
        until(&seller_w, "return [...document.querySelectorAll('.bubble')].some(b => b.textContent.includes('Here is the brief and the raw cut') && b.querySelector('a.doc') && b.querySelector('.msg-video'));", "the message with its files").await;
        assert_eq!(js(&seller_w, "return document.querySelector('.bubble a.doc').getAttribute('download');").await, "brief.pdf");
        until(&buyer, "const s = [...document.querySelectorAll('.bubble.mine [data-seen]')]; return s.length === 2 && s.every(e => !e.hidden);", "seen by the seller").await;
        let doc = js(&seller_w, "return fetch(document.querySelector('.bubble a.doc').href).then(r => r.status + ' ' + r.headers.get('content-type'));").await;
        assert_eq!(doc, "200 application/pdf");

        // Converted in the background; the open page swaps in the player.
        until_within(&seller_w, 120, "return !!document.querySelector('video[data-video=ready]');", "the converted video").await;
        let poster = js(&seller_w, "return document.querySelector('video[data-video=ready]').poster;").await;
        assert!(poster.as_str().is_some_and(|p| p.contains("/media/messages/videos/")), "{poster}");
        let got = js(&seller_w, "const v = document.querySelector('video[data-video=ready]'); return Promise.all([fetch(v.poster), fetch(v.src, { headers: { Range: 'bytes=0-99' } })]).then(([p, m]) => [p.status, p.headers.get('content-type'), m.status, m.headers.get('content-type'), m.headers.get('content-range')]);").await;
        assert_eq!((&got[0], &got[1], &got[2], &got[3]), (&Value::from(200), &Value::from("image/jpeg"), &Value::from(206), &Value::from("video/mp4")), "{got}");
        assert!(got[4].as_str().is_some_and(|r| r.starts_with("bytes 0-99/")), "{got}");

        // It plays: frames of the clip's size, time moving.
        js(&seller_w, "const v = document.querySelector('video[data-video=ready]'); v.muted = true; v.play(); return null;").await;
        until_within(&seller_w, 30, "const v = document.querySelector('video[data-video=ready]'); return v.videoWidth === 320 && v.currentTime > 0.3;", "the video plays").await;
        js(&seller_w, "document.querySelector('video[data-video=ready]').pause(); return null;").await;
        for w in [1280, 375] {
            shot(&seller_w, w, "thread-video-seller").await?;
            shot(&buyer, w, "thread-video-buyer").await?;
        }
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = buyer.quit().await;
    let _ = seller_w.quit().await;
    outcome.unwrap();
}
