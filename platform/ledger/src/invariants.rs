//! The books must balance. A [`Check`] is one query listing the rows that
//! break a rule, one text column per violation; an empty [`Report`] means
//! the data is consistent. [`crate::Book::checks`] gives a ledger's own
//! checks; a product appends its own and runs them all from its `check`
//! command, after load and fault tests, and for admins on demand.

use platform_db::{on_pool, Db, StoreResult};
use serde::Serialize;
use std::borrow::Cow;

/// How many offending rows a violation shows.
pub const EXAMPLES: usize = 20;

/// A rule and the query that lists what breaks it.
#[derive(Debug, Clone)]
pub struct Check {
    pub rule: &'static str,
    /// Returns one text column describing each violation.
    pub sql: Cow<'static, str>,
}

impl Check {
    /// A check with a fixed query.
    pub const fn new(rule: &'static str, sql: &'static str) -> Check {
        Check { rule, sql: Cow::Borrowed(sql) }
    }

    /// A check with a query built at run time (over a book's table names).
    pub fn owned(rule: &'static str, sql: String) -> Check {
        Check { rule, sql: Cow::Owned(sql) }
    }
}

/// One broken rule, with the rows that break it (at most [`EXAMPLES`] shown).
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    pub rule: &'static str,
    pub count: usize,
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub checked: Vec<&'static str>,
    pub violations: Vec<Violation>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }

    /// Whether `rule` was broken.
    pub fn violated(&self, rule: &str) -> bool {
        self.violations.iter().any(|v| v.rule == rule)
    }
}

/// Runs every check, in order.
pub async fn run(db: &Db, checks: &[Check]) -> StoreResult<Report> {
    let mut violations = vec![];
    for check in checks {
        let sql: &str = &check.sql;
        let rows: Vec<String> = on_pool!(db, p => sqlx::query_scalar(sql).fetch_all(p).await?);
        if !rows.is_empty() {
            violations.push(Violation { rule: check.rule, count: rows.len(), examples: rows.into_iter().take(EXAMPLES).collect() });
        }
    }
    Ok(Report { checked: checks.iter().map(|c| c.rule).collect(), violations })
}
