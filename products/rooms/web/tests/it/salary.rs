//! Salary exchanged for coins over HTTP (6.4, BR-2), each test on its own
//! fresh database: the API (201, then 200 for the same key; 402 with
//! required/available; 422 on the field; 409 when switched off), the
//! history, and the agencies page's form with its confirmation step.

use crate::support::{backends, Resp, TestApp};
use axum::http::StatusCode;
use platform_db::Db;
use platform_ledger::{Amount, Book, Leg, Transfer, Unit};
use rooms_store::agencies::{SALARY_FUND, SALARY_FUND_OPENING, SALARY_UNIT};
use rooms_store::economy;
use serde_json::json;

/// Pays `cents` of salary to `who` (an account id) from the salary fund.
pub(crate) async fn pay(db: &Db, who: &str, cents: i64) {
    let usd = Unit::parse(SALARY_UNIT).unwrap();
    let fund = economy::system_wallet(db, SALARY_FUND, &usd, SALARY_FUND_OPENING).await.unwrap();
    let to = platform_ledger::wallets::open(db, economy::ACCOUNT, who, &usd).await.unwrap().id;
    let key = format!("agency_salary:test:{who}:{cents}");
    let t = Transfer {
        legs: vec![Leg { wallet: fund, unit: usd.clone(), delta: Amount(-cents) }, Leg { wallet: to, unit: usd, delta: Amount(cents) }],
        reason: "agency_salary",
        reference: Some(who),
        idempotency_key: &key,
        created_by: None,
    };
    Book::standard().transfer(db, &t).await.unwrap();
}

fn field(r: &Resp) -> (StatusCode, String) {
    (r.status, r.json()["fields"][0]["field"].as_str().unwrap_or_default().to_string())
}

#[tokio::test]
async fn salary_is_exchanged_by_api_once_per_key_and_listed() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut star = app.client();
        let id = star.sign_up("star@example.com", "star").await["account"]["id"].as_str().unwrap().to_string();
        let h = star.get("/api/v1/agency/salary/exchanges").await;
        assert_eq!(h.status, StatusCode::OK, "{}", h.body);
        assert_eq!((h.json()["salary_cents"].as_i64(), h.json()["rate"].as_i64()), (Some(0), Some(100)), "{b:?}");
        assert_eq!(h.json()["exchanges"], json!([]), "{b:?}");

        // Nothing held: 402 with what it needs and what there is.
        let r = star.post("/api/v1/agency/salary/exchange", json!({"cents": 100})).await;
        assert_eq!((r.status, r.code()), (StatusCode::PAYMENT_REQUIRED, "insufficient_salary".into()), "{}", r.body);
        assert_eq!((r.json()["required"].as_i64(), r.json()["available"].as_i64()), (Some(100), Some(0)), "{}", r.body);

        pay(&app.db, &id, 5_000).await;
        let r = star.post("/api/v1/agency/salary/exchange", json!({"cents": 1_250, "idempotency_key": "one"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let v = r.json();
        assert_eq!(
            (v["exchange"]["cents"].as_i64(), v["exchange"]["rate"].as_i64(), v["exchange"]["coins"].as_i64()),
            (Some(1_250), Some(100), Some(1_250)),
            "{v}"
        );
        assert_eq!(
            (v["salary_cents"].as_i64(), v["coins"].as_i64(), v["duplicate"].as_bool()),
            (Some(3_750), Some(1_250), Some(false)),
            "{v}"
        );
        let again = star.post("/api/v1/agency/salary/exchange", json!({"cents": 1_250, "idempotency_key": "one"})).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
        assert_eq!(
            (again.json()["exchange"]["id"].clone(), again.json()["duplicate"].as_bool()),
            (v["exchange"]["id"].clone(), Some(true))
        );
        assert_eq!(again.json()["salary_cents"].as_i64(), Some(3_750), "{b:?}: nothing moved");

        let r = star.post("/api/v1/agency/salary/exchange", json!({"cents": 3_751})).await;
        assert_eq!((r.status, r.code()), (StatusCode::PAYMENT_REQUIRED, "insufficient_salary".into()), "{}", r.body);
        assert_eq!((r.json()["required"].as_i64(), r.json()["available"].as_i64()), (Some(3_751), Some(3_750)), "{}", r.body);
        assert!(r.json()["message"].as_str().unwrap().contains("$37.50"), "{}", r.body);
        assert_eq!(
            field(&star.post("/api/v1/agency/salary/exchange", json!({"cents": 0})).await),
            (StatusCode::UNPROCESSABLE_ENTITY, "cents".into())
        );
        assert_eq!(
            field(&star.post("/api/v1/agency/salary/exchange", json!({"cents": -3})).await),
            (StatusCode::UNPROCESSABLE_ENTITY, "cents".into())
        );
        assert_eq!(
            field(&star.post("/api/v1/agency/salary/exchange", json!({"cents": 5, "idempotency_key": " "})).await),
            (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key".into())
        );

        let h = star.get("/api/v1/agency/salary/exchanges").await.json();
        assert_eq!(h["salary_cents"].as_i64(), Some(3_750), "{h}");
        assert_eq!(h["exchanges"].as_array().unwrap().len(), 1, "{h}");
        assert_eq!(h["exchanges"][0]["coins"].as_i64(), Some(1_250), "{h}");
        // Someone else sees only their own.
        let mut fan = app.client();
        fan.sign_up("fan@example.com", "fan").await;
        assert_eq!(fan.get("/api/v1/agency/salary/exchanges").await.json()["exchanges"], json!([]));
        // Signed out: no.
        assert_eq!(app.client().get("/api/v1/agency/salary/exchanges").await.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn staff_can_switch_salary_exchange_off() {
    for b in backends() {
        let app = TestApp::with_state(b, |s| {
            let mut e = rooms_web::economy::Economy::unconfigured();
            e.salary_exchange_open = false;
            s.economy = std::sync::Arc::new(e);
        })
        .await;
        let mut star = app.client();
        let id = star.sign_up("star@example.com", "star").await["account"]["id"].as_str().unwrap().to_string();
        pay(&app.db, &id, 500).await;
        let r = star.post("/api/v1/agency/salary/exchange", json!({"cents": 100})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "salary_exchange_closed".into()), "{}", r.body);
        assert_eq!(star.get("/api/v1/agency/salary/exchanges").await.json()["salary_cents"].as_i64(), Some(500));
    }
}

fn hidden_key(page: &Resp) -> String {
    let at = page.body.find("name=\"key\" value=\"").unwrap_or_else(|| panic!("a key in {}", page.body)) + 18;
    page.body[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn the_agencies_page_exchanges_salary_after_a_confirmation() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut star = app.client();
        let id = star.sign_up("star@example.com", "star").await["account"]["id"].as_str().unwrap().to_string();
        let page = star.get("/agencies").await;
        assert!(!page.body.contains("id=\"salary\""), "{b:?}: no salary, no section");

        pay(&app.db, &id, 2_000).await;
        let page = star.get("/agencies").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("data-salary-cents=\"2000\"") && page.body.contains("$20.00"), "{}", page.body);
        assert!(page.body.contains("id=\"salary-empty\"") && page.body.contains("action=\"/agency/salary/exchange\""), "{}", page.body);

        // Bad amounts go back with the message; nothing is exchanged.
        for (typed, words) in [("abc", "Enter+an+amount"), ("0", "at+least"), ("20.01", "Not+enough+salary")] {
            let r = star.form("/agency/salary/exchange", &[("dollars", typed)]).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{typed}: {}", r.body);
            assert!(r.location().starts_with("/agencies?error=") && r.location().contains(words), "{typed}: {}", r.location());
        }

        // Step 1: what will happen, with a key for step 2.
        let confirm = star.form("/agency/salary/exchange", &[("dollars", "12.5")]).await;
        assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
        assert!(confirm.body.contains("Exchange $12.50 of salary?") && confirm.body.contains("data-coins=\"1250\""), "{}", confirm.body);
        assert!(confirm.body.contains("$7.50"), "salary left: {}", confirm.body);
        assert_eq!(star.get("/api/v1/agency/salary/exchanges").await.json()["salary_cents"].as_i64(), Some(2_000), "step 1 moves nothing");
        let key = hidden_key(&confirm);

        // Step 2, twice with the same key (a double click): one exchange.
        for _ in 0..2 {
            let r = star.form("/agency/salary/exchange", &[("dollars", "12.5"), ("confirm", "yes"), ("key", &key)]).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
            assert!(r.location().starts_with("/agencies?notice=Exchanged"), "{}", r.location());
        }
        let h = star.get("/api/v1/agency/salary/exchanges").await.json();
        assert_eq!((h["salary_cents"].as_i64(), h["exchanges"].as_array().unwrap().len()), (Some(750), 1), "{h}");

        let page = star.get("/agencies").await;
        assert!(page.body.contains("data-salary-exchange=") && page.body.contains("1250 coins"), "{}", page.body);
        assert!(!page.body.contains("id=\"salary-empty\""), "{}", page.body);
        assert!(page.body.contains("$7.50"), "{}", page.body);
    }
}
