//! The admin activity log.

use crate::{on_pool, Db, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::AdminId;
use serde::Serialize;
use sqlx::types::Json;

pub async fn admin_action(
    db: &Db,
    admin: Option<AdminId>,
    action: &str,
    entity: Option<(&str, String)>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    ip: Option<&str>,
) -> StoreResult<()> {
    let (etype, eid) = entity.map(|(t, i)| (Some(t), Some(i))).unwrap_or((None, None));
    on_pool!(db, p => {
        sqlx::query("INSERT INTO admin_activity_log (admin_id, action, entity_type, entity_id, before_value, after_value, ip_address, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(admin).bind(action).bind(etype).bind(eid).bind(before.map(Json)).bind(after.map(Json)).bind(ip).bind(Utc::now())
            .execute(p).await?;
    });
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AdminAction {
    pub seq: i64,
    pub admin_id: Option<AdminId>,
    pub admin_name: Option<String>,
    pub action: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub before_value: Option<Json<serde_json::Value>>,
    pub after_value: Option<Json<serde_json::Value>>,
    pub created_at: DateTime<Utc>,
}

pub async fn recent_admin_actions(db: &Db, limit: i64) -> StoreResult<Vec<AdminAction>> {
    let sql =
        "SELECT l.seq, l.admin_id, a.name AS admin_name, l.action, l.entity_type, l.entity_id, l.before_value, l.after_value, l.created_at
               FROM admin_activity_log l LEFT JOIN admins a ON a.id = l.admin_id ORDER BY l.seq DESC LIMIT $1";
    Ok(on_pool!(db, p => sqlx::query_as::<_, AdminAction>(sql).bind(limit).fetch_all(p).await?))
}

/// What the audit log is narrowed to; every part is optional and they
/// combine (an entity type alone lists every action on that kind).
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditFilter<'a> {
    pub admin: Option<AdminId>,
    pub entity_type: Option<&'a str>,
    pub entity_id: Option<&'a str>,
}

/// The log narrowed by `f`, newest first.
pub async fn admin_actions_filtered(db: &Db, f: AuditFilter<'_>, limit: i64) -> StoreResult<Vec<AdminAction>> {
    let AuditFilter { admin, entity_type: etype, entity_id: eid } = f;
    let sql =
        "SELECT l.seq, l.admin_id, a.name AS admin_name, l.action, l.entity_type, l.entity_id, l.before_value, l.after_value, l.created_at
               FROM admin_activity_log l LEFT JOIN admins a ON a.id = l.admin_id
               WHERE ($1 IS NULL OR l.admin_id = $1) AND ($2 IS NULL OR l.entity_type = $2) AND ($3 IS NULL OR l.entity_id = $3)
               ORDER BY l.seq DESC LIMIT $4";
    Ok(on_pool!(db, p => sqlx::query_as::<_, AdminAction>(sql).bind(admin).bind(etype).bind(eid).bind(limit).fetch_all(p).await?))
}
