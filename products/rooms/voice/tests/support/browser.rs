//! Headless Chromium for the voice tests (and Rooms' page tests, which
//! include this file): chromedriver, a fake microphone playing a tone,
//! script evaluation.

use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use thirtyfour::prelude::*;

/// chromedriver, stopped on drop.
pub struct Chromedriver(Child, pub String);

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn chromedriver() -> Option<Chromedriver> {
    let installed = ["/usr/bin/chromium", "/usr/bin/chromedriver"].iter().all(|p| std::path::Path::new(p).exists());
    if !installed {
        assert!(std::env::var("REQUIRE_BROWSER").as_deref() != Ok("1"), "REQUIRE_BROWSER=1 but chromium/chromedriver are missing");
        eprintln!("skipping voice browser test: chromium not installed");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child =
        Command::new("/usr/bin/chromedriver").arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some(Chromedriver(child, format!("http://127.0.0.1:{port}")))
}

/// A WAV file with a steady tone, for a fake microphone that speaks without
/// pause (Chromium's default fake device only beeps briefly once a second,
/// too little to count as talking).
pub fn tone_wav(path: &std::path::Path) {
    let rate = 48_000u32;
    let samples: Vec<i16> =
        (0..rate * 4).map(|i| ((i as f64 * 440.0 * std::f64::consts::TAU / rate as f64).sin() * 12_000.0) as i16).collect();
    let data_len = (samples.len() * 2) as u32;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        wav.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, wav).unwrap();
}

pub async fn chromium(driver: &Chromedriver, profile: &std::path::Path) -> WebDriver {
    chromium_with(driver, profile, None).await
}

pub async fn chromium_with(driver: &Chromedriver, profile: &std::path::Path, microphone: Option<&std::path::Path>) -> WebDriver {
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary("/usr/bin/chromium").unwrap();
    for arg in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        "--allow-loopback-in-peer-connection",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
        "--autoplay-policy=no-user-gesture-required",
    ] {
        caps.add_arg(arg).unwrap();
    }
    caps.add_arg(&format!("--user-data-dir={}", profile.display())).unwrap();
    if let Some(wav) = microphone {
        caps.add_arg(&format!("--use-file-for-fake-audio-capture={}", wav.display())).unwrap();
    }
    WebDriver::new(&driver.1, caps).await.expect("webdriver session")
}

pub async fn js(d: &WebDriver, script: &str) -> Value {
    d.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}")).json().clone()
}

/// Passes by name, as the page server hands them out.
pub type Passes = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, rooms_voice::JoinPass>>>;

/// Serves `page` at `/`, `VOICE_JS` at `/voice.js` and each pass at
/// `/pass/<name>` on a free loopback port; returns the base URL.
#[allow(dead_code)] // not every includer serves pages
pub async fn serve_passes(page: &'static str, passes: Passes) -> String {
    use axum::extract::{Path, State};
    use axum::routing::get;
    async fn pass(State(p): State<Passes>, Path(who): Path<String>) -> Result<axum::Json<rooms_voice::JoinPass>, axum::http::StatusCode> {
        p.lock().unwrap().get(&who).cloned().map(axum::Json).ok_or(axum::http::StatusCode::NOT_FOUND)
    }
    let app = axum::Router::new()
        .route("/", get(move || async move { axum::response::Html(page) }))
        .route("/voice.js", get(|| async { ([("content-type", "text/javascript")], rooms_voice::VOICE_JS) }))
        .route("/pass/{who}", get(pass))
        .with_state(passes);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}
