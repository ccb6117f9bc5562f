//! Staff switches for the exchanges (requirement 6.4, 10): the diamond →
//! coin exchange and the salary → coin exchange can each be switched off
//! and on again from the back office. A switch without a row follows the
//! app's configuration; each change writes its audit entry in the same
//! transaction, and the reason given is what users are shown.

use crate::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::ids::AccountId;
use serde::Serialize;
use serde_json::json;

/// The two exchanges staff can switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exchange {
    /// Diamonds into coins.
    Diamonds,
    /// Agency salary into coins.
    Salary,
}

impl Exchange {
    pub const ALL: [Exchange; 2] = [Exchange::Diamonds, Exchange::Salary];

    pub fn as_str(self) -> &'static str {
        match self {
            Exchange::Diamonds => "diamonds",
            Exchange::Salary => "salary",
        }
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            Exchange::Diamonds => "Diamond exchange",
            Exchange::Salary => "Salary exchange",
        }
    }

    /// The refusal code when it is off.
    pub fn closed_code(self) -> &'static str {
        match self {
            Exchange::Diamonds => "exchange_closed",
            Exchange::Salary => "salary_exchange_closed",
        }
    }
}

impl std::str::FromStr for Exchange {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Exchange::ALL.into_iter().find(|e| e.as_str() == s).ok_or(())
    }
}

/// A switch as it stands.
#[derive(Debug, Clone, Serialize)]
pub struct Switch {
    pub exchange: Exchange,
    pub open: bool,
    /// Why it was switched (shown to users while it is off).
    pub reason: String,
    /// Who changed it last, when; `None`: never changed (configuration).
    pub changed_by: Option<AccountId>,
    pub changed_at: Option<DateTime<Utc>>,
}

impl Switch {
    /// The sentence users see while it is off.
    pub fn closed_message(&self) -> String {
        let base = format!("{} is switched off for now", self.exchange.label());
        if self.reason.trim().is_empty() {
            format!("{base}.")
        } else {
            format!("{base}: {}", self.reason.trim())
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    open: bool,
    reason: String,
    changed_by: Option<AccountId>,
    changed_at: DateTime<Utc>,
}

/// The switch of `exchange`; `default_open` when staff never changed it.
pub async fn get(db: &Db, exchange: Exchange, default_open: bool) -> StoreResult<Switch> {
    let sql = "SELECT open, reason, changed_by, changed_at FROM exchange_switches WHERE name = $1";
    let row: Option<Row> = on_pool!(db, p => sqlx::query_as(sql).bind(exchange.as_str()).fetch_optional(p).await?);
    Ok(match row {
        Some(r) => Switch { exchange, open: r.open, reason: r.reason, changed_by: r.changed_by, changed_at: Some(r.changed_at) },
        None => Switch { exchange, open: default_open, reason: String::new(), changed_by: None, changed_at: None },
    })
}

/// Switches `exchange` on or off with a reason (staff `by`); the audit
/// entry `exchange.open` / `exchange.close` is written with the change.
/// Answers whether anything changed (the same state and reason again:
/// nothing written).
pub async fn set(
    db: &Db,
    by: AccountId,
    exchange: Exchange,
    open: bool,
    reason: &str,
    default_open: bool,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let reason = reason.trim();
    let before = get(db, exchange, default_open).await?;
    let staff = by.to_string();
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let current: Option<(bool, String)> = sqlx::query_as("SELECT open, reason FROM exchange_switches WHERE name = $1")
            .bind(exchange.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let (was_open, was_reason) = current.unwrap_or((before.open, String::new()));
        if was_open == open && was_reason == reason {
            return Ok::<bool, StoreError>(false);
        }
        sqlx::query(
            "INSERT INTO exchange_switches (name, open, reason, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (name) DO UPDATE SET open = excluded.open, reason = excluded.reason, changed_by = excluded.changed_by, changed_at = excluded.changed_at",
        )
        .bind(exchange.as_str())
        .bind(open)
        .bind(reason)
        .bind(by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let (b, a) = (json!({ "open": was_open, "reason": was_reason }), json!({ "open": open, "reason": reason }));
        let action = if open { "exchange.open" } else { "exchange.close" };
        let entry = platform_audit::Record::new("staff", Some(&staff), action)
            .subject("exchange", exchange.as_str())
            .change(Some(&b), Some(&a))
            .reason(reason);
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
}
