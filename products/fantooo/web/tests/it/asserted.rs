//! Behaviour that was built before it was asserted: escalation flags,
//! auto-close fields, the picture limit, edit authorship, refund records,
//! deleted operators, the age log, the live grid and inspector reassign.

use crate::backoffice::{admin_json, multipart, png};
use crate::chat::{flat_pricing, grant, make_profile, say, user_with_chat};
use crate::support::*;
use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use fantooo_domain::chat::ChatStatus;
use fantooo_domain::ids::{ChatId, OperatorId};
use fantooo_domain::operations::OperationsConfig;
use fantooo_domain::AdminRole;
use fantooo_jobs::Job;
use fantooo_store::{admins, chats, on_pool, operations, operators, queue, Db};
use serde_json::json;
use sqlx::types::Json;

async fn online_operator(db: &Db, email: &str) -> OperatorId {
    let hash = fantooo_web::auth::hash_password(PASSWORD.into(), true).await.unwrap();
    let op = operators::create(
        db,
        &operators::NewOperator {
            name: email.split('@').next().unwrap().into(),
            email: email.into(),
            specializations: vec![],
            languages: vec!["en".into()],
            skill_level: "mid".into(),
            max_concurrent_chats: 5,
        },
        &hash,
        None,
    )
    .await
    .unwrap();
    operators::set_availability(db, op.id, true, Utc::now()).await.unwrap();
    op.id
}

async fn flags(db: &Db, chat: ChatId) -> Vec<String> {
    let f: Json<Vec<String>> =
        on_pool!(db, p => sqlx::query_scalar("SELECT flags FROM chats WHERE id = $1").bind(chat).fetch_one(p).await.unwrap());
    f.0
}

async fn closing(db: &Db, chat: ChatId) -> (Option<String>, Option<DateTime<Utc>>) {
    on_pool!(db, p => sqlx::query_as("SELECT close_reason, closed_at FROM chats WHERE id = $1").bind(chat).fetch_one(p).await.unwrap())
}

/// Sets a chat's clock columns as if its user wrote `secs` ago to an
/// operator who had it before that.
async fn user_waiting_since(db: &Db, chat: ChatId, at: DateTime<Utc>) {
    let assigned = at - Duration::seconds(5);
    on_pool!(db, p => sqlx::query(
        "UPDATE chats SET last_user_message_at = $2, assignment_time = $3, last_fictional_message_at = NULL WHERE id = $1")
        .bind(chat).bind(at).bind(assigned).execute(p).await.unwrap().rows_affected());
}

#[tokio::test]
async fn chats_taken_away_too_often_are_flagged_max_reassignments_reached() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let cfg = OperationsConfig::default();
        let (mut c, _, chat) = user_with_chat(&app, "bounced").await;
        say(&mut c, chat, "hello?").await;
        let now = Utc::now();
        for n in 0..cfg.max_reassignments {
            let op = online_operator(&app.db, &format!("r{n}@fantooo.com")).await;
            assert_eq!(queue::take(&app.db, op, Some(chat), now).await.unwrap(), Some(chat), "{b:?} round {n}");
            assert!(!flags(&app.db, chat).await.contains(&"max_reassignments_reached".to_string()), "{b:?}: not before round {n}");
            operations::take_away(&app.db, chat, op, operations::Reason::Manual, &cfg, now).await.unwrap();
        }
        assert_eq!(flags(&app.db, chat).await, vec!["max_reassignments_reached".to_string()], "{b:?}");
        let row = fantooo_store::chat_admin::row(&app.db, chat).await.unwrap();
        assert_eq!(row.status, ChatStatus::Escalated);
        assert!(row.escalation_reason.as_deref().unwrap_or("").contains("reassigned 3 times"), "{:?}", row.escalation_reason);

        // The sweep flags a chat over the limit that was never escalated (a settings change).
        let (mut c2, _, chat2) = user_with_chat(&app, "bounced2").await;
        say(&mut c2, chat2, "hi").await;
        on_pool!(&app.db, p => sqlx::query("UPDATE chats SET assignment_count = 5 WHERE id = $1").bind(chat2).execute(p).await.unwrap().rows_affected());
        let r = operations::escalate_stuck(&app.db, &cfg, Utc::now()).await.unwrap();
        assert_eq!(r.over_reassigned, 1, "{b:?}");
        assert_eq!(flags(&app.db, chat2).await, vec!["max_reassignments_reached".to_string()], "{b:?}");
        // Once only, however often the sweep runs.
        assert_eq!(operations::escalate_stuck(&app.db, &cfg, Utc::now()).await.unwrap().over_reassigned, 0, "{b:?}");
    }
}

#[tokio::test]
async fn auto_close_records_inactivity_timeout_and_when() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut c, _, chat) = user_with_chat(&app, "sleeper").await;
        say(&mut c, chat, "hi").await;
        assert_eq!(closing(&app.db, chat).await, (None, None));
        let at = Utc::now() + Duration::hours(25);
        assert_eq!(fantooo_jobs::run(&app.db, Job::AutoClose, at).await.unwrap()["closed"], 1, "{b:?}");
        let (reason, closed_at) = closing(&app.db, chat).await;
        assert_eq!(reason.as_deref(), Some("inactivity_timeout"), "{b:?}");
        let closed_at = closed_at.expect("closed_at set");
        assert!((closed_at - at).num_milliseconds().abs() < 1, "{b:?}: closed at the job's time: {closed_at} vs {at}");
        // A manual close says so instead.
        let (mut c2, _, chat2) = user_with_chat(&app, "closedbyadmin").await;
        say(&mut c2, chat2, "hi").await;
        let mut admin = admin_client(&app, "closer@fantooo.com", AdminRole::Admin).await;
        let r = admin_json(&mut admin, Method::POST, &format!("/api/admin/chats/{chat2}/close"), json!({ "reason": "spam" })).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
        let (reason2, at2) = closing(&app.db, chat2).await;
        assert_eq!(reason2.as_deref(), Some("admin_closed"), "{b:?}");
        assert!(at2.is_some());
        // Writing again reopens the chat and clears the closing time.
        assert_eq!(say(&mut c, chat, "back").await.status, StatusCode::CREATED);
        assert_eq!(closing(&app.db, chat).await.1, None, "{b:?}: reopened chats have no closed_at");
    }
}

#[tokio::test]
async fn an_eleventh_profile_picture_is_refused_and_not_stored() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let profile = make_profile(&app.db, "Zawadi", false).await;
        let ten: Vec<String> = (1..=10).map(|n| format!("https://cdn.example.com/z{n}.png")).collect();
        fantooo_store::profile_admin::set_pictures(&app.db, profile, &ten).await.unwrap();
        let mut eleven = ten.clone();
        eleven.push("https://cdn.example.com/z11.png".into());
        assert!(fantooo_store::profile_admin::set_pictures(&app.db, profile, &eleven).await.is_err(), "{b:?}: the store refuses 11");

        let mut admin = admin_client(&app, "pics@fantooo.com", AdminRole::Admin).await;
        let token = admin.csrf.clone().unwrap();
        let pic = png(64, 64);
        let (ct, body) = multipart(&[("file", Some("eleven.png"), &pic)]);
        let r = admin
            .send(Method::POST, &format!("/api/admin/profiles/{profile}/pictures"), Some(&ct), body, &[("x-csrf-token", &token)])
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{b:?}: {}", r.body);
        assert!(r.body.contains("10 pictures"), "{}", r.body);
        assert_eq!(media_files(&app), 0, "{b:?}: a refused picture is not stored");
        let d = admin.api_get(&format!("/api/admin/profiles/{profile}")).await.json();
        assert_eq!(d["profile"]["profile_pictures"].as_array().unwrap().len(), 10, "{b:?}");

        // A new profile with 11 picture URLs is refused on the field.
        let r = admin_json(
            &mut admin,
            Method::POST,
            "/api/admin/profiles",
            json!({ "name": "Eleven", "age": "25", "gender": "female", "location": "Nairobi", "bio": "Hi", "profile_pictures": eleven.join("\n") }),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: {}", r.body);
        assert!(r.body.contains("profile_pictures"), "{}", r.body);
        // …and 10 are fine, so the limit is exactly 10.
        let r = admin_json(
            &mut admin,
            Method::POST,
            "/api/admin/profiles",
            json!({ "name": "Ten", "age": "25", "gender": "female", "location": "Nairobi", "bio": "Hi", "profile_pictures": ten.join("\n") }),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
    }
}

#[tokio::test]
async fn message_edits_record_the_editor_id_and_type() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut user, _, chat) = user_with_chat(&app, "edited").await;
        say(&mut user, chat, "hi").await;
        let mut admin = admin_client(&app, "editor@fantooo.com", AdminRole::Moderator).await;
        let admin_id = admins::list(&app.db).await.unwrap().into_iter().find(|a| a.email == "editor@fantooo.com").unwrap().id;
        let r = admin_json(&mut admin, Method::POST, &format!("/api/admin/chats/{chat}/send"), json!({ "content": "Helo" })).await;
        let msg = r.json()["message"]["id"].as_str().unwrap().to_string();
        let r = admin_json(
            &mut admin,
            Method::POST,
            &format!("/api/admin/chats/{chat}/messages/{msg}/edit"),
            json!({ "content": "Hello", "reason": "typo" }),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
        let msg_id: fantooo_domain::ids::MessageId = msg.parse().unwrap();
        let (by, kind, reason): (String, String, Option<String>) = on_pool!(&app.db, p => sqlx::query_as(
            "SELECT CAST(edited_by AS TEXT), editor_type, edit_reason FROM message_edit_history WHERE message_id = $1")
            .bind(msg_id).fetch_one(p).await.unwrap());
        assert_eq!((by, kind.as_str(), reason.as_deref()), (admin_id.to_string(), "admin", Some("typo")), "{b:?}");
        let on_message: Option<String> = on_pool!(&app.db, p => sqlx::query_scalar(
            "SELECT CAST(edited_by AS TEXT) FROM messages WHERE id = $1").bind(msg_id).fetch_one(p).await.unwrap());
        assert_eq!(on_message, Some(admin_id.to_string()), "{b:?}: the message names its last editor");
        let i = admin.api_get(&format!("/api/admin/chats/{chat}")).await.json();
        assert_eq!(i["edits"][0]["editor_type"], "admin");
        assert_eq!(i["edits"][0]["editor_name"], "Admin editor@fantooo.com");
    }
}

#[tokio::test]
async fn refunds_record_who_processed_them_and_tell_the_user() {
    for b in backends() {
        let app = TestApp::new(b).await;
        flat_pricing(&app.db).await;
        let (mut c, uid, chat) = user_with_chat(&app, "refunded").await;
        grant(&app.db, uid, 10).await;
        let mut last = String::new();
        for n in 1..=4 {
            let r = say(&mut c, chat, &format!("m{n}")).await;
            last = r.json()["message"]["id"].as_str().unwrap().to_string();
        }
        let mut admin = admin_client(&app, "payer@fantooo.com", AdminRole::Admin).await;
        let admin_id = admins::list(&app.db).await.unwrap().into_iter().find(|a| a.email == "payer@fantooo.com").unwrap().id;
        let r = admin_json(
            &mut admin,
            Method::POST,
            "/api/admin/refunds",
            json!({ "user": "refunded", "credits": 1, "reason": "system_error", "message_id": last }),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        let refund = r.json()["refund"].clone();
        assert_eq!(refund["processed_by"], admin_id.to_string(), "{b:?}");
        assert_eq!(refund["admin_name"], "Admin payer@fantooo.com");
        let stored: String = on_pool!(&app.db, p => sqlx::query_scalar("SELECT CAST(processed_by AS TEXT) FROM credit_refunds WHERE user_id = $1")
            .bind(uid).fetch_one(p).await.unwrap());
        assert_eq!(stored, admin_id.to_string());
        let notes = fantooo_store::notifications::for_user(&app.db, uid, 10).await.unwrap();
        let n = notes.iter().find(|n| n.kind == "credit_refund").expect("the user is notified");
        assert_eq!(n.message, "1 credit refunded: system error.", "{b:?}");
        assert!(!n.is_read);
    }
}

#[tokio::test]
async fn a_deleted_operator_cannot_sign_in_and_their_stats_are_kept() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut op_client = operator_client(&app, "gone@fantooo.com").await;
        let op = operators::list(&app.db).await.unwrap()[0].id;
        on_pool!(&app.db, p => sqlx::query(
            "UPDATE operators SET total_messages_sent = 420, total_chats_handled = 37, idle_incidents = 2, quality_score = 88 WHERE id = $1")
            .bind(op).execute(p).await.unwrap().rows_affected());
        let mut admin = admin_client(&app, "boss@fantooo.com", AdminRole::Admin).await;
        let r = admin_json(&mut admin, Method::POST, &format!("/api/admin/operators/{op}/delete"), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
        // The open session ends and a new sign-in is refused.
        let page = op_client.get("/operator/waiting").await;
        assert_ne!(page.status, StatusCode::OK, "{b:?}: the old session still works");
        let mut again = app.client();
        let r = again.post_form("/op-login", &[("login", "gone@fantooo.com"), ("password", PASSWORD)]).await;
        assert!(!r.location().starts_with("/operator"), "{b:?}: a deleted operator signed in: {} {}", r.status, r.location());
        assert!(!again.cookies.contains_key("fantooo_session"), "{b:?}: no session for a deleted operator");
        let r = again.json(Method::POST, "/api/auth/login", json!({ "login": "gone@fantooo.com", "password": PASSWORD })).await;
        assert!(r.status.is_client_error(), "{b:?}: API sign-in of a deleted operator: {} {}", r.status, r.body);
        // The row and its numbers stay for reporting.
        let kept: (i64, i64, i64, f64, bool) = on_pool!(&app.db, p => sqlx::query_as(
            "SELECT total_messages_sent, total_chats_handled, idle_incidents, quality_score, deleted_at IS NOT NULL FROM operators WHERE id = $1")
            .bind(op).fetch_one(p).await.unwrap());
        assert_eq!(kept, (420, 37, 2, 88.0, true), "{b:?}");
        assert!(operators::by_id(&app.db, op).await.is_err(), "gone from the working lists");
    }
}

/// user_id, attempted_username, stated_age, verification_method, is_compliant, compliance_notes
type AgeRow = (Option<String>, Option<String>, i64, String, bool, Option<String>);

#[tokio::test]
async fn the_age_log_says_how_age_was_verified() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut c = api_user(&app, "adult_one").await;
        let uid = crate::chat::user_id(&mut c).await;
        let mut minor = app.client();
        let mut body = signup_body("young_one");
        body["age"] = json!(16);
        assert_eq!(minor.json(Method::POST, "/api/auth/signup", body).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        let rows: Vec<AgeRow> = on_pool!(&app.db, p => sqlx::query_as(
            "SELECT CAST(user_id AS TEXT), attempted_username, stated_age, verification_method, is_compliant, compliance_notes
             FROM age_verification_log ORDER BY stated_age").fetch_all(p).await.unwrap());
        assert_eq!(rows.len(), 2, "{b:?}: {rows:?}");
        assert_eq!(
            rows[0],
            (None, Some("young_one".into()), 16, "self_declared".into(), false, Some("registration refused".into())),
            "{b:?}"
        );
        assert_eq!(rows[1], (Some(uid.to_string()), Some("adult_one".into()), 25, "self_declared".into(), true, None), "{b:?}");
        // The store refuses a method outside the three the spec names.
        let bad = on_pool!(&app.db, p => sqlx::query(
            "INSERT INTO age_verification_log (id, stated_age, verification_method, is_compliant, created_at) VALUES ($1, 30, 'guessed', TRUE, $2)")
            .bind(uuid::Uuid::new_v4()).bind(Utc::now()).execute(p).await.is_err());
        assert!(bad, "{b:?}");
    }
}

#[tokio::test]
async fn the_live_grid_shows_warning_and_idle_chats() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let cfg = OperationsConfig::default();
        let op = online_operator(&app.db, "grid@fantooo.com").await;
        let mut chats_by_state = vec![];
        for (name, ago) in [("fresh", 10), ("warned", cfg.idle_warning_secs + 5), ("idle", cfg.idle_reassign_secs + 5)] {
            let (mut c, _, chat) = user_with_chat(&app, name).await;
            say(&mut c, chat, "hi").await;
            assert!(queue::assign(&app.db, chat, op, Utc::now()).await.unwrap());
            user_waiting_since(&app.db, chat, Utc::now() - Duration::seconds(ago)).await;
            chats_by_state.push((chat, name));
        }
        let (mut q, _, queued) = user_with_chat(&app, "queued").await;
        say(&mut q, queued, "anyone?").await;
        let mut admin = admin_client(&app, "live@fantooo.com", AdminRole::Admin).await;
        let v = admin.api_get("/api/admin/chats/live").await.json();
        let state_of = |chat: ChatId| {
            v["chats"].as_array().unwrap().iter().find(|c| c["id"] == chat.to_string()).map(|c| c["state"].as_str().unwrap().to_string())
        };
        let expected = [("fresh", "active"), ("warned", "warning"), ("idle", "idle")];
        for ((chat, name), (_, want)) in chats_by_state.iter().zip(expected) {
            assert_eq!(state_of(*chat).as_deref(), Some(want), "{b:?}: {name}");
        }
        assert_eq!(state_of(queued).as_deref(), Some("waiting"), "{b:?}");
        assert_eq!(v["idle_warning_secs"], cfg.idle_warning_secs);
        let warned = v["chats"].as_array().unwrap().iter().find(|c| c["state"] == "warning").unwrap();
        assert!(warned["waiting_secs"].as_i64().unwrap() >= cfg.idle_warning_secs);
        // The page marks the same rows.
        let page = admin.get("/admin/chats/live").await;
        assert_eq!(page.status, StatusCode::OK);
        for (chat, want) in [(chats_by_state[1].0, "warning"), (chats_by_state[2].0, "idle"), (queued, "waiting")] {
            assert!(
                page.body.contains(&format!("class=\"live-{want}\" data-state=\"{want}\" data-chat=\"{chat}\"")),
                "{b:?}: {chat} not shown as {want}"
            );
        }
    }
}

#[tokio::test]
async fn the_inspector_reassigns_to_an_operator_or_back_to_the_queue() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut c, _, chat) = user_with_chat(&app, "moved").await;
        say(&mut c, chat, "hello").await;
        let first = online_operator(&app.db, "first@fantooo.com").await;
        let second = online_operator(&app.db, "second@fantooo.com").await;
        assert!(queue::assign(&app.db, chat, first, Utc::now()).await.unwrap());
        let mut admin = admin_client(&app, "mover@fantooo.com", AdminRole::Admin).await;
        let page = admin.get(&format!("/admin/chats/{chat}")).await;
        assert!(page.body.contains(&format!("/admin/chats/{chat}/reassign")), "the inspector offers reassign");

        // Through the inspector's form, straight to another operator.
        let r = admin.post_form(&format!("/admin/chats/{chat}/reassign"), &[("operator_id", &second.to_string())]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b:?}: {}", r.body);
        assert!(r.location().contains("notice="), "{}", r.location());
        assert_eq!(chats::by_id(&app.db, chat).await.unwrap().assigned_operator_id, Some(second), "{b:?}");
        assert_eq!(operators::by_id(&app.db, first).await.unwrap().current_chat_count, 0, "the first operator's slot is freed");
        assert_eq!(operators::by_id(&app.db, second).await.unwrap().current_chat_count, 1);
        // The same operator again is a conflict and changes nothing.
        let r = admin_json(&mut admin, Method::POST, &format!("/api/admin/chats/{chat}/reassign"), json!({ "operator_id": second })).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{b:?}: {}", r.body);
        // Back to the queue, without the operator who just had it.
        let r = admin_json(&mut admin, Method::POST, &format!("/api/admin/chats/{chat}/reassign"), json!({ "operator_id": "" })).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
        assert_eq!(r.json()["assigned"], false);
        assert_eq!(chats::by_id(&app.db, chat).await.unwrap().assigned_operator_id, None);
        let waiting = queue::waiting(&app.db, Utc::now(), 10).await.unwrap();
        assert_eq!(waiting.len(), 1, "{b:?}");
        assert!(waiting[0].excluded_operator_ids.0.contains(&second));
        // An unknown operator id names the field.
        let r = admin_json(&mut admin, Method::POST, &format!("/api/admin/chats/{chat}/reassign"), json!({ "operator_id": "nope" })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: {}", r.body);
        // Each step is audited.
        let n: i64 = on_pool!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries WHERE action = 'chat_reassigned'")
            .fetch_one(p).await.unwrap());
        assert_eq!(n, 2, "{b:?}");
    }
}
