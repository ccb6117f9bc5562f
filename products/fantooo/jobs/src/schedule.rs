//! Running Fantooo's jobs in-process on the platform scheduler: the
//! leader-elected schedule and the per-node assigner.

use crate::{run, Job};
use fantooo_store::Db;
use platform_jobs::Runner;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

pub use platform_jobs::Changed;

impl platform_jobs::Job for Job {
    fn name(self) -> &'static str {
        Job::name(self)
    }

    fn every(self) -> Duration {
        Job::every(self)
    }

    /// Frequent checks start at once; daily and hourly work waits a little
    /// so a restart loop does not repeat it.
    fn first_delay(self) -> Duration {
        match self {
            Job::IdleCheck => Duration::from_secs(1),
            Job::Escalate | Job::AutoClose => Duration::from_secs(60),
            _ => self.every().min(Duration::from_secs(3600)),
        }
    }

    fn worth_recording(self, counts: &serde_json::Value) -> bool {
        crate::worth_recording(self, counts)
    }
}

/// Runs Fantooo's jobs on `db`, for the platform scheduler and the CLI.
pub fn runner(db: Db) -> Runner<Job> {
    Arc::new(move |job, now| {
        let db = db.clone();
        Box::pin(async move { run(&db, job, now).await })
    })
}

/// Starts the scheduler: it waits to become leader, then runs every job
/// (except the assigner, which every node runs) on its period.
pub fn spawn_scheduler(db: Db, node: String, changed: Changed) {
    let jobs = Job::ALL.iter().copied().filter(|j| *j != Job::Assign).collect();
    platform_jobs::spawn_scheduler(db.clone(), node, jobs, runner(db), changed);
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
/// while anything might be waiting. Assignment is atomic in the store, so
/// every node runs it.
pub fn spawn_assigner(db: Db, node: String, changed: Changed) -> Assigner {
    let wake = Arc::new(Notify::new());
    platform_jobs::spawn_every(db.clone(), node, Job::Assign, wake.clone(), runner(db), changed);
    Assigner(wake)
}
