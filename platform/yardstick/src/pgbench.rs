//! PostgreSQL's own `pgbench` (its built-in TPC-B-like script) on the same
//! server, in the same run, so a rate of the product's own transactions can
//! be stated as a ratio of what the database does on this machine and means
//! the same on any other.

use crate::Fail;
use serde::Serialize;
use sqlx::Connection;
use std::path::PathBuf;
use std::process::Command;

/// The database the yardstick builds its tables in (dropped afterwards).
const DATABASE: &str = "platform_yardstick";

/// One pgbench run: what was asked and the transactions per second it did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Yardstick {
    pub script: &'static str,
    pub scale: u32,
    pub clients: u32,
    pub threads: u32,
    pub seconds: u64,
    pub tps: f64,
}

/// Runs `pgbench -i -s scale` then `pgbench -c clients -T seconds` on a
/// scratch database of the server `database_url` points at.
pub async fn measure(database_url: &str, scale: u32, clients: u32, seconds: u64) -> Result<Yardstick, Fail> {
    let base = database_url.rsplit_once('/').map(|(b, _)| b).ok_or("the database URL names no database")?;
    let url = format!("{base}/{DATABASE}");
    let mut admin = sqlx::PgConnection::connect(database_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")).execute(&mut admin).await?;
    sqlx::query(&format!("CREATE DATABASE {DATABASE}")).execute(&mut admin).await?;
    let threads = clients.clamp(1, 2);
    let result = run_pgbench(&url, scale, clients, threads, seconds).await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")).execute(&mut admin).await;
    let tps = result?;
    Ok(Yardstick { script: "tpcb-like", scale, clients, threads, seconds, tps })
}

async fn run_pgbench(url: &str, scale: u32, clients: u32, threads: u32, seconds: u64) -> Result<f64, Fail> {
    let bin = pgbench();
    let (url, scale, clients, threads, seconds) =
        (url.to_string(), scale.to_string(), clients.to_string(), threads.to_string(), seconds.to_string());
    tokio::task::spawn_blocking(move || {
        let init = Command::new(&bin).args(["-i", "-q", "-s", &scale, &url]).output()?;
        if !init.status.success() {
            return Err(format!("pgbench -i: {}", String::from_utf8_lossy(&init.stderr)).into());
        }
        let run = Command::new(&bin).args(["-n", "-M", "prepared", "-c", &clients, "-j", &threads, "-T", &seconds, &url]).output()?;
        let out = String::from_utf8_lossy(&run.stdout);
        if !run.status.success() {
            return Err(format!("pgbench: {}{}", out, String::from_utf8_lossy(&run.stderr)).into());
        }
        parse_tps(&out).ok_or_else(|| Fail::from(format!("no tps in pgbench's output: {out}")))
    })
    .await?
}

/// `PGBENCH`, else the newest PostgreSQL's own, else `pgbench` on the PATH.
fn pgbench() -> PathBuf {
    if let Some(p) = std::env::var_os("PGBENCH") {
        return p.into();
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin/pgbench"))
        .filter(|p| p.exists())
        .collect();
    found.sort_by_key(|p| p.parent().and_then(|b| b.parent()).and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok()).unwrap_or(0));
    found.pop().unwrap_or_else(|| "pgbench".into())
}

/// The transactions per second pgbench reports (PostgreSQL 13 and later:
/// `tps = 1234.567890 (without initial connection time)`).
pub fn parse_tps(output: &str) -> Option<f64> {
    output.lines().find_map(|l| l.trim().strip_prefix("tps = ")?.split_whitespace().next()?.parse().ok())
}

/// A rate (paid messages, gifts, … a second) as a fraction of the
/// yardstick's transactions per second.
pub fn ratio(per_second: f64, y: &Yardstick) -> Option<f64> {
    (y.tps > 0.0).then(|| per_second / y.tps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tps_is_read_from_pgbench_output() {
        let out = "transaction type: <builtin: TPC-B (sort of)>\nscaling factor: 10\nnumber of clients: 16\n\
                   latency average = 7.1 ms\ninitial connection time = 12.3 ms\ntps = 2251.812345 (without initial connection time)\n";
        assert_eq!(parse_tps(out), Some(2251.812345));
        assert_eq!(parse_tps("tps = 12 (including connections establishing)\n"), Some(12.0));
        assert_eq!(parse_tps("pgbench: error: connection refused\n"), None);
        assert_eq!(parse_tps("tps = n/a\n"), None);
    }

    #[test]
    fn the_ratio_is_sends_over_transactions() {
        let y = Yardstick { script: "tpcb-like", scale: 10, clients: 16, threads: 2, seconds: 20, tps: 2000.0 };
        assert_eq!(ratio(1000.0, &y), Some(0.5));
        assert_eq!(ratio(1000.0, &Yardstick { tps: 0.0, ..y }), None);
    }
}
