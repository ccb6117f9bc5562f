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
