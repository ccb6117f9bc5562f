//! Chats: opening, pricing and charging, the ledger under concurrency,
//! access for every role, history, uploads, and the no-script page.

use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_domain::ids::{ChatId, ProfileId, UserId};
use fantooo_domain::ledger::LedgerReason;
use fantooo_domain::pricing::PricingConfig;
use fantooo_domain::{AdminRole, Credits, Gender, Permissions};
use fantooo_store::{chats, ledger, profiles, settings, Db};
use serde_json::json;

pub async fn make_profile(db: &Db, name: &str, featured: bool) -> ProfileId {
    profiles::create(
        db,
        &profiles::NewProfile {
            name: name.into(),
            age: 26,
            gender: Gender::Female,
            location: "Nairobi".into(),
            bio: "Loves long walks".into(),
            personality_traits: vec!["warm".into()],
            interests: vec!["music".into()],
            occupation: Some("Designer".into()),
            profile_pictures: vec![
                "/media/generated/portrait-a.svg".into(),
                "/media/generated/portrait-b.svg".into(),
                "/media/generated/portrait-c.svg".into(),
            ],
            response_style: Some("flirty".into()),
            response_templates: vec!["SECRET-TEMPLATE".into()],
            personality_guidelines: Some("SECRET-GUIDELINE".into()),
            is_featured: featured,
            featured_until: None,
            tags: vec!["music".into()],
            category: None,
            popularity_score: 1,
        },
        None,
    )
    .await
    .unwrap()
}

/// Time-of-day factors off, so prices do not depend on when tests run.
pub async fn flat_pricing(db: &Db) {
    let cfg = PricingConfig { peak_percent: 100, off_peak_percent: 100, ..PricingConfig::default() };
    settings::set(db, "pricing", &cfg, None).await.unwrap();
}

pub async fn user_id(c: &mut Client) -> UserId {
    let me = c.api_get("/api/me").await.json();
    me["user"]["id"].as_str().unwrap().parse().unwrap()
}

pub async fn grant(db: &Db, user: UserId, credits: i64) {
    let key = format!("test-grant:{}", uuid::Uuid::new_v4());
    ledger::post(
        db,
        &ledger::Movement {
            user,
            delta: Credits(credits),
            reason: LedgerReason::Bonus,
            reference: None,
            idempotency_key: &key,
            created_by: None,
        },
    )
    .await
    .unwrap();
}

/// A signed-up API user with an open chat with a fresh profile.
pub async fn user_with_chat(app: &TestApp, username: &str) -> (Client, UserId, ChatId) {
    let profile = make_profile(&app.db, "Amani", false).await;
    let mut c = api_user(app, username).await;
    let uid = user_id(&mut c).await;
    let r = c.json(Method::POST, "/api/chats", json!({ "profile_id": profile.to_string() })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let chat = r.json()["chat"]["id"].as_str().unwrap().parse().unwrap();
    (c, uid, chat)
}

/// Puts the operator online and gives them the chat.
pub async fn assign_to(db: &Db, chat: ChatId, op: fantooo_domain::ids::OperatorId) -> bool {
    let now = chrono::Utc::now();
    fantooo_store::operators::set_availability(db, op, true, now).await.unwrap();
    fantooo_store::queue::assign(db, chat, op, now).await.unwrap()
}

pub async fn say(c: &mut Client, chat: ChatId, text: &str) -> Resp {
    c.json(Method::POST, &format!("/api/chats/{chat}/messages"), json!({ "content": text })).await
}

/// Balance = sum of entries for everyone, and chat counters = messages.
pub async fn assert_books_balance(db: &Db) {
    let report = fantooo_store::invariants::check(db).await.unwrap();
    assert!(report.is_clean(), "invariants broken: {:?}", report.violations);
}

#[tokio::test]
async fn three_free_messages_then_402_with_amounts_and_nothing_written() {
    for b in backends() {
        let app = TestApp::new(b).await;
        flat_pricing(&app.db).await;
        let (mut c, _, chat) = user_with_chat(&app, "freebie").await;
        let q = c.api_get(&format!("/api/chats/{chat}")).await.json();
        assert_eq!(q["next_price"]["kind"], "free_intro");
        for n in 1..=3 {
            let r = say(&mut c, chat, &format!("hello {n}")).await;
            assert_eq!(r.status, StatusCode::CREATED, "{b:?} message {n}: {}", r.body);
            assert_eq!(r.json()["message"]["is_free_message"], true);
        }
        let r = say(&mut c, chat, "fourth").await;
        assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{b:?}: {}", r.body);
        let body = r.json();
        assert_eq!(body["error"], "insufficient_credits");
        assert_eq!(body["required"], 1);
        assert_eq!(body["available"], 0);
        let chat_row = chats::by_id(&app.db, chat).await.unwrap();
        assert_eq!((chat_row.message_count, chat_row.free_messages_used, chat_row.paid_messages_count), (3, 3, 0), "{b:?}");
        let hist = c.api_get(&format!("/api/chats/{chat}/messages")).await.json();
        assert_eq!(hist["messages"].as_array().unwrap().len(), 3, "{b:?}: the refused message was not stored");
        assert_books_balance(&app.db).await;
    }
}

#[tokio::test]
async fn paid_message_moves_credits_through_the_ledger_with_counters() {
    for b in backends() {
        let app = TestApp::new(b).await;
        flat_pricing(&app.db).await;
        let (mut c, uid, chat) = user_with_chat(&app, "payer").await;
        for n in 0..3 {
            say(&mut c, chat, &format!("free {n}")).await;
        }
        grant(&app.db, uid, 10).await;
        let r = say(&mut c, chat, "paid one").await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        let body = r.json();
        assert_eq!(body["price"]["kind"], "paid");
        assert_eq!(body["message"]["credits_charged"], 1);
        assert_eq!(body["balance"], 9);
        assert_eq!(body["next_price_label"], "Next message: 1 credit");
        let entries = ledger::entries(&app.db, uid, None, 10).await.unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].reason, LedgerReason::MessageCharge);
        assert_eq!(entries[0].delta, Credits(-1));
        assert_eq!(entries[0].balance_after, Credits(9));
        assert_eq!(entries[0].reference.as_deref(), body["message"]["id"].as_str());
        let row = chats::by_id(&app.db, chat).await.unwrap();
        assert_eq!((row.message_count, row.free_messages_used, row.paid_messages_count, row.total_credits_spent), (4, 3, 1, Credits(1)));
        assert_books_balance(&app.db).await;
    }
}

#[tokio::test]
async fn featured_profiles_cost_more() {
    for b in backends() {
        let app = TestApp::new(b).await;
        flat_pricing(&app.db).await;
        let profile = make_profile(&app.db, "Star", true).await;
        let mut c = api_user(&app, "fan").await;
        let uid = user_id(&mut c).await;
        let chat: ChatId = c.json(Method::POST, "/api/chats", json!({ "profile_id": profile.to_string() })).await.json()["chat"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        for n in 0..3 {
            say(&mut c, chat, &format!("free {n}")).await;
        }
        grant(&app.db, uid, 5).await;
        let r = say(&mut c, chat, "to a star").await.json();
        assert_eq!(r["message"]["credits_charged"], 2, "{b:?}: 1 × 1.5 rounds up to 2");
        assert_eq!(r["balance"], 3);
    }
}

#[tokio::test]
async fn ten_concurrent_paid_sends_with_five_credits_make_exactly_five_messages() {
    for b in backends() {
        let app = TestApp::new(b).await;
        flat_pricing(&app.db).await;
        let (mut c, uid, chat) = user_with_chat(&app, "racer").await;
        for n in 0..3 {
            say(&mut c, chat, &format!("free {n}")).await;
        }
        grant(&app.db, uid, 5).await;
        let token = c.token();
        let mut tasks = vec![];
        for n in 0..10 {
            let mut client = app.client();
            client.bearer = Some(token.clone());
            tasks.push(tokio::spawn(async move { say(&mut client, chat, &format!("paid {n}")).await.status }));
        }
        let mut statuses = vec![];
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        let ok = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
        let refused = statuses.iter().filter(|s| **s == StatusCode::PAYMENT_REQUIRED).count();
        assert_eq!((ok, refused), (5, 5), "{b:?}: {statuses:?}");
        assert_eq!(ledger::balance(&app.db, uid).await.unwrap(), Credits(0));
        let row = chats::by_id(&app.db, chat).await.unwrap();
        assert_eq!((row.message_count, row.paid_messages_count, row.total_credits_spent), (8, 5, Credits(5)), "{b:?}");
        let hist = c.api_get(&format!("/api/chats/{chat}/messages?limit=100")).await.json();
        assert_eq!(hist["messages"].as_array().unwrap().len(), 8);
        assert_books_balance(&app.db).await;
    }
}

#[tokio::test]
async fn fifty_parallel_opens_land_in_one_chat() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let profile = make_profile(&app.db, "Popular", false).await;
        let mut c = api_user(&app, "clicker").await;
        let token = c.token();
        let mut tasks = vec![];
        for _ in 0..50 {
            let mut client = app.client();
            client.bearer = Some(token.clone());
            tasks.push(tokio::spawn(async move {
                let r = client.json(Method::POST, "/api/chats", json!({ "profile_id": profile.to_string() })).await;
                (r.status, r.json()["chat"]["id"].as_str().unwrap().to_string())
            }));
        }
        let mut ids = std::collections::HashSet::new();
        let mut created = 0;
        for t in tasks {
            let (status, id) = t.await.unwrap();
            assert!(status == StatusCode::CREATED || status == StatusCode::OK, "{b:?}: {status}");
            created += (status == StatusCode::CREATED) as usize;
            ids.insert(id);
        }
        assert_eq!((ids.len(), created), (1, 1), "{b:?}");
        let listed = c.api_get("/api/chats").await.json();
        assert_eq!(listed["chats"].as_array().unwrap().len(), 1);
        let me = c.api_get("/api/me").await.json();
        assert!(me["user"]["id"].is_string());
    }
}

#[tokio::test]
async fn a_retried_send_with_the_same_client_id_is_stored_and_charged_once() {
    for b in backends() {
        let app = TestApp::new(b).await;
        flat_pricing(&app.db).await;
        let (mut c, uid, chat) = user_with_chat(&app, "retrier").await;
        for n in 0..3 {
            say(&mut c, chat, &format!("free {n}")).await;
        }
        grant(&app.db, uid, 3).await;
        let body = json!({ "content": "only once", "client_id": "abc-123" });
        let first = c.json(Method::POST, &format!("/api/chats/{chat}/messages"), body.clone()).await;
        let second = c.json(Method::POST, &format!("/api/chats/{chat}/messages"), body).await;
        assert_eq!(first.status, StatusCode::CREATED);
        assert_eq!(second.status, StatusCode::OK, "{}", second.body);
        assert_eq!(second.json()["duplicate"], true);
        assert_eq!(first.json()["message"]["id"], second.json()["message"]["id"]);
        assert_eq!(ledger::balance(&app.db, uid).await.unwrap(), Credits(2), "{b:?}");
        assert_eq!(chats::by_id(&app.db, chat).await.unwrap().message_count, 4);
    }
}

#[tokio::test]
async fn only_the_user_the_assigned_operator_and_chat_admins_may_read_or_write() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut owner, _, chat) = user_with_chat(&app, "owner").await;
        assert_eq!(say(&mut owner, chat, "mine").await.status, StatusCode::CREATED);
        let read = format!("/api/chats/{chat}/messages");

        let mut stranger = api_user(&app, "stranger").await;
        assert_eq!(stranger.api_get(&read).await.status, StatusCode::FORBIDDEN, "{b:?} other user reads");
        assert_eq!(say(&mut stranger, chat, "hi").await.status, StatusCode::FORBIDDEN, "{b:?} other user writes");
        assert_eq!(stranger.get(&format!("/chat/{chat}")).await.status, StatusCode::FORBIDDEN);

        let mut anon = app.client();
        assert_eq!(anon.api_get(&read).await.status, StatusCode::UNAUTHORIZED);

        let mut op = operator_client(&app, "op1@fantooo.com").await;
        assert_eq!(op.api_get(&read).await.status, StatusCode::FORBIDDEN, "{b:?} unassigned operator");
        let op_id = fantooo_store::operators::list(&app.db).await.unwrap()[0].id;
        assert!(assign_to(&app.db, chat, op_id).await);
        assert_eq!(op.api_get(&read).await.status, StatusCode::OK, "{b:?} assigned operator reads");
        let csrf = op.csrf.clone().unwrap();
        let r = op
            .send(
                Method::POST,
                &read,
                Some("application/json"),
                json!({ "content": "hello from the profile" }).to_string().into_bytes(),
                &[("x-csrf-token", &csrf)],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.json()["message"]["sender_type"], "fictional");
        assert!(r.json()["message"].get("handled_by_operator_id").is_none());

        let mut moderator = admin_client(&app, "mod@fantooo.com", AdminRole::Moderator).await;
        assert_eq!(moderator.api_get(&read).await.status, StatusCode::OK, "{b:?} manage_chats admin");
        let admin = fantooo_store::admins::create(
            &app.db,
            &fantooo_store::admins::NewAdmin {
                name: "No chats".into(),
                email: "nochats@fantooo.com".into(),
                role: AdminRole::Admin,
                permissions: Permissions { manage_chats: false, ..Permissions::for_role(AdminRole::Admin) },
            },
            &fantooo_web::auth::hash_password(PASSWORD.into(), true).await.unwrap(),
            None,
            false,
        )
        .await
        .unwrap();
        assert!(!admin.effective_permissions().manage_chats);
        let mut no_chats = app.client();
        no_chats.post_form("/admin-login", &[("login", "nochats@fantooo.com"), ("password", PASSWORD)]).await;
        assert_eq!(no_chats.api_get(&read).await.status, StatusCode::FORBIDDEN, "{b:?} admin without manage_chats");

        let hist = owner.api_get(&read).await.json();
        let texts: Vec<&str> = hist["messages"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
        assert_eq!(texts, vec!["hello from the profile", "mine"]);
        assert_eq!(owner.api_get(&format!("/api/chats/{}/messages", ChatId::new())).await.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn bad_messages_are_refused_with_the_field_named() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut c, _, chat) = user_with_chat(&app, "typo").await;
        let cases = [
            (json!({ "content": "   " }), "content"),
            (json!({ "content": "x".repeat(1001) }), "content"),
            (json!({ "content": "ok", "client_id": "has spaces!" }), "client_id"),
        ];
        for (body, field) in cases {
            let r = c.json(Method::POST, &format!("/api/chats/{chat}/messages"), body).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: {}", r.body);
            assert_eq!(r.json()["fields"][0]["field"], field);
        }
        let r = c.json(Method::POST, "/api/chats", json!({ "profile_id": "nope" })).await;
        assert_eq!(r.json()["fields"][0]["field"], "profile_id");
        let r = c.json(Method::POST, "/api/chats", json!({ "profile_id": ProfileId::new().to_string() })).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = c.api_get(&format!("/api/chats/{chat}/messages?limit=0")).await;
        assert_eq!(r.json()["fields"][0]["field"], "limit");
        assert_eq!(chats::by_id(&app.db, chat).await.unwrap().message_count, 0, "nothing was written");
    }
}

#[tokio::test]
async fn history_pages_newest_first_without_gaps() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut c, uid, chat) = user_with_chat(&app, "talker").await;
        grant(&app.db, uid, 100).await;
        for n in 0..7 {
            assert_eq!(say(&mut c, chat, &format!("m{n}")).await.status, StatusCode::CREATED);
        }
        let mut seen = vec![];
        let mut path = format!("/api/chats/{chat}/messages?limit=3");
        loop {
            let page = c.api_get(&path).await.json();
            for m in page["messages"].as_array().unwrap() {
                seen.push(m["content"].as_str().unwrap().to_string());
            }
            match page["next_before"].as_i64() {
                Some(before) => path = format!("/api/chats/{chat}/messages?limit=3&before={before}"),
                None => break,
            }
        }
        assert_eq!(seen, vec!["m6", "m5", "m4", "m3", "m2", "m1", "m0"], "{b:?}");
    }
}

#[tokio::test]
async fn sixty_messages_a_minute_then_429() {
    let app = TestApp::with_config(fantooo_store::Backend::Sqlite, |c| c.messages_per_minute = 3).await;
    let (mut c, _, chat) = user_with_chat(&app, "spammer").await;
    for n in 0..3 {
        assert_eq!(say(&mut c, chat, &format!("m{n}")).await.status, StatusCode::CREATED);
    }
    let r = say(&mut c, chat, "one too many").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.get("retry-after").is_some());
}

use platform_media::samples::png;

fn multipart(file: &[u8], name: &str) -> (String, Vec<u8>) {
    multipart_with_caption("look", file, name)
}

fn multipart_with_caption(caption: &str, file: &[u8], name: &str) -> (String, Vec<u8>) {
    let boundary = "XfantoooBoundary";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\n{caption}\r\n").as_bytes());
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn pictures_are_checked_stored_and_served_to_participants() {
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    let (mut c, _, chat) = user_with_chat(&app, "snapper").await;
    let path = format!("/api/chats/{chat}/messages");
    let (ct, body) = multipart(&png(64, 48), "me.png");
    let r = c.send(Method::POST, &path, Some(&ct), body, &[]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let m = r.json()["message"].clone();
    assert_eq!(m["content_type"], "image");
    assert_eq!(m["content"], "look");
    let url = m["media_url"].as_str().unwrap().to_string();
    let got = c.get(&url).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.headers["content-type"], "image/png");
    assert_eq!(app.client().get(&url).await.status, StatusCode::SEE_OTHER, "anonymous visitors are sent to sign in");

    let (ct, body) = multipart(b"GIF89a-not-really", "x.gif");
    let r = c.send(Method::POST, &path, Some(&ct), body, &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "file");
    let (ct, body) = multipart(&png(8000, 10), "huge.png");
    assert_eq!(c.send(Method::POST, &path, Some(&ct), body, &[]).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(chats::by_id(&app.db, chat).await.unwrap().message_count, 1);
}

/// Only committed messages keep their picture: a send refused for lack of
/// credits stores nothing in media storage.
#[tokio::test]
async fn a_picture_refused_for_lack_of_credits_leaves_no_file() {
    for b in backends() {
        let app = TestApp::new(b).await;
        flat_pricing(&app.db).await;
        let (mut c, _, chat) = user_with_chat(&app, "brokesnapper").await;
        for n in 0..3 {
            assert_eq!(say(&mut c, chat, &format!("free {n}")).await.status, StatusCode::CREATED);
        }
        let (ct, body) = multipart(&png(64, 48), "me.png");
        let r = c.send(Method::POST, &format!("/api/chats/{chat}/messages"), Some(&ct), body, &[]).await;
        assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{b:?}: {}", r.body);
        assert_eq!(media_files(&app), 0, "{b:?}: the refused picture was left in media storage");
        // The no-script form takes the same path.
        let (ct, body) = multipart(&png(64, 48), "me.png");
        let r = c.send(Method::POST, &format!("/chat/{chat}/messages"), Some(&ct), body, &[]).await;
        assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{b:?}");
        assert_eq!(media_files(&app), 0, "{b:?}");
    }
}

/// A picture's caption is message text: control characters are refused as
/// in any message, and nothing is stored.
#[tokio::test]
async fn captions_follow_the_message_text_rule() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut c, _, chat) = user_with_chat(&app, "captioner").await;
        let (ct, body) = multipart_with_caption("look\u{7}here", &png(64, 48), "me.png");
        let r = c.send(Method::POST, &format!("/api/chats/{chat}/messages"), Some(&ct), body, &[]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: {}", r.body);
        assert_eq!(r.json()["fields"][0]["field"], "content");
        assert_eq!(chats::by_id(&app.db, chat).await.unwrap().message_count, 0);
        assert_eq!(media_files(&app), 0);
        let (ct, body) = multipart_with_caption("  look here  ", &png(64, 48), "me.png");
        let r = c.send(Method::POST, &format!("/api/chats/{chat}/messages"), Some(&ct), body, &[]).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        assert_eq!(r.json()["message"]["content"], "look here");
        assert_eq!(media_files(&app), 1);
    }
}

#[tokio::test]
async fn the_chat_page_shows_the_price_and_works_without_script() {
    for b in backends() {
        let app = TestApp::new(b).await;
        flat_pricing(&app.db).await;
        let profile = make_profile(&app.db, "Wanjiru", false).await;
        let mut c = app.client();
        c.get("/get-started").await;
        let r = c
            .post_form(
                "/get-started",
                &[
                    ("username", "pageuser"),
                    ("location", "Nairobi"),
                    ("gender", "male"),
                    ("looking_for", "female"),
                    ("age", "30"),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                    ("accept_terms", "on"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        c.get("/me").await; // the signed-in page's CSRF token
        let r = c.post_form("/chats", &[("profile_id", &profile.to_string())]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let chat_path = r.location().to_string();
        assert!(chat_path.starts_with("/chat/"));
        let again = c.post_form("/chats", &[("profile_id", &profile.to_string())]).await;
        assert_eq!(again.location(), chat_path, "the button always lands in the same chat");
        let page = c.get(&chat_path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Next message: free (2 more free after it)"), "{}", page.body);
        assert!(page.body.contains("Say hello to Wanjiru"));
        for word in ["operator", "SECRET-GUIDELINE", "SECRET-TEMPLATE"] {
            assert!(!page.body.to_lowercase().contains(&word.to_lowercase()), "page mentions {word}");
        }
        for n in 0..3 {
            let r = c.post_form(&format!("{chat_path}/messages"), &[("content", &format!("form message {n}"))]).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        }
        let r = c.post_form(&format!("{chat_path}/messages"), &[("content", "one more")]).await;
        assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED);
        assert!(r.body.contains("id=\"buy-credits\" open"), "the buy dialog opens");
        assert!(r.body.contains("This message costs 1 credits and you have 0."));
        assert!(r.body.contains("one more"), "the draft is kept");
        let page = c.get(&chat_path).await;
        assert!(page.body.contains("form message 2"));
        assert!(page.body.contains("Next message: 1 credit"));
        let me = c.get("/me").await;
        assert!(me.body.contains("Wanjiru"), "/me lists the chat");
    }
}
