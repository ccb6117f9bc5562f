//! End to end in two browsers: a user's message is assigned to an online
//! operator, shows up in their waiting room live, and the answer typed in
//! the console reaches the user's page live.

use crate::browser::{browser, serve, start_driver, wait_for_path};
use crate::browser_chat::ready;
use crate::chat::make_profile;
use crate::support::*;
use std::time::Duration;
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_is_assigned_answered_and_pushed_back_in_chromium() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    let app = TestApp::with_config(fantooo_store::Backend::Sqlite, |c| c.run_assigner = true).await;
    make_profile(&app.db, "Zuri", false).await;
    operator_client(&app, "agent@fantooo.com").await;
    api_user(&app, "otieno").await;
    let base = serve(&app).await;
    let (dir_user, dir_op) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let user = browser(&driver_url, dir_user.path()).await;
    let op = browser(&driver_url, dir_op.path()).await;
    let result = async {
        // The operator signs in and goes online.
        op.goto(format!("{base}/op-login")).await?;
        ready(&op, By::Id("login")).await?.send_keys("agent@fantooo.com").await?;
        ready(&op, By::Id("password")).await?.send_keys(PASSWORD).await?;
        ready(&op, By::Id("login-submit")).await?.click().await?;
        wait_for_path(&op, "/operator/waiting").await;
        ready(&op, By::Id("go-online")).await?.click().await?;
        ready(&op, By::Id("go-offline")).await?;
        op.query(By::Css("#op-room[data-live='1']")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;

        // The user signs in, opens the profile's chat and writes.
        user.goto(format!("{base}/login")).await?;
        ready(&user, By::Id("login")).await?.send_keys("otieno").await?;
        ready(&user, By::Id("password")).await?.send_keys(PASSWORD).await?;
        ready(&user, By::Id("login-submit")).await?.click().await?;
        wait_for_path(&user, "/discover").await;
        ready(&user, By::Css("a.profile-link")).await?.click().await?;
        ready(&user, By::XPath("//button[contains(., 'Message Zuri')]")).await?.click().await?;
        user.query(By::Css("#chat[data-live='1']")).wait(Duration::from_secs(10), Duration::from_millis(100)).first().await?;
        ready(&user, By::Id("content")).await?.send_keys("Hi Zuri, how was your day?").await?;
        ready(&user, By::Id("send")).await?.click().await?;

        // Without reloading, the chat appears in the operator's list.
        // The list re-renders on every live update, so read the link's
        // address rather than hold on to the element.
        let mut href = None;
        for _ in 0..100 {
            if let Ok(link) = op.find(By::XPath("//ul[@id='held-list']//a[contains(., 'otieno')]")).await {
                if let Ok(Some(h)) = link.attr("href").await {
                    href = Some(h);
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let href = href.expect("the chat reached the operator's list");
        assert!(href.starts_with("/operator/chat/"), "{href}");
        op.goto(format!("{base}{href}")).await?;
        op.query(By::XPath("//li[contains(@class,'msg-theirs')]/p[text()='Hi Zuri, how was your day?']"))
            .wait(Duration::from_secs(10), Duration::from_millis(100))
            .first()
            .await?;
        // A template goes into the composer with one click; then the reply.
        ready(&op, By::Css(".template-btn")).await?.click().await?;
        assert_eq!(op.find(By::Id("content")).await?.value().await?.as_deref(), Some("SECRET-TEMPLATE"));
        let content = ready(&op, By::Id("content")).await?;
        content.clear().await?;
        content.send_keys("Lovely, thanks for asking!").await?;
        ready(&op, By::Id("send")).await?.click().await?;

        let reply = user
            .query(By::XPath("//li[contains(@class,'msg-theirs')]/p[text()='Lovely, thanks for asking!']"))
            .wait(Duration::from_secs(10), Duration::from_millis(100))
            .first()
            .await?;
        assert!(reply.is_displayed().await?);
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = user.quit().await;
    let _ = op.quit().await;
    result.expect("operator flow");
}
