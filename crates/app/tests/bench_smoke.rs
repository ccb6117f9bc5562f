//! A short run of the load generator: two real nodes on one PostgreSQL,
//! users and operators through the API, live delivery both ways, paid
//! messages, idle sockets, and a clean invariant check at the end.

use std::process::Command;

#[tokio::test]
async fn the_bench_runs_end_to_end_and_the_books_balance() {
    let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
        assert!(std::env::var("FANTOOO_REQUIRE_PG").as_deref() != Ok("1"), "FANTOOO_REQUIRE_PG=1 but TEST_DATABASE_URL is not set");
        eprintln!("skipping the bench smoke run: no PostgreSQL");
        return;
    };
    let fantooo = std::path::PathBuf::from(env!("CARGO_BIN_EXE_fantooo"));
    let bench = fantooo.with_file_name("fantooo-bench");
    assert!(bench.exists(), "build the workspace first: {} is missing", bench.display());
    let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&base).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    let out_json = std::env::temp_dir().join(format!("{name}.json"));
    let out = Command::new(&bench)
        .args(["--database-url", &url, "--fantooo-bin"]).arg(&fantooo)
        .args(["--nodes", "2", "--users", "6", "--operators", "2", "--duration", "3", "--senders", "2", "--idle-sockets", "40", "--profiles", "30", "--json"])
        .arg(&out_json)
        .output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "bench failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out_json).unwrap()).unwrap();
    let row = |name: &str| report["rows"].as_array().unwrap().iter().find(|r| r["name"] == name).cloned().unwrap_or_default();
    assert!(row("deliver user → operator socket")["count"].as_u64().unwrap_or(0) > 0, "{stdout}");
    assert!(row("deliver operator → user socket")["count"].as_u64().unwrap_or(0) > 0, "{stdout}");
    assert!(row("paid messages, closed loop")["count"].as_u64().unwrap_or(0) > 0, "{stdout}");
    let details = &report["details"];
    assert_eq!(details["invariants"]["violations"].as_array().map(Vec::len), Some(0));
    assert_eq!(details["chat_phase"]["duplicates"], 0);
    assert_eq!(details["chat_phase"]["gaps"], 0);
    assert_eq!(details["idle_sockets"]["opened"], 40);
    let _ = std::fs::remove_file(&out_json);
    let _ = sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&admin).await;
}
