//! Two headless Chromium through the real Rooms pages on a real Janus
//! (skipped with a message without `JANUS_URL` or Chromium): each signs in,
//! opens the room page, and its script joins the room's audio with the
//! page's pass; taking a seat through the API turns the speaker's page to
//! speaking (from the socket's event), and Janus shows the speaker unmuted
//! with WebRTC up while the listener receives the mix; the owner's mute
//! shows in Janus and turns the page back to listening. Janus's talking
//! events light the speaker's seat on the listener's page. A page whose
//! pass lives seconds renews it in time and stays in the mix through the
//! sweeps that drop lapsed passes.

use crate::chrome::{chromedriver, chromium, chromium_with, js, tone_wav, Chromedriver};
use crate::socket::serve;
use crate::support::{TestApp, PASSWORD};
use axum::http::StatusCode;
use rooms_voice::{JanusServer, JanusVoice, VoiceService};
use rooms_web::voice::{user_number, JanusSeam, VoiceSeam};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use thirtyfour::prelude::*;

async fn sign_in_and_open(d: &WebDriver, base: &str, login: &str, room: &str) -> WebDriverResult<()> {
    d.goto(format!("{base}/signin")).await?;
    d.find(By::Name("login")).await?.send_keys(login).await?;
    d.find(By::Name("password")).await?.send_keys(PASSWORD).await?;
    d.find(By::Css("form button")).await?.click().await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    d.goto(format!("{base}/rooms/{room}")).await
}

/// Waits (bounded) until the page's voice state is `want`.
async fn voice_state(d: &WebDriver, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = js(d, "return window.roomsVoiceState || null;").await;
        if s == want {
            return;
        }
        if s == "failed" || Instant::now() > deadline {
            let said = js(d, "const e = document.getElementById('voice-status'); return e ? e.textContent : null;").await;
            panic!("voice state {s}, wanted {want}: {said}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn until(mut ok: impl AsyncFnMut() -> bool, what: &str) {
    for _ in 0..200 {
        if ok().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never: {what}");
}

/// A Rooms app with voice on the real Janus (passes lasting `ttl`), served
/// on a port, and chromedriver; `None` (skipped) without Janus or Chromium.
struct VoiceApp {
    service: Arc<JanusVoice>,
    seam: Arc<JanusSeam>,
    app: TestApp,
    base: String,
    driver: Chromedriver,
}

async fn voice_app(ttl: Duration) -> Option<VoiceApp> {
    let (url, admin) = crate::voice::janus()?;
    let driver = chromedriver().await?;
    let service = Arc::new(JanusVoice::new(JanusServer::from_lists(&url, &url, admin.as_deref()).unwrap(), b"rooms browser key"));
    let seam = JanusSeam::start_with(service.clone(), ttl, crate::voice::test_base());
    let app = TestApp::with_voice_at(rooms_store::Backend::Sqlite, seam.clone(), rooms_web::voice::origins(&url)).await;
    let base = format!("http://{}", serve(&app).await);
    Some(VoiceApp { service, seam, app, base, driver })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_join_voice_through_the_room_page() {
    let Some(VoiceApp { service, seam, app, base, driver }) = voice_app(rooms_web::voice::PASS_TTL).await else { return };

    let mut owner = app.client();
    let oid = owner.sign_up("speaker@example.com", "speaker").await["account"]["id"].as_str().unwrap().to_string();
    let mut guest = app.client();
    let gid = guest.sign_up("listener@example.com", "listener").await["account"]["id"].as_str().unwrap().to_string();
    let room = owner.post("/api/v1/rooms", json!({"name": "Browsers"})).await.json()["room"]["id"].as_str().unwrap().to_string();
    for c in [&mut owner, &mut guest] {
        assert_eq!(c.post(&format!("/api/v1/rooms/{room}/join"), json!({})).await.status, StatusCode::OK);
    }
    let number = seam.janus_room(room.parse().unwrap()).await.expect("a stored voice number");
    let (o_user, g_user) = (user_number(oid.parse().unwrap()), user_number(gid.parse().unwrap()));

    let (pa, pb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let wav = pa.path().join("tone.wav");
    tone_wav(&wav);
    let a = chromium_with(&driver, pa.path(), Some(&wav)).await;
    let b = chromium(&driver, pb.path()).await;
    let outcome = async {
        sign_in_and_open(&a, &base, "speaker@example.com", &room).await?;
        sign_in_and_open(&b, &base, "listener@example.com", &room).await?;
        voice_state(&a, "listening").await;
        voice_state(&b, "listening").await;
        let v = service.clone();
        until(
            async || {
                let ps = v.participants(number).await.unwrap();
                [o_user, g_user].iter().all(|u| ps.iter().any(|p| p.user == Some(*u) && p.setup && p.muted))
            },
            "both pages in Janus's mix, WebRTC up, muted",
        )
        .await;

        // The owner takes a seat (through the API): the page hears it on the
        // socket and speaks; Janus shows them unmuted.
        assert_eq!(owner.post(&format!("/api/v1/rooms/{room}/actions/take_seat"), json!({"seat": 1})).await.status, StatusCode::OK);
        voice_state(&a, "speaking").await;
        until(
            async || v.participants(number).await.unwrap().iter().any(|p| p.user == Some(o_user) && p.setup && !p.muted),
            "the seated speaker unmuted in Janus",
        )
        .await;
        // The listener receives the room's mix.
        let bytes = async || js(&b, "return (await window.roomsVoice.stats()).bytesReceived;").await.as_f64().unwrap_or(0.0);
        let before = bytes().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(bytes().await > before, "the listener receives audio");
        // Janus's talking events light the speaker's seat on the listener's page.
        let lit = format!("return !!document.querySelector('.seats [data-occupant=\"{oid}\"].talking');");
        until(async || js(&b, &lit).await == json!(true), "the listener's page shows the speaker talking").await;
        for (w, h) in [(1280, 900), (375, 812)] {
            b.set_window_rect(0, 0, w, h).await?;
            crate::browser_pages::shot(&b, &format!("talking-{w}")).await;
        }

        // Muting the seat: muted in Janus, and the page goes back to listening.
        assert_eq!(owner.post(&format!("/api/v1/rooms/{room}/actions/mute"), json!({})).await.status, StatusCode::OK);
        until(async || v.participants(number).await.unwrap().iter().any(|p| p.user == Some(o_user) && p.muted), "muted in Janus").await;
        voice_state(&a, "listening").await;
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = a.quit().await;
    let _ = b.quit().await;
    outcome.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_renews_a_short_pass_before_it_lapses_and_stays_in_the_mix() {
    // Passes live 6 s: the page must renew every few seconds.
    const TTL: Duration = Duration::from_secs(6);
    let Some(VoiceApp { service, seam, app, base, driver }) = voice_app(TTL).await else { return };
    let mut owner = app.client();
    let oid = owner.sign_up("renewer@example.com", "renewer").await["account"]["id"].as_str().unwrap().to_string();
    let room = owner.post("/api/v1/rooms", json!({"name": "Renewals"})).await.json()["room"]["id"].as_str().unwrap().to_string();
    assert_eq!(owner.post(&format!("/api/v1/rooms/{room}/join"), json!({})).await.status, StatusCode::OK);
    let number = seam.janus_room(room.parse().unwrap()).await.expect("a stored voice number");
    let me = user_number(oid.parse().unwrap());

    let profile = tempfile::tempdir().unwrap();
    let a = chromium(&driver, profile.path()).await;
    let outcome = async {
        sign_in_and_open(&a, &base, "renewer@example.com", &room).await?;
        voice_state(&a, "listening").await;
        let id = js(&a, "return window.roomsVoice.pass.participant_id;").await.as_u64().expect("participant id");
        let first_expiry = js(&a, "return window.roomsVoice.pass.expires_at;").await.as_u64().unwrap();
        let in_mix =
            async || service.participants(number).await.unwrap().iter().any(|p| p.participant_id == id && p.user == Some(me) && p.setup);
        until(in_mix, "the page in Janus's mix").await;
        let packets = async || js(&a, "return (await window.roomsVoice.stats()).packetsReceived;").await.as_f64().unwrap_or(0.0);
        // Three lifetimes, sweeping every half second as the job would (more
        // often): a pass that was not renewed is taken off Janus's list and
        // its holder dropped from the mix.
        let end = Instant::now() + TTL * 3;
        while Instant::now() < end {
            seam.sweep().await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        seam.sweep().await;
        let renewals = js(&a, "return window.roomsVoiceRenewals;").await.as_u64().unwrap_or(0);
        let expiry = js(&a, "return window.roomsVoice.pass.expires_at;").await.as_u64().unwrap();
        eprintln!("voice: {renewals} renewals in {}s; expiry moved {first_expiry} -> {expiry}", (TTL * 3).as_secs());
        assert!(renewals >= 3, "the page renewed {renewals} times");
        assert!(expiry >= first_expiry + 2 * TTL.as_secs(), "expiry {first_expiry} -> {expiry}");
        assert!(in_mix().await, "the page was dropped from the mix: {:?}", service.participants(number).await);
        let before = packets().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(packets().await > before, "the page still receives the room's audio");
        assert_eq!(js(&a, "return window.roomsVoiceState;").await, json!("listening"));
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = a.quit().await;
    outcome.unwrap();
}
