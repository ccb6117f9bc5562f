//! Purchases: a checkout's transaction row and what each provider report
//! does to it. Every report (webhook or verify) is applied in one write
//! transaction that first locks the row, so concurrent duplicates queue up
//! behind each other; the credits, the ledger entry, lifetime spend and the
//! tier change together or not at all, and a transaction already credited
//! is never credited again (the ledger's unique idempotency key
//! `purchase:<reference>` backs that up).

use crate::audit::Actor;
use crate::ledger::{applied, CREDITS};
use crate::packages::Snapshot;
use crate::{emit_balance, on_pool, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::{AdminId, TransactionId, UserId};
use fantooo_domain::ledger::LedgerReason;
use fantooo_domain::payment::{decide, ChargeStatus, Decision, Local, Report, TransactionStatus};
use fantooo_domain::{Credits, Kes, UserTier};
use serde::Serialize;
use sqlx::types::Json;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Transaction {
    pub id: TransactionId,
    pub real_user_id: Option<UserId>,
    /// The locked-in price, in cents.
    pub amount_cents: i64,
    pub currency: String,
    /// Credits the purchase adds (package credits plus bonus).
    pub credits_amount: i64,
    pub payment_provider: String,
    pub provider_reference: String,
    /// What the provider said last, and the amount and currency it reported.
    pub provider_status: Option<ChargeStatus>,
    pub reported_amount_cents: Option<i64>,
    pub reported_currency: Option<String>,
    pub status: TransactionStatus,
    pub failure_reason: Option<String>,
    pub webhook_received_count: i64,
    pub last_webhook_at: Option<DateTime<Utc>>,
    pub package_snapshot: Option<Json<Snapshot>>,
    pub needs_manual_review: bool,
    pub review_reason: Option<String>,
    pub reviewed_by: Option<AdminId>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub authorization_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub last_verified_at: Option<DateTime<Utc>>,
}

impl Transaction {
    pub fn amount(&self) -> Kes {
        Kes(self.amount_cents)
    }
    pub fn reported_amount(&self) -> Option<Kes> {
        self.reported_amount_cents.map(Kes)
    }
    pub fn package_name(&self) -> &str {
        self.package_snapshot.as_ref().map(|s| s.0.name.as_str()).unwrap_or("—")
    }
}

const TX_COLUMNS: &str = "id, real_user_id, amount_cents, currency, credits_amount, payment_provider, provider_reference, provider_status,
    reported_amount_cents, reported_currency, status, failure_reason, webhook_received_count, last_webhook_at, package_snapshot,
    needs_manual_review, review_reason, reviewed_by, reviewed_at, authorization_url, created_at, completed_at, last_verified_at";

/// A checkout the provider has opened for a user.
pub struct NewCheckout<'a> {
    pub user: UserId,
    pub reference: &'a str,
    pub snapshot: &'a Snapshot,
    pub provider: &'a str,
    pub authorization_url: &'a str,
}

/// A provider's account of a charge.
#[derive(Debug, Clone)]
pub struct Reported<'a> {
    pub status: ChargeStatus,
    pub amount_cents: i64,
    pub currency: &'a str,
    pub gateway_response: Option<&'a str>,
    /// The provider's payload, kept for audit.
    pub raw: &'a serde_json::Value,
}

/// Where a report came from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A signed webhook delivery: counted every time, even when duplicate.
    Webhook { provider: &'a str },
    /// We asked the provider: the buyer's return, the job, or an admin.
    Verify { by: Option<AdminId> },
}

/// What applying a report did.
#[derive(Debug, Clone)]
pub struct Settlement {
    pub transaction: Transaction,
    pub decision: Decision,
    /// The buyer's balance after crediting (only when credits were added).
    pub balance: Option<Credits>,
    /// The buyer's tier before and after (only when credits were added).
    pub tier: Option<(UserTier, UserTier)>,
}

impl Settlement {
    pub fn credited(&self) -> bool {
        self.decision == Decision::Credit
    }
}

/// The row as read under its lock.
#[derive(sqlx::FromRow)]
struct Locked {
    id: TransactionId,
    real_user_id: Option<UserId>,
    status: TransactionStatus,
    amount_cents: i64,
    currency: String,
    credits_amount: i64,
    provider_reference: String,
}

const LOCKED_COLUMNS: &str = "id, real_user_id, status, amount_cents, currency, credits_amount, provider_reference";

impl Locked {
    fn local(&self) -> Local {
        Local {
            status: self.status,
            initialized: self.real_user_id.is_some(),
            amount: Kes(self.amount_cents),
            currency: self.currency.clone(),
        }
    }
}

/// Applies `decision` for the locked `row` inside the caller's transaction
/// and evaluates to `(balance, tier change)`. `keep_payload` is false when
/// the report was replayed from the row itself.
macro_rules! apply_decision {
    ($tx:expr, $row:expr, $rep:expr, $decision:expr, $now:expr, $reviewer:expr, $keep_payload:expr) => {{
        let row: &Locked = $row;
        let rep: &Reported<'_> = $rep;
        let now: DateTime<Utc> = $now;
        let reviewer: Option<AdminId> = $reviewer;
        let decision: Decision = $decision;
        let mut balance: Option<Credits> = None;
        let mut tier: Option<(UserTier, UserTier)> = None;
        if decision != Decision::AlreadyCredited {
            sqlx::query("UPDATE transactions SET provider_status = $2, reported_amount_cents = $3, reported_currency = $4 WHERE id = $1")
                .bind(row.id).bind(rep.status).bind(rep.amount_cents).bind(rep.currency).execute(&mut *$tx).await?;
            if $keep_payload {
                sqlx::query("UPDATE transactions SET provider_response = $2 WHERE id = $1").bind(row.id).bind(Json(rep.raw)).execute(&mut *$tx).await?;
            }
        }
        match &decision {
            Decision::Credit => {
                let user = row.real_user_id.ok_or_else(|| StoreError::Invalid("a purchase without a buyer cannot be credited".into()))?;
                let key = format!("purchase:{}", row.provider_reference);
                let movement = crate::ledger::Movement {
                    user, delta: Credits(row.credits_amount), reason: LedgerReason::Purchase,
                    reference: Some(&row.provider_reference), idempotency_key: &key, created_by: None,
                };
                let b = applied(CREDITS.post_in(&mut *$tx, &movement.posting(), now).await?)?;
                emit_balance!($tx, user, b, now);
                let before: UserTier = sqlx::query_scalar("SELECT user_tier FROM real_users WHERE id = $1").bind(user).fetch_one(&mut *$tx).await?;
                let spent: i64 = sqlx::query_scalar("UPDATE real_users SET total_spent_cents = total_spent_cents + $2, updated_at = $3 WHERE id = $1 RETURNING total_spent_cents")
                    .bind(user).bind(row.amount_cents).bind(now).fetch_one(&mut *$tx).await?;
                // Tiers follow lifetime spend and move in the same transaction.
                let after = UserTier::from_spend(Kes(spent));
                if after != before {
                    sqlx::query("UPDATE real_users SET user_tier = $2 WHERE id = $1").bind(user).bind(after).execute(&mut *$tx).await?;
                }
                sqlx::query("UPDATE transactions SET status = 'success', completed_at = $2, failure_reason = NULL, needs_manual_review = FALSE,
                                    reviewed_by = COALESCE($3, reviewed_by), reviewed_at = CASE WHEN $3 IS NULL THEN reviewed_at ELSE $2 END
                             WHERE id = $1")
                    .bind(row.id).bind(now).bind(reviewer).execute(&mut *$tx).await?;
                balance = Some(b);
                tier = Some((before, after));
            }
            Decision::Review(reason) => {
                sqlx::query("UPDATE transactions SET status = 'processing', needs_manual_review = TRUE, review_reason = $2 WHERE id = $1")
                    .bind(row.id).bind(reason).execute(&mut *$tx).await?;
                notify_admins!($tx, format!("Payment {} needs review: {reason}", row.provider_reference), now);
            }
            Decision::Fail { review, reason } => {
                let why = rep.gateway_response.unwrap_or(reason.as_str());
                sqlx::query("UPDATE transactions SET status = 'failed', failure_reason = $2, needs_manual_review = (needs_manual_review OR $3),
                                    review_reason = CASE WHEN $3 THEN $4 ELSE review_reason END,
                                    reviewed_by = COALESCE($5, reviewed_by), reviewed_at = CASE WHEN $5 IS NULL THEN reviewed_at ELSE $6 END
                             WHERE id = $1")
                    .bind(row.id).bind(why).bind(*review).bind(reason).bind(reviewer).bind(now).execute(&mut *$tx).await?;
                if *review {
                    notify_admins!($tx, format!("Payment {} failed: {why}", row.provider_reference), now);
                }
            }
            Decision::AlreadyCredited | Decision::AwaitCheckout | Decision::Wait => {}
        }
        (balance, tier)
    }};
}

/// Raises a back-office notice inside the caller's transaction.
macro_rules! notify_admins {
    ($tx:expr, $message:expr, $now:expr) => {{
        let notice = platform_audit::NewNotice {
            kind: "payment_failed",
            title: crate::notifications::title_of("payment_failed"),
            body: &$message,
            link: Some("/admin/payments"),
            audience: platform_audit::Audience::Everyone,
        };
        platform_audit::notify_in(&mut *$tx, &notice, $now).await?;
    }};
}

/// A report kept on a row whose checkout was not recorded yet.
#[derive(sqlx::FromRow)]
struct EarlyReport {
    provider_status: Option<ChargeStatus>,
    reported_amount_cents: Option<i64>,
    reported_currency: Option<String>,
    failure_reason: Option<String>,
}

/// Records the checkout the provider opened, with the package snapshot as
/// the price lock. If a report for this reference arrived first, it is
/// decided now, in the same transaction.
pub async fn record_checkout(db: &Db, c: &NewCheckout<'_>) -> StoreResult<Settlement> {
    let now = Utc::now();
    let credits = c.snapshot.credits + c.snapshot.bonus_credits;
    let sql = format!(
        "INSERT INTO transactions (id, real_user_id, type, amount_cents, currency, credits_amount, payment_provider, provider_reference, status,
                                   package_id, package_snapshot, authorization_url, created_at)
         VALUES ($1, $2, 'purchase', $3, $4, $5, $6, $7, 'pending', $8, $9, $10, $11)
         ON CONFLICT (provider_reference) DO UPDATE SET real_user_id = excluded.real_user_id, amount_cents = excluded.amount_cents,
             currency = excluded.currency, credits_amount = excluded.credits_amount, package_id = excluded.package_id,
             package_snapshot = excluded.package_snapshot, authorization_url = excluded.authorization_url, payment_provider = excluded.payment_provider
           WHERE transactions.real_user_id IS NULL
         RETURNING {LOCKED_COLUMNS}");
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let row: Option<Locked> = sqlx::query_as(&sql)
            .bind(TransactionId::new()).bind(c.user).bind(c.snapshot.price_cents).bind(&c.snapshot.currency).bind(credits)
            .bind(c.provider).bind(c.reference).bind(c.snapshot.package_id).bind(Json(c.snapshot)).bind(c.authorization_url).bind(now)
            .fetch_optional(&mut *tx).await?;
        // Another checkout already owns this reference.
        let row = row.ok_or_else(|| StoreError::Conflict("provider_reference".into()))?;
        let early: Option<EarlyReport> = sqlx::query_as(
            "SELECT provider_status, reported_amount_cents, reported_currency, failure_reason FROM transactions WHERE id = $1")
            .bind(row.id).fetch_optional(&mut *tx).await?;
        let (mut decision, mut balance, mut tier) = (Decision::Wait, None, None);
        if let Some(EarlyReport { provider_status: Some(status), reported_amount_cents: Some(amount), reported_currency: Some(currency), failure_reason: gateway }) = early {
            let raw = serde_json::Value::Null;
            let rep = Reported { status, amount_cents: amount, currency: &currency, gateway_response: gateway.as_deref(), raw: &raw };
            decision = decide(&row.local(), &Report { status, amount: Kes(amount), currency: currency.clone() });
            (balance, tier) = apply_decision!(tx, &row, &rep, decision.clone(), now, None, false);
        }
        let transaction: Transaction = sqlx::query_as(&format!("SELECT {TX_COLUMNS} FROM transactions WHERE id = $1")).bind(row.id).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(Settlement { transaction, decision, balance, tier })
    })
}

/// Applies a provider report to the transaction with `reference`. A webhook
/// for a reference we have not recorded yet creates a placeholder row that
/// keeps the report until the checkout is recorded.
pub async fn settle(db: &Db, reference: &str, rep: &Reported<'_>, source: Source<'_>) -> StoreResult<Settlement> {
    let now = Utc::now();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        // Both statements take the row lock before reading the row.
        let row: Option<Locked> = match source {
            Source::Webhook { provider } => sqlx::query_as(&format!(
                "INSERT INTO transactions (id, real_user_id, type, amount_cents, currency, credits_amount, payment_provider, provider_reference, status,
                                           webhook_received_count, last_webhook_at, created_at)
                 VALUES ($1, NULL, 'purchase', $2, $3, 0, $4, $5, 'pending', 1, $6, $6)
                 ON CONFLICT (provider_reference) DO UPDATE SET webhook_received_count = transactions.webhook_received_count + 1,
                     last_webhook_at = excluded.last_webhook_at
                 RETURNING {LOCKED_COLUMNS}"))
                .bind(TransactionId::new()).bind(rep.amount_cents).bind(rep.currency).bind(provider).bind(reference).bind(now)
                .fetch_optional(&mut *tx).await?,
            Source::Verify { .. } => sqlx::query_as(&format!("UPDATE transactions SET last_verified_at = $2 WHERE provider_reference = $1 RETURNING {LOCKED_COLUMNS}"))
                .bind(reference).bind(now).fetch_optional(&mut *tx).await?,
        };
        let row = row.ok_or(StoreError::NotFound)?;
        let decision = decide(&row.local(), &Report { status: rep.status, amount: Kes(rep.amount_cents), currency: rep.currency.to_string() });
        if decision == Decision::AwaitCheckout {
            // Keep the gateway's words with the early report.
            sqlx::query("UPDATE transactions SET failure_reason = $2 WHERE id = $1").bind(row.id).bind(rep.gateway_response).execute(&mut *tx).await?;
        }
        let reviewer = match source { Source::Verify { by } => by, Source::Webhook { .. } => None };
        let (balance, tier) = apply_decision!(tx, &row, rep, decision.clone(), now, reviewer, true);
        let transaction: Transaction = sqlx::query_as(&format!("SELECT {TX_COLUMNS} FROM transactions WHERE id = $1")).bind(row.id).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(Settlement { transaction, decision, balance, tier })
    })
}

pub async fn by_id(db: &Db, id: TransactionId) -> StoreResult<Transaction> {
    let sql = format!("SELECT {TX_COLUMNS} FROM transactions WHERE id = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Transaction>(&sql).bind(id).fetch_one(p).await?))
}

pub async fn by_reference(db: &Db, reference: &str) -> StoreResult<Transaction> {
    let sql = format!("SELECT {TX_COLUMNS} FROM transactions WHERE provider_reference = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Transaction>(&sql).bind(reference).fetch_one(p).await?))
}

/// A user's purchases, newest first.
pub async fn for_user(db: &Db, user: UserId, limit: i64) -> StoreResult<Vec<Transaction>> {
    let sql = format!("SELECT {TX_COLUMNS} FROM transactions WHERE real_user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Transaction>(&sql).bind(user).bind(limit).fetch_all(p).await?))
}

/// What the back office must look at: anything flagged for review, failed
/// payments, and checkouts still pending after `stale_before`.
pub async fn review_queue(db: &Db, stale_before: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Transaction>> {
    let sql = format!(
        "SELECT {TX_COLUMNS} FROM transactions
                       WHERE needs_manual_review OR status = 'failed' OR status = 'processing' OR (status = 'pending' AND created_at < $1)
                       ORDER BY needs_manual_review DESC, created_at DESC LIMIT $2"
    );
    Ok(on_pool!(db, p => sqlx::query_as::<_, Transaction>(&sql).bind(stale_before).bind(limit).fetch_all(p).await?))
}

/// Checkouts pending since before `before` that nobody has asked the
/// provider about since then (the reconciliation job's work list).
pub async fn stale_pending(db: &Db, before: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Transaction>> {
    let sql = format!("SELECT {TX_COLUMNS} FROM transactions
                       WHERE status = 'pending' AND real_user_id IS NOT NULL AND created_at < $1 AND (last_verified_at IS NULL OR last_verified_at < $1)
                       ORDER BY created_at LIMIT $2");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Transaction>(&sql).bind(before).bind(limit).fetch_all(p).await?))
}

/// Flags webhooks whose checkout never got recorded (since before
/// `before`) for review; returns how many.
pub async fn flag_orphans(db: &Db, before: DateTime<Utc>) -> StoreResult<u64> {
    let sql = "UPDATE transactions SET needs_manual_review = TRUE, review_reason = 'Provider reported a payment we have no checkout for'
               WHERE real_user_id IS NULL AND NOT needs_manual_review AND created_at < $1";
    Ok(on_pool!(db, p => sqlx::query(sql).bind(before).execute(p).await?.rows_affected()))
}

/// Closes a review without moving money (the admin has dealt with it
/// elsewhere, e.g. refunded the card); audited in the same transaction.
pub async fn dismiss_review(db: &Db, id: TransactionId, by: AdminId, note: &str) -> StoreResult<()> {
    let now = Utc::now();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("UPDATE transactions SET needs_manual_review = FALSE, reviewed_by = $2, reviewed_at = $3 WHERE id = $1 AND needs_manual_review")
            .bind(id).bind(by).bind(now).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let after = serde_json::json!({ "note": note });
        platform_audit::record_in(&mut *tx, &Actor::admin(by).record("payment_review_closed").subject("transaction", &id.to_string()).change(None, Some(&after)), now).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Webhook delivery counts across all transactions.
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct WebhookTotals {
    pub deliveries: i64,
    /// Deliveries beyond the first for their transaction.
    pub duplicates: i64,
    /// Transactions that received more than one delivery.
    pub transactions_with_duplicates: i64,
    pub awaiting_review: i64,
}

pub async fn webhook_totals(db: &Db) -> StoreResult<WebhookTotals> {
    let sql = "SELECT CAST(COALESCE(SUM(webhook_received_count), 0) AS BIGINT) AS deliveries,
                      CAST(COALESCE(SUM(CASE WHEN webhook_received_count > 1 THEN webhook_received_count - 1 ELSE 0 END), 0) AS BIGINT) AS duplicates,
                      CAST(COALESCE(SUM(CASE WHEN webhook_received_count > 1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS transactions_with_duplicates,
                      CAST(COALESCE(SUM(CASE WHEN needs_manual_review THEN 1 ELSE 0 END), 0) AS BIGINT) AS awaiting_review
               FROM transactions";
    Ok(on_pool!(db, p => sqlx::query_as::<_, WebhookTotals>(sql).fetch_one(p).await?))
}
