//! Two headless Chromium sessions with fake microphones join one room's mix
//! on a real Janus through voice.js: the seated one is heard by the
//! listener; muted by the server, it goes quiet; a listener unmuting itself
//! is muted again by the server.

mod support;

use rooms_voice::{Participant, VoiceEvent, VoiceService};
use serde_json::Value;
use std::time::{Duration, Instant};
use support::browser::{chromedriver, chromium, chromium_with, js, serve_passes, tone_wav, Passes};
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
    let passes = Passes::default();
    let speaker = v.admit(room, &Participant { id: 1, display: "Speaker".into() }, Duration::from_secs(600)).await.unwrap();
    let listener = v.admit(room, &Participant { id: 2, display: "Listener".into() }, Duration::from_secs(600)).await.unwrap();
    passes.lock().unwrap().insert("a".into(), speaker.clone());
    passes.lock().unwrap().insert("b".into(), listener.clone());
    let base = serve_passes(PAGE, passes).await;
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
