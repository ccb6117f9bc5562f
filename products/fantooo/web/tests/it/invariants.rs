//! The invariant checker finds what is wrong, and only that.

use crate::chat::{assert_books_balance, flat_pricing, grant, say, user_with_chat};
use crate::support::*;
use axum::http::StatusCode;
use fantooo_domain::AdminRole;
use fantooo_store::invariants;

#[tokio::test]
async fn each_kind_of_corruption_is_reported() {
    for b in backends() {
        let app = TestApp::new(b).await;
        flat_pricing(&app.db).await;
        let (mut c, uid, chat) = user_with_chat(&app, "books").await;
        grant(&app.db, uid, 5).await;
        for n in 0..5 {
            say(&mut c, chat, &format!("m{n}")).await;
        }
        assert_books_balance(&app.db).await;
        let mut admin = admin_client(&app, "auditor@fantooo.com", AdminRole::Admin).await;
        assert_eq!(admin.api_get("/api/admin/check").await.status, StatusCode::OK);
        let mut moderator = admin_client(&app, "mod@fantooo.com", AdminRole::Moderator).await;
        assert_eq!(moderator.api_get("/api/admin/check").await.status, StatusCode::FORBIDDEN);

        let corruptions = [
            (format!("UPDATE real_users SET credits = credits + 1 WHERE id = '{uid}'"), "balance equals the sum of ledger entries"),
            (format!("UPDATE chats SET message_count = message_count + 1 WHERE id = '{chat}'"), "chat counters equal its messages"),
            (
                "UPDATE messages SET credits_charged = 2 WHERE credits_charged = 1".to_string(),
                "every paid message has exactly one charge of its price",
            ),
            ("UPDATE operators SET current_chat_count = 9".to_string(), "operator chat counts equal their assigned chats"),
            (
                "UPDATE fictional_users SET total_revenue_credits = total_revenue_credits + 1".to_string(),
                "profile counters equal their users' messages",
            ),
        ];
        operator_client(&app, "op@fantooo.com").await;
        for (sql, rule) in corruptions {
            exec(&app.db, &sql).await;
            let report = invariants::check(&app.db).await.unwrap();
            assert!(report.violations.iter().any(|v| v.rule == rule), "{b:?}: {rule} not caught: {:?}", report.violations);
        }
        let r = admin.api_get("/api/admin/check").await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.json()["violations"].as_array().unwrap().len() >= 5);
    }
}
