//! The chat in real Chromium: a new user finds a profile, sends three free
//! messages, is offered credits on the fourth, and sees a reply typed in a
//! second browser arrive without reloading.

use crate::browser::{browser, serve, start_driver, wait_for_path};
use crate::chat::{flat_pricing, make_profile};
use crate::support::*;
use fantooo_domain::AdminRole;
use std::time::Duration;
use thirtyfour::prelude::*;

pub(crate) async fn register(d: &WebDriver, base: &str, username: &str) -> WebDriverResult<()> {
    d.goto(format!("{base}/get-started")).await?;
    d.find(By::Id("username")).await?.send_keys(username).await?;
    d.find(By::Css("fieldset[data-step='1'] [data-next]")).await?.click().await?;
    step_opens(d, 2).await;
    let location = d.find(By::Id("location")).await?;
    location.send_keys("Nairobi").await?;
    // As people do: the city is taken from the list under the field, which
    // then closes, rather than clicked past while it may still open.
    let first = d.query(By::Css("[data-suggestions] li button")).first().await?;
    first.wait_until().displayed().await?;
    first.click().await?;
    d.find(By::XPath("//label[input[@name='gender' and @value='male']]")).await?.click().await?;
    d.find(By::XPath("//label[input[@name='looking_for' and @value='female']]")).await?.click().await?;
    d.find(By::Id("age")).await?.send_keys("29").await?;
    d.find(By::Css("fieldset[data-step='2'] [data-next]")).await?.click().await?;
    step_opens(d, 3).await;
    let password = d.find(By::Id("password")).await?;
    password.send_keys(PASSWORD).await?;
    d.find(By::Id("password_confirm")).await?.send_keys(PASSWORD).await?;
    d.find(By::Id("accept_terms")).await?.click().await?;
    d.find(By::Id("create-account")).await?.click().await?;
    wait_for_path(d, "/discover").await;
    Ok(())
}

/// Waits, up to 10 s, for sign-up step `n` to open; otherwise panics with
/// what the user saw: the open step, its field errors, whether the step's
/// check was still under way.
async fn step_opens(d: &WebDriver, n: u8) {
    let open = format!("return !document.querySelector(\"fieldset[data-step='{n}']\").hidden;");
    let seen = "var s = document.querySelector('fieldset.step:not([hidden])'); var f = document.querySelector('[data-signup]');
         return location.pathname + ' step ' + (s && s.getAttribute('data-step')) + (f.hasAttribute('aria-busy') ? ' (checking)' : '')
           + ' errors: ' + Array.prototype.map.call(document.querySelectorAll('[data-error]'), function (e) { return e.getAttribute('data-error') + '=' + e.textContent; }).join('; ');";
    platform_testkit::browser::until_else(d, &open, &format!("sign-up step {n} opens"), seen).await
}

/// Types a message and waits until the server has stored it (the
/// optimistic bubble gets its sequence number).
async fn send_and_confirm(d: &WebDriver, text: &str) -> WebDriverResult<()> {
    ready(d, By::Id("content")).await?.send_keys(text).await?;
    ready(d, By::Id("send")).await?.click().await?;
    let xpath = format!("//li[contains(@class,'msg-mine') and @data-seq][p[text()='{text}']]");
    d.query(By::XPath(&xpath)).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
    Ok(())
}

/// An element once it can be used (pages and dialogs animate in; under load
/// that takes a moment).
/// It is scrolled to the middle of the screen, as a person would before
/// tapping it, so the phone's bottom tabs never cover it.
pub(crate) async fn ready(d: &WebDriver, by: By) -> WebDriverResult<WebElement> {
    let e = d.query(by).and_clickable().wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
    d.execute("arguments[0].scrollIntoView({block: 'center'})", vec![e.to_json()?]).await?;
    Ok(e)
}

async fn text_of(d: &WebDriver, css: &str) -> WebDriverResult<String> {
    d.find(By::Css(css)).await?.text().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_free_messages_a_credit_prompt_and_a_live_reply_in_chromium() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    flat_pricing(&app.db).await;
    make_profile(&app.db, "Nia", false).await;
    admin_client(&app, "chats@fantooo.com", AdminRole::Moderator).await;
    let base = serve(&app).await;
    let (dir_user, dir_staff) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let user = browser(&driver_url, dir_user.path()).await;
    let staff = browser(&driver_url, dir_staff.path()).await;
    let result = async {
        register(&user, &base, "wambui").await?;
        ready(&user, By::Css("a.profile-link")).await?.click().await?;
        let profile_path = user.current_url().await?.path().to_string();
        assert!(profile_path.starts_with("/profile/"), "{profile_path}");
        ready(&user, By::XPath("//button[contains(., 'Message Nia')]")).await?.click().await?;
        for _ in 0..100 {
            if user.current_url().await?.path().starts_with("/chat/") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let chat_path = user.current_url().await?.path().to_string();
        assert!(chat_path.starts_with("/chat/"), "{chat_path}");
        // The socket is up before anything is sent.
        user.query(By::Css("#chat[data-live='1']")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
        assert!(text_of(&user, "#price-label").await?.contains("free"));

        for n in 1..=3 {
            send_and_confirm(&user, &format!("Hello number {n}")).await?;
        }
        assert_eq!(text_of(&user, "#price-label").await?, "Next message: 1 credit");

        // The fourth costs a credit the user does not have: the dialog opens,
        // nothing is stored, and the draft is back in the box.
        ready(&user, By::Id("content")).await?.send_keys("A fourth one").await?;
        ready(&user, By::Id("send")).await?.click().await?;
        let dialog = user.find(By::Id("buy-credits")).await?;
        dialog.wait_until().displayed().await?;
        assert!(dialog.text().await?.contains("costs 1 credits and you have 0"));
        assert_eq!(user.find(By::Id("content")).await?.value().await?.as_deref(), Some("A fourth one"));
        ready(&user, By::XPath("//dialog[@id='buy-credits']//button[contains(., 'Not now')]")).await?.click().await?;
        assert_eq!(user.find_all(By::Css("li.msg-mine")).await?.len(), 3);

        // Staff answer as the profile from a second browser.
        staff.goto(format!("{base}/admin-login")).await?;
        ready(&staff, By::Id("login")).await?.send_keys("chats@fantooo.com").await?;
        ready(&staff, By::Id("password")).await?.send_keys(PASSWORD).await?;
        ready(&staff, By::Id("login-submit")).await?.click().await?;
        wait_for_path(&staff, "/admin").await;
        staff.goto(format!("{base}{chat_path}")).await?;
        staff.query(By::Css("#chat[data-live='1']")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
        assert_eq!(staff.find_all(By::Css("li.msg-theirs")).await?.len(), 3, "staff see the user's messages");
        send_and_confirm(&staff, "Hi Wambui, lovely to hear from you").await?;

        // Pushed to the user's page, no reload.
        let reply = user
            .query(By::XPath("//li[contains(@class,'msg-theirs')]/p[text()='Hi Wambui, lovely to hear from you']"))
            .wait(Duration::from_secs(5), Duration::from_millis(100))
            .first()
            .await?;
        assert!(reply.is_displayed().await?);
        crate::browser::shot(&user, "chat-phone").await;
        // Staff opened the chat, so the user's messages read as read.
        user.query(By::Css("li.msg-mine .msg-status[data-status='read']"))
            .wait(Duration::from_secs(5), Duration::from_millis(100))
            .first()
            .await?;
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = user.quit().await;
    let _ = staff.quit().await;
    result.expect("browser chat flow");
}

/// At phone width a signed-in user gets the app's bottom tabs and a chat
/// that fills the screen; at 1280 px the same links sit in the header. Dark
/// mode follows the system setting. Screenshots are kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_tabs_full_screen_chat_and_dark_mode_in_chromium() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    make_profile(&app.db, "Zuri", false).await;
    let base = serve(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let d = browser(&driver_url, dir.path()).await;
    let result = async {
        register(&d, &base, "tabby").await?;
        let (_, _, _, height) = d.get_window_rect().await.map(|r| (r.x, r.y, r.width, r.height))?;
        let inner: i64 = d.execute("return window.innerHeight", vec![]).await?.convert()?;
        assert!(inner > 0 && inner <= height);
        let tabs = d.find(By::Css(".tabs")).await?;
        let rect = tabs.rect().await?;
        assert!((rect.y + rect.height - inner as f64).abs() < 2.0, "tabs sit at the bottom: {rect:?}, inner height {inner}");
        assert_eq!(d.find_all(By::Css(".tabs a")).await?.len(), 5);
        crate::browser::shot(&d, "tabs-discover-phone").await;

        // The chat fills the space between the header and the tabs.
        ready(&d, By::Css("a.profile-link")).await?.click().await?;
        ready(&d, By::XPath("//button[contains(., 'Message Zuri')]")).await?.click().await?;
        d.query(By::Css("#chat[data-live='1']")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
        let chat = d.find(By::Id("chat")).await?.rect().await?;
        assert!(chat.y + chat.height <= rect.y + 1.0, "chat ends above the tabs: {chat:?} vs {rect:?}");
        assert!(rect.y - (chat.y + chat.height) < 24.0, "and reaches them: {chat:?} vs {rect:?}");
        crate::browser::shot(&d, "chat-empty-phone").await;
        // Nobody can answer yet: the page says so, in public words, and the
        // message stays.
        send_and_confirm(&d, "Anyone there?").await?;
        let waiting = d.find(By::Id("chat-waiting")).await?;
        waiting.wait_until().displayed().await?;
        assert!(waiting.text().await?.contains("Zuri isn't around right now"), "{}", waiting.text().await?);
        crate::browser::shot(&d, "chat-waiting-phone").await;

        // Wide: the links are in the header, no bottom bar.
        d.set_window_rect(0, 0, 1280, 900).await?;
        d.goto(format!("{base}/discover")).await?;
        let position: String = d.execute("return getComputedStyle(document.querySelector('.tabs')).display", vec![]).await?.convert()?;
        assert_eq!(position, "contents");
        let link = d.find(By::Css(".tabs a[href='/chats']")).await?.rect().await?;
        assert!(link.y < 80.0, "in the header: {link:?}");
        crate::browser::shot(&d, "tabs-discover-desktop").await;

        // Dark mode from the system setting.
        let bg = || async {
            let v: String = d.execute("return getComputedStyle(document.querySelector('.card, .profile-card, main')).backgroundColor + '|' + getComputedStyle(document.body).color", vec![]).await?.convert()?;
            Ok::<_, WebDriverError>(v)
        };
        let light = bg().await?;
        let dev = thirtyfour::extensions::cdp::ChromeDevTools::new(d.handle.clone());
        dev.execute_cdp_with_params("Emulation.setEmulatedMedia", serde_json::json!({ "features": [{ "name": "prefers-color-scheme", "value": "dark" }] })).await?;
        let dark = bg().await?;
        assert_ne!(light, dark);
        let text_rgb: Vec<u32> = dark.split('|').nth(1).unwrap().trim_start_matches("rgb(").trim_end_matches(')').split(',').map(|c| c.trim().parse().unwrap()).collect();
        assert!(text_rgb.iter().all(|c| *c > 180), "light text on dark: {dark}");
        crate::browser::shot(&d, "discover-dark-desktop").await;
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = d.quit().await;
    result.expect("browser flow");
}

/// Every time on the chat page is the reader's own: messages the server
/// rendered and a reply pushed live agree (a reader in Tokyo sees Tokyo
/// times for both), days are separated ("Yesterday", "Today"), and the
/// delivery state shows as ticks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_days_and_ticks_agree_in_the_readers_time_zone() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    flat_pricing(&app.db).await;
    make_profile(&app.db, "Imani", false).await;
    let mut staff = admin_client(&app, "tz@fantooo.com", AdminRole::Moderator).await;
    let base = serve(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let d = browser(&driver_url, dir.path()).await;
    let tokyo = chrono::FixedOffset::east_opt(9 * 3600).unwrap();
    let result = async {
        let dev = thirtyfour::extensions::cdp::ChromeDevTools::new(d.handle.clone());
        dev.execute_cdp_with_params("Emulation.setTimezoneOverride", serde_json::json!({ "timezoneId": "Asia/Tokyo" })).await?;
        register(&d, &base, "tz_user").await?;
        ready(&d, By::Css("a.profile-link")).await?.click().await?;
        ready(&d, By::XPath("//button[contains(., 'Message Imani')]")).await?.click().await?;
        d.query(By::Css("#chat[data-live='1']")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
        let chat_path = d.current_url().await?.path().to_string();
        send_and_confirm(&d, "First words").await?;
        send_and_confirm(&d, "Second words").await?;
        // The first message was sent yesterday (in a chat begun then: no
        // message is older than its chat).
        let yesterday = chrono::Utc::now() - chrono::Duration::hours(24);
        fantooo_store::on_pool!(&app.db, p => {
            sqlx::query("UPDATE messages SET created_at = $1 WHERE content = 'First words'").bind(yesterday).execute(p).await.unwrap();
            sqlx::query("UPDATE chats SET created_at = $1").bind(yesterday).execute(p).await.unwrap();
        });
        d.goto(format!("{base}{chat_path}")).await?;
        d.query(By::Css("#chat[data-live='1']")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;

        // Staff reply; it arrives live.
        let chat_id = chat_path.trim_start_matches("/chat/").to_string();
        let r = crate::backoffice::admin_json(
            &mut staff,
            axum::http::Method::POST,
            &format!("/api/chats/{chat_id}/messages"),
            serde_json::json!({ "content": "A live reply" }),
        )
        .await;
        assert!(r.status.is_success(), "{}", r.body);
        d.query(By::XPath("//li[contains(@class,'msg-theirs')]/p[text()='A live reply']"))
            .wait(Duration::from_secs(10), Duration::from_millis(100))
            .first()
            .await?;

        let seps: Vec<String> =
            d.execute("return [...document.querySelectorAll('li.day-sep')].map(e => e.textContent)", vec![]).await?.convert()?;
        assert_eq!(seps, vec!["Yesterday".to_string(), "Today".to_string()]);
        let times: Vec<(String, String)> = d
            .execute(
                "return [...document.querySelectorAll('.msg-meta time')].map(t => [t.getAttribute('datetime'), t.textContent])",
                vec![],
            )
            .await?
            .convert()?;
        assert_eq!(times.len(), 3, "{times:?}");
        for (iso, shown) in &times {
            let at = chrono::DateTime::parse_from_rfc3339(iso).unwrap_or_else(|e| panic!("{iso}: {e}"));
            assert_eq!(shown, &at.with_timezone(&tokyo).format("%H:%M").to_string(), "{iso} shown as {shown}");
        }
        let ticks: String = d
            .execute("return getComputedStyle(document.querySelector('.msg-mine .msg-status'), '::before').content", vec![])
            .await?
            .convert()?;
        assert!(ticks.contains('\u{2713}'), "ticks: {ticks}");
        crate::browser::shot(&d, "chat-days-phone").await;
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = d.quit().await;
    result.expect("browser flow");
}
