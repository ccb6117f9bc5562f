//! The credit ledger. A balance (`real_users.credits`) changes only together
//! with an entry here, in the same transaction; each entry carries a reason,
//! a reference and a unique idempotency key, so a retried operation can never
//! move credits twice.
//!
//! Balances never go negative, under any concurrency: debits are conditional
//! updates (`… WHERE credits + delta >= 0`), which take the row lock on
//! PostgreSQL and run inside `BEGIN IMMEDIATE` on SQLite, and the column
//! itself carries a `CHECK (credits >= 0)` as the last line of defence.

use crate::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::{AccountId, UserId};
use fantooo_domain::ledger::LedgerReason;
use fantooo_domain::Credits;
use serde::Serialize;

/// One credit movement to record.
#[derive(Debug, Clone)]
pub struct Movement<'a> {
    pub user: UserId,
    pub delta: Credits,
    pub reason: LedgerReason,
    pub reference: Option<&'a str>,
    pub idempotency_key: &'a str,
    /// The account that caused it (an admin for adjustments), if not the user.
    pub created_by: Option<AccountId>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Entry {
    pub seq: i64,
    pub delta: Credits,
    pub balance_after: Credits,
    pub reason: LedgerReason,
    pub reference: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What `post` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    Applied {
        balance: Credits,
    },
    /// The idempotency key was already used; nothing changed.
    Duplicate,
}

/// Applies a movement inside the caller's transaction and evaluates to the
/// new balance. Fails with `InsufficientCredits` (the caller rolls back) when
/// a debit exceeds the balance, and with `NotFound` for an unknown user.
#[macro_export]
#[doc(hidden)]
macro_rules! ledger_apply {
    ($tx:expr, $m:expr, $now:expr) => {{
        $crate::ledger_apply!(@apply $tx, $m, $now, 0i64)
    }};
    // A charge for something the user bought (a message): also counts
    // towards their lifetime spend, in the same statement.
    ($tx:expr, $m:expr, $now:expr, spending) => {{
        let spent: i64 = -$m.delta.get();
        $crate::ledger_apply!(@apply $tx, $m, $now, spent)
    }};
    (@apply $tx:expr, $m:expr, $now:expr, $spent:expr) => {{
        let m: &$crate::ledger::Movement<'_> = $m;
        let balance: Option<i64> = sqlx::query_scalar(
            "UPDATE real_users SET credits = credits + $2, lifetime_credits_spent = lifetime_credits_spent + $3
             WHERE id = $1 AND credits + $2 >= 0 RETURNING credits")
            .bind(m.user).bind(m.delta.get()).bind($spent).fetch_optional(&mut *$tx).await?;
        match balance {
            Some(b) => {
                sqlx::query("INSERT INTO credit_ledger (id, user_id, delta, balance_after, reason, reference, idempotency_key, created_by, created_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(fantooo_domain::ids::LedgerEntryId::new()).bind(m.user).bind(m.delta.get()).bind(b).bind(m.reason)
                    .bind(m.reference).bind(m.idempotency_key).bind(m.created_by).bind($now)
                    .execute(&mut *$tx).await?;
                Ok(fantooo_domain::Credits(b))
            }
            None => {
                let available: Option<i64> = sqlx::query_scalar("SELECT credits FROM real_users WHERE id = $1").bind(m.user).fetch_optional(&mut *$tx).await?;
                match available {
                    None => Err($crate::StoreError::NotFound),
                    Some(a) => Err($crate::StoreError::Insufficient { required: -m.delta.get(), available: a }),
                }
            }
        }
    }};
}

/// Records a movement in its own transaction, once per idempotency key.
pub async fn post(db: &Db, m: &Movement<'_>) -> StoreResult<Posted> {
    if m.delta.get() == 0 {
        return Err(StoreError::Invalid("a ledger entry must move credits".into()));
    }
    match post_once(db, m).await {
        // Two racing posts with one key: the loser's insert hit the unique key.
        Err(StoreError::Conflict(c)) if c.contains("idempotency") => Ok(Posted::Duplicate),
        other => other,
    }
}

async fn post_once(db: &Db, m: &Movement<'_>) -> StoreResult<Posted> {
    let now = Utc::now();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let seen: Option<i64> = sqlx::query_scalar("SELECT seq FROM credit_ledger WHERE idempotency_key = $1")
            .bind(m.idempotency_key).fetch_optional(&mut *tx).await?;
        if seen.is_some() {
            return Ok(Posted::Duplicate);
        }
        let balance: StoreResult<Credits> = ledger_apply!(tx, m, now);
        let balance = balance?;
        crate::emit_balance!(tx, m.user, balance, now);
        tx.commit().await?;
        Ok(Posted::Applied { balance })
    })
}

pub async fn balance(db: &Db, user: UserId) -> StoreResult<Credits> {
    let sql = "SELECT credits FROM real_users WHERE id = $1";
    let b: Option<i64> = on_pool!(db, p => sqlx::query_scalar(sql).bind(user).fetch_optional(p).await?);
    b.map(Credits).ok_or(StoreError::NotFound)
}

/// A user's entries, newest first, before an optional `seq` cursor.
pub async fn entries(db: &Db, user: UserId, before: Option<i64>, limit: i64) -> StoreResult<Vec<Entry>> {
    let sql = "SELECT seq, delta, balance_after, reason, reference, created_at FROM credit_ledger
               WHERE user_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3";
    Ok(on_pool!(db, p => sqlx::query_as::<_, Entry>(sql).bind(user).bind(before.unwrap_or(i64::MAX)).bind(limit).fetch_all(p).await?))
}
