//! `fantooo serve` processes under test, on loopback ports.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Node {
    pub name: String,
    pub url: String,
    child: Option<Child>,
    /// Holds the node's files and its log (stdout).
    _data_dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

impl Node {
    /// Starts a node on `database_url` and waits until it is healthy.
    /// Rate limits are lifted: the faults, not the limiter, are under test.
    pub async fn start(database_url: &str, name: &str) -> Node {
        let data_dir = tempfile::tempdir().expect("data dir");
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_fantooo"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--node-name", name])
            .env("DATABASE_URL", database_url)
            .env("FANTOOO_DATA_DIR", data_dir.path())
            .env("FANTOOO_SEED_DEMO", "never")
            .env("FANTOOO_PAYMENTS", "fake")
            .env("FANTOOO_AUTH_RATE_PER_MINUTE", "100000")
            .env("FANTOOO_API_RATE_PER_MINUTE", "1000000")
            .env("FANTOOO_MESSAGE_RATE_PER_MINUTE", "1000000")
            .env("FANTOOO_DB_MAX_CONNECTIONS", "10")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(data_dir.path().join("node.log")).expect("log file")))
            .spawn()
            .expect("start fantooo serve");
        let node = Node { name: name.to_string(), url: format!("http://127.0.0.1:{port}"), child: Some(child), _data_dir: data_dir };
        assert!(node.healthy_within(Duration::from_secs(30)).await, "{name} did not become healthy");
        node
    }

    /// Polls /api/health until it answers 200.
    pub async fn healthy_within(&self, limit: Duration) -> bool {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client");
        let deadline = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < deadline {
            if let Ok(r) = http.get(format!("{}/api/health", self.url)).send().await {
                if r.status().is_success() {
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// Ends the process at once, as a crash or an OOM kill would (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Whether the process is still alive (it must not exit on its own).
    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
        // A failing test shows what its nodes logged.
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self._data_dir.path().join("node.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- last log lines of {} ---", self.name);
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}
