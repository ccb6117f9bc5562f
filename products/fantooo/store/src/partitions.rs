//! Monthly partitions for PostgreSQL's `messages` and `user_activity_log`.
//! Created ahead of time so inserts never land in the default partition
//! (which must stay empty for later partitions to attach cleanly).
//! Months older than the retention window are archived: detached, copied
//! out to a gzip file (PostgreSQL's COPY text format), and dropped; `restore`
//! brings an archived month back. SQLite has no partitions, so both are
//! no-ops there.

use crate::{Db, StoreError, StoreResult};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use futures_util::TryStreamExt;
use sqlx::postgres::PgPoolCopyExt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const PARTITIONED: &[&str] = &["messages", "user_activity_log"];

/// First day of the month `offset` months after `at`'s month.
pub fn month_start(at: DateTime<Utc>, offset: i32) -> NaiveDate {
    let months = at.year() * 12 + at.month0() as i32 + offset;
    NaiveDate::from_ymd_opt(months.div_euclid(12), months.rem_euclid(12) as u32 + 1, 1).expect("valid month")
}

/// Ensures partitions for the current month and `ahead` following months.
/// A no-op on SQLite. Returns the partitions created.
pub async fn ensure_ahead(db: &Db, now: DateTime<Utc>, ahead: i32) -> StoreResult<Vec<String>> {
    let Db::Postgres(pool) = db else { return Ok(vec![]) };
    let mut created = vec![];
    for table in PARTITIONED {
        for offset in 0..=ahead {
            let from = month_start(now, offset);
            let to = month_start(now, offset + 1);
            let name = partition_name(table, from);
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = $1)").bind(&name).fetch_one(pool).await?;
            if exists {
                continue;
            }
            // Names and bounds are generated here, never from input.
            let ddl = format!("CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table} FOR VALUES FROM ('{from}') TO ('{to}')");
            sqlx::query(&ddl).execute(pool).await?;
            created.push(name);
        }
    }
    Ok(created)
}

/// Months kept in the live tables (spec: archive partitions older than 12 months).
pub const KEEP_MONTHS: i32 = 12;

/// The partition name for `table`'s month starting at `from`.
fn partition_name(table: &str, from: NaiveDate) -> String {
    format!("{table}_y{}m{:02}", from.year(), from.month())
}

/// Parses `<table>_yYYYYmMM` back into the table and the month's first day.
pub fn parse_partition(name: &str) -> Option<(&'static str, NaiveDate)> {
    PARTITIONED.iter().find_map(|t| {
        let rest = name.strip_prefix(t)?.strip_prefix("_y")?;
        let (y, m) = rest.split_once('m')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        Some((*t, NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)?))
    })
}

/// The next month's first day.
fn next_month(d: NaiveDate) -> NaiveDate {
    d.checked_add_months(chrono::Months::new(1)).expect("valid month")
}

/// The archive file of a partition.
pub fn archive_path(dir: &Path, partition: &str) -> PathBuf {
    dir.join(format!("{partition}.copy.gz"))
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Archived {
    pub partition: String,
    pub rows: u64,
    pub file: PathBuf,
}

/// Archives every monthly partition that ends before the first day of the
/// month `keep_months` before `now`'s: detach, COPY out into
/// `dir/<partition>.copy.gz` (written and synced before anything is
/// dropped), drop. The live queries never see a gap: rows of an archived
/// month are simply gone until `restore`. Returns what was archived; on
/// SQLite, nothing (there are no partitions).
pub async fn archive_older_than(db: &Db, now: DateTime<Utc>, keep_months: i32, dir: &Path) -> StoreResult<Vec<Archived>> {
    let Db::Postgres(pool) = db else { return Ok(vec![]) };
    let cutoff = month_start(now, -keep_months);
    let mut done = vec![];
    for table in PARTITIONED {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
             WHERE p.relname = $1 ORDER BY c.relname",
        )
        .bind(table)
        .fetch_all(pool)
        .await?;
        for name in names {
            let Some((_, from)) = parse_partition(&name) else { continue };
            if next_month(from) > cutoff {
                continue;
            }
            std::fs::create_dir_all(dir).map_err(io)?;
            let file = archive_path(dir, &name);
            let tmp = file.with_extension("gz.part");
            // Names come from the catalogue and match our own pattern only.
            sqlx::query(&format!("ALTER TABLE {table} DETACH PARTITION {name}")).execute(pool).await?;
            let mut out = flate2::write::GzEncoder::new(std::fs::File::create(&tmp).map_err(io)?, flate2::Compression::default());
            let mut stream = pool.copy_out_raw(&format!("COPY {name} TO STDOUT")).await?;
            let mut rows = 0u64;
            while let Some(chunk) = stream.try_next().await? {
                rows += chunk.iter().filter(|b| **b == b'\n').count() as u64;
                out.write_all(&chunk).map_err(io)?;
            }
            out.finish().map_err(io)?.sync_all().map_err(io)?;
            std::fs::rename(&tmp, &file).map_err(io)?;
            sqlx::query(&format!("DROP TABLE {name}")).execute(pool).await?;
            done.push(Archived { partition: name, rows, file });
        }
    }
    Ok(done)
}

/// Brings an archived month back from `dir/<partition>.copy.gz`: the
/// partition is recreated, filled from the file and attached, in one
/// transaction (a failure leaves nothing half-restored). Refused when the
/// month is live already. Returns the rows restored.
pub async fn restore(db: &Db, dir: &Path, partition: &str) -> StoreResult<u64> {
    let Db::Postgres(pool) = db else {
        return Err(StoreError::Invalid("SQLite has no partitions: nothing was ever archived".into()));
    };
    let (table, from) = parse_partition(partition).ok_or_else(|| StoreError::Invalid(format!("not a partition name: {partition}")))?;
    let name = partition_name(table, from);
    let mut data = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(archive_path(dir, &name)).map_err(io)?).read_to_end(&mut data).map_err(io)?;
    let mut tx = pool.begin().await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = $1)").bind(&name).fetch_one(&mut *tx).await?;
    if exists {
        return Err(StoreError::Conflict(format!("{name} is live already")));
    }
    let to = next_month(from);
    sqlx::query(&format!("CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")).execute(&mut *tx).await?;
    let mut copy = tx.copy_in_raw(&format!("COPY {name} FROM STDIN")).await?;
    copy.send(data).await?;
    let rows = copy.finish().await?;
    sqlx::query(&format!("ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ('{from}') TO ('{to}')")).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows)
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Invalid(format!("archive file: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    #[test]
    fn month_arithmetic_wraps_years() {
        let at = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        assert_eq!(month_start(at, 0).to_string(), "2026-11-01");
        assert_eq!(month_start(at, 2).to_string(), "2027-01-01");
        assert_eq!(month_start(at, -11).to_string(), "2025-12-01");
    }

    #[test]
    fn partition_names_parse_back() {
        let d = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        assert_eq!(parse_partition(&partition_name("messages", d)), Some(("messages", d)));
        assert_eq!(
            parse_partition("user_activity_log_y2024m12"),
            Some(("user_activity_log", NaiveDate::from_ymd_opt(2024, 12, 1).unwrap()))
        );
        for bad in ["messages_default", "messages_y2025m13", "chats_y2025m01", "messages_y2025m1", "messages_y2025m01; DROP TABLE x"] {
            assert_eq!(parse_partition(bad), None, "{bad}");
        }
        assert_eq!(next_month(NaiveDate::from_ymd_opt(2025, 12, 1).unwrap()).to_string(), "2026-01-01");
    }
}
