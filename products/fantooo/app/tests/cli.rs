//! The binary's subcommands, run as a real process against a temp store.

use fantooo_domain::AdminRole;
use std::process::Command;

fn fantooo(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fantooo"));
    c.env("FANTOOO_DATA_DIR", dir).env_remove("DATABASE_URL").env("RUST_LOG", "warn");
    c
}

#[tokio::test]
async fn create_admin_migrate_seed_and_jobs_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = fantooo(dir.path()).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = fantooo(dir.path())
        .args(["create-admin", "--name", "Ops Lead", "--email", "Lead@Example.com"])
        .env("FANTOOO_ADMIN_PASSWORD", "Cli!pass123")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("created super_admin admin lead@example.com"));

    // Weak passwords and unknown roles are refused with a clear message and a failing exit code.
    let out = fantooo(dir.path())
        .args(["create-admin", "--name", "X", "--email", "x@example.com"])
        .env("FANTOOO_ADMIN_PASSWORD", "weak")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8 characters"));
    let out = fantooo(dir.path())
        .args(["create-admin", "--name", "X", "--email", "x@example.com", "--role", "king"])
        .env("FANTOOO_ADMIN_PASSWORD", "Cli!pass123")
        .output()
        .unwrap();
    assert!(!out.status.success());

    let out = fantooo(dir.path()).arg("seed-demo").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Demo logins"));
    let out = fantooo(dir.path()).arg("seed-demo").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("already present"), "seeding twice is a no-op");

    for job in ["partitions", "housekeeping", "assign", "idle-check", "escalate", "auto-close", "operator-stats", "daily-stats"] {
        let out = fantooo(dir.path()).args(["job", job]).output().unwrap();
        assert!(out.status.success(), "job {job}: {}", String::from_utf8_lossy(&out.stderr));
    }

    // Its answer is the whole of stdout, however much it logs.
    let out = fantooo(dir.path()).arg("check").env("RUST_LOG", "debug").output().unwrap();
    assert!(out.status.success(), "check: {}", String::from_utf8_lossy(&out.stdout));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("check's stdout is its JSON answer alone");
    assert_eq!(answer["violations"], serde_json::json!([]), "{answer}");

    let db = fantooo_store::Db::connect(&format!("sqlite://{}", dir.path().join("fantooo.db").display()), 2).await.unwrap();
    let admins = fantooo_store::admins::list(&db).await.unwrap();
    let lead = admins.iter().find(|a| a.email == "lead@example.com").expect("created");
    assert_eq!(lead.role, AdminRole::SuperAdmin);
    let runs = platform_jobs::runs::latest(&db).await.unwrap();
    assert_eq!(runs.len(), 8, "every job run is recorded: {runs:?}");
    assert!(runs.iter().all(|r| r.error.is_none()));
    assert_eq!(admins.len(), 2, "the CLI admin and the demo admin");
    assert!(fantooo_store::profiles::count_active(&db).await.unwrap() >= 12);
}

/// Kills the server process when the test ends, however it ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `fantooo --bind …` serves (the top-level flags are serve's), `/metrics`
/// answers only with the configured bearer token, and serve flags given to
/// another subcommand are refused rather than ignored.
#[tokio::test]
async fn top_level_serve_flags_serve_and_metrics_need_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = fantooo(dir.path())
        .args(["--bind", &format!("127.0.0.1:{port}"), "--seed-demo", "never", "--metrics-token", "scrape-me", "--payments", "fake"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Running(child);
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{base}/api/health")).send().await {
            if r.status().is_success() {
                break;
            }
        }
        assert!(matches!(server.0.try_wait(), Ok(None)), "`fantooo --bind …` exited instead of serving");
        assert!(std::time::Instant::now() < deadline, "the server never became healthy");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401, "no token");
    let r = http.get(format!("{base}/metrics")).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401, "a wrong token");
    let r = http.get(format!("{base}/metrics")).bearer_auth("scrape-me").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("fantooo_"));
    drop(server);

    let other = tempfile::tempdir().unwrap();
    let out = fantooo(other.path()).args(["--bind", "127.0.0.1:1", "migrate"]).output().unwrap();
    assert!(!out.status.success(), "serve flags with another subcommand are refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--bind"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `--log-format json` writes one JSON object per line with the level, the
/// message and the event's own fields, ready for a log shipper; the default
/// format is text for people. Logs go to standard error: standard output
/// holds only a command's answer.
#[test]
fn json_log_format_writes_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = fantooo(dir.path()).args(["--log-format", "json", "migrate"]).env("RUST_LOG", "info").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).trim().is_empty(), "no log on stdout: {}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let applied = lines.iter().find(|l| l["fields"]["message"] == "migrations applied").expect("the migration line is logged");
    assert_eq!(applied["level"], "INFO");
    assert_eq!(applied["fields"]["backend"], "Sqlite");
    assert!(applied["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "UTC timestamps: {applied}");

    let out = fantooo(dir.path()).arg("migrate").env("RUST_LOG", "info").output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("migrations applied") && serde_json::from_str::<serde_json::Value>(text.lines().next().unwrap_or("")).is_err(),
        "text by default: {text}"
    );
}
