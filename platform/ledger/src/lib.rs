//! Money ledgers for every product: credits, coins and diamonds, money in
//! minor units per currency with escrow and platform-fee accounts.
//!
//! A wallet holds one [`Unit`]; its balance changes only together with an
//! entry, in the same transaction, and every entry carries a reason, a
//! reference and an idempotency key. The guarantees hold on both stores and
//! under any concurrency:
//!
//! - a repeated idempotency key changes nothing and reports `Duplicate`,
//!   also when the repeats race each other;
//! - a debit never overdraws: it is a conditional update
//!   (`balance + delta >= 0`) backed by a `CHECK` on the column, and fails
//!   with `StoreError::Insufficient`, writing nothing of its posting;
//! - a [`Transfer`] moves amounts of one unit between wallets atomically; its
//!   legs are checked by [`rules`] before the database is touched, and
//!   wallets are locked in id order so transfers cannot deadlock.
//!
//! A [`Book`] says where balances and entries live: this crate's own schema
//! ([`MIGRATIONS`], [`Book::standard`], wallets opened through [`wallets`]),
//! or a product's existing tables of the same shape. [`invariants`] checks
//! that the books balance.
//!
//! Each operation runs in its own write transaction on a [`platform_db::Db`]
//! or, as `*_in`, inside the caller's transaction on either store (`&mut
//! *tx` inside an `on_pool!` body; see [`Conn`]).

mod amount;
mod book;
mod conn;
pub mod invariants;
mod posting;
pub mod rules;
pub mod wallets;

pub use amount::{Amount, AmountError, Unit, UnitError};
pub use book::{Book, Tables};
pub use conn::Conn;
pub use posting::{Entry, Leg, Movement, Posted, Transfer, Transferred};

platform_kernel::id_type!(
    /// A wallet: one owner's balance in one unit.
    WalletId,
    /// One line of a ledger: one wallet's side of a posting.
    EntryId,
    /// A posting over several wallets; its entries share this id.
    TransferId,
    /// Who caused a movement (an admin for an adjustment, a job), when not
    /// the wallet's owner.
    ActorId,
);

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate::Migrator { ignore_missing: true, ..sqlx::migrate!("migrations/sqlite") };
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate::Migrator { ignore_missing: true, ..sqlx::migrate!("migrations/postgres") };

/// The standard ledger schema (`wallets`, `ledger_entries`), versions
/// 120–129 on both stores. It shares the migrations table with the
/// product's own, so it ignores versions it does not know; the product's
/// migrator must do the same for these (or merge both sets into one).
pub static MIGRATIONS: platform_db::Migrations = platform_db::Migrations { sqlite: &SQLITE, postgres: &POSTGRES };
