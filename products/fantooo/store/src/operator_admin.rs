//! Operators as the back office manages them: settings, suspension and
//! reactivation, and the performance table.

use crate::operations::{take_away, Reason};
use crate::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::{ChatId, OperatorId, RowId};
use fantooo_domain::operations::OperationsConfig;
use serde::Serialize;
use sqlx::types::Json;

/// The settings an admin edits.
#[derive(Debug, Clone, Serialize)]
pub struct OperatorEdit {
    pub name: String,
    pub specializations: Vec<String>,
    pub languages: Vec<String>,
    pub skill_level: String,
    pub max_concurrent_chats: i64,
    pub quality_threshold: f64,
}

pub async fn update(db: &Db, id: OperatorId, e: &OperatorEdit) -> StoreResult<()> {
    let sql = "UPDATE operators SET name = $2, specializations = $3, languages = $4, skill_level = $5, max_concurrent_chats = $6,
                 quality_threshold = $7, updated_at = $8 WHERE id = $1 AND deleted_at IS NULL";
    let n = on_pool!(db, p => sqlx::query(sql).bind(id).bind(&e.name).bind(Json(&e.specializations)).bind(Json(&e.languages))
        .bind(&e.skill_level).bind(e.max_concurrent_chats).bind(e.quality_threshold).bind(Utc::now()).execute(p).await?.rows_affected());
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Suspends an operator until `until` (or indefinitely): they go offline,
/// admins are told, and their chats return to the queue.
pub async fn suspend(
    db: &Db,
    id: OperatorId,
    reason: &str,
    until: Option<DateTime<Utc>>,
    cfg: &OperationsConfig,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let name: Option<String> = sqlx::query_scalar(
            "UPDATE operators SET is_suspended = TRUE, suspension_reason = $2, suspended_until = $3, is_available = FALSE, updated_at = $4
             WHERE id = $1 AND deleted_at IS NULL RETURNING name")
            .bind(id).bind(reason).bind(until).bind(now).fetch_optional(&mut *tx).await?;
        let Some(name) = name else { return Err(StoreError::NotFound) };
        sqlx::query("INSERT INTO operator_incidents (id, operator_id, kind, detail, created_at) VALUES ($1, $2, 'suspended', $3, $4)")
            .bind(RowId::new()).bind(id).bind(reason).bind(now).execute(&mut *tx).await?;
        let metadata = serde_json::json!({ "operator_id": id, "by": "admin" });
        crate::notify_admins!(tx, "operator_suspended", format!("Operator {name} was suspended: {reason}"), metadata, now);
        tx.commit().await?;
    });
    let held: Vec<ChatId> =
        on_pool!(db, p => sqlx::query_scalar("SELECT id FROM chats WHERE assigned_operator_id = $1").bind(id).fetch_all(p).await?);
    let mut moved = 0;
    for chat in held {
        if take_away(db, chat, id, Reason::Suspended, cfg, now).await?.is_some() {
            moved += 1;
        }
    }
    Ok(moved)
}

pub async fn reactivate(db: &Db, id: OperatorId, now: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("UPDATE operators SET is_suspended = FALSE, suspension_reason = NULL, suspended_until = NULL, updated_at = $2
                             WHERE id = $1 AND deleted_at IS NULL AND is_suspended")
            .bind(id).bind(now).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            let exists: Option<bool> = sqlx::query_scalar("SELECT is_suspended FROM operators WHERE id = $1 AND deleted_at IS NULL").bind(id).fetch_optional(&mut *tx).await?;
            return Err(match exists { None => StoreError::NotFound, Some(_) => StoreError::Rule("This operator is not suspended.".into()) });
        }
        sqlx::query("INSERT INTO operator_incidents (id, operator_id, kind, created_at) VALUES ($1, $2, 'reactivated', $3)")
            .bind(RowId::new()).bind(id).bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// One row of the performance table.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Performance {
    pub id: OperatorId,
    pub name: String,
    pub email: String,
    pub quality_score: f64,
    pub quality_threshold: f64,
    pub total_messages_sent: i64,
    pub total_chats_handled: i64,
    pub current_chat_count: i64,
    pub max_concurrent_chats: i64,
    pub average_response_ms: Option<i64>,
    pub idle_incidents: i64,
    pub reassignment_count: i64,
    pub user_complaints: i64,
    pub is_available: bool,
    pub is_suspended: bool,
    pub suspension_reason: Option<String>,
    pub last_activity: Option<DateTime<Utc>>,
}

/// An operator's numbers (`operators o`): replies are counted in
/// `operator_reply_counts` (each reply's message counts itself there: migration 0031) on top of what
/// `operators.total_messages_sent` held before, and the last reply counts
/// as activity.
const PERFORMANCE_COLUMNS: &str = "id, name, email, quality_score, quality_threshold,
    CAST(o.total_messages_sent + COALESCE((SELECT SUM(r.messages) FROM operator_reply_counts r WHERE r.operator_id = o.id), 0) AS BIGINT)
        AS total_messages_sent,
    total_chats_handled, current_chat_count, max_concurrent_chats, average_response_ms, idle_incidents, reassignment_count, user_complaints,
    is_available, is_suspended, suspension_reason,
    (SELECT CASE WHEN o.last_activity IS NULL OR MAX(r.last_at) > o.last_activity THEN MAX(r.last_at) ELSE o.last_activity END
     FROM operator_reply_counts r WHERE r.operator_id = o.id) AS last_activity";

/// Sort keys the table offers.
pub const SORTS: &[&str] = &["quality", "messages", "chats", "response", "idle", "name"];

/// Every operator with their numbers, sorted by `sort` (best first). The
/// response time is `operations::response_times` over the standing window,
/// the figure every page shows.
pub async fn performance(db: &Db, sort: &str) -> StoreResult<Vec<Performance>> {
    let order = match sort {
        "messages" => "total_messages_sent DESC",
        "chats" => "total_chats_handled DESC",
        "idle" => "idle_incidents DESC",
        "name" => "name ASC",
        "response" => "name ASC",
        _ => "quality_score DESC",
    };
    let sql = format!("SELECT {PERFORMANCE_COLUMNS} FROM operators o WHERE deleted_at IS NULL ORDER BY {order}, name, id");
    let mut rows = on_pool!(db, p => sqlx::query_as::<_, Performance>(&sql).fetch_all(p).await?);
    let (from, to) = crate::operations::standing_window(Utc::now());
    let times = crate::operations::response_times(db, from, to, None).await?;
    for r in &mut rows {
        r.average_response_ms = times.get(&r.id).copied().flatten();
    }
    if sort == "response" {
        // Fastest first; operators without replies last (the sort is stable).
        rows.sort_by_key(|r| (r.average_response_ms.is_none(), r.average_response_ms));
    }
    Ok(rows)
}

pub async fn one(db: &Db, id: OperatorId) -> StoreResult<Performance> {
    let sql = format!("SELECT {PERFORMANCE_COLUMNS} FROM operators o WHERE id = $1 AND deleted_at IS NULL");
    let mut row = on_pool!(db, p => sqlx::query_as::<_, Performance>(&sql).bind(id).fetch_one(p).await?);
    let (from, to) = crate::operations::standing_window(Utc::now());
    row.average_response_ms = crate::operations::response_times(db, from, to, Some(id)).await?.get(&id).copied().flatten();
    Ok(row)
}
