//! The PayPal client against PayPal's documented wire format (a tiny local
//! server answering with the documentation's example bodies), and a full
//! round trip through the fake PayPal: approval page, capture, webhooks
//! verified through `verify-webhook-signature`, refunds and payouts.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use platform_kernel::payment::ChargeStatus;
use platform_payments::fake::CheckoutBase;
use platform_payments::fake_paypal::{Behaviour, FakePayPal};
use platform_payments::{
    CheckoutRequest, PayPal, PaymentError, PaymentProvider, PayoutRequest, PayoutStatus, Payouts, RefundRequest, RefundStatus, Refunds,
    Webhook, WebhookError, WebhookEvent,
};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// (path, authorization, PayPal-Request-Id, body)
type Seen = Arc<Mutex<Vec<(String, Option<String>, Option<String>, String)>>>;

fn record(seen: &Seen, path: &str, h: &HeaderMap, body: &[u8]) {
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    seen.lock().unwrap().push((path.into(), get("authorization"), get("paypal-request-id"), String::from_utf8_lossy(body).into()));
}

/// Answers like api-m.paypal.com, with example bodies from its reference.
fn documented_paypal(seen: Seen) -> Router {
    async fn token(State(seen): State<Seen>, h: HeaderMap, body: axum::body::Bytes) -> Json<Value> {
        record(&seen, "/v1/oauth2/token", &h, &body);
        Json(
            json!({"scope": "https://uri.paypal.com/services/invoicing", "access_token": "A21AAFEpH4PsADK7qSS7pSRsgzfENtu-Q1ysgEDVDESseMHBYXVJYE8ovjj68elIDy8nF26AwPhfXTIeWAZHSLIsQkSYz9ifg",
            "token_type": "Bearer", "app_id": "APP-80W284485P519543T", "expires_in": 31668, "nonce": "2020-04-03T15:35:36ZaYZlGvEkV4yVSz8g6bAKFoGSEzuy3CQcz3ljhibkOHg"}),
        )
    }
    async fn create(State(seen): State<Seen>, h: HeaderMap, body: axum::body::Bytes) -> Json<Value> {
        record(&seen, "/v2/checkout/orders", &h, &body);
        Json(json!({"id": "5O190127TN364715T", "status": "PAYER_ACTION_REQUIRED", "payment_source": {"paypal": {}},
            "links": [{"href": "https://api-m.paypal.com/v2/checkout/orders/5O190127TN364715T", "rel": "self", "method": "GET"},
                      {"href": "https://www.paypal.com/checkoutnow?token=5O190127TN364715T", "rel": "payer-action", "method": "GET"}]}))
    }
    async fn order(Path(id): Path<String>) -> (StatusCode, Json<Value>) {
        if id == "MISSING" {
            return (
                StatusCode::NOT_FOUND,
                Json(
                    json!({"name": "RESOURCE_NOT_FOUND", "details": [{"issue": "INVALID_RESOURCE_ID", "description": "Specified resource ID does not exist."}], "message": "The specified resource does not exist.", "debug_id": "f1a1b2"}),
                ),
            );
        }
        (
            StatusCode::OK,
            Json(json!({"id": id, "status": "COMPLETED", "intent": "CAPTURE",
            "purchase_units": [{"reference_id": "gso_1", "custom_id": "gso_1", "amount": {"currency_code": "USD", "value": "100.00"},
                "payments": {"captures": [{"id": "3C679366HH908993F", "status": "COMPLETED", "amount": {"currency_code": "USD", "value": "100.00"},
                    "custom_id": "gso_1", "final_capture": true}]}}]})),
        )
    }
    async fn refund(State(seen): State<Seen>, h: HeaderMap, Path(id): Path<String>, body: axum::body::Bytes) -> Json<Value> {
        record(&seen, &format!("/v2/payments/captures/{id}/refund"), &h, &body);
        Json(json!({"id": "1JU08902781691411", "amount": {"value": "10.99", "currency_code": "USD"}, "status": "COMPLETED",
            "links": [{"rel": "self", "method": "GET", "href": "https://api-m.paypal.com/v2/payments/refunds/1JU08902781691411"},
                      {"rel": "up", "method": "GET", "href": "https://api-m.paypal.com/v2/payments/captures/2GG279541U471931P"}]}))
    }
    async fn payout(State(seen): State<Seen>, h: HeaderMap, body: axum::body::Bytes) -> (StatusCode, Json<Value>) {
        record(&seen, "/v1/payments/payouts", &h, &body);
        (
            StatusCode::CREATED,
            Json(json!({"batch_header": {"sender_batch_header": {"sender_batch_id": "wd_1", "email_subject": "You have a payout!"},
            "payout_batch_id": "FYXMPQTX4JC9N", "batch_status": "PENDING"},
            "links": [{"href": "https://api-m.paypal.com/v1/payments/payouts/FYXMPQTX4JC9N", "rel": "self", "method": "GET"}]})),
        )
    }
    async fn verify(State(seen): State<Seen>, h: HeaderMap, body: axum::body::Bytes) -> Json<Value> {
        record(&seen, "/v1/notifications/verify-webhook-signature", &h, &body);
        Json(json!({"verification_status": "SUCCESS"}))
    }
    Router::new()
        .route("/v1/oauth2/token", post(token))
        .route("/v2/checkout/orders", post(create))
        .route("/v2/checkout/orders/{id}", get(order))
        .route("/v2/payments/captures/{id}/refund", post(refund))
        .route("/v1/payments/payouts", post(payout))
        .route("/v1/notifications/verify-webhook-signature", post(verify))
        .with_state(seen)
}

fn request(reference: &str, amount: i64, currency: &str) -> CheckoutRequest {
    CheckoutRequest {
        reference: reference.into(),
        email: "buyer@example.com".into(),
        amount_cents: amount,
        currency: currency.into(),
        callback_url: "http://shop.test/orders/return".into(),
        cancel_url: Some("http://shop.test/orders/cancelled".into()),
        description: Some("Logo design".into()),
        metadata: json!({}),
    }
}

#[tokio::test]
async fn client_speaks_the_documented_protocol() {
    let seen: Seen = Arc::default();
    let base = serve(documented_paypal(seen.clone())).await;
    let paypal = PayPal::new("client-id", "client-secret", "WH-ID-1").with_base_url(&base);

    let checkout = paypal.initialize(&request("gso_1", 10_050, "USD")).await.unwrap();
    assert_eq!(
        (checkout.provider_id.as_str(), checkout.authorization_url.as_str()),
        ("5O190127TN364715T", "https://www.paypal.com/checkoutnow?token=5O190127TN364715T")
    );
    let report = paypal.verify("5O190127TN364715T").await.unwrap();
    assert_eq!(
        (report.reference.as_str(), report.status, report.amount_cents, report.currency.as_str()),
        ("gso_1", ChargeStatus::Success, 10_000, "USD")
    );
    assert_eq!(report.payment_id.as_deref(), Some("3C679366HH908993F"));
    assert!(matches!(paypal.verify("MISSING").await, Err(PaymentError::UnknownReference)));
    assert!(matches!(paypal.initialize(&request("gso_huf", 150_050, "HUF")).await, Err(PaymentError::Rejected(m)) if m.contains("whole")));

    let refund = paypal
        .refund(&RefundRequest {
            payment_id: "2GG279541U471931P".into(),
            amount_cents: Some(1099),
            currency: "USD".into(),
            idempotency_key: "rf-1".into(),
            reason: Some("Late delivery".into()),
        })
        .await
        .unwrap();
    assert_eq!((refund.refund_id.as_str(), refund.status, refund.amount_cents), ("1JU08902781691411", RefundStatus::Succeeded, 1099));
    let payout = paypal
        .payout(&PayoutRequest {
            reference: "wd_1".into(),
            destination: "seller@example.com".into(),
            amount_cents: 2500,
            currency: "USD".into(),
            note: None,
        })
        .await
        .unwrap();
    assert_eq!(
        (payout.payout_id.as_str(), payout.status, payout.amount_cents, payout.reference.as_str()),
        ("FYXMPQTX4JC9N", PayoutStatus::Pending, 2500, "wd_1")
    );

    // A webhook goes to verify-webhook-signature byte for byte.
    let event = br#"{"id":"WH-58D329510W468432D-8HN650336L201105X","event_version":"1.0","create_time":"2019-02-14T21:50:07.940Z","resource_type":"capture","resource_version":"2.0","event_type":"PAYMENT.CAPTURE.COMPLETED","summary":"Payment completed for $ 100.00 USD","resource":{"amount":{"currency_code":"USD","value":"100.00"},"custom_id":"gso_1","id":"42311647XV020574X","status":"COMPLETED","supplementary_data":{"related_ids":{"order_id":"5O190127TN364715T"}},"final_capture":true,"create_time":"2022-12-02T15:43:51Z"},"links":[]}"#;
    let mut h = HeaderMap::new();
    for (name, value) in [
        ("paypal-transmission-id", "69cd13f0-d67a-11e5-baa3-778b53f4ae55"),
        ("paypal-transmission-time", "2016-02-18T20:01:35Z"),
        ("paypal-transmission-sig", "lmI95Jx3Y9nhR5SJWlHVIWpg4AgFk7n9bCHSRxbrd8A9zrhdu2rMyFrmz+Zjh3s3boXB07VXCXUZy/UFzUlnGJn0wDugt7FlSvdKeIJenLRemUxYCPVoEZzg9VFNqOa48gMkvF+XTpxBeUx/kWy6B5cp7GkT2+pOowfRK7OaynuxUoKW3JcMWw272VKjLTtTAShncla7tGF+55rxyt2KNZIIqxNMJ48RDZheGU5w1npu9dZHnPgTXB9iomeVRoD8O/jhRpnKsGrDschyNdkeh81BJJMH4Ctc6lnCCquoP/GzCzz33MMsNdid7vL/NIWaCsekQpW26FpWPi/tfj8nLA==",),
        ("paypal-cert-url", "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270"),
        ("paypal-auth-algo", "SHA256withRSA"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    let hook = paypal.receive_webhook(&h, event).await.unwrap();
    assert_eq!(hook.event_id, "WH-58D329510W468432D-8HN650336L201105X");
    let WebhookEvent::Charge(r) = hook.event else { panic!() };
    assert_eq!(
        (r.reference.as_str(), r.status, r.amount_cents, r.provider_id.as_str(), r.payment_id.as_deref()),
        ("gso_1", ChargeStatus::Success, 10_000, "5O190127TN364715T", Some("42311647XV020574X"))
    );
    let mut missing = h.clone();
    missing.remove("paypal-transmission-sig");
    assert_eq!(paypal.receive_webhook(&missing, event).await, Err(WebhookError::BadSignature), "no call without every header");

    let seen = seen.lock().unwrap();
    let paths: Vec<&str> = seen.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(paths.iter().filter(|p| **p == "/v1/oauth2/token").count(), 1, "one token, reused: {paths:?}");
    let (_, auth, _, body) = &seen[0];
    assert_eq!(auth.as_deref(), Some("Basic Y2xpZW50LWlkOmNsaWVudC1zZWNyZXQ="), "client id and secret, Basic");
    assert_eq!(body, "grant_type=client_credentials");
    assert!(seen[1..].iter().all(|s| s.1.as_deref().is_some_and(|a| a.starts_with("Bearer A21AAFEpH4"))));
    let (_, _, request_id, body) = &seen[1];
    assert_eq!(request_id.as_deref(), Some("order-gso_1"));
    let order: Value = serde_json::from_str(body).unwrap();
    assert_eq!(order["intent"], "CAPTURE");
    let unit = &order["purchase_units"][0];
    assert_eq!((unit["reference_id"].as_str(), unit["custom_id"].as_str()), (Some("gso_1"), Some("gso_1")));
    assert_eq!(unit["amount"], json!({"currency_code": "USD", "value": "100.50"}));
    let ctx = &order["payment_source"]["paypal"]["experience_context"];
    assert_eq!(ctx["return_url"], "http://shop.test/orders/return?reference=gso_1");
    assert_eq!(ctx["cancel_url"], "http://shop.test/orders/cancelled");
    let refund_call = seen.iter().find(|s| s.0.ends_with("/refund")).unwrap();
    assert_eq!(refund_call.0, "/v2/payments/captures/2GG279541U471931P/refund");
    assert_eq!(refund_call.2.as_deref(), Some("rf-1"));
    assert_eq!(
        serde_json::from_str::<Value>(&refund_call.3).unwrap(),
        json!({"amount": {"currency_code": "USD", "value": "10.99"}, "note_to_payer": "Late delivery"})
    );
    let payout_call = seen.iter().find(|s| s.0 == "/v1/payments/payouts").unwrap();
    let payout_body: Value = serde_json::from_str(&payout_call.3).unwrap();
    assert_eq!(payout_body["sender_batch_header"]["sender_batch_id"], "wd_1");
    assert_eq!(payout_body["items"][0]["amount"], json!({"value": "25.00", "currency": "USD"}));
    assert_eq!(payout_body["items"][0]["receiver"], "seller@example.com");
    let verify_call = seen.iter().find(|s| s.0.ends_with("verify-webhook-signature")).unwrap();
    assert!(verify_call.3.contains(std::str::from_utf8(event).unwrap()), "the event is passed exactly as received");
    let verify_body: Value = serde_json::from_str(&verify_call.3).unwrap();
    assert_eq!(verify_body["webhook_id"], "WH-ID-1");
    assert_eq!(verify_body["transmission_id"], "69cd13f0-d67a-11e5-baa3-778b53f4ae55");
    assert_eq!(verify_body["auth_algo"], "SHA256withRSA");
    assert!(!format!("{paypal:?}").contains("client-secret"));
}

type Deliveries = Arc<Mutex<Vec<Webhook>>>;

async fn merchant(paypal: PayPal) -> (String, Deliveries) {
    let got: Deliveries = Arc::default();
    let hook = Router::new()
        .route(
            "/hook",
            post(|State((paypal, got)): State<(PayPal, Deliveries)>, h: HeaderMap, body: axum::body::Bytes| async move {
                match paypal.receive_webhook(&h, &body).await {
                    Ok(w) => {
                        got.lock().unwrap().push(w);
                        StatusCode::OK
                    }
                    Err(_) => StatusCode::UNAUTHORIZED,
                }
            }),
        )
        .with_state((paypal, got.clone()));
    (format!("{}/hook", serve(hook).await), got)
}

async fn start_fake() -> (FakePayPal, PayPal, String) {
    let (id, secret, webhook_id) = FakePayPal::random_credentials();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let fake = FakePayPal::new(id.clone(), secret.clone(), webhook_id.clone(), base.clone(), CheckoutBase::Fixed(base.clone()));
    let app = fake.router();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (fake, PayPal::new(id, secret, webhook_id).with_base_url(&base), base)
}

async fn wait_for(got: &Deliveries, n: usize) -> Vec<Webhook> {
    for _ in 0..200 {
        if got.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    got.lock().unwrap().clone()
}

#[tokio::test]
async fn fake_round_trip_approve_capture_refund_payout() {
    let (fake, paypal, base) = start_fake().await;
    let (hook_url, got) = merchant(paypal.clone()).await;
    fake.set_webhook_url(hook_url);

    assert!(matches!(
        PayPal::new("x", "y", "z").with_base_url(&base).initialize(&request("r0", 100, "USD")).await,
        Err(PaymentError::Rejected(_))
    ));
    let checkout = paypal.initialize(&request("gso_pp", 2_198, "USD")).await.unwrap();
    assert_eq!(checkout.authorization_url, format!("{base}/checkoutnow?token={}", checkout.provider_id));
    assert_eq!(paypal.capture(&checkout.provider_id).await.unwrap().status, ChargeStatus::Pending, "nothing to capture before approval");

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = http.get(&checkout.authorization_url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Pay USD 21.98") && page.contains("Logo design"), "{page}");
    let back = http.post(format!("{base}/checkoutnow/{}/approve", checkout.provider_id)).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        back.headers()["location"],
        format!("http://shop.test/orders/return?reference=gso_pp&token={}&PayerID=FAKEPAYER1", checkout.provider_id)
    );
    let events = wait_for(&got, 1).await;
    assert_eq!(events[0].event_type, "CHECKOUT.ORDER.APPROVED");
    assert_eq!(events[0].event, WebhookEvent::Approved { reference: "gso_pp".into(), provider_id: checkout.provider_id.clone() });

    // The return handler and the webhook capture at once: one capture.
    let (a, b) = tokio::join!(paypal.capture(&checkout.provider_id), paypal.capture(&checkout.provider_id));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.status, a.amount_cents, a.currency.as_str(), a.reference.as_str()), (ChargeStatus::Success, 2_198, "USD", "gso_pp"));
    assert_eq!(a.payment_id, b.payment_id);
    let capture_id = a.payment_id.clone().unwrap();
    assert_eq!(
        paypal.capture(&checkout.provider_id).await.unwrap().payment_id.as_deref(),
        Some(capture_id.as_str()),
        "a later call reports the capture"
    );
    let events = wait_for(&got, 2).await;
    assert_eq!(events.iter().filter(|w| w.event_type == "PAYMENT.CAPTURE.COMPLETED").count(), 1);
    assert!(events.iter().any(|w| matches!(&w.event, WebhookEvent::Charge(r) if r.status == ChargeStatus::Success && r.payment_id.as_deref() == Some(capture_id.as_str()) && r.provider_id == checkout.provider_id)));

    let partial = RefundRequest {
        payment_id: capture_id.clone(),
        amount_cents: Some(500),
        currency: "USD".into(),
        idempotency_key: "rf-a".into(),
        reason: None,
    };
    let first = paypal.refund(&partial).await.unwrap();
    assert_eq!(paypal.refund(&partial).await.unwrap().refund_id, first.refund_id, "a retried request refunds once");
    assert!(matches!(
        paypal.refund(&RefundRequest { amount_cents: Some(1_699), idempotency_key: "rf-b".into(), ..partial.clone() }).await,
        Err(PaymentError::Rejected(m)) if m.contains("REFUND_AMOUNT_EXCEEDED")
    ));
    let rest = paypal.refund(&RefundRequest { amount_cents: None, idempotency_key: "rf-c".into(), ..partial.clone() }).await.unwrap();
    assert_eq!((rest.amount_cents, rest.status), (1_698, RefundStatus::Succeeded));
    assert!(matches!(
        paypal.refund(&RefundRequest { amount_cents: Some(1), idempotency_key: "rf-d".into(), ..partial }).await,
        Err(PaymentError::Rejected(m)) if m.contains("CAPTURE_FULLY_REFUNDED")
    ));
    assert_eq!(fake.refunds().len(), 2);
    let events = wait_for(&got, 4).await;
    let mut totals: Vec<i64> = events
        .iter()
        .filter_map(|w| match &w.event {
            WebhookEvent::Refunded(n) if n.payment_id == capture_id && n.reference.as_deref() == Some("gso_pp") => {
                Some(n.total_refunded_cents)
            }
            _ => None,
        })
        .collect();
    totals.sort();
    assert_eq!(totals, [500, 2_198]);

    let payout = PayoutRequest {
        reference: "wd_pp".into(),
        destination: "seller@example.com".into(),
        amount_cents: 1_500,
        currency: "USD".into(),
        note: Some("Earnings".into()),
    };
    let sent = paypal.payout(&payout).await.unwrap();
    assert_eq!((sent.status, sent.amount_cents), (PayoutStatus::Pending, 1_500));
    assert_eq!(paypal.payout(&payout).await.unwrap().payout_id, sent.payout_id, "a retried request pays once");
    assert_eq!(fake.payouts().len(), 1);
    assert_eq!(paypal.payout_status(&sent.payout_id).await.unwrap().status, PayoutStatus::Paid);
    fake.set_payout_status(&sent.payout_id, "DENIED");
    assert_eq!(paypal.payout_status(&sent.payout_id).await.unwrap().status, PayoutStatus::Failed);
    assert!(matches!(
        paypal.payout(&PayoutRequest { reference: "wd_x".into(), destination: "not-an-email".into(), ..payout }).await,
        Err(PaymentError::Rejected(_))
    ));
    assert!(matches!(paypal.payout_status("NOPE").await, Err(PaymentError::UnknownReference)));
}

#[tokio::test]
async fn webhooks_are_verified_by_the_provider() {
    let (fake, paypal, base) = start_fake().await;
    let order = json!({"id": "ORDER1", "status": "APPROVED", "purchase_units": [{"reference_id": "gso_w", "custom_id": "gso_w", "amount": {"currency_code": "JPY", "value": "500"}}]});
    let (body, headers) = fake.signed_event("CHECKOUT.ORDER.APPROVED", "checkout-order", order);
    let mut h = HeaderMap::new();
    for (name, value) in &headers {
        h.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    let hook = paypal.receive_webhook(&h, &body).await.unwrap();
    assert!(hook.event_id.starts_with("WH-"));
    assert_eq!(hook.event, WebhookEvent::Approved { reference: "gso_w".into(), provider_id: "ORDER1".into() });

    let tampered = String::from_utf8(body.clone()).unwrap().replace("gso_w", "gso_x").into_bytes();
    assert_eq!(paypal.receive_webhook(&h, &tampered).await, Err(WebhookError::BadSignature));
    let mut forged = h.clone();
    forged.insert("paypal-transmission-sig", HeaderValue::from_static("bm90IGEgc2lnbmF0dXJl"));
    assert_eq!(paypal.receive_webhook(&forged, &body).await, Err(WebhookError::BadSignature));
    let other_endpoint = PayPal::new("x", "y", "WH-OTHER").with_base_url(&base);
    assert!(matches!(other_endpoint.receive_webhook(&h, &body).await, Err(WebhookError::Unavailable(_))), "bad credentials: cannot ask");
    assert!(matches!(paypal.receive_webhook(&h, b"[1]").await, Err(WebhookError::Malformed(_))));
    let down = PayPal::new("x", "y", "z").with_base_url("http://127.0.0.1:9");
    assert!(matches!(down.receive_webhook(&h, &body).await, Err(WebhookError::Unavailable(_))), "unreachable: the provider retries later");
}

#[tokio::test]
async fn access_tokens_are_cached_and_renewed() {
    let (fake, paypal, _) = start_fake().await;
    for _ in 0..3 {
        assert!(matches!(paypal.verify("NOPE").await, Err(PaymentError::UnknownReference)));
    }
    assert_eq!(fake.tokens_issued(), 1, "one token for many calls");
    fake.revoke_tokens();
    assert!(matches!(paypal.verify("NOPE").await, Err(PaymentError::UnknownReference)), "a refused token is renewed once");
    assert_eq!(fake.tokens_issued(), 2);
    // A token about to expire (inside the renewal margin) is not reused.
    fake.set_behaviour(Behaviour { token_lifetime_secs: 30, ..Behaviour::default() });
    fake.revoke_tokens();
    paypal.verify("NOPE").await.unwrap_err();
    paypal.verify("NOPE").await.unwrap_err();
    assert_eq!(fake.tokens_issued(), 4, "short-lived tokens are fetched each time");
}
