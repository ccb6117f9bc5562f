//! The statements of a ledger, on a connection of either store. They are
//! written once and compiled per backend, so the posting logic above them
//! is one generic function that runs inside any caller's transaction.

use crate::wallets::Wallet;
use crate::{ActorId, Amount, Book, Entry, EntryId, TransferId, Unit, WalletId};
use chrono::{DateTime, Utc};
use platform_db::StoreResult;
use std::future::Future;

mod sealed {
    pub trait Sealed {}
}

/// A connection of either store, usually a transaction's: pass `&mut *tx`
/// from inside an `on_pool!` body to the `*_in` operations. Implemented for
/// `SqliteConnection` and `PgConnection` only; its methods are the ledger's
/// single statements, not meant to be called directly.
pub trait Conn: sealed::Sealed + Send {
    #[doc(hidden)]
    fn key_used<'a>(&'a mut self, book: &'a Book, key: &'a str) -> impl Future<Output = StoreResult<bool>> + Send + 'a;
    #[doc(hidden)]
    fn apply<'a>(
        &'a mut self,
        book: &'a Book,
        wallet: WalletId,
        delta: Amount,
        spent: i64,
    ) -> impl Future<Output = StoreResult<Option<(Amount, Option<Unit>)>>> + Send + 'a;
    #[doc(hidden)]
    fn keys_used_many<'a>(&'a mut self, book: &'a Book, keys: &'a [&'a str]) -> impl Future<Output = StoreResult<Vec<String>>> + Send + 'a;
    #[doc(hidden)]
    fn wallet_states<'a>(
        &'a mut self,
        book: &'a Book,
        wallets: &'a [WalletId],
    ) -> impl Future<Output = StoreResult<Vec<(WalletId, Amount, Option<Unit>)>>> + Send + 'a;
    #[doc(hidden)]
    fn apply_many<'a>(
        &'a mut self,
        book: &'a Book,
        deltas: &'a [(WalletId, Amount)],
    ) -> impl Future<Output = StoreResult<Vec<(WalletId, Amount)>>> + Send + 'a;
    #[doc(hidden)]
    fn insert_entries<'a>(&'a mut self, book: &'a Book, es: &'a [NewEntry<'a>]) -> impl Future<Output = StoreResult<()>> + Send + 'a;
    #[doc(hidden)]
    fn wallet_state<'a>(
        &'a mut self,
        book: &'a Book,
        wallet: WalletId,
    ) -> impl Future<Output = StoreResult<Option<(Amount, Option<Unit>)>>> + Send + 'a;
    #[doc(hidden)]
    fn insert_entry<'a>(&'a mut self, book: &'a Book, e: &'a NewEntry<'a>) -> impl Future<Output = StoreResult<()>> + Send + 'a;
    #[doc(hidden)]
    fn balance<'a>(&'a mut self, book: &'a Book, wallet: WalletId) -> impl Future<Output = StoreResult<Option<Amount>>> + Send + 'a;
    #[doc(hidden)]
    fn entries<'a>(
        &'a mut self,
        book: &'a Book,
        wallet: WalletId,
        before: i64,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<Entry>>> + Send + 'a;
    #[doc(hidden)]
    fn open_wallet<'a>(
        &'a mut self,
        owner_kind: &'a str,
        owner_id: &'a str,
        unit: &'a Unit,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<Wallet>> + Send + 'a;
    #[doc(hidden)]
    fn wallet<'a>(&'a mut self, id: WalletId) -> impl Future<Output = StoreResult<Option<Wallet>>> + Send + 'a;
    #[doc(hidden)]
    fn find_wallet<'a>(
        &'a mut self,
        owner_kind: &'a str,
        owner_id: &'a str,
        unit: &'a Unit,
    ) -> impl Future<Output = StoreResult<Option<Wallet>>> + Send + 'a;
}

/// One entry to write.
#[doc(hidden)]
#[derive(Debug)]
pub struct NewEntry<'a> {
    pub id: EntryId,
    pub wallet: WalletId,
    pub unit: Option<&'a Unit>,
    pub delta: Amount,
    pub balance_after: Amount,
    pub reason: &'a str,
    pub reference: Option<&'a str>,
    pub idempotency_key: &'a str,
    pub transfer: Option<TransferId>,
    pub leg: i32,
    pub created_by: Option<ActorId>,
    pub created_at: DateTime<Utc>,
}

/// The most values one statement binds: under SQLite's 32,766 and
/// PostgreSQL's 65,535.
const MAX_BINDS: usize = 32_000;

const WALLET_BY_ID: &str = "SELECT id, owner_kind, owner_id, unit, balance, created_at FROM wallets WHERE id = $1";
const WALLET_BY_OWNER: &str =
    "SELECT id, owner_kind, owner_id, unit, balance, created_at FROM wallets WHERE owner_kind = $1 AND owner_id = $2 AND unit = $3";

/// Binds one entry's columns onto `q`, in the order of the book's entry
/// columns (the unit and transfer columns only where its tables have them).
macro_rules! bind_entry {
    ($q:expr, $book:expr, $e:expr) => {{
        let e = $e;
        let mut q = $q
            .bind(e.id)
            .bind(e.wallet)
            .bind(e.delta)
            .bind(e.balance_after)
            .bind(e.reason)
            .bind(e.reference)
            .bind(e.idempotency_key)
            .bind(e.created_by)
            .bind(e.created_at);
        if $book.tables().entry_unit {
            q = q.bind(e.unit);
        }
        if $book.tables().transfers {
            q = q.bind(e.transfer).bind(e.leg);
        }
        q
    }};
}

macro_rules! conn_impl {
    ($conn:ty, row_locks: $row_locks:expr) => {
        impl sealed::Sealed for $conn {}

        impl Conn for $conn {
            async fn key_used<'a>(&'a mut self, book: &'a Book, key: &'a str) -> StoreResult<bool> {
                let seq: Option<i64> = sqlx::query_scalar(&book.sql.key_used).bind(key).fetch_optional(&mut *self).await?;
                Ok(seq.is_some())
            }

            async fn apply<'a>(
                &'a mut self,
                book: &'a Book,
                wallet: WalletId,
                delta: Amount,
                spent: i64,
            ) -> StoreResult<Option<(Amount, Option<Unit>)>> {
                let q = sqlx::query_as(&book.sql.apply).bind(wallet).bind(delta);
                let q = if book.tables().spent.is_some() { q.bind(spent) } else { q };
                Ok(q.fetch_optional(&mut *self).await?)
            }

            async fn keys_used_many<'a>(&'a mut self, book: &'a Book, keys: &'a [&'a str]) -> StoreResult<Vec<String>> {
                let mut used = Vec::new();
                for chunk in keys.chunks(MAX_BINDS) {
                    let sql = book.keys_used_sql(chunk.len());
                    let mut q = sqlx::query_scalar::<_, String>(&sql);
                    for k in chunk {
                        q = q.bind(*k);
                    }
                    used.extend(q.fetch_all(&mut *self).await?);
                }
                Ok(used)
            }

            async fn wallet_states<'a>(
                &'a mut self,
                book: &'a Book,
                wallets: &'a [WalletId],
            ) -> StoreResult<Vec<(WalletId, Amount, Option<Unit>)>> {
                let mut states = Vec::with_capacity(wallets.len());
                for chunk in wallets.chunks(MAX_BINDS) {
                    let sql = book.states_sql(chunk.len(), $row_locks);
                    let mut q = sqlx::query_as::<_, (WalletId, Amount, Option<Unit>)>(&sql);
                    for w in chunk {
                        q = q.bind(*w);
                    }
                    states.extend(q.fetch_all(&mut *self).await?);
                }
                Ok(states)
            }

            async fn apply_many<'a>(
                &'a mut self,
                book: &'a Book,
                deltas: &'a [(WalletId, Amount)],
            ) -> StoreResult<Vec<(WalletId, Amount)>> {
                let mut applied = Vec::with_capacity(deltas.len());
                for chunk in deltas.chunks(MAX_BINDS / 2) {
                    let sql = book.apply_many_sql(chunk.len());
                    let mut q = sqlx::query_as::<_, (WalletId, Amount)>(&sql);
                    for (w, d) in chunk {
                        q = q.bind(*w).bind(*d);
                    }
                    applied.extend(q.fetch_all(&mut *self).await?);
                }
                Ok(applied)
            }

            async fn insert_entries<'a>(&'a mut self, book: &'a Book, es: &'a [NewEntry<'a>]) -> StoreResult<()> {
                for chunk in es.chunks(MAX_BINDS / book.entry_columns()) {
                    let sql = book.insert_entries_sql(chunk.len());
                    let mut q = sqlx::query(&sql);
                    for e in chunk {
                        q = bind_entry!(q, book, e);
                    }
                    q.execute(&mut *self).await?;
                }
                Ok(())
            }

            async fn wallet_state<'a>(&'a mut self, book: &'a Book, wallet: WalletId) -> StoreResult<Option<(Amount, Option<Unit>)>> {
                Ok(sqlx::query_as(&book.sql.wallet_state).bind(wallet).fetch_optional(&mut *self).await?)
            }

            async fn insert_entry<'a>(&'a mut self, book: &'a Book, e: &'a NewEntry<'a>) -> StoreResult<()> {
                bind_entry!(sqlx::query(&book.sql.insert_entry), book, e).execute(&mut *self).await?;
                Ok(())
            }

            async fn balance<'a>(&'a mut self, book: &'a Book, wallet: WalletId) -> StoreResult<Option<Amount>> {
                Ok(sqlx::query_scalar(&book.sql.balance).bind(wallet).fetch_optional(&mut *self).await?)
            }

            async fn entries<'a>(&'a mut self, book: &'a Book, wallet: WalletId, before: i64, limit: i64) -> StoreResult<Vec<Entry>> {
                Ok(sqlx::query_as(&book.sql.entries).bind(wallet).bind(before).bind(limit).fetch_all(&mut *self).await?)
            }

            async fn open_wallet<'a>(
                &'a mut self,
                owner_kind: &'a str,
                owner_id: &'a str,
                unit: &'a Unit,
                now: DateTime<Utc>,
            ) -> StoreResult<Wallet> {
                sqlx::query(
                    "INSERT INTO wallets (id, owner_kind, owner_id, unit, balance, created_at) VALUES ($1, $2, $3, $4, 0, $5)
                     ON CONFLICT (owner_kind, owner_id, unit) DO NOTHING",
                )
                .bind(WalletId::new())
                .bind(owner_kind)
                .bind(owner_id)
                .bind(unit)
                .bind(now)
                .execute(&mut *self)
                .await?;
                self.find_wallet(owner_kind, owner_id, unit).await?.ok_or(platform_db::StoreError::NotFound)
            }

            async fn wallet(&mut self, id: WalletId) -> StoreResult<Option<Wallet>> {
                Ok(sqlx::query_as(WALLET_BY_ID).bind(id).fetch_optional(&mut *self).await?)
            }

            async fn find_wallet<'a>(&'a mut self, owner_kind: &'a str, owner_id: &'a str, unit: &'a Unit) -> StoreResult<Option<Wallet>> {
                Ok(sqlx::query_as(WALLET_BY_OWNER).bind(owner_kind).bind(owner_id).bind(unit).fetch_optional(&mut *self).await?)
            }
        }
    };
}

// SQLite runs one writing transaction at a time (the platform begins them
// `IMMEDIATE`), so it has no row locks to order; PostgreSQL locks rows.
conn_impl!(sqlx::SqliteConnection, row_locks: false);
conn_impl!(sqlx::PgConnection, row_locks: true);
