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

/// The room's latest event seq (0 when it has none).
pub async fn room_head(db: &Db, room: RoomId) -> StoreResult<i64> {
    let v: Option<i64> = on_pool!(db, p => sqlx::query_scalar("SELECT MAX(seq) FROM room_events WHERE room_id = $1")
        .bind(room).fetch_one(p).await?);
    Ok(v.unwrap_or(0))
}

/// One person's events after `after`, oldest first.
pub async fn user_since(db: &Db, account: AccountId, after: i64, limit: i64) -> StoreResult<Vec<Event>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Event>(
        "SELECT seq, kind, payload, created_at FROM user_events WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
        .bind(account).bind(after).bind(limit).fetch_all(p).await?))
}

/// A row of either outbox with its addressee (a room or a person), for the
/// platform tailer that fans rows out to sockets across every room.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Tailed {
    pub seq: i64,
    /// The room (room outbox) or the person (user outbox).
    pub to: String,
    pub kind: String,
    pub payload: String,
    pub created_at: DateTime<Utc>,
}

/// Which outbox table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outbox {
    Room,
    User,
}

impl Outbox {
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Outbox::Room => ("room_events", "room_id"),
            Outbox::User => ("user_events", "account_id"),
        }
    }

    /// The highest sequence number committed now.
    pub async fn head(self, db: &Db) -> StoreResult<i64> {
        let (t, _) = self.table();
        let v: Option<i64> = on_pool!(db, p => sqlx::query_scalar(&format!("SELECT MAX(seq) FROM {t}")).fetch_one(p).await?);
        Ok(v.unwrap_or(0))
    }

    /// Rows after `after`, in order, at most `limit`.
    pub async fn tail(self, db: &Db, after: i64, limit: i64) -> StoreResult<Vec<Tailed>> {
        let (t, to) = self.table();
        let sql =
            format!("SELECT seq, CAST({to} AS TEXT) AS \"to\", kind, payload, created_at FROM {t} WHERE seq > $1 ORDER BY seq LIMIT $2");
        Ok(on_pool!(db, p => sqlx::query_as::<_, Tailed>(&sql).bind(after).bind(limit).fetch_all(p).await?))
    }

    /// The rows among `seqs` that exist now (holes the tailer looks for again).
    pub async fn by_seqs(self, db: &Db, seqs: &[i64]) -> StoreResult<Vec<Tailed>> {
        if seqs.is_empty() {
            return Ok(vec![]);
        }
        let (t, to) = self.table();
        let sql = format!(
            "SELECT seq, CAST({to} AS TEXT) AS \"to\", kind, payload, created_at FROM {t} WHERE seq IN ({}) ORDER BY seq",
            platform_db::int_list(seqs)
        );
        Ok(on_pool!(db, p => sqlx::query_as::<_, Tailed>(&sql).fetch_all(p).await?))
    }
}
