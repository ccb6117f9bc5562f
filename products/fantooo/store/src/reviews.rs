//! Sign-ups flagged for review because they came from a banned user's
//! address or device: the admins' queue, and its allow / ban decisions
//! (each audited in the same transaction).

use crate::audit::Actor;
use crate::user_admin::ban_in_tx;
use crate::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::account::ReviewStatus;
use fantooo_domain::ids::{AdminId, RowId, UserId};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Review {
    pub id: RowId,
    pub user_id: UserId,
    pub username: String,
    pub banned_user_id: UserId,
    pub banned_username: String,
    pub ip_address: Option<String>,
    pub device_fingerprint: Option<String>,
    pub status: ReviewStatus,
    pub decided_by: Option<AdminId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const SELECT: &str =
    "SELECT r.id, r.user_id, u.username, r.banned_user_id, b.username AS banned_username, r.ip_address, r.device_fingerprint,
        r.status, r.decided_by, r.decided_at, r.created_at
    FROM signup_reviews r JOIN real_users u ON u.id = r.user_id JOIN real_users b ON b.id = r.banned_user_id";

/// Reviews waiting for a decision, oldest first.
pub async fn pending(db: &Db, limit: i64) -> StoreResult<Vec<Review>> {
    let sql = format!("{SELECT} WHERE r.status = 'pending' ORDER BY r.created_at, r.id LIMIT $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Review>(&sql).bind(limit).fetch_all(p).await?))
}

/// The most recent decisions.
pub async fn decided(db: &Db, limit: i64) -> StoreResult<Vec<Review>> {
    let sql = format!("{SELECT} WHERE r.status <> 'pending' ORDER BY r.decided_at DESC, r.id LIMIT $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Review>(&sql).bind(limit).fetch_all(p).await?))
}

pub async fn by_id(db: &Db, id: RowId) -> StoreResult<Review> {
    let sql = format!("{SELECT} WHERE r.id = $1");
    on_pool!(db, p => sqlx::query_as::<_, Review>(&sql).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// The review of an account, if its sign-up was flagged.
pub async fn status_of(db: &Db, user: UserId) -> StoreResult<Option<ReviewStatus>> {
    Ok(on_pool!(db, p => sqlx::query_scalar("SELECT status FROM signup_reviews WHERE user_id = $1").bind(user).fetch_optional(p).await?))
}

pub async fn pending_count(db: &Db) -> StoreResult<i64> {
    Ok(on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM signup_reviews WHERE status = 'pending'").fetch_one(p).await?))
}

/// Decides a pending review: `Allowed` lets the account be, `Banned` bans
/// it (permanently, like the user it matched) — the decision, the ban and
/// the audit entry commit together. A review already decided is a conflict.
pub async fn decide(db: &Db, id: RowId, decision: ReviewStatus, admin: AdminId, ip: Option<&str>) -> StoreResult<Review> {
    if decision == ReviewStatus::Pending {
        return Err(StoreError::Invalid("A decision is allow or ban".into()));
    }
    let now = Utc::now();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let user: Option<UserId> = sqlx::query_scalar(
            "UPDATE signup_reviews SET status = $2, decided_by = $3, decided_at = $4 WHERE id = $1 AND status = 'pending' RETURNING user_id")
            .bind(id).bind(decision).bind(admin).bind(now).fetch_optional(&mut *tx).await?;
        let Some(user) = user else {
            let exists: Option<RowId> = sqlx::query_scalar("SELECT id FROM signup_reviews WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
            return Err(match exists {
                None => StoreError::NotFound,
                Some(_) => StoreError::Conflict("This sign-up has already been reviewed.".into()),
            });
        };
        if decision == ReviewStatus::Banned {
            let reason = "Ban circumvention: signed up from a banned user's address or device";
            let until: Option<DateTime<Utc>> = None;
            ban_in_tx!(tx, user, reason, until, admin, now);
        }
        let action = if decision == ReviewStatus::Banned { "signup_review_banned" } else { "signup_review_allowed" };
        let before = serde_json::json!({ "review_id": id, "status": "pending" });
        let after = serde_json::json!({ "review_id": id, "status": decision });
        platform_audit::record_in(&mut *tx, &Actor::admin(admin).record(action).subject("user", &user.to_string()).change(Some(&before), Some(&after)).ip(ip), now).await?;
        tx.commit().await?;
    });
    by_id(db, id).await
}
