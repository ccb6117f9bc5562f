//! Blocking a profile stops the chat for both sides until unblocked;
//! reporting one lands in the staff's review queue and notifies admins.
//! Also the profile page's carousel state and the chat's picture tools.

use crate::chat::{grant, make_profile, say, user_with_chat};
use crate::realtime::assigned_operator;
use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_domain::chat::{ReportReason, ReportStatus};
use fantooo_store::{chats, safety};
use serde_json::json;

#[tokio::test]
async fn a_block_closes_the_chat_for_both_sides_until_lifted() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut user, uid, chat) = user_with_chat(&app, "blocker").await;
        grant(&app.db, uid, 10).await;
        assert_eq!(say(&mut user, chat, "Hi").await.status, StatusCode::CREATED);
        let mut op = assigned_operator(&app, chat).await;
        assert_eq!(say(&mut op, chat, "Hello!").await.status, StatusCode::CREATED);
        let profile = chats::by_id(&app.db, chat).await.unwrap().fictional_user_id;

        let r = user.json(Method::PUT, &format!("/api/profiles/{profile}/block"), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let closed = chats::by_id(&app.db, chat).await.unwrap();
        assert_eq!(closed.status.as_str(), "closed");
        assert!(closed.assigned_operator_id.is_none(), "the operator is released");
        // Neither side gets through, and nothing is charged or stored.
        let before = chats::by_id(&app.db, chat).await.unwrap().message_count;
        let r = say(&mut user, chat, "Let me in").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body.contains("blocked"), "{}", r.body);
        assert!(say(&mut op, chat, "Are you there?").await.status.is_client_error());
        assert_eq!(chats::by_id(&app.db, chat).await.unwrap().message_count, before);
        assert_eq!(fantooo_store::ledger::balance(&app.db, uid).await.unwrap().get(), 10);
        // The list and the pages say so.
        let list = user.api_get("/api/chats").await.json();
        assert_eq!(list["chats"][0]["blocked"], true);

        // Unblocked, the user's next message reopens the chat.
        let r = user.send(Method::DELETE, &format!("/api/profiles/{profile}/block"), None, vec![], &[]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(say(&mut user, chat, "Sorry, back again").await.status, StatusCode::CREATED);
        assert_eq!(chats::by_id(&app.db, chat).await.unwrap().status.as_str(), "active");
        // Blocking an unknown profile is a 404.
        let r = user.json(Method::PUT, &format!("/api/profiles/{}/block", uuid::Uuid::now_v7()), json!({})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_report_goes_to_the_review_queue_and_tells_the_admins() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let profile = make_profile(&app.db, "Zola", false).await;
        let mut user = api_user(&app, "reporter").await;
        let path = format!("/api/profiles/{profile}/report");
        // Reason required and known; details bounded and plain.
        for bad in [
            json!({}),
            json!({ "reason": "boring" }),
            json!({ "reason": "spam", "details": "x".repeat(1001) }),
            json!({ "reason": "spam", "details": "a\u{0}b" }),
        ] {
            let r = user.json(Method::POST, &path, bad.clone()).await;
            assert!(r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::BAD_REQUEST, "{bad}: {} {}", r.status, r.body);
        }
        assert!(safety::pending(&app.db, 10).await.unwrap().is_empty(), "nothing half-written");
        let r = user.json(Method::POST, &path, json!({ "reason": "offensive", "details": "Rude replies" })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let queue = safety::pending(&app.db, 10).await.unwrap();
        assert_eq!(queue.len(), 1);
        assert_eq!(
            (queue[0].reason, queue[0].profile_name.as_str(), queue[0].details.as_deref()),
            (ReportReason::Offensive, "Zola", Some("Rude replies"))
        );
        assert_eq!(queue[0].username, "reporter");

        // Moderators see the queue and resolve each report once.
        let mut admin = admin_client(&app, "mod@fantooo.com", fantooo_domain::AdminRole::Moderator).await;
        let notices = admin.get("/api/admin/notifications").await;
        assert_eq!(notices.status, StatusCode::OK, "{}", notices.body);
        assert!(notices.body.contains("reported the profile Zola") && notices.body.contains("/admin/reports"), "{}", notices.body);
        let page = admin.get("/admin/reports").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Zola") && page.body.contains("Offensive or abusive") && page.body.contains("Rude replies"));
        let r = admin.post_form(&format!("/admin/reports/{}/resolve", queue[0].id), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(safety::pending(&app.db, 10).await.unwrap().is_empty());
        assert_eq!(safety::handled(&app.db, 10).await.unwrap()[0].status, ReportStatus::Resolved);
        let admin_id = fantooo_store::admins::list(&app.db).await.unwrap()[0].id;
        assert!(safety::decide(&app.db, queue[0].id, ReportStatus::Dismissed, admin_id, None, chrono::Utc::now()).await.is_err());
    }
}

#[tokio::test]
async fn the_profile_page_offers_block_and_report_and_marks_the_first_photo() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let profile = make_profile(&app.db, "Wanja", false).await;
        api_user(&app, "pager").await;
        let mut c = app.client();
        c.post_form("/login", &[("login", "pager"), ("password", PASSWORD)]).await;
        let page = c.get(&format!("/profile/{profile}")).await;
        assert!(page.body.contains(r#"aria-label="Photo 1" aria-current="true""#), "the active photo is marked");
        assert!(page.body.contains("1 / 3"));
        assert!(page.body.contains("Block Wanja") && page.body.contains("Send report"));
        let r = c.post_form(&format!("/profile/{profile}/report"), &[("reason", "fake"), ("details", "")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(c.get(r.location()).await.body.contains("Your report was sent"));
        let r = c.post_form(&format!("/profile/{profile}/block"), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let page = c.get(r.location()).await;
        assert!(page.body.contains("Unblock Wanja"));
        for text in ["operator", "admin", "fictional", "managed"] {
            assert!(!page.body.to_lowercase().contains(text), "public page says {text:?}");
        }
    }
}
