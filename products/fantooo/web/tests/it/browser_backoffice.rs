//! The chat inspector in real Chromium: an admin edits a profile message
//! with a reason, sees the edit marked in the inspector, and finds it in
//! the audit log.

use crate::backoffice::admin_json;
use crate::browser::{browser, serve, start_driver, wait_for_path};
use crate::chat::{say, user_with_chat};
use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_domain::AdminRole;
use std::time::Duration;
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_edits_a_message_in_the_inspector_and_finds_it_in_the_audit_log() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    let (mut user, _, chat) = user_with_chat(&app, "browsed").await;
    say(&mut user, chat, "hello?").await;
    let mut api_admin = admin_client(&app, "root@fantooo.com", AdminRole::SuperAdmin).await;
    let r =
        admin_json(&mut api_admin, Method::POST, &format!("/api/admin/chats/{chat}/send"), serde_json::json!({ "content": "Hi thre!" }))
            .await;
    assert_eq!(r.status, StatusCode::OK);
    let message = r.json()["message"]["id"].as_str().unwrap().to_string();
    let base = serve(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let d = browser(&driver_url, dir.path()).await;
    let result = async {
        d.goto(format!("{base}/admin-login")).await?;
        d.find(By::Id("login")).await?.send_keys("root@fantooo.com").await?;
        d.find(By::Id("password")).await?.send_keys(PASSWORD).await?;
        d.find(By::Id("login-submit")).await?.click().await?;
        wait_for_path(&d, "/admin").await;
        d.goto(format!("{base}/admin/chats/{chat}")).await?;
        let item = d.find(By::Css(format!("li[data-message='{message}']"))).await?;
        item.find(By::Css("details.edit-form summary")).await?.click().await?;
        let text = item.find(By::Css("details.edit-form textarea[name='content']")).await?;
        text.clear().await?;
        text.send_keys("Hi there!").await?;
        item.find(By::Css("details.edit-form input[name='reason']")).await?.send_keys("spelling").await?;
        item.find(By::Css("details.edit-form button[type='submit']")).await?.click().await?;
        let edited = d
            .query(By::Css(format!("li[data-message='{message}'] [data-edited]")))
            .wait(Duration::from_secs(10), Duration::from_millis(100))
            .first()
            .await?;
        assert!(edited.text().await?.contains("edited ×1"));
        let li = d.find(By::Css(format!("li[data-message='{message}']"))).await?;
        assert!(li.find(By::Css(".msg-text")).await?.text().await?.contains("Hi there!"));
        li.find(By::Css("details.edit-history summary")).await?.click().await?;
        let history = li.find(By::Css("details.edit-history")).await?.text().await?;
        assert!(history.contains("Hi thre!") && history.contains("spelling"), "{history}");
        d.goto(format!("{base}/admin/audit")).await?;
        let row = d.find(By::Css("tr[data-key='message_edited']")).await?.text().await?;
        assert!(row.contains("Hi thre!") && row.contains("Hi there!"), "{row}");
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = d.quit().await;
    result.expect("browser flow");
    // The user's own view shows the new text and no sign of the edit.
    let hist = user.api_get(&format!("/api/chats/{chat}/messages")).await;
    assert!(hist.body.contains("Hi there!") && !hist.body.contains("is_edited"));
}

/// The audit log on the platform's back-office shell, at phone width and
/// at 1280 px: each change reads `field: old → new`, the page never
/// scrolls sideways, the pager leads to older entries; screenshots kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_reads_at_phone_and_desktop_width() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    let _root = admin_client(&app, "root@fantooo.com", AdminRole::SuperAdmin).await;
    let me = fantooo_store::admins::list(&app.db).await.unwrap().into_iter().find(|a| a.email == "root@fantooo.com").unwrap();
    for i in 0..52 {
        let before = serde_json::json!({ "status": "active", "display_name": format!("Member {i}"), "credits": 40 });
        let after = serde_json::json!({ "status": "banned", "display_name": format!("Member {i}"), "credits": 40, "ban_reason": "Asked other members for money off the site" });
        fantooo_store::audit::admin_action(
            &app.db,
            Some(me.id),
            "user_banned",
            Some(("user", uuid::Uuid::new_v4().to_string())),
            Some(before),
            Some(after),
            Some("203.0.113.9"),
        )
        .await
        .unwrap();
    }
    let base = serve(&app).await;
    for (label, width, height) in [("phone", 375, 812), ("desktop", 1280, 900)] {
        let profile = tempfile::tempdir().unwrap();
        let d = browser(&driver_url, profile.path()).await;
        let result = async {
            d.set_window_rect(0, 0, width, height).await?;
            d.goto(format!("{base}/admin-login")).await?;
            d.find(By::Id("login")).await?.send_keys("root@fantooo.com").await?;
            d.find(By::Id("password")).await?.send_keys(PASSWORD).await?;
            d.find(By::Id("login-submit")).await?.click().await?;
            wait_for_path(&d, "/admin").await;
            d.goto(format!("{base}/admin/audit")).await?;
            let rows = d.find_all(By::Css("tr[data-key='user_banned']")).await?;
            assert_eq!(rows.len(), 50, "{label}");
            let first = rows[0].text().await?;
            assert!(first.contains("status: active → banned") && first.contains("ban_reason: — → Asked other members"), "{label}: {first}");
            assert!(!first.contains("credits"), "{label}: unchanged fields are left out");
            let sideways: bool = d.execute("return document.documentElement.scrollWidth > window.innerWidth;", vec![]).await?.convert()?;
            assert!(!sideways, "{label}: the page scrolls sideways");
            let heading_shown: bool = d
                .execute("return getComputedStyle(document.querySelector('.bo-table thead')).display !== 'none';", vec![])
                .await?
                .convert()?;
            assert_eq!(heading_shown, label == "desktop", "{label}: phones show labelled cards, not a table heading");
            crate::browser::shot(&d, &format!("audit-log-{label}")).await;
            d.execute("document.querySelector('.bo-table-wrap').scrollIntoView()", vec![]).await?;
            crate::browser::shot(&d, &format!("audit-log-{label}-rows")).await;
            d.find(By::Css("a[rel='next']")).await?.click().await?;
            let older = d.find_all(By::Css("tr[data-key='user_banned']")).await?;
            assert_eq!(older.len(), 2, "{label}: the older page");
            Ok::<_, WebDriverError>(())
        }
        .await;
        let _ = d.quit().await;
        result.unwrap_or_else(|e| panic!("{label}: {e}"));
    }
}
