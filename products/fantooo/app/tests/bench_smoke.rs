//! A short run of the load generator: two real nodes on one PostgreSQL,
//! users and operators through the API, live delivery both ways, paid
//! messages, idle sockets, and a clean invariant check at the end.

use fantooo_bench::Parser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bench_runs_end_to_end_and_the_books_balance() {
    let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
        assert!(std::env::var("REQUIRE_PG").as_deref() != Ok("1"), "REQUIRE_PG=1 but TEST_DATABASE_URL is not set");
        eprintln!("skipping the bench smoke run: no PostgreSQL");
        return;
    };
    let fantooo = std::path::PathBuf::from(env!("CARGO_BIN_EXE_fantooo"));
    let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&base).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    let out_json = std::env::temp_dir().join(format!("{name}.json"));
    // The bench library in-process, driving two real `fantooo serve` nodes.
    let args = fantooo_bench::Args::parse_from([
        "fantooo-bench",
        "--database-url",
        &url,
        "--fantooo-bin",
        fantooo.to_str().unwrap(),
        "--nodes",
        "2",
        "--users",
        "6",
        "--operators",
        "2",
        "--duration",
        "3",
        "--rate",
        "1",
        "--senders",
        "2",
        "--idle-sockets",
        "40",
        "--profiles",
        "30",
        "--yardstick-seconds",
        "2",
        "--yardstick-scale",
        "1",
        "--json",
        out_json.to_str().unwrap(),
    ]);
    let clean = fantooo_bench::run(args).await.expect("the bench runs");
    let report_text = std::fs::read_to_string(&out_json).unwrap_or_default();
    assert!(clean, "the bench reported problems: {report_text}");
    let report: serde_json::Value = serde_json::from_str(&report_text).unwrap();
    let row = |name: &str| report["rows"].as_array().unwrap().iter().find(|r| r["name"] == name).cloned().unwrap_or_default();
    assert!(row("deliver user → operator socket")["count"].as_u64().unwrap_or(0) > 0, "{report_text}");
    assert!(row("deliver operator → user socket")["count"].as_u64().unwrap_or(0) > 0, "{report_text}");
    assert!(row("paid messages, closed loop, 2 senders")["count"].as_u64().unwrap_or(0) > 0, "{report_text}");
    let details = &report["details"];
    // The closed loop's count is what the database stored, and the nodes'
    // exact counters say by which path.
    let phase = &details["throughput_phase"];
    assert_eq!(phase["counts_agree"], true, "{report_text}");
    assert_eq!(phase["stored_messages"], phase["answered"], "{report_text}");
    assert_eq!(phase["stored_charges"], phase["stored_paid_messages"], "{report_text}");
    let c = &phase["send_counters"];
    let stored = c["batched"].as_f64().unwrap_or(-1.0) + c["single"].as_f64().unwrap_or(-1.0);
    assert_eq!(stored as i64, phase["stored_messages"].as_i64().unwrap_or(-2), "{report_text}");
    assert_eq!(details["invariants"]["violations"].as_array().map(Vec::len), Some(0));
    assert_eq!(details["chat_phase"]["duplicates"], 0);
    assert_eq!(details["chat_phase"]["gaps"], 0);
    assert_eq!(details["idle_sockets"]["opened"], 40);
    assert!(details["yardstick"]["tps"].as_f64().unwrap_or(0.0) > 0.0, "pgbench ran on the same server: {report_text}");
    assert_eq!((details["yardstick"]["scale"].as_u64(), details["yardstick"]["clients"].as_u64()), (Some(1), Some(16)));
    assert!(details["paid_messages_per_yardstick_tps"].as_f64().unwrap_or(0.0) > 0.0, "{report_text}");
    assert!(details["cpu_yardstick"]["units_per_second"].as_f64().unwrap_or(0.0) > 0.0, "one core's speed: {report_text}");
    let _ = std::fs::remove_file(&out_json);
    let _ = sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&admin).await;
}
