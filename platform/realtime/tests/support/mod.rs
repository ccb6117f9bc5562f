//! A tiny outbox shared by the realtime tests: `notes (seq, room, body)`,
//! published to the topic `Room(room)` as `{"t":"note","seq","room","body"}`
//! with the seq as the push's kind.

#![allow(dead_code)]

use axum::extract::ws::Utf8Bytes;
use futures_util::future::BoxFuture;
use platform_db::{on_pool, Db, Migrations, StoreResult};
use platform_realtime::{Hub, Outbox, Push};
use std::sync::Arc;

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("tests/migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("tests/migrations/postgres");
pub const MIGRATIONS: Migrations = Migrations { sqlite: &SQLITE, postgres: &POSTGRES };
pub const TEMPLATE: &str = "platform_realtime_template";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Room(pub i32);

pub struct Notes;

pub type Row = (i64, i32, String);

pub fn note_json(seq: i64, room: i32, body: &str) -> String {
    serde_json::json!({ "t": "note", "seq": seq, "room": room, "body": body }).to_string()
}

pub async fn head(db: &Db, room: Option<i32>) -> StoreResult<i64> {
    let sql = "SELECT COALESCE(MAX(seq), 0) FROM notes WHERE $1 IS NULL OR room = $1";
    Ok(on_pool!(db, p => sqlx::query_scalar(sql).bind(room).fetch_one(p).await?))
}

pub async fn after(db: &Db, room: Option<i32>, after: i64, limit: i64) -> StoreResult<Vec<Row>> {
    let sql = "SELECT seq, room, body FROM notes WHERE seq > $1 AND ($2 IS NULL OR room = $2) ORDER BY seq LIMIT $3";
    Ok(on_pool!(db, p => sqlx::query_as(sql).bind(after).bind(room).bind(limit).fetch_all(p).await?))
}

impl Outbox<Room, i64> for Notes {
    type Row = Row;
    fn seq(row: &Row) -> i64 {
        row.0
    }
    fn head<'a>(&'a self, db: &'a Db) -> BoxFuture<'a, StoreResult<i64>> {
        Box::pin(head(db, None))
    }
    fn after<'a>(&'a self, db: &'a Db, seq: i64, limit: i64) -> BoxFuture<'a, StoreResult<Vec<Row>>> {
        Box::pin(after(db, None, seq, limit))
    }
    fn by_seqs<'a>(&'a self, db: &'a Db, seqs: &'a [i64]) -> BoxFuture<'a, StoreResult<Vec<Row>>> {
        Box::pin(async move {
            let sql = format!("SELECT seq, room, body FROM notes WHERE seq IN ({}) ORDER BY seq", platform_db::int_list(seqs));
            Ok(on_pool!(db, p => sqlx::query_as(&sql).fetch_all(p).await?))
        })
    }
    fn publish(&self, hub: &Hub<Room, i64>, (seq, room, body): Row) {
        let json = Utf8Bytes::from(note_json(seq, room, &body));
        hub.publish(Arc::new(Push { topic: Room(room), json, user_json: None, kind: seq }));
    }
}

/// Adds a note; returns its seq.
pub async fn add(db: &Db, room: i32, body: &str) -> i64 {
    let sql = "INSERT INTO notes (room, body) VALUES ($1, $2) RETURNING seq";
    on_pool!(db, p => sqlx::query_scalar(sql).bind(room).bind(body).fetch_one(p).await.unwrap())
}
