//! The audit log and admin notices on both stores.

use chrono::{Duration, TimeZone, Utc};
use platform_audit::{
    list, mark_read, notices, notify, notify_in, record, record_in, unread_count, Audience, Filter, NewNotice, Position, Reader, Record,
    MIGRATIONS,
};
use platform_db::testing::{backends, fresh_db};
use platform_db::{on_pool, BeginWrite, StoreResult};
use serde_json::json;

const TEMPLATE: &str = "platform_audit_template";

#[tokio::test]
async fn an_entry_commits_or_rolls_back_with_the_change_it_describes() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let before = json!({ "status": "active" });
        let after = json!({ "status": "banned" });
        let entry = Record::new("admin", Some("a1"), "user.ban")
            .subject("user", "u1")
            .change(Some(&before), Some(&after))
            .reason("spam")
            .ip(Some("10.0.0.1"));
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        // Rolled back: the entry goes with the change.
        let r: StoreResult<()> = on_pool!(&t.db, p => {
            let mut tx = p.begin_write().await.unwrap();
            record_in(&mut *tx, &entry, at).await.unwrap();
            tx.rollback().await.unwrap();
            Ok(())
        });
        r.unwrap();
        assert!(list(&t.db, &Filter::default(), Position::Newest, 10).await.unwrap().entries.is_empty(), "{backend:?}");
        // Committed: one entry with every field.
        let seq = on_pool!(&t.db, p => {
            let mut tx = p.begin_write().await.unwrap();
            let seq = record_in(&mut *tx, &entry, at).await.unwrap();
            tx.commit().await.unwrap();
            seq
        });
        let got = list(&t.db, &Filter::default(), Position::Newest, 10).await.unwrap();
        assert_eq!(got.entries.len(), 1, "{backend:?}");
        let e = &got.entries[0];
        assert_eq!(e.seq, seq);
        assert_eq!((e.actor_kind.as_str(), e.actor_id.as_deref(), e.action.as_str()), ("admin", Some("a1"), "user.ban"));
        assert_eq!((e.subject_kind.as_deref(), e.subject_id.as_deref()), (Some("user"), Some("u1")));
        assert_eq!(e.before_value.as_ref().map(|j| &j.0), Some(&before));
        assert_eq!(e.after_value.as_ref().map(|j| &j.0), Some(&after));
        assert_eq!((e.reason.as_deref(), e.ip.as_deref(), e.at), (Some("spam"), Some("10.0.0.1"), at));
        assert_eq!((got.newer, got.older), (None, None));
    }
}

#[tokio::test]
async fn filters_combine_and_pages_walk_both_ways_without_gaps() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut all = vec![];
        for i in 0..30i64 {
            let admin = if i % 3 == 0 { "a1" } else { "a2" };
            let action = if i % 2 == 0 { "user.ban" } else { "package.update" };
            let subject = format!("s{}", i % 5);
            let at = start + Duration::days(i);
            let r = Record::new("admin", Some(admin), action).subject(if i % 2 == 0 { "user" } else { "package" }, &subject);
            let seq = on_pool!(&t.db, p => {
                let mut tx = p.begin_write().await.unwrap();
                let seq = record_in(&mut *tx, &r, at).await.unwrap();
                tx.commit().await.unwrap();
                seq
            });
            all.push((seq, i));
        }
        record(&t.db, &Record::new("system", None, "settings.reload")).await.unwrap();

        let seqs = |l: &platform_audit::Listing| l.entries.iter().map(|e| e.seq).collect::<Vec<_>>();
        let expect = |pred: &dyn Fn(i64) -> bool| all.iter().rev().filter(|(_, i)| pred(*i)).map(|(s, _)| *s).collect::<Vec<_>>();

        let by_actor = Filter { actor_kind: Some("admin"), actor_id: Some("a1"), ..Filter::default() };
        assert_eq!(seqs(&list(&t.db, &by_actor, Position::Newest, 100).await.unwrap()), expect(&|i| i % 3 == 0), "{backend:?}");
        let kind_only = Filter { actor_kind: Some("system"), ..Filter::default() };
        assert_eq!(list(&t.db, &kind_only, Position::Newest, 100).await.unwrap().entries.len(), 1);
        let id_without_kind = Filter { actor_id: Some("a1"), ..Filter::default() };
        assert_eq!(
            list(&t.db, &id_without_kind, Position::Newest, 100).await.unwrap().entries.len(),
            31,
            "an actor id alone narrows nothing"
        );
        // s0 is a user when i is even (i = 0, 10, 20) and a package when odd (5, 15, 25).
        let subject_alone = Filter { subject_id: Some("s0"), ..Filter::default() };
        assert_eq!(seqs(&list(&t.db, &subject_alone, Position::Newest, 100).await.unwrap()), expect(&|i| i % 5 == 0), "any kind");
        let combined = Filter {
            action: Some("user.ban"),
            subject_kind: Some("user"),
            subject_id: Some("s0"),
            from: Some(start + Duration::days(5)),
            until: Some(start + Duration::days(25)),
            ..Filter::default()
        };
        assert_eq!(
            seqs(&list(&t.db, &combined, Position::Newest, 100).await.unwrap()),
            expect(&|i| i % 2 == 0 && i % 5 == 0 && (5..25).contains(&i)),
            "{backend:?}"
        );

        // Walk older in pages of 7, then back newer: every entry once, in order.
        let f = Filter { actor_kind: Some("admin"), ..Filter::default() };
        let mut walked = vec![];
        let mut pages = vec![];
        let mut at = Position::Newest;
        loop {
            let page = list(&t.db, &f, at, 7).await.unwrap();
            assert!(page.entries.len() <= 7);
            walked.extend(seqs(&page));
            pages.push(seqs(&page));
            match page.older {
                Some(s) => at = Position::Before(s),
                None => break,
            }
            if pages.len() > 1 {
                assert!(page.newer.is_some(), "{backend:?}: a page after the first has newer ones");
            }
        }
        assert_eq!(walked, expect(&|_| true), "{backend:?}");
        assert_eq!(pages.len(), 5);
        let oldest = pages.last().unwrap();
        let back = list(&t.db, &f, Position::After(*oldest.first().unwrap()), 7).await.unwrap();
        assert_eq!(seqs(&back), pages[pages.len() - 2], "{backend:?}: newer from the last page is the page before it");
        let top = list(&t.db, &f, Position::After(*pages[1].first().unwrap()), 7).await.unwrap();
        assert_eq!(seqs(&top), pages[0]);
        assert_eq!(top.newer, None, "{backend:?}: nothing newer than the first page");
    }
}

#[tokio::test]
async fn notices_reach_their_audience_and_each_reader_reads_for_itself() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let note = |title: &'static str, audience| NewNotice {
            kind: "payment_failed",
            title,
            body: "details",
            link: Some("/admin/payments"),
            audience,
        };
        let everyone = notify(&t.db, &note("to all", Audience::Everyone)).await.unwrap();
        notify(&t.db, &note("to finance", Audience::Role("finance"))).await.unwrap();
        notify(&t.db, &note("to ann", Audience::Admin("ann"))).await.unwrap();
        // In a transaction that rolls back, no notice.
        on_pool!(&t.db, p => {
            let mut tx = p.begin_write().await.unwrap();
            notify_in(&mut *tx, &note("never", Audience::Everyone), Utc::now()).await.unwrap();
            tx.rollback().await.unwrap();
        });

        let ann = Reader { id: "ann", role: Some("finance") };
        let bob = Reader { id: "bob", role: Some("support") };
        let titles = |ns: Vec<platform_audit::Notice>| ns.into_iter().map(|n| (n.title, n.read)).collect::<Vec<_>>();
        assert_eq!(
            titles(notices(&t.db, ann, false, None, 10).await.unwrap()),
            vec![("to ann".to_string(), false), ("to finance".into(), false), ("to all".into(), false)],
            "{backend:?}"
        );
        assert_eq!(titles(notices(&t.db, bob, false, None, 10).await.unwrap()), vec![("to all".to_string(), false)], "{backend:?}");
        assert_eq!(unread_count(&t.db, ann).await.unwrap(), 3);
        assert_eq!(unread_count(&t.db, bob).await.unwrap(), 1);

        // Bob cannot mark Ann's notice; marking his own leaves Ann's state alone.
        let anns = notices(&t.db, ann, false, None, 1).await.unwrap()[0].id;
        assert_eq!(mark_read(&t.db, bob, Some(anns)).await.unwrap(), 0);
        assert_eq!(mark_read(&t.db, bob, Some(everyone)).await.unwrap(), 1);
        assert_eq!(mark_read(&t.db, bob, Some(everyone)).await.unwrap(), 0, "{backend:?}: once");
        assert_eq!(unread_count(&t.db, bob).await.unwrap(), 0);
        assert_eq!(unread_count(&t.db, ann).await.unwrap(), 3, "{backend:?}: read state is per reader");

        assert_eq!(mark_read(&t.db, ann, Some(anns)).await.unwrap(), 1);
        let unread = notices(&t.db, ann, true, None, 10).await.unwrap();
        assert_eq!(unread.len(), 2);
        assert!(unread.iter().all(|n| !n.read && n.id != anns));
        assert_eq!(mark_read(&t.db, ann, None).await.unwrap(), 2, "{backend:?}: all the rest");
        assert_eq!(unread_count(&t.db, ann).await.unwrap(), 0);
        let all = notices(&t.db, ann, false, None, 10).await.unwrap();
        assert!(all.iter().all(|n| n.read), "{backend:?}");
        assert_eq!(all[0].link.as_deref(), Some("/admin/payments"));

        // Keyset: the page after the newest one.
        let older = notices(&t.db, ann, false, Some(all[0].id), 10).await.unwrap();
        assert_eq!(older.iter().map(|n| n.id).collect::<Vec<_>>(), all[1..].iter().map(|n| n.id).collect::<Vec<_>>());
    }
}

/// Erasure rewrites only the values of entries about the named subjects,
/// inside the caller's transaction; who did what stays.
#[tokio::test]
async fn scrubbing_rewrites_the_values_about_a_subject_only() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let words = json!({ "content": "call me at 0700 111 222", "chat": "c1" });
        let other = json!({ "content": "call me at 0700 111 222" });
        for (subject, value) in [("m1", &words), ("m2", &words), ("m3", &other)] {
            record(&t.db, &Record::new("admin", Some("a1"), "message_edited").subject("message", subject).change(Some(value), Some(value)))
                .await
                .unwrap();
        }
        record(&t.db, &Record::new("admin", Some("a1"), "user_banned").subject("user", "m1").change(None, Some(&words))).await.unwrap();
        let ids: Vec<String> = ["m1", "m2", "nobody"].iter().map(|s| s.to_string()).collect();
        let changed = on_pool!(&t.db, p => {
            let mut tx = p.begin_write().await.unwrap();
            let n = platform_audit::scrub_in(&mut *tx, "message", &ids, |v| match v.get_mut("content") {
                Some(c) if c != "[Deleted]" => { *c = json!("[Deleted]"); true }
                _ => false,
            }).await.unwrap();
            tx.commit().await.unwrap();
            n
        });
        assert_eq!(changed, 2, "{backend:?}");
        let log = list(&t.db, &Filter::default(), Position::Newest, 10).await.unwrap().entries;
        let content = |subject: &str, kind: &str| {
            let e = log.iter().find(|e| e.subject_id.as_deref() == Some(subject) && e.subject_kind.as_deref() == Some(kind)).unwrap();
            (
                e.before_value.as_ref().map(|j| j.0["content"].clone()),
                e.after_value.as_ref().map(|j| j.0["content"].clone()),
                e.action.clone(),
            )
        };
        assert_eq!(content("m1", "message"), (Some(json!("[Deleted]")), Some(json!("[Deleted]")), "message_edited".into()));
        assert_eq!(content("m2", "message").0, Some(json!("[Deleted]")));
        assert_eq!(content("m3", "message").0, Some(json!("call me at 0700 111 222")), "another subject is kept");
        assert_eq!(content("m1", "user").1, Some(json!("call me at 0700 111 222")), "another kind of subject is kept");
        let m1 = log.iter().find(|e| e.subject_id.as_deref() == Some("m1") && e.subject_kind.as_deref() == Some("message")).unwrap();
        assert_eq!(m1.before_value.as_ref().unwrap().0["chat"], "c1", "the rest of the value stays");
    }
}
