//! Leaderboard reads with 1,000,000 gift records (by default) in the store.
//!
//! A `rooms serve` process starts on an empty store; a few readers sign up
//! through the API; then the gifts are written straight into the store, as
//! the gift path would leave them (the `gift_sends` rows, their sharded
//! `gift_counters`, the boards' totals rebuilt from the counters), the
//! readers among the senders. Then, open loop at a fixed rate, signed-in
//! readers ask `GET /api/v1/leaderboards/{board}` for every board and
//! period, pages 0–4, so each answer also carries the reader's own rank.
//! Latency counts from when a request was due. Before measuring, the
//! all-time wealth board's first row is checked against the seeded sums.

use crate::server::{get, now_micros, sign_up_many, start_server, ServerArgs};
use crate::stats::{histogram, record, report};
use crate::Fail;
use chrono::{DateTime, Utc};
use platform_db::{on_pool, Db};
use rooms_domain::economy::shard_of;
use rooms_domain::ids::{AccountId, GiftSendId};
use rooms_domain::progress::{Period, RankingClock};
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    server: ServerArgs,
    /// Gift records in the store.
    #[arg(long, default_value_t = 1_000_000)]
    gifts: usize,
    /// People who send them.
    #[arg(long, default_value_t = 20_000)]
    senders: usize,
    /// People on seats who receive them.
    #[arg(long, default_value_t = 5_000)]
    receivers: usize,
    /// Rooms they are sent in.
    #[arg(long, default_value_t = 500)]
    rooms: usize,
    /// Signed-in readers (among the senders).
    #[arg(long, default_value_t = 32)]
    readers: usize,
    /// Offered load, board reads a second.
    #[arg(long, default_value_t = 500)]
    rate: u32,
    /// Seconds of measured load.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// The p99 the run is held to, in milliseconds.
    #[arg(long, default_value_t = 5.0)]
    goal_p99_ms: f64,
    /// Write the results here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

const BOARDS: [&str; 4] = ["wealth", "charm", "rooms", "agencies"];
const PERIODS: [&str; 4] = ["daily", "weekly", "monthly", "all"];

pub async fn run(args: Args) -> Result<(), Fail> {
    if args.server.target.is_some() {
        return Err("boards starts its own server (it writes the gifts into its store)".into());
    }
    let dir = tempfile::tempdir()?;
    let (_server, base) = start_server(&args.server, dir.path()).await?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(1024).build()?;
    let run = format!("{:x}", now_micros() % 0xffff_ffff);
    let readers = sign_up_many(&http, &base, &run, args.readers, 8).await?;
    let url = match &args.server.database_url {
        Some(u) => u.clone(),
        None => format!("sqlite://{}", dir.path().join("rooms.db").display()),
    };
    let db = Db::connect(&url, 4).await?;
    let started = Instant::now();
    let reader_ids: Vec<AccountId> =
        readers.iter().map(|r| r.id.parse()).collect::<Result<_, _>>().map_err(|e| format!("reader id: {e:?}"))?;
    let top = seed(&db, &args, &run, &reader_ids).await?;
    println!("seeded {} gifts in {:.1} s", args.gifts, started.elapsed().as_secs_f64());
    db.close().await;

    // The store answers what was seeded: the richest sender first.
    let (status, v) = get(&http, &format!("{base}/api/v1/leaderboards/wealth?period=all"), Some(&readers[0].token)).await?;
    let first = &v["rows"][0];
    if status != 200
        || first["subject"] != json!(top.0.to_string())
        || first["amount"] != json!(top.1)
        || v["me"]["rank"].as_i64().is_none()
    {
        return Err(format!("the wealth board does not match the seeded gifts (top {top:?}): {status} {v}").into());
    }

    let lat = Arc::new(Mutex::new(histogram()));
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let total = (args.warmup + args.duration) * u64::from(args.rate);
    let measure_from = args.warmup * u64::from(args.rate);
    let t0 = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for k in 0..total {
        let due = t0 + Duration::from_secs_f64(k as f64 / f64::from(args.rate));
        tokio::time::sleep_until(due).await;
        let board = BOARDS[(k % 4) as usize];
        let period = PERIODS[((k / 4) % 4) as usize];
        let page = if k % 5 == 0 { (k / 20) % 5 } else { 0 };
        let url = format!("{base}/api/v1/leaderboards/{board}?period={period}&page={page}");
        let token = readers[(k as usize) % readers.len()].token.clone();
        let (http, lat, errors) = (http.clone(), lat.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let ok = matches!(get(&http, &url, Some(&token)).await, Ok((200, v)) if v["rows"].is_array());
            if !ok {
                errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            } else if k >= measure_from {
                record(&mut lat.lock().expect("histogram"), due.elapsed().as_micros() as i64);
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let h = lat.lock().expect("histogram").clone();
    let errors = errors.load(std::sync::atomic::Ordering::Relaxed);
    let store = if args.server.database_url.is_some() { "PostgreSQL" } else { "SQLite" };
    println!("{} gift records on {store}; {} reads a second offered for {} s", args.gifts, args.rate, args.duration);
    let line = report("leaderboard page + own rank", &h);
    let p99 = h.value_at_quantile(0.99) as f64 / 1000.0;
    let verdict = if errors == 0 && p99 < args.goal_p99_ms { "met" } else { "missed" };
    println!("goal p99 < {} ms: {verdict} ({errors} errors)", args.goal_p99_ms);
    if let Some(path) = &args.json {
        let out = json!({"bench": "boards", "store": store, "gifts": args.gifts, "senders": args.senders, "receivers": args.receivers,
            "rooms": args.rooms, "rate": args.rate, "duration_s": args.duration, "errors": errors, "reads": line, "goal_p99_ms": args.goal_p99_ms, "goal": verdict});
        std::fs::write(path, serde_json::to_string_pretty(&out)?)?;
    }
    Ok(())
}

/// Every id the seed writes is a UUID on the wire, whatever table it is for.
type Id = AccountId;

/// Writes the accounts, rooms, one gift, `args.gifts` gift records, their
/// counters and the boards' totals; returns the richest sender and its total.
async fn seed(db: &Db, args: &Args, run: &str, readers: &[AccountId]) -> Result<(AccountId, i64), Fail> {
    let now = Utc::now();
    let clock = RankingClock::default();
    let fresh = |n: usize| (0..n).map(|_| Id::new()).collect::<Vec<_>>();
    let mut senders: Vec<Id> = readers.to_vec();
    senders.extend(fresh(args.senders.saturating_sub(readers.len()).max(1)));
    let receivers = fresh(args.receivers.max(1));
    let owners = fresh(args.rooms.max(1));
    let rooms = fresh(owners.len());
    let gift = Id::new();

    let people: Vec<Id> = senders[readers.len()..].iter().chain(&receivers).chain(&owners).copied().collect();
    for (c, chunk) in people.chunks(1000).enumerate() {
        let sql = format!(
            "INSERT INTO accounts (id, public_number, handle, full_name, display_name, email, password_hash, created_at) VALUES {}",
            rows(chunk.len(), 1, "($a, $b, 'h' || $b, 'Seeded', 'Seeded ' || $b, 'h' || $b || '@seed.test', 'not a hash', $1)")
        );
        on_pool!(db, p => {
            let mut q = sqlx::query(&sql).bind(now);
            for (i, id) in chunk.iter().enumerate() {
                // Public numbers above any a sign-up is given.
                q = q.bind(*id).bind(9_000_000_000_i64 + (c * 1000 + i) as i64);
            }
            q.execute(p).await?;
        });
    }
    for (c, (chunk, owners)) in rooms.chunks(1000).zip(owners.chunks(1000)).enumerate() {
        let sql = format!(
            "INSERT INTO rooms (id, owner_id, name, name_key, kind, seat_count, capacity, visitor_speak, visitor_text, visitor_pictures, status, last_activity_at, created_at) VALUES {}",
            rows(chunk.len(), 1, "($a, $b, 'Room ' || $c, 'room ' || $c, 'public', 8, 1000, TRUE, TRUE, FALSE, 'open', $1, $1)")
        );
        on_pool!(db, p => {
            let mut q = sqlx::query(&sql).bind(now);
            for (i, (id, owner)) in chunk.iter().zip(owners).enumerate() {
                q = q.bind(*id).bind(*owner).bind(format!("{run}{}", c * 1000 + i));
            }
            q.execute(p).await?;
        });
    }
    on_pool!(db, p => {
        sqlx::query("INSERT INTO gifts (id, code, name, category, rarity, price, animation) VALUES ($1, $2, 'Seeded rose', 'classic', 'common', 10, 'rose.svg')")
            .bind(gift).bind(format!("seed-{run}")).execute(p).await?;
    });

    // The gifts, and the counters the gift path would have added to. They
    // were sent a few minutes ago (in the current periods), so the boards'
    // totals come from the rebuild below, as after a bulk load, not from the
    // `boards` job re-reading a million gifts as if they had just arrived.
    let sent_at = now - chrono::Duration::minutes(10);
    let periods: Vec<String> = Period::ALL.iter().map(|p| clock.key(*p, now)).collect();
    let mut counters: HashMap<(&'static str, &String, String, i64), (i64, i64)> = HashMap::new();
    let mut random = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        random
    };
    let mut batch = Vec::with_capacity(1000);
    for i in 0..args.gifts {
        let sender = senders[(next() % senders.len() as u64) as usize];
        let r = (next() % receivers.len() as u64) as usize;
        let room = (next() % rooms.len() as u64) as usize;
        let quantity = 1 + (next() % 10) as i64;
        let cost = quantity * 10;
        let key = format!("seed-{i}");
        let shard = i64::from(shard_of(&key));
        for (board, subject) in [("wealth", sender), ("charm", receivers[r]), ("room", rooms[room])] {
            for period in &periods {
                let c = counters.entry((board, period, subject.to_string(), shard)).or_default();
                c.0 += cost;
                c.1 += 1;
            }
        }
        batch.push((GiftSendId::new(), sender, key, receivers[r], rooms[room], owners[room], quantity, cost));
        if batch.len() == 1000 || i + 1 == args.gifts {
            insert_sends(db, gift, sent_at, &batch).await?;
            batch.clear();
        }
    }
    let counters: Vec<_> = counters.into_iter().collect();
    for chunk in counters.chunks(2000) {
        let sql = format!(
            "INSERT INTO gift_counters (board, period, subject, shard, amount, gifts, last_at) VALUES {}",
            rows(chunk.len(), 1, "($a, $b, $c, $d, $e, $f, $1)")
        );
        on_pool!(db, p => {
            let mut q = sqlx::query(&sql).bind(sent_at);
            for ((board, period, subject, shard), (amount, n)) in chunk {
                q = q.bind(*board).bind(*period).bind(subject).bind(*shard).bind(*amount).bind(*n);
            }
            q.execute(p).await?;
        });
    }
    rooms_store::leaderboards::rebuild(db, now).await?;
    if let Db::Postgres(p) = db {
        sqlx::query("VACUUM ANALYZE board_totals").execute(p).await?;
    }
    db.refresh_statistics("board_totals").await?;

    let mut wealth: HashMap<&String, i64> = HashMap::new();
    for ((board, period, subject, _), (amount, _)) in &counters {
        if *board == "wealth" && period.as_str() == "all" {
            *wealth.entry(subject).or_default() += amount;
        }
    }
    let (top, amount) = wealth.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0))).ok_or("no gifts seeded")?;
    Ok((top.parse().map_err(|e| format!("{e:?}"))?, amount))
}

/// One gift record: id, sender, request key, recipient, room, room owner, quantity, cost.
type Send = (GiftSendId, Id, String, Id, Id, Id, i64, i64);

/// Writes gift records as the gift path does (shares: owner 5 %, receiver 70 %, the platform the rest).
async fn insert_sends(db: &Db, gift: Id, now: DateTime<Utc>, sends: &[Send]) -> Result<(), Fail> {
    let sql = format!(
        "INSERT INTO gift_sends (id, sender_id, request_key, recipient_id, room_id, owner_id, gift_id, quantity, combo, unit_price, cost,
           owner_share, receiver_share, receiver_unit, agency_id, agency_share, platform_share, wealth_xp, charm_xp, created_at) VALUES {}",
        rows(
            sends.len(),
            2,
            "($a, $b, $c, $d, $e, $f, $1, $g, 1, 10, $h, $h / 20, $h * 7 / 10, 'coins', NULL, 0, $h - $h / 20 - $h * 7 / 10, $h, $h, $2)"
        )
    );
    on_pool!(db, p => {
        let mut q = sqlx::query(&sql).bind(gift).bind(now);
        for (id, sender, key, recipient, room, owner, quantity, cost) in sends {
            q = q.bind(*id).bind(*sender).bind(key).bind(*recipient).bind(*room).bind(*owner).bind(*quantity).bind(*cost);
        }
        q.execute(p).await?;
    });
    Ok(())
}

/// `n` rows of `shape`, whose `$a`, `$b`, … become each row's own
/// parameters numbered after the `shared` ones (`$1`…`$shared`).
fn rows(n: usize, shared: usize, shape: &str) -> String {
    let letters: Vec<char> = ('a'..='h').filter(|l| shape.contains(&format!("${l}"))).collect();
    (0..n)
        .map(|r| {
            letters
                .iter()
                .enumerate()
                .fold(shape.to_string(), |row, (k, l)| row.replace(&format!("${l}"), &format!("${}", shared + r * letters.len() + k + 1)))
        })
        .collect::<Vec<_>>()
        .join(", ")
}
