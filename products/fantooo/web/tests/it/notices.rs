//! Replies noticed outside the open chat: unread counts per chat, on the
//! Chats tab and in the tab title, lowered by reading; pushed live to a
//! socket that follows no chat at all.

use crate::chat::{say, user_with_chat};
use crate::realtime::{assigned_operator, connect, next_of};
use crate::support::*;
use axum::http::StatusCode;
use fantooo_domain::chat::{MessageStatus, Side};
use fantooo_store::messages;
use std::time::Duration;

async fn unread_in_list(c: &mut Client) -> Vec<i64> {
    let list = c.api_get("/api/chats").await.json();
    list["chats"].as_array().unwrap().iter().map(|c| c["unread"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn replies_count_as_unread_until_read_and_every_page_shows_the_total() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut user, _uid, chat) = user_with_chat(&app, "reader").await;
        assert_eq!(say(&mut user, chat, "Hello?").await.status, StatusCode::CREATED);
        let mut op = assigned_operator(&app, chat).await;
        for text in ["Hi!", "How are you today?"] {
            assert_eq!(say(&mut op, chat, text).await.status, StatusCode::CREATED);
        }
        assert_eq!(unread_in_list(&mut user).await, vec![2]);
        assert_eq!(user.api_get("/api/me").await.json()["user"]["unread_replies"], 2);

        // A page of the site: the Chats tab carries the count, the title too.
        let mut page = app.client();
        page.post_form("/login", &[("login", "reader"), ("password", PASSWORD)]).await;
        let discover = page.get("/discover").await;
        assert!(discover.body.contains("<title>(2) "), "{}", &discover.body[..600.min(discover.body.len())]);
        assert!(discover.body.contains(r#"data-unread-total aria-label="2 unread">2</span>"#));
        let chats = page.get("/chats").await;
        assert!(chats.body.contains(r#"data-unread-count aria-label="2 unread">2</span>"#), "the chat's row shows it");

        // The user's own messages never count, and reading brings it to 0.
        assert_eq!(messages::mark(&app.db, chat, Side::Fictional, i64::MAX, MessageStatus::Read).await.unwrap(), 2);
        assert_eq!(unread_in_list(&mut user).await, vec![0]);
        let discover = page.get("/discover").await;
        assert!(!discover.body.contains("<title>("), "no count in the title once read");
        assert!(discover.body.contains(r#"data-unread-total aria-label="0 unread" hidden>0</span>"#));
        // Reading again changes nothing.
        assert_eq!(messages::mark(&app.db, chat, Side::Fictional, i64::MAX, MessageStatus::Read).await.unwrap(), 0);
        assert_eq!(unread_in_list(&mut user).await, vec![0]);
    }
}

/// A socket that follows no chat (any page but the chat) hears of each
/// reply with the counts, and of reading elsewhere.
#[tokio::test]
async fn a_reply_reaches_every_page_of_the_user_live() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let addr = app.serve().await;
        let (mut user, _uid, chat) = user_with_chat(&app, "elsewhere").await;
        assert_eq!(say(&mut user, chat, "Anyone there?").await.status, StatusCode::CREATED);
        let mut op = assigned_operator(&app, chat).await;
        let mut ws = connect(addr, &user.token()).await;
        // Nothing subscribed: only the user's own channel.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(say(&mut op, chat, "Yes, I'm here, tell me everything about your day").await.status, StatusCode::CREATED);
        let reply = next_of(&mut ws, "reply", Duration::from_secs(5)).await;
        assert_eq!(reply["chat_id"], chat.to_string());
        assert_eq!(reply["profile"], "Amani");
        assert_eq!(reply["preview"], "Yes, I'm here, tell me everything about your day");
        assert_eq!(reply["unread"], 1);
        assert_eq!(reply["total"], 1);
        let text = reply.to_string();
        assert!(!text.contains("operator") && !text.contains("fictional"), "public words only: {text}");

        assert_eq!(say(&mut op, chat, "Still there?").await.status, StatusCode::CREATED);
        let reply = next_of(&mut ws, "reply", Duration::from_secs(5)).await;
        assert_eq!((reply["unread"].as_i64(), reply["total"].as_i64()), (Some(2), Some(2)));

        // Read in another tab: this page's count drops.
        messages::mark(&app.db, chat, Side::Fictional, i64::MAX, MessageStatus::Read).await.unwrap();
        let unread = next_of(&mut ws, "unread", Duration::from_secs(5)).await;
        assert_eq!(
            (unread["chat_id"].as_str(), unread["unread"].as_i64(), unread["total"].as_i64()),
            (Some(chat.to_string().as_str()), Some(0), Some(0))
        );
    }
}

#[tokio::test]
async fn the_reply_sound_is_a_setting_off_by_default() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut page = app.client();
        api_user(&app, "listener").await;
        page.post_form("/login", &[("login", "listener"), ("password", PASSWORD)]).await;
        let me = page.get("/me").await;
        assert!(!me.body.contains(r#"data-sound="on""#), "off by default");
        assert!(me.body.contains(r#"name="sound" id="sound">"#));
        let r = page.post_form("/me/notifications", &[("sound", "on")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let me = page.get("/me").await;
        assert!(me.body.contains(r#"data-sound="on""#));
        assert!(me.body.contains(r#"name="sound" id="sound" checked>"#));
        page.post_form("/me/notifications", &[]).await;
        assert!(!page.get("/discover").await.body.contains(r#"data-sound="on""#));
        // The API says the same; a value that is not a boolean is refused.
        let mut api = api_user(&app, "listener2").await;
        let r = api.json(axum::http::Method::PUT, "/api/me/notifications", serde_json::json!({ "sound": true })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = api.json(axum::http::Method::PUT, "/api/me/notifications", serde_json::json!({ "sound": "loud" })).await;
        assert!(r.status.is_client_error(), "{}", r.body);
    }
}
