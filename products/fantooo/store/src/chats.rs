//! Chats: one per (user, profile), created on first contact and found again
//! on every later one.

use crate::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::chat::{ChatParties, ChatStatus};
use fantooo_domain::ids::{ChatId, OperatorId, ProfileId, UserId};
use fantooo_domain::Credits;
use serde::Serialize;
use sqlx::types::Json;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Chat {
    pub id: ChatId,
    pub real_user_id: UserId,
    pub fictional_user_id: ProfileId,
    /// Never shown to users; staff views read it explicitly.
    #[serde(skip)]
    pub assigned_operator_id: Option<OperatorId>,
    pub status: ChatStatus,
    pub message_count: i64,
    pub free_messages_used: i64,
    pub paid_messages_count: i64,
    pub total_credits_spent: Credits,
    pub first_message_at: Option<DateTime<Utc>>,
    pub last_message_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const CHAT_COLUMNS: &str = "id, real_user_id, fictional_user_id, assigned_operator_id, status, message_count, free_messages_used,
                            paid_messages_count, total_credits_spent, first_message_at, last_message_at, created_at";

impl Chat {
    pub fn parties(&self) -> ChatParties {
        ChatParties { id: self.id, user: self.real_user_id, operator: self.assigned_operator_id }
    }
    /// Messages the user has written here (free and paid).
    pub fn user_messages(&self) -> i64 {
        self.free_messages_used + self.paid_messages_count
    }
}

/// The user's chat with a profile, created if it does not exist yet. Safe
/// under concurrent double clicks: the unique (user, profile) key decides,
/// and every caller gets the same chat back. `created` says whether this
/// call made it.
pub async fn open(db: &Db, user: UserId, profile: ProfileId) -> StoreResult<(Chat, bool)> {
    let now = Utc::now();
    let id = ChatId::new();
    let created = on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let listed: Option<ProfileId> = sqlx::query_scalar("SELECT id FROM fictional_users WHERE id = $1 AND is_active AND deleted_at IS NULL")
            .bind(profile).fetch_optional(&mut *tx).await?;
        if listed.is_none() {
            return Err(StoreError::NotFound);
        }
        let inserted: Option<ChatId> = sqlx::query_scalar(
            "INSERT INTO chats (id, real_user_id, fictional_user_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (real_user_id, fictional_user_id) DO NOTHING RETURNING id")
            .bind(id).bind(user).bind(profile).bind(now).fetch_optional(&mut *tx).await?;
        if inserted.is_some() {
            sqlx::query("UPDATE real_users SET total_chats = total_chats + 1 WHERE id = $1").bind(user).execute(&mut *tx).await?;
            sqlx::query("UPDATE fictional_users SET total_chats = total_chats + 1 WHERE id = $1").bind(profile).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        inserted.is_some()
    });
    let sql = format!("SELECT {CHAT_COLUMNS} FROM chats WHERE real_user_id = $1 AND fictional_user_id = $2");
    let chat = on_pool!(db, p => sqlx::query_as::<_, Chat>(&sql).bind(user).bind(profile).fetch_one(p).await?);
    Ok((chat, created))
}

pub async fn by_id(db: &Db, id: ChatId) -> StoreResult<Chat> {
    let sql = format!("SELECT {CHAT_COLUMNS} FROM chats WHERE id = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Chat>(&sql).bind(id).fetch_one(p).await?))
}

/// A row of the user's chat list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ChatSummary {
    pub id: ChatId,
    pub profile_id: ProfileId,
    pub profile_name: String,
    pub profile_pictures: Json<Vec<String>>,
    pub status: ChatStatus,
    pub message_count: i64,
    pub total_credits_spent: Credits,
    pub last_message_at: Option<DateTime<Utc>>,
    pub last_message: Option<String>,
    /// Replies the user has not read yet.
    pub unread: i64,
    /// The user blocked this profile.
    pub blocked: bool,
}

impl ChatSummary {
    pub fn picture(&self) -> &str {
        self.profile_pictures.0.first().map(String::as_str).unwrap_or("")
    }
}

/// The user's chats, most recent activity first.
pub async fn list_for_user(db: &Db, user: UserId, limit: i64) -> StoreResult<Vec<ChatSummary>> {
    let sql = "SELECT c.id, c.fictional_user_id AS profile_id, f.name AS profile_name, f.profile_pictures, c.status, c.message_count,
                      c.total_credits_spent, c.last_message_at,
                      (SELECT m.content FROM messages m WHERE m.chat_id = c.id AND m.deleted_at IS NULL ORDER BY m.seq DESC LIMIT 1) AS last_message,
                      c.user_unread AS unread,
                      EXISTS (SELECT 1 FROM profile_blocks b WHERE b.user_id = c.real_user_id AND b.profile_id = c.fictional_user_id) AS blocked
               FROM chats c JOIN fictional_users f ON f.id = c.fictional_user_id
               WHERE c.real_user_id = $1
               ORDER BY COALESCE(c.last_message_at, c.created_at) DESC LIMIT $2";
    Ok(on_pool!(db, p => sqlx::query_as::<_, ChatSummary>(sql).bind(user).bind(limit).fetch_all(p).await?))
}

/// Replies the user has not read, over all their chats.
pub async fn unread_total(db: &Db, user: UserId) -> StoreResult<i64> {
    let sql = "SELECT CAST(COALESCE(SUM(user_unread), 0) AS BIGINT) FROM chats WHERE real_user_id = $1";
    Ok(on_pool!(db, p => sqlx::query_scalar(sql).bind(user).fetch_one(p).await?))
}

/// What staff see of a chat beyond its messages.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StaffChat {
    pub id: ChatId,
    pub assigned_operator_id: Option<OperatorId>,
    pub assignment_time: Option<DateTime<Utc>>,
    pub assignment_count: i64,
    pub previous_operator_ids: Json<Vec<OperatorId>>,
    pub operator_notes: Option<String>,
    pub admin_notes: Option<String>,
    pub flags: Json<Vec<String>>,
    pub close_reason: Option<String>,
    pub idle_warned_at: Option<DateTime<Utc>>,
}

pub async fn staff_view(db: &Db, id: ChatId) -> StoreResult<StaffChat> {
    let sql =
        "SELECT id, assigned_operator_id, assignment_time, assignment_count, previous_operator_ids, operator_notes, admin_notes, flags,
                      close_reason, idle_warned_at FROM chats WHERE id = $1";
    Ok(on_pool!(db, p => sqlx::query_as::<_, StaffChat>(sql).bind(id).fetch_one(p).await?))
}

/// Staff notes about the user of this chat.
pub async fn set_operator_notes(db: &Db, id: ChatId, notes: Option<&str>) -> StoreResult<()> {
    let sql = "UPDATE chats SET operator_notes = $2, updated_at = $3 WHERE id = $1";
    on_pool!(db, p => { sqlx::query(sql).bind(id).bind(notes).bind(Utc::now()).execute(p).await?; });
    Ok(())
}

/// The user rates their chat (1–5). The rating counts for the operator who
/// last answered in it, whose average is recomputed in the same
/// transaction; rating again replaces the earlier rating.
pub async fn rate(db: &Db, id: ChatId, user: UserId, rating: i64) -> StoreResult<Option<OperatorId>> {
    if !(1..=5).contains(&rating) {
        return Err(StoreError::Invalid("rating must be 1 to 5".into()));
    }
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let before: Option<(Option<OperatorId>,)> = sqlx::query_as("SELECT rated_operator_id FROM chats WHERE id = $1 AND real_user_id = $2")
            .bind(id).bind(user).fetch_optional(&mut *tx).await?;
        let Some((before,)) = before else { return Err(StoreError::NotFound) };
        let answered_by: Option<OperatorId> = sqlx::query_scalar(
            "SELECT handled_by_operator_id FROM messages WHERE chat_id = $1 AND handled_by_operator_id IS NOT NULL ORDER BY seq DESC LIMIT 1")
            .bind(id).fetch_optional(&mut *tx).await?;
        sqlx::query("UPDATE chats SET user_satisfaction_rating = $2, rated_operator_id = $3, updated_at = $4 WHERE id = $1")
            .bind(id).bind(rating).bind(answered_by).bind(Utc::now()).execute(&mut *tx).await?;
        for op in [before, answered_by].into_iter().flatten() {
            sqlx::query("UPDATE operators SET
                           average_user_rating = COALESCE((SELECT CAST(AVG(user_satisfaction_rating) AS DOUBLE PRECISION) FROM chats WHERE rated_operator_id = $1 AND user_satisfaction_rating IS NOT NULL), 0),
                           total_ratings = (SELECT COUNT(*) FROM chats WHERE rated_operator_id = $1 AND user_satisfaction_rating IS NOT NULL)
                         WHERE id = $1")
                .bind(op).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(answered_by)
    })
}

pub async fn rating(db: &Db, id: ChatId) -> StoreResult<Option<i64>> {
    let sql = "SELECT user_satisfaction_rating FROM chats WHERE id = $1";
    Ok(on_pool!(db, p => sqlx::query_scalar(sql).bind(id).fetch_one(p).await?))
}
