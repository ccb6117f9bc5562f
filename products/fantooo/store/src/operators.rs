//! Operator accounts (the staff who answer chats).

use crate::{insert_account, on_pool, BeginWrite, Db, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::{AccountId, AdminId, OperatorId};
use fantooo_domain::AccountKind;
use serde::Serialize;
use sqlx::types::Json;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Operator {
    pub id: OperatorId,
    pub account_id: AccountId,
    pub name: String,
    pub email: String,
    pub specializations: Json<Vec<String>>,
    pub languages: Json<Vec<String>>,
    pub skill_level: String,
    pub is_active: bool,
    pub is_available: bool,
    pub max_concurrent_chats: i64,
    pub current_chat_count: i64,
    pub quality_score: f64,
    pub quality_threshold: f64,
    pub average_user_rating: f64,
    pub total_ratings: i64,
    pub idle_incidents: i64,
    pub is_suspended: bool,
    pub suspended_until: Option<DateTime<Utc>>,
    pub last_login: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, account_id, name, email, specializations, languages, skill_level, is_active, is_available, max_concurrent_chats, current_chat_count, quality_score, quality_threshold, average_user_rating, total_ratings, idle_incidents, is_suspended, suspended_until, last_login, created_at";

#[derive(Debug, Clone)]
pub struct NewOperator {
    pub name: String,
    pub email: String,
    pub specializations: Vec<String>,
    pub languages: Vec<String>,
    pub skill_level: String,
    pub max_concurrent_chats: i64,
}

pub async fn create(db: &Db, new: &NewOperator, password_hash: &str, created_by: Option<AdminId>) -> StoreResult<Operator> {
    let now = Utc::now();
    let account = AccountId::new();
    let id = OperatorId::new();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        insert_account!(tx, account, AccountKind::Operator, &new.email, password_hash, now);
        sqlx::query("INSERT INTO operators (id, account_id, name, email, specializations, languages, skill_level, max_concurrent_chats, created_by, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)")
            .bind(id).bind(account).bind(&new.name).bind(&new.email).bind(Json(&new.specializations)).bind(Json(&new.languages))
            .bind(&new.skill_level).bind(new.max_concurrent_chats).bind(created_by).bind(now)
            .execute(&mut *tx).await?;
        tx.commit().await?;
    });
    by_id(db, id).await
}

pub async fn by_id(db: &Db, id: OperatorId) -> StoreResult<Operator> {
    let sql = format!("SELECT {COLUMNS} FROM operators WHERE id = $1 AND deleted_at IS NULL");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Operator>(&sql).bind(id).fetch_one(p).await?))
}

pub async fn by_account(db: &Db, account: AccountId) -> StoreResult<Operator> {
    let sql = format!("SELECT {COLUMNS} FROM operators WHERE account_id = $1 AND deleted_at IS NULL");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Operator>(&sql).bind(account).fetch_one(p).await?))
}

pub async fn list(db: &Db) -> StoreResult<Vec<Operator>> {
    let sql = format!("SELECT {COLUMNS} FROM operators WHERE deleted_at IS NULL ORDER BY quality_score DESC, name");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Operator>(&sql).fetch_all(p).await?))
}

pub async fn record_login(db: &Db, id: OperatorId, at: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => {
        sqlx::query("UPDATE operators SET last_login = $1, last_activity = $1 WHERE id = $2").bind(at).bind(id).execute(p).await?;
    });
    Ok(())
}

/// Marks the operator as present now (WebSocket heartbeat).
pub async fn touch_active(db: &Db, id: OperatorId, at: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => { sqlx::query("UPDATE operators SET last_activity = $2 WHERE id = $1").bind(id).bind(at).execute(p).await?; });
    Ok(())
}

/// How many operators could take a chat right now (online, active, not
/// suspended, with room for one more).
pub async fn available_count(db: &Db) -> StoreResult<i64> {
    let sql = "SELECT COUNT(*) FROM operators WHERE is_active AND is_available AND NOT is_suspended AND deleted_at IS NULL
               AND current_chat_count < max_concurrent_chats";
    Ok(on_pool!(db, p => sqlx::query_scalar(sql).fetch_one(p).await?))
}

/// Turns an operator's availability on or off. Going offline is refused
/// while they hold chats, and suspended operators cannot go online; both
/// checks sit in the conditional update itself, so a concurrent assignment
/// cannot slip between check and change.
pub async fn set_availability(db: &Db, id: OperatorId, available: bool, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = if available {
        "UPDATE operators SET is_available = TRUE, last_activity = $2, updated_at = $2 WHERE id = $1 AND NOT is_suspended AND is_active"
    } else {
        "UPDATE operators SET is_available = FALSE, last_activity = $2, updated_at = $2 WHERE id = $1 AND current_chat_count = 0"
    };
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let changed = sqlx::query(sql).bind(id).bind(now).execute(&mut *tx).await?.rows_affected();
        if changed == 0 {
            let (count, suspended): (i64, bool) = sqlx::query_as("SELECT current_chat_count, is_suspended FROM operators WHERE id = $1")
                .bind(id).fetch_one(&mut *tx).await?;
            return Err(crate::StoreError::Rule(if available && suspended {
                "Suspended operators cannot go online.".to_string()
            } else if available {
                "This account is deactivated.".to_string()
            } else {
                format!("Cannot go offline with {count} active chats. Please finish or hand them over first.")
            }));
        }
        sqlx::query("INSERT INTO operator_incidents (id, operator_id, kind, created_at) VALUES ($1, $2, $3, $4)")
            .bind(fantooo_domain::ids::RowId::new()).bind(id).bind(if available { "online" } else { "offline" }).bind(now)
            .execute(&mut *tx).await?;
        crate::emit_operator_event!(tx, None::<OperatorId>, crate::events::EventBody::Queue, now);
        tx.commit().await?;
    });
    Ok(())
}

/// Frees one chat slot of an operator inside the caller's transaction.
#[macro_export]
#[doc(hidden)]
macro_rules! release_operator_slot {
    ($tx:expr, $operator:expr) => {
        sqlx::query("UPDATE operators SET current_chat_count = current_chat_count - 1 WHERE id = $1 AND current_chat_count > 0")
            .bind($operator)
            .execute(&mut *$tx)
            .await?
    };
}

/// The chats an operator currently holds.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct HeldChat {
    pub chat_id: fantooo_domain::ids::ChatId,
    pub user_name: String,
    pub profile_name: String,
    pub status: fantooo_domain::chat::ChatStatus,
    pub assignment_time: Option<DateTime<Utc>>,
    pub last_user_message_at: Option<DateTime<Utc>>,
    pub last_fictional_message_at: Option<DateTime<Utc>>,
    pub idle_warned_at: Option<DateTime<Utc>>,
    /// The oldest unanswered user message (the user's real wait).
    pub waiting_since: Option<DateTime<Utc>>,
}

impl HeldChat {
    /// How long the user has really been waiting (since their oldest
    /// unanswered message, whoever held the chat then).
    pub fn user_waiting_secs(&self, now: DateTime<Utc>) -> Option<i64> {
        self.waiting_secs(now)?;
        self.waiting_since.map(|w| (now - w).num_seconds().max(0))
    }

    /// Seconds the user has waited for a reply, if the user spoke last.
    pub fn waiting_secs(&self, now: DateTime<Utc>) -> Option<i64> {
        fantooo_domain::operations::unanswered_secs(
            &fantooo_domain::operations::ReplyState {
                // Without a recorded assignment, the user's message starts the clock.
                assigned_at: self.assignment_time.unwrap_or(DateTime::<Utc>::MIN_UTC),
                last_user_message_at: self.last_user_message_at,
                last_profile_message_at: self.last_fictional_message_at,
            },
            now,
        )
    }
}

pub async fn held_chats(db: &Db, id: OperatorId) -> StoreResult<Vec<HeldChat>> {
    held(db, id, None).await
}

/// One chat the operator holds (the console's clock).
pub async fn held_chat(db: &Db, id: OperatorId, chat: fantooo_domain::ids::ChatId) -> StoreResult<HeldChat> {
    held(db, id, Some(chat)).await?.pop().ok_or(crate::StoreError::NotFound)
}

async fn held(db: &Db, id: OperatorId, chat: Option<fantooo_domain::ids::ChatId>) -> StoreResult<Vec<HeldChat>> {
    let sql = concat!(
        "SELECT c.id AS chat_id, u.display_name AS user_name, f.name AS profile_name, c.status, c.assignment_time,
                      c.last_user_message_at, c.last_fictional_message_at, c.idle_warned_at, ",
        crate::waiting_since_sql!("$2"),
        " AS waiting_since
               FROM chats c JOIN real_users u ON u.id = c.real_user_id JOIN fictional_users f ON f.id = c.fictional_user_id
               WHERE c.assigned_operator_id = $1 AND ($3 IS NULL OR c.id = $3) ORDER BY c.assignment_time"
    );
    let recent = Utc::now() - crate::messages::RECENT;
    Ok(on_pool!(db, p => sqlx::query_as::<_, HeldChat>(sql).bind(id).bind(recent).bind(chat).fetch_all(p).await?))
}

/// An operator's own settings: what they are good at, which languages.
pub async fn set_skills(db: &Db, id: OperatorId, specializations: &[String], languages: &[String]) -> StoreResult<()> {
    let sql = "UPDATE operators SET specializations = $2, languages = $3, updated_at = $4 WHERE id = $1";
    on_pool!(db, p => { sqlx::query(sql).bind(id).bind(Json(specializations)).bind(Json(languages)).bind(Utc::now()).execute(p).await?; });
    Ok(())
}
