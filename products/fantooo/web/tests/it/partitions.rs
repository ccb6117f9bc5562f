//! Archiving monthly partitions older than 12 months (PostgreSQL: detach,
//! gzip export, drop) and restoring one; a no-op on SQLite.

use crate::chat::{flat_pricing, grant, say, user_with_chat};
use crate::support::*;
use chrono::{Duration, Utc};
use fantooo_jobs::Job;
use fantooo_store::{on_pool, partitions, Db};

async fn partition_exists(db: &Db, name: &str) -> bool {
    on_pool!(db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relname = $1").bind(name).fetch_one(p).await.unwrap())
        == 1
}

async fn messages_of(db: &Db, chat: fantooo_domain::ids::ChatId) -> i64 {
    on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE chat_id = $1").bind(chat).fetch_one(p).await.unwrap())
}

#[tokio::test]
async fn old_months_are_archived_to_gzip_and_restored() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        if matches!(b, fantooo_store::Backend::Sqlite) {
            let r = fantooo_jobs::run(&app.db, Job::ArchivePartitions, now).await.unwrap();
            assert_eq!(r["archived"], 0);
            assert!(r["note"].as_str().unwrap().contains("SQLite has no partitions"), "{r}");
            assert!(partitions::restore(&app.db, dir.path(), "messages_y2020m01").await.is_err());
            continue;
        }
        flat_pricing(&app.db).await;
        let (mut c, uid, chat) = user_with_chat(&app, "archivist").await;
        grant(&app.db, uid, 20).await;
        for n in 0..5 {
            assert_eq!(say(&mut c, chat, &format!("message {n}")).await.status, axum::http::StatusCode::CREATED);
        }
        // Three messages belong to 14 months ago, one to 11 months ago.
        let old = now - Duration::days(14 * 31);
        let recent = now - Duration::days(11 * 30);
        partitions::ensure_ahead(&app.db, old, 0).await.unwrap();
        partitions::ensure_ahead(&app.db, recent, 0).await.unwrap();
        let old_name = format!("messages_y{}", partitions::month_start(old, 0).format("%Ym%m"));
        let recent_name = format!("messages_y{}", partitions::month_start(recent, 0).format("%Ym%m"));
        on_pool!(&app.db, p => {
            // The chat began then too: no message is older than its chat.
            sqlx::query("UPDATE chats SET created_at = $2 WHERE id = $1").bind(chat).bind(old).execute(p).await.unwrap();
            sqlx::query("UPDATE messages SET created_at = $2 WHERE chat_id = $1 AND content IN ('message 0', 'message 1', 'message 2')")
                .bind(chat).bind(old).execute(p).await.unwrap();
            sqlx::query("UPDATE messages SET created_at = $2 WHERE chat_id = $1 AND content = 'message 3'")
                .bind(chat).bind(recent).execute(p).await.unwrap();
        });
        assert!(partition_exists(&app.db, &old_name).await && partition_exists(&app.db, &recent_name).await);

        let done = partitions::archive_older_than(&app.db, now, partitions::KEEP_MONTHS, dir.path()).await.unwrap();
        let names: Vec<&str> = done.iter().map(|a| a.partition.as_str()).collect();
        assert!(names.contains(&old_name.as_str()), "{names:?}");
        assert!(!names.contains(&recent_name.as_str()), "11 months old stays live: {names:?}");
        let archived = done.iter().find(|a| a.partition == old_name).unwrap();
        assert_eq!(archived.rows, 3);
        assert!(archived.file.exists() && archived.file.to_string_lossy().ends_with(".copy.gz"));
        // The file is gzip holding the three rows.
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(std::fs::File::open(&archived.file).unwrap()), &mut text).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.contains("message 1"));
        assert!(!partition_exists(&app.db, &old_name).await, "detached and dropped");
        assert!(partition_exists(&app.db, &recent_name).await);
        assert_eq!(messages_of(&app.db, chat).await, 2, "archived rows leave the live table");
        // Nothing more to do on a second run.
        assert!(partitions::archive_older_than(&app.db, now, partitions::KEEP_MONTHS, dir.path()).await.unwrap().is_empty());

        // Restore brings the month back, attached, with every row.
        assert_eq!(partitions::restore(&app.db, dir.path(), &old_name).await.unwrap(), 3);
        assert!(partition_exists(&app.db, &old_name).await);
        assert_eq!(messages_of(&app.db, chat).await, 5);
        let hist = fantooo_store::messages::history(&app.db, chat, None, 10).await.unwrap();
        assert!(hist.iter().any(|m| m.content == "message 0"), "restored rows are readable");
        // Twice is refused; a bad name too.
        assert!(partitions::restore(&app.db, dir.path(), &old_name).await.is_err());
        assert!(partitions::restore(&app.db, dir.path(), "messages_default").await.is_err());
        // The job archives it again.
        std::fs::remove_file(&archived.file).unwrap();
        let done = partitions::archive_older_than(&app.db, now, partitions::KEEP_MONTHS, dir.path()).await.unwrap();
        assert_eq!(done.iter().filter(|a| a.partition == old_name).count(), 1);
    }
}

/// The outbox tail and the retried-send lookup are bounded by time, so
/// PostgreSQL reads only the newest partitions (shown by EXPLAIN).
#[tokio::test]
async fn hot_message_queries_prune_to_recent_partitions() {
    for b in backends() {
        if matches!(b, fantooo_store::Backend::Sqlite) {
            continue;
        }
        let app = TestApp::new(b).await;
        let now = Utc::now();
        let old = now - Duration::days(5 * 31);
        partitions::ensure_ahead(&app.db, old, 0).await.unwrap();
        let old_name = format!("messages_y{}", partitions::month_start(old, 0).format("%Ym%m"));
        let current = format!("messages_y{}", partitions::month_start(now, 0).format("%Ym%m"));
        let since = now - fantooo_store::messages::RECENT;
        let plan = |sql: String| {
            let db = app.db.clone();
            async move {
                let rows: Vec<String> = on_pool!(&db, p => {
                    let q = sqlx::query_scalar(&sql);
                    let q = if sql.contains("client_id") { q.bind(uuid::Uuid::now_v7()).bind("c-1").bind(since) } else { q.bind(0i64).bind(since).bind(10i64) };
                    q.fetch_all(p).await.unwrap()
                });
                rows.join("\n")
            }
        };
        let tail = plan(format!("EXPLAIN SELECT * FROM messages WHERE {}", fantooo_store::messages::TAIL)).await;
        assert!(tail.contains(&current), "{tail}");
        assert!(!tail.contains(&old_name), "the tail reads only recent partitions:\n{tail}");
        let lookup = plan(format!("EXPLAIN SELECT * FROM messages WHERE {}", fantooo_store::messages::CLIENT_ID_LOOKUP)).await;
        assert!(lookup.contains(&current), "{lookup}");
        assert!(!lookup.contains(&old_name), "the client_id lookup reads only recent partitions:\n{lookup}");
        // Without the bound, every partition is read.
        let unbounded =
            plan("EXPLAIN SELECT * FROM messages WHERE seq > $1 AND $2::timestamptz IS NOT NULL ORDER BY seq LIMIT $3".into()).await;
        assert!(unbounded.contains(&old_name), "{unbounded}");
    }
}

/// A page of chat history names a lower time bound: PostgreSQL reads only
/// the partitions of the window asked for (shown by EXPLAIN).
#[tokio::test]
async fn chat_history_prunes_to_the_partitions_of_its_window() {
    for b in backends() {
        if matches!(b, fantooo_store::Backend::Sqlite) {
            continue;
        }
        let app = TestApp::new(b).await;
        let now = Utc::now();
        let old = now - Duration::days(5 * 31);
        partitions::ensure_ahead(&app.db, old, 0).await.unwrap();
        let old_name = format!("messages_y{}", partitions::month_start(old, 0).format("%Ym%m"));
        let current = format!("messages_y{}", partitions::month_start(now, 0).format("%Ym%m"));
        let from = now - fantooo_store::messages::HISTORY_WINDOWS[0];
        let sql = format!("EXPLAIN SELECT * FROM messages WHERE {}", fantooo_store::messages::HISTORY);
        let plan: Vec<String> = on_pool!(&app.db, p => sqlx::query_scalar(&sql)
            .bind(uuid::Uuid::now_v7()).bind(i64::MAX).bind(from).bind(50i64).fetch_all(p).await.unwrap());
        let plan = plan.join("\n");
        assert!(plan.contains(&current), "{plan}");
        assert!(!plan.contains(&old_name), "a history page reads only its window's partitions:\n{plan}");
        // The old shape (no time bound) reads them all.
        let unbounded: Vec<String> = on_pool!(&app.db, p => sqlx::query_scalar(
            "EXPLAIN SELECT * FROM messages WHERE chat_id = $1 AND seq < $2 AND deleted_at IS NULL ORDER BY seq DESC LIMIT $3")
            .bind(uuid::Uuid::now_v7()).bind(i64::MAX).bind(50i64).fetch_all(p).await.unwrap());
        assert!(unbounded.join("\n").contains(&old_name));
    }
}

/// Windowed reading still returns exactly the newest messages before the
/// cursor, reaching back to the chat's start when recent ones are few.
#[tokio::test]
async fn chat_history_widens_its_window_until_the_page_is_full() {
    for b in backends() {
        let app = TestApp::new(b).await;
        flat_pricing(&app.db).await;
        let (mut c, uid, chat) = user_with_chat(&app, "historian").await;
        grant(&app.db, uid, 20).await;
        for n in 0..6 {
            assert_eq!(say(&mut c, chat, &format!("m{n}")).await.status, axum::http::StatusCode::CREATED);
        }
        let now = Utc::now();
        let (two_years, five_months, ten_days) = (now - Duration::days(730), now - Duration::days(5 * 31), now - Duration::days(10));
        if !matches!(b, fantooo_store::Backend::Sqlite) {
            partitions::ensure_ahead(&app.db, two_years, 0).await.unwrap();
            partitions::ensure_ahead(&app.db, five_months, 0).await.unwrap();
        }
        on_pool!(&app.db, p => {
            sqlx::query("UPDATE chats SET created_at = $2 WHERE id = $1").bind(chat).bind(two_years).execute(p).await.unwrap();
            for (content, at) in [("m0", two_years), ("m1", five_months), ("m2", five_months), ("m3", ten_days)] {
                sqlx::query("UPDATE messages SET created_at = $3 WHERE chat_id = $1 AND content = $2").bind(chat).bind(content).bind(at).execute(p).await.unwrap();
            }
        });
        let texts = |page: Vec<fantooo_store::messages::Message>| page.into_iter().map(|m| m.content).collect::<Vec<_>>();
        let h = |before, limit| fantooo_store::messages::history(&app.db, chat, before, limit);
        assert_eq!(texts(h(None, 2).await.unwrap()), ["m5", "m4"], "the recent window fills a small page");
        assert_eq!(texts(h(None, 4).await.unwrap()), ["m5", "m4", "m3", "m2"], "a year back");
        assert_eq!(texts(h(None, 50).await.unwrap()), ["m5", "m4", "m3", "m2", "m1", "m0"], "back to the chat's start");
        let page = h(None, 3).await.unwrap();
        let before = page.last().unwrap().seq;
        assert_eq!(texts(h(Some(before), 3).await.unwrap()), ["m2", "m1", "m0"], "the cursor continues into older months");
        // The API pages the same way.
        let r = c.api_get(&format!("/api/chats/{chat}/messages?limit=5")).await.json();
        assert_eq!(r["messages"].as_array().unwrap().len(), 5);
    }
}
