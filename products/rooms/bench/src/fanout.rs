//! One room at capacity: every person holds the room's WebSocket, a few
//! speakers take and leave seats and chat, and every socket times every
//! event it receives.
//!
//! Two times per delivery: from the event's commit (its `at`, the server's
//! clock at the write; the bench runs on the same host) to the socket, for
//! seat and chat events; and, for chat, from the speaker's request leaving
//! the bench (the "click") to the socket.

use crate::listen::{self, Stop, Subscribed};
use crate::server::{now_micros, post, sign_up_many, start_server, ServerArgs};
use crate::stats::{histogram, record, report};
use crate::Fail;
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    server: ServerArgs,
    /// People in the room, each with a WebSocket (the room's capacity is 1,000, owner included).
    #[arg(long, default_value_t = 1000)]
    people: usize,
    /// People among them who take and leave seats (15 seats) and chat.
    #[arg(long, default_value_t = 16)]
    speakers: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Each speaker acts (take a seat, chat, leave it, chat, …) once per this many milliseconds.
    #[arg(long, default_value_t = 1000)]
    every_ms: u64,
    /// Write the results here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// What one socket saw.
struct Seen {
    commit_to_socket: hdrhistogram::Histogram<u64>,
    chat_click_to_socket: hdrhistogram::Histogram<u64>,
    events: u64,
}

pub async fn run(args: Args) -> Result<(), Fail> {
    let dir = tempfile::tempdir()?;
    let (_server, base) = start_server(&args.server, dir.path()).await?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
    let run = format!("{:x}", now_micros() % 0xffff_ffff);
    let setup = Instant::now();

    // People, through the API, 16 at a time.
    let people = sign_up_many(&http, &base, &run, args.people, 16).await?;
    let owner = people[0].clone();
    let (status, room) = post(
        &http,
        &format!("{base}/api/v1/rooms"),
        Some(&owner.token),
        json!({"name": "Bench room", "seat_count": 15, "visitors_speak": true, "visitors_text": true}),
    )
    .await?;
    if status != 201 {
        return Err(format!("create room: {status} {room}").into());
    }
    let room = room["room"]["id"].as_str().unwrap_or_default().to_string();
    let stop = Stop::new();
    // Heartbeats keep everyone present (30 s without one and a person is
    // out), from before the joins: joining a thousand people takes a while.
    let beats = listen::heartbeats(&http, &base, &room, &people, &stop);
    listen::join(&http, &base, &room, &people[1..]).await?;
    eprintln!("setup: {} people in the room in {:.1}s", people.len(), setup.elapsed().as_secs_f64());

    // Every person's socket, subscribed to the room.
    let ws_url = format!("{}/api/v1/ws", base.replacen("http", "ws", 1));
    let sent: Arc<Mutex<HashMap<String, i64>>> = Arc::default();
    let subscribed = Subscribed::default();
    let mut readers = Vec::new();
    for p in &people {
        let seen = Seen { commit_to_socket: histogram(), chat_click_to_socket: histogram(), events: 0 };
        let sent = sent.clone();
        readers.push(
            listen::room(&ws_url, &p.token, &room, &stop, &subscribed, seen, move |seen, v: &serde_json::Value, at_socket| {
                let kind = v["kind"].as_str().unwrap_or("");
                if !matches!(kind, "seat_taken" | "seat_freed" | "chat") {
                    return;
                }
                seen.events += 1;
                if let Some(at) = v["at"].as_str().and_then(|a| chrono::DateTime::parse_from_rfc3339(a).ok()) {
                    record(&mut seen.commit_to_socket, at_socket - at.timestamp_micros());
                }
                if kind == "chat" {
                    let body = v["data"]["body"].as_str().unwrap_or("");
                    if let Some(t) = sent.lock().unwrap().get(body) {
                        record(&mut seen.chat_click_to_socket, at_socket - t);
                    }
                }
            })
            .await?,
        );
    }
    subscribed.wait_for(people.len()).await;
    eprintln!("sockets: {} open and subscribed", subscribed.count());

    // The speakers: take a seat, chat, leave it, chat, … each on its own clock.
    let emitted = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let mut speakers = Vec::new();
    for (k, p) in people.iter().skip(1).take(args.speakers).enumerate() {
        let (http, base, room, p, stop, sent) = (http.clone(), base.clone(), room.clone(), p.clone(), stop.clone(), sent.clone());
        let (emitted, refused, every) = (emitted.clone(), refused.clone(), Duration::from_millis(args.every_ms));
        speakers.push(tokio::spawn(async move {
            tokio::time::sleep(every * k as u32 / 16).await;
            let mut step = 0u64;
            while !stop.stopped() {
                let (url, body) = match step % 4 {
                    0 => (format!("{base}/api/v1/rooms/{room}/actions/take_seat"), json!({})),
                    2 => (format!("{base}/api/v1/rooms/{room}/actions/leave_seat"), json!({})),
                    _ => {
                        let marker = format!("m{}-{k}-{step}", p.id);
                        sent.lock().unwrap().insert(marker.clone(), now_micros());
                        (format!("{base}/api/v1/rooms/{room}/chat"), json!({"body": marker}))
                    }
                };
                match post(&http, &url, Some(&p.token), body).await {
                    Ok((200 | 201 | 204, _)) => {
                        emitted.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
                step += 1;
                tokio::time::sleep(every).await;
            }
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    let secs = started.elapsed().as_secs_f64();
    for s in speakers {
        s.abort();
    }
    // Let the last deliveries arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.stop();
    beats.abort();
    let (mut commit, mut click) = (histogram(), histogram());
    let mut per_socket = Vec::new();
    for r in readers {
        let seen = r.await?;
        commit.add(&seen.commit_to_socket)?;
        click.add(&seen.chat_click_to_socket)?;
        per_socket.push(seen.events);
    }
    let emitted = emitted.load(Ordering::Relaxed);
    let (least, most) = (per_socket.iter().min().copied().unwrap_or(0), per_socket.iter().max().copied().unwrap_or(0));
    // A refused take (no free seat) makes the following leave a no-op that
    // answers OK without an event, so `emitted` is an upper bound; a socket
    // missing an event shows as `least` < `most`.
    println!(
        "fan-out: {} sockets, {} speakers, {emitted} actions answered OK in {secs:.0}s ({} refused, e.g. no free seat); each socket received {least}..{most} events",
        people.len(),
        args.speakers,
        refused.load(Ordering::Relaxed)
    );
    let rows = vec![report("seat/chat event commit → every socket", &commit), report("chat request sent → every socket", &click)];
    if let Some(path) = &args.json {
        let out = json!({"people": people.len(), "speakers": args.speakers, "duration_s": secs, "events_written": emitted,
                         "per_socket_min": least, "per_socket_max": most, "rows": rows});
        std::fs::write(path, serde_json::to_string_pretty(&out)?)?;
    }
    if least < most {
        eprintln!("LOST: a socket received {least} events where another received {most}");
    }
    Ok(())
}
