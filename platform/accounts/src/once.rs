//! Single-use tokens: password-reset links, address-verification links,
//! reset codes staff hand out. A token is 256 random bits shown once; the
//! store keeps only its SHA-256 ([`crate::hash_token`]), so a leaked table
//! opens nothing. A token works once, before it expires, for the purposes
//! its redeemer names; of two simultaneous redemptions exactly one wins.
//!
//! The writes run inside the caller's transaction (pass `&mut *tx` from an
//! `on_pool!` body), so what a token does — set a password, verify an
//! address, sign the account out — commits with its use or not at all.
//!
//! ```no_run
//! # async fn demo(db: &platform_db::Db, account: uuid::Uuid) -> platform_db::StoreResult<()> {
//! use chrono::{Duration, Utc};
//! use platform_accounts::once::{self, OneTime};
//! use platform_db::{on_pool, BeginWrite};
//!
//! let now = Utc::now();
//! let token = on_pool!(db, p => {
//!     let mut tx = p.begin_write().await?;
//!     once::withdraw_in(&mut *tx, &["reset_password"], &account, now).await?;
//!     let spec = OneTime { purpose: "reset_password", account, detail: Some("a@example.com"), issued_by: None, ttl: Duration::hours(1) };
//!     let token = once::issue_in(&mut *tx, &spec, now).await?;
//!     tx.commit().await?;
//!     token
//! });
//! let used = on_pool!(db, p => {
//!     let mut tx = p.begin_write().await?;
//!     let used = once::redeem_in::<_, uuid::Uuid>(&mut *tx, &token, &["reset_password"], now).await?;
//!     tx.commit().await?;
//!     used
//! });
//! assert!(used.is_some());
//! # Ok(()) }
//! ```

use crate::{hash_token, random_token, Column};
use chrono::{DateTime, Duration, Utc};
use platform_db::{on_pool, Db, StoreResult};
use std::future::Future;

/// A token to issue: what it is for, for whom, and for how long.
#[derive(Debug, Clone)]
pub struct OneTime<'a, I> {
    /// The product's name for what the token does (`"reset_password"`).
    pub purpose: &'a str,
    pub account: I,
    /// What it was issued about, e.g. the address a link was mailed to.
    pub detail: Option<&'a str>,
    /// The staff member who issued it, if one did.
    pub issued_by: Option<I>,
    pub ttl: Duration,
}

/// A token that was just used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeemed<I> {
    pub account: I,
    pub purpose: String,
    pub detail: Option<String>,
}

mod sealed {
    pub trait Sealed {}
}

/// A connection of either store (a transaction's, as `&mut *tx`).
/// Implemented for `SqliteConnection` and `PgConnection` only; its methods
/// are this module's single statements, not meant to be called directly.
pub trait Conn: sealed::Sealed + Send {
    #[doc(hidden)]
    fn insert<'a, I: Column>(
        &'a mut self,
        hash: String,
        t: &'a OneTime<'a, I>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<()>> + Send + 'a;
    #[doc(hidden)]
    fn count_since<'a, I: Column>(
        &'a mut self,
        purpose: &'a str,
        account: &'a I,
        since: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<i64>> + Send + 'a;
    #[doc(hidden)]
    fn withdraw<'a, I: Column>(
        &'a mut self,
        purposes: &'a [&'a str],
        account: &'a I,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<u64>> + Send + 'a;
    #[doc(hidden)]
    fn redeem<'a, I: Column>(
        &'a mut self,
        hash: String,
        purposes: &'a [&'a str],
        now: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<Option<(I, String, Option<String>)>>> + Send + 'a;
    #[doc(hidden)]
    fn forget<'a, I: Column>(&'a mut self, account: &'a I) -> impl Future<Output = StoreResult<u64>> + Send + 'a;
}

const INSERT: &str = "INSERT INTO one_time_tokens (token_hash, purpose, account_id, detail, issued_by, created_at, expires_at)
                      VALUES ($1, $2, $3, $4, $5, $6, $7)";
const COUNT_SINCE: &str = "SELECT COUNT(*) FROM one_time_tokens WHERE account_id = $1 AND purpose = $2 AND created_at > $3";
const FORGET: &str = "DELETE FROM one_time_tokens WHERE account_id = $1";
const USABLE: &str = "SELECT COUNT(*) FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3";
const PURGE: &str = "DELETE FROM one_time_tokens WHERE expires_at < $1";

/// `$3, $4, …`: one placeholder per purpose after the statement's first two.
fn purpose_marks(n: usize) -> String {
    platform_db::placeholders(3, n)
}

/// `UPDATE … RETURNING` for a token of any of `n` purposes.
fn redeem_sql(n: usize) -> String {
    format!(
        "UPDATE one_time_tokens SET used_at = $2
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 AND purpose IN ({})
         RETURNING account_id, purpose, detail",
        purpose_marks(n)
    )
}

/// Ends an account's unused tokens of any of `n` purposes.
fn withdraw_sql(n: usize) -> String {
    format!("UPDATE one_time_tokens SET used_at = $2 WHERE account_id = $1 AND used_at IS NULL AND purpose IN ({})", purpose_marks(n))
}

macro_rules! conn_impl {
    ($conn:ty) => {
        impl sealed::Sealed for $conn {}

        impl Conn for $conn {
            async fn insert<'a, I: Column>(&'a mut self, hash: String, t: &'a OneTime<'a, I>, now: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query(INSERT)
                    .bind(hash)
                    .bind(t.purpose)
                    .bind(t.account.clone())
                    .bind(t.detail)
                    .bind(t.issued_by.clone())
                    .bind(now)
                    .bind(now + t.ttl)
                    .execute(&mut *self)
                    .await?;
                Ok(())
            }

            async fn count_since<'a, I: Column>(&'a mut self, purpose: &'a str, account: &'a I, since: DateTime<Utc>) -> StoreResult<i64> {
                Ok(sqlx::query_scalar(COUNT_SINCE).bind(account.clone()).bind(purpose).bind(since).fetch_one(&mut *self).await?)
            }

            async fn withdraw<'a, I: Column>(
                &'a mut self,
                purposes: &'a [&'a str],
                account: &'a I,
                now: DateTime<Utc>,
            ) -> StoreResult<u64> {
                let sql = withdraw_sql(purposes.len());
                let mut q = sqlx::query(&sql).bind(account.clone()).bind(now);
                for p in purposes {
                    q = q.bind(*p);
                }
                Ok(q.execute(&mut *self).await?.rows_affected())
            }

            async fn redeem<'a, I: Column>(
                &'a mut self,
                hash: String,
                purposes: &'a [&'a str],
                now: DateTime<Utc>,
            ) -> StoreResult<Option<(I, String, Option<String>)>> {
                let sql = redeem_sql(purposes.len());
                let mut q = sqlx::query_as(&sql).bind(hash).bind(now);
                for p in purposes {
                    q = q.bind(*p);
                }
                Ok(q.fetch_optional(&mut *self).await?)
            }

            async fn forget<'a, I: Column>(&'a mut self, account: &'a I) -> StoreResult<u64> {
                Ok(sqlx::query(FORGET).bind(account.clone()).execute(&mut *self).await?.rows_affected())
            }
        }
    };
}

conn_impl!(sqlx::SqliteConnection);
conn_impl!(sqlx::PgConnection);

/// Issues a token and returns it (the only time it is seen in clear).
pub async fn issue_in<C: Conn, I: Column>(conn: &mut C, t: &OneTime<'_, I>, now: DateTime<Utc>) -> StoreResult<String> {
    let token = random_token();
    conn.insert(hash_token(&token), t, now).await?;
    Ok(token)
}

/// How many tokens of `purpose` were issued for `account` after `since`,
/// used or not: the count a "so many an hour" limit reads. Take a lock on
/// the account's own row first when two requests may race.
pub async fn issued_since_in<C: Conn, I: Column>(conn: &mut C, purpose: &str, account: &I, since: DateTime<Utc>) -> StoreResult<i64> {
    conn.count_since(purpose, account, since).await
}

/// Ends every unused token of `purposes` for `account`, in one statement
/// (a new link replaces the earlier ones; an address change voids its
/// pending links).
pub async fn withdraw_in<C: Conn, I: Column>(conn: &mut C, purposes: &[&str], account: &I, now: DateTime<Utc>) -> StoreResult<u64> {
    if purposes.is_empty() {
        return Ok(0);
    }
    conn.withdraw(purposes, account, now).await
}

/// Uses a token of one of `purposes`: `None` when it is unknown, used,
/// expired or of another purpose (one answer for all, so nothing leaks).
pub async fn redeem_in<C: Conn, I: Column>(
    conn: &mut C,
    token: &str,
    purposes: &[&str],
    now: DateTime<Utc>,
) -> StoreResult<Option<Redeemed<I>>> {
    if purposes.is_empty() {
        return Ok(None);
    }
    let row = conn.redeem::<I>(hash_token(token), purposes, now).await?;
    Ok(row.map(|(account, purpose, detail)| Redeemed { account, purpose, detail }))
}

/// Deletes every token of an account (the account itself is being erased).
pub async fn forget_in<C: Conn, I: Column>(conn: &mut C, account: &I) -> StoreResult<u64> {
    conn.forget(account).await
}

/// Whether a token would still work, without using it (to show its form
/// or say plainly that the link expired).
pub async fn usable(db: &Db, token: &str, purpose: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    let n: i64 = on_pool!(db, p => sqlx::query_scalar(USABLE).bind(hash_token(token)).bind(purpose).bind(now).fetch_one(p).await?);
    Ok(n > 0)
}

/// Deletes tokens that expired before `before` (a housekeeping job).
pub async fn purge(db: &Db, before: DateTime<Utc>) -> StoreResult<u64> {
    Ok(on_pool!(db, p => sqlx::query(PURGE).bind(before).execute(p).await?.rows_affected()))
}

#[cfg(test)]
mod tests {
    use super::{redeem_sql, withdraw_sql};

    #[test]
    fn one_placeholder_per_purpose_after_the_first_two() {
        assert!(redeem_sql(1).contains("purpose IN ($3)"));
        assert!(redeem_sql(3).contains("purpose IN ($3, $4, $5)"));
        assert!(withdraw_sql(2).contains("purpose IN ($3, $4)"));
    }
}
