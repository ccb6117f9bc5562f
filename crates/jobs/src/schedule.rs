//! Running the jobs in-process: the leader-elected scheduler and the
//! per-node assigner.

use crate::{run, worth_recording, Job};
use chrono::Utc;
use fantooo_store::leader::Leadership;
use fantooo_store::Db;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Called after a job changed something (so realtime fan-out wakes up).
pub type Changed = Arc<dyn Fn() + Send + Sync>;

async fn run_and_record(db: &Db, job: Job, node: &str, changed: &Changed) {
    let started = Utc::now();
    let result = run(db, job, started).await;
    let finished = Utc::now();
    match result {
        Ok(counts) => {
            if worth_recording(job, &counts) {
                tracing::info!(job = job.name(), counts = %counts, "job finished");
                changed();
                if let Err(e) = fantooo_store::jobs::record(db, job.name(), node, started, finished, &counts, None).await {
                    tracing::warn!(job = job.name(), error = %e, "job run not recorded");
                }
            }
        }
        Err(e) => {
            tracing::warn!(job = job.name(), error = %e, "job failed");
            let _ = fantooo_store::jobs::record(db, job.name(), node, started, finished, &serde_json::json!({}), Some(&e.to_string())).await;
        }
    }
}

/// Starts the scheduler: it waits to become leader, then runs every job
/// (except the assigner, which every node runs) on its period, and steps
/// down if its lock connection is lost.
pub fn spawn_scheduler(db: Db, node: String, changed: Changed) {
    tokio::spawn(async move {
        loop {
            let mut lead = match Leadership::try_acquire(&db).await {
                Ok(Some(l)) => l,
                Ok(None) => { tokio::time::sleep(Duration::from_secs(15)).await; continue }
                Err(e) => { tracing::warn!(error = %e, "leader election failed"); tokio::time::sleep(Duration::from_secs(5)).await; continue }
            };
            tracing::info!(node = %node, "this node runs the scheduled jobs");
            let start = tokio::time::Instant::now();
            let mut next: Vec<(Job, tokio::time::Instant)> = Job::ALL.iter().copied().filter(|j| *j != Job::Assign)
                .map(|j| (j, start + first_delay(j))).collect();
            loop {
                let (i, at) = next.iter().enumerate().min_by_key(|(_, (_, at))| *at).map(|(i, (_, at))| (i, *at)).expect("jobs");
                tokio::time::sleep_until(at).await;
                if !lead.still_held().await {
                    tracing::warn!("lost the jobs lock; standing down");
                    break;
                }
                let job = next[i].0;
                run_and_record(&db, job, &node, &changed).await;
                next[i].1 = tokio::time::Instant::now() + job.every();
            }
        }
    });
}

/// Frequent checks start at once; daily and hourly work waits a little so
/// a restart loop does not repeat it.
fn first_delay(job: Job) -> Duration {
    match job {
        Job::IdleCheck => Duration::from_secs(1),
        Job::Escalate | Job::AutoClose => Duration::from_secs(60),
        _ => job.every().min(Duration::from_secs(3600)),
    }
}

/// Wakes this node's assigner.
#[derive(Clone)]
pub struct Assigner(Arc<Notify>);

impl Assigner {
    /// A handle that wakes nothing (for processes that do not assign).
    pub fn disabled() -> Assigner {
        Assigner(Arc::new(Notify::new()))
    }

    /// Ask for an assignment pass soon (a chat started waiting, an operator
    /// came online or freed a slot). Bursts collapse into one pass.
    pub fn poke(&self) {
        self.0.notify_one();
    }
}

/// Starts this node's assigner: a pass when poked, and every two seconds
/// while anything might be waiting.
pub fn spawn_assigner(db: Db, node: String, changed: Changed) -> Assigner {
    let wake = Arc::new(Notify::new());
    let handle = Assigner(wake.clone());
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(Job::Assign.every()) => {}
            }
            run_and_record(&db, Job::Assign, &node, &changed).await;
        }
    });
    handle
}
