//! Operator rules on both stores, with the clock passed in: queueing,
//! atomic assignment under contention, idle warning → reassignment →
//! escalation, auto-close, availability, quality suspension, deletions.

use crate::chat::{grant, say, user_with_chat};
use crate::support::*;
use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use fantooo_domain::chat::ChatStatus;
use fantooo_domain::ids::{ChatId, OperatorId};
use fantooo_domain::operations::{OperationsConfig, QueuePriority};
use fantooo_jobs::Job;
use fantooo_store::{chats, on_pool, operations, operators, queue, Db, StoreError};
use serde_json::json;

async fn new_operator(db: &Db, email: &str, max: i64, specs: &[&str]) -> OperatorId {
    let hash = fantooo_web::auth::hash_password(PASSWORD.into(), true).await.unwrap();
    let op = operators::create(
        db,
        &operators::NewOperator {
            name: email.split('@').next().unwrap().into(),
            email: email.into(),
            specializations: specs.iter().map(|s| s.to_string()).collect(),
            languages: vec!["en".into()],
            skill_level: "mid".into(),
            max_concurrent_chats: max,
        },
        &hash,
        None,
    )
    .await
    .unwrap();
    operators::set_availability(db, op.id, true, Utc::now()).await.unwrap();
    op.id
}

async fn chat_row(db: &Db, chat: ChatId) -> chats::Chat {
    chats::by_id(db, chat).await.unwrap()
}

/// Any admin: notices go to every admin.
const ANY_ADMIN: platform_audit::Reader<'static> = platform_audit::Reader { id: "any-admin", role: None };

#[tokio::test]
async fn a_user_message_queues_the_chat_and_big_spenders_go_first() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut free, _, free_chat) = user_with_chat(&app, "freeuser").await;
        let (mut rich, rich_id, rich_chat) = user_with_chat(&app, "richuser").await;
        assert_eq!(queue::len(&app.db).await.unwrap(), 0, "opening a chat queues nothing");
        say(&mut free, free_chat, "hello").await;
        exec(&app.db, &format!("UPDATE real_users SET lifetime_credits_spent = 20000 WHERE id = '{rich_id}'")).await;
        say(&mut rich, rich_chat, "hello").await;
        say(&mut free, free_chat, "anyone?").await;
        let now = Utc::now();
        let waiting = queue::waiting(&app.db, now, 10).await.unwrap();
        assert_eq!(waiting.len(), 2, "{b:?}: one entry per chat");
        assert_eq!(waiting[0].chat_id, rich_chat);
        assert_eq!(waiting[0].priority(now), QueuePriority::Urgent);
        assert_eq!(waiting[1].priority(now), QueuePriority::Low);
        assert_eq!(waiting[1].priority(now + Duration::seconds(200)), QueuePriority::High, "waiting raises priority");
    }
}

#[tokio::test]
async fn parallel_assigners_never_double_assign_or_exceed_limits() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut chat_ids = vec![];
        for n in 0..12 {
            let (mut c, _, chat) = user_with_chat(&app, &format!("waiter{n}")).await;
            say(&mut c, chat, "hi").await;
            chat_ids.push(chat);
        }
        let ops = [
            new_operator(&app.db, "a@fantooo.com", 2, &[]).await,
            new_operator(&app.db, "b@fantooo.com", 2, &[]).await,
            new_operator(&app.db, "c@fantooo.com", 3, &[]).await,
        ];
        // Four assigners at once, as if on four nodes.
        let mut tasks = vec![];
        for _ in 0..4 {
            let db = app.db.clone();
            tasks.push(tokio::spawn(async move { queue::assign_waiting(&db, Utc::now()).await.unwrap().len() }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        assert_eq!(total, 7, "{b:?}: capacity is 2 + 2 + 3");
        // And one chat, many operators racing for it: exactly one wins.
        let spare = new_operator(&app.db, "d@fantooo.com", 5, &[]).await;
        let spare2 = new_operator(&app.db, "e@fantooo.com", 5, &[]).await;
        let contested = queue::waiting(&app.db, Utc::now(), 1).await.unwrap()[0].chat_id;
        let (x, y) =
            tokio::join!(queue::assign(&app.db, contested, spare, Utc::now()), queue::assign(&app.db, contested, spare2, Utc::now()));
        assert!(x.unwrap() ^ y.unwrap(), "{b:?}: exactly one assignment");
        for op in ops.iter().chain([&spare, &spare2]) {
            let held = operators::held_chats(&app.db, *op).await.unwrap().len() as i64;
            let row = operators::by_id(&app.db, *op).await.unwrap();
            assert_eq!(row.current_chat_count, held, "{b:?}: counter matches");
            assert!(held <= row.max_concurrent_chats);
        }
        let mut owners = std::collections::HashMap::new();
        for chat in &chat_ids {
            if let Some(op) = chat_row(&app.db, *chat).await.assigned_operator_id {
                *owners.entry(op).or_insert(0) += 1;
            }
        }
        assert_eq!(owners.values().sum::<i32>(), 8);
        assert_eq!(queue::len(&app.db).await.unwrap(), 4);
    }
}

#[tokio::test]
async fn matching_prefers_the_specialist() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let friendly = new_operator(&app.db, "friendly@fantooo.com", 5, &["friendly"]).await;
        let flirty = new_operator(&app.db, "flirty@fantooo.com", 5, &["flirty"]).await;
        let (mut c, _, chat) = user_with_chat(&app, "matchme").await; // the profile's style is flirty
        say(&mut c, chat, "hey").await;
        let made = queue::assign_waiting(&app.db, Utc::now()).await.unwrap();
        assert_eq!(made, vec![(chat, flirty)], "{b:?}");
        assert_ne!(made[0].1, friendly);
    }
}

#[tokio::test]
async fn idle_operators_are_warned_then_lose_the_chat_and_the_third_time_admins_step_in() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let cfg = OperationsConfig::default();
        let (mut c, _, chat) = user_with_chat(&app, "waiting").await;
        say(&mut c, chat, "are you there?").await;
        let t0 = Utc::now();
        let ops = [
            new_operator(&app.db, "o1@fantooo.com", 5, &[]).await,
            new_operator(&app.db, "o2@fantooo.com", 5, &[]).await,
            new_operator(&app.db, "o3@fantooo.com", 5, &[]).await,
        ];
        let mut at = t0;
        for (round, op) in ops.iter().enumerate() {
            assert_eq!(queue::take(&app.db, *op, Some(chat), at).await.unwrap(), Some(chat), "{b:?} round {round}");
            let r = operations::check_idle(&app.db, &cfg, at + Duration::seconds(149)).await.unwrap();
            assert_eq!(r, operations::IdleReport::default(), "{b:?}: nothing before 2:30");
            let r = operations::check_idle(&app.db, &cfg, at + Duration::seconds(150)).await.unwrap();
            assert_eq!(r.warned, 1, "{b:?}: warned at 2:30");
            let r = operations::check_idle(&app.db, &cfg, at + Duration::seconds(160)).await.unwrap();
            assert_eq!(r.warned, 0, "{b:?}: warned once");
            let r = operations::check_idle(&app.db, &cfg, at + Duration::seconds(180)).await.unwrap();
            assert_eq!(r.reassigned, 1, "{b:?}: taken at 3:00");
            let row = chat_row(&app.db, chat).await;
            assert_eq!(row.assigned_operator_id, None);
            let o = operators::by_id(&app.db, *op).await.unwrap();
            assert_eq!((o.idle_incidents, o.current_chat_count), (1, 0));
            at += Duration::seconds(181);
            if round < 2 {
                let w = queue::waiting(&app.db, at, 10).await.unwrap();
                assert_eq!(w.len(), 1);
                assert_eq!(w[0].priority(at), QueuePriority::High, "reassigned chats are high priority");
                assert!(w[0].excluded_operator_ids.0.contains(op), "the idle operator is excluded");
                assert_eq!(queue::take(&app.db, *op, Some(chat), at).await.unwrap(), None, "{b:?}: excluded operator cannot take it back");
                assert_eq!(r.escalated, 0);
            } else {
                assert_eq!(r.escalated, 1, "{b:?}: third reassignment escalates");
                assert_eq!(row.status, ChatStatus::Escalated);
                assert_eq!(queue::len(&app.db).await.unwrap(), 0, "escalated chats leave the queue");
                let alerts = platform_audit::notices(&app.db, ANY_ADMIN, true, None, 10).await.unwrap();
                let link = format!("/admin/chats/{chat}");
                assert!(
                    alerts.iter().any(|a| a.kind == "chat_escalation" && a.link.as_deref() == Some(link.as_str())),
                    "{b:?}: admins told"
                );
            }
        }
        let incidents = operations::incidents(&app.db, ops[0], 10).await.unwrap();
        let kinds: Vec<&str> = incidents.iter().map(|i| i.kind.as_str()).collect();
        assert!(kinds.contains(&"idle_warning") && kinds.contains(&"reassigned"), "{kinds:?}");
    }
}

#[tokio::test]
async fn an_answer_stops_the_idle_clock() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let cfg = OperationsConfig::default();
        let (mut c, _, chat) = user_with_chat(&app, "answered").await;
        say(&mut c, chat, "hi").await;
        let op = new_operator(&app.db, "quick@fantooo.com", 5, &[]).await;
        assert!(queue::assign(&app.db, chat, op, Utc::now()).await.unwrap());
        fantooo_store::messages::send_as_profile(
            &app.db,
            chat,
            fantooo_store::messages::ProfileVoice::Operator(op),
            &fantooo_store::messages::Body {
                content: "hello!".into(),
                content_type: fantooo_domain::chat::ContentType::Text,
                media_url: None,
                client_id: None,
            },
        )
        .await
        .unwrap();
        let r = operations::check_idle(&app.db, &cfg, Utc::now() + Duration::hours(1)).await.unwrap();
        assert_eq!(r, operations::IdleReport::default(), "{b:?}");
        let hist = fantooo_store::messages::history(&app.db, chat, None, 1).await.unwrap();
        assert_eq!(hist[0].content, "hello!");
    }
}

#[tokio::test]
async fn inactive_chats_close_after_a_day_without_refund_and_free_the_operator() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut c, uid, chat) = user_with_chat(&app, "dozer").await;
        grant(&app.db, uid, 10).await;
        say(&mut c, chat, "hi").await;
        let op = new_operator(&app.db, "closer@fantooo.com", 5, &[]).await;
        assert!(queue::assign(&app.db, chat, op, Utc::now()).await.unwrap());
        let now = Utc::now();
        assert_eq!(fantooo_jobs::run(&app.db, Job::AutoClose, now + Duration::hours(23)).await.unwrap()["closed"], 0);
        assert_eq!(fantooo_jobs::run(&app.db, Job::AutoClose, now + Duration::hours(25)).await.unwrap()["closed"], 1, "{b:?}");
        let row = chat_row(&app.db, chat).await;
        assert_eq!(row.status, ChatStatus::Closed);
        assert_eq!(row.assigned_operator_id, None);
        assert_eq!(operators::by_id(&app.db, op).await.unwrap().current_chat_count, 0);
        assert_eq!(fantooo_store::ledger::balance(&app.db, uid).await.unwrap().get(), 10, "no refund, nothing charged");
        // Writing again reopens it and it waits for an operator again.
        assert_eq!(say(&mut c, chat, "back again").await.status, StatusCode::CREATED);
        assert_eq!(chat_row(&app.db, chat).await.status, ChatStatus::Active);
        assert_eq!(queue::len(&app.db).await.unwrap(), 1);
    }
}

#[tokio::test]
async fn going_offline_with_chats_is_refused_and_suspended_operators_stay_offline() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut c, _, chat) = user_with_chat(&app, "holder").await;
        say(&mut c, chat, "hi").await;
        let op = new_operator(&app.db, "busy@fantooo.com", 5, &[]).await;
        assert!(queue::assign(&app.db, chat, op, Utc::now()).await.unwrap());
        match operators::set_availability(&app.db, op, false, Utc::now()).await {
            Err(StoreError::Rule(m)) => assert!(m.starts_with("Cannot go offline with 1 active chats"), "{m}"),
            other => panic!("{b:?}: {other:?}"),
        }
        assert!(operators::by_id(&app.db, op).await.unwrap().is_available);
        // The schema refuses it too, whatever path the write takes (here
        // an update that skips the store's condition), and even with the
        // cached chat count wrong.
        let direct = on_pool!(&app.db, p => sqlx::query("UPDATE operators SET is_available = FALSE, current_chat_count = 0 WHERE id = $1")
            .bind(op).execute(p).await.map(|_| ()).map_err(StoreError::from));
        match direct {
            Err(e) => assert!(e.is_guard("offline_with_chats"), "{b:?}: {e:?}"),
            Ok(()) => panic!("{b:?}: went offline holding a chat"),
        }
        assert!(operators::by_id(&app.db, op).await.unwrap().is_available);
        match operations::delete_operator(&app.db, op, Utc::now()).await {
            Err(StoreError::Rule(m)) => assert!(m.contains("1 active chats"), "{m}"),
            other => panic!("{b:?}: {other:?}"),
        }
        exec(&app.db, &format!("UPDATE operators SET is_suspended = TRUE WHERE id = '{op}'")).await;
        let idle = new_operator(&app.db, "idle@fantooo.com", 5, &[]).await;
        operators::set_availability(&app.db, idle, false, Utc::now()).await.unwrap();
        exec(&app.db, &format!("UPDATE operators SET is_suspended = TRUE WHERE id = '{idle}'")).await;
        assert!(matches!(operators::set_availability(&app.db, idle, true, Utc::now()).await, Err(StoreError::Rule(_))));
        operations::delete_operator(&app.db, idle, Utc::now()).await.unwrap();
    }
}

#[tokio::test]
async fn low_quality_suspends_for_seven_days_and_requeues_their_chats() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut c, _, chat) = user_with_chat(&app, "unlucky").await;
        say(&mut c, chat, "hi").await;
        let weak = new_operator(&app.db, "weak@fantooo.com", 5, &[]).await;
        let good = new_operator(&app.db, "good@fantooo.com", 5, &[]).await;
        assert!(queue::assign(&app.db, chat, weak, Utc::now()).await.unwrap());
        exec(&app.db, &format!("UPDATE operators SET user_complaints = 5 WHERE id = '{weak}'")).await; // 100 − 40 = 60
        exec(&app.db, &format!("UPDATE operators SET quality_threshold = 70 WHERE id = '{weak}'")).await;
        let now = Utc::now();
        let counts = fantooo_jobs::run(&app.db, Job::OperatorStats, now).await.unwrap();
        assert_eq!((counts["scored"].as_u64(), counts["suspended"].as_u64()), (Some(2), Some(1)), "{b:?}");
        let w = operators::by_id(&app.db, weak).await.unwrap();
        assert!(w.is_suspended && !w.is_available);
        assert_eq!(w.quality_score, 60.0);
        assert_eq!(w.suspended_until.unwrap().date_naive(), (now + Duration::days(7)).date_naive());
        assert_eq!(operators::by_id(&app.db, good).await.unwrap().quality_score, 100.0);
        assert_eq!(chat_row(&app.db, chat).await.assigned_operator_id, None, "their chat went back");
        let made = queue::assign_waiting(&app.db, now).await.unwrap();
        assert_eq!(made, vec![(chat, good)], "{b:?}: suspended operators get no chats");
        let trend = operations::quality_trend(&app.db, weak, now.date_naive() - Duration::days(1), now.date_naive()).await.unwrap();
        assert_eq!(trend.len(), 1);
        let alerts = platform_audit::notices(&app.db, ANY_ADMIN, true, None, 10).await.unwrap();
        assert!(alerts.iter().any(|a| a.kind == "operator_suspended" && a.title == "Operator suspended"));
    }
}

#[tokio::test]
async fn deleting_a_profile_closes_its_chats_and_tells_the_users() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut c, uid, chat) = user_with_chat(&app, "bereft").await;
        say(&mut c, chat, "hi").await;
        let op = new_operator(&app.db, "keeper@fantooo.com", 5, &[]).await;
        assert!(queue::assign(&app.db, chat, op, Utc::now()).await.unwrap());
        let profile = chat_row(&app.db, chat).await.fictional_user_id;
        assert_eq!(operations::delete_profile(&app.db, profile, Utc::now()).await.unwrap(), 1);
        let row = chat_row(&app.db, chat).await;
        assert_eq!(row.status, ChatStatus::Closed);
        assert_eq!(operators::by_id(&app.db, op).await.unwrap().current_chat_count, 0);
        let notes = fantooo_store::notifications::for_user(&app.db, uid, 5).await.unwrap();
        assert!(notes[0].message.contains("no longer available"), "{b:?}");
        assert!(!notes[0].message.to_lowercase().contains("operator"));
        let r = say(&mut c, chat, "hello?").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "a deleted profile's chat stays closed: {}", r.body);
        let again = c.json(Method::POST, "/api/chats", json!({ "profile_id": profile.to_string() })).await;
        assert_eq!(again.status, StatusCode::NOT_FOUND);
    }
}

/// A user whose message no one can answer yet is told so honestly, in
/// public words, and the message is kept: nobody online, someone online,
/// and no notice once the chat is attended or answered.
#[tokio::test]
async fn an_unanswered_user_sees_an_honest_waiting_state() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut c, _, chat) = user_with_chat(&app, "waiter").await;
        let r = say(&mut c, chat, "is anyone there?").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let nobody = r.json()["waiting"].as_str().unwrap_or_default().to_string();
        assert_eq!(nobody, "Amani isn't around right now. Your message is saved and Amani will reply when back.", "{b:?}");
        let page = c.get(&format!("/chat/{chat}")).await.body;
        assert!(page.contains(&nobody.replace('\'', "&#39;")), "{b:?}: {page}");
        for word in ["operator", "assigned", "queue"] {
            assert!(!nobody.to_lowercase().contains(word));
        }

        let op = new_operator(&app.db, "waiting@fantooo.com", 5, &[]).await;
        let r = say(&mut c, chat, "hello again").await;
        assert_eq!(r.json()["waiting"], "Amani usually replies within a few minutes. Your message is saved.", "{b:?}");

        assert!(queue::assign(&app.db, chat, op, Utc::now()).await.unwrap());
        let page = c.get(&format!("/chat/{chat}")).await.body;
        assert!(page.contains(r#"id="chat-waiting" role="status" hidden>"#), "{b:?}: attended, no notice");
        let r = say(&mut c, chat, "thanks").await;
        assert_eq!(r.json()["waiting"], serde_json::Value::Null, "{b:?}");
        let stored = fantooo_store::messages::history(&app.db, chat, None, 10).await.unwrap();
        assert_eq!(stored.len(), 3, "{b:?}: nothing was lost");
    }
}
