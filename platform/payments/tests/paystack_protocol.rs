//! The Paystack client against Paystack's documented wire format (served by
//! a tiny local server with the documentation's own example bodies), and a
//! full round trip through the fake Paystack.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use platform_kernel::payment::ChargeStatus;
use platform_payments::fake::{Behaviour, CheckoutBase, FakePaystack};
use platform_payments::{CheckoutRequest, PaymentError, PaymentProvider, Paystack, WebhookError, WebhookEvent};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

type Seen = Arc<Mutex<Vec<(String, Option<String>, Value)>>>;
/// Webhook bodies and their signatures, as the merchant received them.
type Deliveries = Arc<Mutex<Vec<(Vec<u8>, String)>>>;

/// Answers like api.paystack.co, with the example bodies from its docs.
fn documented_paystack(seen: Seen) -> Router {
    async fn init(State(seen): State<Seen>, headers: HeaderMap, Json(body): Json<Value>) -> Json<Value> {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
        seen.lock().unwrap().push(("initialize".into(), auth, body.clone()));
        Json(json!({"status": true, "message": "Authorization URL created",
            "data": {"authorization_url": "https://checkout.paystack.com/3ni8kdavz62431k", "access_code": "3ni8kdavz62431k", "reference": body["reference"]}}))
    }
    async fn verify(State(seen): State<Seen>, headers: HeaderMap, Path(r): Path<String>) -> (StatusCode, Json<Value>) {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
        seen.lock().unwrap().push(("verify".into(), auth, json!(r)));
        if r == "missing" {
            return (
                StatusCode::BAD_REQUEST,
                Json(
                    json!({"status": false, "message": "Transaction reference not found", "meta": {"nextStep": "Ensure that you're passing the reference of a transaction that exists on this integration"}, "type": "validation_error", "code": "transaction_not_found"}),
                ),
            );
        }
        (
            StatusCode::OK,
            Json(json!({"status": true, "message": "Verification successful", "data": {
            "id": 4099260516u64, "domain": "test", "status": "success", "reference": r, "receipt_number": null, "amount": 40333,
            "message": null, "gateway_response": "Successful", "paid_at": "2024-08-22T09:15:02.000Z", "created_at": "2024-08-22T09:14:24.000Z",
            "channel": "card", "currency": "NGN", "ip_address": "197.210.54.33", "metadata": "", "fees": 10283, "fees_split": null,
            "authorization": {"authorization_code": "AUTH_uh8bcl3zbn", "bin": "408408", "last4": "4081", "reusable": true},
            "customer": {"id": 181873746, "email": "demo@test.com"}, "plan": null, "split": {}, "order_id": null,
            "paidAt": "2024-08-22T09:15:02.000Z", "createdAt": "2024-08-22T09:14:24.000Z", "requested_amount": 30050}})),
        )
    }
    Router::new().route("/transaction/initialize", post(init)).route("/transaction/verify/{r}", get(verify)).with_state(seen)
}

fn request(reference: &str) -> CheckoutRequest {
    CheckoutRequest {
        reference: reference.into(),
        email: "amina@example.com".into(),
        amount_cents: 40_000,
        currency: "KES".into(),
        callback_url: "http://shop.test/credits/return".into(),
        cancel_url: None,
        description: None,
        metadata: json!({"package": "popular"}),
    }
}

#[tokio::test]
async fn client_speaks_the_documented_protocol() {
    let seen: Seen = Arc::default();
    let base = serve(documented_paystack(seen.clone())).await;
    let client = Paystack::new("sk_test_secret").with_base_url(format!("{base}/"));
    let checkout = client.initialize(&request("ftx_1")).await.unwrap();
    assert_eq!(checkout.authorization_url, "https://checkout.paystack.com/3ni8kdavz62431k");
    assert_eq!(checkout.reference, "ftx_1");
    assert_eq!(checkout.provider_id, "ftx_1", "Paystack verifies by our reference");
    let report = client.verify("ftx_1").await.unwrap();
    assert_eq!((report.status, report.amount_cents, report.currency.as_str()), (ChargeStatus::Success, 40333, "NGN"));
    assert_eq!(report.gateway_response.as_deref(), Some("Successful"));
    assert_eq!(report.raw["authorization"]["last4"], "4081", "the full payload is kept");
    assert!(matches!(client.verify("missing").await, Err(PaymentError::UnknownReference)));

    let seen = seen.lock().unwrap();
    let (_, auth, body) = &seen[0];
    assert_eq!(auth.as_deref(), Some("Bearer sk_test_secret"));
    assert_eq!(body["amount"], 40_000, "amount in the subunit");
    assert_eq!(body["currency"], "KES");
    assert_eq!(body["email"], "amina@example.com");
    assert_eq!(body["reference"], "ftx_1");
    assert_eq!(body["callback_url"], "http://shop.test/credits/return");
    assert!(seen.iter().all(|(_, a, _)| a.as_deref() == Some("Bearer sk_test_secret")));
    assert!(!format!("{client:?}").contains("sk_test_secret"), "the key never reaches Debug output");
}

#[tokio::test]
async fn webhook_bodies_parse_like_paystack_sends_them() {
    let client = Paystack::new("sk_test_secret");
    // From https://paystack.com/docs/payments/webhooks/ (charge.success).
    let body = br#"{"event":"charge.success","data":{"id":302961,"domain":"live","status":"success","reference":"qTPrJoy9Bx","amount":10000,"message":null,"gateway_response":"Approved by Financial Institution","paid_at":"2016-09-30T21:10:19.000Z","created_at":"2016-09-30T21:09:56.000Z","channel":"card","currency":"NGN","ip_address":"41.242.49.37","metadata":0,"log":{"time_spent":16,"attempts":1,"authentication":"pin","errors":0,"success":false,"mobile":false,"input":[],"channel":null,"history":[]},"fees":null,"customer":{"id":68324,"first_name":"BoJack","last_name":"Horseman","email":"bojack@horseman.com","customer_code":"CUS_qo38as2hpsgk2r0","phone":null,"metadata":null,"risk_action":"default"},"authorization":{"authorization_code":"AUTH_f5rnfq9p","bin":"539999","last4":"8877","exp_month":"08","exp_year":"2020","card_type":"mastercard DEBIT","bank":"Guaranty Trust Bank","country_code":"NG","brand":"mastercard","account_name":"BoJack Horseman"},"plan":{}}}"#;
    let signed = |key: &str, body: &[u8]| {
        let mut h = HeaderMap::new();
        h.insert("x-paystack-signature", platform_payments::signature::sign(key, body).parse().unwrap());
        h
    };
    assert_eq!(client.receive_webhook(&signed("sk_live_other", body), body).await, Err(WebhookError::BadSignature));
    assert_eq!(client.receive_webhook(&HeaderMap::new(), body).await, Err(WebhookError::BadSignature));
    let hook = client.receive_webhook(&signed("sk_test_secret", body), body).await.unwrap();
    assert_eq!((hook.event_id.as_str(), hook.event_type.as_str()), ("charge.success:302961", "charge.success"));
    match hook.event {
        WebhookEvent::Charge(r) => {
            assert_eq!(
                (r.reference.as_str(), r.status, r.amount_cents, r.currency.as_str()),
                ("qTPrJoy9Bx", ChargeStatus::Success, 10000, "NGN")
            );
        }
        other => panic!("{other:?}"),
    }
    let other = br#"{"event":"transfer.success","data":{"reference":"x"}}"#;
    let hook = client.receive_webhook(&signed("sk_test_secret", other), other).await.unwrap();
    assert_eq!((hook.event, hook.event_id.as_str()), (WebhookEvent::Other, "transfer.success:x"));
    assert!(matches!(client.receive_webhook(&signed("sk_test_secret", b"not json"), b"not json").await, Err(WebhookError::Malformed(_))));
}

#[tokio::test]
async fn fake_round_trip_initialize_pay_webhook_verify() {
    let secret = FakePaystack::random_secret();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let fake = FakePaystack::new(secret.clone(), CheckoutBase::Fixed(base.clone()));
    let app = fake.router();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // A merchant endpoint that records signed deliveries.
    let got: Deliveries = Arc::default();
    let hook = Router::new()
        .route(
            "/hook",
            post(|State(got): State<Deliveries>, h: HeaderMap, body: axum::body::Bytes| async move {
                got.lock().unwrap().push((body.to_vec(), h["x-paystack-signature"].to_str().unwrap().to_string()));
                StatusCode::OK
            }),
        )
        .with_state(got.clone());
    fake.set_webhook_url(format!("{}/hook", serve(hook).await));
    fake.set_behaviour(Behaviour { webhook_copies: 3, ..Behaviour::default() });

    let client = Paystack::new(secret.clone()).with_base_url(base.clone());
    assert!(matches!(
        Paystack::new("sk_test_wrong").with_base_url(base.clone()).initialize(&request("r0")).await,
        Err(PaymentError::Rejected(_))
    ));
    let checkout = client.initialize(&request("ftx_round")).await.unwrap();
    assert!(checkout.authorization_url.starts_with(&format!("{base}/checkout/")));
    assert_eq!(client.verify("ftx_round").await.unwrap().status, ChargeStatus::Abandoned, "unpaid checkouts read as abandoned");
    assert!(matches!(client.initialize(&request("ftx_round")).await, Err(PaymentError::Rejected(m)) if m.contains("Duplicate")));

    // The hosted page pays and sends the buyer back with the reference.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = http.get(&checkout.authorization_url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Pay KES 400.00"), "{page}");
    let back = http.post(format!("{}/pay", checkout.authorization_url)).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(back.headers()["location"], "http://shop.test/credits/return?trxref=ftx_round&reference=ftx_round");

    let report = client.verify("ftx_round").await.unwrap();
    assert_eq!((report.status, report.amount_cents, report.currency.as_str()), (ChargeStatus::Success, 40_000, "KES"));
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 3, "three copies delivered");
    for (body, sig) in got.iter() {
        let mut h = HeaderMap::new();
        h.insert("x-paystack-signature", sig.parse().unwrap());
        let hook = client.receive_webhook(&h, body).await.expect("signed with the secret key");
        assert!(matches!(hook.event, WebhookEvent::Charge(r) if r.status == ChargeStatus::Success && r.reference == "ftx_round"));
    }
}
