//! Private messages, one to one (8.3): stored, paged, read marks, blocks in
//! both directions; each message and read mark goes to the user outbox of
//! both people for live delivery.

use crate::{on_pool, refused, BeginWrite, Db, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::ids::AccountId;
use serde::Serialize;
use serde_json::json;

/// Sends `body` (checked by `rooms_domain::room::private_text`); refused
/// when either has blocked the other.
pub async fn send(db: &Db, from: AccountId, to: AccountId, body: &str, now: DateTime<Utc>) -> StoreResult<i64> {
    if from == to {
        return Err(refused("not_on_self", "You cannot message yourself"));
    }
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let blocked: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM user_blocks WHERE (blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1)")
            .bind(from).bind(to).fetch_one(&mut *tx).await?;
        if blocked > 0 {
            return Err(refused("blocked", "You cannot message this person"));
        }
        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE id = $1 AND status = 'active'").bind(to).fetch_one(&mut *tx).await?;
        if exists == 0 {
            return Err(crate::StoreError::NotFound);
        }
        let seq: i64 = sqlx::query_scalar("INSERT INTO private_messages (sender_id, recipient_id, body, created_at) VALUES ($1, $2, $3, $4) RETURNING seq")
            .bind(from).bind(to).bind(body).bind(now).fetch_one(&mut *tx).await?;
        let payload = json!({"id": seq, "from": from, "to": to, "body": body, "at": now});
        user_event!(tx, to, "message", payload, now);
        user_event!(tx, from, "message", payload, now);
        tx.commit().await?;
        Ok(seq)
    })
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Conversation {
    pub other_id: AccountId,
    pub other_name: String,
    pub last_seq: i64,
    pub last_body: String,
    pub last_at: DateTime<Utc>,
    pub unread: i64,
}

/// `me`'s conversations, most recent first, with unread counts.
pub async fn conversations(db: &Db, me: AccountId, limit: i64) -> StoreResult<Vec<Conversation>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Conversation>(
        "WITH mine AS (
            SELECT CASE WHEN sender_id = $1 THEN recipient_id ELSE sender_id END AS other_id, MAX(seq) AS last_seq
            FROM private_messages WHERE sender_id = $1 OR recipient_id = $1 GROUP BY 1)
         SELECT m.other_id, a.display_name AS other_name, m.last_seq, pm.body AS last_body, pm.created_at AS last_at,
                (SELECT COUNT(*) FROM private_messages u WHERE u.sender_id = m.other_id AND u.recipient_id = $1 AND u.read_at IS NULL) AS unread
         FROM mine m JOIN accounts a ON a.id = m.other_id JOIN private_messages pm ON pm.seq = m.last_seq
         ORDER BY m.last_seq DESC LIMIT $2")
        .bind(me).bind(limit).fetch_all(p).await?))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PrivateMessage {
    pub seq: i64,
    pub sender_id: AccountId,
    pub recipient_id: AccountId,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// One page of the conversation between `me` and `other`: the newest
/// `limit` messages before `before`, oldest first.
pub async fn history(db: &Db, me: AccountId, other: AccountId, before: Option<i64>, limit: i64) -> StoreResult<Vec<PrivateMessage>> {
    let mut rows = on_pool!(db, p => sqlx::query_as::<_, PrivateMessage>(
        "SELECT seq, sender_id, recipient_id, body, created_at, read_at FROM private_messages
         WHERE ((sender_id = $1 AND recipient_id = $2) OR (sender_id = $2 AND recipient_id = $1)) AND seq < $3
         ORDER BY seq DESC LIMIT $4")
        .bind(me).bind(other).bind(before.unwrap_or(i64::MAX)).bind(limit).fetch_all(p).await?);
    rows.reverse();
    Ok(rows)
}

/// Marks everything `other` sent `me` up to `up_to` as read and tells `other`.
pub async fn mark_read(db: &Db, me: AccountId, other: AccountId, up_to: i64, now: DateTime<Utc>) -> StoreResult<u64> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("UPDATE private_messages SET read_at = $4 WHERE sender_id = $2 AND recipient_id = $1 AND seq <= $3 AND read_at IS NULL")
            .bind(me).bind(other).bind(up_to).bind(now).execute(&mut *tx).await?.rows_affected();
        if n > 0 {
            user_event!(tx, other, "read", json!({"by": me, "up_to": up_to}), now);
        }
        tx.commit().await?;
        Ok(n)
    })
}

pub async fn block_user(db: &Db, me: AccountId, other: AccountId, now: DateTime<Utc>) -> StoreResult<()> {
    if me == other {
        return Err(refused("not_on_self", "You cannot block yourself"));
    }
    on_pool!(db, p => { sqlx::query("INSERT INTO user_blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(me).bind(other).bind(now).execute(p).await?; });
    Ok(())
}

pub async fn unblock_user(db: &Db, me: AccountId, other: AccountId) -> StoreResult<()> {
    on_pool!(db, p => { sqlx::query("DELETE FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2").bind(me).bind(other).execute(p).await?; });
    Ok(())
}
