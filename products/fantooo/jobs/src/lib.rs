//! Fantooo's scheduled jobs. Each job is one function of the database and
//! the time (`run`), which the scheduler calls in-process on the elected
//! leader and `fantooo job <name>` calls from external cron. The assigner
//! is different: assignment is atomic in the store, so every node runs it,
//! woken as soon as a chat starts waiting.

mod schedule;

pub use schedule::{runner, spawn_assigner, spawn_scheduler, Assigner, Changed};

use chrono::{DateTime, Duration, Utc};
use fantooo_store::{accounts, events, operations, partitions, queue, Db, StoreResult};
use serde_json::{json, Value};
use std::time::Duration as StdDuration;

/// The jobs, by the name used on the command line and in `job_runs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Give waiting chats to the best available operators.
    Assign,
    /// Warn idle operators (2:30) and take their chats (3:00).
    IdleCheck,
    /// Escalate over-reassigned or long-waiting chats to admins.
    Escalate,
    /// Close chats inactive for 24 h.
    AutoClose,
    /// Recompute quality scores; suspend operators below their threshold.
    OperatorStats,
    /// Create monthly PostgreSQL partitions ahead.
    Partitions,
    /// Archive PostgreSQL monthly partitions older than 12 months to gzip
    /// files in `FANTOOO_ARCHIVE_DIR` (detach, export, drop).
    ArchivePartitions,
    /// Delete expired sessions, old realtime events and old job runs.
    Housekeeping,
    /// Aggregate the analytics tables (today and yesterday again, plus any
    /// day never aggregated).
    DailyStats,
}

impl Job {
    pub const ALL: &'static [Job] = &[
        Job::Assign,
        Job::IdleCheck,
        Job::Escalate,
        Job::AutoClose,
        Job::OperatorStats,
        Job::Partitions,
        Job::ArchivePartitions,
        Job::Housekeeping,
        Job::DailyStats,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Job::Assign => "assign",
            Job::IdleCheck => "idle-check",
            Job::Escalate => "escalate",
            Job::AutoClose => "auto-close",
            Job::OperatorStats => "operator-stats",
            Job::Partitions => "partitions",
            Job::ArchivePartitions => "archive-partitions",
            Job::Housekeeping => "housekeeping",
            Job::DailyStats => "daily-stats",
        }
    }

    pub fn from_name(name: &str) -> Option<Job> {
        Job::ALL.iter().copied().find(|j| j.name() == name)
    }

    /// How often the leader runs it (spec: idle check every 10 s, escalation
    /// every 15 min, auto-close hourly, operator stats daily).
    pub fn every(self) -> StdDuration {
        match self {
            Job::Assign => StdDuration::from_secs(2),
            Job::IdleCheck => StdDuration::from_secs(10),
            Job::Escalate => StdDuration::from_secs(15 * 60),
            Job::AutoClose => StdDuration::from_secs(3600),
            Job::OperatorStats | Job::ArchivePartitions => StdDuration::from_secs(24 * 3600),
            Job::Partitions | Job::Housekeeping => StdDuration::from_secs(6 * 3600),
            Job::DailyStats => StdDuration::from_secs(15 * 60),
        }
    }
}

/// Runs one job at time `now` and returns what it did, as counts.
pub async fn run(db: &Db, job: Job, now: DateTime<Utc>) -> StoreResult<Value> {
    Ok(match job {
        Job::Assign => {
            let made = queue::assign_waiting(db, now).await?;
            json!({ "assigned": made.len() })
        }
        Job::IdleCheck => {
            let cfg = operations::config(db).await?;
            let r = operations::check_idle(db, &cfg, now).await?;
            json!({ "warned": r.warned, "reassigned": r.reassigned, "escalated": r.escalated })
        }
        Job::Escalate => {
            let cfg = operations::config(db).await?;
            let refreshed = queue::refresh_priorities(db, now).await?;
            let r = operations::escalate_stuck(db, &cfg, now).await?;
            json!({ "over_reassigned": r.over_reassigned, "waited_too_long": r.waited_too_long, "priorities_raised": refreshed })
        }
        Job::AutoClose => {
            let cfg = operations::config(db).await?;
            json!({ "closed": operations::close_inactive(db, &cfg, now).await? })
        }
        Job::OperatorStats => {
            let cfg = operations::config(db).await?;
            let r = operations::review_quality(db, &cfg, now).await?;
            json!({ "scored": r.scored, "suspended": r.suspended })
        }
        Job::Partitions => json!({ "created": partitions::ensure_ahead(db, now, 3).await?.len() }),
        Job::ArchivePartitions => match db {
            Db::Sqlite(_) => json!({ "archived": 0, "note": "SQLite has no partitions; nothing to archive" }),
            Db::Postgres(_) => {
                let done = partitions::archive_older_than(db, now, partitions::KEEP_MONTHS, &archive_dir()).await?;
                json!({
                    "archived": done.len(),
                    "rows": done.iter().map(|a| a.rows).sum::<u64>(),
                    "partitions": done.iter().map(|a| a.partition.clone()).collect::<Vec<_>>(),
                })
            }
        },
        Job::Housekeeping => json!({
            // Expired sessions are kept a day, for support questions.
            "sessions": accounts::SESSIONS.purge_expired(db, now - Duration::days(1)).await?,
            "events": events::purge(db, now - Duration::days(1)).await?,
            "job_runs": platform_jobs::runs::purge(db, now - Duration::days(7)).await?,
        }),
        Job::DailyStats => json!({ "days": fantooo_store::analytics::refresh(db, now, 2, 400).await? }),
    })
}

/// Where archived partitions are written: `FANTOOO_ARCHIVE_DIR`, else
/// `archive` under the working directory.
pub fn archive_dir() -> std::path::PathBuf {
    std::env::var_os("FANTOOO_ARCHIVE_DIR").map(Into::into).unwrap_or_else(|| "archive".into())
}

/// Whether a run is worth a row in `job_runs`: frequent jobs that did
/// nothing are not recorded, so the log shows work, not heartbeats.
pub fn worth_recording(job: Job, counts: &Value) -> bool {
    let frequent = matches!(job, Job::Assign | Job::IdleCheck);
    !frequent || counts.as_object().is_some_and(|m| m.values().any(|v| v.as_u64().unwrap_or(0) > 0))
}
