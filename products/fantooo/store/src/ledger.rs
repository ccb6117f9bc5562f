//! The credit ledger: a `platform_ledger` book over Fantooo's own tables
//! ([`CREDITS`]). A balance (`real_users.credits`) changes only together
//! with an entry in `credit_ledger`, in the same transaction; each entry
//! carries a reason, a reference and a unique idempotency key, so a retried
//! operation can never move credits twice.
//!
//! Balances never go negative, under any concurrency: debits are conditional
//! updates (`… WHERE credits + delta >= 0`), which take the row lock on
//! PostgreSQL and run inside `BEGIN IMMEDIATE` on SQLite, and the column
//! itself carries a `CHECK (credits >= 0)` as the last line of defence.
//!
//! Operations inside a caller's transaction post with
//! `CREDITS.post_in(&mut *tx, &movement.posting(), now)` and take the
//! outcome with [`applied`]; a message charge on the send path uses
//! [`ledger_charge!`](crate::ledger_charge) instead.

use crate::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::{AccountId, UserId};
use fantooo_domain::ledger::LedgerReason;
use fantooo_domain::Credits;
use platform_ledger::{ActorId, Amount, Book, Tables, WalletId};
use serde::Serialize;
use std::sync::LazyLock;

/// Fantooo's credit book: one wallet per real user (`real_users.credits`,
/// with message charges adding to `lifetime_credits_spent`), entries in
/// `credit_ledger`, one unit, no transfers.
pub static CREDITS: LazyLock<Book> = LazyLock::new(|| {
    Book::new(Tables {
        wallets: "real_users",
        wallet_id: "id",
        balance: "credits",
        wallet_unit: None,
        spent: Some("lifetime_credits_spent"),
        entries: "credit_ledger",
        entry_wallet: "user_id",
        entry_unit: false,
        transfers: false,
    })
});

/// A user's wallet in [`CREDITS`]: the user's own row.
pub fn wallet(user: UserId) -> WalletId {
    WalletId(user.0)
}

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

impl Movement<'_> {
    /// The movement as [`CREDITS`] posts it. It is not spending: the only
    /// spending, message charges, goes through [`ledger_charge!`](crate::ledger_charge).
    pub fn posting(&self) -> platform_ledger::Movement<'_> {
        platform_ledger::Movement {
            wallet: wallet(self.user),
            delta: Amount(self.delta.get()),
            reason: self.reason.as_str(),
            reference: self.reference,
            idempotency_key: self.idempotency_key,
            created_by: self.created_by.map(|a| ActorId(a.0)),
            spending: false,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
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

/// The new balance of a movement posted inside the caller's transaction.
/// Every such caller's key names something that happens once (a purchase, a
/// refund, a day's reward), so a key already used is a conflict that rolls
/// the caller back, as the entries' unique index makes it.
pub fn applied(posted: platform_ledger::Posted) -> StoreResult<Credits> {
    match posted {
        platform_ledger::Posted::Applied { balance } => Ok(Credits(balance.get())),
        platform_ledger::Posted::Duplicate => Err(StoreError::Conflict("credit_ledger.idempotency_key".into())),
    }
}

/// Charges for a message inside the send transaction and evaluates to the
/// new balance; the charge also counts towards lifetime spend. Fails with
/// `Insufficient` (the caller rolls back) when it exceeds the balance, and
/// with `NotFound` for an unknown user.
///
/// These are [`CREDITS`]' own two statements, the conditional update and
/// the entry, without the idempotency-key lookup `Book::post_in` makes
/// first: a message's key (`message:<new message id>`) has never been used,
/// and the entries' unique index still refuses a repeat. A paid send stays
/// at two ledger statements; every other posting goes through the book.
#[macro_export]
#[doc(hidden)]
macro_rules! ledger_charge {
    ($tx:expr, $m:expr, $now:expr) => {{
        let m: &$crate::ledger::Movement<'_> = $m;
        let balance: Option<i64> = sqlx::query_scalar(
            "UPDATE real_users SET credits = credits + $2, lifetime_credits_spent = lifetime_credits_spent + $3
             WHERE id = $1 AND credits + $2 >= 0 RETURNING credits")
            .bind(m.user).bind(m.delta.get()).bind(-m.delta.get()).fetch_optional(&mut *$tx).await?;
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

/// Records a movement in its own transaction, once per idempotency key, and
/// tells the user's open pages the new balance.
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
        let posted = CREDITS.post_in(&mut *tx, &m.posting(), now).await?;
        let platform_ledger::Posted::Applied { balance } = posted else {
            return Ok(Posted::Duplicate);
        };
        let balance = Credits(balance.get());
        crate::emit_balance!(tx, m.user, balance, now);
        tx.commit().await?;
        Ok(Posted::Applied { balance })
    })
}

pub async fn balance(db: &Db, user: UserId) -> StoreResult<Credits> {
    Ok(Credits(CREDITS.balance(db, wallet(user)).await?.get()))
}

/// A user's entries, newest first, before an optional `seq` cursor.
pub async fn entries(db: &Db, user: UserId, before: Option<i64>, limit: i64) -> StoreResult<Vec<Entry>> {
    CREDITS
        .entries(db, wallet(user), before, limit)
        .await?
        .into_iter()
        .map(|e| {
            let reason = e.reason.parse().map_err(|_| StoreError::Invalid(format!("unknown ledger reason {:?}", e.reason)))?;
            Ok(Entry {
                seq: e.seq,
                delta: Credits(e.delta.get()),
                balance_after: Credits(e.balance_after.get()),
                reason,
                reference: e.reference,
                created_at: e.created_at,
            })
        })
        .collect()
}
