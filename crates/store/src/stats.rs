//! Headline numbers for the admin dashboard.

use crate::{on_pool, Db, StoreResult};
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub users: i64,
    pub profiles: i64,
    pub operators: i64,
    pub operators_online: i64,
    pub active_chats: i64,
    pub queue_length: i64,
    pub unread_notifications: i64,
}

pub async fn totals(db: &Db) -> StoreResult<Totals> {
    let q = |sql: &'static str| sql;
    let queries = [
        q("SELECT COUNT(*) FROM real_users WHERE deleted_at IS NULL"),
        q("SELECT COUNT(*) FROM fictional_users WHERE deleted_at IS NULL"),
        q("SELECT COUNT(*) FROM operators WHERE deleted_at IS NULL"),
        q("SELECT COUNT(*) FROM operators WHERE deleted_at IS NULL AND is_available AND NOT is_suspended"),
        q("SELECT COUNT(*) FROM chats WHERE status = 'active'"),
        q("SELECT COUNT(*) FROM chat_queue"),
        q("SELECT COUNT(*) FROM admin_notifications WHERE NOT is_read"),
    ];
    let mut v = [0i64; 7];
    for (i, sql) in queries.iter().enumerate() {
        v[i] = on_pool!(db, p => sqlx::query_scalar(sql).fetch_one(p).await?);
    }
    Ok(Totals { users: v[0], profiles: v[1], operators: v[2], operators_online: v[3], active_chats: v[4], queue_length: v[5], unread_notifications: v[6] })
}
