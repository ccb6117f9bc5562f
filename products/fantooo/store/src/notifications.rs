//! Notifications for admins (escalations, suspensions, payment problems)
//! and for users (a closed chat, a refund). Admin alerts also go out live.

use crate::{on_pool, Db, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::{NotificationId, UserId};
use serde::Serialize;
use sqlx::types::Json;

/// Inserts an admin notification and its live alert inside the caller's
/// transaction. `$kind` is one of the schema's types (chat_escalation, …).
#[macro_export]
#[doc(hidden)]
macro_rules! notify_admins {
    ($tx:expr, $kind:expr, $priority:expr, $message:expr, $metadata:expr, $now:expr) => {{
        let message: String = $message;
        sqlx::query("INSERT INTO admin_notifications (id, type, message, metadata, priority, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(fantooo_domain::ids::NotificationId::new())
            .bind($kind)
            .bind(&message)
            .bind(sqlx::types::Json($metadata))
            .bind($priority)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
        $crate::emit_operator_event!(
            $tx,
            None::<fantooo_domain::ids::OperatorId>,
            $crate::events::EventBody::AdminAlert { alert: $kind.to_string(), message },
            $now
        );
    }};
}

/// Inserts a user notification inside the caller's transaction.
#[macro_export]
#[doc(hidden)]
macro_rules! notify_user {
    ($tx:expr, $user:expr, $kind:expr, $message:expr, $now:expr) => {
        sqlx::query("INSERT INTO notifications (id, user_id, type, message, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(fantooo_domain::ids::NotificationId::new())
            .bind($user)
            .bind($kind)
            .bind($message)
            .bind($now)
            .execute(&mut *$tx)
            .await?
    };
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AdminNotification {
    pub id: NotificationId,
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    pub metadata: Option<Json<serde_json::Value>>,
    pub priority: String,
    pub is_read: bool,
    pub created_at: DateTime<Utc>,
}

pub async fn admin_recent(db: &Db, unread_only: bool, limit: i64) -> StoreResult<Vec<AdminNotification>> {
    let sql = "SELECT id, type, message, metadata, priority, is_read, created_at FROM admin_notifications
               WHERE ($1 = FALSE OR is_read = FALSE) ORDER BY created_at DESC LIMIT $2";
    Ok(on_pool!(db, p => sqlx::query_as::<_, AdminNotification>(sql).bind(unread_only).bind(limit).fetch_all(p).await?))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UserNotification {
    pub id: NotificationId,
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    pub is_read: bool,
    pub created_at: DateTime<Utc>,
}

pub async fn for_user(db: &Db, user: UserId, limit: i64) -> StoreResult<Vec<UserNotification>> {
    let sql = "SELECT id, type, message, is_read, created_at FROM notifications WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2";
    Ok(on_pool!(db, p => sqlx::query_as::<_, UserNotification>(sql).bind(user).bind(limit).fetch_all(p).await?))
}

/// Marks one admin notification read, or all unread ones when `id` is None.
pub async fn mark_admin_read(db: &Db, id: Option<NotificationId>, by: fantooo_domain::ids::AdminId) -> StoreResult<u64> {
    let sql = "UPDATE admin_notifications SET is_read = TRUE, read_by = $2, read_at = $3 WHERE is_read = FALSE AND ($1 IS NULL OR id = $1)";
    Ok(on_pool!(db, p => sqlx::query(sql).bind(id).bind(by).bind(Utc::now()).execute(p).await?.rows_affected()))
}

pub async fn admin_unread_count(db: &Db) -> StoreResult<i64> {
    Ok(on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM admin_notifications WHERE is_read = FALSE").fetch_one(p).await?))
}
