//! The record of scheduled job runs, for admins and for debugging.

use chrono::{DateTime, Utc};
use platform_db::{on_pool, Db, StoreResult};
use serde::Serialize;
use sqlx::types::Json;

pub async fn record(
    db: &Db,
    job: &str,
    node: &str,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
    counts: &serde_json::Value,
    error: Option<&str>,
) -> StoreResult<()> {
    let sql = "INSERT INTO job_runs (job, node, started_at, finished_at, counts, error) VALUES ($1, $2, $3, $4, $5, $6)";
    on_pool!(db, p => { sqlx::query(sql).bind(job).bind(node).bind(started).bind(finished).bind(Json(counts)).bind(error).execute(p).await?; });
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct JobRun {
    pub job: String,
    pub node: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub counts: Json<serde_json::Value>,
    pub error: Option<String>,
}

/// The latest run of each job.
pub async fn latest(db: &Db) -> StoreResult<Vec<JobRun>> {
    let sql = "SELECT job, node, started_at, finished_at, counts, error FROM job_runs r
               WHERE seq = (SELECT MAX(seq) FROM job_runs r2 WHERE r2.job = r.job) ORDER BY job";
    Ok(on_pool!(db, p => sqlx::query_as::<_, JobRun>(sql).fetch_all(p).await?))
}

/// Deletes runs older than `before` (the table would otherwise grow by the
/// idle check's 8,640 rows a day).
pub async fn purge(db: &Db, before: DateTime<Utc>) -> StoreResult<u64> {
    let sql = "DELETE FROM job_runs WHERE started_at < $1";
    Ok(on_pool!(db, p => sqlx::query(sql).bind(before).execute(p).await?.rows_affected()))
}
