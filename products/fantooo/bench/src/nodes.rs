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

/// The bearer token the bench's nodes take on `/metrics`.
pub const METRICS_TOKEN: &str = "bench-metrics";

/// The send batcher's batch-size summary on one node
/// (`fantooo_send_batch_size`): sizes recorded so far, their sum, and the
/// p99 over the exporter's recent window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BatchSizes {
    pub count: f64,
    pub sum: f64,
    pub p99: Option<f64>,
}

/// Reads [`BatchSizes`] from a Prometheus text page (zero when the node
/// has written no batch yet).
pub fn parse_batch_sizes(page: &str) -> BatchSizes {
    let mut b = BatchSizes::default();
    for line in page.lines() {
        let Some((name, value)) = line.rsplit_once(' ') else { continue };
        let Ok(value) = value.parse::<f64>() else { continue };
        match name {
            "fantooo_send_batch_size_count" => b.count = value,
            "fantooo_send_batch_size_sum" => b.sum = value,
            "fantooo_send_batch_size{quantile=\"0.99\"}" => b.p99 = Some(value),
            _ => {}
        }
    }
    b
}

/// Each node's batch sizes now, from its `/metrics`.
pub async fn batch_sizes(http: &reqwest::Client, urls: &[String]) -> Result<Vec<BatchSizes>, String> {
    let mut out = vec![];
    for url in urls {
        let resp = http.get(format!("{url}/metrics")).bearer_auth(METRICS_TOKEN).send().await.map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("{url}/metrics: HTTP {}", resp.status()));
        }
        out.push(parse_batch_sizes(&resp.text().await.map_err(|e| e.to_string())?));
    }
    Ok(out)
}

/// The batches written between two readings of every node: their mean size
/// and the highest p99 of the nodes at the second reading.
pub fn batches_between(before: &[BatchSizes], after: &[BatchSizes]) -> (f64, f64, Option<f64>) {
    let count: f64 = after.iter().zip(before).map(|(a, b)| a.count - b.count).sum();
    let sum: f64 = after.iter().zip(before).map(|(a, b)| a.sum - b.sum).sum();
    let mean = if count > 0.0 { sum / count } else { 0.0 };
    let p99 = after.iter().filter_map(|a| a.p99).fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    (count, mean, p99)
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
        ("FANTOOO_METRICS_TOKEN", METRICS_TOKEN),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_sizes_are_read_from_the_summary_and_compared_between_readings() {
        let page = "# TYPE fantooo_send_batch_size summary\n\
                    fantooo_send_batch_size{quantile=\"0.5\"} 3\n\
                    fantooo_send_batch_size{quantile=\"0.99\"} 17\n\
                    fantooo_send_batch_size_sum 400\n\
                    fantooo_send_batch_size_count 100\n\
                    fantooo_send_batch_size_total 9\n";
        let after = parse_batch_sizes(page);
        assert_eq!(after, BatchSizes { count: 100.0, sum: 400.0, p99: Some(17.0) });
        let before = BatchSizes { count: 20.0, sum: 80.0, p99: Some(2.0) };
        let other = BatchSizes { count: 50.0, sum: 250.0, p99: Some(9.0) };
        let (count, mean, p99) = batches_between(&[before, BatchSizes::default()], &[after, other]);
        assert_eq!(count, 130.0);
        assert!((mean - 570.0 / 130.0).abs() < 1e-9, "{mean}");
        assert_eq!(p99, Some(17.0), "the highest node's p99");
        assert_eq!(parse_batch_sizes("other_metric 1\n"), BatchSizes::default());
    }
}
