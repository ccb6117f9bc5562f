//! The waiting queue and assignment. A chat with an unanswered user message
//! and no operator waits in `chat_queue`; assignment moves it to exactly one
//! operator, atomically, whichever node or worker does it.

use crate::{emit_operator_event, on_pool, BeginWrite, Db, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::{ChatId, OperatorId, ProfileId, UserId};
use fantooo_domain::operations::{self, Candidate, ChatNeeds, PriorityInput, QueuePriority};
use fantooo_domain::UserTier;
use serde::Serialize;
use sqlx::types::Json;
use std::collections::HashMap;

/// Puts a chat in the queue inside the caller's transaction, unless it is
/// already there. `$priority` is the entry's priority at entry time.
#[macro_export]
#[doc(hidden)]
macro_rules! enqueue_chat {
    ($tx:expr, $chat:expr, $priority:expr, $tier:expr, $excluded:expr, $now:expr) => {{
        let priority: fantooo_domain::operations::QueuePriority = $priority;
        let excluded: &[fantooo_domain::ids::OperatorId] = $excluded;
        sqlx::query(
            "INSERT INTO chat_queue (id, chat_id, priority, priority_score, user_tier, excluded_operator_ids, entered_queue_at, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
                     ON CONFLICT (chat_id) DO UPDATE SET excluded_operator_ids = excluded.excluded_operator_ids",
        )
        .bind(fantooo_domain::ids::RowId::new())
        .bind($chat)
        .bind(priority)
        .bind(priority.score())
        .bind($tier)
        .bind(sqlx::types::Json(excluded))
        .bind($now)
        .execute(&mut *$tx)
        .await?;
        $crate::emit_operator_event!($tx, None::<fantooo_domain::ids::OperatorId>, $crate::events::EventBody::Queue, $now);
    }};
}

/// One waiting chat, with what the console shows and the matcher needs.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Waiting {
    pub chat_id: ChatId,
    pub user_id: UserId,
    pub user_name: String,
    pub user_tier: UserTier,
    pub lifetime_credits_spent: i64,
    pub profile_id: ProfileId,
    pub profile_name: String,
    pub response_style: Option<String>,
    pub entered_queue_at: DateTime<Utc>,
    pub assignment_count: i64,
    pub excluded_operator_ids: Json<Vec<OperatorId>>,
    pub last_message: Option<String>,
    /// When the oldest unanswered user message was written (the user's
    /// real wait; the queue entry is newer after a reassignment).
    pub waiting_since: Option<DateTime<Utc>>,
}

/// The oldest user message after the profile's last word, in a query over
/// `chats c`; `$2` bounds the search to recent messages (chats close after
/// a day without messages), so PostgreSQL reads only the newest partitions.
#[macro_export]
#[doc(hidden)]
macro_rules! waiting_since_sql {
    ($bound:literal) => {
        concat!(
            "(SELECT MIN(m.created_at) FROM messages m WHERE m.chat_id = c.id AND m.sender_type = 'real' AND m.deleted_at IS NULL
               AND m.created_at >= ",
            $bound,
            " AND (c.last_fictional_message_at IS NULL OR m.created_at > c.last_fictional_message_at))"
        )
    };
}

impl Waiting {
    /// The priority now (it rises while the chat waits).
    pub fn priority(&self, now: DateTime<Utc>) -> QueuePriority {
        operations::priority(&PriorityInput {
            lifetime_credits_spent: self.lifetime_credits_spent,
            waiting: now - self.entered_queue_at,
            reassigned: self.assignment_count > 0,
        })
    }
    /// How long the user has been waiting for an answer: since their oldest
    /// unanswered message, or at least since the chat entered the queue.
    pub fn waiting_secs(&self, now: DateTime<Utc>) -> i64 {
        let since = self.waiting_since.map_or(self.entered_queue_at, |w| w.min(self.entered_queue_at));
        (now - since).num_seconds().max(0)
    }
    /// Seconds since the chat (re-)entered the queue.
    pub fn in_queue_secs(&self, now: DateTime<Utc>) -> i64 {
        (now - self.entered_queue_at).num_seconds().max(0)
    }
}

/// The queue in serving order: priority now, then longest wait, with each
/// chat's last message for the console.
pub async fn waiting(db: &Db, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Waiting>> {
    let preview = "(SELECT m.content FROM messages m WHERE m.chat_id = c.id ORDER BY m.seq DESC LIMIT 1)";
    waiting_rows(db, now, limit, preview, crate::waiting_since_sql!("$2")).await
}

/// The queue for the assigner, which needs no message previews (a
/// subquery per waiting chat that dominated assignment under load).
async fn waiting_to_assign(db: &Db, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Waiting>> {
    waiting_rows(db, now, limit, "CAST(NULL AS TEXT)", "CAST(NULL AS TIMESTAMPTZ)").await
}

async fn waiting_rows(db: &Db, now: DateTime<Utc>, limit: i64, preview: &str, since: &str) -> StoreResult<Vec<Waiting>> {
    let sql = format!(
        "SELECT q.chat_id, c.real_user_id AS user_id, u.display_name AS user_name, u.user_tier, u.lifetime_credits_spent,
                      c.fictional_user_id AS profile_id, f.name AS profile_name, f.response_style, q.entered_queue_at,
                      c.assignment_count, q.excluded_operator_ids, {preview} AS last_message, {since} AS waiting_since
               FROM chat_queue q JOIN chats c ON c.id = q.chat_id
               JOIN real_users u ON u.id = c.real_user_id JOIN fictional_users f ON f.id = c.fictional_user_id
               ORDER BY q.priority_score DESC, q.entered_queue_at ASC LIMIT $1"
    );
    let recent = now - crate::messages::RECENT;
    let mut rows = if since.contains("$2") {
        on_pool!(db, p => sqlx::query_as::<_, Waiting>(&sql).bind(limit).bind(recent).fetch_all(p).await?)
    } else {
        on_pool!(db, p => sqlx::query_as::<_, Waiting>(&sql).bind(limit).fetch_all(p).await?)
    };
    rows.sort_by_key(|w| (-w.priority(now).score(), w.entered_queue_at));
    Ok(rows)
}

/// Stores each entry's current priority, so the index order follows waits.
pub async fn refresh_priorities(db: &Db, now: DateTime<Utc>) -> StoreResult<u64> {
    let mut changed = 0;
    for w in waiting(db, now, 10_000).await? {
        let p = w.priority(now);
        let sql = "UPDATE chat_queue SET priority = $2, priority_score = $3 WHERE chat_id = $1 AND priority <> $2";
        changed += on_pool!(db, p_ => sqlx::query(sql).bind(w.chat_id).bind(p).bind(p.score()).execute(p_).await?.rows_affected());
    }
    Ok(changed)
}

/// An operator's standing for matching.
#[derive(Debug, Clone, sqlx::FromRow)]
struct OperatorRow {
    id: OperatorId,
    is_available: bool,
    is_suspended: bool,
    is_active: bool,
    current_chat_count: i64,
    max_concurrent_chats: i64,
    quality_score: f64,
    specializations: Json<Vec<String>>,
    languages: Json<Vec<String>>,
}

/// Gives `chat` to `operator` if the chat is still waiting and the operator
/// is available, not suspended and below their limit; all or nothing.
/// Conditional updates make this safe across nodes: of two racing
/// assigners, exactly one changes the chat row.
pub async fn assign(db: &Db, chat: ChatId, operator: OperatorId, now: DateTime<Utc>) -> StoreResult<bool> {
    assign_one(db, chat, operator, now, true).await
}

/// `assign`; `announce` says whether this assignment tells consoles the
/// queue changed (a batch announces once for all its chats).
async fn assign_one(db: &Db, chat: ChatId, operator: OperatorId, now: DateTime<Utc>, announce: bool) -> StoreResult<bool> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        // Chat row first, then the operator row: every path that touches
        // both locks them in this order, so two of them cannot deadlock.
        let taken = sqlx::query("UPDATE chats SET assigned_operator_id = $2, assignment_time = $3, last_operator_activity = $3,
                                        idle_warned_at = NULL, updated_at = $3
                                 WHERE id = $1 AND assigned_operator_id IS NULL AND status IN ('active', 'idle', 'escalated')")
            .bind(chat).bind(operator).bind(now).execute(&mut *tx).await?.rows_affected();
        if taken == 0 {
            return Ok(false);
        }
        let room = sqlx::query("UPDATE operators SET current_chat_count = current_chat_count + 1, total_chats_handled = total_chats_handled + 1
                                WHERE id = $1 AND is_active AND is_available AND NOT is_suspended AND deleted_at IS NULL
                                  AND current_chat_count < max_concurrent_chats")
            .bind(operator).execute(&mut *tx).await?.rows_affected();
        if room == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM chat_queue WHERE chat_id = $1").bind(chat).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO operator_incidents (id, operator_id, chat_id, kind, created_at) VALUES ($1, $2, $3, 'assigned', $4)")
            .bind(fantooo_domain::ids::RowId::new()).bind(operator).bind(chat).bind(now).execute(&mut *tx).await?;
        emit_operator_event!(tx, Some(operator), crate::events::EventBody::Assigned { chat_id: chat }, now);
        if announce {
            emit_operator_event!(tx, None::<OperatorId>, crate::events::EventBody::Queue, now);
        }
        tx.commit().await?;
    });
    Ok(true)
}

/// For each user, the operators who have their other chats (a match
/// likes continuity). One query for the whole pass.
async fn operators_who_know(db: &Db, users: &[UserId]) -> StoreResult<HashMap<UserId, Vec<OperatorId>>> {
    let mut known: HashMap<UserId, Vec<OperatorId>> = HashMap::new();
    if users.is_empty() {
        return Ok(known);
    }
    let list = platform_db::placeholders(1, users.len());
    let sql = format!(
        "SELECT DISTINCT real_user_id, assigned_operator_id FROM chats
                       WHERE assigned_operator_id IS NOT NULL AND real_user_id IN ({list})"
    );
    let rows: Vec<(UserId, OperatorId)> = on_pool!(db, p => {
        let mut q = sqlx::query_as(&sql);
        for u in users { q = q.bind(*u) }
        q.fetch_all(p).await?
    });
    for (user, op) in rows {
        known.entry(user).or_default().push(op);
    }
    Ok(known)
}

async fn candidates(db: &Db) -> StoreResult<Vec<OperatorRow>> {
    let sql = "SELECT id, is_available, is_suspended, is_active, current_chat_count, max_concurrent_chats, quality_score, specializations, languages
               FROM operators WHERE is_active AND is_available AND NOT is_suspended AND deleted_at IS NULL AND current_chat_count < max_concurrent_chats";
    Ok(on_pool!(db, p => sqlx::query_as::<_, OperatorRow>(sql).fetch_all(p).await?))
}

/// The best operator for a waiting chat among `ops`, by the domain's score.
fn best_for(w: &Waiting, ops: &[OperatorRow], known: &[OperatorId]) -> Option<OperatorId> {
    ops.iter()
        .filter_map(|o| {
            let cand = Candidate {
                available: o.is_available,
                suspended: o.is_suspended,
                active: o.is_active,
                current_chats: o.current_chat_count,
                max_chats: o.max_concurrent_chats,
                quality_score: o.quality_score,
                specializations: &o.specializations.0,
                languages: &o.languages.0,
                knows_user: known.contains(&o.id),
            };
            let needs =
                ChatNeeds { style: w.response_style.as_deref(), language: "en", excluded: w.excluded_operator_ids.0.contains(&o.id) };
            operations::match_score(&cand, &needs).map(|s| (s, o.id))
        })
        .max_by_key(|(s, id)| (*s, std::cmp::Reverse(*id)))
        .map(|(_, id)| id)
}

/// One pass of the assigner: serves the queue in priority order, each chat
/// to its best-scoring operator. Returns the assignments made.
pub async fn assign_waiting(db: &Db, now: DateTime<Utc>) -> StoreResult<Vec<(ChatId, OperatorId)>> {
    let mut ops = candidates(db).await?;
    let mut made = vec![];
    if ops.is_empty() {
        return Ok(made);
    }
    let waiting = waiting_to_assign(db, now, 500).await?;
    let users: Vec<UserId> = waiting.iter().map(|w| w.user_id).collect();
    let known = operators_who_know(db, &users).await?;
    let mut failure = None;
    // Picks are made in serving order; each wave's transactions then run
    // side by side, so one busy database round trip does not hold up the
    // whole queue. The conditional updates keep every pick honest.
    for wave in waiting.chunks(ASSIGN_WAVE) {
        let mut picks = vec![];
        for w in wave {
            let Some(op) = best_for(w, &ops, known.get(&w.user_id).map(Vec::as_slice).unwrap_or(&[])) else { continue };
            if let Some(o) = ops.iter_mut().find(|o| o.id == op) {
                o.current_chat_count += 1;
            }
            ops.retain(|o| o.current_chat_count < o.max_concurrent_chats);
            picks.push((w.chat_id, op));
            if ops.is_empty() {
                break;
            }
        }
        let results = futures_util::future::join_all(picks.iter().map(|&(chat, op)| assign_one(db, chat, op, now, false))).await;
        let mut missed = false;
        for (pick, result) in picks.into_iter().zip(results) {
            match result {
                Ok(true) => made.push(pick),
                Ok(false) => missed = true,
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        if failure.is_some() {
            break;
        }
        if missed {
            // Someone else moved first (another node, or an operator's own
            // limit changed): re-read who still has room.
            ops = candidates(db).await?;
            ops.retain(|o| o.current_chat_count < o.max_concurrent_chats);
        }
        if ops.is_empty() {
            break;
        }
    }
    if !made.is_empty() {
        // One "the queue changed" for the whole pass, not one per chat.
        crate::events::emit_to(db, None, None, None, crate::events::EventBody::Queue).await?;
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(made),
    }
}

/// Assignment transactions run at once by the assigner.
const ASSIGN_WAVE: usize = 8;

/// An operator takes a chat from the queue themselves: the given one, or
/// the first waiting chat they may take. Returns the chat taken.
pub async fn take(db: &Db, operator: OperatorId, chat: Option<ChatId>, now: DateTime<Utc>) -> StoreResult<Option<ChatId>> {
    for w in waiting_to_assign(db, now, 500).await? {
        if chat.is_some_and(|c| c != w.chat_id) || w.excluded_operator_ids.0.contains(&operator) {
            continue;
        }
        if assign(db, w.chat_id, operator, now).await? {
            return Ok(Some(w.chat_id));
        }
        if chat.is_some() {
            break;
        }
    }
    Ok(None)
}

pub async fn len(db: &Db) -> StoreResult<i64> {
    Ok(on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM chat_queue").fetch_one(p).await?))
}

/// An operator hands back a chat that needs nothing from them now (the
/// last word is theirs): it leaves their list without penalty, and returns
/// to the queue when the user writes again.
pub async fn release(db: &Db, chat: ChatId, operator: OperatorId, now: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let waiting: Option<bool> = sqlx::query_scalar(
            "UPDATE chats SET assigned_operator_id = NULL, updated_at = $3 WHERE id = $1 AND assigned_operator_id = $2
             RETURNING (last_user_message_at IS NOT NULL AND (last_fictional_message_at IS NULL OR last_fictional_message_at < last_user_message_at))")
            .bind(chat).bind(operator).bind(now).fetch_optional(&mut *tx).await?;
        match waiting {
            None => return Err(crate::StoreError::NotFound),
            Some(true) => return Err(crate::StoreError::Rule("Answer the user's last message before handing the chat back.".into())),
            Some(false) => {}
        }
        crate::release_operator_slot!(tx, operator);
        emit_operator_event!(tx, Some(operator), crate::events::EventBody::Released { chat_id: chat }, now);
        emit_operator_event!(tx, None::<OperatorId>, crate::events::EventBody::Queue, now);
        tx.commit().await?;
    });
    Ok(())
}
