//! The workloads. Every client is real: HTTP over loopback sockets and
//! WebSockets, exactly like browsers and apps.

use crate::api::{now_micros, stamp_of, stamped, ws_next, ws_send, Api, Ws};
use crate::stats::Latency;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Counters {
    pub sent: AtomicU64,
    pub refused_402: AtomicU64,
    pub errors: AtomicU64,
    pub replies: AtomicU64,
    pub delivered_to_operator: AtomicU64,
    pub delivered_to_user: AtomicU64,
    pub reconnects: AtomicU64,
    pub duplicates: AtomicU64,
    pub gaps: AtomicU64,
    pub reloads: AtomicU64,
}

#[derive(Default)]
pub struct Latencies {
    pub api_send: Latency,
    pub api_browse: Latency,
    pub api_open_chat: Latency,
    pub user_to_operator: Latency,
    /// Messages written before any operator had the chat: the wait for
    /// assignment, then the replay.
    pub user_to_operator_queued: Latency,
    /// Replies to messages an operator found waiting when the chat was
    /// assigned (the assignment's burst of replayed messages, each answered
    /// at once), apart from replies to live messages.
    pub operator_to_user: Latency,
    pub operator_to_user_backlog: Latency,
    pub api_reply: Latency,
    /// Every live delivery as (kind, when it arrived, how long it took),
    /// in microseconds: read against the stolen-time samples after the
    /// phase, and written out by `--timeline`.
    pub timeline: std::sync::Mutex<Vec<(&'static str, i64, i64)>>,
    /// Live deliveries split at the message's `created_at` (taken when its
    /// write begins): the send's way in (HTTP, the batch window) and the
    /// rest (transaction, commit, outbox, socket, the reader).
    pub user_to_operator_until_written: Latency,
    pub user_to_operator_after_written: Latency,
    pub operator_to_user_until_written: Latency,
    pub operator_to_user_after_written: Latency,
    /// Every live delivery, for the delivery trace (`REALTIME_TRACE`).
    pub deliveries: std::sync::Mutex<Vec<Delivery>>,
}

/// One live delivery: its kind, the message's seq, and when it was sent,
/// written (`created_at`) and seen, in microseconds, with the node whose
/// socket delivered it.
#[derive(Clone)]
pub struct Delivery {
    pub kind: &'static str,
    pub seq: i64,
    pub sent: i64,
    pub written: i64,
    pub seen: i64,
    pub node: String,
}

/// A message's `created_at` in microseconds.
fn written_at(m: &Value) -> Option<i64> {
    Some(chrono::DateTime::parse_from_rfc3339(m["created_at"].as_str()?).ok()?.timestamp_micros())
}

/// Records the two parts of a delivery sent at `sent` and seen at `now`.
fn split(until: &Latency, after: &Latency, m: &Value, sent: i64, now: i64) {
    if let Some(w) = written_at(m) {
        until.record_micros(w - sent);
        after.record_micros(now - w);
    }
}

impl Latencies {
    fn delivered(&self, kind: &'static str, m: &Value, sent: i64, now: i64, node: &str) {
        if let (Some(w), Ok(mut d)) = (written_at(m), self.deliveries.lock()) {
            d.push(Delivery { kind, seq: m["seq"].as_i64().unwrap_or(0), sent, written: w, seen: now, node: node.to_string() });
        }
    }

    pub fn trace(&self, kind: &'static str, at: i64, took: i64) {
        if let Ok(mut t) = self.timeline.lock() {
            t.push((kind, at, took));
        }
    }
}

/// The words of a reply to a message that waited for assignment, so the
/// user's side can tell those deliveries apart.
const BACKLOG_REPLY: &str = "thanks for waiting";

/// Operators: each answers every user message pushed to it, as the profile.
pub async fn operator_loop(api: Api, stop: Arc<AtomicBool>, lat: Arc<Latencies>, counts: Arc<Counters>) {
    let Ok(mut ws) = api.socket().await else {
        counts.errors.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let started = now_micros();
    // When this operator joined each chat: messages written before that
    // waited in the queue, and are measured apart from live deliveries.
    let mut joined: HashMap<String, i64> = HashMap::new();
    let mut ping = tokio::time::interval(Duration::from_secs(15));
    while !stop.load(Ordering::Relaxed) {
        let frame = tokio::select! {
            f = ws_next(&mut ws) => f,
            _ = ping.tick() => { let _ = ws_send(&mut ws, json!({ "t": "ping" })).await; continue }
            _ = tokio::time::sleep(Duration::from_millis(200)) => continue,
        };
        let Some(v) = frame else { break };
        match v["t"].as_str() {
            Some("assigned") => {
                joined.insert(v["chat_id"].as_str().unwrap_or_default().to_string(), now_micros());
                let _ = ws_send(&mut ws, json!({ "t": "subscribe", "chat_id": v["chat_id"], "after": 0 })).await;
            }
            Some("message") if v["message"]["sender_type"] == "real" => {
                let m = &v["message"];
                let chat = m["chat_id"].as_str().unwrap_or_default().to_string();
                let sent = m["content"].as_str().and_then(stamp_of);
                let waited = sent.is_some_and(|sent| joined.get(&chat).is_some_and(|j| sent < *j));
                if let Some(sent) = sent {
                    if sent > started {
                        let now = now_micros();
                        let took = now - sent;
                        lat.trace(if waited { "u2o_waiting" } else { "u2o" }, now, took);
                        if waited {
                            lat.user_to_operator_queued.record_micros(took);
                        } else {
                            lat.user_to_operator.record_micros(took);
                            split(&lat.user_to_operator_until_written, &lat.user_to_operator_after_written, m, sent, now);
                            lat.delivered("u2o", m, sent, now, &api.base);
                        }
                        counts.delivered_to_operator.fetch_add(1, Ordering::Relaxed);
                    }
                }
                let api = api.clone();
                let (lat, counts) = (lat.clone(), counts.clone());
                let words = if waited { BACKLOG_REPLY } else { "thanks for writing" };
                tokio::spawn(async move {
                    match api.post(&format!("/api/chats/{chat}/messages"), json!({ "content": stamped(words) })).await {
                        Ok((_, took)) => {
                            lat.api_reply.record(took);
                            counts.replies.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => {
                            counts.errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
            _ => {}
        }
    }
}

/// What a user needs to chat: the API on their node and their chat.
pub struct UserPlan {
    pub api: Api,
    pub profile: String,
    /// Messages per second this user sends.
    pub rate: f64,
}

/// The time between a chatting user's sends at `rate` messages a second
/// (at least one every 100 s).
pub fn send_period(rate: f64) -> Duration {
    Duration::from_secs_f64(1.0 / rate.max(0.01))
}

/// A chatting user: opens the chat, follows it live, and sends stamped paid
/// messages at its rate; now and then browses, types, or reconnects.
pub async fn user_loop(plan: UserPlan, stop: Arc<AtomicBool>, lat: Arc<Latencies>, counts: Arc<Counters>, seed: u64) {
    let api = plan.api;
    let chat = match api.post("/api/chats", json!({ "profile_id": plan.profile })).await {
        Ok((v, took)) => {
            lat.api_open_chat.record(took);
            v["chat"]["id"].as_str().unwrap_or_default().to_string()
        }
        Err(_) => {
            counts.errors.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    let mut seen: HashMap<i64, ()> = HashMap::new();
    let mut last_seq = 0i64;
    let mut ws = match connect(&api, &chat, last_seq).await {
        Some(ws) => ws,
        None => {
            counts.errors.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    let period = send_period(plan.rate);
    // Spread the first sends so users do not fire in lockstep.
    let mut next_send = Instant::now() + Duration::from_millis(seed % period.as_millis().max(1) as u64);
    let mut n = seed;
    while !stop.load(Ordering::Relaxed) {
        let wait = next_send.saturating_duration_since(Instant::now());
        tokio::select! {
            f = ws_next(&mut ws) => match f {
                Some(v) if v["t"] == "message" => {
                    let m = &v["message"];
                    let seq = m["seq"].as_i64().unwrap_or(0);
                    if seen.insert(seq, ()).is_some() { counts.duplicates.fetch_add(1, Ordering::Relaxed); }
                    last_seq = last_seq.max(seq);
                    // Users read the other side of their chat as the `profile`.
                    if m["sender_type"] == "profile" {
                        let text = m["content"].as_str().unwrap_or_default();
                        if let Some(sent) = stamp_of(text) {
                            let backlog = text.ends_with(BACKLOG_REPLY);
                            let into = if backlog { &lat.operator_to_user_backlog } else { &lat.operator_to_user };
                            let now = now_micros();
                            into.record_micros(now - sent);
                            lat.trace(if backlog { "o2u_backlog" } else { "o2u" }, now, now - sent);
                            if !backlog {
                                split(&lat.operator_to_user_until_written, &lat.operator_to_user_after_written, m, sent, now);
                                lat.delivered("o2u", m, sent, now, &api.base);
                            }
                            counts.delivered_to_user.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                // The server could not replay what this socket missed (too
                // much, or a database error): do what the page does, start
                // over from the last message seen.
                Some(v) if v["t"] == "reload" => {
                    counts.reloads.fetch_add(1, Ordering::Relaxed);
                    drop(ws);
                    match reconnect(&api, &chat, last_seq, &counts).await { Some(w) => ws = w, None => break }
                }
                Some(_) => {}
                None => {
                    match reconnect(&api, &chat, last_seq, &counts).await { Some(w) => ws = w, None => break }
                }
            },
            _ = tokio::time::sleep(wait) => {
                next_send += period;
                n = n.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let roll = (n >> 33) % 100;
                if roll < 10 {
                    let _ = ws_send(&mut ws, json!({ "t": "typing", "chat_id": chat })).await;
                }
                if roll < 5 {
                    if let Ok((_, took)) = api.get("/api/profiles?limit=24").await { lat.api_browse.record(took) }
                }
                if roll == 99 {
                    // Drop the connection and resume from the last seen seq.
                    drop(ws);
                    match reconnect(&api, &chat, last_seq, &counts).await { Some(w) => ws = w, None => break }
                }
                // Sent beside the socket, as a page's fetch is: the reply
                // often arrives before this request's response, and a loop
                // that waited for the response first would count that wait
                // in the reply's delivery time.
                let (api, chat, lat, counts) = (api.clone(), chat.clone(), lat.clone(), counts.clone());
                let body = json!({ "content": stamped("hello there"), "client_id": format!("b{seed}-{n}") });
                tokio::spawn(async move {
                    match api.post(&format!("/api/chats/{chat}/messages"), body).await {
                        Ok((_, took)) => { lat.api_send.record(took); counts.sent.fetch_add(1, Ordering::Relaxed); }
                        Err(e) if e.status == 402 => { counts.refused_402.fetch_add(1, Ordering::Relaxed); }
                        Err(_) => { counts.errors.fetch_add(1, Ordering::Relaxed); }
                    }
                });
            }
        }
    }
    // Everything this user saw must be gap-free: compare with the history.
    if let Ok((v, _)) = api.get(&format!("/api/chats/{chat}/messages?limit=100")).await {
        if let Some(list) = v["messages"].as_array() {
            let newest_seen = last_seq;
            for m in list {
                let seq = m["seq"].as_i64().unwrap_or(0);
                if seq <= newest_seen && !seen.contains_key(&seq) && seq > oldest_tracked(&seen) {
                    eprintln!(
                        "gap: chat {chat} seq {seq} ({}, {}) never arrived; newest seen {newest_seen}",
                        m["sender_type"], m["created_at"]
                    );
                    counts.gaps.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

fn oldest_tracked(seen: &HashMap<i64, ()>) -> i64 {
    seen.keys().min().copied().unwrap_or(i64::MAX)
}

/// A fresh socket resuming after `after`, counted as a reconnect.
async fn reconnect(api: &Api, chat: &str, after: i64, counts: &Counters) -> Option<Ws> {
    let ws = connect(api, chat, after).await?;
    counts.reconnects.fetch_add(1, Ordering::Relaxed);
    Some(ws)
}

async fn connect(api: &Api, chat: &str, after: i64) -> Option<Ws> {
    for attempt in 0..5u64 {
        if let Ok(mut ws) = api.socket().await {
            if ws_send(&mut ws, json!({ "t": "subscribe", "chat_id": chat, "after": after })).await.is_ok() {
                return Some(ws);
            }
        }
        tokio::time::sleep(Duration::from_millis(200 * (1 << attempt))).await;
    }
    None
}

/// Closed-loop senders: each waits for `start`, then sends its next paid
/// message as soon as the previous one is answered, until `stop`; the send
/// in flight when `stop` is set is finished and counted.
pub async fn throughput_loop(
    api: Api,
    chat: String,
    mut start: tokio::sync::watch::Receiver<bool>,
    stop: Arc<AtomicBool>,
    lat: Arc<Latencies>,
    counts: Arc<Counters>,
) {
    if start.wait_for(|go| *go).await.is_err() {
        return;
    }
    while !stop.load(Ordering::Relaxed) {
        match api.post(&format!("/api/chats/{chat}/messages"), json!({ "content": stamped("paid message") })).await {
            Ok((_, took)) => {
                lat.api_send.record(took);
                counts.sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) if e.status == 402 => {
                counts.refused_402.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                counts.errors.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Discover pages (API and HTML) under concurrent readers.
pub async fn discover_loop(api: Api, stop: Arc<AtomicBool>, json_lat: Arc<Latency>, html_lat: Arc<Latency>) {
    let mut cursor: Option<String> = None;
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        if i.is_multiple_of(4) {
            if let Some(took) = discover_page(&api).await {
                html_lat.record(took)
            }
            continue;
        }
        let path = match &cursor {
            Some(c) => format!("/api/profiles?limit=24&cursor={c}"),
            None => "/api/profiles?limit=24".to_string(),
        };
        if let Ok((v, took)) = api.get(&path).await {
            json_lat.record(took);
            cursor = v["next_cursor"].as_str().map(str::to_string);
            if i.is_multiple_of(20) {
                cursor = None
            }
        }
    }
}

/// The discover HTML page; how long it took when it answered 2xx.
async fn discover_page(api: &Api) -> Option<Duration> {
    let started = Instant::now();
    let r = api.http.get(format!("{}/discover", api.base)).bearer_auth(&api.token).send().await.ok()?;
    r.status().is_success().then(|| started.elapsed())
}

/// Discover requests arriving at `rate` per second for `length`, whatever
/// the answers' pace (one in four is the HTML page). Returns the seconds run.
pub async fn discover_open_loop(apis: &[Api], rate: f64, length: Duration, json_lat: Arc<Latency>, html_lat: Arc<Latency>) -> f64 {
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut pending = vec![];
    let mut i = 0usize;
    while started.elapsed() < length {
        tick.tick().await;
        i += 1;
        let api = apis[i % apis.len()].clone();
        let (json_lat, html_lat) = (json_lat.clone(), html_lat.clone());
        pending.push(tokio::spawn(async move {
            if i.is_multiple_of(4) {
                if let Some(took) = discover_page(&api).await {
                    html_lat.record(took)
                }
            } else if let Ok((_, took)) = api.get("/api/profiles?limit=24").await {
                json_lat.record(took);
            }
        }));
    }
    let secs = started.elapsed().as_secs_f64();
    for p in pending {
        let _ = p.await;
    }
    secs
}

/// Opens `n` idle sockets spread over the nodes; they stay open until dropped.
pub async fn open_idle(apis: &[Api], n: usize) -> Vec<Ws> {
    let mut socks = Vec::with_capacity(n);
    let mut pending = vec![];
    for i in 0..n {
        let api = apis[i % apis.len()].clone();
        pending.push(tokio::spawn(async move { api.socket().await.ok() }));
        if pending.len() == 200 {
            for p in pending.drain(..) {
                if let Ok(Some(ws)) = p.await {
                    socks.push(ws)
                }
            }
        }
    }
    for p in pending {
        if let Ok(Some(ws)) = p.await {
            socks.push(ws)
        }
    }
    socks
}

pub fn snapshot(c: &Counters) -> Value {
    json!({
        "sent": c.sent.load(Ordering::Relaxed), "refused_402": c.refused_402.load(Ordering::Relaxed),
        "errors": c.errors.load(Ordering::Relaxed), "replies": c.replies.load(Ordering::Relaxed),
        "delivered_to_operator": c.delivered_to_operator.load(Ordering::Relaxed),
        "delivered_to_user": c.delivered_to_user.load(Ordering::Relaxed),
        "reconnects": c.reconnects.load(Ordering::Relaxed), "duplicates": c.duplicates.load(Ordering::Relaxed),
        "gaps": c.gaps.load(Ordering::Relaxed), "reloads": c.reloads.load(Ordering::Relaxed),
    })
}
