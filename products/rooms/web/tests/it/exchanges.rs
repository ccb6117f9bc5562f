//! Staff switch the diamond and salary exchanges off and on: only with the
//! permission, confirmed, with a reason to switch off, audited; while one is
//! off its API answers 409 with its code and the reason, and its page shows
//! the reason instead of the form.

use crate::salary::pay;
use crate::support::{backends, TestApp};
use axum::http::StatusCode;
use serde_json::json;

async fn role(app: &TestApp, handle: &str, role: &str) {
    let sql = format!("UPDATE accounts SET role = '{role}' WHERE handle = '{handle}'");
    platform_db::on_pool!(&app.db, p => { sqlx::query(&sql).execute(p).await.unwrap(); });
    app.settled().await;
}

async fn audit(app: &TestApp, exchange: &str) -> Vec<String> {
    let f = platform_audit::Filter { subject_kind: Some("exchange"), subject_id: Some(exchange), ..Default::default() };
    platform_audit::list(&app.db, &f, platform_audit::Position::Newest, 20).await.unwrap().entries.into_iter().map(|e| e.action).collect()
}

#[tokio::test]
async fn staff_switch_the_diamond_exchange_off_and_on_by_api() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut boss = app.client();
        boss.sign_up("boss@example.com", "boss").await;
        role(&app, "boss", "admin").await;
        let mut manager = app.client();
        manager.sign_up("mgr@example.com", "mgr").await;
        role(&app, "mgr", "manager").await;
        let mut ann = app.client();
        let ann_id = ann.sign_up("ann@example.com", "ann").await["account"]["id"].as_str().unwrap().to_string();
        let r = boss
            .post(
                &format!("/api/v1/admin/users/{ann_id}/adjust"),
                json!({"unit": "diamonds", "amount": 50, "reason": "prize", "key": "d1"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

        let url = "/api/v1/admin/exchanges/diamonds";
        assert_eq!(manager.post(url, json!({"open": false, "reason": "x", "confirm": "yes"})).await.status, StatusCode::FORBIDDEN);
        assert_eq!(ann.get("/api/v1/admin/exchanges").await.status, StatusCode::FORBIDDEN);
        assert_eq!(
            boss.post("/api/v1/admin/exchanges/gold", json!({"open": false, "reason": "x", "confirm": "yes"})).await.status,
            StatusCode::NOT_FOUND
        );
        // Unconfirmed, or off without a reason: the field is named, nothing changes.
        let r = boss.post(url, json!({"open": "false", "reason": "Rates under review"})).await;
        assert_eq!((r.status, r.json()["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("confirm")), "{}", r.body);
        let r = boss.post(url, json!({"open": "false", "confirm": "yes"})).await;
        assert_eq!((r.status, r.json()["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")), "{}", r.body);
        assert!(audit(&app, "diamonds").await.is_empty());
        assert_eq!(ann.post("/api/v1/diamonds/exchange", json!({"diamonds": 5})).await.status, StatusCode::CREATED);

        let r = boss.post(url, json!({"open": "false", "reason": "Rates under review", "confirm": "yes"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!((r.json()["changed"].as_bool(), r.json()["exchange"]["open"].as_bool()), (Some(true), Some(false)));
        let r = ann.post("/api/v1/diamonds/exchange", json!({"diamonds": 5})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "exchange_closed".to_string()), "{}", r.body);
        assert_eq!(r.json()["message"], "Diamond exchange is switched off for now: Rates under review");
        assert_eq!(ann.get("/api/v1/coins").await.json()["diamonds"], 45, "nothing moved while off");
        let list = app.client().get("/api/v1/exchanges").await.json();
        assert_eq!(list["exchanges"][0]["exchange"], "diamonds");
        assert_eq!(list["exchanges"][0]["open"], false);
        assert_eq!(list["exchanges"][1]["open"], true, "salary untouched");
        // The same again: nothing more audited.
        let r = boss.post(url, json!({"open": "false", "reason": "Rates under review", "confirm": "yes"})).await;
        assert_eq!(r.json()["changed"], false);
        assert_eq!(audit(&app, "diamonds").await, vec!["exchange.close"]);

        let r = boss.post(url, json!({"open": true, "confirm": "yes"})).await;
        assert_eq!(r.json()["exchange"]["open"], true, "{}", r.body);
        assert_eq!(ann.post("/api/v1/diamonds/exchange", json!({"diamonds": 5})).await.status, StatusCode::CREATED);
        assert_eq!(audit(&app, "diamonds").await, vec!["exchange.open", "exchange.close"]);
    }
}

#[tokio::test]
async fn while_off_the_pages_show_the_reason_instead_of_the_forms() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut boss = app.client();
        boss.sign_up("boss@example.com", "boss").await;
        role(&app, "boss", "super_admin").await;
        let mut star = app.client();
        let id = star.sign_up("star@example.com", "star").await["account"]["id"].as_str().unwrap().to_string();
        pay(&app.db, &id, 500).await;
        assert!(star.get("/coins").await.body.contains("action=\"/coins/exchange\""));
        assert!(star.get("/agencies").await.body.contains("action=\"/agency/salary/exchange\""));

        // The back office page: both on; switching off through the form needs the confirmation.
        let page = boss.get("/backoffice/exchanges").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("data-exchange=\"diamonds\" data-open=\"true\""), "{}", page.body);
        assert!(page.body.contains("data-exchange=\"salary\" data-open=\"true\""));
        let r = boss.form("/backoffice/exchanges/salary", &[("open", "false"), ("reason", "Month-end audit")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(r.location().contains("error="), "{}", r.location());
        assert!(boss.get("/backoffice/exchanges").await.body.contains("data-exchange=\"salary\" data-open=\"true\""));
        let r = boss.form("/backoffice/exchanges/salary", &[("open", "false"), ("reason", "Month-end audit"), ("confirm", "yes")]).await;
        assert!(r.location().contains("notice="), "{}", r.location());
        let r =
            boss.form("/backoffice/exchanges/diamonds", &[("open", "false"), ("reason", "Rates under review"), ("confirm", "yes")]).await;
        assert!(r.location().contains("notice="), "{}", r.location());
        let page = boss.get("/backoffice/exchanges").await;
        assert!(page.body.contains("data-exchange=\"salary\" data-open=\"false\""), "{}", page.body);
        assert!(page.body.contains("Month-end audit"));
        assert!(page.body.contains("Switch on"));

        let coins = star.get("/coins").await.body;
        assert!(!coins.contains("action=\"/coins/exchange\""), "the form is hidden");
        assert!(coins.contains("id=\"exchange-closed\"") && coins.contains("Diamond exchange is switched off for now: Rates under review"));
        let agencies = star.get("/agencies").await.body;
        assert!(!agencies.contains("action=\"/agency/salary/exchange\""), "the form is hidden");
        assert!(agencies.contains("Salary exchange is switched off for now: Month-end audit"), "{agencies}");
        let r = star.post("/api/v1/agency/salary/exchange", json!({"cents": 100})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "salary_exchange_closed".to_string()), "{}", r.body);

        // On again: the forms are back.
        boss.form("/backoffice/exchanges/salary", &[("open", "true"), ("confirm", "yes")]).await;
        assert!(star.get("/agencies").await.body.contains("action=\"/agency/salary/exchange\""));
        assert_eq!(star.post("/api/v1/agency/salary/exchange", json!({"cents": 100})).await.status, StatusCode::CREATED);
    }
}
