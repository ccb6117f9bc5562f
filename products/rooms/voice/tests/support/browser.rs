//! Headless Chromium for the voice tests (and Rooms' page tests, which
//! include this file): chromedriver, a fake microphone playing a tone,
//! script evaluation.

use platform_testkit::browser as chrome;
use thirtyfour::prelude::*;

/// chromedriver, stopped on drop.
pub use platform_testkit::browser::Chromedriver;

pub async fn chromedriver() -> Option<Chromedriver> {
    chrome::chromedriver("voice browser test").await
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
    let mut args = vec![
        "--disable-background-networking".to_string(),
        "--use-fake-device-for-media-stream".to_string(),
        "--use-fake-ui-for-media-stream".to_string(),
        "--allow-loopback-in-peer-connection".to_string(),
        "--disable-features=WebRtcHideLocalIpsWithMdns".to_string(),
        "--autoplay-policy=no-user-gesture-required".to_string(),
    ];
    if let Some(wav) = microphone {
        args.push(format!("--use-file-for-fake-audio-capture={}", wav.display()));
    }
    chrome::chromium(driver.url(), profile, &args.iter().map(String::as_str).collect::<Vec<_>>()).await
}

#[allow(unused_imports)] // not every includer runs scripts
pub use platform_testkit::browser::js;

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
