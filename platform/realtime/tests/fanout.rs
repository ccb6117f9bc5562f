//! The tailer over a real outbox table on both stores: rows reach the
//! listeners of their channel once, in order, including a row whose
//! transaction commits after a later one.

use axum::extract::ws::Utf8Bytes;
use futures_util::future::BoxFuture;
use platform_db::testing::{backends, fresh_db};
use platform_db::{on_pool, Backend, BeginWrite, Db, Migrations, StoreResult};
use platform_realtime::{Hub, Outbox, Outboxes, Push, Realtime};
use std::sync::Arc;
use std::time::Duration;

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("tests/migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("tests/migrations/postgres");
const MIGRATIONS: Migrations = Migrations { sqlite: &SQLITE, postgres: &POSTGRES };

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Room(i32);

struct Notes;

type Row = (i64, i32, String);

impl Outbox<Room, i64> for Notes {
    type Row = Row;
    fn seq(row: &Row) -> i64 {
        row.0
    }
    fn head<'a>(&'a self, db: &'a Db) -> BoxFuture<'a, StoreResult<i64>> {
        Box::pin(async move { Ok(on_pool!(db, p => sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM notes").fetch_one(p).await?)) })
    }
    fn after<'a>(&'a self, db: &'a Db, after: i64, limit: i64) -> BoxFuture<'a, StoreResult<Vec<Row>>> {
        Box::pin(async move {
            let sql = "SELECT seq, room, body FROM notes WHERE seq > $1 ORDER BY seq LIMIT $2";
            Ok(on_pool!(db, p => sqlx::query_as(sql).bind(after).bind(limit).fetch_all(p).await?))
        })
    }
    fn by_seqs<'a>(&'a self, db: &'a Db, seqs: &'a [i64]) -> BoxFuture<'a, StoreResult<Vec<Row>>> {
        Box::pin(async move {
            let sql = format!("SELECT seq, room, body FROM notes WHERE seq IN ({}) ORDER BY seq", platform_db::int_list(seqs));
            Ok(on_pool!(db, p => sqlx::query_as(&sql).fetch_all(p).await?))
        })
    }
    fn publish(&self, hub: &Hub<Room, i64>, (seq, room, body): Row) {
        hub.publish(Arc::new(Push { topic: Room(room), json: Utf8Bytes::from(body), user_json: None, kind: seq }));
    }
}

async fn add(db: &Db, room: i32, body: &str) {
    on_pool!(db, p => { sqlx::query("INSERT INTO notes (room, body) VALUES ($1, $2)").bind(room).bind(body).execute(p).await.unwrap(); });
}

async fn next(inbox: &mut platform_realtime::Inbox<Room, i64>) -> (i64, String) {
    let push = tokio::time::timeout(Duration::from_secs(5), inbox.rx.recv()).await.expect("a push in time").expect("open");
    (push.kind, push.json.to_string())
}

#[tokio::test]
async fn rows_reach_their_channel_once_and_in_order() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, "platform_realtime_template").await;
        add(&t.db, 1, "before start").await;
        let rt = Realtime::start(t.db.clone(), Outboxes::default().with(Notes));
        let mut one = rt.hub.connect();
        let mut two = rt.hub.connect();
        rt.hub.subscribe(Room(1), &one.subscriber);
        rt.hub.subscribe(Room(2), &two.subscriber);
        // Let the tailer find the head first: rows before it are history.
        tokio::time::sleep(Duration::from_millis(100)).await;
        for i in 0..5 {
            add(&t.db, 1, &format!("one {i}")).await;
        }
        add(&t.db, 2, "two").await;
        rt.written();
        let mut got = vec![];
        for _ in 0..5 {
            got.push(next(&mut one).await.1);
        }
        assert_eq!(got, (0..5).map(|i| format!("one {i}")).collect::<Vec<_>>(), "{backend:?}");
        assert_eq!(next(&mut two).await.1, "two");
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(one.rx.try_recv().is_err(), "{backend:?}: nothing twice, nothing from before the start");
    }
}

#[tokio::test]
async fn a_late_commit_behind_a_later_row_is_still_delivered() {
    for backend in backends() {
        if backend != Backend::Postgres {
            continue; // SQLite commits one writer at a time, in order.
        }
        let t = fresh_db(backend, &MIGRATIONS, "platform_realtime_template").await;
        let rt = Realtime::start(t.db.clone(), Outboxes::default().with(Notes));
        let mut inbox = rt.hub.connect();
        rt.hub.subscribe(Room(9), &inbox.subscriber);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let Db::Postgres(pool) = &t.db else { unreachable!() };
        // The early row takes its sequence number first but commits last.
        let mut early = pool.begin_write().await.unwrap();
        sqlx::query("INSERT INTO notes (room, body) VALUES (9, 'early')").execute(&mut *early).await.unwrap();
        add(&t.db, 9, "late").await;
        rt.written();
        assert_eq!(next(&mut inbox).await.1, "late");
        early.commit().await.unwrap();
        rt.written();
        let (seq, body) = next(&mut inbox).await;
        assert_eq!(body, "early");
        assert!(seq > 0);
    }
}
