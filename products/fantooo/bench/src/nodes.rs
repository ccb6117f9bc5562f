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
    /// The process id of a spawned node.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

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

/// The send batcher's exact counters on one node (`fantooo_sends_total`
/// by path, `fantooo_send_batches_total`, `fantooo_send_batch_members_total`)
/// and the p99 of its batch-size summary over the exporter's recent window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SendCounters {
    /// Sends stored by a batch's transaction.
    pub batched: f64,
    /// Sends stored on their own (a lone send, a failed batch's re-run).
    pub single: f64,
    /// Sends answered with an error, nothing stored.
    pub refused: f64,
    /// Retried client ids answered with the earlier message.
    pub repeated: f64,
    /// Batches committed.
    pub batches: f64,
    /// Sends answered by committed batches, stored or refused.
    pub batch_members: f64,
    pub p99: Option<f64>,
}

impl SendCounters {
    /// What happened between two readings (the p99 is the later one's).
    pub fn since(&self, before: &SendCounters) -> SendCounters {
        SendCounters {
            batched: self.batched - before.batched,
            single: self.single - before.single,
            refused: self.refused - before.refused,
            repeated: self.repeated - before.repeated,
            batches: self.batches - before.batches,
            batch_members: self.batch_members - before.batch_members,
            p99: self.p99,
        }
    }

    /// Two nodes' counters together (the higher p99).
    pub fn plus(&self, o: &SendCounters) -> SendCounters {
        SendCounters {
            batched: self.batched + o.batched,
            single: self.single + o.single,
            refused: self.refused + o.refused,
            repeated: self.repeated + o.repeated,
            batches: self.batches + o.batches,
            batch_members: self.batch_members + o.batch_members,
            p99: match (self.p99, o.p99) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
        }
    }

    /// Sends stored, by either path.
    pub fn stored(&self) -> f64 {
        self.batched + self.single
    }

    /// The mean size of the batches committed (exact: members / batches).
    pub fn mean_batch(&self) -> f64 {
        if self.batches > 0.0 {
            self.batch_members / self.batches
        } else {
            0.0
        }
    }
}

/// Reads [`SendCounters`] from a Prometheus text page (zero for a counter
/// the node has not touched yet).
pub fn parse_send_counters(page: &str) -> SendCounters {
    let mut c = SendCounters::default();
    for line in page.lines() {
        let Some((name, value)) = line.rsplit_once(' ') else { continue };
        let Ok(value) = value.parse::<f64>() else { continue };
        match name {
            "fantooo_sends_total{path=\"batched\"}" => c.batched = value,
            "fantooo_sends_total{path=\"single\"}" => c.single = value,
            "fantooo_sends_total{path=\"refused\"}" => c.refused = value,
            "fantooo_sends_total{path=\"repeated\"}" => c.repeated = value,
            "fantooo_send_batches_total" => c.batches = value,
            "fantooo_send_batch_members_total" => c.batch_members = value,
            "fantooo_send_batch_size{quantile=\"0.99\"}" => c.p99 = Some(value),
            _ => {}
        }
    }
    c
}

/// Every node's send counters now, added up, from their `/metrics`.
pub async fn send_counters(http: &reqwest::Client, urls: &[String]) -> Result<SendCounters, String> {
    let mut out = SendCounters::default();
    for url in urls {
        let resp = http.get(format!("{url}/metrics")).bearer_auth(METRICS_TOKEN).send().await.map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("{url}/metrics: HTTP {}", resp.status()));
        }
        out = out.plus(&parse_send_counters(&resp.text().await.map_err(|e| e.to_string())?));
    }
    Ok(out)
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
    if std::env::var("REALTIME_TRACE").is_ok_and(|v| v == "1") {
        eprintln!("rtrace-node {} http://127.0.0.1:{port}", child.id());
    }
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
    fn send_counters_are_read_exactly_and_compared_between_readings() {
        let page = "# TYPE fantooo_sends_total counter\n\
                    fantooo_sends_total{path=\"batched\"} 400\n\
                    fantooo_sends_total{path=\"single\"} 25\n\
                    fantooo_sends_total{path=\"refused\"} 3\n\
                    fantooo_send_batches_total 100\n\
                    fantooo_send_batch_members_total 402\n\
                    fantooo_send_batch_size{quantile=\"0.99\"} 17\n\
                    fantooo_send_batch_size_sum 427\n";
        let after = parse_send_counters(page);
        assert_eq!(
            after,
            SendCounters {
                batched: 400.0,
                single: 25.0,
                refused: 3.0,
                repeated: 0.0,
                batches: 100.0,
                batch_members: 402.0,
                p99: Some(17.0)
            }
        );
        let before = SendCounters { batched: 80.0, single: 5.0, batches: 20.0, batch_members: 80.0, p99: Some(2.0), ..Default::default() };
        let other = SendCounters { batched: 50.0, batches: 10.0, batch_members: 50.0, p99: Some(9.0), ..Default::default() };
        let phase = after.since(&before).plus(&other);
        assert_eq!(phase.stored(), 390.0);
        assert_eq!(phase.batches, 90.0);
        assert!((phase.mean_batch() - 372.0 / 90.0).abs() < 1e-9, "{}", phase.mean_batch());
        assert_eq!(phase.p99, Some(17.0), "the highest node's p99");
        assert_eq!(parse_send_counters("other_metric 1\n"), SendCounters::default());
    }
}
