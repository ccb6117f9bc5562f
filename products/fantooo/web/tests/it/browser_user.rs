//! The user's side in real Chromium, at 1280 px and at phone width, with
//! screenshots kept: replies noticed on another page (the Chats tab's
//! count, the title, the chat list), getting back in with a forgotten
//! password and uploading one's photo, and the picture and emoji tools of
//! the chat and the profile carousel.

use crate::browser::{browser, serve, shot, start_driver, wait_for_path};
use crate::browser_chat::ready;
use crate::chat::{make_profile, say};
use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_domain::ids::ChatId;
use serde_json::json;
use std::time::Duration;
use thirtyfour::prelude::*;

const WIDTHS: [(&str, u32, u32); 2] = [("desktop", 1280, 900), ("phone", 375, 812)];

/// A real, decodable `w`×`h` PNG (a colour gradient with a dot), so the
/// browser draws it: the media samples are headers only.
fn real_png(w: u32, h: u32) -> Vec<u8> {
    use std::io::Write;
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0u8);
        for x in 0..w {
            let (dx, dy) = (x as i64 - w as i64 / 2, y as i64 - h as i64 / 3);
            let dot = dx * dx + dy * dy < (w as i64 / 5).pow(2);
            let px = if dot { [250, 220, 190] } else { [(233 * x / w) as u8, (30 + 120 * y / h) as u8, 160] };
            raw.extend_from_slice(&px);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).unwrap();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}

async fn sign_in(d: &WebDriver, base: &str, name: &str, password: &str) -> WebDriverResult<()> {
    d.goto(format!("{base}/login")).await?;
    ready(d, By::Id("login")).await?.send_keys(name).await?;
    ready(d, By::Id("password")).await?.send_keys(password).await?;
    ready(d, By::Id("login-submit")).await?.click().await?;
    wait_for_path(d, "/discover").await;
    Ok(())
}

/// Waits until `css` holds exactly `text`.
async fn wait_text(d: &WebDriver, css: &str, text: &str) -> WebDriverResult<()> {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(e) = d.find(By::Css(css)).await {
            last = e.text().await.unwrap_or_default();
            if last == text {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never read {text:?} (last {last:?})");
}

async fn wait_title_prefix(d: &WebDriver, prefix: &str) -> WebDriverResult<()> {
    for _ in 0..100 {
        if d.title().await?.starts_with(prefix) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("title never started with {prefix:?}: {}", d.title().await?);
}

/// A user with a chat waiting for a reply, and the operator who answers it.
async fn user_waiting_for_replies(app: &TestApp, name: &str) -> (ChatId, Client) {
    let profile = make_profile(&app.db, "Nia", false).await;
    let mut user = api_user(app, name).await;
    let r = user.json(Method::POST, "/api/chats", json!({ "profile_id": profile.to_string() })).await;
    let chat: ChatId = r.json()["chat"]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(say(&mut user, chat, "Hello Nia").await.status, StatusCode::CREATED);
    let op = crate::realtime::assigned_operator(app, chat).await;
    (chat, op)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_raises_the_count_live_on_another_page_at_desktop_and_phone_width() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    for (label, width, height) in WIDTHS {
        let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
        let name = format!("waiting_{label}");
        let (chat, mut op) = user_waiting_for_replies(&app, &name).await;
        let base = serve(&app).await;
        let dir = tempfile::tempdir().unwrap();
        let d = browser(&driver_url, dir.path()).await;
        let result = async {
            d.set_window_rect(0, 0, width, height).await?;
            sign_in(&d, &base, &name, PASSWORD).await?;
            // On Discover, nothing unread; the page's socket is up.
            d.query(By::Css("body[data-notices='live']")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
            assert!(!d.find(By::Css("[data-unread-total]")).await?.is_displayed().await?);
            assert_eq!(say(&mut op, chat, "Hi! So glad you wrote").await.status, StatusCode::CREATED);
            wait_text(&d, "[data-unread-total]", "1").await?;
            wait_title_prefix(&d, "(1) ").await?;
            assert!(d.find(By::Css("[data-unread-total]")).await?.is_displayed().await?);
            shot(&d, &format!("notice-discover-{label}")).await;

            // The chat list: the row's count and preview follow live.
            ready(&d, By::Css("a[href='/chats']")).await?.click().await?;
            wait_for_path(&d, "/chats").await;
            d.query(By::Css("body[data-notices='live']")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
            wait_text(&d, "[data-chat-row] [data-unread-count]", "1").await?;
            assert_eq!(say(&mut op, chat, "What are you up to tonight?").await.status, StatusCode::CREATED);
            wait_text(&d, "[data-chat-row] [data-unread-count]", "2").await?;
            wait_text(&d, "[data-chat-row] [data-preview]", "What are you up to tonight?").await?;
            wait_text(&d, "[data-unread-total]", "2").await?;
            wait_title_prefix(&d, "(2) ").await?;
            shot(&d, &format!("notice-chats-{label}")).await;

            // Opening the chat reads it: the count goes.
            ready(&d, By::Css("[data-chat-row] a")).await?.click().await?;
            d.query(By::Css("#chat[data-live='1']")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
            for _ in 0..100 {
                if d.find(By::Css("[data-unread-total]")).await?.attr("hidden").await?.is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(!d.find(By::Css("[data-unread-total]")).await?.is_displayed().await?, "read in the open chat");
            assert!(!d.title().await?.starts_with('('));
            Ok::<_, WebDriverError>(())
        }
        .await;
        let _ = d.quit().await;
        result.unwrap_or_else(|e| panic!("{label}: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_reset_by_email_and_a_photo_uploaded_at_desktop_and_phone_width() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    let picture = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    std::fs::write(picture.path(), real_png(200, 200)).unwrap();
    for (label, width, height) in WIDTHS {
        let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
        let name = format!("forgetful_{label}");
        let email = format!("{name}@example.org");
        let mut api = api_user(&app, &name).await;
        api.json(Method::PUT, "/api/me/recovery-email", json!({ "recovery_email": email })).await;
        let verify =
            app.mail.sent_to(&email)[0].text.split_whitespace().find(|w| w.contains("/recovery-email/verify")).unwrap().to_string();
        assert_eq!(app.client().get(&verify[verify.find("/recovery").unwrap()..]).await.status, StatusCode::OK);
        let base = serve(&app).await;
        let dir = tempfile::tempdir().unwrap();
        let d = browser(&driver_url, dir.path()).await;
        let result = async {
            d.set_window_rect(0, 0, width, height).await?;
            d.goto(format!("{base}/login")).await?;
            ready(&d, By::Id("forgot-link")).await?.click().await?;
            wait_for_path(&d, "/forgot-password").await;
            ready(&d, By::Id("login")).await?.send_keys(&name).await?;
            ready(&d, By::Css("form[action='/forgot-password'] button[type=submit]")).await?.click().await?;
            d.query(By::Css("[data-sent]")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
            shot(&d, &format!("forgot-sent-{label}")).await;

            let mails = app.mail.sent_to(&email);
            let link = mails.last().unwrap().text.split_whitespace().find(|w| w.contains("/reset-password?token=")).unwrap().to_string();
            // The mailed link names this site.
            let path = &link[link.find("/reset-password").unwrap()..];
            d.goto(format!("{base}{path}")).await?;
            ready(&d, By::Id("new_password")).await?.send_keys("Fresh!start9").await?;
            ready(&d, By::Id("new_password_confirm")).await?.send_keys("Fresh!start9").await?;
            shot(&d, &format!("reset-form-{label}")).await;
            ready(&d, By::Id("reset-submit")).await?.click().await?;
            wait_for_path(&d, "/me").await;
            assert!(d.find(By::Css(".alert-success")).await?.text().await?.contains("new password is set"));

            // The photo: chosen, uploaded, shown.
            let input = d.find(By::Id("photo-file")).await?;
            input.send_keys(picture.path().to_string_lossy()).await?;
            ready(&d, By::Id("photo-submit")).await?.click().await?;
            let photo = d.query(By::Css("img[data-my-photo]")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
            d.execute("arguments[0].scrollIntoView({block: 'center'})", vec![photo.to_json()?]).await?;
            assert!(photo.attr("src").await?.unwrap_or_default().starts_with("/media/"));
            assert_eq!(photo.prop("naturalWidth").await?.as_deref(), Some("200"), "the photo is served and drawn");
            shot(&d, &format!("me-photo-{label}")).await;
            // The recovery section says the address is confirmed.
            let state = d.find(By::Css("[data-recovery-state]")).await?;
            assert_eq!(state.attr("data-recovery-state").await?.as_deref(), Some("verified"));
            d.execute("arguments[0].scrollIntoView({block: 'center'})", vec![state.to_json()?]).await?;
            shot(&d, &format!("me-recovery-{label}")).await;
            Ok::<_, WebDriverError>(())
        }
        .await;
        let _ = d.quit().await;
        result.unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(
            app.client().json(Method::POST, "/api/auth/login", json!({ "login": name, "password": "Fresh!start9" })).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pictures_preview_and_open_full_size_emoji_insert_and_the_carousel_marks_its_photo() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    let picture = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    std::fs::write(picture.path(), real_png(320, 240)).unwrap();
    for (label, width, height) in WIDTHS {
        let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
        let name = format!("pictures_{label}");
        let profile = make_profile(&app.db, "Nia", false).await;
        api_user(&app, &name).await;
        let base = serve(&app).await;
        let dir = tempfile::tempdir().unwrap();
        let d = browser(&driver_url, dir.path()).await;
        let result = async {
            d.set_window_rect(0, 0, width, height).await?;
            sign_in(&d, &base, &name, PASSWORD).await?;
            d.goto(format!("{base}/profile/{profile}")).await?;
            let dots = d.find_all(By::Css(".carousel-dots a")).await?;
            assert_eq!(dots[0].attr("aria-current").await?.as_deref(), Some("true"));
            ready(&d, By::Css("[data-carousel-next]")).await?.click().await?;
            for _ in 0..50 {
                if dots[1].attr("aria-current").await?.as_deref() == Some("true") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(dots[1].attr("aria-current").await?.as_deref(), Some("true"), "the second photo is marked");
            assert_eq!(dots[0].attr("aria-current").await?, None);
            assert_eq!(d.find(By::Css("[data-carousel-counter]")).await?.text().await?, "2 / 3");
            shot(&d, &format!("profile-carousel-{label}")).await;

            ready(&d, By::XPath("//button[contains(., 'Message Nia')]")).await?.click().await?;
            d.query(By::Css("#chat[data-live='1']")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
            // Emoji go in at the cursor.
            ready(&d, By::Id("content")).await?.send_keys("Hello ").await?;
            ready(&d, By::Id("emoji-toggle")).await?.click().await?;
            ready(&d, By::Css("#emoji-panel button.emoji")).await?.click().await?;
            assert_eq!(d.find(By::Id("content")).await?.value().await?.as_deref(), Some("Hello 😀"));
            // A picture is previewed before it is sent.
            d.find(By::Id("attach")).await?.send_keys(picture.path().to_string_lossy()).await?;
            let preview = d.find(By::Id("attach-preview")).await?;
            preview.wait_until().displayed().await?;
            shot(&d, &format!("chat-preview-{label}")).await;
            ready(&d, By::Id("send")).await?.click().await?;
            let sent = d
                .query(By::Css("li.msg-mine[data-seq] img.msg-media"))
                .wait(Duration::from_secs(10), Duration::from_millis(100))
                .first()
                .await?;
            assert!(!preview.is_displayed().await?, "the preview goes once sent");
            for _ in 0..50 {
                if sent.prop("naturalWidth").await?.as_deref() == Some("320") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(sent.prop("naturalWidth").await?.as_deref(), Some("320"), "the sent picture is drawn");
            // …and opens full size.
            d.execute("arguments[0].scrollIntoView({block: 'center'})", vec![sent.to_json()?]).await?;
            sent.click().await?;
            let viewer = d.find(By::Id("media-viewer")).await?;
            viewer.wait_until().displayed().await?;
            assert_eq!(d.find(By::Id("media-viewer-img")).await?.prop("src").await?, sent.prop("src").await?);
            shot(&d, &format!("chat-viewer-{label}")).await;
            Ok::<_, WebDriverError>(())
        }
        .await;
        let _ = d.quit().await;
        result.unwrap_or_else(|e| panic!("{label}: {e}"));
    }
}
