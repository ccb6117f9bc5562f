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
    pub idle_incidents: i64,
    pub is_suspended: bool,
    pub suspended_until: Option<DateTime<Utc>>,
    pub last_login: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, account_id, name, email, specializations, languages, skill_level, is_active, is_available, max_concurrent_chats, current_chat_count, quality_score, quality_threshold, idle_incidents, is_suspended, suspended_until, last_login, created_at";

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
