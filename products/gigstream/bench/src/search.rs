//! Search over a large catalogue at a fixed offered rate.
//!
//! Open loop: request k is due at `start + k / rate` and is sent then,
//! whatever earlier requests are doing; its latency counts from when it
//! was due, so queueing in the server (or in the bench) shows in the
//! figures instead of lowering the load.

use crate::server::{self, Store};
use crate::stats::Latencies;
use crate::{seed, Fail};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// PostgreSQL for the server (default: an embedded SQLite file in a temporary directory).
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// The `gigstream` binary (default: next to this one).
    #[arg(long)]
    gigstream_bin: Option<PathBuf>,
    /// Gigs in the catalogue.
    #[arg(long, default_value_t = 100_000)]
    gigs: u32,
    /// Sellers they belong to.
    #[arg(long, default_value_t = 2_000)]
    sellers: u32,
    /// Offered load, searches per second.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Seconds of measured load.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Seconds of load before measuring (caches, connection pools).
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// The p99 the run is held to, in milliseconds.
    #[arg(long, default_value_t = 20.0)]
    goal_p99_ms: f64,
    /// Write the results here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// What people search for, in turn: words common and rare, a prefix, a
/// typo (→ "did you mean"), filters with and without words, every sort.
const QUERIES: [(&str, &str); 13] = [
    ("one common word", "q=logo"),
    ("two words", "q=minimalist%20logo"),
    ("two words, another pair", "q=website%20design"),
    ("very common word", "q=translate"),
    ("prefix", "q=restau"),
    ("word, cheapest first", "q=logo&sort=price"),
    ("word, rating filter and sort", "q=brand&sort=rating&rating=450"),
    ("category only", "category=graphics-design"),
    ("category, price band, by price", "category=programming-tech&price=25_100&sort=price"),
    ("everything, newest", "sort=newest"),
    ("everything, best rated, 4.5 and up", "sort=rating&rating=450"),
    ("word, delivery and level", "q=video&delivery=3&level=top_rated"),
    ("typo, corrected", "q=minimalst%20logoo"),
];

pub async fn run(args: Args) -> Result<(), Fail> {
    let store = Store::new(args.database_url.as_deref())?;
    let bin = server::binary(args.gigstream_bin.clone());
    server::migrate(&bin, &store).await?;
    let db = platform_db::Db::connect(&store.url, 4).await?;
    println!("seeding {} gigs from {} sellers ({})…", args.gigs, args.sellers, store.label());
    let seeded = seed::gigs(&db, args.sellers, args.gigs).await?;
    db.close().await;
    // The seed's inserts left one facet delta per gig (PostgreSQL); the
    // server's leader folds them each minute, here at once.
    server::job(&bin, &store, "fold-facets").await?;
    println!("  seeded in {seeded:.1} s");
    let srv = server::serve(&bin, &store, server::free_port()?, &[]).await?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(512).build()?;

    // Each query once: it answers, with hits, a total and every facet.
    let mut answers = vec![];
    for (name, q) in QUERIES {
        let v: Value = http.get(format!("{}/api/v1/search?{q}", srv.base)).send().await?.error_for_status()?.json().await?;
        let facets = ["category", "price", "delivery_days", "rating", "level"].iter().all(|f| v["facets"][f].is_array());
        let total = v["total"].as_i64().unwrap_or(-1);
        if !facets || total <= 0 {
            return Err(format!("{name} ({q}): no hits or no facets: {v}").into());
        }
        println!("  {name:<34} {total:>6} hits{}", v["suggestion"].as_str().map(|s| format!(" (for “{s}”)")).unwrap_or_default());
        answers.push(json!({ "name": name, "query": q, "total": total }));
    }

    let queries: Arc<Vec<String>> = Arc::new(QUERIES.iter().map(|(_, q)| format!("{}/api/v1/search?{q}", srv.base)).collect());
    println!("warming up for {} s at {} searches/s…", args.warmup, args.rate);
    load(&http, &queries, args.rate, args.warmup).await;
    println!("measuring for {} s at {} searches/s (open loop)…", args.duration, args.rate);
    let cpu_before = srv.cpu_seconds();
    let run = load(&http, &queries, args.rate, args.duration).await;
    let cpu = srv.cpu_seconds().zip(cpu_before).map(|(after, before)| after - before);

    println!("search over {} gigs, {} store, offered {} searches/s:", args.gigs, store.label(), args.rate);
    let mut all = Latencies::new("all searches");
    let mut per_query = vec![];
    for h in &run.per_query {
        per_query.push(h.summary());
        all.add(h);
    }
    let overall = all.summary();
    let achieved = run.ok as f64 / run.elapsed;
    let met = all.p99_ms() < args.goal_p99_ms && run.failed == 0;
    println!(
        "  offered {} searches/s, served {achieved:.1}/s: answered {} ({} failed) in {:.1} s; p99 goal < {} ms: {}",
        args.rate,
        run.ok,
        run.failed,
        run.elapsed,
        args.goal_p99_ms,
        if met { "met" } else { "MISSED" }
    );
    // The server's own CPU per answered search (the database's is apart).
    let cpu_ms_per_search = cpu.filter(|_| run.ok > 0).map(|c| c * 1000.0 / run.ok as f64);
    if let Some(ms) = cpu_ms_per_search {
        println!("  server process CPU: {ms:.2} ms per search (user + system, the database not included)");
    }
    let out = json!({
        "bench": "search", "store": store.label(), "gigs": args.gigs, "sellers": args.sellers, "seed_seconds": seeded,
        "offered_per_second": args.rate, "duration_seconds": args.duration, "answered": run.ok, "failed": run.failed,
        "achieved_per_second": achieved, "server_cpu_ms_per_search": cpu_ms_per_search, "goal_p99_ms": args.goal_p99_ms, "goal_met": met,
        "overall": overall, "per_query": per_query, "queries": answers,
    });
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&out)?)?;
    }
    drop(srv);
    if met {
        Ok(())
    } else {
        Err("the p99 goal was missed (or searches failed)".into())
    }
}

struct Run {
    per_query: Vec<Latencies>,
    ok: u64,
    failed: u64,
    elapsed: f64,
}

/// Offers `rate` searches a second for `seconds`, cycling through `queries`.
async fn load(http: &reqwest::Client, queries: &Arc<Vec<String>>, rate: u32, seconds: u64) -> Run {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Duration, bool)>();
    let total = u64::from(rate) * seconds;
    let every = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let start = Instant::now();
    for k in 0..total {
        let due = start + every.mul_f64(k as f64);
        tokio::time::sleep_until(due).await;
        let (http, queries, tx) = (http.clone(), queries.clone(), tx.clone());
        let which = (k as usize) % queries.len();
        tokio::spawn(async move {
            let ok = match http.get(&queries[which]).send().await {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            let _ = tx.send((which, due.elapsed(), ok));
        });
    }
    drop(tx);
    let mut per_query: Vec<Latencies> = QUERIES.iter().map(|(name, _)| Latencies::new(name)).collect();
    let (mut ok, mut failed) = (0, 0);
    while let Some((which, took, good)) = rx.recv().await {
        if good {
            per_query[which].record(took);
            ok += 1;
        } else {
            failed += 1;
        }
    }
    Run { per_query, ok, failed, elapsed: start.elapsed().as_secs_f64() }
}
