//! The servers under test: spawned `fantooo serve` processes (sharing one
//! database) or already running targets.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Node {
    pub url: String,
    pub child: Option<Child>,
}

impl Node {
    /// Resident memory of a spawned node, in bytes (Linux /proc).
    pub fn rss_bytes(&self) -> Option<u64> {
        let pid = self.child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kb: u64 = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }

    /// Ends the process at once, as a crash would (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.child = None;
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// The `fantooo` binary next to this one (both are built into one target dir).
pub fn default_binary() -> PathBuf {
    let me = std::env::current_exe().expect("current exe");
    me.with_file_name("fantooo")
}

/// Environment for a benchmark node: limits high enough that the load, not
/// the rate limiter, is what is measured.
pub fn node_env(database_url: &str, data_dir: &str, db_connections: u32) -> Vec<(String, String)> {
    let db_connections = db_connections.to_string();
    [
        ("DATABASE_URL", database_url),
        ("FANTOOO_DATA_DIR", data_dir),
        ("FANTOOO_SEED_DEMO", "never"),
        ("FANTOOO_AUTH_RATE_PER_MINUTE", "1000000"),
        ("FANTOOO_API_RATE_PER_MINUTE", "100000000"),
        ("FANTOOO_MESSAGE_RATE_PER_MINUTE", "100000000"),
        ("FANTOOO_DB_MAX_CONNECTIONS", db_connections.as_str()),
        ("RUST_LOG", "warn"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

pub async fn spawn(binary: &PathBuf, env: &[(String, String)], name: &str) -> Result<Node, String> {
    let port = free_port();
    let child = Command::new(binary)
        .arg("serve")
        .arg("--bind")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--node-name")
        .arg(name)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let node = Node { url: format!("http://127.0.0.1:{port}"), child: Some(child) };
    wait_healthy(&node.url).await?;
    Ok(node)
}

pub async fn wait_healthy(url: &str) -> Result<(), String> {
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(r) = http.get(format!("{url}/api/health")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{url} did not become healthy"))
}

/// Lets this process and the nodes it starts hold many sockets.
#[allow(unsafe_code)]
pub fn raise_fd_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit read and write a plain struct we own.
    unsafe {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            return lim.rlim_cur;
        }
    }
    0
}
