//! The audit log: staff and account actions (reset tokens issued, accounts
//! suspended or banned, passwords reset).

use crate::{on_pool, Db, StoreResult};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub seq: i64,
    pub actor_id: Option<rooms_domain::ids::AccountId>,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub detail: String,
    pub created_at: DateTime<Utc>,
}

/// The newest entries first.
pub async fn recent(db: &Db, limit: i64) -> StoreResult<Vec<AuditEntry>> {
    let sql = "SELECT seq, actor_id, action, target_kind, target_id, detail, created_at FROM audit_log ORDER BY seq DESC LIMIT $1";
    Ok(on_pool!(db, p => sqlx::query_as::<_, AuditEntry>(sql).bind(limit).fetch_all(p).await?))
}
