//! What the dashboards read: a seller's earnings, orders per status,
//! messages for the response rate, the activity across one's orders, and
//! a buyer's favourite gigs. The numbers are made from these rows by
//! `gigstream_domain::dashboard`.

use crate::search::{Hit, HIT_COLUMNS};
use chrono::{DateTime, Utc};
use gigstream_domain::dashboard::{Earned, Said};
use gigstream_domain::ids::{AccountId, GigId, OrderId};
use gigstream_domain::messaging::ConversationId;
use gigstream_domain::OrderStatus;
use platform_db::{on_pool, Db, StoreError, StoreResult};
use serde::Serialize;

/// A seller's earnings released at or after `since`.
pub async fn earned_since(db: &Db, seller: AccountId, since: DateTime<Utc>) -> StoreResult<Vec<Earned>> {
    let sql = "SELECT released_at, amount_minor FROM earnings WHERE seller_id = $1 AND released_at >= $2";
    let rows: Vec<(DateTime<Utc>, i64)> = on_pool!(db, p => sqlx::query_as(sql).bind(seller).bind(since).fetch_all(p).await?);
    Ok(rows.into_iter().map(|(at, amount_minor)| Earned { at, amount_minor }).collect())
}

/// How many of an account's orders are in each status, as seller or buyer.
pub async fn status_counts(db: &Db, account: AccountId, as_seller: bool) -> StoreResult<Vec<(OrderStatus, i64)>> {
    let col = if as_seller { "seller_id" } else { "buyer_id" };
    let sql = format!("SELECT status, COUNT(*) FROM orders WHERE {col} = $1 GROUP BY status");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(account).fetch_all(p).await?))
}

/// The seller's orders under way past their delivery date.
pub async fn late_count(db: &Db, seller: AccountId, now: DateTime<Utc>) -> StoreResult<i64> {
    let sql = "SELECT COUNT(*) FROM orders WHERE seller_id = $1 AND status IN ('in_progress', 'revision_requested') AND due_at < $2";
    Ok(on_pool!(db, p => sqlx::query_scalar(sql).bind(seller).bind(now).fetch_one(p).await?))
}

/// Every message since `since` in conversations where `seller` sells.
pub async fn seller_messages(db: &Db, seller: AccountId, since: DateTime<Utc>) -> StoreResult<Vec<Said>> {
    let sql = "SELECT m.conversation_id, m.sender_id <> c.seller_id, m.created_at FROM messages m
               JOIN conversations c ON c.id = m.conversation_id WHERE c.seller_id = $1 AND m.created_at >= $2";
    let rows: Vec<(ConversationId, bool, DateTime<Utc>)> =
        on_pool!(db, p => sqlx::query_as(sql).bind(seller).bind(since).fetch_all(p).await?);
    Ok(rows.into_iter().map(|(conversation, from_buyer, at)| Said { conversation: conversation.to_string(), from_buyer, at }).collect())
}

/// One step on one of an account's orders.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Activity {
    pub order_id: OrderId,
    pub gig_title: String,
    pub action: String,
    pub actor: String,
    pub to_status: OrderStatus,
    /// The account sells this order (else it buys it).
    pub selling: bool,
    pub created_at: DateTime<Utc>,
}

/// The latest steps on the account's orders, either side, newest first.
pub async fn activity(db: &Db, account: AccountId, limit: i64) -> StoreResult<Vec<Activity>> {
    let sql = "SELECT e.order_id, o.gig_title, e.action, e.actor, e.to_status, o.seller_id = $1 AS selling, e.created_at
               FROM order_events e JOIN orders o ON o.id = e.order_id
               WHERE e.order_id IN (SELECT id FROM orders WHERE seller_id = $1 UNION ALL SELECT id FROM orders WHERE buyer_id = $1)
               ORDER BY e.seq DESC LIMIT $2";
    Ok(on_pool!(db, p => sqlx::query_as(sql).bind(account).bind(limit).fetch_all(p).await?))
}

/// Saves a live gig as one of the account's favourites (again: no change).
pub async fn add_favourite(db: &Db, account: AccountId, gig: GigId, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = "INSERT INTO favourites (account_id, gig_id, created_at)
               SELECT $1, id, $3 FROM gigs WHERE id = $2 AND status = 'active'
               ON CONFLICT (account_id, gig_id) DO NOTHING";
    on_pool!(db, p => sqlx::query(sql).bind(account).bind(gig).bind(now).execute(p).await?.rows_affected());
    if is_favourite(db, account, gig).await? {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Takes a gig off the account's favourites.
pub async fn remove_favourite(db: &Db, account: AccountId, gig: GigId) -> StoreResult<()> {
    let sql = "DELETE FROM favourites WHERE account_id = $1 AND gig_id = $2";
    on_pool!(db, p => sqlx::query(sql).bind(account).bind(gig).execute(p).await?.rows_affected());
    Ok(())
}

pub async fn is_favourite(db: &Db, account: AccountId, gig: GigId) -> StoreResult<bool> {
    let sql = "SELECT COUNT(*) FROM favourites WHERE account_id = $1 AND gig_id = $2";
    let n: i64 = on_pool!(db, p => sqlx::query_scalar(sql).bind(account).bind(gig).fetch_one(p).await?);
    Ok(n > 0)
}

/// The account's favourite gigs that are still live, newest saved first.
pub async fn favourites(db: &Db, account: AccountId, limit: i64) -> StoreResult<Vec<Hit>> {
    let sql = format!(
        "SELECT {HIT_COLUMNS}, CAST(0 AS DOUBLE PRECISION) AS rank FROM favourites f JOIN gigs g ON g.id = f.gig_id
         JOIN accounts a ON a.id = g.seller_id WHERE f.account_id = $1 AND g.status = 'active'
         ORDER BY f.created_at DESC, g.id DESC LIMIT $2"
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(account).bind(limit).fetch_all(p).await?))
}
