//! The back office: permissions per role, balance adjustments through the
//! ledger (once per key, never below zero, audited), the gift catalogue,
//! refusals that name their field and write nothing, and the pages.

use crate::support::{backends, TestApp};
use axum::http::{Method, StatusCode};
use serde_json::json;

async fn role(app: &TestApp, handle: &str, role: &str) {
    let sql = format!("UPDATE accounts SET role = '{role}' WHERE handle = '{handle}'");
    platform_db::on_pool!(&app.db, p => { sqlx::query(&sql).execute(p).await.unwrap(); });
    app.settled().await;
}

fn fields(v: &serde_json::Value) -> Vec<String> {
    v["fields"].as_array().map(|f| f.iter().map(|f| f["field"].as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

#[tokio::test]
async fn adjustments_go_through_the_ledger_once_and_never_below_zero() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut boss = app.client();
        boss.sign_up("boss@example.com", "boss").await;
        role(&app, "boss", "super_admin").await;
        let mut ann = app.client();
        let v = ann.sign_up("ann@example.com", "ann").await;
        let ann_id = v["account"]["id"].as_str().unwrap().to_string();
        let url = format!("/api/v1/admin/users/{ann_id}/adjust");

        // Ordinary users are refused.
        assert_eq!(ann.post(&url, json!({"unit": "coins", "amount": 5, "reason": "x"})).await.status, StatusCode::FORBIDDEN);

        // Bad input: every field named, nothing written.
        let r = boss.post(&url, json!({"unit": "gold", "amount": "many", "reason": ""})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(fields(&r.json()), vec!["unit", "amount", "reason"]);

        let r = boss.post(&url, json!({"unit": "coins", "amount": 100, "reason": "goodwill", "key": "k1"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.json()["adjustment"]["balance"], 100);
        let again = boss.post(&url, json!({"unit": "coins", "amount": 100, "reason": "goodwill", "key": "k1"})).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.json()["adjustment"]["duplicate"], true);
        assert_eq!(ann.get("/api/v1/coins").await.json()["coins"], 100);

        // Taking back more than there is: 402 with the amounts, nothing written.
        let r = boss.post(&url, json!({"unit": "coins", "amount": -500, "reason": "clawback", "key": "k2"})).await;
        assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{}", r.body);
        assert_eq!((r.json()["required"].as_i64(), r.json()["available"].as_i64()), (Some(500), Some(100)));
        let r = boss.post(&url, json!({"unit": "coins", "amount": -40, "reason": "clawback", "key": "k3"})).await;
        assert_eq!(r.json()["adjustment"]["balance"], 60);
        let r = boss.post(&url, json!({"unit": "diamonds", "amount": 7, "reason": "event prize", "key": "k4"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(ann.get("/api/v1/coins").await.json(), json!({"coins": 60, "diamonds": 7}));

        // Each applied adjustment is in the ledger and the audit log, once.
        let tx = boss.get(&format!("/api/v1/admin/transactions?reason=staff_adjustment&account={ann_id}")).await;
        assert_eq!(tx.status, StatusCode::OK, "{}", tx.body);
        let tx = tx.json();
        let deltas: Vec<i64> = tx["transactions"].as_array().unwrap().iter().map(|m| m["delta"].as_i64().unwrap()).collect();
        assert_eq!(deltas, vec![7, -40, 100]);
        let f = platform_audit::Filter { action: Some("balance.adjust"), subject_id: Some(&ann_id), ..Default::default() };
        let log = platform_audit::list(&app.db, &f, platform_audit::Position::Newest, 10).await.unwrap();
        assert_eq!(log.entries.len(), 3);
        assert_eq!(log.entries[1].reason.as_deref(), Some("clawback"));
        assert!(rooms_store::check::run(&app.db).await.unwrap().is_empty());

        // A manager sees users but may not adjust.
        role(&app, "boss", "manager").await;
        assert_eq!(boss.get("/api/v1/admin/users?q=ann").await.json()["users"][0]["coins"], 60);
        let r = boss.post(&url, json!({"unit": "coins", "amount": 1, "reason": "x"})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(boss.get("/api/v1/admin/users?status=sleepy").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn the_gift_catalogue_is_managed_with_confirmation_for_retiring() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut boss = app.client();
        boss.sign_up("boss@example.com", "boss").await;
        role(&app, "boss", "admin").await;
        let bad = boss
            .post("/api/v1/admin/gifts", json!({"code": "Bad Code", "name": "", "rarity": "mythic", "price": 0, "animation": "../x.js"}))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        let named = fields(&bad.json());
        for f in ["name", "category", "code", "animation", "rarity", "price"] {
            assert!(named.contains(&f.to_string()), "{f} in {named:?}");
        }
        let gift = json!({"code": "comet", "name": "Comet", "category": "space", "rarity": "epic", "price": 300,
                          "wealth_pct": 150, "charm_pct": 120, "animation": "star.svg"});
        let r = boss.post("/api/v1/admin/gifts", gift.clone()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.json()["gift"]["id"].as_str().unwrap().to_string();
        assert_eq!(boss.post("/api/v1/admin/gifts", gift).await.code(), "validation", "the code is unique");
        let edit =
            json!({"code": "comet", "name": "Comet", "category": "space", "rarity": "legendary", "price": 450, "animation": "star.svg"});
        let r =
            boss.send(Method::PATCH, &format!("/api/v1/admin/gifts/{id}"), Some("application/json"), edit.to_string().into_bytes()).await;
        assert_eq!(r.json()["gift"]["price"], 450);
        let on_sale = |v: serde_json::Value| v["gifts"].as_array().unwrap().iter().any(|g| g["code"] == "comet");
        assert!(on_sale(boss.get("/api/v1/gifts").await.json()));

        let r = boss.post(&format!("/api/v1/admin/gifts/{id}/retire"), json!({})).await;
        assert_eq!((r.status, fields(&r.json())), (StatusCode::UNPROCESSABLE_ENTITY, vec!["confirm".to_string()]));
        assert!(on_sale(boss.get("/api/v1/gifts").await.json()), "nothing retired without confirmation");
        let r = boss.post(&format!("/api/v1/admin/gifts/{id}/retire"), json!({"confirm": "yes"})).await;
        assert_eq!(r.json(), json!({"active": false, "changed": true}));
        assert!(!on_sale(boss.get("/api/v1/gifts").await.json()));
        let f = platform_audit::Filter { subject_id: Some(&id), ..Default::default() };
        let actions: Vec<String> = platform_audit::list(&app.db, &f, platform_audit::Position::Newest, 10)
            .await
            .unwrap()
            .entries
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(actions, vec!["gift.retire", "gift.update", "gift.create"]);
    }
}

#[tokio::test]
async fn pages_show_figures_users_and_confirm_suspension() {
    let backend = backends().into_iter().next().unwrap();
    let app = TestApp::new(backend).await;
    let mut boss = app.client();
    boss.sign_up("boss@example.com", "boss").await;
    role(&app, "boss", "super_admin").await;
    let mut ann = app.client();
    let ann_id = ann.sign_up("ann@example.com", "ann").await["account"]["id"].as_str().unwrap().to_string();

    let page = boss.get("/backoffice").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<svg") && page.body.contains("data-check=\"database\""), "{}", page.body);
    let users = boss.get("/backoffice/users?q=ann").await;
    assert!(users.body.contains("data-key=\"ann\""), "{}", users.body);
    assert_eq!(boss.get("/backoffice/transactions?unit=gold").await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Suspension without the confirmation changes nothing.
    let r = boss.form(&format!("/backoffice/users/{ann_id}/status"), &[("status", "suspended"), ("reason", "spam")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location().contains("error="), "{}", r.location());
    assert_eq!(ann.get("/api/v1/me").await.status, StatusCode::OK);
    let r =
        boss.form(&format!("/backoffice/users/{ann_id}/status"), &[("status", "suspended"), ("reason", "spam"), ("confirm", "yes")]).await;
    assert!(r.location().contains("notice="), "{}", r.location());
    assert_eq!(ann.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    let detail = boss.get(&format!("/backoffice/users/{ann_id}")).await;
    assert!(detail.body.contains("data-key=\"account.suspended\""), "{}", detail.body);

    // Not staff: no back office.
    let mut eve = app.client();
    eve.sign_up("eve@example.com", "eve").await;
    assert_eq!(eve.get("/api/v1/admin/figures").await.status, StatusCode::FORBIDDEN);
}
