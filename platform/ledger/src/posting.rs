//! Posting to a book: single-wallet movements, multi-wallet transfers,
//! balances and history.

use crate::conn::{Conn, NewEntry};
use crate::rules;
use crate::{ActorId, Amount, Book, EntryId, TransferId, Unit, WalletId};
use chrono::{DateTime, Utc};
use platform_db::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// One credit (positive `delta`) or debit (negative) of one wallet.
#[derive(Debug, Clone)]
pub struct Movement<'a> {
    pub wallet: WalletId,
    pub delta: Amount,
    /// Why, in the product's words (`purchase`, `message_charge`, …).
    pub reason: &'a str,
    /// What it is about (an order, a message), if anything.
    pub reference: Option<&'a str>,
    /// Unique per posting: a retry with the same key changes nothing.
    pub idempotency_key: &'a str,
    /// Who caused it, when not the wallet's owner.
    pub created_by: Option<ActorId>,
    /// A debit for something bought: also added to the book's `spent`
    /// column, if it has one.
    pub spending: bool,
}

/// One wallet's side of a transfer, in the unit the caller means to move;
/// the wallet must hold that unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    pub wallet: WalletId,
    pub unit: Unit,
    pub delta: Amount,
}

/// Amounts of one unit moved between wallets at once, as one posting under
/// one idempotency key: buyer → escrow, or escrow → seller plus escrow →
/// platform fee. The legs sum to zero.
#[derive(Debug, Clone)]
pub struct Transfer<'a> {
    pub legs: Vec<Leg>,
    pub reason: &'a str,
    pub reference: Option<&'a str>,
    pub idempotency_key: &'a str,
    pub created_by: Option<ActorId>,
}

/// What a movement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    Applied {
        /// The wallet's balance after it.
        balance: Amount,
    },
    /// The idempotency key was already used; nothing changed.
    Duplicate,
}

/// What a transfer did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transferred {
    Applied {
        id: TransferId,
        /// Each leg's wallet and its balance after, in the order of the legs.
        balances: Vec<(WalletId, Amount)>,
    },
    /// The idempotency key was already used; nothing changed.
    Duplicate,
}

/// One line of a wallet's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Entry {
    /// Ascending per book; the cursor for [`Book::entries`].
    pub seq: i64,
    pub id: EntryId,
    pub wallet: WalletId,
    /// `None` in a book whose entries carry no unit.
    pub unit: Option<Unit>,
    pub delta: Amount,
    pub balance_after: Amount,
    pub reason: String,
    pub reference: Option<String>,
    pub idempotency_key: String,
    pub transfer_id: Option<TransferId>,
    pub created_by: Option<ActorId>,
    pub created_at: DateTime<Utc>,
}

/// What a batch of transfers writes, worked out from its wallets' balances
/// before it: the same outcomes, entries and balances after as posting the
/// transfers one by one, each leg applied in wallet id order.
#[derive(Debug)]
struct Plan<'a> {
    done: Vec<Transferred>,
    entries: Vec<NewEntry<'a>>,
    /// Each changed wallet's net delta over the batch, in id order.
    deltas: Vec<(WalletId, Amount)>,
    /// Each changed wallet's balance after the batch.
    finals: Vec<(WalletId, Amount)>,
}

/// The entries of transfer `id`: one per leg, in leg order, each with the
/// balance its wallet has after it (`after`, by leg).
fn transfer_entries<'a, 'b>(
    t: &'a Transfer<'a>,
    id: TransferId,
    after: &'b [Amount],
    now: DateTime<Utc>,
) -> impl Iterator<Item = NewEntry<'a>> + 'b
where
    'a: 'b,
{
    t.legs.iter().zip(after).enumerate().map(move |(i, (leg, balance_after))| NewEntry {
        id: EntryId::new(),
        wallet: leg.wallet,
        unit: Some(&leg.unit),
        delta: leg.delta,
        balance_after: *balance_after,
        reason: t.reason,
        reference: t.reference,
        idempotency_key: t.idempotency_key,
        transfer: Some(id),
        leg: i as i32,
        created_by: t.created_by,
        created_at: now,
    })
}

/// Plans `ts` over `states` (each wallet's id, balance and unit) given the
/// idempotency keys already `used`: a used key, or one an earlier transfer
/// of the batch takes, is `Duplicate`. Fails as the first failing leg of the
/// one-by-one posting would: `NotFound`, `Insufficient` with that leg's
/// debit and the balance before it, or `Refused`.
fn plan_transfers<'a>(
    ts: &'a [Transfer<'a>],
    states: Vec<(WalletId, Amount, Option<Unit>)>,
    used: HashSet<&str>,
    now: DateTime<Utc>,
) -> StoreResult<Plan<'a>> {
    let mut balances: HashMap<WalletId, (i64, Option<Unit>)> = states.into_iter().map(|(w, b, u)| (w, (b.get(), u))).collect();
    let mut taken: HashSet<&str> = HashSet::with_capacity(ts.len());
    let mut net: BTreeMap<WalletId, i64> = BTreeMap::new();
    let mut done = Vec::with_capacity(ts.len());
    let mut entries = Vec::new();
    for t in ts {
        if used.contains(t.idempotency_key) || !taken.insert(t.idempotency_key) {
            done.push(Transferred::Duplicate);
            continue;
        }
        let mut order: Vec<usize> = (0..t.legs.len()).collect();
        order.sort_by_key(|&i| t.legs[i].wallet);
        let mut after = vec![Amount::ZERO; t.legs.len()];
        for i in order {
            let leg = &t.legs[i];
            let (balance, held) = balances.get_mut(&leg.wallet).ok_or(StoreError::NotFound)?;
            let next = i128::from(*balance) + i128::from(leg.delta.get());
            if next < 0 {
                return Err(StoreError::Insufficient { required: -leg.delta.get(), available: *balance });
            }
            if next > i128::from(Amount::MAX_BALANCE) {
                return Err(StoreError::Refused { field: "amount", message: format!("a balance is at most {}", Amount::MAX_BALANCE) });
            }
            if let Some(held) = held.as_ref().filter(|h| **h != leg.unit) {
                let message = format!("wallet {} holds {held}, not {}", leg.wallet, leg.unit);
                return Err(StoreError::Refused { field: "unit", message });
            }
            // Within 0..=MAX_BALANCE, so it fits.
            *balance = next as i64;
            after[i] = Amount(*balance);
            *net.entry(leg.wallet).or_default() += leg.delta.get();
        }
        let id = TransferId::new();
        entries.extend(transfer_entries(t, id, &after, now));
        done.push(Transferred::Applied { id, balances: t.legs.iter().zip(after).map(|(l, b)| (l.wallet, b)).collect() });
    }
    let deltas: Vec<(WalletId, Amount)> = net.into_iter().filter(|(_, d)| *d != 0).map(|(w, d)| (w, Amount(d))).collect();
    let finals = deltas.iter().map(|(w, _)| (*w, Amount(balances.get(w).map_or(0, |(b, _)| *b)))).collect();
    Ok(Plan { done, entries, deltas, finals })
}

impl Book {
    /// Applies one wallet's side of a posting and returns its new balance
    /// and unit; fails with `NotFound`, `Insufficient`, or `Refused` when
    /// the balance would pass [`Amount::MAX_BALANCE`].
    async fn apply<C: Conn>(&self, conn: &mut C, wallet: WalletId, delta: Amount, spent: i64) -> StoreResult<(Amount, Option<Unit>)> {
        if let Some(applied) = conn.apply(self, wallet, delta, spent).await? {
            return Ok(applied);
        }
        match conn.wallet_state(self, wallet).await? {
            None => Err(StoreError::NotFound),
            Some((available, _)) if available.get() + delta.get() < 0 => {
                Err(StoreError::Insufficient { required: -delta.get(), available: available.get() })
            }
            Some(_) => Err(StoreError::Refused { field: "amount", message: format!("a balance is at most {}", Amount::MAX_BALANCE) }),
        }
    }

    /// Records a movement inside the caller's transaction. On any error the
    /// caller rolls back: part of the posting may have been written.
    pub async fn post_in<C: Conn>(&self, conn: &mut C, m: &Movement<'_>, now: DateTime<Utc>) -> StoreResult<Posted> {
        rules::check_movement(m)?;
        if conn.key_used(self, m.idempotency_key).await? {
            return Ok(Posted::Duplicate);
        }
        let spent = if m.spending { -m.delta.get() } else { 0 };
        let (balance, unit) = self.apply(conn, m.wallet, m.delta, spent).await?;
        let entry = NewEntry {
            id: EntryId::new(),
            wallet: m.wallet,
            unit: unit.as_ref(),
            delta: m.delta,
            balance_after: balance,
            reason: m.reason,
            reference: m.reference,
            idempotency_key: m.idempotency_key,
            transfer: None,
            leg: 0,
            created_by: m.created_by,
            created_at: now,
        };
        conn.insert_entry(self, &entry).await?;
        Ok(Posted::Applied { balance })
    }

    /// A transfer this book can record: legs by [`rules::check_transfer`],
    /// and a book whose entries carry transfers.
    fn check_transfer(&self, t: &Transfer<'_>) -> StoreResult<()> {
        rules::check_transfer(t)?;
        if !self.tables().transfers {
            return Err(StoreError::Rule("this ledger records single movements only, not transfers".into()));
        }
        Ok(())
    }

    /// Records a transfer inside the caller's transaction, locking its
    /// wallets in id order. On any error the caller rolls back.
    pub async fn transfer_in<C: Conn>(&self, conn: &mut C, t: &Transfer<'_>, now: DateTime<Utc>) -> StoreResult<Transferred> {
        self.check_transfer(t)?;
        if conn.key_used(self, t.idempotency_key).await? {
            return Ok(Transferred::Duplicate);
        }
        let mut order: Vec<usize> = (0..t.legs.len()).collect();
        order.sort_by_key(|&i| t.legs[i].wallet);
        let mut after = vec![Amount::ZERO; t.legs.len()];
        for i in order {
            let leg = &t.legs[i];
            let (balance, unit) = self.apply(conn, leg.wallet, leg.delta, 0).await?;
            match unit {
                Some(held) if held != leg.unit => {
                    let message = format!("wallet {} holds {held}, not {}", leg.wallet, leg.unit);
                    return Err(StoreError::Refused { field: "unit", message });
                }
                _ => after[i] = balance,
            }
        }
        let id = TransferId::new();
        for entry in transfer_entries(t, id, &after, now) {
            conn.insert_entry(self, &entry).await?;
        }
        Ok(Transferred::Applied { id, balances: t.legs.iter().zip(after).map(|(l, b)| (l.wallet, b)).collect() })
    }

    /// Records several transfers inside the caller's transaction, each under
    /// its own idempotency key: a gift to three people, or diamonds and coins
    /// moved together. Every wallet any of them touches is locked first, in
    /// id order, as one transfer locks its own legs, so two callers moving
    /// money among overlapping wallets never wait on each other in a cycle.
    /// Returns each transfer's outcome in order (a used key, or one an
    /// earlier transfer of the call takes, is `Duplicate` and changes
    /// nothing); on any error the caller rolls back.
    ///
    /// Set-based, in a fixed number of statements whatever the number of
    /// transfers and legs: the wallets read (and locked) at once, the keys
    /// looked up at once, one balance update with each wallet's net change,
    /// and the entries in one insert (each chunked by the bind limit). The
    /// outcomes, entries and `balance_after`s are those of [`Book::transfer_in`]
    /// called per transfer, and so is the first failure: a leg that would
    /// take its wallet below zero on the way fails the call even when a
    /// later transfer would cover it.
    pub async fn transfers_in<C: Conn>(&self, conn: &mut C, ts: &[Transfer<'_>], now: DateTime<Utc>) -> StoreResult<Vec<Transferred>> {
        self.transfers_in_keyed(conn, ts, now, true).await
    }

    /// [`Book::transfers_in`] for transfers whose idempotency keys the
    /// caller has just made (each names a new id), so none can be in use:
    /// the keys are not looked up, one statement fewer. Two transfers of
    /// the call with one key still make the second a `Duplicate`; a key in
    /// use all the same fails the call on the entries' unique index (the
    /// caller rolls back).
    pub async fn transfers_in_new_keys<C: Conn>(
        &self,
        conn: &mut C,
        ts: &[Transfer<'_>],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Transferred>> {
        self.transfers_in_keyed(conn, ts, now, false).await
    }

    async fn transfers_in_keyed<C: Conn>(
        &self,
        conn: &mut C,
        ts: &[Transfer<'_>],
        now: DateTime<Utc>,
        look_up: bool,
    ) -> StoreResult<Vec<Transferred>> {
        for t in ts {
            self.check_transfer(t)?;
        }
        if ts.is_empty() {
            return Ok(Vec::new());
        }
        let wallets: Vec<WalletId> = ts.iter().flat_map(|t| t.legs.iter().map(|l| l.wallet)).collect::<BTreeSet<_>>().into_iter().collect();
        let states = conn.wallet_states(self, &wallets).await?;
        let mut keys: Vec<&str> = ts.iter().map(|t| t.idempotency_key).collect();
        keys.sort_unstable();
        keys.dedup();
        let used = if look_up { conn.keys_used_many(self, &keys).await? } else { Vec::new() };
        let plan = plan_transfers(ts, states, used.iter().map(String::as_str).collect(), now)?;
        if !plan.deltas.is_empty() {
            let applied = conn.apply_many(self, &plan.deltas).await?;
            // The wallets are locked (PostgreSQL) or the transaction writes
            // alone (SQLite): the guarded update meets the balances read.
            let expected: HashMap<WalletId, Amount> = plan.finals.iter().copied().collect();
            if applied.len() != plan.deltas.len() || applied.iter().any(|(w, b)| expected.get(w) != Some(b)) {
                return Err(StoreError::Conflict("a wallet's balance changed while its transfers were posted".into()));
            }
        }
        conn.insert_entries(self, &plan.entries).await?;
        Ok(plan.done)
    }

    /// A wallet's balance, inside the caller's transaction.
    pub async fn balance_in<C: Conn>(&self, conn: &mut C, wallet: WalletId) -> StoreResult<Amount> {
        conn.balance(self, wallet).await?.ok_or(StoreError::NotFound)
    }

    /// Records a movement in its own write transaction, once per
    /// idempotency key.
    pub async fn post(&self, db: &Db, m: &Movement<'_>) -> StoreResult<Posted> {
        rules::check_movement(m)?;
        let now = Utc::now();
        let posted = on_pool!(db, p => async {
            let mut tx = p.begin_write().await?;
            let posted = self.post_in(&mut *tx, m, now).await?;
            if let Posted::Applied { .. } = posted {
                tx.commit().await?;
            }
            Ok::<_, StoreError>(posted)
        }
        .await);
        self.settle(db, m.idempotency_key, posted, Posted::Duplicate).await
    }

    /// Records a transfer in its own write transaction, once per
    /// idempotency key: all legs or none.
    pub async fn transfer(&self, db: &Db, t: &Transfer<'_>) -> StoreResult<Transferred> {
        self.check_transfer(t)?;
        let now = Utc::now();
        let done = on_pool!(db, p => async {
            let mut tx = p.begin_write().await?;
            let done = self.transfer_in(&mut *tx, t, now).await?;
            if let Transferred::Applied { .. } = done {
                tx.commit().await?;
            }
            Ok::<_, StoreError>(done)
        }
        .await);
        self.settle(db, t.idempotency_key, done, Transferred::Duplicate).await
    }

    /// A posting that lost a race with another under the same key fails on
    /// the key's unique index, or (when the winner took the funds) as
    /// insufficient; either way the key is now used, and that is a
    /// duplicate.
    async fn settle<T>(&self, db: &Db, key: &str, outcome: StoreResult<T>, duplicate: T) -> StoreResult<T> {
        match outcome {
            Err(e @ (StoreError::Conflict(_) | StoreError::Insufficient { .. })) => {
                let used = on_pool!(db, p => async {
                    let mut c = p.acquire().await?;
                    c.key_used(self, key).await
                }
                .await)?;
                if used {
                    Ok(duplicate)
                } else {
                    Err(e)
                }
            }
            other => other,
        }
    }

    /// A wallet's balance.
    pub async fn balance(&self, db: &Db, wallet: WalletId) -> StoreResult<Amount> {
        on_pool!(db, p => async {
            let mut c = p.acquire().await?;
            self.balance_in(&mut *c, wallet).await
        }
        .await)
    }

    /// A wallet's entries, newest first: at most `limit` of them before the
    /// `seq` cursor `before` (the last `seq` of the previous page), or from
    /// the newest when `None`.
    pub async fn entries(&self, db: &Db, wallet: WalletId, before: Option<i64>, limit: i64) -> StoreResult<Vec<Entry>> {
        on_pool!(db, p => async {
            let mut c = p.acquire().await?;
            // SQLite reads a negative LIMIT as none at all; PostgreSQL refuses it.
            c.entries(self, wallet, before.unwrap_or(i64::MAX), limit.max(0)).await
        }
        .await)
    }
}
