//! PostgreSQL for the fault tests: a fresh database per test on the shared
//! test cluster, or a private throwaway cluster for the test that restarts
//! its server (restarting the shared one would break tests running beside it).

use fantooo_store::Db;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// The shared test cluster, or None (after saying why) when there is none
/// and none is required.
pub fn test_database_url(test: &str) -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("REQUIRE_PG").as_deref() == Ok("1") => {
            panic!("REQUIRE_PG=1 but TEST_DATABASE_URL is not set")
        }
        Err(_) => {
            eprintln!("skipping {test}: needs PostgreSQL (set TEST_DATABASE_URL, e.g. through scripts/test)");
            None
        }
    }
}

/// Creates an empty database on the cluster of `base_url`, migrates it, and
/// returns its URL with a small pool for the test's own checks.
pub async fn fresh_database(base_url: &str) -> (String, Db) {
    let admin = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(base_url).await.expect("connect to the test cluster");
    let name = format!("fault_{:016x}", rand::random::<u64>());
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("create database");
    admin.close().await;
    let (head, _) = base_url.rsplit_once('/').expect("database URL has a path");
    let url = format!("{head}/{name}");
    let db = Db::connect(&url, 4).await.expect("connect to the fresh database");
    fantooo_store::migrate(&db).await.expect("migrate");
    (url, db)
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../scripts/pg-throwaway")
}

/// A PostgreSQL cluster of one test's own (scripts/pg-throwaway), stopped
/// and deleted when dropped.
pub struct ThrowawayCluster {
    dir: String,
    pub url: String,
}

impl ThrowawayCluster {
    pub fn start() -> ThrowawayCluster {
        let out = Command::new(script()).arg("start").output().expect("run scripts/pg-throwaway");
        assert!(out.status.success(), "pg-throwaway start: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let var = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("export {name}=")))
                .unwrap_or_else(|| panic!("no {name} in {text}"))
                .to_string()
        };
        ThrowawayCluster { dir: var("FANTOOO_PG_DIR"), url: var("TEST_DATABASE_URL") }
    }

    /// Fast shutdown (every client connection is cut), `down` without a
    /// server, then the same server again. Blocks until it accepts connections.
    pub fn restart(&self, down: Duration) {
        let out = Command::new(script())
            .args(["restart", &self.dir, &format!("{:.1}", down.as_secs_f64())])
            .output()
            .expect("run pg-throwaway restart");
        assert!(out.status.success(), "pg-throwaway restart: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for ThrowawayCluster {
    fn drop(&mut self) {
        let _ = Command::new(script()).args(["stop", &self.dir]).output();
    }
}
