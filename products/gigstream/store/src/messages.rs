//! Conversations between buyers and sellers and their messages. Every
//! message, read receipt and typing signal is a row of the
//! `conversation_events` outbox, written in the same transaction as the
//! change it reports, so the realtime tailer and a reconnecting client's
//! replay see the same sequence.

use chrono::{DateTime, Utc};
use gigstream_domain::ids::{AccountId, GigId, OrderId};
use gigstream_domain::messaging::{ConversationId, ConversationKind, MessageId};
use platform_db::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::types::Json;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Conversation {
    pub id: ConversationId,
    pub kind: ConversationKind,
    pub buyer_id: AccountId,
    pub seller_id: AccountId,
    pub gig_id: Option<GigId>,
    pub order_id: Option<OrderId>,
    pub subject: String,
    pub last_seq: i64,
    pub last_message_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, kind, buyer_id, seller_id, gig_id, order_id, subject, last_seq, last_message_at, created_at";

impl Conversation {
    pub fn is_party(&self, account: AccountId) -> bool {
        account == self.buyer_id || account == self.seller_id
    }

    /// The other side of `account`.
    pub fn other(&self, account: AccountId) -> AccountId {
        if account == self.buyer_id {
            self.seller_id
        } else {
            self.buyer_id
        }
    }
}

/// A file sent with a message (checked and scanned before it was stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub key: String,
    pub name: String,
    pub content_type: String,
    pub bytes: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Message {
    pub id: MessageId,
    pub seq: i64,
    pub conversation_id: ConversationId,
    pub sender_id: AccountId,
    pub sender_name: String,
    pub body: String,
    pub attachments: Json<Vec<Attachment>>,
    pub created_at: DateTime<Utc>,
}

const MESSAGE_COLUMNS: &str =
    "m.id, m.seq, m.conversation_id, m.sender_id, a.display_name AS sender_name, m.body, m.attachments, m.created_at";

/// One row of the outbox with the conversation's parties, for the tailer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Event {
    pub seq: i64,
    pub conversation_id: ConversationId,
    pub kind: String,
    pub actor_id: AccountId,
    pub payload: String,
    pub created_at: DateTime<Utc>,
    pub buyer_id: AccountId,
    pub seller_id: AccountId,
}

impl Event {
    pub fn data(&self) -> serde_json::Value {
        serde_json::from_str(&self.payload).unwrap_or(serde_json::Value::Null)
    }
}

const EVENT_COLUMNS: &str =
    "e.seq, e.conversation_id, e.kind, e.actor_id, e.payload, e.created_at, c.buyer_id, c.seller_id FROM conversation_events e JOIN conversations c ON c.id = e.conversation_id";

pub async fn get(db: &Db, id: ConversationId) -> StoreResult<Conversation> {
    let sql = format!("SELECT {COLUMNS} FROM conversations WHERE id = $1");
    on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// The conversation if `account` is one of its parties; NotFound otherwise.
pub async fn for_party(db: &Db, id: ConversationId, account: AccountId) -> StoreResult<Conversation> {
    let c = get(db, id).await?;
    if c.is_party(account) {
        Ok(c)
    } else {
        Err(StoreError::NotFound)
    }
}

/// The inquiry between `buyer` and `seller`, opened about `gig` if new.
pub async fn inquiry(
    db: &Db,
    buyer: AccountId,
    seller: AccountId,
    gig: GigId,
    subject: &str,
    now: DateTime<Utc>,
) -> StoreResult<Conversation> {
    if buyer == seller {
        return Err(StoreError::Refused { field: "gig", message: "This is your own gig; there is no one to ask.".into() });
    }
    let sql = "INSERT INTO conversations (id, kind, buyer_id, seller_id, gig_id, subject, created_at)
               VALUES ($1, 'inquiry', $2, $3, $4, $5, $6)
               ON CONFLICT (buyer_id, seller_id) WHERE kind = 'inquiry' DO NOTHING";
    on_pool!(db, p => { sqlx::query(sql).bind(ConversationId::new()).bind(buyer).bind(seller).bind(gig).bind(subject).bind(now).execute(p).await?; });
    let sql = format!("SELECT {COLUMNS} FROM conversations WHERE buyer_id = $1 AND seller_id = $2 AND kind = 'inquiry'");
    on_pool!(db, p => sqlx::query_as(&sql).bind(buyer).bind(seller).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// The thread of an order (created on first use).
pub async fn for_order(
    db: &Db,
    order: OrderId,
    (buyer, seller): (AccountId, AccountId),
    gig: GigId,
    subject: &str,
    now: DateTime<Utc>,
) -> StoreResult<Conversation> {
    let sql = "INSERT INTO conversations (id, kind, buyer_id, seller_id, gig_id, order_id, subject, created_at)
               VALUES ($1, 'order', $2, $3, $4, $5, $6, $7) ON CONFLICT (order_id) DO NOTHING";
    on_pool!(db, p => { sqlx::query(sql).bind(ConversationId::new()).bind(buyer).bind(seller).bind(gig).bind(order).bind(subject).bind(now).execute(p).await?; });
    let sql = format!("SELECT {COLUMNS} FROM conversations WHERE order_id = $1");
    on_pool!(db, p => sqlx::query_as(&sql).bind(order).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// A message to send (its body checked by the caller, its files stored).
pub struct Outgoing<'a> {
    pub sender: AccountId,
    pub sender_name: &'a str,
    pub body: &'a str,
    pub attachments: Vec<Attachment>,
    /// The client's id for this send: a retry with the same id is stored once.
    pub client_id: Option<&'a str>,
}

/// Stores a message, its outbox event and its files' access rows, and
/// moves the sender's read position to it, in one transaction. A retried
/// send (same `client_id`) returns the first message and `false`.
pub async fn send(db: &Db, conversation: ConversationId, out: &Outgoing<'_>, now: DateTime<Utc>) -> StoreResult<(Message, bool)> {
    let id = MessageId::new();
    let payload = json!({
        "id": id,
        "sender": out.sender,
        "sender_name": out.sender_name,
        "body": out.body,
        "attachments": out.attachments,
    })
    .to_string();
    let created = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let c: Option<(AccountId, AccountId)> = sqlx::query_as("SELECT buyer_id, seller_id FROM conversations WHERE id = $1")
            .bind(conversation).fetch_optional(&mut *tx).await?;
        let (buyer, seller) = c.ok_or(StoreError::NotFound)?;
        if out.sender != buyer && out.sender != seller {
            return Err(StoreError::NotFound);
        }
        if let Some(cid) = out.client_id {
            let seen: Option<MessageId> = sqlx::query_scalar(
                "SELECT id FROM messages WHERE conversation_id = $1 AND sender_id = $2 AND client_id = $3")
                .bind(conversation).bind(out.sender).bind(cid).fetch_optional(&mut *tx).await?;
            if let Some(first) = seen {
                return Ok::<_, StoreError>(Some(first));
            }
        }
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO conversation_events (conversation_id, kind, actor_id, payload, created_at)
             VALUES ($1, 'message', $2, $3, $4) RETURNING seq")
            .bind(conversation).bind(out.sender).bind(&payload).bind(now).fetch_one(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO messages (id, seq, conversation_id, sender_id, body, attachments, client_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(id).bind(seq).bind(conversation).bind(out.sender).bind(out.body).bind(Json(&out.attachments))
            .bind(out.client_id).bind(now).execute(&mut *tx).await?;
        for a in &out.attachments {
            sqlx::query("INSERT INTO message_attachments (media_key, message_id, conversation_id) VALUES ($1, $2, $3)")
                .bind(&a.key).bind(id).bind(conversation).execute(&mut *tx).await?;
            if a.content_type.starts_with("video/") {
                sqlx::query(
                    "INSERT INTO message_videos (id, message_id, conversation_id, original_key, original_type, status, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6)")
                    .bind(crate::videos::VideoId::new()).bind(id).bind(conversation).bind(&a.key).bind(&a.content_type).bind(now)
                    .execute(&mut *tx).await?;
            }
        }
        sqlx::query("UPDATE conversations SET last_seq = $2, last_message_at = $3 WHERE id = $1")
            .bind(conversation).bind(seq).bind(now).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO conversation_reads (conversation_id, account_id, last_read_seq) VALUES ($1, $2, $3)
             ON CONFLICT (conversation_id, account_id) DO UPDATE SET last_read_seq = excluded.last_read_seq
             WHERE conversation_reads.last_read_seq < excluded.last_read_seq")
            .bind(conversation).bind(out.sender).bind(seq).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(None)
    }
    .await)?;
    match created {
        None => Ok((message(db, id).await?, true)),
        Some(first) => Ok((message(db, first).await?, false)),
    }
}

pub async fn message(db: &Db, id: MessageId) -> StoreResult<Message> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages m JOIN accounts a ON a.id = m.sender_id WHERE m.id = $1");
    on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// The conversation's messages with seq > `after`, oldest first.
pub async fn messages(db: &Db, conversation: ConversationId, after: i64, limit: i64) -> StoreResult<Vec<Message>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN accounts a ON a.id = m.sender_id
         WHERE m.conversation_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3"
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(conversation).bind(after).bind(limit).fetch_all(p).await?))
}

/// The last `limit` messages, oldest first.
pub async fn latest(db: &Db, conversation: ConversationId, limit: i64) -> StoreResult<Vec<Message>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN accounts a ON a.id = m.sender_id
         WHERE m.conversation_id = $1 ORDER BY m.seq DESC LIMIT $2"
    );
    let mut v: Vec<Message> = on_pool!(db, p => sqlx::query_as(&sql).bind(conversation).bind(limit).fetch_all(p).await?);
    v.reverse();
    Ok(v)
}

/// How far `account` has read (the seq of the last message seen).
pub async fn read_position(db: &Db, conversation: ConversationId, account: AccountId) -> StoreResult<i64> {
    let v: Option<i64> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT last_read_seq FROM conversation_reads WHERE conversation_id = $1 AND account_id = $2")
        .bind(conversation).bind(account).fetch_optional(p).await?);
    Ok(v.unwrap_or(0))
}

/// Marks the conversation read by `reader` up to `upto` (default: its
/// latest message). A position that moves forward is written with a
/// `read` event for the other side; returns the position now held.
pub async fn mark_read(
    db: &Db,
    conversation: ConversationId,
    reader: AccountId,
    upto: Option<i64>,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let c: Option<(AccountId, AccountId, i64)> = sqlx::query_as("SELECT buyer_id, seller_id, last_seq FROM conversations WHERE id = $1")
            .bind(conversation).fetch_optional(&mut *tx).await?;
        let (buyer, seller, last) = c.ok_or(StoreError::NotFound)?;
        if reader != buyer && reader != seller {
            return Err(StoreError::NotFound);
        }
        let target = upto.unwrap_or(last).min(last);
        let n = sqlx::query(
            "INSERT INTO conversation_reads (conversation_id, account_id, last_read_seq) VALUES ($1, $2, $3)
             ON CONFLICT (conversation_id, account_id) DO UPDATE SET last_read_seq = excluded.last_read_seq
             WHERE conversation_reads.last_read_seq < excluded.last_read_seq")
            .bind(conversation).bind(reader).bind(target).execute(&mut *tx).await?.rows_affected();
        if n > 0 && target > 0 {
            sqlx::query(
                "INSERT INTO conversation_events (conversation_id, kind, actor_id, payload, created_at) VALUES ($1, 'read', $2, $3, $4)")
                .bind(conversation).bind(reader).bind(json!({ "reader": reader, "upto": target }).to_string()).bind(now)
                .execute(&mut *tx).await?;
        }
        let held: i64 = sqlx::query_scalar("SELECT last_read_seq FROM conversation_reads WHERE conversation_id = $1 AND account_id = $2")
            .bind(conversation).bind(reader).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(held)
    }
    .await)
}

/// Writes a typing signal (throttled by the caller).
pub async fn typing(db: &Db, conversation: ConversationId, who: AccountId, name: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = "INSERT INTO conversation_events (conversation_id, kind, actor_id, payload, created_at) VALUES ($1, 'typing', $2, $3, $4)";
    on_pool!(db, p => { sqlx::query(sql).bind(conversation).bind(who).bind(json!({ "who": who, "name": name }).to_string()).bind(now).execute(p).await?; });
    Ok(())
}

/// A conversation in someone's inbox.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct InboxLine {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub conversation: Conversation,
    pub other_name: String,
    pub other_username: String,
    /// Messages from the other side after the account's read position.
    pub unread: i64,
}

/// `account`'s conversations, latest activity first, with unread counts.
pub async fn inbox(db: &Db, account: AccountId, limit: i64) -> StoreResult<Vec<InboxLine>> {
    let sql = "SELECT c.id, c.kind, c.buyer_id, c.seller_id, c.gig_id, c.order_id, c.subject, c.last_seq, c.last_message_at, c.created_at,
                      o.display_name AS other_name, o.username AS other_username,
                      (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.sender_id <> $1
                         AND m.seq > COALESCE((SELECT r.last_read_seq FROM conversation_reads r
                                               WHERE r.conversation_id = c.id AND r.account_id = $1), 0)) AS unread
               FROM conversations c
               JOIN accounts o ON o.id = CASE WHEN c.buyer_id = $1 THEN c.seller_id ELSE c.buyer_id END
               WHERE c.buyer_id = $1 OR c.seller_id = $1
               ORDER BY c.last_seq DESC, c.created_at DESC LIMIT $2";
    Ok(on_pool!(db, p => sqlx::query_as(sql).bind(account).bind(limit).fetch_all(p).await?))
}

/// Unread messages over all of `account`'s conversations.
pub async fn unread_total(db: &Db, account: AccountId) -> StoreResult<i64> {
    let sql = "SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
               WHERE (c.buyer_id = $1 OR c.seller_id = $1) AND m.sender_id <> $1
                 AND m.seq > COALESCE((SELECT r.last_read_seq FROM conversation_reads r
                                       WHERE r.conversation_id = c.id AND r.account_id = $1), 0)";
    Ok(on_pool!(db, p => sqlx::query_scalar(sql).bind(account).fetch_one(p).await?))
}

/// A message found by a search, with its conversation's subject.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Found {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub message: Message,
    pub subject: String,
}

/// Messages in `account`'s own conversations whose text or file names
/// contain `pattern` (a lowercased `LIKE` pattern with `\` escapes), newest first.
pub async fn search(db: &Db, account: AccountId, pattern: &str, limit: i64) -> StoreResult<Vec<Found>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS}, c.subject FROM messages m
         JOIN conversations c ON c.id = m.conversation_id JOIN accounts a ON a.id = m.sender_id
         WHERE (c.buyer_id = $1 OR c.seller_id = $1)
           AND (LOWER(m.body) LIKE $2 ESCAPE '\\' OR LOWER(CAST(m.attachments AS TEXT)) LIKE $2 ESCAPE '\\')
         ORDER BY m.seq DESC LIMIT $3"
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(account).bind(pattern).bind(limit).fetch_all(p).await?))
}

/// Whether `account` may fetch an attached file (or a sent video's MP4 or
/// poster): a party of its conversation.
pub async fn attachment_visible(db: &Db, key: &str, account: AccountId) -> StoreResult<bool> {
    let sql = "SELECT COUNT(*) FROM conversations c
               WHERE (c.buyer_id = $2 OR c.seller_id = $2)
                 AND (c.id IN (SELECT x.conversation_id FROM message_attachments x WHERE x.media_key = $1)
                      OR c.id IN (SELECT v.conversation_id FROM message_videos v WHERE v.mp4_key = $1 OR v.poster_key = $1))";
    let n: i64 = on_pool!(db, p => sqlx::query_scalar(sql).bind(key).bind(account).fetch_one(p).await?);
    Ok(n > 0)
}

/// The conversation's outbox rows after `after` that a reconnecting client
/// replays (typing signals are not history).
pub async fn replay(db: &Db, conversation: ConversationId, after: i64, limit: i64) -> StoreResult<Vec<Event>> {
    let sql = format!("SELECT {EVENT_COLUMNS} WHERE e.conversation_id = $1 AND e.seq > $2 AND e.kind <> 'typing' ORDER BY e.seq LIMIT $3");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(conversation).bind(after).bind(limit).fetch_all(p).await?))
}

/// The conversation's latest outbox seq.
pub async fn head(db: &Db, conversation: ConversationId) -> StoreResult<i64> {
    let v: Option<i64> = on_pool!(db, p => sqlx::query_scalar("SELECT MAX(seq) FROM conversation_events WHERE conversation_id = $1")
        .bind(conversation).fetch_one(p).await?);
    Ok(v.unwrap_or(0))
}

/// Deletes typing signals older than `before` (they are never replayed).
pub async fn purge_typing(db: &Db, before: DateTime<Utc>) -> StoreResult<u64> {
    let sql = "DELETE FROM conversation_events WHERE kind = 'typing' AND created_at < $1";
    Ok(on_pool!(db, p => sqlx::query(sql).bind(before).execute(p).await?.rows_affected()))
}

/// The whole outbox, for the tailer: its head, rows after a seq, rows by seq.
pub mod outbox {
    use super::*;

    pub async fn head(db: &Db) -> StoreResult<i64> {
        let v: Option<i64> = on_pool!(db, p => sqlx::query_scalar("SELECT MAX(seq) FROM conversation_events").fetch_one(p).await?);
        Ok(v.unwrap_or(0))
    }

    pub async fn after(db: &Db, after: i64, limit: i64) -> StoreResult<Vec<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} WHERE e.seq > $1 ORDER BY e.seq LIMIT $2");
        Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(after).bind(limit).fetch_all(p).await?))
    }

    pub async fn by_seqs(db: &Db, seqs: &[i64]) -> StoreResult<Vec<Event>> {
        if seqs.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!("SELECT {EVENT_COLUMNS} WHERE e.seq IN ({}) ORDER BY e.seq", platform_db::int_list(seqs));
        Ok(on_pool!(db, p => sqlx::query_as(&sql).fetch_all(p).await?))
    }
}
