//! Headless Chromium: a member with salary reviews an exchange on the
//! agencies page, confirms it, and finds it in the history, at 375 px and
//! 1280 px (screenshots in `target/screenshots/rooms-salary-*.png`).
//! Skipped without Chromium.

use crate::browser_pages::{shot, sign_in, until};
use crate::chrome::{chromedriver, chromium};
use crate::support::TestApp;
use platform_ledger::{Amount, Book, Leg, Transfer, Unit};
use rooms_store::agencies::{SALARY_FUND, SALARY_FUND_OPENING, SALARY_UNIT};
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_exchanges_salary_after_confirming() {
    let Some(driver) = chromedriver().await else { return };
    let app = TestApp::new(rooms_store::Backend::Sqlite).await;
    let base = format!("http://{}", crate::socket::serve(&app).await);
    let id = app.client().sign_up("star@example.com", "star").await["account"]["id"].as_str().unwrap().to_string();
    let usd = Unit::parse(SALARY_UNIT).unwrap();
    let fund = rooms_store::economy::system_wallet(&app.db, SALARY_FUND, &usd, SALARY_FUND_OPENING).await.unwrap();
    let to = platform_ledger::wallets::open(&app.db, "account", &id, &usd).await.unwrap().id;
    let t = Transfer {
        legs: vec![Leg { wallet: fund, unit: usd.clone(), delta: Amount(-3_000) }, Leg { wallet: to, unit: usd, delta: Amount(3_000) }],
        reason: "agency_salary",
        reference: Some(&id),
        idempotency_key: "agency_salary:browser",
        created_by: None,
    };
    Book::standard().transfer(&app.db, &t).await.unwrap();
    let profile = tempfile::tempdir().unwrap();
    let d = chromium(&driver, profile.path()).await;
    let outcome = async {
        d.set_window_rect(0, 0, 375, 812).await?;
        sign_in(&d, &base, "star@example.com").await?;
        d.goto(format!("{base}/agencies#salary")).await?;
        shot(&d, "salary-empty-375").await;
        d.find(By::Css("#salary input[name='dollars']")).await?.send_keys("12.50").await?;
        d.find(By::Css("#salary form button")).await?.click().await?;
        until(&d, "return !!document.querySelector('#salary-confirm');", "the confirmation").await;
        shot(&d, "salary-confirm-375").await;
        d.find(By::Css("#salary-confirm form button")).await?.click().await?;
        until(
            &d,
            "return location.search.includes('notice=') && !!document.querySelector('#salary-history li');",
            "the exchange in the history",
        )
        .await;
        shot(&d, "salary-history-375").await;
        d.set_window_rect(0, 0, 1280, 900).await?;
        shot(&d, "salary-history-1280").await;
        Ok::<(), WebDriverError>(())
    }
    .await;
    d.quit().await.ok();
    outcome.unwrap();
    let left = rooms_store::salary_exchange::salary_balance(&app.db, id.parse().unwrap()).await.unwrap();
    assert_eq!(left, 1_750);
}
