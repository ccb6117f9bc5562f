//! The operator console through pages and the API.

use crate::chat::{say, user_with_chat};
use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_store::{chats, operators, queue};
use serde_json::json;

async fn signed_in_operator(app: &TestApp, email: &str) -> (Client, fantooo_domain::ids::OperatorId) {
    let c = operator_client(app, email).await;
    let op = operators::list(&app.db).await.unwrap().into_iter().find(|o| o.email == email).unwrap().id;
    (c, op)
}

#[tokio::test]
async fn the_waiting_room_takes_a_chat_and_the_console_answers_it() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut user, _, chat) = user_with_chat(&app, "seeker").await;
        say(&mut user, chat, "is anyone there?").await;
        let (mut op, op_id) = signed_in_operator(&app, "desk@fantooo.com").await;

        let room = op.get("/operator/waiting").await;
        assert_eq!(room.status, StatusCode::OK);
        assert!(room.body.contains("seeker") && room.body.contains("is anyone there?"), "{b:?}: the queue shows the chat");
        assert!(room.body.contains("Offline"));

        // Offline operators cannot take chats.
        let r = op.post_form("/operator/accept", &[]).await;
        assert!(r.location().contains("error=Go+online"), "{}", r.location());
        let r = op.post_form("/operator/availability", &[("available", "true")]).await;
        assert!(r.location().contains("notice="));
        assert!(operators::by_id(&app.db, op_id).await.unwrap().is_available);

        let r = op.post_form("/operator/accept", &[("chat_id", &chat.to_string())]).await;
        assert_eq!(r.location(), format!("/operator/chat/{chat}"), "{b:?}");
        assert_eq!(chats::by_id(&app.db, chat).await.unwrap().assigned_operator_id, Some(op_id));
        assert_eq!(queue::len(&app.db).await.unwrap(), 0);

        let console = op.get(&format!("/operator/chat/{chat}")).await;
        assert_eq!(console.status, StatusCode::OK);
        for part in ["SECRET-GUIDELINE", "SECRET-TEMPLATE", "Notes about", "is anyone there?", "Reply as Amani"] {
            assert!(console.body.contains(part), "{b:?}: console shows {part}");
        }
        let r = op.post_form(&format!("/operator/chat/{chat}/notes"), &[("user_notes", "Likes football")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(chats::staff_view(&app.db, chat).await.unwrap().operator_notes.as_deref(), Some("Likes football"));

        let csrf = op.csrf.clone().unwrap();
        let r = op
            .send(
                Method::POST,
                &format!("/api/chats/{chat}/messages"),
                Some("application/json"),
                json!({ "content": "Yes, I'm here!" }).to_string().into_bytes(),
                &[("x-csrf-token", &csrf)],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let hist = user.api_get(&format!("/api/chats/{chat}/messages")).await.json();
        assert_eq!(hist["messages"][0]["content"], "Yes, I'm here!");
        assert!(hist["messages"][0]["response_ms"].is_null(), "response times are staff data");

        // Going offline while holding the chat is refused, with the count.
        let r = op.post_form("/operator/availability", &[("available", "false")]).await;
        assert!(r.location().contains("Cannot+go+offline+with+1+active+chats"), "{}", r.location());
        // The last word is ours, so the chat can be handed back, and then we can go.
        let r = op.post_form(&format!("/operator/chat/{chat}/release"), &[]).await;
        assert!(r.location().starts_with("/operator/waiting"), "{}", r.location());
        op.get("/operator/waiting").await;
        let r = op.post_form("/operator/availability", &[("available", "false")]).await;
        assert!(r.location().contains("notice="), "{}", r.location());
        assert_eq!(op.get(&format!("/operator/chat/{chat}")).await.status, StatusCode::FORBIDDEN, "no longer theirs");
    }
}

#[tokio::test]
async fn the_operator_api_mirrors_the_console() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut user, _, chat) = user_with_chat(&app, "apiuser").await;
        say(&mut user, chat, "hello").await;
        operator_client(&app, "api-op@fantooo.com").await;
        let mut op = app.client();
        let r = op
            .json(Method::POST, "/api/auth/login", json!({ "login": "api-op@fantooo.com", "password": PASSWORD, "kind": "operator" }))
            .await;
        op.bearer = Some(r.json()["token"].as_str().unwrap().to_string());

        let q = op.api_get("/api/operator/queue").await.json();
        assert_eq!(q["queue"][0]["chat_id"], chat.to_string());
        assert_eq!(q["queue"][0]["priority"], "low");
        assert_eq!(q["operator"]["available"], false);
        let r = op.json(Method::POST, "/api/operator/accept", json!({})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "offline: {}", r.body);
        let r = op.json(Method::PUT, "/api/operator/availability", json!({ "available": true })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = op.json(Method::POST, "/api/operator/accept", json!({})).await;
        assert_eq!(r.json()["chat_id"], chat.to_string(), "{b:?}");
        let r = op.json(Method::POST, "/api/operator/accept", json!({})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "nothing else waits");
        let r = op.json(Method::PUT, "/api/operator/availability", json!({ "available": false })).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.json()["message"].as_str().unwrap().starts_with("Cannot go offline with 1 active chats"));
        let r = op.json(Method::POST, &format!("/api/operator/chats/{chat}/release"), json!({})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "the user's message is unanswered");
        let r = op.json(Method::PUT, &format!("/api/operator/chats/{chat}/notes"), json!({ "user_notes": "x".repeat(5001) })).await;
        assert_eq!(r.json()["fields"][0]["field"], "user_notes");
        let q = op.api_get("/api/operator/queue").await.json();
        assert_eq!(q["chats"][0]["chat_id"], chat.to_string());
        assert_eq!(q["chats"][0]["state"], "active");

        let s = op.api_get("/api/operator/stats?from=2026-01-01&to=2025-01-01").await;
        assert_eq!(s.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(s.json()["fields"][0]["field"], "from");
        let s = op.api_get("/api/operator/stats?from=yesterday").await;
        assert_eq!(s.json()["fields"][0]["field"], "from");
        let s = op.api_get("/api/operator/stats").await.json();
        assert_eq!(s["period"]["messages"], 0);

        // Users and admins have no operator API.
        assert_eq!(user.api_get("/api/operator/queue").await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.client().api_get("/api/operator/queue").await.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn stats_and_settings_pages() {
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    let (mut op, op_id) = signed_in_operator(&app, "me@fantooo.com").await;
    let page = op.get("/operator/stats").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Quality trend"));
    let bad = op.get("/operator/stats?from=nope").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    fantooo_jobs::run(&app.db, fantooo_jobs::Job::OperatorStats, chrono::Utc::now()).await.unwrap();
    assert!(op.get("/operator/stats").await.body.contains("<polyline"), "the trend has a point after the daily review");

    let r = op.post_form("/operator/settings", &[("specializations", "romantic"), ("specializations", "playful")]).await;
    assert_eq!(r.location(), "/operator/settings?saved=1");
    assert_eq!(operators::by_id(&app.db, op_id).await.unwrap().specializations.0, vec!["romantic", "playful"]);
    op.get("/operator/settings").await;
    let r = op.post_form("/operator/settings", &[("specializations", "sultry")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = op
        .post_form(
            "/operator/settings",
            &[("current_password", "wrong"), ("new_password", "N3w!password"), ("new_password_confirm", "N3w!password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("current password is not correct"));
    let r = op
        .post_form(
            "/operator/settings",
            &[("current_password", PASSWORD), ("new_password", "N3w!password"), ("new_password_confirm", "N3w!password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(op.get("/operator/waiting").await.status, StatusCode::OK, "this session stays signed in");
    let mut again = app.client();
    let r = again.post_form("/op-login", &[("login", "me@fantooo.com"), ("password", "N3w!password")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/operator/waiting");
}

#[tokio::test]
async fn users_rate_the_chat_and_the_answering_operator_is_scored() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut user, _, chat) = user_with_chat(&app, "rater").await;
        say(&mut user, chat, "hi").await;
        let (mut op, op_id) = signed_in_operator(&app, "rated@fantooo.com").await;
        assert!(crate::chat::assign_to(&app.db, chat, op_id).await);
        let path = format!("/api/chats/{chat}/rating");
        let page = user.get(&format!("/chat/{chat}")).await;
        assert!(!page.body.contains("id=\"rating\""), "nothing to rate before an answer");
        fantooo_store::messages::send_as_profile(
            &app.db,
            chat,
            fantooo_store::messages::ProfileVoice::Operator(op_id),
            &fantooo_store::messages::Body {
                content: "hello!".into(),
                content_type: fantooo_domain::chat::ContentType::Text,
                media_url: None,
                client_id: None,
            },
        )
        .await
        .unwrap();
        assert!(user.get(&format!("/chat/{chat}")).await.body.contains("id=\"rating\""));
        let r = user.json(Method::PUT, &path, json!({ "rating": 6 })).await;
        assert_eq!(r.json()["fields"][0]["field"], "rating");
        assert_eq!(user.json(Method::PUT, &path, json!({ "rating": 4 })).await.status, StatusCode::OK);
        let o = operators::by_id(&app.db, op_id).await.unwrap();
        assert_eq!((o.average_user_rating, o.total_ratings), (4.0, 1), "{b:?}");
        assert_eq!(user.json(Method::PUT, &path, json!({ "rating": 2 })).await.status, StatusCode::OK);
        let o = operators::by_id(&app.db, op_id).await.unwrap();
        assert_eq!((o.average_user_rating, o.total_ratings), (2.0, 1), "{b:?}: a new rating replaces the old");
        let csrf = op.csrf.clone().unwrap();
        let r = op.send(Method::PUT, &path, Some("application/json"), b"{\"rating\":5}".to_vec(), &[("x-csrf-token", &csrf)]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "staff do not rate");
        assert!(op.get("/operator/stats").await.body.contains("2.0 ★"));
    }
}
