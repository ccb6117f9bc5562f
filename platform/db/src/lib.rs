//! One data layer over two stores: PostgreSQL in production and an embedded
//! SQLite file as the default, so a product runs on a bare machine.
//!
//! sqlx's SQLite driver accepts `$N` placeholders, so every statement is one
//! SQL text run on either pool through [`on_pool!`], which compiles the body
//! once per backend (fully typed, no `Any` driver). A product brings its own
//! migrations for both stores ([`Migrations`]); this crate knows no table of
//! any product.
//!
//! - [`Db`]: the pool of either store; [`Db::connect`] by URL.
//! - [`BeginWrite`]: write transactions (`BEGIN IMMEDIATE` on SQLite, so a
//!   read-then-write can never interleave).
//! - [`LockKey`]: serialises write transactions on one key (an advisory
//!   lock on PostgreSQL, free under SQLite's write lock).
//! - [`StoreError`]: the one error type of every product's store layer.
//! - [`group_commit`]: many callers' writes in one transaction (a queue,
//!   a few workers, a short window, one-by-one fallback).
//! - [`wakeup`]: a coalesced cross-node "look now" over `LISTEN/NOTIFY`.
//! - `testing` (feature): a fresh, migrated database per test on both stores.

mod db;
mod error;
pub mod group_commit;
#[cfg(feature = "testing")]
pub mod testing;
pub mod wakeup;

pub use db::{url_or_embedded, Backend, BeginWrite, Db, LockKey, Migrations};
pub use error::{StoreError, StoreResult};

/// A SQL list of integers for `col IN (…)`. Integers cannot carry SQL, so
/// inlining them is safe, and one text serves any list length.
pub fn int_list(values: &[i64]) -> String {
    values.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

/// `$first, $first+1, …`: `n` numbered placeholders, for a list of values
/// bound after a statement's first `first - 1` parameters (`col IN (…)`,
/// `VALUES (…)`); both stores take `$N`. Bind the values in the same
/// order. An empty list (`IN ()`) is not SQL: answer it before asking.
///
/// ```
/// assert_eq!(platform_db::placeholders(2, 3), "$2, $3, $4");
/// ```
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// `($first), ($first+1), …`: `n` one-column rows of placeholders, for
/// `WITH v (x) AS (VALUES …) SELECT … FROM v JOIN t ON t.col = v.x`. Use it
/// instead of `col IN (…)` for long lists in prepared statements: once
/// PostgreSQL switches a statement to its generic plan, a bound `IN` list
/// is searched one item after another for every row it filters (6.5 ms for
/// 128 owners against 900 wallets, where the same rows joined to `VALUES`
/// take 0.3 ms), while a `VALUES` list of known length is hashed or probed
/// through an index. Duplicates in the list give duplicate rows.
///
/// ```
/// assert_eq!(platform_db::value_rows(3, 2), "($3), ($4)");
/// ```
pub fn value_rows(first: usize, n: usize) -> String {
    value_tuples(first, 1, n)
}

/// `n` rows of `width` placeholders each, numbered on from `first`, for a
/// `VALUES` list of tuples (`WITH v (a, b) AS (VALUES …)`; see
/// [`value_rows`] for why long lists are joined rather than `IN`).
///
/// ```
/// assert_eq!(platform_db::value_tuples(3, 2, 2), "($3, $4), ($5, $6)");
/// ```
pub fn value_tuples(first: usize, width: usize, n: usize) -> String {
    (0..n).map(|k| format!("({})", placeholders(first + k * width, width))).collect::<Vec<_>>().join(", ")
}

/// Runs `$body` with `$p` bound to the concrete pool of either backend. The
/// body is compiled once per backend, so it can use fully typed sqlx calls.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $p:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite($p) => $body,
            $crate::Db::Postgres($p) => $body,
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_on_from_the_first() {
        assert_eq!(super::placeholders(1, 1), "$1");
        assert_eq!(super::placeholders(3, 2), "$3, $4");
        assert_eq!(super::placeholders(1, 0), "");
    }

    #[test]
    fn value_rows_are_one_placeholder_each() {
        assert_eq!(super::value_rows(1, 1), "($1)");
        assert_eq!(super::value_rows(3, 2), "($3), ($4)");
        assert_eq!(super::value_rows(1, 0), "");
    }

    #[test]
    fn value_tuples_number_row_after_row() {
        assert_eq!(super::value_tuples(1, 3, 2), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::value_tuples(5, 2, 1), "($5, $6)");
        assert_eq!(super::value_tuples(1, 2, 0), "");
    }
}
