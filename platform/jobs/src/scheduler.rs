//! The leader-elected scheduler.

use crate::leader::Leadership;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use platform_db::{Db, StoreResult};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// One of a product's jobs.
pub trait Job: Copy + Eq + Send + Sync + 'static {
    /// The name on the command line and in `job_runs`.
    fn name(self) -> &'static str;
    /// How often the leader runs it.
    fn every(self) -> Duration;
    /// How long after becoming leader the first run waits. By default the
    /// period, at most an hour, so a restart loop does not repeat daily work.
    fn first_delay(self) -> Duration {
        self.every().min(Duration::from_secs(3600))
    }
    /// Whether a run is worth a row in `job_runs`. By default a run that
    /// counted nothing is not, so the log shows work, not heartbeats.
    fn worth_recording(self, counts: &Value) -> bool {
        counts.as_object().is_some_and(|m| m.values().any(|v| v.as_u64().unwrap_or(0) > 0))
    }
}

/// Runs one job at a time `now` and reports what it did, as counts.
pub type Runner<J> = Arc<dyn Fn(J, DateTime<Utc>) -> BoxFuture<'static, StoreResult<Value>> + Send + Sync>;

/// Called after a run changed something (so realtime fan-out wakes up).
pub type Changed = Arc<dyn Fn() + Send + Sync>;

async fn run_and_record<J: Job>(db: &Db, job: J, node: &str, runner: &Runner<J>, changed: &Changed) {
    let started = Utc::now();
    let result = runner(job, started).await;
    let finished = Utc::now();
    match result {
        Ok(counts) => {
            if job.worth_recording(&counts) {
                tracing::info!(job = job.name(), counts = %counts, "job finished");
                changed();
                if let Err(e) = crate::runs::record(db, job.name(), node, started, finished, &counts, None).await {
                    tracing::warn!(job = job.name(), error = %e, "job run not recorded");
                }
            }
        }
        Err(e) => {
            tracing::warn!(job = job.name(), error = %e, "job failed");
            let _ = crate::runs::record(db, job.name(), node, started, finished, &serde_json::json!({}), Some(&e.to_string())).await;
        }
    }
}

/// Runs `job` once now (the `job` subcommand) and records the run whatever
/// it counted, so an operator sees that it ran.
pub async fn run_once<J: Job>(db: &Db, job: J, node: &str, runner: &Runner<J>) -> StoreResult<Value> {
    let started = Utc::now();
    let counts = runner(job, started).await?;
    crate::runs::record(db, job.name(), node, started, Utc::now(), &counts, None).await?;
    Ok(counts)
}

/// Starts the scheduler: it waits to become leader, then runs each of
/// `jobs` on its period, and steps down if its lock connection is lost.
pub fn spawn_scheduler<J: Job>(db: Db, node: String, jobs: Vec<J>, runner: Runner<J>, changed: Changed) {
    if jobs.is_empty() {
        return;
    }
    tokio::spawn(async move {
        loop {
            let mut lead = match Leadership::try_acquire(&db).await {
                Ok(Some(l)) => l,
                Ok(None) => {
                    tokio::time::sleep(Duration::from_secs(15)).await;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "leader election failed");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
            };
            tracing::info!(node = %node, "this node runs the scheduled jobs");
            let start = tokio::time::Instant::now();
            let mut next: Vec<(J, tokio::time::Instant)> = jobs.iter().map(|j| (*j, start + j.first_delay())).collect();
            loop {
                let (i, at) = next.iter().enumerate().min_by_key(|(_, (_, at))| *at).map(|(i, (_, at))| (i, *at)).expect("jobs");
                tokio::time::sleep_until(at).await;
                if !lead.still_held().await {
                    tracing::warn!("lost the jobs lock; standing down");
                    break;
                }
                let job = next[i].0;
                run_and_record(&db, job, &node, &runner, &changed).await;
                next[i].1 = tokio::time::Instant::now() + job.every();
            }
        }
    });
}

/// Runs `job` on this node (not only on the leader) when `wake` is
/// notified and at least every `job.every()`: for work that is safe to run
/// on every node at once and should start as soon as it is due.
pub fn spawn_every<J: Job>(db: Db, node: String, job: J, wake: Arc<Notify>, runner: Runner<J>, changed: Changed) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(job.every()) => {}
            }
            run_and_record(&db, job, &node, &runner, &changed).await;
        }
    });
}
