//! Notifications for admins (escalations, suspensions, payment problems),
//! kept as the platform's admin notices (`platform_audit`, each admin with
//! its own read state), and for users (a closed chat, a refund). Admin
//! alerts also go out live.

use crate::{on_pool, Db, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::{NotificationId, UserId};
use serde::Serialize;

/// Raises an admin notice (the platform's `admin_notices`, to every admin)
/// and its live alert inside the caller's transaction. `$kind` is one of
/// [`ADMIN_KINDS`]; `$metadata` (JSON) names what it is about, which
/// becomes the notice's link ([`link_for`]).
#[macro_export]
#[doc(hidden)]
macro_rules! notify_admins {
    ($tx:expr, $kind:expr, $message:expr, $metadata:expr, $now:expr) => {{
        let message: String = $message;
        let kind: &str = $kind;
        let link = $crate::notifications::link_for(&$metadata);
        let notice = platform_audit::NewNotice {
            kind,
            title: $crate::notifications::title_of(kind),
            body: &message,
            link: link.as_deref(),
            audience: platform_audit::Audience::Everyone,
        };
        platform_audit::notify_in(&mut *$tx, &notice, $now).await?;
        $crate::emit_operator_event!(
            $tx,
            None::<fantooo_domain::ids::OperatorId>,
            $crate::events::EventBody::AdminAlert { alert: kind.to_string(), message },
            $now
        );
    }};
}

/// The kinds of admin notices and their titles.
pub const ADMIN_KINDS: &[(&str, &str)] = &[
    ("operator_suspended", "Operator suspended"),
    ("chat_escalation", "Chat escalated"),
    ("payment_failed", "Payment needs attention"),
    ("high_refund_rate", "High refund rate"),
    ("system_error", "System error"),
    ("security_alert", "Security alert"),
];

/// A notice's title from its kind.
pub fn title_of(kind: &str) -> &'static str {
    ADMIN_KINDS.iter().find(|(k, _)| *k == kind).map(|(_, t)| *t).unwrap_or("Notice")
}

/// The back-office page a notice's metadata points at.
pub fn link_for(metadata: &serde_json::Value) -> Option<String> {
    let id = |key: &str| metadata.get(key).and_then(|v| v.as_str()).map(str::to_string);
    if id("report_id").is_some() {
        Some("/admin/reports".to_string())
    } else if let Some(chat) = id("chat_id") {
        Some(format!("/admin/chats/{chat}"))
    } else if let Some(op) = id("operator_id") {
        Some(format!("/admin/operators/{op}"))
    } else if let Some(user) = id("banned_user_id") {
        Some(format!("/admin/users/{user}"))
    } else {
        id("transaction_id").map(|_| "/admin/payments".to_string())
    }
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

/// The admin reading notices, as the platform's notices know them.
pub fn reader(admin: &crate::admins::Admin) -> (String, String) {
    (admin.id.to_string(), admin.role.to_string())
}

/// The newest `limit` notices `admin` receives (only those it has not read, with `unread_only`).
pub async fn admin_recent(
    db: &Db,
    admin: &crate::admins::Admin,
    unread_only: bool,
    limit: i64,
) -> StoreResult<Vec<platform_audit::Notice>> {
    let (id, role) = reader(admin);
    platform_audit::notices(db, platform_audit::Reader { id: &id, role: Some(&role) }, unread_only, None, limit).await
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

/// Marks one notice (or, with `None`, every notice) read for `admin`.
pub async fn mark_admin_read(db: &Db, id: Option<platform_audit::NoticeId>, admin: &crate::admins::Admin) -> StoreResult<u64> {
    let (me, role) = reader(admin);
    platform_audit::mark_read(db, platform_audit::Reader { id: &me, role: Some(&role) }, id).await
}

/// How many notices `admin` has not read.
pub async fn admin_unread_count(db: &Db, admin: &crate::admins::Admin) -> StoreResult<i64> {
    let (me, role) = reader(admin);
    platform_audit::unread_count(db, platform_audit::Reader { id: &me, role: Some(&role) }).await
}
