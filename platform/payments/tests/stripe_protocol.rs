//! The Stripe client against Stripe's documented wire format (a tiny local
//! server answering with the documentation's example objects), webhook
//! verification, and a full round trip through the fake Stripe: checkout
//! page, signed webhooks, refunds and transfers.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use platform_kernel::payment::ChargeStatus;
use platform_payments::fake::CheckoutBase;
use platform_payments::fake_stripe::FakeStripe;
use platform_payments::{
    CheckoutRequest, Gateway, PaymentError, PaymentProvider, PayoutRequest, PayoutStatus, Payouts, RefundRequest, RefundStatus, Refunds,
    Stripe, StripeSignature, Webhook, WebhookError, WebhookEvent,
};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// (path, authorization, idempotency key, form pairs)
type Seen = Arc<Mutex<Vec<(String, Option<String>, Option<String>, Vec<(String, String)>)>>>;

fn record(seen: &Seen, path: &str, h: &HeaderMap, body: &[u8]) {
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    let form = serde_urlencoded::from_bytes(body).unwrap();
    seen.lock().unwrap().push((path.into(), get("authorization"), get("idempotency-key"), form));
}

/// Answers like api.stripe.com, with example objects from its API reference.
fn documented_stripe(seen: Seen) -> Router {
    async fn create(State(seen): State<Seen>, h: HeaderMap, body: axum::body::Bytes) -> Json<Value> {
        record(&seen, "/v1/checkout/sessions", &h, &body);
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap();
        let reference = form.iter().find(|(k, _)| k == "client_reference_id").unwrap().1.clone();
        Json(json!({
            "id": "cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u", "object": "checkout.session",
            "amount_subtotal": 2198, "amount_total": 2198, "client_reference_id": reference, "currency": "usd",
            "metadata": {"reference": reference}, "mode": "payment", "payment_intent": null, "payment_status": "unpaid",
            "status": "open", "success_url": "https://example.com/success",
            "url": "https://checkout.stripe.com/c/pay/cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u"
        }))
    }
    async fn session(Path(id): Path<String>) -> (StatusCode, Json<Value>) {
        if id == "cs_missing" {
            return (
                StatusCode::NOT_FOUND,
                Json(json!({"error": {"code": "resource_missing", "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
                    "message": "No such checkout.session: 'cs_missing'", "param": "session", "type": "invalid_request_error"}})),
            );
        }
        (
            StatusCode::OK,
            Json(json!({"id": id, "object": "checkout.session", "amount_total": 2198, "currency": "usd",
                "client_reference_id": "gso_1", "payment_intent": "pi_3MtwBwLkdIwHu7ix28a3tqPa", "payment_status": "paid", "status": "complete"})),
        )
    }
    async fn intent(Path(id): Path<String>) -> Json<Value> {
        Json(json!({"id": id, "object": "payment_intent", "amount": 2000, "amount_received": 0, "currency": "usd",
            "metadata": {"reference": "gso_2"}, "status": "requires_payment_method",
            "last_payment_error": {"code": "card_declined", "message": "Your card was declined.", "type": "card_error"}}))
    }
    async fn refund(State(seen): State<Seen>, h: HeaderMap, body: axum::body::Bytes) -> (StatusCode, Json<Value>) {
        record(&seen, "/v1/refunds", &h, &body);
        if String::from_utf8_lossy(&body).contains("amount=999999") {
            return (
                StatusCode::BAD_REQUEST,
                Json(
                    json!({"error": {"code": "amount_too_large", "message": "Refund amount ($9,999.99) is greater than charge amount ($21.98)", "param": "amount", "type": "invalid_request_error"}}),
                ),
            );
        }
        (
            StatusCode::OK,
            Json(json!({"id": "re_1Nispe2eZvKYlo2Cd31jOCgZ", "object": "refund", "amount": 1000, "charge": "ch_1NirD82eZvKYlo2CIvbtLWuY",
            "created": 1692942318, "currency": "usd", "metadata": {}, "payment_intent": "pi_3MtwBwLkdIwHu7ix28a3tqPa", "reason": null, "status": "succeeded"})),
        )
    }
    async fn transfer(State(seen): State<Seen>, h: HeaderMap, body: axum::body::Bytes) -> Json<Value> {
        record(&seen, "/v1/transfers", &h, &body);
        Json(json!({"id": "tr_1MiN3gLkdIwHu7ixNCZvFdgA", "object": "transfer", "amount": 400, "amount_reversed": 0, "currency": "usd",
            "destination": "acct_1MTfjCQ9PRzxEwkZ", "metadata": {"reference": "wd_1"}, "reversed": false, "transfer_group": "wd_1"}))
    }
    Router::new()
        .route("/v1/checkout/sessions", post(create))
        .route("/v1/checkout/sessions/{id}", get(session))
        .route("/v1/payment_intents/{id}", get(intent))
        .route("/v1/refunds", post(refund))
        .route("/v1/transfers", post(transfer))
        .with_state(seen)
}

fn request(reference: &str) -> CheckoutRequest {
    CheckoutRequest {
        reference: reference.into(),
        email: "buyer@example.com".into(),
        amount_cents: 2198,
        currency: "USD".into(),
        callback_url: "http://shop.test/orders/return".into(),
        cancel_url: None,
        description: Some("Logo design, standard package".into()),
        metadata: json!({"order_id": "o-1", "gig": 7, "nested": {"ignored": true}}),
    }
}

fn form_value<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn client_speaks_the_documented_protocol() {
    let seen: Seen = Arc::default();
    let base = serve(documented_stripe(seen.clone())).await;
    let stripe = Stripe::new("sk_test_4eC39HqLyjWDarjtT1zdp7dc", "whsec_x").with_base_url(format!("{base}/"));

    let checkout = stripe.initialize(&request("gso_1")).await.unwrap();
    assert_eq!(checkout.provider_id, "cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u");
    assert!(checkout.authorization_url.starts_with("https://checkout.stripe.com/c/pay/cs_test_"));
    assert_eq!(stripe.checkout_origin(), Some(base.clone()), "a non-default base serves its own pages");
    assert_eq!(Stripe::new("k", "w").checkout_origin().as_deref(), Some("https://checkout.stripe.com"));

    let paid = stripe.verify(&checkout.provider_id).await.unwrap();
    assert_eq!(
        (paid.reference.as_str(), paid.status, paid.amount_cents, paid.currency.as_str()),
        ("gso_1", ChargeStatus::Success, 2198, "USD")
    );
    assert_eq!(paid.payment_id.as_deref(), Some("pi_3MtwBwLkdIwHu7ix28a3tqPa"));
    let declined = stripe.verify("pi_3MtwBwLkdIwHu7ix28a3tqPa").await.unwrap();
    assert_eq!((declined.reference.as_str(), declined.status), ("gso_2", ChargeStatus::Failed));
    assert_eq!(declined.gateway_response.as_deref(), Some("Your card was declined."));
    assert!(matches!(stripe.verify("cs_missing").await, Err(PaymentError::UnknownReference)));

    let refund = RefundRequest {
        payment_id: "pi_3MtwBwLkdIwHu7ix28a3tqPa".into(),
        amount_cents: Some(1000),
        currency: "USD".into(),
        idempotency_key: "refund-o-1-1".into(),
        reason: Some("late delivery".into()),
    };
    let r = stripe.refund(&refund).await.unwrap();
    assert_eq!(
        (r.refund_id.as_str(), r.status, r.amount_cents, r.currency.as_str()),
        ("re_1Nispe2eZvKYlo2Cd31jOCgZ", RefundStatus::Succeeded, 1000, "USD")
    );
    let too_much = RefundRequest { amount_cents: Some(999_999), ..refund.clone() };
    assert!(matches!(stripe.refund(&too_much).await, Err(PaymentError::Rejected(m)) if m.contains("greater than")));
    let full = RefundRequest { amount_cents: None, ..refund };
    stripe.refund(&full).await.unwrap();

    let payout = stripe
        .payout(&PayoutRequest {
            reference: "wd_1".into(),
            destination: "acct_1MTfjCQ9PRzxEwkZ".into(),
            amount_cents: 400,
            currency: "USD".into(),
            note: Some("Earnings".into()),
        })
        .await
        .unwrap();
    assert_eq!(
        (payout.payout_id.as_str(), payout.status, payout.reference.as_str()),
        ("tr_1MiN3gLkdIwHu7ixNCZvFdgA", PayoutStatus::Paid, "wd_1")
    );

    let seen = seen.lock().unwrap();
    assert!(seen.iter().all(|(_, auth, _, _)| auth.as_deref() == Some("Bearer sk_test_4eC39HqLyjWDarjtT1zdp7dc")));
    let (_, _, key, form) = &seen[0];
    assert_eq!(key.as_deref(), Some("checkout-gso_1"));
    for (k, v) in [
        ("mode", "payment"),
        ("line_items[0][quantity]", "1"),
        ("line_items[0][price_data][currency]", "usd"),
        ("line_items[0][price_data][unit_amount]", "2198"),
        ("line_items[0][price_data][product_data][name]", "Logo design, standard package"),
        ("client_reference_id", "gso_1"),
        ("metadata[reference]", "gso_1"),
        ("payment_intent_data[metadata][reference]", "gso_1"),
        ("metadata[order_id]", "o-1"),
        ("metadata[gig]", "7"),
        ("customer_email", "buyer@example.com"),
        ("success_url", "http://shop.test/orders/return?reference=gso_1"),
        ("cancel_url", "http://shop.test/orders/return?reference=gso_1&cancelled=1"),
    ] {
        assert_eq!(form_value(form, k), Some(v), "{k}");
    }
    assert_eq!(form_value(form, "metadata[nested]"), None, "metadata holds strings only");
    let (_, _, key, form) = &seen[1];
    assert_eq!(key.as_deref(), Some("refund-o-1-1"), "the caller's idempotency key");
    assert_eq!(form_value(form, "payment_intent"), Some("pi_3MtwBwLkdIwHu7ix28a3tqPa"));
    assert_eq!(form_value(form, "amount"), Some("1000"));
    let (_, _, _, form) = &seen[3];
    assert_eq!(form_value(form, "amount"), None, "a full refund names no amount");
    let (_, _, key, form) = &seen[4];
    assert_eq!(key.as_deref(), Some("payout-wd_1"));
    for (k, v) in [("amount", "400"), ("currency", "usd"), ("destination", "acct_1MTfjCQ9PRzxEwkZ"), ("metadata[reference]", "wd_1")] {
        assert_eq!(form_value(form, k), Some(v), "{k}");
    }
    assert!(!format!("{stripe:?}").contains("sk_test_4eC39"), "the key never reaches Debug output");
}

fn signed(secret: &str, t: i64, body: &[u8]) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("stripe-signature", HeaderValue::from_str(&StripeSignature::new(secret).sign(t, body)).unwrap());
    h
}

#[tokio::test]
async fn webhooks_are_verified_then_read() {
    const T: i64 = 1_700_000_000;
    let stripe = Stripe::new("sk_test_x", "whsec_endpoint").with_clock(|| T + 60);
    // Shaped as in https://docs.stripe.com/api/events/object and the
    // checkout.session object reference.
    let body = br#"{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","api_version":"2022-11-15","created":1686089970,"data":{"object":{"id":"cs_test_a1Y","object":"checkout.session","amount_subtotal":2198,"amount_total":2198,"client_reference_id":"gso_9","currency":"eur","customer_details":{"email":"buyer@example.com"},"metadata":{"reference":"gso_9"},"mode":"payment","payment_intent":"pi_3NG8","payment_status":"paid","status":"complete"}},"livemode":false,"pending_webhooks":0,"request":{"id":null,"idempotency_key":null},"type":"checkout.session.completed"}"#;
    let hook = stripe.receive_webhook(&signed("whsec_endpoint", T, body), body).await.unwrap();
    assert_eq!(hook.event_id, "evt_1NG8Du2eZvKYlo2CUI79vXWy");
    assert_eq!(hook.event_type, "checkout.session.completed");
    let WebhookEvent::Charge(r) = hook.event else { panic!("{hook:?}") };
    assert_eq!((r.reference.as_str(), r.status, r.amount_cents, r.currency.as_str()), ("gso_9", ChargeStatus::Success, 2198, "EUR"));
    assert_eq!((r.provider_id.as_str(), r.payment_id.as_deref()), ("cs_test_a1Y", Some("pi_3NG8")));

    assert_eq!(stripe.receive_webhook(&signed("whsec_other", T, body), body).await, Err(WebhookError::BadSignature));
    assert_eq!(stripe.receive_webhook(&HeaderMap::new(), body).await, Err(WebhookError::BadSignature));
    assert_eq!(stripe.receive_webhook(&signed("whsec_endpoint", T - 241, body), body).await, Err(WebhookError::Stale { age_secs: 301 }));
    let wide = stripe.clone().with_tolerance_secs(600);
    assert!(wide.receive_webhook(&signed("whsec_endpoint", T - 241, body), body).await.is_ok());

    let event = |t: &str, o: Value| serde_json::to_vec(&json!({"id": "evt_2", "type": t, "data": {"object": o}})).unwrap();
    let read = |b: Vec<u8>| {
        let s = stripe.clone();
        async move { s.receive_webhook(&signed("whsec_endpoint", T, &b), &b).await }
    };
    let failed = read(event(
        "payment_intent.payment_failed",
        json!({"id": "pi_1", "object": "payment_intent", "amount": 500, "currency": "usd", "status": "requires_payment_method",
               "metadata": {"reference": "gso_3"}, "last_payment_error": {"message": "Your card has insufficient funds."}}),
    ))
    .await
    .unwrap();
    assert!(
        matches!(&failed.event, WebhookEvent::Charge(r) if r.status == ChargeStatus::Failed && r.reference == "gso_3" && r.gateway_response.as_deref() == Some("Your card has insufficient funds.")),
        "{failed:?}"
    );
    let succeeded = read(event(
        "payment_intent.succeeded",
        json!({"id": "pi_2", "amount": 500, "amount_received": 500, "currency": "usd", "status": "succeeded", "metadata": {"reference": "gso_4"}}),
    ))
    .await
    .unwrap();
    assert!(matches!(&succeeded.event, WebhookEvent::Charge(r) if r.status == ChargeStatus::Success && r.provider_id == "pi_2"));
    let refunded = read(event(
        "charge.refunded",
        json!({"id": "ch_1", "object": "charge", "amount": 500, "amount_refunded": 200, "currency": "usd", "payment_intent": "pi_2",
               "refunded": false, "metadata": {"reference": "gso_4"}}),
    ))
    .await
    .unwrap();
    let WebhookEvent::Refunded(n) = refunded.event else { panic!() };
    assert_eq!((n.payment_id.as_str(), n.total_refunded_cents, n.reference.as_deref()), ("pi_2", 200, Some("gso_4")));
    // A payment this platform did not open, and events it does not act on.
    let foreign = read(event(
        "payment_intent.succeeded",
        json!({"id": "pi_9", "amount": 1, "currency": "usd", "status": "succeeded", "metadata": {}}),
    ));
    assert_eq!(foreign.await.unwrap().event, WebhookEvent::Other);
    assert_eq!(read(event("customer.created", json!({"id": "cus_1"}))).await.unwrap().event, WebhookEvent::Other);
    assert!(matches!(
        read(event("checkout.session.completed", json!({"id": "cs_1", "client_reference_id": "x"}))).await,
        Err(WebhookError::Malformed(_))
    ));
    assert!(matches!(read(b"{}".to_vec()).await, Err(WebhookError::Malformed(_))));
}

type Deliveries = Arc<Mutex<Vec<Webhook>>>;

/// A merchant endpoint that verifies each delivery with the client.
async fn merchant(stripe: Stripe) -> (String, Deliveries) {
    let got: Deliveries = Arc::default();
    let hook = Router::new()
        .route(
            "/hook",
            post(|State((stripe, got)): State<(Stripe, Deliveries)>, h: HeaderMap, body: axum::body::Bytes| async move {
                match stripe.receive_webhook(&h, &body).await {
                    Ok(w) => {
                        got.lock().unwrap().push(w);
                        StatusCode::OK
                    }
                    Err(_) => StatusCode::UNAUTHORIZED,
                }
            }),
        )
        .with_state((stripe, got.clone()));
    (format!("{}/hook", serve(hook).await), got)
}

#[tokio::test]
async fn fake_round_trip_checkout_webhooks_refunds_transfers() {
    let (sk, whsec) = FakeStripe::random_keys();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let fake = FakeStripe::new(sk.clone(), whsec.clone(), CheckoutBase::Fixed(base.clone()));
    let app = fake.router();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let stripe = Stripe::new(sk.clone(), whsec.clone()).with_base_url(base.clone());
    let (hook_url, got) = merchant(stripe.clone()).await;
    fake.set_webhook_url(hook_url);
    let gateway: Arc<dyn Gateway> = Arc::new(stripe.clone());

    assert!(matches!(
        Stripe::new("sk_test_wrong", "w").with_base_url(base.clone()).initialize(&request("r0")).await,
        Err(PaymentError::Rejected(_))
    ));
    let checkout = gateway.initialize(&request("gso_round")).await.unwrap();
    assert!(checkout.authorization_url.starts_with(&format!("{base}/c/pay/cs_test_")), "{}", checkout.authorization_url);
    assert_eq!(gateway.verify(&checkout.provider_id).await.unwrap().status, ChargeStatus::Pending, "open and unpaid");
    let again = gateway.initialize(&request("gso_round")).await.unwrap();
    assert_eq!(again.provider_id, checkout.provider_id, "the idempotency key returns the first session");

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = http.get(&checkout.authorization_url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Pay USD 21.98") && page.contains("Logo design"), "{page}");
    let cancel = http.post(format!("{}/cancel", checkout.authorization_url)).send().await.unwrap();
    assert_eq!(cancel.headers()["location"], "http://shop.test/orders/return?reference=gso_round&cancelled=1");
    assert!(got.lock().unwrap().is_empty(), "cancelling sends nothing");
    let back = http.post(format!("{}/pay", checkout.authorization_url)).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(back.headers()["location"], "http://shop.test/orders/return?reference=gso_round");

    let events: Vec<Webhook> = got.lock().unwrap().clone();
    let types: Vec<&str> = events.iter().map(|w| w.event_type.as_str()).collect();
    assert_eq!(types, ["checkout.session.completed", "payment_intent.succeeded"]);
    let WebhookEvent::Charge(report) = &events[0].event else { panic!() };
    assert_eq!((report.reference.as_str(), report.status, report.amount_cents), ("gso_round", ChargeStatus::Success, 2198));
    let payment_id = report.payment_id.clone().expect("the PaymentIntent");
    let verified = gateway.capture(&checkout.provider_id).await.unwrap();
    assert_eq!((verified.status, verified.payment_id.as_deref()), (ChargeStatus::Success, Some(payment_id.as_str())));

    // Partial, a retried partial (same key), the rest, then nothing left.
    let partial = RefundRequest {
        payment_id: payment_id.clone(),
        amount_cents: Some(500),
        currency: "USD".into(),
        idempotency_key: "rf-1".into(),
        reason: None,
    };
    let first = gateway.refund(&partial).await.unwrap();
    let retried = gateway.refund(&partial).await.unwrap();
    assert_eq!(first.refund_id, retried.refund_id, "a retried request refunds once");
    assert!(matches!(
        gateway.refund(&RefundRequest { amount_cents: Some(1699), idempotency_key: "rf-2".into(), ..partial.clone() }).await,
        Err(PaymentError::Rejected(m)) if m.contains("greater than unrefunded")
    ));
    let rest = gateway.refund(&RefundRequest { amount_cents: None, idempotency_key: "rf-3".into(), ..partial.clone() }).await.unwrap();
    assert_eq!((rest.amount_cents, rest.status), (1698, RefundStatus::Succeeded));
    assert!(matches!(
        gateway.refund(&RefundRequest { amount_cents: Some(1), idempotency_key: "rf-4".into(), ..partial.clone() }).await,
        Err(PaymentError::Rejected(m)) if m.contains("already been refunded")
    ));
    assert_eq!(fake.refunds().iter().map(|r| r["amount"].as_i64().unwrap()).collect::<Vec<_>>(), [500, 1698]);
    // Each refund sends charge.refunded with the running total.
    for _ in 0..100 {
        if got.lock().unwrap().len() == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut totals: Vec<i64> = got
        .lock()
        .unwrap()
        .iter()
        .filter_map(|w| match &w.event {
            WebhookEvent::Refunded(n) if n.payment_id == payment_id => Some(n.total_refunded_cents),
            _ => None,
        })
        .collect();
    totals.sort();
    assert_eq!(totals, [500, 2198]);

    let payout = PayoutRequest {
        reference: "wd_7".into(),
        destination: "acct_1Seller".into(),
        amount_cents: 1500,
        currency: "USD".into(),
        note: None,
    };
    let paid = gateway.payout(&payout).await.unwrap();
    assert_eq!((paid.status, paid.amount_cents, paid.reference.as_str()), (PayoutStatus::Paid, 1500, "wd_7"));
    assert_eq!(gateway.payout(&payout).await.unwrap().payout_id, paid.payout_id, "one transfer per reference");
    assert_eq!(gateway.payout_status(&paid.payout_id).await.unwrap(), paid);
    assert_eq!(fake.transfers().len(), 1);
    assert!(matches!(
        gateway.payout(&PayoutRequest { reference: "wd_8".into(), destination: "someone@example.com".into(), ..payout }).await,
        Err(PaymentError::Rejected(m)) if m.contains("No such destination")
    ));
}

#[tokio::test]
async fn fake_declines_and_copies_are_one_event() {
    let (sk, whsec) = FakeStripe::random_keys();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let fake = FakeStripe::new(sk.clone(), whsec.clone(), CheckoutBase::Fixed(base.clone()));
    let app = fake.router();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let stripe = Stripe::new(sk, whsec).with_base_url(base);
    let (hook_url, got) = merchant(stripe.clone()).await;
    fake.set_webhook_url(hook_url);
    fake.set_behaviour(platform_payments::fake_stripe::Behaviour { webhook_copies: 5, send_webhooks: true });

    let checkout = stripe.initialize(&request("gso_decline")).await.unwrap();
    assert_eq!(fake.decline(&checkout.provider_id, "Your card was declined.").await, [200; 5]);
    let events = got.lock().unwrap().clone();
    assert!(events.iter().all(|w| w.event_id == events[0].event_id), "copies share the event id");
    assert!(matches!(&events[0].event, WebhookEvent::Charge(r) if r.status == ChargeStatus::Failed && r.reference == "gso_decline"));
    assert_eq!(stripe.verify(&checkout.provider_id).await.unwrap().status, ChargeStatus::Pending, "the session stays open");
    assert_eq!(fake.expire(&checkout.provider_id).await, [200; 5]);
    assert_eq!(stripe.verify(&checkout.provider_id).await.unwrap().status, ChargeStatus::Abandoned);
    // A body the fake did not sign is refused at the merchant.
    let forged = FakeStripe::event_body("checkout.session.completed", fake.session(&checkout.provider_id).unwrap());
    let mut h = HeaderMap::new();
    h.insert(
        "stripe-signature",
        HeaderValue::from_str(&StripeSignature::new("whsec_guess").sign(chrono::Utc::now().timestamp(), &forged)).unwrap(),
    );
    assert_eq!(stripe.receive_webhook(&h, &forged).await, Err(WebhookError::BadSignature));
}
