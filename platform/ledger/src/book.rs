//! Where a ledger's balances and entries live. A [`Book`] names the tables
//! and columns and holds every SQL text built over them, once, so the same
//! code posts to the schema this crate ships ([`Tables::STANDARD`]) and to a
//! product's own tables of the same shape.

use crate::invariants::Check;
use crate::Amount;

/// The tables and columns of a ledger. Every name is a fixed identifier
/// from code, never input; [`Book::new`] refuses anything else.
///
/// The wallet table holds one row per wallet with its balance (a
/// non-negative integer column). The entries table has, besides the wallet
/// column named here, the columns `seq` (ascending integer key), `id`,
/// `delta`, `balance_after`, `reason`, `reference`, `idempotency_key`
/// (unique, or unique with `leg`), `created_by` and `created_at`.
///
/// A product that keeps one unit of credit on its own users table, with
/// entries in a table of its own, describes them once:
///
/// ```
/// use platform_ledger::{Book, Tables};
/// use std::sync::LazyLock;
///
/// static CREDITS: LazyLock<Book> = LazyLock::new(|| {
///     Book::new(Tables {
///         wallets: "users",
///         wallet_id: "id",
///         balance: "credits",
///         wallet_unit: None,
///         spent: Some("credits_spent"),
///         entries: "credit_entries",
///         entry_wallet: "user_id",
///         entry_unit: false,
///         transfers: false,
///     })
/// });
/// assert_eq!(CREDITS.checks().len(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tables {
    /// The table of wallets.
    pub wallets: &'static str,
    /// Its key.
    pub wallet_id: &'static str,
    /// Its balance column.
    pub balance: &'static str,
    /// Its unit column; `None` when every wallet holds the one unit of the
    /// book (transfer legs are then not checked against the wallets).
    pub wallet_unit: Option<&'static str>,
    /// A column of the wallet table that spending debits increase by the
    /// amount debited (a lifetime spend), if the product keeps one.
    pub spent: Option<&'static str>,
    /// The table of entries.
    pub entries: &'static str,
    /// Its column naming the wallet.
    pub entry_wallet: &'static str,
    /// Whether entries carry a `unit` column (needs `wallet_unit`).
    pub entry_unit: bool,
    /// Whether entries carry `transfer_id` and `leg` columns; without them
    /// the book records single movements only.
    pub transfers: bool,
}

impl Tables {
    /// The schema of this crate's migrations: `wallets` and `ledger_entries`.
    pub const STANDARD: Tables = Tables {
        wallets: "wallets",
        wallet_id: "id",
        balance: "balance",
        wallet_unit: Some("unit"),
        spent: None,
        entries: "ledger_entries",
        entry_wallet: "wallet_id",
        entry_unit: true,
        transfers: true,
    };
}

/// The SQL texts of one book, built once.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    pub key_used: String,
    pub apply: String,
    pub wallet_state: String,
    pub insert_entry: String,
    pub insert_head: String,
    pub balance: String,
    pub entries: String,
}

/// A ledger over a set of [`Tables`]: build it once (a `static` behind a
/// `LazyLock`) and post through it.
#[derive(Debug, Clone)]
pub struct Book {
    tables: Tables,
    pub(crate) sql: Sql,
}

/// A plain SQL identifier: lowercase ASCII letters, digits and underscores,
/// not starting with a digit.
fn identifier(name: &'static str) -> &'static str {
    let ok = name.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    assert!(ok, "ledger table and column names are plain identifiers, not {name:?}");
    name
}

impl Book {
    /// The book over `tables`. Panics when a name is not a plain identifier
    /// or entries carry a unit that wallets do not: both are mistakes in code.
    pub fn new(tables: Tables) -> Book {
        let Tables { wallets, wallet_id, balance, wallet_unit, spent, entries, entry_wallet, entry_unit, transfers } = tables;
        for name in [wallets, wallet_id, balance, entries, entry_wallet].into_iter().chain(wallet_unit).chain(spent) {
            identifier(name);
        }
        assert!(!entry_unit || wallet_unit.is_some(), "entries can carry a unit only when wallets do");
        let unit_of_wallet = wallet_unit.map_or("CAST(NULL AS TEXT)".to_string(), |u| u.to_string());
        let spend = spent.map_or(String::new(), |s| format!(", {s} = {s} + $3"));
        let max = Amount::MAX_BALANCE;
        let mut columns = format!("id, {entry_wallet}, delta, balance_after, reason, reference, idempotency_key, created_by, created_at");
        if entry_unit {
            columns.push_str(", unit");
        }
        if transfers {
            columns.push_str(", transfer_id, leg");
        }
        let placeholders = platform_db::placeholders(1, columns.split(", ").count());
        let entry_unit_col = if entry_unit { "unit" } else { "CAST(NULL AS TEXT)" };
        let transfer_col = if transfers { "transfer_id" } else { "CAST(NULL AS TEXT)" };
        let sql = Sql {
            key_used: format!("SELECT seq FROM {entries} WHERE idempotency_key = $1 LIMIT 1"),
            apply: format!(
                "UPDATE {wallets} SET {balance} = {balance} + $2{spend}
                 WHERE {wallet_id} = $1 AND {balance} + $2 >= 0 AND {balance} + $2 <= {max}
                 RETURNING {balance}, {unit_of_wallet}"
            ),
            wallet_state: format!("SELECT {balance}, {unit_of_wallet} FROM {wallets} WHERE {wallet_id} = $1"),
            insert_entry: format!("INSERT INTO {entries} ({columns}) VALUES ({placeholders})"),
            insert_head: format!("INSERT INTO {entries} ({columns})"),
            balance: format!("SELECT {balance} FROM {wallets} WHERE {wallet_id} = $1"),
            entries: format!(
                "SELECT seq, id, {entry_wallet} AS wallet, {entry_unit_col} AS unit, delta, balance_after, reason, reference,
                        idempotency_key, {transfer_col} AS transfer_id, created_by, created_at
                 FROM {entries} WHERE {entry_wallet} = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
            ),
        };
        Book { tables, sql }
    }

    /// The wallet column naming its unit, or a typed NULL.
    fn unit_of_wallet(&self) -> &'static str {
        self.tables.wallet_unit.unwrap_or("CAST(NULL AS TEXT)")
    }

    /// The id, balance and unit of `n` wallets, listed as `$1..$n`, in id
    /// order; with `lock`, also locks them in that order (PostgreSQL only:
    /// it takes the row locks of `FOR UPDATE` as the sorted rows come out).
    pub(crate) fn states_sql(&self, n: usize, lock: bool) -> String {
        let Tables { wallets, wallet_id, balance, .. } = self.tables;
        let unit = self.unit_of_wallet();
        let lock = if lock { " FOR UPDATE" } else { "" };
        format!(
            "SELECT {wallet_id}, {balance}, {unit} FROM {wallets} WHERE {wallet_id} IN ({}) ORDER BY {wallet_id}{lock}",
            platform_db::placeholders(1, n)
        )
    }

    /// Which of `n` idempotency keys, listed as `$1..$n`, are used. With
    /// transfers every posting has a leg 0, so each key is one probe of the
    /// unique index on (key, leg): the planner knows each finds at most one
    /// row, where a key alone was estimated from the table's statistics
    /// and a fresh or fast-growing table was scanned whole.
    pub(crate) fn keys_used_sql(&self, n: usize) -> String {
        let entries = self.tables.entries;
        let list = platform_db::placeholders(1, n);
        if self.tables.transfers {
            format!("SELECT idempotency_key FROM {entries} WHERE leg = 0 AND idempotency_key IN ({list})")
        } else {
            format!("SELECT DISTINCT idempotency_key FROM {entries} WHERE idempotency_key IN ({list})")
        }
    }

    /// Adds a delta to each of `n` wallets, bound as pairs `$1, $2` (wallet,
    /// delta), `$3, $4`, …, guarded as one movement is; returns each updated
    /// wallet's id and new balance.
    pub(crate) fn apply_many_sql(&self, n: usize) -> String {
        let Tables { wallets, wallet_id, balance, .. } = self.tables;
        let max = Amount::MAX_BALANCE;
        let rows = platform_db::value_tuples(1, 2, n);
        format!(
            "WITH moved (wallet, delta) AS (VALUES {rows})
             UPDATE {wallets} SET {balance} = {balance} + moved.delta FROM moved
             WHERE {wallets}.{wallet_id} = moved.wallet AND {balance} + moved.delta >= 0 AND {balance} + moved.delta <= {max}
             RETURNING {wallets}.{wallet_id}, {wallets}.{balance}"
        )
    }

    /// Writes `n` entries in one statement, each bound as
    /// [`Book::entry_columns`] values in the order of the single insert.
    pub(crate) fn insert_entries_sql(&self, n: usize) -> String {
        let per = self.entry_columns();
        let rows = (0..n).map(|i| format!("({})", platform_db::placeholders(i * per + 1, per))).collect::<Vec<_>>().join(", ");
        format!("{} VALUES {rows}", self.sql.insert_head)
    }

    /// How many values one entry binds.
    pub(crate) fn entry_columns(&self) -> usize {
        9 + usize::from(self.tables.entry_unit) + 2 * usize::from(self.tables.transfers)
    }

    /// The book over this crate's own schema ([`crate::MIGRATIONS`]).
    pub fn standard() -> &'static Book {
        static STANDARD: std::sync::LazyLock<Book> = std::sync::LazyLock::new(|| Book::new(Tables::STANDARD));
        &STANDARD
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// Rule: a wallet's balance equals the sum of its entries.
    pub const BALANCE_IS_SUM_OF_ENTRIES: &'static str = "a wallet's balance equals the sum of its entries";
    /// Rule: no wallet holds less than nothing.
    pub const NO_NEGATIVE_BALANCE: &'static str = "no balance is negative";
    /// Rule: each entry's balance_after is the previous one's plus its delta.
    pub const ENTRIES_FOLLOW_ON: &'static str = "each entry's balance_after follows the previous one in its wallet";
    /// Rule: a transfer moves value, never makes or destroys it.
    pub const TRANSFERS_BALANCE: &'static str = "every transfer's legs sum to zero per unit";
    /// Rule: an entry is in its wallet's unit.
    pub const ENTRY_UNIT_IS_WALLET_UNIT: &'static str = "every entry is in its wallet's unit";

    /// The ledger's own invariant checks over this book's tables. A product
    /// appends its own and runs them all with [`crate::invariants::run`].
    pub fn checks(&self) -> Vec<Check> {
        let Tables { wallets, wallet_id, balance, wallet_unit, entries, entry_wallet, entry_unit, transfers, .. } = self.tables;
        let mut checks = vec![
            Check::owned(
                Self::BALANCE_IS_SUM_OF_ENTRIES,
                format!(
                    "SELECT CAST(w.{wallet_id} AS TEXT) || ': balance ' || CAST(w.{balance} AS TEXT) || ' vs entries ' || CAST(COALESCE(e.total, 0) AS TEXT)
                     FROM {wallets} w
                     LEFT JOIN (SELECT {entry_wallet} AS wallet, CAST(SUM(delta) AS BIGINT) AS total FROM {entries} GROUP BY {entry_wallet}) e
                       ON e.wallet = w.{wallet_id}
                     WHERE w.{balance} <> COALESCE(e.total, 0)"
                ),
            ),
            Check::owned(
                Self::NO_NEGATIVE_BALANCE,
                format!("SELECT CAST({wallet_id} AS TEXT) || ': ' || CAST({balance} AS TEXT) FROM {wallets} WHERE {balance} < 0"),
            ),
            Check::owned(
                Self::ENTRIES_FOLLOW_ON,
                format!(
                    "SELECT CAST(id AS TEXT) || ': balance_after ' || CAST(balance_after AS TEXT) || ' after ' || CAST(COALESCE(prev, 0) AS TEXT)
                            || ' and delta ' || CAST(delta AS TEXT)
                     FROM (SELECT id, delta, balance_after, LAG(balance_after) OVER (PARTITION BY {entry_wallet} ORDER BY seq) AS prev
                           FROM {entries}) x
                     WHERE balance_after <> COALESCE(prev, 0) + delta"
                ),
            ),
        ];
        if transfers {
            let (unit, group) = if entry_unit { ("' ' || unit || ", ", unit") } else { ("", "") };
            checks.push(Check::owned(
                Self::TRANSFERS_BALANCE,
                format!(
                    "SELECT CAST(transfer_id AS TEXT) || {unit}' sums to ' || CAST(SUM(delta) AS TEXT)
                     FROM {entries} WHERE transfer_id IS NOT NULL GROUP BY transfer_id{group} HAVING SUM(delta) <> 0"
                ),
            ));
        }
        if let (true, Some(wu)) = (entry_unit, wallet_unit) {
            checks.push(Check::owned(
                Self::ENTRY_UNIT_IS_WALLET_UNIT,
                format!(
                    "SELECT CAST(e.id AS TEXT) || ': ' || e.unit || ' in a ' || w.{wu} || ' wallet'
                     FROM {entries} e JOIN {wallets} w ON w.{wallet_id} = e.{entry_wallet} WHERE e.unit <> w.{wu}"
                ),
            ));
        }
        checks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_plain_identifiers() {
        for bad in ["", "Wallets", "wallets; DROP TABLE x", "1wallets", "wal-lets", "\"wallets\""] {
            let r = std::panic::catch_unwind(|| Book::new(Tables { wallets: bad, ..Tables::STANDARD }));
            assert!(r.is_err(), "{bad:?} accepted");
        }
        Book::new(Tables { wallets: "_wallets_2", ..Tables::STANDARD });
    }

    #[test]
    fn entries_carry_a_unit_only_when_wallets_do() {
        let r = std::panic::catch_unwind(|| Book::new(Tables { wallet_unit: None, ..Tables::STANDARD }));
        assert!(r.is_err());
        Book::new(Tables { wallet_unit: None, entry_unit: false, ..Tables::STANDARD });
    }

    #[test]
    fn the_sql_follows_the_tables() {
        let b = Book::standard();
        assert_eq!(
            b.sql.insert_entry,
            "INSERT INTO ledger_entries (id, wallet_id, delta, balance_after, reason, reference, idempotency_key, created_by, created_at, unit, \
             transfer_id, leg) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        );
        assert!(!b.sql.apply.contains("$3"));
        let spending = Book::new(Tables { spent: Some("lifetime_spent"), transfers: false, entry_unit: false, ..Tables::STANDARD });
        assert!(spending.sql.apply.contains("lifetime_spent = lifetime_spent + $3"));
        assert!(spending.sql.insert_entry.ends_with("VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"));
        assert!(b.insert_entries_sql(2).ends_with(
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12), ($13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)"
        ));
        assert_eq!(spending.entry_columns(), 9);
        assert!(spending
            .insert_entries_sql(2)
            .ends_with("VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9), ($10, $11, $12, $13, $14, $15, $16, $17, $18)"));
        assert!(b.apply_many_sql(2).starts_with("WITH moved (wallet, delta) AS (VALUES ($1, $2), ($3, $4))"));
        assert!(b.states_sql(2, true).ends_with("IN ($1, $2) ORDER BY id FOR UPDATE"));
        assert!(b.states_sql(2, false).ends_with("IN ($1, $2) ORDER BY id"));
        assert_eq!(b.checks().len(), 5);
        assert_eq!(spending.checks().len(), 3);
    }
}
