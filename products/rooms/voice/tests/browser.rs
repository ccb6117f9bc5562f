//! Two headless Chromium sessions with fake microphones join one room's mix
//! on a real Janus through voice.js: the seated one is heard by the
//! listener; muted by the server, it goes quiet; a listener unmuting itself
//! is muted again by the server.

mod support;

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use rooms_voice::{JoinPass, Participant, VoiceEvent, VoiceService, VOICE_JS};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::browser::{chromedriver, chromium, chromium_with, js, tone_wav};
use support::{janus, next_event, room_number, voice};
use thirtyfour::prelude::*;

const PAGE: &str = r#"<!doctype html><meta charset="utf-8"><title>voice</title>
<audio id="remote" autoplay></audio>
<script src="/voice.js"></script>
<script>
window.voiceState = 'loading';
(async () => {
  const pass = await (await fetch('/pass/' + location.hash.slice(1))).json();
  // ?raw: the test tone goes out unprocessed (noise suppression eats steady tones).
  const microphone = location.search.includes('raw')
    ? { echoCancellation: false, noiseSuppression: false, autoGainControl: false } : true;
  window.voice = new RoomsVoice(pass, { audio: document.getElementById('remote'), microphone });
  try { await voice.join(); window.voiceState = 'joined'; }
  catch (e) { window.voiceState = 'refused ' + e.janusCode + ' ' + e.message; }
})();
</script>"#;

type Passes = Arc<Mutex<HashMap<String, JoinPass>>>;

async fn serve(passes: Passes) -> String {
    async fn pass(State(p): State<Passes>, Path(who): Path<String>) -> Result<Json<JoinPass>, axum::http::StatusCode> {
        p.lock().unwrap().get(&who).cloned().map(Json).ok_or(axum::http::StatusCode::NOT_FOUND)
    }
    async fn script() -> impl IntoResponse {
        ([("content-type", "text/javascript")], VOICE_JS)
    }
    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/voice.js", get(script))
        .route("/pass/{who}", get(pass))
        .with_state(passes);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn stats(d: &WebDriver) -> Value {
    js(d, "return await window.voice.stats();").await
}

async fn energy(d: &WebDriver) -> f64 {
    stats(d).await["totalAudioEnergy"].as_f64().unwrap()
}

/// Inbound audio energy per second over `window`.
async fn energy_rate(d: &WebDriver, window: Duration) -> f64 {
    let e0 = energy(d).await;
    tokio::time::sleep(window).await;
    (energy(d).await - e0) / window.as_secs_f64()
}

async fn wait_joined(d: &WebDriver) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let state = js(d, "return window.voiceState;").await;
        if state == "joined" {
            return;
        }
        assert!(state == "loading" && Instant::now() < deadline, "join failed: {state}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seated_speaker_is_heard_muted_by_the_server_and_listeners_cannot_unmute() {
    let Some(env) = janus() else { return };
    let Some(driver) = chromedriver().await else { return };
    let v = voice(&env);
    let room = room_number();
    v.open_room(room).await.unwrap();
    let mut events = v.events();
    let passes: Passes = Arc::default();
    let speaker = v.admit(room, &Participant { id: 1, display: "Speaker".into() }, Duration::from_secs(600)).await.unwrap();
    let listener = v.admit(room, &Participant { id: 2, display: "Listener".into() }, Duration::from_secs(600)).await.unwrap();
    passes.lock().unwrap().insert("a".into(), speaker.clone());
    passes.lock().unwrap().insert("b".into(), listener.clone());
    let base = serve(passes).await;
    // The speaker holds a seat; the listener does not.
    v.set_muted(room, 1, false).await.unwrap();

    let (pa, pb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let wav = pa.path().join("tone.wav");
    tone_wav(&wav);
    let a = chromium_with(&driver, pa.path(), Some(&wav)).await;
    let b = chromium(&driver, pb.path()).await;
    let outcome = async {
        a.goto(format!("{base}/?raw#a")).await?;
        wait_joined(&a).await;
        js(&a, "return await window.voice.setSeated(true);").await;
        b.goto(format!("{base}/#b")).await?;
        wait_joined(&b).await;

        // The listener hears the speaker: inbound bytes and audio energy.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let s = stats(&b).await;
            if s["bytesReceived"].as_f64().unwrap() > 0.0 && s["totalAudioEnergy"].as_f64().unwrap() > 0.0 {
                break;
            }
            assert!(Instant::now() < deadline, "the listener never received audio: {s}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let first_audio_ms = js(&b, "return window.voice.firstAudioMs;").await;
        eprintln!("voice: listener join to first inbound audio packet: {first_audio_ms} ms");
        let heard = energy_rate(&b, Duration::from_millis(1500)).await;
        assert!(heard > 0.0, "no energy while the speaker speaks");
        // Janus's talking events name the speaker.
        let talking =
            next_event(&mut events, |e| matches!(e, VoiceEvent::Talking { user: Some(1), talking: true, .. }).then_some(())).await;
        assert!(talking.is_some(), "no talking event for the speaker");
        let a_in = v.participants(room).await.unwrap().into_iter().find(|p| p.user == Some(1)).unwrap();
        assert!(a_in.talking, "{a_in:?}");
        let people = v.participants(room).await.unwrap();
        let a_in = people.iter().find(|p| p.user == Some(1)).expect("speaker listed");
        assert!(!a_in.muted && a_in.setup, "{a_in:?}");

        // The server mutes the seat: Janus reports it, the listener's level drops.
        v.set_muted(room, 1, true).await.unwrap();
        let a_in = v.participants(room).await.unwrap().into_iter().find(|p| p.user == Some(1)).unwrap();
        assert!(a_in.muted);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = energy_rate(&b, Duration::from_millis(1500)).await;
        eprintln!("voice: listener energy/s {heard:.6} before the mute, {after:.6} after");
        assert!(after < heard / 10.0, "still loud after the mute: {after} vs {heard}");

        // The listener tries to unmute itself: Janus takes the request, the
        // server mutes it again, and the speaker (who now listens) stays in quiet.
        let answer = js(&b, "return await window.voice.setSeated(true);").await;
        assert_eq!(answer["result"], "ok", "{answer}");
        let enforced = next_event(&mut events, |e| matches!(e, VoiceEvent::Enforced { user: Some(2), .. }).then_some(())).await;
        assert!(enforced.is_some(), "the server never re-muted the listener");
        let b_in = v.participants(room).await.unwrap().into_iter().find(|p| p.user == Some(2)).unwrap();
        assert!(b_in.muted, "{b_in:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let leaked = energy_rate(&a, Duration::from_millis(1500)).await;
        eprintln!("voice: speaker hears {leaked:.6}/s from the re-muted listener");
        assert!(leaked < heard / 10.0, "the unseated listener is heard: {leaked} vs {heard}");
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = a.quit().await;
    let _ = b.quit().await;
    v.close_room(room).await.unwrap();
    outcome.unwrap();
}

/// Benchmark (run with `--ignored`): a listener joins a room where one seated
/// speaker talks, `VOICE_JOINS` times (default 20), each with a fresh pass and
/// page; prints p50/p99 from the start of `join()` to the first inbound
/// audio packet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: cargo test -p rooms-voice --test browser -- --ignored --nocapture"]
async fn join_to_first_audio_latency() {
    let Some(env) = janus() else { return };
    let Some(driver) = chromedriver().await else { return };
    let joins: usize = std::env::var("VOICE_JOINS").ok().and_then(|n| n.parse().ok()).unwrap_or(20);
    let v = voice(&env);
    let room = room_number();
    v.open_room(room).await.unwrap();
    let passes: Passes = Arc::default();
    let speaker = v.admit(room, &Participant { id: 1, display: "Speaker".into() }, Duration::from_secs(600)).await.unwrap();
    passes.lock().unwrap().insert("a".into(), speaker);
    v.set_muted(room, 1, false).await.unwrap();
    let base = serve(passes.clone()).await;
    let (pa, pb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = chromium(&driver, pa.path()).await;
    let b = chromium(&driver, pb.path()).await;
    a.goto(format!("{base}/#a")).await.unwrap();
    wait_joined(&a).await;
    js(&a, "return await window.voice.setSeated(true);").await;
    let mut ms = Vec::new();
    for i in 0..joins {
        let who = format!("b{i}");
        let pass = v.admit(room, &Participant { id: 100 + i as u64, display: who.clone() }, Duration::from_secs(600)).await.unwrap();
        passes.lock().unwrap().insert(who.clone(), pass);
        b.goto(format!("{base}/?{i}#{who}")).await.unwrap();
        wait_joined(&b).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let first = loop {
            let f = js(&b, "return window.voice.firstAudioMs;").await;
            if let Some(f) = f.as_f64() {
                break f;
            }
            assert!(Instant::now() < deadline, "join {i}: no inbound audio");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        ms.push(first);
        js(&b, "return await window.voice.leave();").await;
    }
    ms.sort_by(|x, y| x.partial_cmp(y).unwrap());
    let pct = |p: f64| ms[((ms.len() as f64 * p).ceil() as usize).clamp(1, ms.len()) - 1];
    eprintln!(
        "voice: join to first inbound audio over {} joins: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        ms.len(),
        pct(0.5),
        pct(0.99),
        ms[ms.len() - 1]
    );
    let _ = a.quit().await;
    let _ = b.quit().await;
    v.close_room(room).await.unwrap();
}

/// Janus's CPU time (clock ticks) and resident memory (kB), from /proc.
fn janus_usage(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which is in parentheses).
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).unwrap().parse().unwrap();
    (ticks, rss)
}

/// Benchmark (run with `--ignored`, needs `JANUS_DIR` of a throwaway Janus on
/// this host): Janus's CPU and memory in one AudioBridge room with one
/// seated speaker, as listeners (WebRTC peer connections opened by one
/// headless Chromium page) are added in steps of `VOICE_STEP` (default 5)
/// up to `VOICE_LISTENERS` (default 10). Each listener holds one HTTP
/// long-poll and Chromium allows 6 connections per host, so the page
/// alternates between 127.0.0.1 and localhost: 10 listeners at most.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: cargo test -p rooms-voice --test browser janus_cost -- --ignored --nocapture"]
async fn janus_cost_per_listener() {
    let Some(env) = janus() else { return };
    let Some(dir) = std::env::var("JANUS_DIR").ok() else {
        eprintln!("skipping: JANUS_DIR unset");
        return;
    };
    let pid: u32 = std::fs::read_to_string(format!("{dir}/janus.pid")).unwrap().trim().parse().unwrap();
    let Some(driver) = chromedriver().await else { return };
    let total: usize = std::env::var("VOICE_LISTENERS").ok().and_then(|n| n.parse().ok()).unwrap_or(10).min(10);
    let step: usize = std::env::var("VOICE_STEP").ok().and_then(|n| n.parse().ok()).unwrap_or(5);
    let v = voice(&env);
    let room = room_number();
    v.open_room(room).await.unwrap();
    let passes: Passes = Arc::default();
    let speaker = v.admit(room, &Participant { id: 1, display: "Speaker".into() }, Duration::from_secs(600)).await.unwrap();
    passes.lock().unwrap().insert("a".into(), speaker);
    v.set_muted(room, 1, false).await.unwrap();
    for i in 0..total {
        let pass = v.admit(room, &Participant { id: 100 + i as u64, display: format!("l{i}") }, Duration::from_secs(600)).await.unwrap();
        passes.lock().unwrap().insert(format!("l{i}"), pass);
    }
    let base = serve(passes).await;
    let (pa, pb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let wav = pa.path().join("tone.wav");
    tone_wav(&wav);
    let a = chromium_with(&driver, pa.path(), Some(&wav)).await;
    let b = chromium(&driver, pb.path()).await;
    a.goto(format!("{base}/?raw#a")).await.unwrap();
    wait_joined(&a).await;
    js(&a, "return await window.voice.setSeated(true);").await;
    b.goto(format!("{base}/?none#none")).await.unwrap();
    let window = Duration::from_secs(5);
    let measure = || async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (t0, _) = janus_usage(pid);
        tokio::time::sleep(window).await;
        let (t1, rss) = janus_usage(pid);
        ((t1 - t0) as f64 / window.as_secs_f64(), rss)
    };
    let (cpu0, rss0) = measure().await;
    eprintln!("voice: janus with 1 speaker, 0 listeners: {cpu0:.1}% CPU, {rss0} kB RSS");
    let mut joined = 0;
    while joined < total {
        let upto = (joined + step).min(total);
        let script = format!(
            "return (async () => {{ window.vs = window.vs || []; for (let i = {joined}; i < {upto}; i++) {{ \
             const p = await (await fetch('/pass/l' + i)).json(); \
             if (i % 2) p.janus_url = p.janus_url.replace('127.0.0.1', 'localhost'); const v = new RoomsVoice(p, {{}}); await v.join(); window.vs.push(v); }} \
             return window.vs.length; }})();"
        );
        let n = js(&b, &script).await;
        assert_eq!(n.as_u64(), Some(upto as u64));
        joined = upto;
        let (cpu, rss) = measure().await;
        let silent = js(&b, "return (async () => { let n = 0; for (const v of window.vs) { if ((await v.stats()).packetsReceived === 0) n++; } return n; })();").await;
        eprintln!(
            "voice: janus with 1 speaker, {joined} listeners: {cpu:.1}% CPU ({:.2}% per listener), {rss} kB RSS ({:.0} kB per listener); listeners without audio: {silent}",
            (cpu - cpu0) / joined as f64,
            (rss as f64 - rss0 as f64) / joined as f64
        );
    }
    let _ = a.quit().await;
    let _ = b.quit().await;
    v.close_room(room).await.unwrap();
}
