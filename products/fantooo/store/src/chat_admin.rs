//! Chats as admins inspect them: search, the live grid, the escalated
//! queue, messages with who voiced them and their edit history, message
//! edits, notes and reassignment history.

use crate::audit::Actor;
use crate::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::chat::{correction_allowed, ChatStatus, ContentType, Correction, Side, REDACTED_TEXT};
use fantooo_domain::ids::{AdminId, ChatId, MessageId, OperatorId, ProfileId, RowId, UserId};
use serde::Serialize;
use sqlx::types::Json;

/// One row of a chat listing, with the names admins search by.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ChatRow {
    pub id: ChatId,
    pub user_id: UserId,
    pub username: String,
    pub profile_id: ProfileId,
    pub profile_name: String,
    pub operator_id: Option<OperatorId>,
    pub operator_name: Option<String>,
    pub status: ChatStatus,
    pub message_count: i64,
    pub total_credits_spent: i64,
    pub assignment_count: i64,
    pub assignment_time: Option<DateTime<Utc>>,
    pub last_message_at: Option<DateTime<Utc>>,
    pub last_user_message_at: Option<DateTime<Utc>>,
    pub last_fictional_message_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub escalation_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

const ROW_SELECT: &str = "SELECT c.id, c.real_user_id AS user_id, u.username, c.fictional_user_id AS profile_id, f.name AS profile_name,
        c.assigned_operator_id AS operator_id, o.name AS operator_name, c.status, c.message_count, c.total_credits_spent, c.assignment_count,
        c.assignment_time, c.last_message_at, c.last_user_message_at, c.last_fictional_message_at, c.escalated_at, c.escalation_reason, c.created_at
    FROM chats c JOIN real_users u ON u.id = c.real_user_id JOIN fictional_users f ON f.id = c.fictional_user_id
    LEFT JOIN operators o ON o.id = c.assigned_operator_id";

#[derive(Debug, Clone, Default)]
pub struct ChatFilter {
    pub status: Option<String>,
    /// Matches the user's username or display name.
    pub user: Option<String>,
    pub profile: Option<String>,
    pub operator: Option<OperatorId>,
}

/// Chats matching `f`, most recently active first.
pub async fn search(db: &Db, f: &ChatFilter, limit: i64) -> StoreResult<Vec<ChatRow>> {
    let nonempty = |s: &Option<String>| s.as_deref().filter(|s| !s.trim().is_empty()).map(crate::profiles::contains_pattern);
    let (user, profile) = (nonempty(&f.user), nonempty(&f.profile));
    let status = f.status.as_deref().filter(|s| !s.is_empty());
    let sql = format!(
        "{ROW_SELECT}
        WHERE ($1 IS NULL OR c.status = $1)
          AND ($2 IS NULL OR LOWER(u.username) LIKE $2 ESCAPE '\\' OR LOWER(u.display_name) LIKE $2 ESCAPE '\\')
          AND ($3 IS NULL OR LOWER(f.name) LIKE $3 ESCAPE '\\')
          AND ($4 IS NULL OR c.assigned_operator_id = $4)
        ORDER BY COALESCE(c.last_message_at, c.created_at) DESC, c.id DESC LIMIT $5"
    );
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, ChatRow>(&sql).bind(status).bind(&user).bind(&profile).bind(f.operator).bind(limit).fetch_all(p).await?),
    )
}

/// Open chats for the live grid (assigned, waiting or escalated).
pub async fn live(db: &Db, limit: i64) -> StoreResult<Vec<ChatRow>> {
    let sql = format!(
        "{ROW_SELECT} WHERE c.status IN ('active', 'idle', 'escalated')
        AND (c.assigned_operator_id IS NOT NULL OR c.status = 'escalated' OR EXISTS (SELECT 1 FROM chat_queue q WHERE q.chat_id = c.id))
        ORDER BY c.last_user_message_at ASC, c.id LIMIT $1"
    );
    Ok(on_pool!(db, p => sqlx::query_as::<_, ChatRow>(&sql).bind(limit).fetch_all(p).await?))
}

/// The escalated queue, oldest escalation first.
pub async fn escalated(db: &Db, limit: i64) -> StoreResult<Vec<ChatRow>> {
    let sql = format!("{ROW_SELECT} WHERE c.status = 'escalated' ORDER BY c.escalated_at ASC, c.id LIMIT $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, ChatRow>(&sql).bind(limit).fetch_all(p).await?))
}

pub async fn row(db: &Db, chat: ChatId) -> StoreResult<ChatRow> {
    let sql = format!("{ROW_SELECT} WHERE c.id = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, ChatRow>(&sql).bind(chat).fetch_one(p).await?))
}

/// The chat's notes, flags and reply times, for the inspector.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ChatNotes {
    pub admin_notes: Option<String>,
    pub operator_notes: Option<String>,
    pub flags: Json<Vec<String>>,
    pub close_reason: Option<String>,
    pub previous_operator_ids: Json<Vec<OperatorId>>,
    /// How long the profile took to answer the user's latest waiting
    /// message, at its last reply (set by `messages::send_as_profile`).
    pub last_response_ms: Option<i64>,
    /// The chat's running reply time: each reply to a waiting message
    /// moves it a quarter of the way to that reply's wait, so recent
    /// replies weigh most.
    pub average_response_ms: Option<i64>,
}

pub async fn notes(db: &Db, chat: ChatId) -> StoreResult<ChatNotes> {
    let sql = "SELECT admin_notes, operator_notes, flags, close_reason, previous_operator_ids, last_response_ms, average_response_ms
               FROM chats WHERE id = $1";
    Ok(on_pool!(db, p => sqlx::query_as::<_, ChatNotes>(sql).bind(chat).fetch_one(p).await?))
}

pub async fn set_admin_notes(db: &Db, chat: ChatId, notes: Option<&str>) -> StoreResult<()> {
    let n = on_pool!(db, p => sqlx::query("UPDATE chats SET admin_notes = $2, updated_at = $3 WHERE id = $1")
        .bind(chat).bind(notes).bind(Utc::now()).execute(p).await?.rows_affected());
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// A message as admins see it: who voiced it and whether it was edited.
/// Users' views use `messages::Message`, which carries none of this.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct InspectedMessage {
    pub seq: i64,
    pub id: MessageId,
    pub sender_type: Side,
    pub content: String,
    pub original_content: Option<String>,
    pub content_type: ContentType,
    pub media_url: Option<String>,
    pub is_free_message: bool,
    pub credits_charged: i64,
    pub operator_name: Option<String>,
    pub admin_name: Option<String>,
    pub is_edited: bool,
    pub edit_count: i64,
    pub edited_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub moderated: bool,
}

/// A chat's messages for the inspector, oldest first (the latest `limit`).
pub async fn messages(db: &Db, chat: ChatId, limit: i64) -> StoreResult<Vec<InspectedMessage>> {
    let sql = "SELECT m.seq, m.id, m.sender_type, m.content, m.original_content, m.content_type, m.media_url, m.is_free_message, m.credits_charged,
                      o.name AS operator_name, a.name AS admin_name, m.is_edited, m.edit_count, m.edited_at, m.created_at, m.moderated
               FROM messages m LEFT JOIN operators o ON o.id = m.handled_by_operator_id LEFT JOIN admins a ON a.id = m.sent_by_admin_id
               WHERE m.chat_id = $1 AND m.deleted_at IS NULL ORDER BY m.seq DESC LIMIT $2";
    let mut rows = on_pool!(db, p => sqlx::query_as::<_, InspectedMessage>(sql).bind(chat).bind(limit).fetch_all(p).await?);
    rows.reverse();
    Ok(rows)
}

/// One recorded edit.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Edit {
    pub message_id: MessageId,
    pub original_content: String,
    pub new_content: String,
    pub editor_type: String,
    pub editor_name: Option<String>,
    pub edit_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Every edit of the chat's messages, newest first.
pub async fn edits(db: &Db, chat: ChatId) -> StoreResult<Vec<Edit>> {
    let sql = "SELECT h.message_id, h.original_content, h.new_content, h.editor_type, a.name AS editor_name, h.edit_reason, h.created_at
               FROM message_edit_history h LEFT JOIN admins a ON h.editor_type = 'admin' AND a.id = h.edited_by
               WHERE h.message_id IN (SELECT id FROM messages WHERE chat_id = $1) ORDER BY h.created_at DESC";
    Ok(on_pool!(db, p => sqlx::query_as::<_, Edit>(sql).bind(chat).fetch_all(p).await?))
}

/// Changes a profile message's text (an edit; users never see that it
/// was edited). The first original is kept on the message, every step in
/// message_edit_history, and the edit is audited with before/after, all in
/// one transaction. A user's message cannot be edited: see `redact_message`.
pub async fn edit_message(
    db: &Db,
    chat: ChatId,
    message: MessageId,
    new_content: &str,
    reason: &str,
    by: AdminId,
    ip: Option<&str>,
) -> StoreResult<()> {
    correct(db, chat, message, Correction::Edit, new_content, reason, by, ip).await
}

/// Redacts a user's message for moderation: its text becomes
/// `REDACTED_TEXT` and a picture is taken down, the message is marked
/// `moderated` (its user sees that a moderator changed it, live and after
/// reload), and the original is kept for admins only in
/// message_edit_history and the audit log (both anonymised with the
/// account on GDPR deletion). Profile messages are edited instead.
pub async fn redact_message(db: &Db, chat: ChatId, message: MessageId, reason: &str, by: AdminId, ip: Option<&str>) -> StoreResult<()> {
    correct(db, chat, message, Correction::Redact, REDACTED_TEXT, reason, by, ip).await
}

#[allow(clippy::too_many_arguments)]
async fn correct(
    db: &Db,
    chat: ChatId,
    message: MessageId,
    correction: Correction,
    new_content: &str,
    reason: &str,
    by: AdminId,
    ip: Option<&str>,
) -> StoreResult<()> {
    let now = Utc::now();
    let moderated = correction == Correction::Redact;
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let old: Option<(String, ContentType, i64, Side, Option<String>, bool)> = sqlx::query_as(
            "SELECT content, content_type, seq, sender_type, media_url, moderated FROM messages WHERE id = $1 AND chat_id = $2 AND deleted_at IS NULL")
            .bind(message).bind(chat).fetch_optional(&mut *tx).await?;
        let Some((old, kind, seq, sender, media, already)) = old else { return Err(StoreError::NotFound) };
        correction_allowed(sender, correction).map_err(|m| StoreError::Rule(m.into()))?;
        if moderated && already {
            return Err(StoreError::Rule("This message has already been redacted.".into()));
        }
        if !moderated && kind != ContentType::Text && old.is_empty() {
            return Err(StoreError::Rule("This message is a picture without text; there is nothing to edit.".into()));
        }
        if old == new_content {
            return Err(StoreError::Rule("The new text is the same as the current one.".into()));
        }
        // What admins may still read of the original: the text, and which
        // picture was taken down.
        let original = match (&media, moderated) {
            (Some(url), true) => format!("{old} [picture: {url}]").trim_start().to_string(),
            _ => old.clone(),
        };
        sqlx::query("UPDATE messages SET content = $3, original_content = COALESCE(original_content, $6), is_edited = TRUE, edited_by = $4,
                            edited_at = $5, edit_count = edit_count + 1, updated_at = $5,
                            moderated = (moderated OR $7), moderated_at = CASE WHEN $7 THEN $5 ELSE moderated_at END,
                            moderated_by = CASE WHEN $7 THEN $4 ELSE moderated_by END,
                            media_url = CASE WHEN $7 THEN NULL ELSE media_url END
                     WHERE id = $1 AND chat_id = $2")
            .bind(message).bind(chat).bind(new_content).bind(by).bind(now).bind(&original).bind(moderated).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO message_edit_history (id, message_id, original_content, new_content, edited_by, editor_type, edit_reason, created_at)
                     VALUES ($1, $2, $3, $4, $5, 'admin', $6, $7)")
            .bind(RowId::new()).bind(message).bind(&original).bind(new_content).bind(by).bind(reason).bind(now).execute(&mut *tx).await?;
        let action = if moderated { "message_redacted" } else { "message_edited" };
        let before = serde_json::json!({ "chat_id": chat, "content": original });
        let after = serde_json::json!({ "chat_id": chat, "content": new_content, "reason": reason });
        platform_audit::record_in(&mut *tx, &Actor::admin(by).record(action).subject("message", &message.to_string()).change(Some(&before), Some(&after)).ip(ip), now).await?;
        // Open chat pages show the new text at once; only a redaction says so.
        crate::emit_event!(tx, Some(chat), None::<fantooo_domain::ids::UserId>,
            crate::events::EventBody::Edited { message_id: message, seq, content: new_content.to_string(), moderated }, now);
        tx.commit().await?;
    });
    Ok(())
}

/// One step in a chat's assignment history.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AssignmentStep {
    pub operator_id: OperatorId,
    pub operator_name: String,
    pub kind: String,
    pub detail: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Assignments and reassignments of a chat, oldest first.
pub async fn assignment_history(db: &Db, chat: ChatId) -> StoreResult<Vec<AssignmentStep>> {
    let sql = "SELECT i.operator_id, o.name AS operator_name, i.kind, i.detail, i.created_at FROM operator_incidents i JOIN operators o ON o.id = i.operator_id
               WHERE i.chat_id = $1 AND i.kind IN ('assigned', 'reassigned', 'idle_warning') ORDER BY i.created_at, i.id";
    Ok(on_pool!(db, p => sqlx::query_as::<_, AssignmentStep>(sql).bind(chat).fetch_all(p).await?))
}
