//! Sellers' money after release, on platform-ledger wallets per seller and
//! currency: `seller_pending` (released, clearing), `seller_available`
//! (cleared, withdrawable), `seller_withdrawing` (held by an open
//! withdrawal) and `seller_withdrawn` (paid out). Every move is one ledger
//! transfer with a key that makes it happen once, inside the transaction
//! that changes the row it belongs to.

use crate::escrow::{unit, SELLER_PENDING};
use chrono::{DateTime, Utc};
use gigstream_domain::ids::{AccountId, OrderId, WithdrawalId};
use gigstream_domain::wallet::{self, PayMethod, WithdrawalPlan, WithdrawalPolicy, WithdrawalStatus};
use gigstream_domain::Currency;
use platform_db::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use platform_ledger::wallets::{self, SYSTEM};
use platform_ledger::{Amount, Book, Conn, Leg, Transfer};
use serde::Serialize;

pub const SELLER_AVAILABLE: &str = "seller_available";
pub const SELLER_WITHDRAWING: &str = "seller_withdrawing";
pub const SELLER_WITHDRAWN: &str = "seller_withdrawn";
/// The system wallet of payout fees.
pub const PAYOUT_FEES: &str = "payout_fees";

/// Ledger reasons.
pub const CLEARANCE: &str = "clearance";
pub const WITHDRAWAL_HOLD: &str = "withdrawal_hold";
pub const WITHDRAWAL_RETURN: &str = "withdrawal_return";
pub const PAYOUT: &str = "payout";

/// Moves `amount` between wallets of one owner/currency (or to a system
/// wallet), once per key.
async fn shift<C: Conn>(
    conn: &mut C,
    legs: &[(&str, &str, i64)],
    currency: Currency,
    reason: &str,
    reference: &str,
    key: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let u = unit(currency);
    let mut out = vec![];
    for (kind, owner, delta) in legs {
        let w = wallets::open_in(conn, kind, owner, &u, now).await?.id;
        out.push(Leg { wallet: w, unit: u.clone(), delta: Amount(*delta) });
    }
    let t = Transfer { legs: out, reason, reference: Some(reference), idempotency_key: key, created_by: None };
    Book::standard().transfer_in(conn, &t, now).await?;
    Ok(())
}

/// A seller's balances in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Balances {
    /// Released, waiting for the clearance period.
    pub pending: i64,
    /// Cleared: can be withdrawn.
    pub available: i64,
    /// Held by an open withdrawal.
    pub withdrawing: i64,
    /// Paid out, ever.
    pub withdrawn: i64,
}

pub async fn balances(db: &Db, seller: AccountId, currency: Currency) -> StoreResult<Balances> {
    let u = unit(currency);
    let owner = seller.to_string();
    let of = |kind: &'static str| {
        let (owner, u) = (owner.clone(), u.clone());
        async move { Ok::<_, StoreError>(wallets::find(db, kind, &owner, &u).await?.map_or(0, |w| w.balance.get())) }
    };
    Ok(Balances {
        pending: of(SELLER_PENDING).await?,
        available: of(SELLER_AVAILABLE).await?,
        withdrawing: of(SELLER_WITHDRAWING).await?,
        withdrawn: of(SELLER_WITHDRAWN).await?,
    })
}

/// One order's earnings, pending or cleared.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Earning {
    pub order_id: OrderId,
    pub gig_title: String,
    pub currency: Currency,
    pub amount_minor: i64,
    pub released_at: DateTime<Utc>,
    pub cleared_at: Option<DateTime<Utc>>,
}

/// A seller's earnings, newest first.
pub async fn earnings(db: &Db, seller: AccountId, limit: i64) -> StoreResult<Vec<Earning>> {
    let sql = "SELECT e.order_id, o.gig_title, e.currency, e.amount_minor, e.released_at, e.cleared_at
               FROM earnings e JOIN orders o ON o.id = e.order_id WHERE e.seller_id = $1
               ORDER BY e.released_at DESC, e.order_id DESC LIMIT $2";
    Ok(on_pool!(db, p => sqlx::query_as(sql).bind(seller).bind(limit).fetch_all(p).await?))
}

/// Moves earnings released at least `clearance_days` ago from pending to
/// available (the `clear-earnings` job). Each order's earnings move once,
/// however many nodes run this at the same time. Returns how many moved.
pub async fn clear_due(db: &Db, now: DateTime<Utc>, clearance_days: u32) -> StoreResult<u64> {
    let cutoff = wallet::cleared_before(now, clearance_days);
    let sql = "SELECT order_id, seller_id, currency, amount_minor FROM earnings
               WHERE cleared_at IS NULL AND released_at <= $1 ORDER BY released_at, order_id LIMIT 500";
    let due: Vec<(OrderId, AccountId, Currency, i64)> = on_pool!(db, p => sqlx::query_as(sql).bind(cutoff).fetch_all(p).await?);
    let mut moved = 0;
    for (order, seller, currency, amount) in due {
        let done = on_pool!(db, p => async {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("UPDATE earnings SET cleared_at = $2 WHERE order_id = $1 AND cleared_at IS NULL")
                .bind(order).bind(now).execute(&mut *tx).await?.rows_affected();
            if n == 1 {
                let owner = seller.to_string();
                let legs = [(SELLER_PENDING, owner.as_str(), -amount), (SELLER_AVAILABLE, owner.as_str(), amount)];
                shift(&mut *tx, &legs, currency, CLEARANCE, &order.to_string(), &format!("clear:{order}"), now).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(n == 1)
        }
        .await)?;
        moved += u64::from(done);
    }
    Ok(moved)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Withdrawal {
    pub id: WithdrawalId,
    pub seller_id: AccountId,
    pub currency: Currency,
    pub amount_minor: i64,
    pub fee_minor: i64,
    pub method: PayMethod,
    pub destination: String,
    pub status: WithdrawalStatus,
    pub payout_id: Option<String>,
    pub note: Option<String>,
    pub decided_by: Option<AccountId>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
}

impl Withdrawal {
    /// What the seller receives.
    pub fn payout_minor(&self) -> i64 {
        self.amount_minor - self.fee_minor
    }
}

const W_COLUMNS: &str = "id, seller_id, currency, amount_minor, fee_minor, method, destination, status, payout_id, note, decided_by,
    created_at, decided_at, paid_at";

pub async fn withdrawal(db: &Db, id: WithdrawalId) -> StoreResult<Withdrawal> {
    let sql = format!("SELECT {W_COLUMNS} FROM withdrawals WHERE id = $1");
    on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// A seller's withdrawals, newest first.
pub async fn withdrawals_of(db: &Db, seller: AccountId, limit: i64) -> StoreResult<Vec<Withdrawal>> {
    let sql = format!("SELECT {W_COLUMNS} FROM withdrawals WHERE seller_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(seller).bind(limit).fetch_all(p).await?))
}

/// Withdrawals in `status` (or all), newest first, after `before`.
pub async fn withdrawals(
    db: &Db,
    status: Option<WithdrawalStatus>,
    before: Option<(DateTime<Utc>, WithdrawalId)>,
    limit: i64,
) -> StoreResult<Vec<Withdrawal>> {
    let (t, id) = before.map_or((None, None), |(t, id)| (Some(t), Some(id)));
    let sql = format!(
        "SELECT {W_COLUMNS} FROM withdrawals WHERE ($1 IS NULL OR status = $1)
           AND ($2 IS NULL OR created_at < $2 OR (created_at = $2 AND id < $3))
         ORDER BY created_at DESC, id DESC LIMIT $4"
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(status).bind(t).bind(id).bind(limit).fetch_all(p).await?))
}

fn refused(r: wallet::WithdrawalRefusal) -> StoreError {
    StoreError::Refused { field: r.field, message: r.message }
}

/// What a seller asks for.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub currency: Currency,
    pub amount: i64,
    pub method: PayMethod,
    pub destination: &'a str,
}

/// A seller asks to be paid `amount` of their available balance through
/// `method` to `destination`. The amount is held at once (never more than
/// is available); one open request per seller.
pub async fn request(db: &Db, seller: AccountId, ask: &Ask<'_>, policy: WithdrawalPolicy, now: DateTime<Utc>) -> StoreResult<Withdrawal> {
    let Ask { currency, amount, method, destination } = *ask;
    let destination = wallet::check_destination(method, destination).map_err(refused)?;
    let id = WithdrawalId::new();
    let owner = seller.to_string();
    let r = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM withdrawals WHERE seller_id = $1 AND status IN ('requested', 'approved')")
            .bind(seller).fetch_one(&mut *tx).await?;
        let w = wallets::open_in(&mut *tx, SELLER_AVAILABLE, &owner, &unit(currency), now).await?;
        let available = Book::standard().balance_in(&mut *tx, w.id).await?.get();
        let WithdrawalPlan { amount, fee, .. } = wallet::plan_withdrawal(policy, amount, available, open > 0).map_err(refused)?;
        sqlx::query(
            "INSERT INTO withdrawals (id, seller_id, currency, amount_minor, fee_minor, method, destination, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'requested', $8, $8)",
        )
        .bind(id).bind(seller).bind(currency).bind(amount).bind(fee).bind(method).bind(&destination).bind(now)
        .execute(&mut *tx).await?;
        let legs = [(SELLER_AVAILABLE, owner.as_str(), -amount), (SELLER_WITHDRAWING, owner.as_str(), amount)];
        shift(&mut *tx, &legs, currency, WITHDRAWAL_HOLD, &id.to_string(), &format!("withdraw:{id}"), now).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }
    .await);
    match r {
        Ok(()) => withdrawal(db, id).await,
        // A racing request from the same seller took the one open slot.
        Err(StoreError::Conflict(_)) => Err(refused(wallet::plan_withdrawal(policy, amount, 0, true).unwrap_err())),
        Err(StoreError::Insufficient { available, .. }) => {
            Err(StoreError::Refused { field: "amount", message: format!("You have {available} (minor units) available") })
        }
        Err(e) => Err(e),
    }
}

/// Changes a withdrawal's status from `from` to `to` inside `tx`; false
/// when it was not in `from` (someone else decided first).
macro_rules! move_status {
    ($tx:expr, $id:expr, $from:expr, $to:expr, $admin:expr, $note:expr, $payout:expr, $now:expr) => {{
        let sql = "UPDATE withdrawals SET status = $3, decided_by = COALESCE($4, decided_by), note = COALESCE($5, note),
                   payout_id = COALESCE($6, payout_id), decided_at = CASE WHEN $2 = 'requested' THEN $7 ELSE decided_at END,
                   paid_at = CASE WHEN $3 = 'paid' THEN $7 ELSE paid_at END, updated_at = $7
                   WHERE id = $1 AND status = $2";
        sqlx::query(sql)
            .bind($id)
            .bind($from)
            .bind($to)
            .bind($admin)
            .bind($note)
            .bind($payout)
            .bind($now)
            .execute(&mut *$tx)
            .await?
            .rows_affected()
            == 1
    }};
}

/// How a decision on a withdrawal ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Decided {
    /// This call made the change.
    Done,
    /// It was already in that state (a retry); nothing changed.
    Already,
}

/// Who decided and what they said; the provider's payout id.
#[derive(Default)]
struct By<'a> {
    admin: Option<AccountId>,
    note: Option<&'a str>,
    payout_id: Option<&'a str>,
}

async fn decide(
    db: &Db,
    id: WithdrawalId,
    (from, to): (WithdrawalStatus, WithdrawalStatus),
    by: By<'_>,
    now: DateTime<Utc>,
) -> StoreResult<Decided> {
    let By { admin, note, payout_id } = by;
    let w = withdrawal(db, id).await?;
    if w.status == to {
        return Ok(Decided::Already);
    }
    let owner = w.seller_id.to_string();
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        if !move_status!(tx, id, from, to, admin, note, payout_id, now) {
            return Ok::<_, StoreError>(false);
        }
        let key = format!("{to}:{id}");
        let reference = id.to_string();
        match to {
            WithdrawalStatus::Rejected | WithdrawalStatus::Failed => {
                let legs = [(SELLER_WITHDRAWING, owner.as_str(), -w.amount_minor), (SELLER_AVAILABLE, owner.as_str(), w.amount_minor)];
                shift(&mut *tx, &legs, w.currency, WITHDRAWAL_RETURN, &reference, &key, now).await?;
            }
            WithdrawalStatus::Paid => {
                let mut legs = vec![(SELLER_WITHDRAWING, owner.as_str(), -w.amount_minor), (SELLER_WITHDRAWN, owner.as_str(), w.payout_minor())];
                if w.fee_minor > 0 {
                    legs.push((SYSTEM, PAYOUT_FEES, w.fee_minor));
                }
                shift(&mut *tx, &legs, w.currency, PAYOUT, &reference, &key, now).await?;
            }
            WithdrawalStatus::Requested | WithdrawalStatus::Approved => {}
        }
        tx.commit().await?;
        Ok(true)
    }
    .await)?;
    if done {
        return Ok(Decided::Done);
    }
    let now_status = withdrawal(db, id).await?.status;
    if now_status == to {
        Ok(Decided::Already)
    } else {
        Err(StoreError::Rule(format!("This withdrawal is {}; it cannot be {to} now.", now_status.label().to_lowercase())))
    }
}

/// An admin approves a request; the payout follows.
pub async fn approve(db: &Db, id: WithdrawalId, admin: AccountId, now: DateTime<Utc>) -> StoreResult<Decided> {
    if matches!(withdrawal(db, id).await?.status, WithdrawalStatus::Approved | WithdrawalStatus::Paid) {
        return Ok(Decided::Already);
    }
    decide(db, id, (WithdrawalStatus::Requested, WithdrawalStatus::Approved), By { admin: Some(admin), ..By::default() }, now).await
}

/// An admin rejects a request: the held money is available again.
pub async fn reject(db: &Db, id: WithdrawalId, admin: AccountId, note: &str, now: DateTime<Utc>) -> StoreResult<Decided> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 1_000 {
        return Err(StoreError::Refused { field: "note", message: "Say why, in up to 1,000 characters".into() });
    }
    let by = By { admin: Some(admin), note: Some(note), payout_id: None };
    decide(db, id, (WithdrawalStatus::Requested, WithdrawalStatus::Rejected), by, now).await
}

/// The provider paid it: the held money leaves as withdrawn (and fee). Once.
pub async fn mark_paid(db: &Db, id: WithdrawalId, payout_id: &str, now: DateTime<Utc>) -> StoreResult<Decided> {
    decide(db, id, (WithdrawalStatus::Approved, WithdrawalStatus::Paid), By { payout_id: Some(payout_id), ..By::default() }, now).await
}

/// The payout failed: the held money is available again. Once.
pub async fn mark_failed(db: &Db, id: WithdrawalId, reason: &str, payout_id: Option<&str>, now: DateTime<Utc>) -> StoreResult<Decided> {
    let by = By { admin: None, note: Some(reason), payout_id };
    decide(db, id, (WithdrawalStatus::Approved, WithdrawalStatus::Failed), by, now).await
}

/// Remembers the provider's payout id while it is still pending.
pub async fn set_payout_id(db: &Db, id: WithdrawalId, payout_id: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = "UPDATE withdrawals SET payout_id = $2, updated_at = $3 WHERE id = $1 AND status = 'approved'";
    on_pool!(db, p => sqlx::query(sql).bind(id).bind(payout_id).bind(now).execute(p).await?.rows_affected());
    Ok(())
}
