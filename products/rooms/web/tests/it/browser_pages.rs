//! Headless Chromium through the new pages at phone width (375 px) and at
//! 1280 px, with screenshots kept in `target/screenshots/rooms-*.png`:
//! "Continue with Google" on the local provider, the welcome step, a room
//! with a chosen theme and background music. Skipped without Chromium.

use crate::chrome::{chromedriver, chromium, js};
use crate::support::TestApp;
use platform_identity::fake::FakeOidc;
use platform_identity::{OidcClient, OidcConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use thirtyfour::prelude::*;

pub async fn shot(d: &WebDriver, name: &str) {
    let dir = platform_testkit::browser::screenshots_dir(env!("CARGO_MANIFEST_DIR"));
    platform_testkit::browser::screenshot(d, &dir, &format!("rooms-{name}")).await
}

pub use platform_testkit::browser::until;

/// Signs `login` in through the sign-in page (dropping an earlier
/// session's cookies first) and waits for the home page it leads to.
pub async fn sign_in(d: &WebDriver, base: &str, login: &str) -> WebDriverResult<()> {
    d.delete_all_cookies().await?;
    d.goto(format!("{base}/signin")).await?;
    d.find(By::Name("login")).await?.send_keys(login).await?;
    d.find(By::Name("password")).await?.send_keys(crate::support::PASSWORD).await?;
    d.find(By::Css("form button.btn")).await?.click().await?;
    until(d, "return location.pathname === '/';", "home after sign-in").await;
    Ok(())
}

async fn text(d: &WebDriver) -> String {
    d.find(By::Tag("body")).await.unwrap().text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_sign_up_welcome_theme_and_music_at_phone_and_wide_widths() {
    let Some(driver) = chromedriver().await else { return };
    // The provider first, then the app that trusts it, then serve the app.
    let site = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", site.local_addr().unwrap());
    let idp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", idp.local_addr().unwrap());
    let fake = FakeOidc::new(&issuer);
    let redirect = format!("{base}/auth/google/callback");
    fake.add_client("rooms", "rooms-secret", &[&redirect]);
    let fake_app = fake.router();
    tokio::spawn(async move { axum::serve(idp, fake_app).await.unwrap() });
    let client = Arc::new(OidcClient::new(OidcConfig::new(issuer, "rooms", "rooms-secret", redirect)));
    let app = TestApp::with_state(rooms_store::Backend::Sqlite, |s| s.google = Some(client)).await;
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(site, router.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap() });

    let profile = tempfile::tempdir().unwrap();
    let track = profile.path().join("Evening Jazz.mp3");
    std::fs::write(&track, [b"ID3\x04\0\0\0\0\0\0".as_slice(), &[0xFF, 0xFB, 0x90, 0x64], &[0u8; 2000]].concat()).unwrap();
    let d = chromium(&driver, profile.path()).await;
    let outcome = async {
        d.set_window_rect(0, 0, 375, 812).await?;
        d.goto(format!("{base}/signin")).await?;
        shot(&d, "signin-375").await;
        d.find(By::LinkText("Continue with Google")).await?.click().await?;
        // The provider's page: pick Amina.
        d.find(By::XPath("//button[contains(., 'Amina Njeri')]")).await?.click().await?;
        until(&d, "return location.pathname === '/welcome';", "the welcome step").await;
        assert!(text(&d).await.contains("amina@example.com"));
        shot(&d, "welcome-375").await;
        d.find(By::Name("handle")).await?.send_keys("amina").await?;
        js(&d, "document.querySelector('[name=birth_date]').value = '1994-06-01'; return true;").await;
        d.find(By::Name("country")).await?.send_keys("KE").await?;
        d.find(By::Css("form button.btn")).await?.click().await?;
        until(&d, "return location.pathname === '/';", "home after the welcome step").await;
        assert!(text(&d).await.contains("Amina Njeri"));

        // A room of her own, themed, with music.
        d.goto(format!("{base}/rooms/new")).await?;
        d.find(By::Name("name")).await?.send_keys("Amina's Lounge").await?;
        d.find(By::Css("form button.btn")).await?.click().await?;
        // `/rooms/new` itself starts with `/rooms/`: wait for the room's own page and its theme buttons.
        until(
            &d,
            "return location.pathname !== '/rooms/new' && !!document.querySelector(\"button[name=theme][value=sunset]\");",
            "the room page",
        )
        .await;
        d.find(By::XPath("//button[@name='theme' and @value='sunset']")).await?.click().await?;
        until(&d, "return !!document.querySelector('.room.theme-sunset');", "the sunset theme").await;
        let bg = js(&d, "return getComputedStyle(document.querySelector('.room')).backgroundImage;").await;
        assert!(bg.as_str().unwrap_or_default().contains("linear-gradient"), "{bg}");
        d.find(By::Name("track")).await?.send_keys(track.display().to_string()).await?;
        d.find(By::XPath("//button[.='Upload track']")).await?.click().await?;
        // The upload answers with the room page again, now with the track: wait for it.
        until(
            &d,
            "return [...document.querySelectorAll('button')].some(b => b.textContent === 'Play music for everyone');",
            "the uploaded track's play button",
        )
        .await;
        d.find(By::XPath("//button[.='Play music for everyone']")).await?.click().await?;
        until(&d, "const s = document.getElementById('music-state'); return !!s && s.textContent === 'playing';", "music playing").await;
        assert!(text(&d).await.contains("♪ Evening Jazz"));
        let overflow = js(&d, "return document.documentElement.scrollWidth > window.innerWidth;").await;
        assert_eq!(overflow.as_bool(), Some(false), "nothing wider than a phone");
        shot(&d, "room-theme-music-375").await;
        d.set_window_rect(0, 0, 1280, 900).await?;
        d.refresh().await?;
        until(&d, "return !!document.querySelector('.room.theme-sunset');", "the theme at 1280 px").await;
        shot(&d, "room-theme-music-1280").await;
        d.goto(format!("{base}/signin")).await?;
        shot(&d, "signin-1280").await;
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = d.quit().await;
    outcome.unwrap();
}
