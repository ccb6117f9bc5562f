//! Staff pages in real Chromium at 1280, 1920 and 2560 px and at phone
//! width: the back office and the console use the whole screen and stay
//! readable (measured, with screenshots), and the console shows the idle
//! clock, the real waiting time and who the user is.

use crate::browser::{browser, serve, shot, start_driver, wait_for_path};
use crate::browser_chat::ready;
use crate::chat::{assign_to, grant, say, user_with_chat};
use crate::support::*;
use fantooo_domain::ids::{ChatId, OperatorId};
use fantooo_domain::AdminRole;
use std::time::Duration;
use thirtyfour::prelude::*;

pub(crate) const WIDTHS: &[(&str, u32, u32)] = &[("1280", 1280, 900), ("1920", 1920, 1080), ("2560", 2560, 1440), ("phone", 390, 844)];

/// What a page looks like to a reader, measured in the browser.
#[derive(Debug, serde::Deserialize)]
struct Measure {
    viewport: f64,
    page_width: f64,
    main_width: f64,
    /// Elements whose own text is at least 6 characters long but which are
    /// narrower than 80 px and three lines tall or more (text wrapped a
    /// character or two per line).
    squeezed: Vec<String>,
    /// Tables wider than their box that cannot be scrolled (clipped columns).
    clipped_tables: usize,
}

const MEASURE: &str = r#"
const main = document.querySelector('main');
const squeezed = [];
for (const el of main.querySelectorAll('*')) {
  const own = Array.from(el.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
  if (own.length < 6) continue;
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) continue;
  const style = getComputedStyle(el);
  if (style.visibility === 'hidden' || el.closest('details:not([open]) > :not(summary)')) continue;
  // Squeezed: narrow and broken over three lines or more.
  const fs = parseFloat(style.fontSize) || 16;
  const lh = style.lineHeight === 'normal' ? fs * 1.2 : parseFloat(style.lineHeight) || fs * 1.2;
  if (r.width < 80 && r.height >= lh * 2.8) squeezed.push(el.tagName + ' "' + own.slice(0, 30) + '" ' + Math.round(r.width) + 'x' + Math.round(r.height) + 'px');
}
let clipped = 0;
for (const t of main.querySelectorAll('table')) {
  const box = t.parentElement;
  const ox = getComputedStyle(box).overflowX;
  if (t.getBoundingClientRect().width > box.clientWidth + 1 && ox !== 'auto' && ox !== 'scroll') clipped++;
}
return {
  viewport: window.innerWidth,
  page_width: document.documentElement.scrollWidth,
  main_width: main.getBoundingClientRect().width,
  squeezed: squeezed,
  clipped_tables: clipped,
};
"#;

async fn measure(d: &WebDriver) -> WebDriverResult<Measure> {
    let v = d.execute(MEASURE, vec![]).await?.json().clone();
    Ok(serde_json::from_value(v).expect("measurement"))
}

async fn height_of(d: &WebDriver, css: &str) -> WebDriverResult<f64> {
    let v = d.execute(&format!("return document.querySelector({css:?}).getBoundingClientRect().height"), vec![]).await?;
    Ok(v.json().as_f64().unwrap_or(f64::MAX))
}

async fn width_of(d: &WebDriver, css: &str) -> WebDriverResult<f64> {
    let v = d.execute(&format!("return document.querySelector({css:?}).getBoundingClientRect().width"), vec![]).await?;
    Ok(v.json().as_f64().unwrap_or(0.0))
}

/// Every page is readable: no sideways page scroll, no squeezed text, no
/// clipped table; wide screens are used (main fills most of the width).
fn assert_readable(m: &Measure, page: &str, label: &str) {
    assert!(m.page_width <= m.viewport + 1.0, "{page} at {label}: the page scrolls sideways ({} > {})", m.page_width, m.viewport);
    assert!(m.squeezed.is_empty(), "{page} at {label}: squeezed text {:?}", m.squeezed);
    assert_eq!(m.clipped_tables, 0, "{page} at {label}: a table clips its columns");
    if m.viewport >= 1280.0 {
        assert!(m.main_width >= 0.9 * m.viewport, "{page} at {label}: the page uses {} of {} px", m.main_width, m.viewport);
    }
}

pub(crate) async fn sign_in(d: &WebDriver, base: &str, page: &str, login: &str, landing: &str) -> WebDriverResult<()> {
    d.goto(format!("{base}{page}")).await?;
    ready(d, By::Id("login")).await?.send_keys(login).await?;
    ready(d, By::Id("password")).await?.send_keys(PASSWORD).await?;
    ready(d, By::Id("login-submit")).await?.click().await?;
    wait_for_path(d, landing).await;
    Ok(())
}

/// An operator (signed in through the API once, so the account exists)
/// holding the chat.
pub(crate) async fn operator_holding(app: &TestApp, email: &str, chat: ChatId) -> OperatorId {
    operator_client(app, email).await;
    let op = fantooo_store::operators::list(&app.db).await.unwrap().into_iter().find(|o| o.email == email).unwrap().id;
    assert!(assign_to(&app.db, chat, op).await);
    op
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_pages_use_the_width_and_stay_readable_from_phone_to_2560() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    let (mut user, uid, chat) = user_with_chat(&app, "wide_reader").await;
    grant(&app.db, uid, 50).await;
    for text in
        ["Hi there, how is your evening going so far?", "I just got back from a long walk by the lake.", "Tell me something about you!"]
    {
        say(&mut user, chat, text).await;
    }
    admin_client(&app, "wide@fantooo.com", AdminRole::SuperAdmin).await;
    operator_holding(&app, "wideop@fantooo.com", chat).await;
    let base = serve(&app).await;
    let (dir_admin, dir_op) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let admin = browser(&driver_url, dir_admin.path()).await;
    let op = browser(&driver_url, dir_op.path()).await;
    let result = async {
        sign_in(&admin, &base, "/admin-login", "wide@fantooo.com", "/admin").await?;
        sign_in(&op, &base, "/op-login", "wideop@fantooo.com", "/operator/waiting").await?;
        let mut center = vec![];
        for &(label, width, height) in WIDTHS {
            admin.set_window_rect(0, 0, width, height).await?;
            op.set_window_rect(0, 0, width, height).await?;
            admin.goto(format!("{base}/admin/chats/{chat}")).await?;
            ready(&admin, By::Css(".inspector")).await?;
            let m = measure(&admin).await?;
            shot(&admin, &format!("staff-inspector-{label}")).await;
            assert_readable(&m, "inspector", label);
            if width >= 1280 {
                // Today's page was 4,674 px tall with side panels a letter wide.
                let h = height_of(&admin, ".inspector").await?;
                assert!(h < 1800.0, "inspector at {label} is {h} px tall");
            }
            for page in ["/admin", "/admin/users", "/admin/chats", "/admin/operators", "/admin/profiles", "/admin/stats", "/admin/settings"]
            {
                admin.goto(format!("{base}{page}")).await?;
                ready(&admin, By::Css(".admin-content")).await?;
                let m = measure(&admin).await?;
                if matches!(label, "1280" | "phone") {
                    shot(&admin, &format!("staff{}-{label}", page.replace('/', "-"))).await;
                }
                assert_readable(&m, page, label);
            }
            admin.goto(format!("{base}/admin/users")).await?;
            shot(&admin, &format!("staff-users-{label}")).await;

            op.goto(format!("{base}/operator/chat/{chat}")).await?;
            ready(&op, By::Css(".console")).await?;
            let m = measure(&op).await?;
            shot(&op, &format!("staff-console-{label}")).await;
            assert_readable(&m, "console", label);
            center.push(width_of(&op, ".console-center").await?);
            op.goto(format!("{base}/operator/waiting")).await?;
            ready(&op, By::Id("op-room")).await?;
            let m = measure(&op).await?;
            assert_readable(&m, "waiting room", label);
        }
        // The conversation column grows with the screen.
        assert!(center[1] > center[0] + 400.0 && center[2] > center[1] + 400.0, "console centre widths {center:?}");
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = admin.quit().await;
    let _ = op.quit().await;
    result.expect("staff layout");
}

async fn set_clock(app: &TestApp, chat: ChatId, waited_secs: i64) {
    let at = chrono::Utc::now() - chrono::Duration::seconds(waited_secs);
    fantooo_store::on_pool!(&app.db, p => {
        // Every message is the user's unanswered one (the profile's older).
        sqlx::query("UPDATE messages SET created_at = $2 WHERE chat_id = $1").bind(chat).bind(at).execute(p).await.unwrap();
        // A chat's messages are never older than the chat (history reads from its start).
        sqlx::query("UPDATE chats SET last_user_message_at = $2, assignment_time = $2, last_fictional_message_at = NULL,
                            created_at = CASE WHEN created_at > $2 THEN $2 ELSE created_at END WHERE id = $1")
            .bind(chat).bind(at).execute(p).await.unwrap();
    });
}

async fn attr(d: &WebDriver, css: &str, name: &str) -> WebDriverResult<String> {
    Ok(d.find(By::Css(css)).await?.attr(name).await?.unwrap_or_default())
}

/// The console at 1280 px and at phone width: the reply clock ticks from
/// the real numbers (2:30 warning, 3:00 reassignment), turns to a warning
/// live, stops when the operator answers; the user panel shows tier, spend
/// and the user's other chats.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_clock_and_user_panel_in_chromium() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    let (mut user, uid, chat) = user_with_chat(&app, "clockwatcher").await;
    grant(&app.db, uid, 30).await;
    let other = crate::chat::make_profile(&app.db, "Nyokabi", false).await;
    user.json(axum::http::Method::POST, "/api/chats", serde_json::json!({ "profile_id": other.to_string() })).await;
    say(&mut user, chat, "Are you there? I have been waiting a while.").await;
    operator_holding(&app, "clockop@fantooo.com", chat).await;
    let base = serve(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let op = browser(&driver_url, dir.path()).await;
    let result = async {
        sign_in(&op, &base, "/op-login", "clockop@fantooo.com", "/operator/waiting").await?;
        for &(label, width, height) in [WIDTHS[0], WIDTHS[3]].iter() {
            op.set_window_rect(0, 0, width, height).await?;
            // 2:26 without a reply: running, and within seconds a warning.
            set_clock(&app, chat, 146).await;
            op.goto(format!("{base}/operator/chat/{chat}")).await?;
            ready(&op, By::Css("#chat[data-live='1']")).await?;
            let clock = op.find(By::Id("reply-clock")).await?;
            assert_eq!(clock.attr("data-clock").await?.as_deref(), Some("running"), "{label}");
            let rule = op.find(By::Css(".reply-clock-rule")).await?.text().await?;
            assert!(rule.contains("Warning at 2:30") && rule.contains("reassigned at 3:00"), "{label}: {rule}");
            shot(&op, &format!("staff-console-clock-running-{label}")).await;
            op.query(By::Css("#reply-clock[data-clock='warning']"))
                .wait(Duration::from_secs(10), Duration::from_millis(200))
                .first()
                .await?;
            let time = op.find(By::Css("[data-clock-time]")).await?.text().await?;
            assert!(time.starts_with("2:3"), "{label}: {time}");
            let label_text = op.find(By::Css("[data-clock-label]")).await?.text().await?;
            assert!(label_text.contains("reassigned in 0:"), "{label}: {label_text}");
            shot(&op, &format!("staff-console-clock-warning-{label}")).await;
            // Who the user is.
            let facts = op.find(By::Css("[data-user-facts]")).await?.text().await?;
            assert!(facts.to_lowercase().contains("free") && facts.contains("credits"), "{label}: {facts}");
            let others = op.find(By::Css("[data-other-chats]")).await?.text().await?;
            assert!(others.contains("Nyokabi"), "{label}: {others}");
            let m = measure(&op).await?;
            assert_readable(&m, "console", label);
            // The answer stops the clock, live.
            let content = ready(&op, By::Id("content")).await?;
            content.send_keys(format!("Sorry for the wait ({label})!")).await?;
            ready(&op, By::Id("send")).await?.click().await?;
            op.query(By::Css("#reply-clock[data-clock='answered']"))
                .wait(Duration::from_secs(10), Duration::from_millis(100))
                .first()
                .await?;
            assert_eq!(attr(&op, "[data-clock-time]", "class").await?, "reply-clock-time");
            shot(&op, &format!("staff-console-clock-answered-{label}")).await;
            // The user writes again: the clock restarts at 0.
            say(&mut user, chat, &format!("No problem ({label})")).await;
            op.query(By::Css("#reply-clock[data-clock='running']"))
                .wait(Duration::from_secs(10), Duration::from_millis(100))
                .first()
                .await?;
            let time = op.find(By::Css("[data-clock-time]")).await?.text().await?;
            assert!(time.starts_with("0:0"), "{label}: {time}");
            // The waiting room lists the chat with both clocks.
            op.goto(format!("{base}/operator/waiting")).await?;
            // The list re-renders on live updates: read it by script.
            op.query(By::Css("#op-room[data-live='1']")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
            let css = format!("#held-list li[data-chat-id='{chat}']");
            let mut text = String::new();
            for _ in 0..50 {
                let v = op.execute(&format!("var e = document.querySelector({css:?}); return e ? e.innerText : ''"), vec![]).await?;
                text = v.json().as_str().unwrap_or("").to_string();
                if text.contains("reply clock") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(text.contains("reply clock 0:0") && text.contains("/ 3:00"), "{label}: {text}");
            shot(&op, &format!("staff-waiting-room-{label}")).await;
            let m = measure(&op).await?;
            assert_readable(&m, "waiting room", label);
        }
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = op.quit().await;
    result.expect("console clock");
}

/// A moderator redacts a user's message in the inspector: the page comes
/// back where the moderator was, and the user's open chat shows that a
/// moderator changed the message, live and after reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redaction_reaches_the_user_live_and_the_inspector_keeps_its_place() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    crate::chat::make_profile(&app.db, "Zawadi", false).await;
    admin_client(&app, "redactor@fantooo.com", AdminRole::SuperAdmin).await;
    let base = serve(&app).await;
    let (dir_user, dir_admin) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let u = browser(&driver_url, dir_user.path()).await;
    let admin = browser(&driver_url, dir_admin.path()).await;
    let result = async {
        crate::browser_chat::register(&u, &base, "rude_visitor").await?;
        ready(&u, By::Css("a.profile-link")).await?.click().await?;
        ready(&u, By::XPath("//button[contains(., 'Message Zawadi')]")).await?.click().await?;
        u.query(By::Css("#chat[data-live='1']")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
        for text in ["hello", "my number is 0712 000 111, you fool", "are you there?"] {
            ready(&u, By::Id("content")).await?.send_keys(text).await?;
            ready(&u, By::Id("send")).await?.click().await?;
            let stored = format!("//li[contains(@class,'msg-mine') and @data-seq][p[text()='{text}']]");
            u.query(By::XPath(stored)).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
        }
        let chat = u.find(By::Id("chat")).await?.attr("data-chat-id").await?.unwrap();

        admin.set_window_rect(0, 0, 1280, 700).await?;
        sign_in(&admin, &base, "/admin-login", "redactor@fantooo.com", "/admin").await?;
        admin.goto(format!("{base}/admin/chats/{chat}")).await?;
        let item = ready(&admin, By::XPath("//li[.//p[contains(., '0712 000 111')]]")).await?;
        item.find(By::Css("details.redact-form summary")).await?.click().await?;
        item.find(By::Css("details.redact-form input[name='reason']")).await?.send_keys("contact details, insult").await?;
        // Read the page where the moderator is, then act.
        admin.execute("window.scrollTo(0, 180)", vec![]).await?;
        let before = admin.execute("return window.scrollY", vec![]).await?.json().as_f64().unwrap();
        assert!(before > 100.0, "the page scrolled: {before}");
        // Clicked by script so the driver does not scroll to the button.
        let button = item.find(By::Css("details.redact-form button[type='submit']")).await?;
        admin.execute("var b = arguments[0]; setTimeout(function () { b.click(); }, 0);", vec![button.to_json()?]).await?;
        let mut accepted = false;
        for _ in 0..50 {
            if admin.accept_alert().await.is_ok() {
                accepted = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(accepted, "the redaction asks first");
        admin.query(By::Css("[data-moderated]")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
        let notice = admin.find(By::Css(".alert-success")).await?.text().await?;
        assert!(notice.contains("redacted"), "{notice}");
        let after = admin.execute("return window.scrollY", vec![]).await?.json().as_f64().unwrap();
        assert!((after - before).abs() < 5.0, "the inspector kept its place: {before} → {after}");
        shot(&admin, "staff-inspector-redacted-1280").await;

        // Live on the user's page, without a reload.
        let note =
            u.query(By::Css("li.msg-mine [data-moderated]")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
        assert!(note.text().await?.contains("moderator"));
        let redacted = u.find(By::XPath("//li[.//*[@data-moderated]]/p[contains(@class,'msg-text')]")).await?.text().await?;
        assert_eq!(redacted, fantooo_domain::chat::REDACTED_TEXT);
        shot(&u, "chat-moderated-live-phone").await;
        u.refresh().await?;
        ready(&u, By::Css("li.msg-mine [data-moderated]")).await?;
        assert!(!u.find(By::Id("messages")).await?.text().await?.contains("0712"), "the original is gone for the user");
        shot(&u, "chat-moderated-reload-phone").await;
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = u.quit().await;
    let _ = admin.quit().await;
    result.expect("redaction");
}
