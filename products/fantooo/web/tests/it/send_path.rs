//! The send path's shortcuts keep their promises: a node's copy of the
//! pricing settings never charges an old price, and an operator's replies
//! counted in slots add up to what they sent, and so do a profile's
//! messages from many users.

use crate::chat::{assign_to, flat_pricing, grant, make_profile, say, user_with_chat};
use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_domain::pricing::PricingConfig;
use fantooo_store::messages::{send_as_profile, Body, ProfileVoice};
use fantooo_store::{on_pool, operator_admin, operators, settings};

#[tokio::test]
async fn a_price_saved_elsewhere_is_charged_by_the_next_send() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let cfg = PricingConfig {
            free_messages_per_chat: 0,
            base_credits: 2,
            peak_percent: 100,
            off_peak_percent: 100,
            ..PricingConfig::default()
        };
        settings::set(&app.db, "pricing", &cfg, None).await.unwrap();
        let (mut c, uid, chat) = user_with_chat(&app, "pricey").await;
        grant(&app.db, uid, 100).await;
        let r = say(&mut c, chat, "one").await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        assert_eq!(r.json()["message"]["credits_charged"], 2, "{b:?}");
        // Saved straight into the database, as another node's admin page
        // would: this node's copy is now stale, and must not be used.
        let cfg = PricingConfig { base_credits: 5, ..cfg };
        settings::set(&app.db, "pricing", &cfg, None).await.unwrap();
        let r = say(&mut c, chat, "two").await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        assert_eq!(r.json()["message"]["credits_charged"], 5, "{b:?}: the new price applies at once");
        assert_eq!(r.json()["balance"], 93, "{b:?}");
        let r = say(&mut c, chat, "three").await;
        assert_eq!(r.json()["message"]["credits_charged"], 5, "{b:?}: and keeps applying");
        crate::chat::assert_books_balance(&app.db).await;
    }
}

#[tokio::test]
async fn an_operators_replies_in_many_chats_all_count() {
    for b in backends() {
        let app = TestApp::new(b).await;
        flat_pricing(&app.db).await;
        let _op_client = operator_client(&app, "counted@fantooo.com").await;
        let op = operators::list(&app.db).await.unwrap().into_iter().find(|o| o.email == "counted@fantooo.com").unwrap().id;
        let before = operator_admin::one(&app.db, op).await.unwrap();
        assert_eq!(before.total_messages_sent, 0, "{b:?}");
        let started = chrono::Utc::now();
        let mut chats = vec![];
        for n in 0..5 {
            let (mut c, _, chat) = user_with_chat(&app, &format!("writer{n}")).await;
            say(&mut c, chat, "hi").await;
            assert!(assign_to(&app.db, chat, op).await, "{b:?}");
            chats.push(chat);
        }
        let body = |text: &str| Body {
            content: text.into(),
            content_type: fantooo_domain::chat::ContentType::Text,
            media_url: None,
            client_id: None,
        };
        for (n, chat) in chats.iter().enumerate() {
            for k in 0..=n {
                send_as_profile(&app.db, *chat, ProfileVoice::Operator(op), &body(&format!("reply {k}"))).await.unwrap();
            }
        }
        let after = operator_admin::one(&app.db, op).await.unwrap();
        assert_eq!(after.total_messages_sent, 15, "{b:?}: 1 + 2 + 3 + 4 + 5 replies");
        assert!(after.last_activity.is_some_and(|t| t >= started - chrono::Duration::seconds(1)), "{b:?}: {:?}", after.last_activity);
        let listed = operator_admin::performance(&app.db, "messages").await.unwrap();
        assert_eq!(listed.iter().find(|p| p.id == op).map(|p| p.total_messages_sent), Some(15), "{b:?}");
    }
}

#[tokio::test]
async fn a_profiles_messages_from_many_users_all_count() {
    for b in backends() {
        let app = TestApp::new(b).await;
        flat_pricing(&app.db).await;
        let profile = make_profile(&app.db, "Popular", false).await;
        let mut sent = (0, 0);
        for n in 0..6 {
            let mut c = api_user(&app, &format!("fan{n}")).await;
            let uid = crate::chat::user_id(&mut c).await;
            grant(&app.db, uid, 50).await;
            let r = c.json(Method::POST, "/api/chats", serde_json::json!({ "profile_id": profile.to_string() })).await;
            assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
            let chat: fantooo_domain::ids::ChatId = r.json()["chat"]["id"].as_str().unwrap().parse().unwrap();
            for k in 0..=n {
                let r = say(&mut c, chat, &format!("message {k}")).await;
                assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
                sent.0 += 1;
                sent.1 += r.json()["message"]["credits_charged"].as_i64().unwrap();
            }
        }
        assert!(sent.1 > 0, "{b:?}: some messages were paid");
        assert_eq!(fantooo_store::profiles::message_totals(&app.db, profile).await.unwrap(), sent, "{b:?}: 21 messages and their credits");
        let slots: i64 =
            on_pool!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM profile_message_counts").fetch_one(p).await.unwrap());
        assert!(slots > 1, "{b:?}: the chats count in more than one row ({slots})");
        crate::chat::assert_books_balance(&app.db).await;
    }
}

/// A text message body, with an optional client id.
fn text(content: &str, client_id: Option<&str>) -> Body {
    Body {
        content: content.into(),
        content_type: fantooo_domain::chat::ContentType::Text,
        media_url: None,
        client_id: client_id.map(str::to_string),
    }
}

/// Every message costs one credit (no free introduction).
async fn one_credit_each(db: &fantooo_store::Db) {
    let cfg = PricingConfig { free_messages_per_chat: 0, peak_percent: 100, off_peak_percent: 100, ..PricingConfig::default() };
    settings::set(db, "pricing", &cfg, None).await.unwrap();
}

#[tokio::test]
async fn a_send_batch_answers_each_send_on_its_own() {
    use fantooo_store::send_batch::{send_as_users, UserSend};
    use fantooo_store::StoreError;
    for b in backends() {
        let app = TestApp::new(b).await;
        one_credit_each(&app.db).await;
        let (_a, ua, ca) = user_with_chat(&app, "batcha").await;
        let (_b, ub, cb) = user_with_chat(&app, "batchb").await;
        let (_c, uc, cc) = user_with_chat(&app, "batchc").await;
        grant(&app.db, ua, 10).await;
        grant(&app.db, uc, 1).await;
        let send = |chat, user, t: &str| UserSend { chat, user, body: text(t, None) };
        let batch = [
            send(ca, ua, "a one"),
            send(cb, ub, "b has no credits"),
            send(cc, uc, "c one"),
            send(ca, ua, "a two"),
            send(cc, uc, "c is out now"),
            send(ca, uc, "c in a's chat"),
        ];
        let pricing = settings::Cached::new("pricing");
        let answers = send_as_users(&app.db, &batch, &pricing).await.unwrap();
        assert_eq!(answers.len(), 6, "{b:?}");
        let ok = |i: usize| answers[i].as_ref().unwrap_or_else(|e| panic!("{b:?}: send {i}: {e}"));
        assert_eq!((ok(0).balance.unwrap().get(), ok(0).duplicate, ok(0).message.credits_charged.get()), (9, false, 1), "{b:?}");
        assert!(
            matches!(answers[1], Err(StoreError::Insufficient { required: 1, available: 0 })),
            "{b:?}: b's own 402: {:?}",
            answers[1].as_ref().err()
        );
        assert_eq!(ok(2).balance.unwrap().get(), 0, "{b:?}");
        assert_eq!(ok(3).balance.unwrap().get(), 8, "{b:?}: a's second send saw the first's charge");
        assert!(ok(0).message.seq < ok(3).message.seq, "{b:?}: a's messages in order");
        assert!(matches!(answers[4], Err(StoreError::Insufficient { required: 1, available: 0 })), "{b:?}");
        assert!(matches!(answers[5], Err(StoreError::NotFound)), "{b:?}: a chat of someone else");
        assert_eq!(fantooo_store::ledger::balance(&app.db, ua).await.unwrap().get(), 8, "{b:?}");
        assert_eq!(fantooo_store::ledger::balance(&app.db, ub).await.unwrap().get(), 0, "{b:?}");
        assert_eq!(fantooo_store::ledger::balance(&app.db, uc).await.unwrap().get(), 0, "{b:?}");
        let count = |chat| {
            let db = app.db.clone();
            async move { fantooo_store::chats::by_id(&db, chat).await.unwrap().message_count }
        };
        assert_eq!((count(ca).await, count(cb).await, count(cc).await), (2, 0, 1), "{b:?}");
        crate::chat::assert_books_balance(&app.db).await;
    }
}

#[tokio::test]
async fn a_client_id_twice_in_one_batch_is_stored_and_charged_once() {
    use fantooo_store::send_batch::{send_as_users, UserSend};
    for b in backends() {
        let app = TestApp::new(b).await;
        one_credit_each(&app.db).await;
        let (_a, ua, ca) = user_with_chat(&app, "retrier").await;
        grant(&app.db, ua, 10).await;
        let send = |t: &str, cid: &str| UserSend { chat: ca, user: ua, body: text(t, Some(cid)) };
        let pricing = settings::Cached::new("pricing");
        let batch = [send("hello", "k1"), send("hello", "k1"), send("again", "k2")];
        let answers: Vec<_> = send_as_users(&app.db, &batch, &pricing).await.unwrap().into_iter().map(Result::unwrap).collect();
        assert!(!answers[0].duplicate && answers[1].duplicate && !answers[2].duplicate, "{b:?}");
        assert_eq!(answers[0].message.id, answers[1].message.id, "{b:?}: the retry is answered with the stored message");
        assert_eq!(answers[1].message.credits_charged.get(), 1, "{b:?}");
        assert_eq!(answers[2].balance.unwrap().get(), 8, "{b:?}: charged once for k1, once for k2");
        // Retried again in a later batch, and on its own: still the same row.
        let again = send_as_users(&app.db, &[send("hello", "k1")], &pricing).await.unwrap().remove(0).unwrap();
        assert!(again.duplicate && again.message.id == answers[0].message.id, "{b:?}");
        let single = fantooo_store::messages::send_as_user(&app.db, ca, ua, &text("again", Some("k2")), &pricing).await.unwrap();
        assert!(single.duplicate && single.message.id == answers[2].message.id, "{b:?}");
        assert_eq!(fantooo_store::ledger::balance(&app.db, ua).await.unwrap().get(), 8, "{b:?}");
        assert_eq!(fantooo_store::chats::by_id(&app.db, ca).await.unwrap().message_count, 2, "{b:?}");
        crate::chat::assert_books_balance(&app.db).await;
    }
}

#[tokio::test]
async fn a_batch_of_many_users_writes_every_user_chat_and_profile_slot() {
    use fantooo_store::send_batch::{send_as_users, UserSend};
    for b in backends() {
        let app = TestApp::new(b).await;
        one_credit_each(&app.db).await;
        let profile = make_profile(&app.db, "Crowded", false).await;
        // More chats than a profile has counter slots, all counted in the
        // batch's one slot: the batch's one upsert must add them up.
        let mut people = vec![];
        for n in 0..17 {
            let mut c = api_user(&app, &format!("crowd{n}")).await;
            let uid = crate::chat::user_id(&mut c).await;
            grant(&app.db, uid, 5).await;
            let r = c.json(Method::POST, "/api/chats", serde_json::json!({ "profile_id": profile.to_string() })).await;
            assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
            let chat: fantooo_domain::ids::ChatId = r.json()["chat"]["id"].as_str().unwrap().parse().unwrap();
            people.push((uid, chat));
        }
        let mut batch: Vec<UserSend> = people.iter().map(|(u, c)| UserSend { chat: *c, user: *u, body: text("hello", None) }).collect();
        // The first user writes twice: one user row, two charges.
        batch.push(UserSend { chat: people[0].1, user: people[0].0, body: text("hello again", None) });
        let pricing = settings::Cached::new("pricing");
        let answers = send_as_users(&app.db, &batch, &pricing).await.unwrap();
        for (i, a) in answers.iter().enumerate() {
            let a = a.as_ref().unwrap_or_else(|e| panic!("{b:?}: send {i}: {e}"));
            assert_eq!(a.message.credits_charged.get(), 1, "{b:?}: send {i}");
        }
        assert_eq!(answers[17].as_ref().unwrap().balance.unwrap().get(), 3, "{b:?}: the second send saw the first's charge");
        assert!(answers[..17].iter().all(|a| a.as_ref().unwrap().queued), "{b:?}: every chat waits for an operator");
        for (n, (user, chat)) in people.iter().enumerate() {
            let (balance, count) = if n == 0 { (3, 2) } else { (4, 1) };
            assert_eq!(fantooo_store::ledger::balance(&app.db, *user).await.unwrap().get(), balance, "{b:?}: user {n}");
            assert_eq!(fantooo_store::chats::by_id(&app.db, *chat).await.unwrap().message_count, count, "{b:?}: chat {n}");
        }
        assert_eq!(fantooo_store::profiles::message_totals(&app.db, profile).await.unwrap(), (18, 18), "{b:?}");
        let queued: i64 = on_pool!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM chat_queue").fetch_one(p).await.unwrap());
        assert_eq!(queued, 17, "{b:?}: one queue entry per chat");
        crate::chat::assert_books_balance(&app.db).await;
    }
}

/// A user's send says which profile its chat waits for while no operator
/// is on it, from the row it locked (the handler reads no chat before a
/// text send), on both paths; a send into someone else's chat or a chat
/// that does not exist writes nothing and is answered as before.
#[tokio::test]
async fn a_send_names_the_profile_its_unattended_chat_waits_for() {
    use fantooo_store::messages::send_as_user;
    use fantooo_store::send_batch::{send_as_users, UserSend};
    for b in backends() {
        let app = TestApp::new(b).await;
        flat_pricing(&app.db).await;
        let (mut c, ua, ca) = user_with_chat(&app, "waitsa").await;
        let (_d, ub, cb) = user_with_chat(&app, "waitsb").await;
        grant(&app.db, ua, 10).await;
        grant(&app.db, ub, 10).await;
        let profile_a = fantooo_store::chats::by_id(&app.db, ca).await.unwrap().fictional_user_id;
        let profile_b = fantooo_store::chats::by_id(&app.db, cb).await.unwrap().fictional_user_id;
        let pricing = settings::Cached::new("pricing");
        let alone = send_as_user(&app.db, ca, ua, &text("alone", None), &pricing).await.unwrap();
        let name_a = fantooo_store::profiles::public_including_unlisted(&app.db, profile_a).await.unwrap().name;
        let waits_a = fantooo_store::messages::Waiting { profile: profile_a, profile_name: name_a.clone(), operators_available: false };
        assert_eq!(alone.waiting_on, Some(waits_a.clone()), "{b:?}: the single path, no operator online");
        let batch = [
            UserSend { chat: ca, user: ua, body: text("a batched", None) },
            UserSend { chat: cb, user: ub, body: text("b batched", Some("b-1")) },
            UserSend { chat: cb, user: ub, body: text("b again", Some("b-1")) },
        ];
        let answers = send_as_users(&app.db, &batch, &pricing).await.unwrap();
        let waits: Vec<_> = answers.iter().map(|a| a.as_ref().unwrap().waiting_on.as_ref().map(|w| w.profile)).collect();
        assert_eq!(waits, vec![Some(profile_a), Some(profile_b), Some(profile_b)], "{b:?}: the batch, a repeat too");
        assert_eq!(answers[0].as_ref().unwrap().waiting_on, Some(waits_a.clone()), "{b:?}: the batch names the profile");
        let r = say(&mut c, ca, "unattended").await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        let notice = fantooo_domain::chat::waiting_notice(&name_a, true, false, false);
        assert_eq!(r.json()["waiting"].as_str(), notice.as_deref(), "{b:?}: the notice with no operator online");

        let _op_client = operator_client(&app, "attends@fantooo.com").await;
        let op = operators::list(&app.db).await.unwrap().into_iter().find(|o| o.email == "attends@fantooo.com").unwrap().id;
        operators::set_availability(&app.db, op, true, chrono::Utc::now()).await.unwrap();
        let answers = send_as_users(&app.db, &batch[..1], &pricing).await.unwrap();
        let online = fantooo_store::messages::Waiting { operators_available: true, ..waits_a.clone() };
        assert_eq!(answers[0].as_ref().unwrap().waiting_on, Some(online), "{b:?}: an operator is online now");
        let r = say(&mut c, ca, "someone is online").await;
        let notice = fantooo_domain::chat::waiting_notice(&name_a, true, false, true);
        assert_eq!(r.json()["waiting"].as_str(), notice.as_deref(), "{b:?}: the notice with an operator online");
        assert!(assign_to(&app.db, ca, op).await, "{b:?}");
        let answers = send_as_users(&app.db, &batch[..2], &pricing).await.unwrap();
        assert_eq!(answers[0].as_ref().unwrap().waiting_on, None, "{b:?}: attended now");
        assert!(answers[1].as_ref().unwrap().duplicate, "{b:?}");
        let r = say(&mut c, ca, "attended").await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        assert_eq!(r.json()["waiting"], serde_json::Value::Null, "{b:?}");

        let before = fantooo_store::chats::by_id(&app.db, cb).await.unwrap().message_count;
        assert_eq!(say(&mut c, cb, "not mine").await.status, StatusCode::FORBIDDEN, "{b:?}: someone else's chat");
        let missing = fantooo_domain::ids::ChatId::new();
        assert_eq!(say(&mut c, missing, "nowhere").await.status, StatusCode::NOT_FOUND, "{b:?}: no such chat");
        assert_eq!(fantooo_store::chats::by_id(&app.db, cb).await.unwrap().message_count, before, "{b:?}: nothing written");
        crate::chat::assert_books_balance(&app.db).await;
    }
}

/// A batch of sends into chats that wait for an operator is eight
/// statements: the users and their chats read and locked in one, then the
/// users, the ledger, the chats, the profiles' slots, the queue, the events
/// and the messages. A chat already waiting for every operator keeps its
/// entry unwritten, yet the operators' consoles hear of the queue each time
/// (the waiting chat's preview changed); an entry that excluded an
/// operator is open to all again, and one removed meanwhile comes back.
#[tokio::test]
async fn a_batch_into_waiting_chats_is_eight_statements_and_writes_each_queue_entry_once() {
    use fantooo_store::send_batch::{send_as_users, UserSend};
    for b in backends() {
        let app = TestApp::new(b).await;
        one_credit_each(&app.db).await;
        let (_a, ua, ca) = user_with_chat(&app, "queueda").await;
        let (_b, ub, cb) = user_with_chat(&app, "queuedb").await;
        grant(&app.db, ua, 10).await;
        grant(&app.db, ub, 10).await;
        let batch = [UserSend { chat: ca, user: ua, body: text("a", None) }, UserSend { chat: cb, user: ub, body: text("b", None) }];
        let pricing = settings::Cached::new("pricing");
        let queue_notices = || {
            let db = app.db.clone();
            async move {
                let n: i64 = on_pool!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM realtime_events WHERE kind = 'queue'").fetch_one(p).await.unwrap());
                n
            }
        };
        let excluded = |chat: fantooo_domain::ids::ChatId| {
            let db = app.db.clone();
            async move {
                let rows: Vec<sqlx::types::Json<Vec<fantooo_domain::ids::OperatorId>>> = on_pool!(&db, p => sqlx::query_scalar(
                    "SELECT excluded_operator_ids FROM chat_queue WHERE chat_id = $1").bind(chat).fetch_all(p).await.unwrap());
                rows.into_iter().map(|r| r.0).collect::<Vec<_>>()
            }
        };
        // The entry's row version (PostgreSQL): unchanged when not written.
        let version = |chat: fantooo_domain::ids::ChatId| {
            let db = app.db.clone();
            async move {
                match &db {
                    fantooo_store::Db::Postgres(p) => Some(
                        sqlx::query_scalar::<_, String>("SELECT CAST(xmin AS TEXT) FROM chat_queue WHERE chat_id = $1")
                            .bind(chat)
                            .fetch_one(p)
                            .await
                            .unwrap(),
                    ),
                    fantooo_store::Db::Sqlite(_) => None,
                }
            }
        };
        // The first batch waits alone (and reads the price settings).
        let first = send_as_users(&app.db, &batch[..1], &pricing).await.unwrap();
        assert!(first[0].as_ref().unwrap().queued, "{b:?}");
        let notices = queue_notices().await;
        let a_version = version(ca).await;

        let (answers, statements) = platform_testkit::statements::of(send_as_users(&app.db, &batch, &pricing)).await;
        assert!(answers.unwrap().iter().all(|a| a.as_ref().unwrap().queued), "{b:?}: both chats wait");
        assert_eq!(statements.len(), 8, "{b:?}: {statements:#?}");
        assert_eq!(queue_notices().await, notices + 1, "{b:?}: the consoles hear of it");
        assert_eq!((excluded(ca).await, excluded(cb).await), (vec![vec![]], vec![vec![]]), "{b:?}: one entry each");
        assert_eq!(version(ca).await, a_version, "{b:?}: a's entry was not written again");

        // An operator let the chat go: its entry excludes them until the
        // user writes again.
        let _op_client = operator_client(&app, "letgo@fantooo.com").await;
        let op = operators::list(&app.db).await.unwrap().into_iter().find(|o| o.email == "letgo@fantooo.com").unwrap().id;
        on_pool!(&app.db, p => {
            sqlx::query("UPDATE chat_queue SET excluded_operator_ids = $2 WHERE chat_id = $1")
                .bind(ca).bind(sqlx::types::Json(vec![op])).execute(p).await.unwrap();
            sqlx::query("DELETE FROM chat_queue WHERE chat_id = $1").bind(cb).execute(p).await.unwrap();
        });
        assert_eq!(excluded(ca).await, vec![vec![op]], "{b:?}");
        let (answers, statements) = platform_testkit::statements::of(send_as_users(&app.db, &batch, &pricing)).await;
        assert!(answers.unwrap().iter().all(|a| a.is_ok()), "{b:?}");
        assert_eq!(statements.len(), 8, "{b:?}: {statements:#?}");
        assert_eq!((excluded(ca).await, excluded(cb).await), (vec![vec![]], vec![vec![]]), "{b:?}: open to every operator, and back");
        assert_eq!(queue_notices().await, notices + 2, "{b:?}");
        assert_eq!(fantooo_store::chats::by_id(&app.db, ca).await.unwrap().message_count, 3, "{b:?}");
        crate::chat::assert_books_balance(&app.db).await;
    }
}

/// Posts JSON as a signed-in operator (with the page's CSRF token).
async fn op_post(c: &mut Client, path: &str, body: serde_json::Value) -> Resp {
    let csrf = c.csrf.clone().expect("an operator page's token");
    c.send(Method::POST, path, Some("application/json"), body.to_string().into_bytes(), &[("x-csrf-token", &csrf)]).await
}

/// An operator's text reply through the API is three statements in one
/// transaction: its access check, the chat's lock and its counters are one
/// (before: a read of the chat, then a locking update and a counter update;
/// six statements in all), and the message's insert counts the reply
/// (migration 0031's trigger; four statements before),
/// and every outcome stays as it was: another operator's chat is
/// forbidden, a missing one not found, a closed one refused, a retried
/// `client_id` stored once, and the response time is measured from the
/// user's waiting message.
#[tokio::test]
async fn an_operators_reply_is_three_statements_and_keeps_its_answers() {
    for b in backends() {
        let app = TestApp::new(b).await;
        flat_pricing(&app.db).await;
        let (mut user, _, chat) = user_with_chat(&app, "replied_to").await;
        assert_eq!(say(&mut user, chat, "hi").await.status, StatusCode::CREATED, "{b:?}");
        let mut op = operator_client(&app, "replier@fantooo.com").await;
        let mut other = operator_client(&app, "bystander@fantooo.com").await;
        let op_id = operators::list(&app.db).await.unwrap().into_iter().find(|o| o.email == "replier@fantooo.com").unwrap().id;
        assert!(assign_to(&app.db, chat, op_id).await, "{b:?}");
        let path = format!("/api/chats/{chat}/messages");
        let response_times = || {
            let db = app.db.clone();
            async move {
                let rows: Vec<Option<i64>> = on_pool!(&db, p => sqlx::query_scalar(
                    "SELECT response_ms FROM messages WHERE chat_id = $1 AND sender_type = 'fictional' ORDER BY seq")
                    .bind(chat).fetch_all(p).await.unwrap());
                rows
            }
        };

        // A first reply warms the connection's prepared statements.
        let first = op_post(&mut op, &path, serde_json::json!({ "content": "first" })).await;
        assert_eq!(first.status, StatusCode::CREATED, "{b:?}: {}", first.body);
        let waited = response_times().await;
        assert!(matches!(waited[..], [Some(ms)] if (0..60_000).contains(&ms)), "{b:?}: the user waited: {waited:?}");

        // The user's message waited 90 s: the reply's response time says so.
        assert_eq!(say(&mut user, chat, "still there?").await.status, StatusCode::CREATED, "{b:?}");
        let asked = chrono::Utc::now() - chrono::Duration::seconds(90);
        on_pool!(&app.db, p => {
            sqlx::query("UPDATE chats SET last_user_message_at = $2, last_fictional_message_at = $3 WHERE id = $1")
                .bind(chat).bind(asked).bind(asked - chrono::Duration::seconds(10)).execute(p).await.unwrap();
        });
        let (sent, statements) =
            platform_testkit::statements::of(op_post(&mut op, &path, serde_json::json!({ "content": "counted" }))).await;
        assert_eq!(sent.status, StatusCode::CREATED, "{b:?}: {}", sent.body);
        println!("{b:?}: an operator's reply made {} statements:\n  {}", statements.len(), statements.join("\n  "));
        assert_eq!(statements.len(), 3, "{b:?}: the chat, the message (which counts the reply), the event: {statements:#?}");
        assert!(statements[0].starts_with("UPDATE chats"), "{b:?}: nothing is read before the chat's lock: {statements:#?}");
        let times = response_times().await;
        assert!(matches!(times[..], [Some(_), Some(ms)] if (90_000..100_000).contains(&ms)), "{b:?}: {times:?}");
        // A second reply in a row answered nothing new.
        let again = op_post(&mut op, &path, serde_json::json!({ "content": "and more" })).await;
        assert_eq!(again.status, StatusCode::CREATED, "{b:?}: {}", again.body);
        assert!(matches!(response_times().await[..], [Some(_), Some(_), None]), "{b:?}");

        // A retried client_id: stored once, one statement more.
        let (retry, statements) =
            platform_testkit::statements::of(op_post(&mut op, &path, serde_json::json!({ "content": "once", "client_id": "r-1" }))).await;
        assert_eq!(retry.status, StatusCode::CREATED, "{b:?}: {}", retry.body);
        assert_eq!(statements.len(), 4, "{b:?}: the lookup after the chat's lock: {statements:#?}");
        assert!(statements[1].starts_with("SELECT"), "{b:?}: {statements:#?}");
        let twice = op_post(&mut op, &path, serde_json::json!({ "content": "once", "client_id": "r-1" })).await;
        assert_eq!(twice.status, StatusCode::OK, "{b:?}: {}", twice.body);
        assert_eq!(twice.json()["duplicate"], true, "{b:?}");
        assert_eq!(twice.json()["message"]["id"], retry.json()["message"]["id"], "{b:?}");

        // Refusals, with nothing written.
        let count = || {
            let db = app.db.clone();
            async move { fantooo_store::chats::by_id(&db, chat).await.unwrap().message_count }
        };
        let before = count().await;
        let r = op_post(&mut other, &path, serde_json::json!({ "content": "not mine" })).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b:?}: another operator's chat: {}", r.body);
        let missing = format!("/api/chats/{}/messages", fantooo_domain::ids::ChatId::new());
        assert_eq!(op_post(&mut op, &missing, serde_json::json!({ "content": "nobody" })).await.status, StatusCode::NOT_FOUND, "{b:?}");
        exec(&app.db, &format!("UPDATE chats SET status = 'closed' WHERE id = '{chat}'")).await;
        let r = op_post(&mut op, &path, serde_json::json!({ "content": "too late" })).await;
        assert!(r.status.is_client_error() && r.status != StatusCode::FORBIDDEN, "{b:?}: a closed chat: {} {}", r.status, r.body);
        assert_eq!(count().await, before, "{b:?}: nothing refused was written");
        let unread: i64 = on_pool!(&app.db, p => sqlx::query_scalar("SELECT user_unread FROM chats WHERE id = $1").bind(chat).fetch_one(p).await.unwrap());
        assert_eq!(unread, 4, "{b:?}: the four stored replies, counted once each");
    }
}
