//! The tailer over a real outbox table on both stores: rows reach the
//! listeners of their channel once, in order, including a row whose
//! transaction commits after a later one.

mod support;

use platform_db::testing::{backends, fresh_db};
use platform_db::{Backend, BeginWrite, Db};
use platform_realtime::{Outboxes, Realtime};
use std::time::Duration;
use support::{add, Notes, Room, MIGRATIONS, TEMPLATE};

async fn next(inbox: &mut platform_realtime::Inbox<Room, i64>) -> (i64, String) {
    let push = tokio::time::timeout(Duration::from_secs(5), inbox.rx.recv()).await.expect("a push in time").expect("open");
    let note: serde_json::Value = serde_json::from_str(push.json.as_str()).expect("a note");
    assert_eq!(note["seq"], push.kind);
    (push.kind, note["body"].as_str().expect("a body").to_string())
}

#[tokio::test]
async fn rows_reach_their_channel_once_and_in_order() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        add(&t.db, 1, "before start").await;
        let rt = Realtime::start(t.db.clone(), Outboxes::default().with(Notes));
        let mut one = rt.hub.connect();
        let mut two = rt.hub.connect();
        rt.hub.subscribe(Room(1), &one.subscriber);
        rt.hub.subscribe(Room(2), &two.subscriber);
        // The tailer finds the head first: rows before it are history.
        rt.started().await;
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
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let rt = Realtime::start(t.db.clone(), Outboxes::default().with(Notes));
        let mut inbox = rt.hub.connect();
        rt.hub.subscribe(Room(9), &inbox.subscriber);
        rt.started().await;
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

#[tokio::test]
async fn a_committed_row_reaches_its_nodes_sockets_without_waiting_for_a_poll() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        // Polls far apart: a row that waited for one would miss the bound
        // of `next` (5 s) by 25 s.
        let poll = Duration::from_secs(30);
        let writer = Realtime::start_polling(t.db.clone(), Outboxes::default().with(Notes), poll);
        let peer = Realtime::start_polling(t.db.clone(), Outboxes::default().with(Notes), poll);
        let mut here = writer.hub.connect();
        let mut there = peer.hub.connect();
        writer.hub.subscribe(Room(3), &here.subscriber);
        peer.hub.subscribe(Room(3), &there.subscriber);
        writer.started().await;
        peer.started().await;
        for n in 0..3 {
            add(&t.db, 3, &format!("row {n}")).await;
            // The writer's own tailer is woken in process: its NOTIFY's echo
            // is skipped, so without this wake the row would wait 30 s.
            writer.written();
            assert_eq!(next(&mut here).await.1, format!("row {n}"), "{backend:?}: on the committing node");
            if backend == Backend::Postgres {
                assert_eq!(next(&mut there).await.1, format!("row {n}"), "{backend:?}: another node, woken by the NOTIFY");
            }
        }
    }
}
