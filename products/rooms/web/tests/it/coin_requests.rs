//! Coin requests to resellers over HTTP, each test on its own fresh
//! database: proofs judged from their bytes and shown only to the parties,
//! stock top-ups by a super admin, approval paying once (also two clicks at
//! the same moment), 402 on short stock, the pages and bulk decisions.

use crate::support::{backends, Client, Resp, TestApp};
use axum::http::{Method, StatusCode};
use image::ImageFormat;
use rooms_web::media::sample_picture;
use serde_json::{json, Value};

/// A multipart body of text fields and `proof` files.
fn request_body(fields: &[(&str, &str)], proofs: &[(&str, Vec<u8>)]) -> (String, Vec<u8>) {
    let boundary = "c01nb0undary";
    let mut body = vec![];
    for (k, v) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").into_bytes());
    }
    for (ct, bytes) in proofs {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"proof\"; filename=\"p\"\r\nContent-Type: {ct}\r\n\r\n")
                .into_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").into_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn ask(c: &mut Client, path: &str, fields: &[(&str, &str)], proofs: &[(&str, Vec<u8>)]) -> Resp {
    let (ct, body) = request_body(fields, proofs);
    c.send(Method::POST, path, Some(&ct), body).await
}

async fn with_role(app: &TestApp, number: i64, role: &str) {
    platform_db::on_pool!(&app.db, p => sqlx::query("UPDATE accounts SET role = $1 WHERE public_number = $2").bind(role).bind(number).execute(p).await.unwrap().rows_affected());
    app.settled().await;
}

fn number(v: &Value) -> i64 {
    v["account"]["public_number"].as_i64().unwrap()
}

fn field(r: &Resp) -> String {
    r.json()["fields"][0]["field"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_request_with_proof_is_approved_once_from_reseller_stock() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut buyer, mut seller, mut boss, mut stranger) = (app.client(), app.client(), app.client(), app.client());
        buyer.sign_up("buyer@example.com", "buyer").await;
        let s = seller.sign_up("seller@example.com", "seller").await;
        let k = boss.sign_up("boss@example.com", "boss").await;
        stranger.sign_up("stranger@example.com", "stranger").await;
        let (seller_no, boss_no) = (number(&s), number(&k));
        with_role(&app, seller_no, "reseller").await;
        with_role(&app, boss_no, "super_admin").await;
        let seller_str = seller_no.to_string();

        // Only a super admin tops up stock, once per key.
        let top = json!({"reseller": seller_str, "coins": 500, "idempotency_key": "t1"});
        assert_eq!(buyer.post("/api/v1/admin/resellers/stock", top.clone()).await.status, StatusCode::FORBIDDEN);
        for _ in 0..2 {
            let r = boss.post("/api/v1/admin/resellers/stock", top.clone()).await;
            assert_eq!((r.status, r.json()["stock"].as_i64()), (StatusCode::OK, Some(500)), "{b:?}: {}", r.body);
        }
        let r = boss.post("/api/v1/admin/resellers/stock", json!({"reseller": seller_str, "coins": 0, "idempotency_key": "t2"})).await;
        assert_eq!((r.status, field(&r)), (StatusCode::UNPROCESSABLE_ENTITY, "coins".into()), "{}", r.body);

        // Proofs are judged from their bytes.
        let png = sample_picture(120, 80, ImageFormat::Png);
        let fields = [("reseller", seller_str.as_str()), ("coins", "300"), ("message", "sent by M-Pesa")];
        let bad: [(&str, Vec<u8>); 3] = [
            ("image/png", b"not a picture at all".to_vec()),
            ("image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec()),
            ("image/jpeg", png.clone()),
        ];
        for (ct, bytes) in bad {
            let r = ask(&mut buyer, "/api/v1/coin-requests", &fields, &[(ct, bytes)]).await;
            assert_eq!((r.status, field(&r)), (StatusCode::UNPROCESSABLE_ENTITY, "proof".into()), "{b:?} {ct}: {}", r.body);
        }
        let r = ask(&mut buyer, "/api/v1/coin-requests", &fields, &[]).await;
        assert_eq!((r.status, field(&r)), (StatusCode::UNPROCESSABLE_ENTITY, "proof".into()));
        let r =
            ask(&mut buyer, "/api/v1/coin-requests", &[("reseller", &seller_str), ("coins", "lots")], &[("image/png", png.clone())]).await;
        assert_eq!((r.status, field(&r)), (StatusCode::UNPROCESSABLE_ENTITY, "coins".into()));
        let r = ask(&mut buyer, "/api/v1/coin-requests", &fields, &[("image/png", png.clone())]).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        let id = r.json()["request"]["id"].as_str().unwrap().to_string();
        let r = ask(&mut buyer, "/api/v1/coin-requests", &fields, &[("image/png", png.clone())]).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "pending_request_exists".into()));
        let told: i64 = platform_db::on_pool!(&app.db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM user_events e JOIN accounts a ON a.id = e.account_id WHERE a.public_number = $1 AND e.kind = 'coin_request'")
            .bind(seller_no).fetch_one(p).await.unwrap());
        assert_eq!(told, 1, "{b:?}: the reseller is told live");

        // The reseller sees it with its proof; a stranger sees neither.
        let mine = seller.get("/api/v1/coin-requests?as=reseller").await.json();
        assert_eq!((mine["stock"].as_i64(), mine["requests"].as_array().unwrap().len()), (Some(500), 1));
        let proof = mine["requests"][0]["proofs"][0].as_str().unwrap().to_string();
        let r = seller.get(&proof).await;
        assert_eq!((r.status, r.bytes == png), (StatusCode::OK, true), "{b:?}");
        assert_eq!(stranger.get(&proof).await.status, StatusCode::NOT_FOUND);
        assert_eq!(stranger.get(&format!("/api/v1/coin-requests/{id}")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(buyer.get("/api/v1/coin-requests?as=reseller").await.status, StatusCode::FORBIDDEN);

        // Short stock: 402 with the amounts, nothing moves.
        let r = seller.post(&format!("/api/v1/coin-requests/{id}/approve"), json!({"coins": 900})).await;
        assert_eq!(
            (r.status, r.json()["required"].as_i64(), r.json()["available"].as_i64()),
            (StatusCode::PAYMENT_REQUIRED, Some(900), Some(500))
        );
        assert_eq!(buyer.get(&format!("/api/v1/coin-requests/{id}")).await.json()["request"]["status"], "pending");
        let r = seller.post(&format!("/api/v1/coin-requests/{id}/approve"), json!({"payment": "credit"})).await;
        assert_eq!((r.status, field(&r)), (StatusCode::UNPROCESSABLE_ENTITY, "credit_days".into()));
        assert_eq!(stranger.post(&format!("/api/v1/coin-requests/{id}/approve"), json!({})).await.status, StatusCode::NOT_FOUND);
        let r = buyer.post(&format!("/api/v1/coin-requests/{id}/approve"), json!({})).await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "not_your_request".into()), "the requester cannot approve");

        // Two approvals at the same moment: one pays, the other is told.
        let path = format!("/api/v1/coin-requests/{id}/approve");
        let mut other = app.client();
        other.bearer = seller.bearer.clone();
        let (a, c) = tokio::join!(seller.post(&path, json!({"note": "thanks"})), other.post(&path, json!({"note": "thanks"})));
        let mut got = [(a.status, a.code()), (c.status, c.code())];
        got.sort();
        assert_eq!(got, [(StatusCode::OK, String::new()), (StatusCode::CONFLICT, "already_processed".into())], "{b:?}");
        assert_eq!(buyer.get("/api/v1/coins").await.json()["coins"].as_i64(), Some(300), "{b:?}: paid once");
        assert_eq!(seller.get("/api/v1/coin-requests?as=reseller").await.json()["stock"].as_i64(), Some(200));
        assert!(rooms_store::check::run(&app.db).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn pages_show_requests_and_staff_decide_in_bulk() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut buyer, mut seller, mut boss) = (app.client(), app.client(), app.client());
        buyer.sign_up("pbuyer@example.com", "pbuyer").await;
        let s = seller.sign_up("pseller@example.com", "pseller").await;
        let k = boss.sign_up("pboss@example.com", "pboss").await;
        with_role(&app, number(&s), "reseller").await;
        with_role(&app, number(&k), "super_admin").await;
        let seller_str = number(&s).to_string();
        let jpeg = sample_picture(90, 90, ImageFormat::Jpeg);

        let page = buyer.get("/coin-requests").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains(&format!("value=\"{seller_str}\"")), "the reseller is offered");
        // The page form answers with a redirect and a notice.
        let r = ask(&mut buyer, "/coin-requests", &[("reseller", &seller_str), ("coins", "40")], &[("image/jpeg", jpeg.clone())]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(r.location().starts_with("/coin-requests?notice="), "{}", r.location());
        let r = ask(&mut buyer, "/coin-requests", &[("reseller", &seller_str), ("coins", "40")], &[("image/jpeg", jpeg.clone())]).await;
        assert!(r.location().contains("error="), "a refusal goes back with its message: {}", r.location());

        let page = seller.get("/coin-requests").await;
        assert!(
            page.body.contains("Requests to you") && page.body.contains("Coin request: 40 coins"),
            "{b:?}: the reseller's notice shows"
        );
        assert_eq!(buyer.get("/admin/coin-requests").await.status, StatusCode::FORBIDDEN);
        let admin = boss.get("/admin/coin-requests?status=pending").await;
        assert_eq!(admin.status, StatusCode::OK);
        assert!(admin.body.contains("40") && admin.body.contains("backoffice.css"), "{}", admin.body);
        let list = boss.get("/api/v1/admin/coin-requests?status=pending").await.json();
        let id = list["requests"][0]["id"].as_str().unwrap().to_string();
        assert_eq!(boss.get("/api/v1/admin/coin-requests?status=odd").await.status, StatusCode::UNPROCESSABLE_ENTITY);

        // Bulk approval with no stock: reported per request, nothing moves;
        // then a rejection goes through.
        let r = boss.post("/api/v1/admin/coin-requests/bulk", json!({"ids": [id], "action": "approve"})).await;
        assert_eq!(r.json()["results"][0]["result"], "insufficient_stock", "{b:?}: {}", r.body);
        let r = boss.post("/api/v1/admin/coin-requests/bulk", json!({"ids": [], "action": "reject"})).await;
        assert_eq!((r.status, field(&r)), (StatusCode::UNPROCESSABLE_ENTITY, "ids".into()));
        let r = boss.form("/admin/coin-requests/bulk", &[("ids", &id), ("action", "reject"), ("note", "no payment")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let one = buyer.get(&format!("/api/v1/coin-requests/{id}")).await.json();
        assert_eq!((one["request"]["status"].as_str(), one["request"]["note"].as_str()), (Some("rejected"), Some("no payment")));
        let audits: i64 = platform_db::on_pool!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries WHERE action = 'coin_request.reject'").fetch_one(p).await.unwrap());
        assert_eq!(audits, 1);
    }
}
