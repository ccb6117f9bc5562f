//! Reading the outboxes: room events and one person's events, in sequence
//! order after a given sequence number (live tail and replay after a
//! reconnect).

use crate::{on_pool, Db, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::ids::{AccountId, RoomId};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Event {
    pub seq: i64,
    pub kind: String,
    pub payload: String,
    pub created_at: DateTime<Utc>,
}

impl Event {
    pub fn data(&self) -> serde_json::Value {
        serde_json::from_str(&self.payload).unwrap_or(serde_json::Value::Null)
    }
}

/// The room's events after `after`, oldest first.
pub async fn room_since(db: &Db, room: RoomId, after: i64, limit: i64) -> StoreResult<Vec<Event>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Event>(
        "SELECT seq, kind, payload, created_at FROM room_events WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
        .bind(room).bind(after).bind(limit).fetch_all(p).await?))
}

/// One person's events after `after`, oldest first.
pub async fn user_since(db: &Db, account: AccountId, after: i64, limit: i64) -> StoreResult<Vec<Event>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Event>(
        "SELECT seq, kind, payload, created_at FROM user_events WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
        .bind(account).bind(after).bind(limit).fetch_all(p).await?))
}
