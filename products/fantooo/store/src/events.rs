//! Realtime events that are not messages: typing, read receipts, balance
//! changes. Each is a row ordered by `seq`, tailed by every node exactly like
//! messages, so a subscriber on any node sees it; rows are pruned after a day.

use crate::{on_pool, Db, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::chat::{MessageStatus, Side};
use fantooo_domain::ids::{ChatId, OperatorId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

/// What an event says; stored as JSON in `payload`, kind in its own column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    /// Someone on `side` is typing in a chat.
    Typing { side: Side },
    /// Messages written by `side`, up to `upto` (a message seq), reached `status`.
    Receipt { side: Side, status: MessageStatus, upto: i64 },
    /// A user's balance after a ledger entry.
    Balance { credits: i64 },
    /// The waiting queue changed (for every operator console).
    Queue,
    /// A chat was given to the addressed operator.
    Assigned { chat_id: ChatId },
    /// The addressed operator has not answered; the chat goes in `seconds_left`.
    IdleWarning { chat_id: ChatId, seconds_left: i64 },
    /// A chat was taken from the addressed operator.
    TakenAway { chat_id: ChatId, reason: String },
    /// The addressed operator handed a chat back themselves.
    Released { chat_id: ChatId },
    /// A message's text was corrected in the back office: a profile
    /// message edited, or (`moderated`) a user's message redacted.
    Edited {
        message_id: fantooo_domain::ids::MessageId,
        seq: i64,
        content: String,
        #[serde(default)]
        moderated: bool,
    },
    /// Something admins should see now (escalations, suspensions, …).
    AdminAlert { alert: String, message: String },
    /// A profile answered the addressed user: what every page of theirs
    /// needs to tell them (who, a preview, the unread counts after it).
    Reply { chat_id: ChatId, seq: i64, profile: String, preview: String, unread: i64, total: i64 },
    /// The addressed user read a chat: its unread count and their total.
    Unread { chat_id: ChatId, unread: i64, total: i64 },
}

impl EventBody {
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::Typing { .. } => "typing",
            EventBody::Receipt { .. } => "receipt",
            EventBody::Balance { .. } => "balance",
            EventBody::Queue => "queue",
            EventBody::Assigned { .. } => "assigned",
            EventBody::IdleWarning { .. } => "idle_warning",
            EventBody::TakenAway { .. } => "taken_away",
            EventBody::Released { .. } => "released",
            EventBody::AdminAlert { .. } => "admin_alert",
            EventBody::Edited { .. } => "edited",
            EventBody::Reply { .. } => "reply",
            EventBody::Unread { .. } => "unread",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Event {
    pub seq: i64,
    pub chat_id: Option<ChatId>,
    pub user_id: Option<UserId>,
    pub operator_id: Option<OperatorId>,
    pub payload: Json<EventBody>,
    pub created_at: DateTime<Utc>,
}

/// Inserts an event inside the caller's transaction.
#[macro_export]
#[doc(hidden)]
macro_rules! emit_event {
    ($tx:expr, $chat:expr, $user:expr, $body:expr, $now:expr) => {{
        let body: $crate::events::EventBody = $body;
        $crate::emit_event!($tx, $chat, $user, None::<fantooo_domain::ids::OperatorId>, body, $now)
    }};
    ($tx:expr, $chat:expr, $user:expr, $operator:expr, $body:expr, $now:expr) => {{
        let body: $crate::events::EventBody = $body;
        sqlx::query(
            "INSERT INTO realtime_events (chat_id, user_id, operator_id, kind, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($chat)
        .bind($user)
        .bind($operator)
        .bind(body.kind())
        .bind(sqlx::types::Json(&body))
        .bind($now)
        .execute(&mut *$tx)
        .await?;
    }};
}

/// Records an event for one operator (or, with `None`, for all of them)
/// inside the caller's transaction.
#[macro_export]
#[doc(hidden)]
macro_rules! emit_operator_event {
    ($tx:expr, $operator:expr, $body:expr, $now:expr) => {
        $crate::emit_event!($tx, None::<fantooo_domain::ids::ChatId>, None::<fantooo_domain::ids::UserId>, $operator, $body, $now)
    };
}

/// Records a user's new balance inside the caller's transaction.
#[macro_export]
#[doc(hidden)]
macro_rules! emit_balance {
    ($tx:expr, $user:expr, $balance:expr, $now:expr) => {
        $crate::emit_event!(
            $tx,
            None::<fantooo_domain::ids::ChatId>,
            Some($user),
            $crate::events::EventBody::Balance { credits: $balance.get() },
            $now
        )
    };
}

/// Records an event on its own (typing needs no transaction).
pub async fn emit(db: &Db, chat: Option<ChatId>, user: Option<UserId>, body: EventBody) -> StoreResult<()> {
    emit_to(db, chat, user, None, body).await
}

pub async fn emit_to(
    db: &Db,
    chat: Option<ChatId>,
    user: Option<UserId>,
    operator: Option<OperatorId>,
    body: EventBody,
) -> StoreResult<()> {
    let now = Utc::now();
    let sql = "INSERT INTO realtime_events (chat_id, user_id, operator_id, kind, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
    on_pool!(db, p => { sqlx::query(sql).bind(chat).bind(user).bind(operator).bind(body.kind()).bind(Json(&body)).bind(now).execute(p).await?; });
    Ok(())
}

/// Events after `after`, oldest first (the outbox tail).
pub async fn tail(db: &Db, after: i64, limit: i64) -> StoreResult<Vec<Event>> {
    let sql = "SELECT seq, chat_id, user_id, operator_id, payload, created_at FROM realtime_events WHERE seq > $1 ORDER BY seq LIMIT $2";
    Ok(on_pool!(db, p => sqlx::query_as::<_, Event>(sql).bind(after).bind(limit).fetch_all(p).await?))
}

/// The highest event seq so far (where a starting node begins tailing).
pub async fn head(db: &Db) -> StoreResult<i64> {
    let sql = "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM realtime_events";
    Ok(on_pool!(db, p => sqlx::query_scalar(sql).fetch_one(p).await?))
}

/// Deletes events older than `before`; returns how many.
pub async fn purge(db: &Db, before: DateTime<Utc>) -> StoreResult<u64> {
    let sql = "DELETE FROM realtime_events WHERE created_at < $1";
    Ok(on_pool!(db, p => sqlx::query(sql).bind(before).execute(p).await?.rows_affected()))
}

/// Events with the given sequence numbers (holes the tailer looks for again).
pub async fn by_seqs(db: &Db, seqs: &[i64]) -> StoreResult<Vec<Event>> {
    if seqs.is_empty() {
        return Ok(vec![]);
    }
    let list = platform_db::int_list(seqs);
    let sql =
        format!("SELECT seq, chat_id, user_id, operator_id, payload, created_at FROM realtime_events WHERE seq IN ({list}) ORDER BY seq");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Event>(&sql).fetch_all(p).await?))
}
