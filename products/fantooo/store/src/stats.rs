//! Headline numbers for the admin dashboard.

use crate::{on_pool, Db, StoreResult};
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct Totals {
    pub users: i64,
    pub profiles: i64,
    pub operators: i64,
    pub operators_online: i64,
    pub active_chats: i64,
    pub queue_length: i64,
    pub unread_notifications: i64,
}

/// All dashboard counts in one round trip.
pub async fn totals(db: &Db) -> StoreResult<Totals> {
    let sql = "SELECT
        (SELECT COUNT(*) FROM real_users WHERE deleted_at IS NULL) AS users,
        (SELECT COUNT(*) FROM fictional_users WHERE deleted_at IS NULL) AS profiles,
        (SELECT COUNT(*) FROM operators WHERE deleted_at IS NULL) AS operators,
        (SELECT COUNT(*) FROM operators WHERE deleted_at IS NULL AND is_available AND NOT is_suspended) AS operators_online,
        (SELECT COUNT(*) FROM chats WHERE status = 'active') AS active_chats,
        (SELECT COUNT(*) FROM chat_queue) AS queue_length,
        (SELECT COUNT(*) FROM admin_notices n WHERE NOT EXISTS (SELECT 1 FROM admin_notice_reads r WHERE r.notice_id = n.id)) AS unread_notifications";
    Ok(on_pool!(db, p => sqlx::query_as::<_, Totals>(sql).fetch_one(p).await?))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ChatSummary {
    pub id: fantooo_domain::ids::ChatId,
    pub username: String,
    pub profile_name: String,
    pub status: String,
    pub message_count: i64,
    pub total_credits_spent: i64,
    pub last_message_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Most recently active chats, optionally filtered by status.
pub async fn recent_chats(db: &Db, status: Option<&str>, limit: i64) -> StoreResult<Vec<ChatSummary>> {
    let sql = "SELECT c.id, u.username, f.name AS profile_name, c.status, c.message_count, c.total_credits_spent, c.last_message_at
               FROM chats c JOIN real_users u ON u.id = c.real_user_id JOIN fictional_users f ON f.id = c.fictional_user_id
               WHERE ($1 IS NULL OR c.status = $1) ORDER BY c.last_message_at DESC, c.id LIMIT $2";
    Ok(on_pool!(db, p => sqlx::query_as::<_, ChatSummary>(sql).bind(status).bind(limit).fetch_all(p).await?))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TransactionSummary {
    pub id: fantooo_domain::ids::TransactionId,
    pub username: Option<String>,
    pub kind: String,
    pub amount_cents: i64,
    pub credits_amount: i64,
    pub status: String,
    pub provider_reference: String,
    pub webhook_received_count: i64,
    pub needs_manual_review: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

pub async fn recent_transactions(db: &Db, limit: i64) -> StoreResult<Vec<TransactionSummary>> {
    let sql = "SELECT t.id, u.username, t.type AS kind, t.amount_cents, t.credits_amount, t.status, t.provider_reference, t.webhook_received_count, t.needs_manual_review, t.created_at
               FROM transactions t LEFT JOIN real_users u ON u.id = t.real_user_id ORDER BY t.created_at DESC LIMIT $1";
    Ok(on_pool!(db, p => sqlx::query_as::<_, TransactionSummary>(sql).bind(limit).fetch_all(p).await?))
}

/// A user's sign-up or successful purchase, for the dashboard's activity.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UserEvent {
    /// `signup` or `purchase`.
    pub kind: String,
    pub user_id: fantooo_domain::ids::UserId,
    pub username: String,
    pub amount_cents: i64,
    pub credits: i64,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// The newest sign-ups and successful purchases, newest first.
pub async fn user_events(db: &Db, limit: i64) -> StoreResult<Vec<UserEvent>> {
    let sql = "SELECT kind, user_id, username, amount_cents, credits, at FROM (
                 SELECT * FROM (SELECT 'signup' AS kind, u.id AS user_id, u.username, CAST(0 AS BIGINT) AS amount_cents,
                                       CAST(0 AS BIGINT) AS credits, u.created_at AS at
                                FROM real_users u ORDER BY u.created_at DESC LIMIT $1) s
                 UNION ALL
                 SELECT * FROM (SELECT 'purchase' AS kind, u.id AS user_id, u.username, t.amount_cents, t.credits_amount AS credits, t.created_at AS at
                                FROM transactions t JOIN real_users u ON u.id = t.real_user_id
                                WHERE t.type = 'purchase' AND t.status = 'success' ORDER BY t.created_at DESC LIMIT $1) p
               ) e ORDER BY at DESC LIMIT $1";
    Ok(on_pool!(db, p => sqlx::query_as::<_, UserEvent>(sql).bind(limit).fetch_all(p).await?))
}
