//! Gifts into one hot room: many senders (1,000 by default), each sending
//! one gift after another over HTTP to the seat holders, while listeners in
//! the room hold its WebSocket. Closed loop (the default): each sender sends
//! its next gift when the last one is answered, which measures the sustained
//! rate; the time from a request leaving the bench to its event at every
//! listener is then mostly the queue of senders waiting (Little's law).
//! Open loop (`--rate N`): the senders together offer N gifts a second on a
//! fixed schedule (sender i's k-th gift is due at (k·senders + i) / N s),
//! and each gift is timed from when it was due, so a server that falls
//! behind shows as latency, not as a lower rate. The animation arrives in a
//! `gifts` frame (one per committed batch and room, listing its gifts) or a
//! single `gift` frame; each listed gift counts once. Afterwards the totals are
//! checked exactly: every listener saw every accepted gift, each sender's
//! coins went down by exactly its accepted gifts' cost (sum of costs = sum
//! of debits), and `rooms check` is clean.
//!
//! Besides the latency to every listener it prints the latency to each
//! request's own answer (the commit, without the fan-out), the worst
//! latency of the gifts sent in each second (whether the tail is a few
//! stalls or a steady queue), and per gift the CPU and the run-queue wait
//! (time runnable without a CPU) of the server, the bench and PostgreSQL.
//! Before the load it measures the machine's yardsticks
//! ([`platform_yardstick`]): `pgbench` on the same PostgreSQL, with the
//! gifts a second as a ratio of it, and one core's speed.

use crate::listen::{self, Stop, Subscribed};
use crate::server::{check, get, now_micros, post, post_unread, sign_up_many, staff, start_server, ServerArgs};
use crate::stats::{histogram, record, report};
use crate::Fail;
use platform_yardstick::{cpu, pgbench};
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    server: ServerArgs,
    /// People sending gifts, one request after another each.
    #[arg(long, default_value_t = 1000)]
    senders: usize,
    /// Seat holders the gifts go to (round robin).
    #[arg(long, default_value_t = 8)]
    seated: usize,
    /// Further people in the room who only listen on its WebSocket (the
    /// owner and the seat holders listen too).
    #[arg(long, default_value_t = 50)]
    listeners: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Coins each sender is given first.
    #[arg(long, default_value_t = 1_000_000)]
    coins: i64,
    /// Open loop: gifts a second offered by all senders together, each
    /// timed from when it was due (without it: closed loop).
    #[arg(long)]
    rate: Option<f64>,
    /// Write the results here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Seconds of the pgbench yardstick on the server's PostgreSQL before
    /// the load (0: none; there is none on SQLite).
    #[arg(long, default_value_t = 10)]
    yardstick_seconds: u64,
    /// pgbench's scale factor (10: a million accounts rows).
    #[arg(long, default_value_t = 10)]
    yardstick_scale: u32,
    /// pgbench's clients.
    #[arg(long, default_value_t = 16)]
    yardstick_clients: u32,
}

/// A room socket's message as the listeners read it: its `t`, and the
/// senders a `gifts` frame (or a single `gift` event) lists, in order.
///
/// Read by scanning the text, not by parsing it: every listener reads
/// every batch's frame (tens of kilobytes at thousands of gifts a second),
/// and the bench shares the machine's two cores with the server and the
/// database. In JSON text the bytes `"sender":"` can only be the key
/// `sender` and the opening quote of its string value (a quote inside a
/// string is escaped), so the scan finds the same senders a parse would;
/// `t` and `kind` are the first such keys of the frame (the server writes
/// them before its `data`). The frame text is JSON the server validated.
struct Frame {
    t: Option<String>,
    senders: Vec<String>,
}

/// The string values of the `"key":"…"` in `text`, in order (no escapes
/// in them), found as they are asked for.
fn values<'a>(text: &'a str, key: &str) -> impl Iterator<Item = &'a str> {
    let key = memchr::memmem::Finder::new(format!("\"{key}\":\"").as_bytes()).into_owned();
    let mut from = 0;
    std::iter::from_fn(move || {
        let at = from + key.find(&text.as_bytes()[from..])? + key.needle().len();
        let len = memchr::memchr(b'"', &text.as_bytes()[at..])?;
        from = at + len;
        Some(&text[at..at + len])
    })
}

impl listen::Tagged for Frame {
    fn parse(text: &str) -> Option<Frame> {
        let t = values(text, "t").next().map(str::to_string);
        let senders = if t.as_deref() == Some("event") && matches!(values(text, "kind").next(), Some("gifts" | "gift")) {
            values(text, "sender").map(str::to_string).collect()
        } else {
            vec![]
        };
        Some(Frame { t, senders })
    }
    fn t(&self) -> Option<&str> {
        self.t.as_deref()
    }
}

/// Gifts per sender in flight at most: one.
struct Sender {
    id: String,
    token: String,
    /// When each of its gift requests left the bench (open loop: was due),
    /// in order.
    sent_at: Mutex<Vec<i64>>,
    /// From each request's `sent_at` to its answer, microseconds.
    answered: Mutex<Vec<i64>>,
    accepted: AtomicU64,
}

pub async fn run(args: Args) -> Result<(), Fail> {
    if args.server.target.is_some() {
        return Err("gifts starts its own server (it makes a staff account with `rooms create-admin`)".into());
    }
    // The machine's yardsticks first, while nothing else runs.
    let yardstick = match &args.server.database_url {
        Some(url) if args.yardstick_seconds > 0 => {
            let y = pgbench::measure(url, args.yardstick_scale, args.yardstick_clients, args.yardstick_seconds).await?;
            eprintln!("yardstick: pgbench {:.0} tps (tpcb-like, scale {}, {} clients, {} s)", y.tps, y.scale, y.clients, y.seconds);
            Some(y)
        }
        _ => None,
    };
    let core = tokio::task::spawn_blocking(|| cpu::measure(Duration::from_secs(2))).await?;
    eprintln!("cpu yardstick: {:.0} units/s on one thread ({})", core.units_per_second, core.unit);
    let dir = tempfile::tempdir()?;
    let (server, base) = start_server(&args.server, dir.path()).await?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(2048).build()?;
    let run = format!("{:x}", now_micros() % 0xffff_ffff);
    let setup = Instant::now();
    let admin = staff(&args.server, dir.path(), &http, &base, &run).await?;
    let (status, gift) = post(
        &http,
        &format!("{base}/api/v1/admin/gifts"),
        Some(&admin.token),
        json!({"code": format!("bench-{run}"), "name": "Bench heart", "category": "classic", "rarity": "common", "price": "1", "animation": "heart.svg"}),
    )
    .await?;
    if status != 201 {
        return Err(format!("create gift: {status} {gift}").into());
    }
    let gift = gift["gift"]["id"].as_str().unwrap_or_default().to_string();

    let people = sign_up_many(&http, &base, &run, 1 + args.seated + args.listeners + args.senders, 16).await?;
    let owner = people[0].clone();
    let seated = people[1..=args.seated].to_vec();
    let listeners = people[..=args.seated + args.listeners].to_vec();
    let senders: Vec<Arc<Sender>> = people[1 + args.seated + args.listeners..]
        .iter()
        .map(|p| {
            Arc::new(Sender {
                id: p.id.clone(),
                token: p.token.clone(),
                sent_at: Mutex::new(vec![]),
                answered: Mutex::new(vec![]),
                accepted: AtomicU64::new(0),
            })
        })
        .collect();
    let (status, room) = post(
        &http,
        &format!("{base}/api/v1/rooms"),
        Some(&owner.token),
        json!({"name": format!("Gift bench {run}"), "seat_count": 15, "visitors_speak": true}),
    )
    .await?;
    if status != 201 {
        return Err(format!("create room: {status} {room}").into());
    }
    let room = room["room"]["id"].as_str().unwrap_or_default().to_string();
    let stop = Stop::new();
    let beats = listen::heartbeats(&http, &base, &room, &people, &stop);
    listen::join(&http, &base, &room, &people[1..]).await?;
    for p in &seated {
        let (status, v) = post(&http, &format!("{base}/api/v1/rooms/{room}/actions/take_seat"), Some(&p.token), json!({})).await?;
        if !(200..300).contains(&status) {
            return Err(format!("take seat: {status} {v}").into());
        }
    }
    for chunk in senders.chunks(16) {
        let urls: Vec<String> = chunk.iter().map(|s| format!("{base}/api/v1/admin/users/{}/adjust", s.id)).collect();
        let grants = chunk.iter().zip(&urls).map(|(s, url)| {
            post(
                &http,
                url,
                Some(&admin.token),
                json!({"unit": "coins", "amount": args.coins.to_string(), "reason": "bench", "key": format!("bench-{}", s.id)}),
            )
        });
        for r in futures_util::future::join_all(grants).await {
            let (status, v) = r?;
            if status != 201 {
                return Err(format!("grant: {status} {v}").into());
            }
        }
    }
    eprintln!(
        "setup: {} people, {} senders with {} coins each, in {:.1}s",
        people.len(),
        senders.len(),
        args.coins,
        setup.elapsed().as_secs_f64()
    );

    // The sending's start on the wall clock, set once the listeners are in
    // (each gift's worst latency is kept by the second it was sent in).
    let start = Arc::new(AtomicI64::new(0));
    // The listeners' sockets.
    let by_id: Arc<HashMap<String, Arc<Sender>>> = Arc::new(senders.iter().map(|s| (s.id.clone(), s.clone())).collect());
    let ws_url = format!("{}/api/v1/ws", base.replacen("http", "ws", 1));
    let subscribed = Subscribed::default();
    let mut readers = Vec::new();
    let mut counts: Vec<Arc<AtomicU64>> = Vec::new();
    for p in &listeners {
        let by_id = by_id.clone();
        let count = Arc::new(AtomicU64::new(0));
        counts.push(count.clone());
        let state = (0u64, histogram(), HashMap::<String, usize>::new(), Vec::<i64>::new());
        let start = start.clone();
        readers.push(
            listen::room(&ws_url, &p.token, &room, &stop, &subscribed, state, move |(gifts, latency, seen, worst), v: &Frame, at| {
                for sender in &v.senders {
                    *gifts += 1;
                    // A sender's gifts commit in order (one in flight), so
                    // its n-th gift seen is its n-th request.
                    let n = match seen.get_mut(sender) {
                        Some(n) => n,
                        None => seen.entry(sender.clone()).or_default(),
                    };
                    if let Some(t) = by_id.get(sender).and_then(|s| s.sent_at.lock().unwrap().get(*n).copied()) {
                        record(latency, at - t);
                        let second = usize::try_from((t - start.load(Ordering::Relaxed)) / 1_000_000).unwrap_or(0);
                        if worst.len() <= second {
                            worst.resize(second + 1, 0);
                        }
                        worst[second] = worst[second].max(at - t);
                    }
                    *n += 1;
                }
                count.store(*gifts, Ordering::Relaxed);
            })
            .await?,
        );
    }
    subscribed.wait_for(listeners.len()).await;
    // Open loop: the schedule's start, on the bench's clock and the wall clock.
    let (t0, t0_micros) = (tokio::time::Instant::now() + Duration::from_millis(100), now_micros() + 100_000);
    start.store(t0_micros, Ordering::Relaxed);

    // The senders.
    let failed = Arc::new(AtomicU64::new(0));
    let sending = Arc::new(AtomicBool::new(true));
    let mut tasks = Vec::new();
    let (n_senders, until) = (senders.len() as f64, Duration::from_secs(args.duration));
    for (i, s) in senders.iter().enumerate() {
        let (http, url, gift, s, sending, failed) =
            (http.clone(), format!("{base}/api/v1/rooms/{room}/gifts"), gift.clone(), s.clone(), sending.clone(), failed.clone());
        let to = seated[i % seated.len()].id.clone();
        let rate = args.rate;
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            // Open loop: every gift due within the duration is sent.
            while rate.is_some() || sending.load(Ordering::Relaxed) {
                let body = json!({"gift_id": gift, "to": to, "quantity": 1, "idempotency_key": format!("g{i}-{n}")});
                let sent = match rate {
                    Some(rate) => {
                        let due = Duration::from_secs_f64((n as f64 * n_senders + i as f64) / rate);
                        if due >= until {
                            return;
                        }
                        tokio::time::sleep_until(t0 + due).await;
                        t0_micros + due.as_micros() as i64
                    }
                    None => now_micros(),
                };
                s.sent_at.lock().unwrap().push(sent);
                let mut ok = false;
                // A timeout or a 5xx is retried with the same key: charged once.
                for _ in 0..5 {
                    match post_unread(&http, &url, &s.token, &body).await {
                        Ok((200 | 201, _)) => {
                            ok = true;
                            break;
                        }
                        Ok((status, v)) if status < 500 => {
                            eprintln!("gift refused: {status} {v}");
                            break;
                        }
                        _ => tokio::time::sleep(Duration::from_millis(200)).await,
                    }
                }
                if !ok {
                    failed.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                s.answered.lock().unwrap().push(now_micros() - sent);
                s.accepted.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        }));
    }
    let started = Instant::now();
    // CPU of the server and of this bench over the sending, from /proc.
    let cpu = || (server.pid().and_then(platform_procstat::cpu_seconds), platform_procstat::cpu_seconds(std::process::id()));
    // And their threads' time runnable but waiting for a CPU.
    let waited = || {
        (server.pid().and_then(platform_procstat::run_queue_wait_seconds), platform_procstat::run_queue_wait_seconds(std::process::id()))
    };
    let pg = match &args.server.database_url {
        Some(url) => crate::pgwatch::PgWatch::start(url).await,
        None => None,
    };
    if let Some(pg) = &pg {
        pg.reset().await;
    }
    let pg_before = pg.as_ref().and_then(|p| p.cpu());
    let pg_waited_before = pg.as_ref().and_then(|p| p.run_queue_wait());
    let cpu_before = cpu();
    let waited_before = waited();
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    sending.store(false, Ordering::Relaxed);
    for t in tasks {
        t.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu_after = cpu();
    let waited_after = waited();
    let pg_after = pg.as_ref().and_then(|p| p.cpu());
    let pg_waited_after = pg.as_ref().and_then(|p| p.run_queue_wait());
    let accepted_in_window: u64 = senders.iter().map(|s| s.accepted.load(Ordering::Relaxed)).sum();
    if let Some(pg) = &pg {
        pg.print(accepted_in_window, "gift").await;
    }
    // Let the last deliveries arrive (at most 60 s more).
    let accepted: u64 = senders.iter().map(|s| s.accepted.load(Ordering::Relaxed)).sum();
    for _ in 0..600 {
        if counts.iter().all(|c| c.load(Ordering::Relaxed) >= accepted) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.stop();
    beats.abort();
    let mut latency = histogram();
    let mut per_listener = vec![];
    let mut worst: Vec<i64> = vec![];
    for r in readers {
        let (n, h, _, w) = r.await?;
        latency.add(&h)?;
        per_listener.push(n);
        worst.resize(worst.len().max(w.len()), 0);
        for (a, b) in worst.iter_mut().zip(w) {
            *a = (*a).max(b);
        }
    }

    // Exact totals: each sender's coins, the listeners' counts, `rooms check`.
    let mut debited = 0i64;
    let mut wrong = vec![];
    for chunk in senders.chunks(32) {
        let coins_url = format!("{base}/api/v1/coins");
        let reads = chunk.iter().map(|s| get(&http, &coins_url, Some(&s.token)));
        for (s, r) in chunk.iter().zip(futures_util::future::join_all(reads).await) {
            let (_, v) = r?;
            let coins = v["coins"].as_i64().ok_or_else(|| format!("coins: {v}"))?;
            let expected = args.coins - s.accepted.load(Ordering::Relaxed) as i64;
            debited += args.coins - coins;
            if coins != expected {
                wrong.push(format!("{}: {coins} coins, expected {expected}", s.id));
            }
        }
    }
    let problems = check(&args.server, dir.path())?;
    let (least, most) = (per_listener.iter().min().copied().unwrap_or(0), per_listener.iter().max().copied().unwrap_or(0));
    let offered = match args.rate {
        Some(rate) => format!("open loop, {rate:.0} gifts/s offered ({:.0} due); ", rate * args.duration as f64),
        None => "closed loop; ".into(),
    };
    println!(
        "gifts: {offered}{accepted} accepted in {secs:.1}s = {:.0} gifts/s from {} senders to {} seat holders ({} failed); each of {} listeners saw {least}..{most} gifts",
        accepted as f64 / secs,
        senders.len(),
        seated.len(),
        failed.load(Ordering::Relaxed),
        listeners.len()
    );
    let per_yardstick = yardstick.as_ref().and_then(|y| pgbench::ratio(accepted as f64 / secs, y));
    if let (Some(y), Some(r)) = (&yardstick, per_yardstick) {
        println!(
            "yardstick: {:.0} gifts/s = {r:.2}× pgbench's {:.0} tps; one core {:.0} units/s",
            accepted as f64 / secs,
            y.tps,
            core.units_per_second
        );
    } else {
        println!("yardstick: one core {:.0} units/s", core.units_per_second);
    }
    println!("totals: sum of costs {accepted} coins, sum of debits {debited} coins; senders off: {}; rooms check: {problems}", wrong.len());
    // CPU per accepted gift over the sending (PostgreSQL's is not a child
    // of the bench: read it apart).
    let per_gift = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if accepted > 0 => Some((b - a) * 1000.0 / accepted as f64),
        _ => None,
    };
    let (server_ms, bench_ms) = (per_gift(cpu_before.0, cpu_after.0), per_gift(cpu_before.1, cpu_after.1));
    let pg_ms = per_gift(pg_before, pg_after);
    let shown = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3} ms"));
    println!("cpu per gift while sending: rooms serve {}, bench {}, postgresql {}", shown(server_ms), shown(bench_ms), shown(pg_ms));
    // Time runnable but without a CPU: on a saturated machine a batch's
    // round trips each wait here, so it lengthens the batch and the queue.
    let (server_wait, bench_wait) = (per_gift(waited_before.0, waited_after.0), per_gift(waited_before.1, waited_after.1));
    let pg_wait = per_gift(pg_waited_before, pg_waited_after);
    println!(
        "run-queue wait per gift while sending: rooms serve {}, bench {}, postgresql {}",
        shown(server_wait),
        shown(bench_wait),
        shown(pg_wait)
    );
    let mut answered = histogram();
    for s in &senders {
        for t in s.answered.lock().unwrap().iter() {
            record(&mut answered, *t);
        }
    }
    let answered_row = report(if args.rate.is_some() { "gift due → its answer" } else { "gift request sent → its answer" }, &answered);
    let row = report(
        if args.rate.is_some() { "gift due → gift at every listener" } else { "gift request sent → gift at every listener" },
        &latency,
    );
    let worst_ms: Vec<i64> = worst.iter().map(|w| w / 1000).collect();
    println!("worst by second sent (ms): {worst_ms:?}");
    if let Some(path) = &args.json {
        let out = json!({"worst_ms_by_second": worst_ms, "senders": senders.len(), "rate": args.rate, "seated": seated.len(), "listeners": listeners.len(), "duration_s": secs,
                         "accepted": accepted, "gifts_per_s": accepted as f64 / secs, "debited": debited, "check": problems,
                         "per_listener_min": least, "per_listener_max": most, "latency": row, "answered": answered_row,
                         "cpu_ms_per_gift": {"server": server_ms, "bench": bench_ms, "postgresql": pg_ms},
                         "run_queue_wait_ms_per_gift": {"server": server_wait, "bench": bench_wait, "postgresql": pg_wait},
                         "yardstick": yardstick, "gifts_per_yardstick_tps": per_yardstick, "cpu_yardstick": core});
        std::fs::write(path, serde_json::to_string_pretty(&out)?)?;
    }
    let exact = debited == accepted as i64
        && wrong.is_empty()
        && problems.as_array().is_some_and(|p| p.is_empty())
        && least == accepted
        && most == accepted;
    if !exact {
        for w in wrong.iter().take(10) {
            eprintln!("WRONG: {w}");
        }
        return Err("totals are not exact (see above)".into());
    }
    println!("totals exact");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Frame;
    use crate::listen::Tagged;
    use serde_json::json;

    fn frame(kind: &str, data: serde_json::Value) -> String {
        // As the server splices a stored event into its frame.
        format!(r#"{{"t":"event","room_id":"r1","seq":7,"kind":"{kind}","data":{data},"at":"2026-12-02T10:00:00Z"}}"#)
    }

    #[test]
    fn a_frame_yields_the_senders_a_parse_finds_and_nothing_else() {
        let tricky = r#"Eve "sender":"mallory""#;
        let gifts = json!({"gifts": [
            {"sender": "s1", "sender_name": tricky, "gift": "rose", "to": [{"account": "r1", "name": tricky}]},
            {"sender": "s2", "sender_name": "Bob", "gift": "rose", "to": []},
            {"sender": "s1", "sender_name": tricky, "gift": "rose", "to": []},
        ]});
        let text = frame("gifts", gifts.clone());
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        let by_parse: Vec<String> =
            parsed["data"]["gifts"].as_array().unwrap().iter().map(|g| g["sender"].as_str().unwrap().to_string()).collect();
        let f = Frame::parse(&text).unwrap();
        assert_eq!(f.t(), Some("event"));
        assert_eq!(f.senders, by_parse);
        assert_eq!(f.senders, ["s1", "s2", "s1"]);
        let one = Frame::parse(&frame("gift", json!({"sender": "s3", "sender_name": tricky}))).unwrap();
        assert_eq!(one.senders, ["s3"]);
        let chat = Frame::parse(&frame("chat", json!({"sender": "s4", "text": tricky}))).unwrap();
        assert!(chat.senders.is_empty(), "only gift events list senders");
        let sub = Frame::parse(r#"{"t":"subscribed","room_id":"r1","seq":7}"#).unwrap();
        assert_eq!((sub.t(), sub.senders.len()), (Some("subscribed"), 0));
    }
}
