//! Headless Chromium: a singer finds an agency and applies, the owner
//! accepts on the dashboard and sees them among the members, at 375 px and
//! 1280 px (screenshots in `target/screenshots/rooms-agency-*.png`).
//! Skipped without Chromium.

use crate::browser_pages::{shot, sign_in, until};
use crate::chrome::{chromedriver, chromium};
use crate::support::TestApp;
use chrono::Utc;
use rooms_domain::agency::AgencyStatus;
use serde_json::json;
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_singer_applies_and_the_owner_accepts_on_the_dashboard() {
    let Some(driver) = chromedriver().await else { return };
    let app = TestApp::new(rooms_store::Backend::Sqlite).await;
    let base = format!("http://{}", crate::socket::serve(&app).await);
    let mut boss = app.client();
    let boss_id: rooms_domain::ids::AccountId =
        boss.sign_up("boss@example.com", "boss").await["account"]["id"].as_str().unwrap().parse().unwrap();
    app.client().sign_up("star@example.com", "star").await;
    let r = boss.post("/api/v1/agencies", json!({"name": "Starlight", "country": "NG"})).await;
    let agency = r.json()["agency"]["id"].as_str().unwrap().parse().unwrap();
    let side = |n: u8| rooms_store::agency_details::SealedImage { mime: "image/png".into(), sealed: vec![n; 16] };
    let application = rooms_store::agency_details::Submission {
        logo_url: "/media/logos/starlight.png".into(),
        details: rooms_domain::agency::Details {
            phone: "+2348012345678".into(),
            address: "1 Marina, Lagos".into(),
            referrer: String::new(),
        },
        front: side(1),
        back: side(2),
    };
    rooms_store::agency_details::submit(&app.db, boss_id, agency, &application, Utc::now()).await.unwrap();
    rooms_store::agencies::set_status(&app.db, boss_id, agency, AgencyStatus::Active, "", Utc::now()).await.unwrap();
    // A pending invitation the owner withdraws on the dashboard.
    app.client().sign_up("fan@example.com", "fan").await;
    let fan_no: i64 = platform_db::on_pool!(&app.db, p => sqlx::query_scalar("SELECT public_number FROM accounts WHERE handle = 'fan'").fetch_one(p).await.unwrap());
    let r = boss.post("/api/v1/agency/invitations", json!({"number": fan_no.to_string()})).await;
    let invitation = r.json()["invitation"]["id"].as_str().unwrap_or_else(|| panic!("{}", r.body)).to_string();
    let profile = tempfile::tempdir().unwrap();
    let d = chromium(&driver, profile.path()).await;
    let outcome = async {
        d.set_window_rect(0, 0, 375, 812).await?;
        sign_in(&d, &base, "star@example.com").await?;
        d.goto(format!("{base}/agencies?q=star")).await?;
        shot(&d, "agency-find-375").await;
        d.find(By::Css("li[data-agency='Starlight'] form button")).await?.click().await?;
        until(
            &d,
            "return location.search.includes('notice=') && document.querySelector('#my-agency').textContent.includes('waiting');",
            "the application sent",
        )
        .await;
        shot(&d, "agency-applied-375").await;
        sign_in(&d, &base, "boss@example.com").await?;
        d.goto(format!("{base}/agency")).await?;
        shot(&d, "agency-dashboard-pending-375").await;
        d.find(By::Css("li[data-applicant='star'] form[action$='/accept'] button")).await?.click().await?;
        until(&d, "return !!document.querySelector(\"tr[data-member='star']\");", "the new member on the dashboard").await;
        shot(&d, "agency-dashboard-375").await;
        d.set_window_rect(0, 0, 1280, 900).await?;
        shot(&d, "agency-dashboard-1280").await;
        d.goto(format!("{base}/agencies")).await?;
        shot(&d, "agency-find-1280").await;
        // Withdrawing the invitation: confirmed with its box, then gone; the invitee's link says so.
        d.goto(format!("{base}/agency")).await?;
        let invited = d.find(By::Css("li[data-invited='fan']")).await?;
        invited.scroll_into_view().await?;
        shot(&d, "agency-invited-1280").await;
        d.set_window_rect(0, 0, 375, 812).await?;
        invited.scroll_into_view().await?;
        shot(&d, "agency-invited-375").await;
        d.find(By::Css("li[data-invited='fan'] input[name='confirm']")).await?.click().await?;
        d.find(By::Css("li[data-invited='fan'] form button")).await?.click().await?;
        until(&d, "return location.search.includes('notice=') && !document.querySelector(\"li[data-invited='fan']\");", "the invitation withdrawn").await;
        sign_in(&d, &base, "fan@example.com").await?;
        d.goto(format!("{base}/agencies?invitation={invitation}")).await?;
        until(&d, "return (document.querySelector('#invitation-note') || {textContent: ''}).textContent.includes('Starlight withdrew its invitation');", "the invitee's link").await;
        shot(&d, "agency-invitation-withdrawn-375").await;
        Ok::<(), WebDriverError>(())
    }
    .await;
    d.quit().await.ok();
    outcome.unwrap();
    let d = rooms_store::agencies::get(&app.db, agency).await.unwrap();
    assert_eq!(d.member_count, 1);
}
