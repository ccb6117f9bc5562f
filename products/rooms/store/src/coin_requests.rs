//! Coin requests to resellers (requirement 5.3, 5.4) and resellers' coin
//! stock.
//!
//! A reseller's stock is the platform-ledger wallet `reseller/<account id>`
//! in coins, topped up by a super admin from the treasury
//! ([`top_up`], reason [`TOP_UP`], once per idempotency key). A user asks
//! one reseller for coins with payment proof ([`create`]; one pending
//! request per user per reseller, a unique index settles races); the
//! reseller is told on their user channel and by a notice. Approval
//! ([`approve`]) is one transaction: the conditional update that moves the
//! request out of `pending` — so of two approvals one wins and the other
//! finds it processed — then the ledger transfer from the reseller's stock
//! to the requester under the key `coin_request:<id>`; short stock fails
//! the transfer and the whole transaction, so nothing is written. Every
//! decision is a platform-audit entry in the same transaction.

use crate::economy::{account_wallet_in, balance_event, book, coins, system, TREASURY};
use crate::{on_pool, refused, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use platform_ledger::wallets;
use platform_ledger::{Amount, Leg, Transfer, WalletId};
use rooms_domain::account::{AccountStatus, PlatformRole};
use rooms_domain::coin_requests::{self as rules, Action, Payment, Status};
use rooms_domain::ids::{AccountId, CoinRequestId};
use rooms_domain::FieldErrors;
use serde::Serialize;
use serde_json::json;

/// The owner kind of resellers' stock wallets.
pub const RESELLER: &str = "reseller";
/// Ledger reasons.
pub const TOP_UP: &str = "reseller_top_up";
pub const ISSUED: &str = "coin_request";

/// A field refusal from the domain's checks, as a store error naming the
/// first field.
pub fn field_error(e: FieldErrors) -> StoreError {
    match e.0.into_iter().next() {
        Some(f) => StoreError::Refused { field: f.field, message: f.message },
        None => StoreError::Refused { field: "request", message: "invalid".into() },
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CoinRequest {
    pub id: CoinRequestId,
    pub requester_id: AccountId,
    pub reseller_id: AccountId,
    pub coins: i64,
    pub message: String,
    /// Media keys of the proof pictures, one per line.
    #[serde(skip)]
    pub proofs: String,
    pub status: String,
    pub approved_coins: Option<i64>,
    pub payment: Option<String>,
    pub credit_days: Option<i64>,
    pub note: String,
    pub decided_by: Option<AccountId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub repaid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl CoinRequest {
    /// The proof pictures' media keys.
    pub fn proof_keys(&self) -> Vec<&str> {
        self.proofs.lines().filter(|l| !l.is_empty()).collect()
    }
    pub fn status(&self) -> Option<Status> {
        self.status.parse().ok()
    }
    pub fn is_pending(&self) -> bool {
        self.status == Status::Pending.as_str()
    }
    /// A credit approval not repaid within its days.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        let payment = self.payment.as_deref().and_then(|p| p.parse::<Payment>().ok());
        rules::overdue(payment, self.credit_days, self.decided_at, self.repaid_at.is_some(), now)
    }
    /// Whether `who` may see it (and its proofs): requester, reseller.
    /// Staff are checked by the caller.
    pub fn involves(&self, who: AccountId) -> bool {
        self.requester_id == who || self.reseller_id == who
    }
}

/// Tells requester and reseller where a request now is.
macro_rules! tell_both {
    ($tx:expr, $row:expr, $now:expr) => {{
        let payload = json!({"id": $row.id, "status": $row.status, "coins": $row.approved_coins.unwrap_or($row.coins), "note": $row.note});
        user_event!($tx, $row.requester_id, "coin_request", payload, $now);
        user_event!($tx, $row.reseller_id, "coin_request", payload, $now);
    }};
}

const COLUMNS: &str = "id, requester_id, reseller_id, coins, message, proofs, status, approved_coins, payment, credit_days, note, \
                       decided_by, decided_at, repaid_at, created_at, expires_at";

/// A reseller's stock wallet, opened in the caller's transaction.
async fn stock_in<C: platform_ledger::Conn>(conn: &mut C, reseller: AccountId, now: DateTime<Utc>) -> StoreResult<WalletId> {
    Ok(wallets::open_in(conn, RESELLER, &reseller.to_string(), &coins(), now).await?.id)
}

/// A reseller's coins in stock (0 before the first top-up).
pub async fn stock(db: &Db, reseller: AccountId) -> StoreResult<i64> {
    Ok(wallets::find(db, RESELLER, &reseller.to_string(), &coins()).await?.map_or(0, |w| w.balance.get()))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Reseller {
    pub id: AccountId,
    pub public_number: i64,
    pub display_name: String,
    pub handle: String,
}

/// Active resellers, by name.
pub async fn resellers(db: &Db) -> StoreResult<Vec<Reseller>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Reseller>(
        "SELECT id, public_number, display_name, handle FROM accounts WHERE role = 'reseller' AND status = 'active' ORDER BY display_name, public_number")
        .fetch_all(p).await?))
}

/// Whether `who` is an active reseller.
async fn is_reseller(db: &Db, who: AccountId) -> StoreResult<bool> {
    let row: Option<(String, String)> =
        on_pool!(db, p => sqlx::query_as("SELECT role, status FROM accounts WHERE id = $1").bind(who).fetch_optional(p).await?);
    Ok(row.is_some_and(|(role, status)| role == PlatformRole::Reseller.as_str() && status == AccountStatus::Active.as_str()))
}

/// A super admin adds `amount` coins from the treasury to a reseller's
/// stock, once per `key`; `Ok(false)`: the key was used already.
pub async fn top_up(db: &Db, reseller: AccountId, amount: i64, key: &str, staff: AccountId, now: DateTime<Utc>) -> StoreResult<bool> {
    if !(1..=rules::MAX_COINS).contains(&amount) {
        return Err(StoreError::Refused {
            field: "coins",
            message: format!("Enter a whole number of coins from 1 to {}.", rules::MAX_COINS),
        });
    }
    if !is_reseller(db, reseller).await? {
        return Err(StoreError::Refused { field: "reseller", message: "That account is not an active reseller.".into() });
    }
    let treasury = system(db, TREASURY).await?;
    let key = format!("{TOP_UP}:{key}");
    let reference = reseller.to_string();
    let outcome = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let to = stock_in(&mut *tx, reseller, now).await?;
        let t = Transfer {
            legs: vec![Leg { wallet: treasury, unit: coins(), delta: Amount(-amount) }, Leg { wallet: to, unit: coins(), delta: Amount(amount) }],
            reason: TOP_UP,
            reference: Some(&reference),
            idempotency_key: &key,
            created_by: Some(platform_ledger::ActorId(staff.0)),
        };
        if let platform_ledger::Transferred::Duplicate = book().transfer_in(&mut *tx, &t, now).await? {
            return Ok(false);
        }
        let staff_id = staff.to_string();
        let after = json!({"added": amount});
        let entry = platform_audit::Record::new("admin", Some(&staff_id), "reseller.top_up").subject("reseller", &reference).change(None, Some(&after));
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        let stock: i64 = sqlx::query_scalar("SELECT balance FROM wallets WHERE id = $1").bind(to).fetch_one(&mut *tx).await?;
        user_event!(tx, reseller, "reseller_stock", json!({"stock": stock, "added": amount}), now);
        tx.commit().await?;
        Ok::<bool, StoreError>(true)
    }
    .await);
    match outcome {
        Err(StoreError::Conflict(_)) if crate::economy::key_used(db, &key).await? => Ok(false),
        other => other,
    }
}

pub struct NewRequest<'a> {
    pub requester: AccountId,
    pub reseller: AccountId,
    pub coins: i64,
    pub message: &'a str,
    /// Media keys of the stored proof pictures.
    pub proofs: &'a [String],
}

/// Records a pending request and tells the reseller (their channel and a
/// notice). A second pending request to the same reseller is refused with
/// `pending_request_exists`.
pub async fn create(db: &Db, n: &NewRequest<'_>, now: DateTime<Utc>) -> StoreResult<CoinRequest> {
    rules::check_request(n.coins, n.message, n.proofs.len(), n.requester == n.reseller).map_err(field_error)?;
    if !is_reseller(db, n.reseller).await? {
        return Err(StoreError::Refused { field: "reseller", message: "Choose one of the resellers listed.".into() });
    }
    let id = CoinRequestId::new();
    let sql = format!(
        "INSERT INTO coin_requests ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, 'pending', NULL, NULL, NULL, '', NULL, NULL, NULL, $7, $8) RETURNING {COLUMNS}"
    );
    let proofs = n.proofs.join("\n");
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let row = sqlx::query_as::<_, CoinRequest>(&sql)
            .bind(id).bind(n.requester).bind(n.reseller).bind(n.coins).bind(n.message).bind(&proofs).bind(now).bind(rules::expires_at(now))
            .fetch_one(&mut *tx).await?;
        user_event!(tx, n.reseller, "coin_request", json!({"id": id, "status": "pending", "coins": n.coins, "from": n.requester}), now);
        let title = format!("Coin request: {} coins", n.coins);
        let link = format!("/coin-requests#r-{id}");
        let reseller_id = n.reseller.to_string();
        let notice = platform_audit::NewNotice {
            kind: "coin_request",
            title: &title,
            body: n.message,
            link: Some(&link),
            audience: platform_audit::Audience::Admin(&reseller_id),
        };
        platform_audit::notify_in(&mut *tx, &notice, now).await?;
        tx.commit().await?;
        Ok::<CoinRequest, StoreError>(row)
    }
    .await);
    match done {
        Err(e) if crate::conflict_on(&e, "requester_id") || crate::conflict_on(&e, "one_pending") => {
            Err(refused("pending_request_exists", "You already have a pending request with this reseller; wait for it or cancel it."))
        }
        other => other,
    }
}

pub async fn get(db: &Db, id: CoinRequestId) -> StoreResult<CoinRequest> {
    let sql = format!("SELECT {COLUMNS} FROM coin_requests WHERE id = $1");
    on_pool!(db, p => sqlx::query_as::<_, CoinRequest>(&sql).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// Whose requests to list.
#[derive(Debug, Clone, Copy)]
pub enum Of<'a> {
    /// Those someone made.
    Requester(AccountId),
    /// Those made to a reseller.
    Reseller(AccountId),
    /// Every request, optionally in one status (staff).
    All(Option<&'a str>),
}

/// Requests newest first, before the `before` time cursor.
pub async fn list(db: &Db, of: Of<'_>, before: Option<DateTime<Utc>>, limit: i64) -> StoreResult<Vec<CoinRequest>> {
    let (cond, who, status) = match of {
        Of::Requester(a) => ("requester_id = $1", Some(a), None),
        Of::Reseller(a) => ("reseller_id = $1", Some(a), None),
        Of::All(s) => ("$1 IS NULL", None, s),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM coin_requests WHERE {cond} AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR created_at < $3)
         ORDER BY created_at DESC, id DESC LIMIT $4"
    );
    Ok(on_pool!(db, p => sqlx::query_as::<_, CoinRequest>(&sql)
        .bind(who).bind(status).bind(before).bind(limit.clamp(1, 200)).fetch_all(p).await?))
}

/// Who acts on a request: the target reseller, or a super admin.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub id: AccountId,
    pub super_admin: bool,
}

impl Actor {
    fn kind(self) -> &'static str {
        if self.super_admin {
            "admin"
        } else {
            "reseller"
        }
    }
}

/// An approval: the coins to pay (default: what was asked), cash or credit,
/// a note.
#[derive(Debug, Clone, Default)]
pub struct Approval<'a> {
    pub coins: Option<i64>,
    pub payment: Option<Payment>,
    pub credit_days: Option<i64>,
    pub note: &'a str,
}

/// The reason a request did not move: not found, not the actor's to
/// decide, already processed, or expired. Read after the conditional
/// update found nothing.
async fn why_not(db: &Db, id: CoinRequestId, actor: Option<Actor>, now: DateTime<Utc>) -> StoreError {
    let Ok(r) = get(db, id).await else { return StoreError::NotFound };
    match actor {
        Some(a) if !a.super_admin && r.reseller_id != a.id && r.requester_id != a.id => StoreError::NotFound,
        Some(a) if !a.super_admin && r.reseller_id != a.id => {
            refused("not_your_request", "Only the reseller asked, or a super admin, decides this request")
        }
        _ if !r.is_pending() => refused("already_processed", format!("This request was already processed ({})", r.status)),
        _ if r.expires_at <= now => refused("request_expired", "This request expired before anyone decided it"),
        _ => refused("already_processed", "This request was already processed"),
    }
}

/// The conditional update that moves a pending, unexpired request the
/// actor may decide; `RETURNING` the row, or nothing.
const DECIDE: &str =
    "UPDATE coin_requests SET status = $2, approved_coins = $3, payment = $4, credit_days = $5, note = $6, decided_by = $7, decided_at = $8
     WHERE id = $1 AND status = 'pending' AND expires_at > $8 AND ($9 OR reseller_id = $7) RETURNING ";

/// Approves a pending request: in one transaction the request moves to
/// `approved` and the coins move from the reseller's stock to the
/// requester. A repeated or simultaneous approval is refused with
/// `already_processed` and pays nothing; short stock → `Insufficient`,
/// nothing written.
pub async fn approve(db: &Db, id: CoinRequestId, actor: Actor, a: &Approval<'_>, now: DateTime<Utc>) -> StoreResult<CoinRequest> {
    let payment = a.payment.unwrap_or(Payment::Cash);
    if let Some(c) = a.coins {
        rules::check_approval(c, payment, a.credit_days, a.note).map_err(field_error)?;
    } else {
        rules::check_approval(1, payment, a.credit_days, a.note).map_err(field_error)?;
    }
    // No amount given: COALESCE pays what the request asked.
    let sql = format!("{DECIDE}{COLUMNS}").replace("approved_coins = $3", "approved_coins = COALESCE($3, coins)");
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let q = sqlx::query_as::<_, CoinRequest>(&sql)
            .bind(id).bind(Status::Approved.as_str()).bind(a.coins).bind(payment.as_str()).bind(a.credit_days).bind(a.note)
            .bind(actor.id).bind(now).bind(actor.super_admin);
        let Some(row) = q.fetch_optional(&mut *tx).await? else { return Ok(None) };
        let amount = row.approved_coins.unwrap_or(row.coins);
        let from = stock_in(&mut *tx, row.reseller_id, now).await?;
        let to = account_wallet_in(&mut *tx, row.requester_id, &coins(), now).await?;
        let key = format!("{ISSUED}:{id}");
        let reference = id.to_string();
        let t = Transfer {
            legs: vec![Leg { wallet: from, unit: coins(), delta: Amount(-amount) }, Leg { wallet: to, unit: coins(), delta: Amount(amount) }],
            reason: ISSUED,
            reference: Some(&reference),
            idempotency_key: &key,
            created_by: Some(platform_ledger::ActorId(actor.id.0)),
        };
        book().transfer_in(&mut *tx, &t, now).await?;
        let actor_id = actor.id.to_string();
        let before = json!({"status": "pending", "coins": row.coins});
        let after = json!({"status": "approved", "coins": amount, "payment": payment.as_str(), "credit_days": a.credit_days});
        let mut entry = platform_audit::Record::new(actor.kind(), Some(&actor_id), "coin_request.approve")
            .subject("coin_request", &reference)
            .change(Some(&before), Some(&after));
        if !a.note.is_empty() {
            entry = entry.reason(a.note);
        }
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        tell_both!(tx, row, now);
        balance_event!(tx, row.requester_id, now);
        tx.commit().await?;
        Ok::<Option<CoinRequest>, StoreError>(Some(row))
    }
    .await)?;
    match done {
        Some(r) => Ok(r),
        None => Err(why_not(db, id, Some(actor), now).await),
    }
}

/// Rejects a pending request with an optional note; nothing moves.
pub async fn reject(db: &Db, id: CoinRequestId, actor: Actor, note: &str, now: DateTime<Utc>) -> StoreResult<CoinRequest> {
    rules::check_note(note).map_err(field_error)?;
    let sql = format!("{DECIDE}{COLUMNS}");
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let q = sqlx::query_as::<_, CoinRequest>(&sql)
            .bind(id).bind(Status::Rejected.as_str()).bind(None::<i64>).bind(None::<String>).bind(None::<i64>).bind(note)
            .bind(actor.id).bind(now).bind(actor.super_admin);
        let Some(row) = q.fetch_optional(&mut *tx).await? else { return Ok(None) };
        let actor_id = actor.id.to_string();
        let reference = id.to_string();
        let before = json!({"status": "pending"});
        let after = json!({"status": "rejected"});
        let mut entry = platform_audit::Record::new(actor.kind(), Some(&actor_id), "coin_request.reject")
            .subject("coin_request", &reference)
            .change(Some(&before), Some(&after));
        if !note.is_empty() {
            entry = entry.reason(note);
        }
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        tell_both!(tx, row, now);
        tx.commit().await?;
        Ok::<Option<CoinRequest>, StoreError>(Some(row))
    }
    .await)?;
    match done {
        Some(r) => Ok(r),
        None => Err(why_not(db, id, Some(actor), now).await),
    }
}

/// The requester withdraws a pending request.
pub async fn cancel(db: &Db, id: CoinRequestId, requester: AccountId, now: DateTime<Utc>) -> StoreResult<CoinRequest> {
    let sql = format!(
        "UPDATE coin_requests SET status = 'cancelled', decided_at = $3 WHERE id = $1 AND requester_id = $2 AND status = 'pending' RETURNING {COLUMNS}"
    );
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let Some(row) = sqlx::query_as::<_, CoinRequest>(&sql).bind(id).bind(requester).bind(now).fetch_optional(&mut *tx).await? else {
            return Ok(None);
        };
        tell_both!(tx, row, now);
        tx.commit().await?;
        Ok::<Option<CoinRequest>, StoreError>(Some(row))
    }
    .await)?;
    match done {
        Some(r) => Ok(r),
        None => match get(db, id).await {
            Ok(r) if r.requester_id == requester => {
                Err(refused("already_processed", format!("This request was already processed ({})", r.status)))
            }
            _ => Err(StoreError::NotFound),
        },
    }
}

/// The reseller (or a super admin) marks a credit approval repaid, once.
pub async fn mark_repaid(db: &Db, id: CoinRequestId, actor: Actor, now: DateTime<Utc>) -> StoreResult<CoinRequest> {
    let sql = format!(
        "UPDATE coin_requests SET repaid_at = $2 WHERE id = $1 AND status = 'approved' AND payment = 'credit' AND repaid_at IS NULL
         AND ($4 OR reseller_id = $3) RETURNING {COLUMNS}"
    );
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let Some(row) = sqlx::query_as::<_, CoinRequest>(&sql).bind(id).bind(now).bind(actor.id).bind(actor.super_admin).fetch_optional(&mut *tx).await? else {
            return Ok(None);
        };
        let actor_id = actor.id.to_string();
        let reference = id.to_string();
        let entry = platform_audit::Record::new(actor.kind(), Some(&actor_id), "coin_request.repaid").subject("coin_request", &reference);
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        tx.commit().await?;
        Ok::<Option<CoinRequest>, StoreError>(Some(row))
    }
    .await)?;
    match done {
        Some(r) => Ok(r),
        None => match get(db, id).await {
            Ok(r) if actor.super_admin || r.reseller_id == actor.id => {
                Err(refused("not_open_credit", "Only an unpaid credit approval can be marked repaid"))
            }
            _ => Err(StoreError::NotFound),
        },
    }
}

/// Marks every pending request past its expiry `expired` and tells both
/// parties; returns how many.
pub async fn expire_due(db: &Db, now: DateTime<Utc>) -> StoreResult<u64> {
    let sql = format!(
        "UPDATE coin_requests SET status = 'expired', decided_at = $1 WHERE status = 'pending' AND expires_at <= $1 RETURNING {COLUMNS}"
    );
    Ok(on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let rows = sqlx::query_as::<_, CoinRequest>(&sql).bind(now).fetch_all(&mut *tx).await?;
        for row in &rows {
            tell_both!(tx, row, now);
        }
        tx.commit().await?;
        rows.len() as u64
    }))
}

/// What a bulk decision did to each request.
#[derive(Debug, Serialize)]
pub struct BulkOutcome {
    pub id: CoinRequestId,
    /// `approved`, `rejected`, or the refusal's code.
    pub result: String,
    pub message: Option<String>,
}

/// Approves (each as asked, cash) or rejects several requests, each in its
/// own transaction, so one short stock or processed request does not stop
/// the others.
pub async fn bulk(
    db: &Db,
    ids: &[CoinRequestId],
    action: Action,
    actor: Actor,
    note: &str,
    now: DateTime<Utc>,
) -> StoreResult<Vec<BulkOutcome>> {
    rules::check_note(note).map_err(field_error)?;
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        let r = match action {
            Action::Approve => approve(db, id, actor, &Approval { note, ..Approval::default() }, now).await,
            Action::Reject => reject(db, id, actor, note, now).await,
            Action::Cancel | Action::Expire => return Err(StoreError::Refused { field: "action", message: "approve or reject".into() }),
        };
        out.push(match r {
            Ok(row) => BulkOutcome { id, result: row.status, message: None },
            Err(StoreError::Guard { code, message }) => BulkOutcome { id, result: code, message: Some(message) },
            Err(StoreError::Insufficient { required, available }) => BulkOutcome {
                id,
                result: "insufficient_stock".into(),
                message: Some(format!("The reseller's stock is short: this needs {required}, it has {available}.")),
            },
            Err(StoreError::NotFound) => BulkOutcome { id, result: "not_found".into(), message: None },
            Err(e) => return Err(e),
        });
    }
    Ok(out)
}

/// Coin requests' invariants for `rooms check`.
pub const CHECKS: &[(&str, &str)] = &[
    (
        "reseller stock differs from its top-ups minus the coins it issued",
        "SELECT COUNT(*) FROM wallets w WHERE w.owner_kind = 'reseller' AND w.balance <> (SELECT COALESCE(SUM(e.delta), 0) FROM ledger_entries e
           WHERE e.wallet_id = w.id AND e.reason IN ('reseller_top_up', 'coin_request'))",
    ),
    (
        "coin request approved without exactly one credit of its coins (or credited without approval)",
        "SELECT COUNT(*) FROM coin_requests r WHERE (r.status = 'approved') <> (1 = (SELECT COUNT(*) FROM ledger_entries e
           WHERE e.idempotency_key = 'coin_request:' || CAST(r.id AS TEXT) AND e.delta > 0 AND e.delta = r.approved_coins))",
    ),
    (
        "more than one pending coin request per user and reseller",
        "SELECT COUNT(*) FROM (SELECT requester_id FROM coin_requests WHERE status = 'pending' GROUP BY requester_id, reseller_id HAVING COUNT(*) > 1) x",
    ),
];
