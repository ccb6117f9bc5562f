//! fantooo-bench: starts (or targets) fantooo nodes sharing one PostgreSQL,
//! creates users and operators through the API, and drives real HTTP and
//! WebSocket load. Reports throughput and latency percentiles as a table and
//! JSON, memory per idle WebSocket, and runs the invariant checker at the end.

mod api;
mod nodes;
mod scenarios;
mod stats;
mod steal;

use api::Api;
pub use clap::Parser;
use platform_yardstick::{cpu, pgbench as yardstick};
use scenarios::{Counters, Latencies};
use serde_json::json;
use stats::{Latency, Row};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "Bench!pass1";

#[derive(Parser, Debug)]
#[command(name = "fantooo-bench", about = "Load generator for fantooo")]
pub struct Args {
    /// PostgreSQL the nodes share (also used to seed profiles and credits, and to check invariants).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Nodes to start (ignored with --target).
    #[arg(long, default_value_t = 2)]
    nodes: usize,
    /// Use already running nodes instead of starting them (repeatable).
    #[arg(long)]
    target: Vec<String>,
    /// The fantooo binary (default: next to this one).
    #[arg(long)]
    fantooo_bin: Option<std::path::PathBuf>,
    /// Chatting users (one chat each).
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Operators (each may hold up to 50 chats).
    #[arg(long, default_value_t = 40)]
    operators: usize,
    /// Messages per second each chatting user sends (0.05: one every 20 s,
    /// a brisk typed conversation).
    #[arg(long, default_value_t = 0.05)]
    rate: f64,
    /// Seconds of the chat phase (the throughput phase runs as long).
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Concurrent closed-loop senders in the throughput phase (0 skips it);
    /// a list (`--senders 64,256`) runs the phase once per count, in order,
    /// and the last is the headline figure.
    #[arg(long, value_delimiter = ',', default_values_t = [64, 256])]
    senders: Vec<usize>,
    /// Idle WebSockets to open for the memory measurement (0 skips it).
    #[arg(long, default_value_t = 10_000)]
    idle_sockets: usize,
    /// Profiles to have for the discover phase (0 skips the phase).
    #[arg(long, default_value_t = 10_000)]
    profiles: usize,
    /// Database connections per started node. On a small machine fewer
    /// connections than clients keep PostgreSQL from thrashing.
    #[arg(long, default_value_t = 8)]
    node_db_connections: u32,
    /// Discover requests per second for the fixed-rate (open loop) part of
    /// the discover phase (0 skips it).
    #[arg(long, default_value_t = 200.0)]
    discover_rate: f64,
    /// Write the results here as JSON.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Write every live delivery of the chat phase here as CSV (kind,
    /// milliseconds into the phase, delivery milliseconds), to see where in
    /// the phase the slow ones fall.
    #[arg(long)]
    timeline: Option<std::path::PathBuf>,
    /// Seconds of the pgbench yardstick run on the same PostgreSQL before
    /// the phases (0 skips it).
    #[arg(long, default_value_t = 20)]
    yardstick_seconds: u64,
    /// pgbench's scale factor for the yardstick (10: a million accounts rows).
    #[arg(long, default_value_t = 10)]
    yardstick_scale: u32,
    /// pgbench clients (default: the nodes' database connections together,
    /// the concurrency the application gets at the database).
    #[arg(long)]
    yardstick_clients: Option<u32>,
}

pub type Fail = Box<dyn std::error::Error + Send + Sync>;

/// Runs the whole bench; `Ok(true)` when the books balanced and nothing was
/// lost or duplicated.
pub async fn run(args: Args) -> Result<bool, Fail> {
    let fds = nodes::raise_fd_limit();
    // The machine's yardstick first, while nothing else runs.
    let yardstick = if args.yardstick_seconds > 0 {
        let clients = args.yardstick_clients.unwrap_or(args.nodes.max(1) as u32 * args.node_db_connections);
        eprintln!("phase: yardstick (pgbench tpcb-like, scale {}, {clients} clients, {}s)", args.yardstick_scale, args.yardstick_seconds);
        let y = yardstick::measure(&args.database_url, args.yardstick_scale, clients, args.yardstick_seconds).await?;
        eprintln!("yardstick: {:.0} tps", y.tps);
        Some(y)
    } else {
        None
    };
    // And one core's speed (a fixed unit of CPU work), on a thread of its own.
    let cpu = tokio::task::spawn_blocking(|| cpu::measure(Duration::from_secs(2))).await?;
    eprintln!("cpu yardstick: {:.0} units/s on one thread ({})", cpu.units_per_second, cpu.unit);
    let db = fantooo_store::Db::connect(&args.database_url, 8).await?;
    fantooo_store::migrate(&db).await?;
    let data_dir = std::env::temp_dir().join(format!("fantooo-bench-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir)?;
    let binary = args.fantooo_bin.clone().unwrap_or_else(nodes::default_binary);
    let env = nodes::node_env(&args.database_url, &data_dir.display().to_string(), args.node_db_connections);

    // An admin (through the CLI, like an operator of the service would).
    let admin_email = "bench-admin@fantooo.test";
    if fantooo_store::admins::list(&db).await?.iter().all(|a| a.email != admin_email) {
        let out = std::process::Command::new(&binary)
            .args(["create-admin", "--name", "Bench Admin", "--email", admin_email, "--role", "super_admin"])
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("FANTOOO_ADMIN_PASSWORD", PASSWORD)
            .output()?;
        if !out.status.success() {
            return Err(format!("create-admin: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
    }

    let mut started_nodes = vec![];
    let urls: Vec<String> = if args.target.is_empty() {
        for i in 0..args.nodes.max(1) {
            started_nodes.push(nodes::spawn(&binary, &env, &format!("bench-{i}")).await?);
        }
        started_nodes.iter().map(|n| n.url.clone()).collect()
    } else {
        args.target.clone()
    };
    eprintln!("nodes: {urls:?} (fd limit {fds})");
    let http = api::http_client();
    let setup_started = Instant::now();

    let profile_ids = seed_profiles(&db, args.profiles.max(12)).await?;
    let admin = Api::login(&http, &urls[0], admin_email, PASSWORD, "admin").await?;
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();

    // Operators through the API, spread over the nodes, online.
    let per_op = ((args.users / args.operators.max(1)) as i64 + 5).min(50);
    let mut operators = vec![];
    for i in 0..args.operators {
        let email = format!("op{i}-{run_id}@fantooo.test");
        admin
            .post(
                "/api/admin/operators",
                json!({ "name": format!("Bench Operator {i}"), "email": email, "password": PASSWORD,
                                                   "specializations": "flirty,romantic,friendly", "max_concurrent_chats": per_op }),
            )
            .await?;
        let op = Api::login(&http, &urls[i % urls.len()], &email, PASSWORD, "operator").await?;
        op.put("/api/operator/availability", json!({ "available": true })).await?;
        operators.push(op);
    }

    // Users through the API, with credits for paid messages.
    let mut users = vec![];
    let mut pending = vec![];
    for i in 0..args.users.max(args.senders.iter().copied().max().unwrap_or(0)) {
        let (http, base) = (http.clone(), urls[i % urls.len()].clone());
        let name = format!("u{run_id}{i}");
        pending.push(tokio::spawn(async move { Api::signup(&http, &base, &name, PASSWORD).await }));
        if pending.len() == 16 {
            for p in pending.drain(..) {
                users.push(p.await??)
            }
        }
    }
    for p in pending {
        users.push(p.await??)
    }
    for (i, (_, id)) in users.iter().enumerate() {
        let user: fantooo_domain::ids::UserId = id.parse().map_err(|_| "bad user id")?;
        fantooo_store::ledger::post(
            &db,
            &fantooo_store::ledger::Movement {
                user,
                delta: fantooo_domain::Credits(10_000_000),
                reason: fantooo_domain::ledger::LedgerReason::Bonus,
                reference: Some("bench"),
                idempotency_key: &format!("bench:{run_id}:{i}"),
                created_by: None,
            },
        )
        .await?;
    }
    eprintln!(
        "setup: {} users, {} operators, {} profiles in {:.1}s",
        users.len(),
        operators.len(),
        profile_ids.len(),
        setup_started.elapsed().as_secs_f64()
    );

    let mut rows: Vec<Row> = vec![];
    let mut extra = serde_json::Map::new();

    // Phase 1: chats with live delivery both ways.
    eprintln!("phase: chat ({} users, {}s)", args.users, args.duration);
    let lat = Arc::new(Latencies::default());
    let counts = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = vec![];
    for op in &operators {
        tasks.push(tokio::spawn(scenarios::operator_loop(op.clone(), stop.clone(), lat.clone(), counts.clone())));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (i, (api, _)) in users.iter().take(args.users).enumerate() {
        let plan = scenarios::UserPlan { api: api.clone(), profile: profile_ids[i % profile_ids.len()].clone(), rate: args.rate };
        tasks.push(tokio::spawn(scenarios::user_loop(plan, stop.clone(), lat.clone(), counts.clone(), i as u64 * 7919)));
    }
    let phase = Instant::now();
    let phase_start = api::now_micros();
    let stolen = Arc::new(steal::Steal::default());
    tokio::spawn(stolen.clone().sample(phase_start, stop.clone()));
    if args.timeline.is_some() {
        // The bench's own lateness: a 1 ms timer that wakes late says this
        // process (not the server) held the deliveries back.
        let (stop, lat) = (stop.clone(), lat.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let asked = Instant::now();
                tokio::time::sleep(Duration::from_millis(1)).await;
                let late = asked.elapsed().as_micros() as i64 - 1_000;
                if late > 3_000 {
                    lat.trace("bench_late", api::now_micros(), late);
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    stop.store(true, Ordering::Relaxed);
    let secs = phase.elapsed().as_secs_f64();
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(20), t).await;
    }
    let live = lat.user_to_operator.summary("deliver user → operator socket", secs);
    if let Some(note) = no_live_delivery_note(args.users, args.rate, live.count) {
        eprintln!("{note}");
    }
    rows.push(live);
    rows.push(lat.user_to_operator_queued.summary("user message waiting for an operator", secs));
    rows.push(lat.operator_to_user.summary("deliver operator → user socket", secs));
    rows.push(lat.operator_to_user_backlog.summary("deliver operator → user, answering a waiting message", secs));
    rows.push(lat.user_to_operator_until_written.summary("  user → operator: send → written", secs));
    rows.push(lat.user_to_operator_after_written.summary("  user → operator: written → seen", secs));
    rows.push(lat.operator_to_user_until_written.summary("  operator → user: send → written", secs));
    rows.push(lat.operator_to_user_after_written.summary("  operator → user: written → seen", secs));
    rows.push(lat.api_send.summary("API send message (paid)", secs));
    rows.push(lat.api_reply.summary("API operator reply", secs));
    rows.push(lat.api_open_chat.summary("API open chat", secs));
    rows.push(lat.api_browse.summary("API browse profiles", secs));
    extra.insert("chat_phase".into(), scenarios::snapshot(&counts));
    // The live deliveries by how much of the machine the host took in
    // their second: the tail follows stolen time (see the README).
    let mut seen: Vec<(&'static str, i64, i64)> =
        lat.timeline.lock().map(|t| t.iter().map(|(k, at, took)| (*k, at - phase_start, *took)).collect()).unwrap_or_default();
    seen.sort_by_key(|s| s.1);
    if let Some(mean) = stolen.mean() {
        eprintln!("stolen CPU time during the chat phase: {:.1} % on average", mean * 100.0);
        extra.insert("chat_phase_stolen_share".into(), json!(mean));
        rows.extend(steal::by_band(&stolen, &seen, &[("u2o", "user → operator"), ("o2u", "operator → user")]));
    }
    if let Some(path) = &args.timeline {
        let mut csv = String::from("kind,at_ms,took_ms,stolen_share\n");
        for (kind, at, took) in &seen {
            let share = stolen.at(*at).map(|s| format!("{s:.3}")).unwrap_or_default();
            csv.push_str(&format!("{kind},{:.1},{:.3},{share}\n", *at as f64 / 1000.0, *took as f64 / 1000.0));
        }
        std::fs::write(path, csv)?;
        let mut csv = String::from("kind,seq,sent_us,written_us,seen_us,node\n");
        for d in lat.deliveries.lock().map(|d| d.clone()).unwrap_or_default() {
            csv.push_str(&format!("{},{},{},{},{},{}\n", d.kind, d.seq, d.sent, d.written, d.seen, d.node));
        }
        std::fs::write(path.with_extension("deliveries.csv"), csv)?;
    }

    // Phase 2: paid-message throughput, closed loop, once per sender count.
    let mut counts_agree = true;
    let mut phases = vec![];
    for &senders in args.senders.iter().filter(|n| **n > 0) {
        let t = throughput_phase(&args, &http, &urls, &started_nodes, &users, &profile_ids, senders).await?;
        counts_agree &= t.agree;
        let ratio = yardstick.as_ref().and_then(|y| yardstick::ratio(t.row.per_second, y));
        match (&yardstick, ratio) {
            (Some(y), Some(r)) => {
                eprintln!("paid messages/s with {senders} senders: {:.0} = {r:.2}× the yardstick's {:.0} tps", t.row.per_second, y.tps)
            }
            _ => eprintln!("paid messages/s with {senders} senders: {:.0}", t.row.per_second),
        }
        let mut detail = t.detail;
        detail["paid_messages_per_yardstick_tps"] = json!(ratio);
        // The last count is the headline figure.
        extra.insert("paid_messages_per_yardstick_tps".into(), json!(ratio));
        extra.insert("throughput_phase".into(), detail.clone());
        phases.push(detail);
        rows.push(t.row);
    }
    if !phases.is_empty() {
        extra.insert("throughput_phases".into(), json!(phases));
    }
    if let Some(y) = &yardstick {
        extra.insert("yardstick".into(), serde_json::to_value(y)?);
    }
    extra.insert("cpu_yardstick".into(), serde_json::to_value(&cpu)?);

    // Phase 3: discover with many profiles.
    if args.profiles > 0 {
        let json_lat = Arc::new(Latency::default());
        let html_lat = Arc::new(Latency::default());
        let stop3 = Arc::new(AtomicBool::new(false));
        let mut tasks = vec![];
        for api in spread(&users, &urls, 32) {
            tasks.push(tokio::spawn(scenarios::discover_loop(api, stop3.clone(), json_lat.clone(), html_lat.clone())));
        }
        eprintln!("phase: discover ({}s)", args.duration.min(15));
        let phase = Instant::now();
        tokio::time::sleep(Duration::from_secs(args.duration.min(15))).await;
        stop3.store(true, Ordering::Relaxed);
        let secs = phase.elapsed().as_secs_f64();
        for t in tasks {
            let _ = t.await;
        }
        rows.push(json_lat.summary("discover API (keyset page)", secs));
        rows.push(html_lat.summary("discover page (HTML)", secs));

        // The same pages at a fixed arrival rate: latency at a stated load,
        // not the queueing of a saturated closed loop.
        if args.discover_rate > 0.0 {
            let (json_lat, html_lat) = (Arc::new(Latency::default()), Arc::new(Latency::default()));
            let apis = spread(&users, &urls, 32);
            eprintln!("phase: discover at {}/s ({}s)", args.discover_rate, args.duration.min(15));
            let secs = scenarios::discover_open_loop(
                &apis,
                args.discover_rate,
                Duration::from_secs(args.duration.min(15)),
                json_lat.clone(),
                html_lat.clone(),
            )
            .await;
            rows.push(json_lat.summary(&format!("discover API at {}/s offered", args.discover_rate), secs));
            rows.push(html_lat.summary(&format!("discover page at {}/s offered", args.discover_rate), secs));
        }
    }

    // Phase 4: memory per idle WebSocket.
    if args.idle_sockets > 0 && !started_nodes.is_empty() {
        let before: Vec<u64> = started_nodes.iter().map(|n| n.rss_bytes().unwrap_or(0)).collect();
        let apis = spread(&users, &urls, 50);
        let socks = scenarios::open_idle(&apis, args.idle_sockets).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after: Vec<u64> = started_nodes.iter().map(|n| n.rss_bytes().unwrap_or(0)).collect();
        let grown: u64 = after.iter().zip(&before).map(|(a, b)| a.saturating_sub(*b)).sum();
        let per = if socks.is_empty() { 0 } else { grown / socks.len() as u64 };
        extra.insert(
            "idle_sockets".into(),
            json!({
                "opened": socks.len(), "rss_before_bytes": before, "rss_after_bytes": after,
                "bytes_per_socket": per, "total_rss_after_bytes": after.iter().sum::<u64>(),
            }),
        );
        eprintln!(
            "idle sockets: {} open, {} bytes each, RSS after {:?} MiB",
            socks.len(),
            per,
            after.iter().map(|b| b / (1 << 20)).collect::<Vec<_>>()
        );
        drop(socks);
    }

    // The books must balance after all of it.
    let report = fantooo_store::invariants::check(&db).await?;
    extra.insert("invariants".into(), serde_json::to_value(&report)?);
    stats::print_table(&rows);
    println!("{}", serde_json::to_string_pretty(&serde_json::Value::Object(extra.clone()))?);
    if let Some(path) = &args.json {
        let out = json!({ "nodes": urls.len(), "users": args.users, "operators": args.operators, "rate": args.rate,
                          "duration_s": args.duration, "senders": args.senders, "rows": rows, "details": extra });
        std::fs::write(path, serde_json::to_string_pretty(&out)?)?;
    }
    let _ = std::fs::remove_dir_all(&data_dir);
    if !report.is_clean() {
        eprintln!("INVARIANTS BROKEN: {:?}", report.violations);
    }
    if !counts_agree {
        eprintln!("COUNTS DISAGREE: the sends the clients were answered for are not the rows stored (see above)");
    }
    Ok(report.is_clean() && counts_agree)
}

/// One closed-loop run: its latency row, its details for the JSON, and
/// whether the clients' count agreed with the rows stored.
struct Throughput {
    row: Row,
    detail: serde_json::Value,
    agree: bool,
}

/// The closed loop with `senders` senders. Every sender's chat is opened
/// and warmed up first, the loops wait for one start signal, and the phase
/// ends when the last send in flight at the stop is answered, so the
/// clients' count, the latency histogram and the seconds cover the same
/// sends. Before and after, it reads what the database holds for those
/// chats and users (paid messages and their charges), each node's exact
/// send counters, and each process's CPU time.
async fn throughput_phase(
    args: &Args,
    http: &reqwest::Client,
    urls: &[String],
    started_nodes: &[nodes::Node],
    users: &[(Api, String)],
    profile_ids: &[String],
    senders: usize,
) -> Result<Throughput, Fail> {
    let lat = Arc::new(Latencies::default());
    let counts = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let (go, start) = tokio::sync::watch::channel(false);
    let mut tasks = vec![];
    let mut chats = vec![];
    for (i, api) in spread(users, urls, senders).into_iter().enumerate() {
        let profile = profile_ids[(i + 1) % profile_ids.len()].clone();
        let (chat, _) = api.post("/api/chats", json!({ "profile_id": profile })).await?;
        let chat = chat["chat"]["id"].as_str().unwrap_or_default().to_string();
        for _ in 0..3 {
            let _ = api.post(&format!("/api/chats/{chat}/messages"), json!({ "content": "warm-up" })).await;
        }
        chats.push(chat.clone());
        tasks.push(tokio::spawn(scenarios::throughput_loop(api, chat, start.clone(), stop.clone(), lat.clone(), counts.clone())));
    }
    let user_ids: Vec<String> = users.iter().take(senders).map(|(_, id)| id.clone()).collect();
    let mut pg = <sqlx::PgConnection as sqlx::Connection>::connect(&args.database_url).await?;
    let postmaster = postmaster_pid(&mut pg).await;
    eprintln!("phase: throughput ({senders} senders, {}s)", args.duration);

    let stored_before = stored_counts(&mut pg, &chats, &user_ids).await?;
    let counters_before = if started_nodes.is_empty() { None } else { nodes::send_counters(http, urls).await.ok() };
    let cpu_before = cpu_now(started_nodes, postmaster);
    let phase = Instant::now();
    let _ = go.send(true);
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(40), t).await;
    }
    let secs = phase.elapsed().as_secs_f64();
    let cpu_after = cpu_now(started_nodes, postmaster);
    let stored_after = stored_counts(&mut pg, &chats, &user_ids).await?;
    let counters = match (&counters_before, nodes::send_counters(http, urls).await) {
        (Some(before), Ok(after)) => Some(after.since(before)),
        (Some(_), Err(e)) => {
            eprintln!("send counters not read: {e}");
            None
        }
        (None, _) => None,
    };

    let row = lat.api_send.summary(&format!("paid messages, closed loop, {senders} senders"), secs);
    let answered = counts.sent.load(Ordering::Relaxed) as i64;
    let errors = counts.errors.load(Ordering::Relaxed) as i64;
    let messages = stored_after.messages - stored_before.messages;
    let paid = stored_after.paid - stored_before.paid;
    let charges = stored_after.charges - stored_before.charges;
    // A send the client saw fail (a timeout, a dropped connection) may
    // still have been stored: only those may make the two counts differ.
    let agree = (messages - answered).abs() <= errors && charges == paid;
    let mut detail = json!({
        "senders": senders, "seconds": secs, "per_second": row.per_second,
        "answered": answered, "errors": errors, "refused_402": counts.refused_402.load(Ordering::Relaxed),
        "stored_messages": messages, "stored_paid_messages": paid, "stored_charges": charges, "counts_agree": agree,
        "little_law_senders": row.per_second * mean_seconds(&lat.api_send),
    });
    eprintln!(
        "  {senders} senders, {secs:.1}s: {answered} sends answered ({errors} errors); stored: {messages} messages, {paid} paid, {charges} charges{}",
        if agree { "" } else { " — DISAGREE" }
    );
    if let Some(c) = counters {
        detail["send_counters"] = json!({
            "batched": c.batched, "single": c.single, "refused": c.refused, "repeated": c.repeated,
            "batches": c.batches, "batch_members": c.batch_members, "mean_batch": c.mean_batch(), "p99_batch": c.p99,
        });
        eprintln!(
            "  nodes: {:.0} stored in {:.0} batches (mean {:.2}, p99 {}), {:.0} alone, {:.0} refused",
            c.batched,
            c.batches,
            c.mean_batch(),
            c.p99.map_or("-".to_string(), |p| format!("{p:.0}")),
            c.single,
            c.refused
        );
        if c.stored() as i64 != messages {
            eprintln!("  note: the nodes counted {:.0} stored sends, the database holds {messages}", c.stored());
        }
    }
    if let (Some(b), Some(a)) = (&cpu_before, &cpu_after) {
        let per_send = |x: f64, y: f64| if answered > 0 { (y - x) * 1000.0 / answered as f64 } else { 0.0 };
        let nodes_ms = per_send(b.nodes, a.nodes);
        let bench_ms = per_send(b.bench, a.bench);
        let pg_ms = match (b.postgres, a.postgres) {
            (Some(x), Some(y)) => Some(per_send(x, y)),
            _ => None,
        };
        detail["cpu_ms_per_send"] = json!({ "nodes": nodes_ms, "postgres": pg_ms, "bench": bench_ms });
        eprintln!(
            "  CPU per send: nodes {nodes_ms:.3} ms, PostgreSQL {}, bench {bench_ms:.3} ms",
            pg_ms.map_or("-".to_string(), |m| format!("{m:.3} ms"))
        );
    }
    detail["counters"] = scenarios::snapshot(&counts);
    Ok(Throughput { row, detail, agree })
}

/// Why a chat phase measured no live delivery, if it did not. A user's
/// first message waits for an operator to be assigned; the live deliveries
/// start with the second, sent one period ([`scenarios::send_period`]) after
/// the first, and the first is spread over one period, so a phase shorter
/// than one period measures none and a phase shorter than two measures only
/// some users'.
fn no_live_delivery_note(users: usize, rate: f64, live: u64) -> Option<String> {
    if users == 0 || live > 0 {
        return None;
    }
    let period = scenarios::send_period(rate).as_secs_f64();
    Some(format!(
        "note: no live delivery was measured, so the delivery rows are empty: each user's first message waits for an operator and the next comes {period:.0} s later (--rate {rate}); run the chat phase for {:.0} s or more (--duration)",
        2.0 * period
    ))
}

/// The mean of a latency histogram, in seconds.
fn mean_seconds(l: &Latency) -> f64 {
    l.mean_micros() / 1e6
}

/// What the database holds for a closed loop's chats and users.
struct Stored {
    messages: i64,
    paid: i64,
    charges: i64,
}

async fn stored_counts(pg: &mut sqlx::PgConnection, chats: &[String], users: &[String]) -> Result<Stored, Fail> {
    let (messages, paid, charges): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM messages WHERE chat_id = ANY(CAST($1 AS uuid[])) AND sender_type = 'real'),
                (SELECT count(*) FROM messages WHERE chat_id = ANY(CAST($1 AS uuid[])) AND sender_type = 'real' AND credits_charged > 0),
                (SELECT count(*) FROM credit_ledger WHERE user_id = ANY(CAST($2 AS uuid[])) AND reason = 'message_charge')",
    )
    .bind(chats)
    .bind(users)
    .fetch_one(pg)
    .await?;
    Ok(Stored { messages, paid, charges })
}

/// PostgreSQL's postmaster, when it runs on this machine: the parent of
/// this connection's backend.
async fn postmaster_pid(pg: &mut sqlx::PgConnection) -> Option<u32> {
    let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(pg).await.ok()?;
    platform_procstat::parent(backend as u32).filter(|p| *p > 1)
}

/// CPU seconds used so far by the started nodes together, by PostgreSQL
/// (all its processes) and by this bench.
struct CpuNow {
    nodes: f64,
    postgres: Option<f64>,
    bench: f64,
}

fn cpu_now(started: &[nodes::Node], postmaster: Option<u32>) -> Option<CpuNow> {
    if started.is_empty() {
        return None;
    }
    let nodes = started.iter().filter_map(|n| n.pid()).filter_map(platform_procstat::cpu_seconds).sum();
    Some(CpuNow {
        nodes,
        postgres: postmaster.and_then(platform_procstat::tree_cpu_seconds),
        bench: platform_procstat::cpu_seconds(std::process::id())?,
    })
}

/// The first `n` users' clients, spread round-robin over the nodes.
fn spread(users: &[(Api, String)], urls: &[String], n: usize) -> Vec<Api> {
    users.iter().take(n).enumerate().map(|(i, (api, _))| api.with_base(&urls[i % urls.len()])).collect()
}

/// Makes sure at least `n` active profiles exist (bulk, straight into the store).
async fn seed_profiles(db: &fantooo_store::Db, n: usize) -> Result<Vec<String>, Fail> {
    let have = fantooo_store::profiles::count_active(db).await? as usize;
    for i in have..n {
        fantooo_store::profiles::create(
            db,
            &fantooo_store::profiles::NewProfile {
                name: format!("Bench {i}"),
                age: 20 + (i % 30) as i64,
                gender: fantooo_domain::Gender::Female,
                location: ["Nairobi", "Mombasa", "Kisumu", "Nakuru"][i % 4].into(),
                bio: format!("Profile number {i} likes music and travel"),
                personality_traits: vec!["warm".into()],
                interests: vec!["music".into(), "travel".into()],
                occupation: None,
                profile_pictures: (0..3).map(|k| format!("/media/generated/bench-{i}-{k}.svg")).collect(),
                response_style: Some(["flirty", "romantic", "friendly"][i % 3].into()),
                response_templates: vec![],
                personality_guidelines: None,
                is_featured: i % 50 == 0,
                featured_until: None,
                tags: vec!["music".into()],
                category: None,
                popularity_score: (i % 1000) as i64,
            },
            None,
        )
        .await?;
    }
    // As after an admin's bulk import: planner statistics for the new rows.
    db.refresh_statistics("fictional_users").await?;
    let list = fantooo_store::profiles::list_public(db, 2000, 0).await?;
    Ok(list.into_iter().map(|p| p.id.to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::no_live_delivery_note;

    #[test]
    fn an_empty_chat_phase_says_why_and_how_long_to_run() {
        let cases: [(usize, f64, u64, Option<&str>); 4] = [
            (1000, 0.05, 0, Some("the next comes 20 s later (--rate 0.05); run the chat phase for 40 s or more")),
            (1000, 0.5, 0, Some("the next comes 2 s later (--rate 0.5); run the chat phase for 4 s or more")),
            (1000, 0.05, 438, None),
            (0, 0.05, 0, None),
        ];
        for (users, rate, live, want) in cases {
            let got = no_live_delivery_note(users, rate, live);
            match want {
                Some(part) => assert!(got.as_deref().is_some_and(|g| g.contains(part)), "{users} {rate} {live}: {got:?}"),
                None => assert_eq!(got, None, "{users} {rate} {live}"),
            }
        }
    }
}
