//! PostgreSQL's side of a bench phase, when the server runs on PostgreSQL
//! on this machine: the CPU of the cluster (the postmaster and every
//! backend, from /proc) and, when the cluster preloads
//! `pg_stat_statements` (`FANTOOO_PG_OPTS="-c
//! shared_preload_libraries=pg_stat_statements"`), each statement's calls,
//! execution time and rows over the phase, per unit of work.

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

pub struct PgWatch {
    pool: PgPool,
    postmaster: Option<u32>,
    statements: bool,
}

impl PgWatch {
    /// Connects to `url`; `None` when it is not a PostgreSQL reachable now.
    pub async fn start(url: &str) -> Option<PgWatch> {
        if !url.starts_with("postgres") {
            return None;
        }
        let pool = PgPoolOptions::new().max_connections(1).connect(url).await.ok()?;
        let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&pool).await.ok()?;
        let postmaster = u32::try_from(backend).ok().and_then(platform_procstat::stat).map(|s| s.ppid);
        let statements = sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements").execute(&pool).await.is_ok()
            && sqlx::query("SELECT pg_stat_statements_reset()").execute(&pool).await.is_ok();
        Some(PgWatch { pool, postmaster, statements })
    }

    /// Seconds of CPU of the whole cluster so far.
    pub fn cpu(&self) -> Option<f64> {
        self.postmaster.and_then(platform_procstat::tree_cpu_seconds)
    }

    /// Seconds the cluster's processes (living ones) have waited for a CPU.
    pub fn run_queue_wait(&self) -> Option<f64> {
        self.postmaster.and_then(platform_procstat::tree_run_queue_wait_seconds)
    }

    /// Forgets the statistics so far (the phase starts now).
    pub async fn reset(&self) {
        if self.statements {
            let _ = sqlx::query("SELECT pg_stat_statements_reset()").execute(&self.pool).await;
        }
    }

    /// Prints the statements of the phase by execution time, each per
    /// `per` units of work (calls, execution ms, rows), and the totals.
    pub async fn print(&self, per: u64, unit: &str) {
        if !self.statements || per == 0 {
            return;
        }
        // Texts that differ only in their number of rows or placeholders
        // (multi-row inserts, `IN (...)` lists) are one statement here:
        // grouped by their first 140 characters.
        let rows: Vec<(i64, f64, i64, String)> = match sqlx::query_as(
            "SELECT CAST(SUM(calls) AS BIGINT), SUM(total_exec_time), CAST(SUM(rows) AS BIGINT), q
             FROM (SELECT calls, total_exec_time, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 140) AS q FROM pg_stat_statements
                   WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())) s
             GROUP BY q ORDER BY 2 DESC",
        )
        .fetch_all(&self.pool)
        .await
        {
            Ok(rows) => rows,
            Err(e) => {
                eprintln!("pg_stat_statements: {e}");
                return;
            }
        };
        let n = per as f64;
        let (calls, ms, got) = rows.iter().fold((0i64, 0f64, 0i64), |a, r| (a.0 + r.0, a.1 + r.1, a.2 + r.2));
        println!(
            "postgresql statements per {unit} over the phase: {:.3} calls, {:.4} ms executing, {:.2} rows (pg_stat_statements)",
            calls as f64 / n,
            ms / n,
            got as f64 / n
        );
        println!("  calls/{unit}   ms/{unit}   rows/{unit}  ms/call  statement");
        for (calls, total, got, query) in rows.iter().take(30) {
            let text = query;
            println!(
                "  {:>9.4} {:>9.4} {:>10.3} {:>8.3}  {text}",
                *calls as f64 / n,
                total / n,
                *got as f64 / n,
                if *calls > 0 { total / *calls as f64 } else { 0.0 }
            );
        }
    }
}
