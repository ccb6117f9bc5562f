//! The voice benchmarks: a real Janus (`JANUS_URL`, e.g. from
//! `scripts/janus-throwaway`) and headless Chromium with fake microphones,
//! pages served by this process with passes from `rooms_voice`.

use crate::stats::{histogram, record, report};
use crate::Fail;
use rooms_voice::{JanusServer, JanusVoice, Participant, VoiceService};
use serde_json::json;
use std::time::{Duration, Instant};
use thirtyfour::prelude::*;

#[path = "../../voice/tests/support/browser.rs"]
#[allow(dead_code)]
mod browser;
use browser::{chromedriver, chromium, chromium_with, js, serve_passes, tone_wav, Passes};

/// The page: joins with `/pass/<hash>` through voice.js. `window.many(n0,
/// n1)` adds listeners `l<n0>`..`l<n1>` as peer connections sharing one
/// Janus session (one long-poll for all of them; Chromium allows six
/// connections per host).
const PAGE: &str = r#"<!doctype html><meta charset="utf-8"><title>voice bench</title>
<audio id="remote" autoplay></audio>
<script src="/voice.js"></script>
<script>
window.voiceState = 'loading';
(async () => {
  const who = location.hash.slice(1);
  if (who === 'none') { window.voiceState = 'idle'; return; }
  const pass = await (await fetch('/pass/' + who)).json();
  const microphone = location.search.includes('raw')
    ? { echoCancellation: false, noiseSuppression: false, autoGainControl: false } : true;
  window.voice = new RoomsVoice(pass, { audio: document.getElementById('remote'), microphone });
  try { await voice.join(); window.voiceState = 'joined'; }
  catch (e) { window.voiceState = 'refused ' + e.janusCode + ' ' + e.message; }
})();
// Many listeners on one Janus session.
class Shared extends RoomsVoice {
  constructor(pass, hub) { super(pass, {}); this.hub = hub; }
  async post(path, body) {
    if (body.janus === 'create') return { data: { id: await this.hub.session } };
    return super.post(path, body);
  }
  poll() { this.hub.members.push(this); }
}
window.vs = [];
window.many = async (from, to) => {
  if (!window.hub) {
    const first = await (await fetch('/pass/l0')).json();
    const base = first.janus_url.replace(/\/$/, '');
    const hub = { members: [] };
    hub.session = fetch(base, { method: 'POST', body: JSON.stringify({ janus: 'create', transaction: 'h' }) })
      .then((r) => r.json()).then((a) => a.data.id);
    const id = await hub.session;
    (async () => {
      let rid = 0;
      for (;;) {
        try {
          const evs = await (await fetch(base + '/' + id + '?maxev=50&rid=' + ++rid)).json();
          for (const ev of Array.isArray(evs) ? evs : [evs]) {
            const m = hub.members.find((v) => v.handle === ev.sender);
            if (m) m.dispatch(ev);
          }
        } catch (e) { await new Promise((r) => setTimeout(r, 200)); }
      }
    })();
    window.hub = hub;
  }
  for (let i = from; i < to; i++) {
    const p = await (await fetch('/pass/l' + i)).json();
    const v = new Shared(p, window.hub);
    await v.join();
    window.vs.push(v);
  }
  return window.vs.length;
};
window.silent = async () => { let n = 0; for (const v of window.vs) if ((await v.stats()).packetsReceived === 0) n++; return n; };
</script>"#;

fn janus_voice() -> Result<JanusVoice, Fail> {
    let url = std::env::var("JANUS_URL").map_err(|_| "JANUS_URL is unset: eval \"$(scripts/janus-throwaway start)\"")?;
    let key = std::env::var("JANUS_ADMIN_SECRET").ok().filter(|k| !k.is_empty());
    Ok(JanusVoice::new(JanusServer::from_lists(&url, &url, key.as_deref())?, b"rooms bench room key"))
}

fn room_number() -> u64 {
    // Apart from other runs on the same Janus.
    9_000_000_000 + u64::from(std::process::id())
}

async fn wait_joined(d: &WebDriver) -> Result<(), Fail> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let state = js(d, "return window.voiceState;").await;
        if state == "joined" {
            return Ok(());
        }
        if state != "loading" || Instant::now() > deadline {
            return Err(format!("join failed: {state}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A room with one seated speaker playing a steady tone; returns the
/// voice service, room, passes, page base URL and the speaker's browser.
struct Stage {
    v: JanusVoice,
    room: u64,
    passes: Passes,
    base: String,
    speaker: WebDriver,
    _profile: tempfile::TempDir,
}

async fn stage(driver: &browser::Chromedriver) -> Result<Stage, Fail> {
    let v = janus_voice()?;
    let room = room_number();
    let _ = v.close_room(room).await;
    v.open_room(room).await?;
    let passes = Passes::default();
    let speaker = v.admit(room, &Participant { id: 1, display: "Speaker".into() }, Duration::from_secs(3600)).await?;
    passes.lock().unwrap().insert("a".into(), speaker);
    v.set_muted(room, 1, false).await?;
    let base = serve_passes(PAGE, passes.clone()).await;
    let profile = tempfile::tempdir()?;
    let wav = profile.path().join("tone.wav");
    tone_wav(&wav);
    let a = chromium_with(driver, profile.path(), Some(&wav)).await;
    a.goto(format!("{base}/?raw#a")).await?;
    wait_joined(&a).await?;
    js(&a, "return await window.voice.setSeated(true);").await;
    Ok(Stage { v, room, passes, base, speaker: a, _profile: profile })
}

impl Stage {
    /// Closes the browsers and the room.
    async fn end(self, listener: WebDriver) {
        let _ = listener.quit().await;
        let _ = self.speaker.quit().await;
        let _ = self.v.close_room(self.room).await;
    }
}

#[derive(clap::Args, Debug)]
pub struct JoinArgs {
    /// Joins to time (each a fresh pass and page load).
    #[arg(long, default_value_t = 30)]
    joins: usize,
}

pub async fn join(args: JoinArgs) -> Result<(), Fail> {
    let driver = chromedriver().await.ok_or("chromium is not installed")?;
    let s = stage(&driver).await?;
    let profile = tempfile::tempdir()?;
    let b = chromium(&driver, profile.path()).await;
    let outcome = async {
        let mut h = histogram();
        for i in 0..args.joins {
            let who = format!("b{i}");
            let pass = s.v.admit(s.room, &Participant { id: 100 + i as u64, display: who.clone() }, Duration::from_secs(600)).await?;
            s.passes.lock().unwrap().insert(who.clone(), pass);
            b.goto(format!("{}/?{i}#{who}", s.base)).await?;
            wait_joined(&b).await?;
            let deadline = Instant::now() + Duration::from_secs(10);
            let first = loop {
                if let Some(f) = js(&b, "return window.voice.firstAudioMs;").await.as_f64() {
                    break f;
                }
                if Instant::now() > deadline {
                    return Err::<_, Fail>(format!("join {i}: no inbound audio").into());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            eprintln!("join {i}: {first:.0} ms");
            record(&mut h, (first * 1000.0) as i64);
            js(&b, "return await window.voice.leave();").await;
        }
        report("join() → first inbound audio packet", &h);
        Ok(())
    }
    .await;
    s.end(b).await;
    outcome
}

#[derive(clap::Args, Debug)]
pub struct JanusArgs {
    /// The throwaway Janus's directory (its `janus.pid`), to read its CPU and memory.
    #[arg(long, env = "JANUS_DIR")]
    janus_dir: std::path::PathBuf,
    /// Listeners at the end.
    #[arg(long, default_value_t = 40)]
    listeners: usize,
    /// Listeners added per step.
    #[arg(long, default_value_t = 10)]
    step: usize,
    /// Seconds of each measurement window.
    #[arg(long, default_value_t = 10)]
    window: u64,
}

/// Janus's CPU time (seconds) and resident memory (KiB), from /proc.
fn usage(pid: u32) -> Result<(f64, u64), Fail> {
    let cpu = platform_procstat::cpu_seconds(pid).ok_or("janus's /proc/PID/stat")?;
    let rss = platform_procstat::rss_kib(pid).ok_or("janus's VmRSS")?;
    Ok((cpu, rss))
}

pub async fn janus(args: JanusArgs) -> Result<(), Fail> {
    let pid: u32 = std::fs::read_to_string(args.janus_dir.join("janus.pid"))?.trim().parse()?;
    let driver = chromedriver().await.ok_or("chromium is not installed")?;
    let s = stage(&driver).await?;
    for i in 0..args.listeners {
        let pass = s.v.admit(s.room, &Participant { id: 100 + i as u64, display: format!("l{i}") }, Duration::from_secs(3600)).await?;
        s.passes.lock().unwrap().insert(format!("l{i}"), pass);
    }
    let profile = tempfile::tempdir()?;
    let b = chromium(&driver, profile.path()).await;
    let window = Duration::from_secs(args.window);
    let measure = || async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (t0, _) = usage(pid)?;
        tokio::time::sleep(window).await;
        let (t1, rss) = usage(pid)?;
        // CPU seconds per second, in percent of one core.
        Ok::<_, Fail>(((t1 - t0) * 100.0 / window.as_secs_f64(), rss))
    };
    let outcome = async {
        b.goto(format!("{}/#none", s.base)).await?;
        let (cpu0, rss0) = measure().await?;
        println!("janus, 1 speaker and 0 listeners: {cpu0:.1}% of a core, {rss0} kB resident");
        let mut rows = vec![json!({"listeners": 0, "cpu_percent": cpu0, "rss_kb": rss0})];
        let mut joined = 0;
        while joined < args.listeners {
            let upto = (joined + args.step).min(args.listeners);
            let n = js(&b, &format!("return await window.many({joined}, {upto});")).await;
            if n.as_u64() != Some(upto as u64) {
                return Err::<_, Fail>(format!("listeners joined: {n}").into());
            }
            joined = upto;
            let (cpu, rss) = measure().await?;
            let silent = js(&b, "return await window.silent();").await;
            let listed = s.v.participants(s.room).await?.len();
            println!(
                "janus, 1 speaker and {joined} listeners: {cpu:.1}% of a core ({:.2}% per listener), {rss} kB resident ({:.0} kB per listener); Janus lists {listed} participants; listeners without audio: {silent}",
                (cpu - cpu0) / joined as f64,
                (rss as f64 - rss0 as f64) / joined as f64
            );
            rows.push(json!({"listeners": joined, "cpu_percent": cpu, "rss_kb": rss, "silent": silent, "listed": listed}));
        }
        println!("{}", serde_json::to_string(&rows)?);
        Ok(())
    }
    .await;
    s.end(b).await;
    outcome
}
