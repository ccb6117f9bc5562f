//! Room chat (3.3): 1–500 characters, visitors only when the room allows
//! text; stored and listed in order, and written to the room outbox. The
//! per-user rate (60 a minute) is the web layer's limiter.

use crate::{on_pool, refused, BeginWrite, Db, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::ids::{AccountId, RoomId};
use rooms_domain::moderation::may_chat;
use rooms_domain::room::RoomRole;
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ChatMessage {
    pub seq: i64,
    pub author_id: AccountId,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// Posts `body` (already checked by `rooms_domain::room::chat_text`).
pub async fn post(db: &Db, room: RoomId, who: AccountId, body: &str, now: DateTime<Utc>) -> StoreResult<i64> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let present: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM room_participants rp JOIN rooms r ON r.id = rp.room_id WHERE rp.room_id = $1 AND rp.account_id = $2 AND r.status = 'open'")
            .bind(room).bind(who).fetch_one(&mut *tx).await?;
        if present == 0 {
            return Err(refused("not_in_room", "Join the room first"));
        }
        let role = role_of!(tx, room, who).unwrap_or(RoomRole::Visitor);
        let text_ok: bool = sqlx::query_scalar("SELECT visitor_text FROM rooms WHERE id = $1").bind(room).fetch_one(&mut *tx).await?;
        let perms = rooms_domain::room::VisitorPermissions { speak: false, text: text_ok, pictures: false };
        if !may_chat(role, perms) {
            return Err(refused("chat_not_allowed", "Visitors may not post in this room"));
        }
        let seq: i64 = sqlx::query_scalar("INSERT INTO room_messages (room_id, author_id, body, created_at) VALUES ($1, $2, $3, $4) RETURNING seq")
            .bind(room).bind(who).bind(body).bind(now).fetch_one(&mut *tx).await?;
        let name: String = sqlx::query_scalar("SELECT display_name FROM accounts WHERE id = $1").bind(who).fetch_one(&mut *tx).await?;
        sqlx::query("UPDATE rooms SET last_activity_at = $2 WHERE id = $1").bind(room).bind(now).execute(&mut *tx).await?;
        room_event!(tx, room, "chat", json!({"id": seq, "account": who, "name": name, "body": body}), now);
        tx.commit().await?;
        Ok(seq)
    })
}

/// The newest `limit` messages before `before` (all when `None`), oldest first.
pub async fn recent(db: &Db, room: RoomId, before: Option<i64>, limit: i64) -> StoreResult<Vec<ChatMessage>> {
    let mut rows = on_pool!(db, p => sqlx::query_as::<_, ChatMessage>(
        "SELECT m.seq, m.author_id, a.display_name AS author_name, m.body, m.created_at FROM room_messages m JOIN accounts a ON a.id = m.author_id
         WHERE m.room_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3")
        .bind(room).bind(before.unwrap_or(i64::MAX)).bind(limit).fetch_all(p).await?);
    rows.reverse();
    Ok(rows)
}
