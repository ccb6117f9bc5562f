//! Headless Chromium through the standing pages at 375 px and 1280 px
//! (screenshots in `target/screenshots/rooms-status-*.png`): a level-up
//! arrives live as a toast, badges and the worn frame show in the room,
//! and the levels and frames pages. Skipped without Chromium.

use crate::browser_pages::{shot, sign_in, until};
use crate::chrome::{chromedriver, chromium};
use crate::status::scene;
use crate::support::TestApp;
use chrono::Utc;
use rooms_domain::progress::Track;
use rooms_domain::status::{Privilege, Step};
use serde_json::json;
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_level_up_toasts_live_and_badges_and_frames_show_at_both_widths() {
    let Some(driver) = chromedriver().await else { return };
    let app = TestApp::new(rooms_store::Backend::Sqlite).await;
    let base = format!("http://{}", crate::socket::serve(&app).await);
    let mut s = scene(&app, 50).await;
    let now = Utc::now();
    rooms_store::levels::set_step(
        &app.db,
        Track::Wealth,
        // The neon frame's 1,200 coins are wealth XP too: level 2 comes with the gift after it.
        &Step { level: 2, xp: 1_240, badge: "Bronze".into(), privileges: vec![Privilege::ColouredName] },
        None,
        now,
    )
    .await
    .unwrap();
    rooms_store::economy::grant(&app.db, s.fan_id, 2_000, "fund", None, now).await.unwrap();
    let gold = rooms_store::frames::catalogue(&app.db).await.unwrap().into_iter().find(|f| f.code == "neon").unwrap();
    rooms_store::frames::buy(&app.db, s.fan_id, gold.id, gold.price, "b1", now).await.unwrap();
    rooms_store::frames::wear(&app.db, s.fan_id, Some(gold.id), now).await.unwrap();

    let profile = tempfile::tempdir().unwrap();
    let d = chromium(&driver, profile.path()).await;
    let outcome = async {
        d.set_window_rect(0, 0, 375, 812).await?;
        sign_in(&d, &base, "fan@example.com").await?;
        d.goto(format!("{base}/levels")).await?;
        until(&d, "return !!(window.roomsSocket && window.roomsSocket.ws && window.roomsSocket.ws.readyState === 1);", "the live socket")
            .await;
        // The fan spends 50 coins from another device: level 2, toasted here.
        let r = s
            .fan
            .post(&format!("/api/v1/rooms/{}/gifts", s.room), json!({"gift_id": s.gift, "to": s.star_id, "idempotency_key": "up"}))
            .await;
        assert_eq!(r.status.as_u16(), 201, "{}", r.body);
        until(
            &d,
            "return [...document.querySelectorAll('.toast')].some((t) => t.textContent.includes('wealth level 2'));",
            "the level-up toast",
        )
        .await;
        shot(&d, "status-toast-375").await;
        d.goto(format!("{base}/levels")).await?;
        shot(&d, "status-levels-375").await;
        d.goto(format!("{base}/frames")).await?;
        shot(&d, "status-frames-375").await;
        d.goto(format!("{base}/rooms/{}", s.room)).await?;
        until(
            &d,
            "return !!document.querySelector('.seats .badges') && !!document.querySelector('#people .av.frame-neon');",
            "badges and the frame in the room",
        )
        .await;
        let chat = d.find(By::Name("body")).await?;
        chat.send_keys("hello from a framed fan").await?;
        d.find(By::Css("#chat form button")).await?.click().await?;
        until(&d, "return !!document.querySelector('#chat-lines li .badges');", "a badge on the chat line").await;
        shot(&d, "status-room-375").await;
        d.set_window_rect(0, 0, 1280, 900).await?;
        shot(&d, "status-room-1280").await;
        d.goto(format!("{base}/levels")).await?;
        shot(&d, "status-levels-1280").await;
        d.goto(format!("{base}/frames")).await?;
        shot(&d, "status-frames-1280").await;
        Ok::<(), WebDriverError>(())
    }
    .await;
    d.quit().await.ok();
    outcome.unwrap();
}
