//! What GigStream remembers of its payment providers: the checkout opened
//! for an order at each provider (and, once paid, the payment a refund
//! names), and what each refund became at the provider. Crediting escrow
//! is `orders::confirm_payment`; this module never moves money.

use chrono::{DateTime, Utc};
use gigstream_domain::ids::{AccountId, OrderId};
use gigstream_domain::Currency;
use platform_db::{on_pool, Db, StoreResult};
use serde::Serialize;

/// A checkout opened at a provider for an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CheckoutRow {
    pub order_id: OrderId,
    pub provider: String,
    pub checkout_id: String,
    pub payment_id: Option<String>,
}

/// Records (or replaces) the checkout opened for `order` at `provider`.
pub async fn record_checkout(db: &Db, order: OrderId, provider: &str, checkout_id: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = "INSERT INTO order_checkouts (order_id, provider, checkout_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
               ON CONFLICT (order_id, provider) DO UPDATE SET checkout_id = excluded.checkout_id, updated_at = excluded.updated_at
               WHERE order_checkouts.payment_id IS NULL";
    on_pool!(db, p => sqlx::query(sql).bind(order).bind(provider).bind(checkout_id).bind(now).execute(p).await?.rows_affected());
    Ok(())
}

/// Remembers the provider's payment id (what a refund names) for a paid order.
pub async fn record_payment(
    db: &Db,
    reference: &str,
    provider: &str,
    checkout_id: &str,
    payment_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = "INSERT INTO order_checkouts (order_id, provider, checkout_id, payment_id, created_at, updated_at)
               SELECT id, $2, $3, $4, $5, $5 FROM orders WHERE payment_reference = $1
               ON CONFLICT (order_id, provider) DO UPDATE SET payment_id = excluded.payment_id, updated_at = excluded.updated_at";
    on_pool!(db, p => sqlx::query(sql).bind(reference).bind(provider).bind(checkout_id).bind(payment_id).bind(now).execute(p).await?.rows_affected());
    Ok(())
}

/// Checkouts of unpaid orders last asked about before `before` (and
/// opened after `since`: an abandoned checkout is not asked about
/// forever), oldest first: what the reconcile job asks the provider about.
pub async fn stale_checkouts(db: &Db, before: DateTime<Utc>, since: DateTime<Utc>, limit: i64) -> StoreResult<Vec<CheckoutRow>> {
    let sql = "SELECT c.order_id, c.provider, c.checkout_id, c.payment_id FROM order_checkouts c JOIN orders o ON o.id = c.order_id
               WHERE o.status = 'placed' AND c.payment_id IS NULL AND c.updated_at <= $1 AND c.created_at >= $2
               ORDER BY c.updated_at, c.order_id LIMIT $3";
    Ok(on_pool!(db, p => sqlx::query_as(sql).bind(before).bind(since).bind(limit).fetch_all(p).await?))
}

/// Notes that a checkout was just asked about (the next ask waits a period).
pub async fn asked(db: &Db, order: OrderId, provider: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = "UPDATE order_checkouts SET updated_at = $3 WHERE order_id = $1 AND provider = $2 AND payment_id IS NULL";
    on_pool!(db, p => sqlx::query(sql).bind(order).bind(provider).bind(now).execute(p).await?.rows_affected());
    Ok(())
}

pub async fn checkouts(db: &Db, order: OrderId) -> StoreResult<Vec<CheckoutRow>> {
    let sql = "SELECT order_id, provider, checkout_id, payment_id FROM order_checkouts WHERE order_id = $1 ORDER BY created_at";
    Ok(on_pool!(db, p => sqlx::query_as(sql).bind(order).fetch_all(p).await?))
}

platform_kernel::text_enum! {
    /// Where a refund stands at the provider.
    pub enum RefundSent {
        /// Not yet confirmed by the provider (sent again by the job).
        Pending => "pending",
        Succeeded => "succeeded",
        Failed => "failed",
        /// The order was not paid through a provider (demo data).
        NoProvider => "none",
    }
}

/// A refund with what the provider needs to repeat it safely.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RefundRow {
    pub id: OrderId,
    pub order_id: OrderId,
    pub amount_minor: i64,
    /// Unique per refund: the provider's idempotency key.
    pub request_key: String,
    pub reason: String,
    pub provider_status: RefundSent,
    pub provider_refund_id: Option<String>,
    pub provider_error: Option<String>,
    pub created_by: Option<AccountId>,
    pub created_at: DateTime<Utc>,
    pub currency: Currency,
    pub provider: Option<String>,
    pub gig_title: String,
}

const REFUND_COLUMNS: &str = "r.id, r.order_id, r.amount_minor, r.request_key, r.reason, r.provider_status, r.provider_refund_id,
    r.provider_error, r.created_by, r.created_at, o.currency, o.payment_provider AS provider, o.gig_title";

/// Refunds the provider has not confirmed: of one order, or (None) all, oldest first.
pub async fn pending_refunds(db: &Db, order: Option<OrderId>, limit: i64) -> StoreResult<Vec<RefundRow>> {
    let sql = format!(
        "SELECT {REFUND_COLUMNS} FROM refunds r JOIN orders o ON o.id = r.order_id
         WHERE r.provider_status = 'pending' AND ($1 IS NULL OR r.order_id = $1) ORDER BY r.created_at, r.id LIMIT $2"
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(order).bind(limit).fetch_all(p).await?))
}

/// Every refund, newest first (the admin list), after `before` (created_at, id).
pub async fn refunds(db: &Db, before: Option<(DateTime<Utc>, OrderId)>, limit: i64) -> StoreResult<Vec<RefundRow>> {
    let (t, id) = before.map_or((None, None), |(t, id)| (Some(t), Some(id)));
    let sql = format!(
        "SELECT {REFUND_COLUMNS} FROM refunds r JOIN orders o ON o.id = r.order_id
         WHERE $1 IS NULL OR r.created_at < $1 OR (r.created_at = $1 AND r.id < $2)
         ORDER BY r.created_at DESC, r.id DESC LIMIT $3"
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(t).bind(id).bind(limit).fetch_all(p).await?))
}

/// Records the provider's answer about a refund (only while pending).
pub async fn refund_sent(
    db: &Db,
    id: OrderId,
    status: RefundSent,
    provider_refund_id: Option<&str>,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let sql = "UPDATE refunds SET provider_status = $2, provider_refund_id = COALESCE($3, provider_refund_id), provider_error = $4,
               sent_at = $5 WHERE id = $1 AND provider_status = 'pending'";
    let n = on_pool!(db, p => sqlx::query(sql).bind(id).bind(status).bind(provider_refund_id).bind(error).bind(now).execute(p).await?.rows_affected());
    Ok(n == 1)
}
