//! Monthly partitions for PostgreSQL's `messages` and `user_activity_log`.
//! Created ahead of time so inserts never land in the default partition
//! (which must stay empty for later partitions to attach cleanly).

use crate::{Db, StoreResult};
use chrono::{DateTime, Datelike, NaiveDate, Utc};

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
            let name = format!("{table}_y{}m{:02}", from.year(), from.month());
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
}
