//! A user's protection from a profile: blocking it (the chat closes and
//! stays closed for both sides until the user unblocks), and reporting it
//! to the staff's review queue (admins are notified).

use crate::{notify_admins, on_pool, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::chat::{ReportReason, ReportStatus};
use fantooo_domain::ids::{AdminId, ChatId, ProfileId, RowId, UserId};
use serde::Serialize;

/// Blocks `profile` for `user`; returns the chat to close, if they have one.
pub async fn block(db: &Db, user: UserId, profile: ProfileId, now: DateTime<Utc>) -> StoreResult<Option<ChatId>> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let exists: Option<ProfileId> = sqlx::query_scalar("SELECT id FROM fictional_users WHERE id = $1").bind(profile).fetch_optional(&mut *tx).await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query("INSERT INTO profile_blocks (user_id, profile_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(user).bind(profile).bind(now).execute(&mut *tx).await?;
        let chat: Option<ChatId> = sqlx::query_scalar("SELECT id FROM chats WHERE real_user_id = $1 AND fictional_user_id = $2")
            .bind(user).bind(profile).fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        Ok(chat)
    })
}

/// Lifts a block; the user's next message reopens the chat.
pub async fn unblock(db: &Db, user: UserId, profile: ProfileId) -> StoreResult<bool> {
    let sql = "DELETE FROM profile_blocks WHERE user_id = $1 AND profile_id = $2";
    Ok(on_pool!(db, p => sqlx::query(sql).bind(user).bind(profile).execute(p).await?.rows_affected()) > 0)
}

pub async fn is_blocked(db: &Db, user: UserId, profile: ProfileId) -> StoreResult<bool> {
    let sql = "SELECT COUNT(*) FROM profile_blocks WHERE user_id = $1 AND profile_id = $2";
    Ok(on_pool!(db, p => sqlx::query_scalar::<_, i64>(sql).bind(user).bind(profile).fetch_one(p).await?) > 0)
}

/// A report in the staff's queue.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Report {
    pub id: RowId,
    pub user_id: UserId,
    pub username: String,
    pub profile_id: ProfileId,
    pub profile_name: String,
    pub chat_id: Option<ChatId>,
    pub reason: ReportReason,
    pub details: Option<String>,
    pub status: ReportStatus,
    pub handled_by: Option<AdminId>,
    pub handled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT r.id, r.user_id, u.username, r.profile_id, f.name AS profile_name, r.chat_id, r.reason, r.details, r.status,
        r.handled_by, r.handled_at, r.created_at
    FROM profile_reports r JOIN real_users u ON u.id = r.user_id JOIN fictional_users f ON f.id = r.profile_id";

/// Files a report and tells the admins, in one transaction.
pub async fn report(
    db: &Db,
    user: UserId,
    profile: ProfileId,
    reason: ReportReason,
    details: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<RowId> {
    let id = RowId::new();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM fictional_users WHERE id = $1").bind(profile).fetch_optional(&mut *tx).await?;
        let Some(name) = name else { return Err(StoreError::NotFound) };
        let chat: Option<ChatId> = sqlx::query_scalar("SELECT id FROM chats WHERE real_user_id = $1 AND fictional_user_id = $2")
            .bind(user).bind(profile).fetch_optional(&mut *tx).await?;
        sqlx::query("INSERT INTO profile_reports (id, user_id, profile_id, chat_id, reason, details, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id).bind(user).bind(profile).bind(chat).bind(reason).bind(details).bind(now).execute(&mut *tx).await?;
        let metadata = serde_json::json!({ "report_id": id, "profile_id": profile, "chat_id": chat, "reason": reason });
        notify_admins!(tx, "security_alert", format!("A user reported the profile {name}: {}", reason.label()), metadata, now);
        tx.commit().await?;
    });
    Ok(id)
}

/// Reports waiting for staff, oldest first.
pub async fn pending(db: &Db, limit: i64) -> StoreResult<Vec<Report>> {
    let sql = format!("{SELECT} WHERE r.status = 'pending' ORDER BY r.created_at, r.id LIMIT $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Report>(&sql).bind(limit).fetch_all(p).await?))
}

/// The most recently handled reports.
pub async fn handled(db: &Db, limit: i64) -> StoreResult<Vec<Report>> {
    let sql = format!("{SELECT} WHERE r.status <> 'pending' ORDER BY r.handled_at DESC, r.id LIMIT $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Report>(&sql).bind(limit).fetch_all(p).await?))
}

/// Closes a pending report as resolved or dismissed, audited in the same
/// transaction; a report already handled is a conflict.
pub async fn decide(db: &Db, id: RowId, decision: ReportStatus, admin: AdminId, ip: Option<&str>, now: DateTime<Utc>) -> StoreResult<()> {
    if decision == ReportStatus::Pending {
        return Err(StoreError::Invalid("A decision is resolve or dismiss".into()));
    }
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("UPDATE profile_reports SET status = $2, handled_by = $3, handled_at = $4 WHERE id = $1 AND status = 'pending'")
            .bind(id).bind(decision).bind(admin).bind(now).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            let exists: Option<RowId> = sqlx::query_scalar("SELECT id FROM profile_reports WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
            return Err(match exists {
                None => StoreError::NotFound,
                Some(_) => StoreError::Conflict("This report has already been handled.".into()),
            });
        }
        let (actor, report, after) = (crate::audit::Actor::admin(admin), id.to_string(), serde_json::json!({ "status": decision }));
        let entry = actor.record("profile_report_decided").subject("profile_report", &report).change(None, Some(&after)).ip(ip);
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        tx.commit().await?;
    });
    Ok(())
}
