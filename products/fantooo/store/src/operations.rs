//! Keeping chats answered: idle warnings and reassignment, escalation to
//! admins, closing inactive chats, and the daily quality review. Every
//! function takes `now`, so the jobs (and tests) control the clock.

use crate::{emit_operator_event, enqueue_chat, notify_admins, notify_user, on_pool, release_operator_slot, BeginWrite, Db, StoreResult};
use chrono::{DateTime, Duration, Utc};
use fantooo_domain::ids::{ChatId, OperatorId, ProfileId, RowId};
use fantooo_domain::operations::{self, IdleAction, OperationsConfig, QualityInput, QueuePriority, ReplyState};
use fantooo_domain::UserTier;
use serde::Serialize;
use sqlx::types::Json;

/// Marks a chat escalated with a flag and tells admins (high priority),
/// inside the caller's transaction.
macro_rules! escalate_in_tx {
    ($tx:expr, $chat:expr, $flag:expr, $why:expr, $now:expr) => {{
        let flags: Option<Json<Vec<String>>> = sqlx::query_scalar("SELECT flags FROM chats WHERE id = $1").bind($chat).fetch_optional(&mut *$tx).await?;
        let mut flags = flags.map(|f| f.0).unwrap_or_default();
        if !flags.iter().any(|f| f == $flag) {
            flags.push($flag.to_string());
        }
        let why: String = $why.to_string();
        sqlx::query("UPDATE chats SET status = 'escalated', flags = $2, escalated_at = $3, escalation_reason = $4,
                            admin_notes = COALESCE(admin_notes, 'Chat requires admin attention')
                     WHERE id = $1")
            .bind($chat).bind(Json(&flags)).bind($now).bind(&why).execute(&mut *$tx).await?;
        let metadata = serde_json::json!({ "chat_id": $chat, "reason": $flag });
        notify_admins!($tx, "chat_escalation", format!("Chat escalated: {why}"), metadata, $now);
    }};
}

pub const SETTINGS_KEY: &str = "operations";

/// The operations thresholds in force (settings, or the spec's defaults).
pub async fn config(db: &Db) -> StoreResult<OperationsConfig> {
    Ok(crate::settings::get::<OperationsConfig>(db, SETTINGS_KEY).await?.unwrap_or_default())
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IdleReport {
    pub warned: u64,
    pub reassigned: u64,
    pub escalated: u64,
}

#[derive(sqlx::FromRow)]
struct AssignedRow {
    id: ChatId,
    assigned_operator_id: OperatorId,
    assignment_time: Option<DateTime<Utc>>,
    last_user_message_at: Option<DateTime<Utc>>,
    last_fictional_message_at: Option<DateTime<Utc>>,
    idle_warned_at: Option<DateTime<Utc>>,
}

/// Warns operators who have not answered in time and takes chats from those
/// past the limit (spec: warning at 2:30, reassignment at 3:00).
pub async fn check_idle(db: &Db, cfg: &OperationsConfig, now: DateTime<Utc>) -> StoreResult<IdleReport> {
    let sql = "SELECT id, assigned_operator_id, assignment_time, last_user_message_at, last_fictional_message_at, idle_warned_at FROM chats
               WHERE assigned_operator_id IS NOT NULL AND status IN ('active', 'idle', 'escalated') AND last_user_message_at IS NOT NULL
                 AND (last_fictional_message_at IS NULL OR last_fictional_message_at < last_user_message_at)";
    let rows: Vec<AssignedRow> = on_pool!(db, p => sqlx::query_as(sql).fetch_all(p).await?);
    let mut report = IdleReport::default();
    for r in rows {
        let state = ReplyState {
            assigned_at: r.assignment_time.unwrap_or(now),
            last_user_message_at: r.last_user_message_at,
            last_profile_message_at: r.last_fictional_message_at,
        };
        match operations::idle_action(&state, now, cfg) {
            IdleAction::None => {}
            IdleAction::Warn { seconds_left } => {
                let already = r.idle_warned_at.is_some_and(|w| Some(w) >= r.last_user_message_at && Some(w) >= r.assignment_time);
                if !already && warn(db, r.id, r.assigned_operator_id, seconds_left, now).await? {
                    report.warned += 1;
                }
            }
            IdleAction::Reassign => match take_away(db, r.id, r.assigned_operator_id, Reason::Idle, cfg, now).await? {
                Some(TakenAway::Requeued) => report.reassigned += 1,
                Some(TakenAway::Escalated) => {
                    report.reassigned += 1;
                    report.escalated += 1
                }
                None => {}
            },
        }
    }
    Ok(report)
}

async fn warn(db: &Db, chat: ChatId, op: OperatorId, seconds_left: i64, now: DateTime<Utc>) -> StoreResult<bool> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("UPDATE chats SET idle_warned_at = $3 WHERE id = $1 AND assigned_operator_id = $2")
            .bind(chat).bind(op).bind(now).execute(&mut *tx).await?.rows_affected();
        if n == 0 { return Ok(false); }
        sqlx::query("INSERT INTO operator_incidents (id, operator_id, chat_id, kind, created_at) VALUES ($1, $2, $3, 'idle_warning', $4)")
            .bind(RowId::new()).bind(op).bind(chat).bind(now).execute(&mut *tx).await?;
        emit_operator_event!(tx, Some(op), crate::events::EventBody::IdleWarning { chat_id: chat, seconds_left }, now);
        tx.commit().await?;
    });
    Ok(true)
}

/// Why a chat leaves its operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Idle,
    Suspended,
    Manual,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Idle => "idle",
            Reason::Suspended => "suspended",
            Reason::Manual => "manual",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TakenAway {
    Requeued,
    Escalated,
}

/// Takes a chat from its operator: the operator is excluded from it, the
/// chat returns to the queue as high priority, or goes to admins once it has
/// been reassigned `max_reassignments` times. `None` if the chat had
/// already left that operator.
pub async fn take_away(
    db: &Db,
    chat: ChatId,
    op: OperatorId,
    reason: Reason,
    cfg: &OperationsConfig,
    now: DateTime<Utc>,
) -> StoreResult<Option<TakenAway>> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let row: Option<(i64, Json<Vec<OperatorId>>, UserTier)> = sqlx::query_as(
            "UPDATE chats SET assigned_operator_id = NULL, assignment_count = assignment_count + 1, idle_warned_at = NULL, updated_at = $3
             WHERE id = $1 AND assigned_operator_id = $2
             RETURNING assignment_count, previous_operator_ids, (SELECT user_tier FROM real_users u WHERE u.id = chats.real_user_id)")
            .bind(chat).bind(op).bind(now).fetch_optional(&mut *tx).await?;
        let Some((reassignments, Json(mut previous), tier)) = row else { return Ok(None) };
        if !previous.contains(&op) {
            previous.push(op);
        }
        sqlx::query("UPDATE chats SET previous_operator_ids = $2 WHERE id = $1").bind(chat).bind(Json(&previous)).execute(&mut *tx).await?;
        release_operator_slot!(tx, op);
        let idle = (reason == Reason::Idle) as i64;
        sqlx::query("UPDATE operators SET idle_incidents = idle_incidents + $2, reassignment_count = reassignment_count + 1 WHERE id = $1")
            .bind(op).bind(idle).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO operator_incidents (id, operator_id, chat_id, kind, detail, created_at) VALUES ($1, $2, $3, 'reassigned', $4, $5)")
            .bind(RowId::new()).bind(op).bind(chat).bind(reason.as_str()).bind(now).execute(&mut *tx).await?;
        emit_operator_event!(tx, Some(op), crate::events::EventBody::TakenAway { chat_id: chat, reason: reason.as_str().into() }, now);
        let outcome = if operations::escalate_after(reassignments, cfg) {
            escalate_in_tx!(tx, chat, "max_reassignments_reached", format!("Chat reassigned {reassignments} times without an answer"), now);
            sqlx::query("DELETE FROM chat_queue WHERE chat_id = $1").bind(chat).execute(&mut *tx).await?;
            TakenAway::Escalated
        } else {
            enqueue_chat!(tx, chat, QueuePriority::High, tier, &previous, now);
            TakenAway::Requeued
        };
        tx.commit().await?;
        Ok(Some(outcome))
    })
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EscalationReport {
    pub over_reassigned: u64,
    pub waited_too_long: u64,
}

/// The 15-minute sweep: chats reassigned too often that are not yet with
/// admins (e.g. after a settings change), and chats waiting in the queue
/// longer than allowed.
pub async fn escalate_stuck(db: &Db, cfg: &OperationsConfig, now: DateTime<Utc>) -> StoreResult<EscalationReport> {
    let mut report = EscalationReport::default();
    let over: Vec<ChatId> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT id FROM chats WHERE assignment_count >= $1 AND status IN ('active', 'idle') AND assigned_operator_id IS NULL")
        .bind(cfg.max_reassignments).fetch_all(p).await?);
    for chat in over {
        escalate(db, chat, "max_reassignments_reached", "Chat reassigned too many times", now).await?;
        report.over_reassigned += 1;
    }
    let cutoff = now - Duration::minutes(cfg.queue_escalation_mins);
    let waiting: Vec<ChatId> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT q.chat_id FROM chat_queue q JOIN chats c ON c.id = q.chat_id WHERE q.entered_queue_at < $1 AND c.status <> 'escalated'")
        .bind(cutoff).fetch_all(p).await?);
    for chat in waiting {
        escalate(db, chat, "queue_timeout", &format!("Waiting for an operator for over {} minutes", cfg.queue_escalation_mins), now)
            .await?;
        report.waited_too_long += 1;
    }
    Ok(report)
}

/// Escalates one chat to admins (also used by the back office).
pub async fn escalate(db: &Db, chat: ChatId, flag: &str, why: &str, now: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        escalate_in_tx!(tx, chat, flag, why, now);
        tx.commit().await?;
    });
    Ok(())
}

/// Closes chats without messages for `auto_close_hours` (reason
/// inactivity_timeout, no refund), freeing their operators.
pub async fn close_inactive(db: &Db, cfg: &OperationsConfig, now: DateTime<Utc>) -> StoreResult<u64> {
    let cutoff = now - Duration::hours(cfg.auto_close_hours);
    let stale: Vec<ChatId> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT id FROM chats WHERE status IN ('active', 'idle', 'escalated') AND COALESCE(last_message_at, created_at) < $1")
        .bind(cutoff).fetch_all(p).await?);
    let mut closed = 0;
    for chat in stale {
        if close(db, chat, "inactivity_timeout", Some(cutoff), now).await? {
            closed += 1;
        }
    }
    Ok(closed)
}

/// Closes a chat (if still open, and for inactivity only if still stale),
/// releasing its operator and queue entry.
pub async fn close(db: &Db, chat: ChatId, reason: &str, stale_before: Option<DateTime<Utc>>, now: DateTime<Utc>) -> StoreResult<bool> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        // Lock the row and read its operator first, then close it.
        let stale_before = stale_before.unwrap_or(now + Duration::days(36_500));
        let op: Option<(Option<OperatorId>,)> = sqlx::query_as(
            "UPDATE chats SET updated_at = $2 WHERE id = $1 AND status IN ('active', 'idle', 'escalated')
               AND COALESCE(last_message_at, created_at) < $3
             RETURNING assigned_operator_id")
            .bind(chat).bind(now).bind(stale_before).fetch_optional(&mut *tx).await?;
        let Some((op,)) = op else { return Ok(false) };
        sqlx::query("UPDATE chats SET status = 'closed', close_reason = $2, closed_at = $3, assigned_operator_id = NULL WHERE id = $1")
            .bind(chat).bind(reason).bind(now).execute(&mut *tx).await?;
        if let Some(op) = op {
            release_operator_slot!(tx, op);
            emit_operator_event!(tx, Some(op), crate::events::EventBody::TakenAway { chat_id: chat, reason: reason.into() }, now);
        }
        sqlx::query("DELETE FROM chat_queue WHERE chat_id = $1").bind(chat).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(true)
}

/// Deletes a profile: it leaves discovery, its open chats close and their
/// users are told, in one transaction.
pub async fn delete_profile(db: &Db, profile: ProfileId, now: DateTime<Utc>) -> StoreResult<u64> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let name: Option<String> = sqlx::query_scalar("UPDATE fictional_users SET deleted_at = $2, is_active = FALSE, updated_at = $2 WHERE id = $1 AND deleted_at IS NULL RETURNING name")
            .bind(profile).bind(now).fetch_optional(&mut *tx).await?;
        let Some(name) = name else { return Err(crate::StoreError::NotFound) };
        let open: Vec<(ChatId, fantooo_domain::ids::UserId, Option<OperatorId>)> = sqlx::query_as(
            "SELECT id, real_user_id, assigned_operator_id FROM chats WHERE fictional_user_id = $1 AND status IN ('active', 'idle', 'escalated')")
            .bind(profile).fetch_all(&mut *tx).await?;
        for (chat, user, op) in &open {
            sqlx::query("UPDATE chats SET status = 'closed', close_reason = 'profile_deleted', closed_at = $2, assigned_operator_id = NULL WHERE id = $1")
                .bind(chat).bind(now).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM chat_queue WHERE chat_id = $1").bind(chat).execute(&mut *tx).await?;
            if let Some(op) = op {
                release_operator_slot!(tx, op);
                emit_operator_event!(tx, Some(*op), crate::events::EventBody::TakenAway { chat_id: *chat, reason: "profile_deleted".into() }, now);
            }
            notify_user!(tx, user, "chat_closed", format!("{name} is no longer available, so your conversation has been closed."), now);
        }
        tx.commit().await?;
        Ok(open.len() as u64)
    })
}

/// Deletes an operator, refused while they hold chats.
pub async fn delete_operator(db: &Db, op: OperatorId, now: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let account: Option<fantooo_domain::ids::AccountId> = sqlx::query_scalar(
            "UPDATE operators SET deleted_at = $2, is_active = FALSE, is_available = FALSE, updated_at = $2
             WHERE id = $1 AND deleted_at IS NULL AND current_chat_count = 0 RETURNING account_id")
            .bind(op).bind(now).fetch_optional(&mut *tx).await?;
        let Some(account) = account else {
            let held: Option<i64> = sqlx::query_scalar("SELECT current_chat_count FROM operators WHERE id = $1 AND deleted_at IS NULL")
                .bind(op).fetch_optional(&mut *tx).await?;
            return Err(match held {
                None => crate::StoreError::NotFound,
                Some(n) => crate::StoreError::Rule(format!("Cannot delete an operator with {n} active chats. Reassign or close them first.")),
            });
        };
        sqlx::query("UPDATE accounts SET is_active = FALSE WHERE id = $1").bind(account).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(account).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QualityReport {
    pub scored: u64,
    pub suspended: u64,
}

#[derive(sqlx::FromRow)]
struct QualityRow {
    id: OperatorId,
    name: String,
    average_user_rating: f64,
    total_ratings: i64,
    user_complaints: i64,
    quality_threshold: f64,
    is_suspended: bool,
}

/// The daily review: recomputes every operator's quality score from the
/// last 30 days, records the trend, and suspends those below their
/// threshold (their chats go back to the queue and admins are told).
pub async fn review_quality(db: &Db, cfg: &OperationsConfig, now: DateTime<Utc>) -> StoreResult<QualityReport> {
    let (since, until) = standing_window(now);
    let response = response_times(db, since, until, None).await?;
    let ops: Vec<QualityRow> = on_pool!(db, p => sqlx::query_as(
        "SELECT id, name, average_user_rating, total_ratings, user_complaints, quality_threshold, is_suspended FROM operators WHERE deleted_at IS NULL")
        .fetch_all(p).await?);
    let mut report = QualityReport::default();
    for o in ops {
        let avg_ms = response.get(&o.id).copied().flatten();
        let idle: i64 = on_pool!(db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM operator_incidents i WHERE i.operator_id = $1 AND i.kind = 'reassigned' AND i.detail = 'idle' AND i.created_at >= $2")
            .bind(o.id).bind(since).fetch_one(p).await?);
        let score = operations::quality_score(&QualityInput {
            average_response_secs: avg_ms.map(|ms| ms as f64 / 1000.0),
            average_rating: (o.total_ratings > 0).then_some(o.average_user_rating),
            idle_incidents: idle,
            complaints: o.user_complaints,
        });
        let suspend = operations::should_suspend(score, o.quality_threshold, o.is_suspended);
        on_pool!(db, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE operators SET quality_score = $2, average_response_ms = COALESCE($3, average_response_ms), updated_at = $4 WHERE id = $1")
                .bind(o.id).bind(score).bind(avg_ms).bind(now).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO operator_quality_history (operator_id, day, quality_score) VALUES ($1, $2, $3)
                         ON CONFLICT (operator_id, day) DO UPDATE SET quality_score = excluded.quality_score")
                .bind(o.id).bind(now.date_naive()).bind(score).execute(&mut *tx).await?;
            if suspend {
                let reason = format!("Quality score below threshold ({score:.2} < {:.2})", o.quality_threshold);
                sqlx::query("UPDATE operators SET is_suspended = TRUE, suspension_reason = $2, suspended_until = $3, is_available = FALSE WHERE id = $1")
                    .bind(o.id).bind(&reason).bind(now + Duration::days(cfg.suspension_days)).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO operator_incidents (id, operator_id, kind, detail, created_at) VALUES ($1, $2, 'suspended', $3, $4)")
                    .bind(RowId::new()).bind(o.id).bind(&reason).bind(now).execute(&mut *tx).await?;
                let metadata = serde_json::json!({ "operator_id": o.id, "quality_score": score });
                notify_admins!(tx, "operator_suspended", format!("Operator {} was suspended: {reason}", o.name), metadata, now);
            }
            tx.commit().await?;
        });
        report.scored += 1;
        if suspend {
            report.suspended += 1;
            let held: Vec<ChatId> = on_pool!(db, p => sqlx::query_scalar("SELECT id FROM chats WHERE assigned_operator_id = $1").bind(o.id).fetch_all(p).await?);
            for chat in held {
                take_away(db, chat, o.id, Reason::Suspended, cfg, now).await?;
            }
        }
    }
    Ok(report)
}

/// The window the back office shows an operator's standing over: the last
/// 30 whole days including today (the analytics page's default range), so
/// the operators list, an operator's page, their own stats and the ranking
/// agree.
pub fn standing_window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let today = now.date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    (today - Duration::days(29), today + Duration::days(1))
}

/// The one response-time figure: each operator's average over their
/// measured replies (a reply to a waiting user message) in `[from, to)`,
/// through `operations::average_response_ms`. `only` narrows to one
/// operator. Operators without replies are absent.
pub async fn response_times(
    db: &Db,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    only: Option<OperatorId>,
) -> StoreResult<std::collections::HashMap<OperatorId, Option<i64>>> {
    let sql = "SELECT handled_by_operator_id, CAST(SUM(response_ms) AS BIGINT), COUNT(response_ms) FROM messages
               WHERE handled_by_operator_id IS NOT NULL AND response_ms IS NOT NULL AND created_at >= $1 AND created_at < $2
                 AND ($3 IS NULL OR handled_by_operator_id = $3)
               GROUP BY handled_by_operator_id";
    let rows: Vec<(OperatorId, i64, i64)> = on_pool!(db, p => sqlx::query_as(sql).bind(from).bind(to).bind(only).fetch_all(p).await?);
    Ok(rows.into_iter().map(|(op, total, n)| (op, operations::average_response_ms(total, n))).collect())
}

/// One day of an operator's quality trend.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct QualityPoint {
    pub day: chrono::NaiveDate,
    pub quality_score: f64,
}

pub async fn quality_trend(db: &Db, op: OperatorId, from: chrono::NaiveDate, to: chrono::NaiveDate) -> StoreResult<Vec<QualityPoint>> {
    let sql = "SELECT day, quality_score FROM operator_quality_history WHERE operator_id = $1 AND day >= $2 AND day <= $3 ORDER BY day";
    Ok(on_pool!(db, p => sqlx::query_as::<_, QualityPoint>(sql).bind(op).bind(from).bind(to).fetch_all(p).await?))
}

/// An operator's numbers over a period.
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct OperatorPeriod {
    pub messages: i64,
    pub chats: i64,
    pub average_response_ms: Option<i64>,
    pub idle_warnings: i64,
    pub idle_reassignments: i64,
}

pub async fn operator_period(db: &Db, op: OperatorId, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<OperatorPeriod> {
    let mut period = operator_counts(db, op, from, to).await?;
    period.average_response_ms = response_times(db, from, to, Some(op)).await?.get(&op).copied().flatten();
    Ok(period)
}

async fn operator_counts(db: &Db, op: OperatorId, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<OperatorPeriod> {
    let sql = "SELECT COUNT(*) AS messages, COUNT(DISTINCT chat_id) AS chats, CAST(NULL AS BIGINT) AS average_response_ms,
                      (SELECT COUNT(*) FROM operator_incidents i WHERE i.operator_id = $1 AND i.kind = 'idle_warning' AND i.created_at >= $2 AND i.created_at < $3) AS idle_warnings,
                      (SELECT COUNT(*) FROM operator_incidents i WHERE i.operator_id = $1 AND i.kind = 'reassigned' AND i.detail = 'idle' AND i.created_at >= $2 AND i.created_at < $3) AS idle_reassignments
               FROM messages WHERE handled_by_operator_id = $1 AND created_at >= $2 AND created_at < $3";
    Ok(on_pool!(db, p => sqlx::query_as::<_, OperatorPeriod>(sql).bind(op).bind(from).bind(to).fetch_one(p).await?))
}

/// One entry of an operator's activity log.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Incident {
    pub chat_id: Option<ChatId>,
    pub kind: String,
    pub detail: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn incidents(db: &Db, op: OperatorId, limit: i64) -> StoreResult<Vec<Incident>> {
    let sql = "SELECT chat_id, kind, detail, created_at FROM operator_incidents WHERE operator_id = $1 ORDER BY created_at DESC LIMIT $2";
    Ok(on_pool!(db, p => sqlx::query_as::<_, Incident>(sql).bind(op).bind(limit).fetch_all(p).await?))
}
