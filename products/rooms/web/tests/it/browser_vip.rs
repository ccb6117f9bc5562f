//! Headless Chromium: a fan buys VIP on the `/vip` page and sees the VIP
//! chip next to their name in the room, and gives VIP to someone else
//! through the form and its confirmation, at 375 px and 1280 px
//! (screenshots in `target/screenshots/rooms-vip-*.png`). Skipped without
//! Chromium.

use crate::browser_pages::{shot, sign_in, until};
use crate::chrome::{chromedriver, chromium};
use crate::status::scene;
use crate::support::TestApp;
use chrono::Utc;
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_buys_vip_and_sees_the_chip_at_both_widths() {
    let Some(driver) = chromedriver().await else { return };
    let app = TestApp::new(rooms_store::Backend::Sqlite).await;
    let base = format!("http://{}", crate::socket::serve(&app).await);
    let s = scene(&app, 50).await;
    rooms_store::economy::grant(&app.db, s.fan_id, 5_000, "fund", None, Utc::now()).await.unwrap();
    let profile = tempfile::tempdir().unwrap();
    let d = chromium(&driver, profile.path()).await;
    let outcome = async {
        d.set_window_rect(0, 0, 375, 812).await?;
        sign_in(&d, &base, "fan@example.com").await?;
        d.goto(format!("{base}/vip")).await?;
        shot(&d, "vip-page-375").await;
        d.find(By::Css("form[action='/vip/1/buy'] button")).await?.click().await?;
        until(
            &d,
            "return location.search === '?notice=new' && document.querySelector('#my-vip').textContent.includes('VIP 1');",
            "the tier held",
        )
        .await;
        shot(&d, "vip-bought-375").await;
        d.goto(format!("{base}/rooms/{}", s.room)).await?;
        until(&d, "return !!document.querySelector('#people .vip-chip');", "the VIP chip next to the fan").await;
        shot(&d, "vip-room-375").await;
        d.set_window_rect(0, 0, 1280, 900).await?;
        shot(&d, "vip-room-1280").await;
        d.goto(format!("{base}/vip")).await?;
        shot(&d, "vip-page-1280").await;
        Ok::<(), WebDriverError>(())
    }
    .await;
    d.quit().await.ok();
    outcome.unwrap();
    assert_eq!(rooms_store::vip::tier_of(&app.db, s.fan_id, Utc::now()).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_gives_vip_through_the_form_and_its_confirmation() {
    let Some(driver) = chromedriver().await else { return };
    let app = TestApp::new(rooms_store::Backend::Sqlite).await;
    let base = format!("http://{}", crate::socket::serve(&app).await);
    let mut s = scene(&app, 50).await;
    let (_, star_number) = crate::economy::id_of(&mut s.star).await;
    rooms_store::economy::grant(&app.db, s.fan_id, 5_000, "fund", None, Utc::now()).await.unwrap();
    let profile = tempfile::tempdir().unwrap();
    let d = chromium(&driver, profile.path()).await;
    let outcome = async {
        d.set_window_rect(0, 0, 375, 812).await?;
        sign_in(&d, &base, "fan@example.com").await?;
        d.goto(format!("{base}/vip")).await?;
        d.find(By::Css("#give-vip input[name='recipient']")).await?.send_keys(star_number.to_string()).await?;
        d.find(By::Css("#give-vip select[name='tier'] option[value='2']")).await?.click().await?;
        d.find(By::Id("give-vip")).await?.scroll_into_view().await?;
        shot(&d, "vip-give-375").await;
        d.find(By::Id("give-next")).await?.click().await?;
        until(
            &d,
            "return !!document.querySelector('#give-confirm') && document.body.textContent.includes('star Person');",
            "the confirmation",
        )
        .await;
        shot(&d, "vip-give-confirm-375").await;
        d.set_window_rect(0, 0, 1280, 900).await?;
        shot(&d, "vip-give-confirm-1280").await;
        d.find(By::Id("give-confirm")).await?.click().await?;
        until(&d, "return location.search === '?notice=given';", "the gift given").await;
        shot(&d, "vip-given-1280").await;
        Ok::<(), WebDriverError>(())
    }
    .await;
    d.quit().await.ok();
    outcome.unwrap();
    assert_eq!(rooms_store::vip::tier_of(&app.db, s.star_id, Utc::now()).await.unwrap(), 2);
    assert_eq!(rooms_store::economy::balances(&app.db, s.fan_id).await.unwrap().coins, 2_000);
}
