//! A local PayPal. It speaks the parts of PayPal's REST API this platform
//! uses — `POST /v1/oauth2/token` (client credentials, Basic auth),
//! `POST /v2/checkout/orders`, `GET /v2/checkout/orders/{id}`,
//! `POST /v2/checkout/orders/{id}/capture`,
//! `POST /v2/payments/captures/{id}/refund`, `POST /v1/payments/payouts`,
//! `GET /v1/payments/payouts/{id}` and
//! `POST /v1/notifications/verify-webhook-signature`, with
//! `PayPal-Request-Id` honoured — plus an approval page (`/checkoutnow`)
//! that approves the order, sends `CHECKOUT.ORDER.APPROVED` and returns the
//! buyer to `return_url?token={order id}&PayerID=…`. Captures send
//! `PAYMENT.CAPTURE.COMPLETED`, refunds `PAYMENT.CAPTURE.REFUNDED`.
//!
//! **Signatures differ from PayPal's, the verification path does not.**
//! PayPal signs each delivery with the private key of a certificate it
//! publishes (`SHA256withRSA` over
//! `transmission_id|transmission_time|webhook_id|crc32(body)`), and a
//! merchant asks `verify-webhook-signature` whether a delivery is
//! authentic. This fake signs with an HMAC-SHA256 of its own over
//! `transmission_id|transmission_time|webhook_id|sha256(event)` and its
//! `verify-webhook-signature` checks that HMAC — so the client's real call,
//! headers and answer handling are exercised end to end, and a tampered
//! body, a foreign signature or another webhook id is refused.

use crate::fake::CheckoutBase;
use crate::fake_stripe::checkout_html;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How the fake delivers webhooks and treats tokens.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Copies of each event, delivered concurrently (PayPal retries).
    pub webhook_copies: usize,
    pub send_webhooks: bool,
    /// `expires_in` of issued access tokens, in seconds.
    pub token_lifetime_secs: u64,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour { webhook_copies: 1, send_webhooks: true, token_lifetime_secs: 32_400 }
    }
}

#[derive(Debug, Clone)]
struct Order {
    id: String,
    reference_id: Option<String>,
    custom_id: Option<String>,
    description: Option<String>,
    currency: String,
    value: String,
    return_url: Option<String>,
    cancel_url: Option<String>,
    status: &'static str,
    capture: Option<String>,
    created: String,
}

#[derive(Debug, Clone)]
struct Capture {
    id: String,
    order: String,
    custom_id: Option<String>,
    currency: String,
    /// In ISO minor units.
    amount: i64,
    refunded: i64,
}

impl Capture {
    fn status(&self) -> &'static str {
        match self.refunded {
            0 => "COMPLETED",
            r if r >= self.amount => "REFUNDED",
            _ => "PARTIALLY_REFUNDED",
        }
    }

    fn json(&self, base: &str) -> Value {
        json!({
            "id": self.id, "status": self.status(), "custom_id": self.custom_id, "final_capture": true,
            "amount": {"currency_code": self.currency, "value": money(self.amount, &self.currency)},
            "supplementary_data": {"related_ids": {"order_id": self.order}},
            "links": [{"href": format!("{base}/v2/payments/captures/{}", self.id), "rel": "self", "method": "GET"}],
        })
    }
}

fn money(minor: i64, currency: &str) -> String {
    crate::currency::to_paypal_value(minor, currency)
        .unwrap_or_else(|_| crate::currency::to_decimal(minor, crate::currency::exponent(currency)))
}

#[derive(Default)]
struct Books {
    orders: HashMap<String, Order>,
    captures: HashMap<String, Capture>,
    refunds: Vec<Value>,
    payouts: Vec<Value>,
    payout_status: HashMap<String, String>,
    /// Access token → when it stops working.
    tokens: HashMap<String, std::time::Instant>,
    tokens_issued: usize,
    /// `PayPal-Request-Id` → the first answer.
    idempotent: HashMap<String, (StatusCode, Value)>,
}

struct Inner {
    client_id: String,
    client_secret: String,
    webhook_id: String,
    signing_key: [u8; 32],
    /// Where API links point (`self` links, the refund's `up`).
    api_base: String,
    checkout_base: CheckoutBase,
    webhook_url: Mutex<Option<String>>,
    books: Mutex<Books>,
    behaviour: Mutex<Behaviour>,
    client: reqwest::Client,
}

/// The fake PayPal; cheap to clone, clones share state.
#[derive(Clone)]
pub struct FakePayPal(Arc<Inner>);

impl std::fmt::Debug for FakePayPal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakePayPal").field("api_base", &self.0.api_base).finish_non_exhaustive()
    }
}

fn random_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    (0..len).map(|_| ALPHABET[rand::random::<usize>() % ALPHABET.len()] as char).collect()
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

type ApiResult = Result<(StatusCode, Value), (StatusCode, Value)>;

fn paypal_error(status: StatusCode, name: &str, issue: &str, description: &str) -> (StatusCode, Value) {
    (
        status,
        json!({"name": name, "message": description, "debug_id": random_id(13).to_lowercase(),
               "details": [{"issue": issue, "description": description}]}),
    )
}

fn not_found(what: &str) -> (StatusCode, Value) {
    paypal_error(
        StatusCode::NOT_FOUND,
        "RESOURCE_NOT_FOUND",
        "INVALID_RESOURCE_ID",
        &format!("Specified resource ID {what} does not exist."),
    )
}

fn unprocessable(issue: &str, description: &str) -> (StatusCode, Value) {
    paypal_error(StatusCode::UNPROCESSABLE_ENTITY, "UNPROCESSABLE_ENTITY", issue, description)
}

fn invalid(field: &str, description: &str) -> (StatusCode, Value) {
    paypal_error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", &format!("INVALID_PARAMETER_VALUE: {field}"), description)
}

impl FakePayPal {
    /// `api_base` is where the fake is reachable (for the links it returns).
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        webhook_id: impl Into<String>,
        api_base: impl Into<String>,
        checkout_base: CheckoutBase,
    ) -> Self {
        FakePayPal(Arc::new(Inner {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            webhook_id: webhook_id.into(),
            signing_key: rand::random(),
            api_base: api_base.into().trim_end_matches('/').to_string(),
            checkout_base,
            webhook_url: Mutex::new(None),
            books: Mutex::new(Books::default()),
            behaviour: Mutex::new(Behaviour::default()),
            client: reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().unwrap_or_default(),
        }))
    }

    /// A random client id, secret and webhook id shaped like PayPal's.
    pub fn random_credentials() -> (String, String, String) {
        (format!("A{}", random_id(40)), format!("E{}", random_id(40)), random_id(17))
    }

    /// The API and approval routes, rooted at `/` (nest them under a prefix).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/oauth2/token", post(token))
            .route("/v2/checkout/orders", post(create_order))
            .route("/v2/checkout/orders/{id}", get(get_order))
            .route("/v2/checkout/orders/{id}/capture", post(capture_order))
            .route("/v2/payments/captures/{id}/refund", post(refund_capture))
            .route("/v1/payments/payouts", post(create_payout))
            .route("/v1/payments/payouts/{id}", get(get_payout))
            .route("/v1/notifications/verify-webhook-signature", post(verify_signature))
            .route("/checkoutnow", get(approval_page))
            .route("/checkoutnow/{id}/approve", post(approve_form))
            .route("/checkoutnow/{id}/cancel", post(cancel_form))
            .with_state(self.clone())
    }

    /// Where webhooks go (the merchant's endpoint).
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        *self.0.webhook_url.lock().expect("lock") = Some(url.into());
    }

    pub fn set_behaviour(&self, b: Behaviour) {
        *self.0.behaviour.lock().expect("lock") = b;
    }

    /// How many access tokens were issued so far.
    pub fn tokens_issued(&self) -> usize {
        self.0.books.lock().expect("lock").tokens_issued
    }

    /// Makes every issued access token stop working (as a revocation).
    pub fn revoke_tokens(&self) {
        self.0.books.lock().expect("lock").tokens.clear();
    }

    /// Every refund made, oldest first.
    pub fn refunds(&self) -> Vec<Value> {
        self.0.books.lock().expect("lock").refunds.clone()
    }

    /// Every payout batch created, oldest first.
    pub fn payouts(&self) -> Vec<Value> {
        self.0.books.lock().expect("lock").payouts.clone()
    }

    /// Sets what `GET /v1/payments/payouts/{id}` reports (`SUCCESS` by
    /// default; `DENIED`, `PENDING`, …).
    pub fn set_payout_status(&self, batch_id: &str, status: &str) {
        self.0.books.lock().expect("lock").payout_status.insert(batch_id.into(), status.into());
    }

    /// The order as the API returns it.
    pub fn order(&self, id: &str) -> Option<Value> {
        let books = self.0.books.lock().expect("lock");
        books.orders.get(id).map(|o| self.order_json(o, &books))
    }

    fn order_json(&self, o: &Order, books: &Books) -> Value {
        let base = &self.0.api_base;
        let mut unit = json!({
            "reference_id": o.reference_id, "custom_id": o.custom_id, "description": o.description,
            "amount": {"currency_code": o.currency, "value": o.value},
        });
        if let Some(c) = o.capture.as_ref().and_then(|c| books.captures.get(c)) {
            unit["payments"] = json!({"captures": [c.json(base)]});
        }
        let mut links = vec![json!({"href": format!("{base}/v2/checkout/orders/{}", o.id), "rel": "self", "method": "GET"})];
        if o.status == "PAYER_ACTION_REQUIRED" {
            links.push(json!({"href": self.approval_url(o), "rel": "payer-action", "method": "GET"}));
        }
        json!({"id": o.id, "intent": "CAPTURE", "status": o.status, "purchase_units": [unit], "create_time": o.created, "links": links})
    }

    fn approval_url(&self, o: &Order) -> String {
        match &self.0.checkout_base {
            CheckoutBase::Fixed(base) => format!("{}/checkoutnow?token={}", base.trim_end_matches('/'), o.id),
            CheckoutBase::CallbackOrigin(prefix) => {
                let from = o.return_url.as_deref().unwrap_or_default();
                let origin = reqwest::Url::parse(from).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
                format!("{origin}{prefix}/checkoutnow?token={}", o.id)
            }
        }
    }

    /// The fake's signature over a transmission (see the module docs).
    fn signature(&self, transmission_id: &str, time: &str, webhook_id: &str, event: &Value) -> String {
        let digest = hex::encode(Sha256::digest(serde_json::to_vec(event).expect("json")));
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0.signing_key).expect("any key length");
        mac.update(format!("{transmission_id}|{time}|{webhook_id}|{digest}").as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    /// The body and transmission headers of an event about `resource`, as
    /// the fake would deliver it.
    pub fn signed_event(&self, event_type: &str, resource_type: &str, resource: Value) -> (Vec<u8>, Vec<(&'static str, String)>) {
        let event = json!({
            "id": format!("WH-{}-{}", random_id(17), random_id(17)), "event_version": "1.0", "create_time": now(),
            "resource_type": resource_type, "resource_version": "2.0", "event_type": event_type,
            "summary": format!("{event_type} (test)"), "resource": resource, "links": [],
        });
        let transmission_id = uuid::Uuid::new_v4().to_string();
        let time = now();
        let sig = self.signature(&transmission_id, &time, &self.0.webhook_id, &event);
        let headers = vec![
            ("paypal-transmission-id", transmission_id),
            ("paypal-transmission-time", time),
            ("paypal-transmission-sig", sig),
            ("paypal-cert-url", format!("{}/v1/notifications/certs/CERT-fake", self.0.api_base)),
            ("paypal-auth-algo", "SHA256withRSA".to_string()),
        ];
        (serde_json::to_vec(&event).expect("json"), headers)
    }

    /// Delivers an event per the behaviour (copies share the event id).
    pub async fn deliver(&self, event_type: &str, resource_type: &str, resource: Value) -> Vec<u16> {
        let b = self.0.behaviour.lock().expect("lock").clone();
        let url = self.0.webhook_url.lock().expect("lock").clone();
        let Some(url) = url.filter(|_| b.send_webhooks) else { return vec![] };
        let (body, headers) = self.signed_event(event_type, resource_type, resource);
        crate::fake::post_copies(&self.0.client, &url, &body, &headers, b.webhook_copies).await
    }

    /// The buyer approves the order: `CHECKOUT.ORDER.APPROVED` is sent.
    pub async fn approve(&self, order_id: &str) -> Vec<u16> {
        let order = {
            let mut books = self.0.books.lock().expect("lock");
            let Some(o) = books.orders.get_mut(order_id) else { return vec![] };
            if o.status != "PAYER_ACTION_REQUIRED" {
                return vec![];
            }
            o.status = "APPROVED";
            let o = o.clone();
            self.order_json(&o, &books)
        };
        self.deliver("CHECKOUT.ORDER.APPROVED", "checkout-order", order).await
    }

    fn authorized(&self, headers: &HeaderMap) -> Result<(), (StatusCode, Value)> {
        let token = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        let books = self.0.books.lock().expect("lock");
        match token.and_then(|t| books.tokens.get(t)) {
            Some(until) if std::time::Instant::now() < *until => Ok(()),
            _ => Err((
                StatusCode::UNAUTHORIZED,
                json!({"error": "invalid_token", "error_description": "Token signature verification failed"}),
            )),
        }
    }

    /// Runs a POST once per `PayPal-Request-Id`; repeats get the first answer.
    fn once(&self, headers: &HeaderMap, run: impl FnOnce(&mut Books) -> ApiResult) -> (StatusCode, Value) {
        let key = headers.get("paypal-request-id").and_then(|v| v.to_str().ok()).map(str::to_string);
        let mut books = self.0.books.lock().expect("lock");
        if let Some(answer) = key.as_ref().and_then(|k| books.idempotent.get(k)) {
            return answer.clone();
        }
        let answer = run(&mut books).unwrap_or_else(|e| e);
        if let (Some(k), true) = (key, answer.0.is_success()) {
            books.idempotent.insert(k, answer.clone());
        }
        answer
    }
}

fn reply((status, body): (StatusCode, Value)) -> Response {
    (status, Json(body)).into_response()
}

fn json_body(body: &[u8]) -> Result<Value, (StatusCode, Value)> {
    serde_json::from_slice(body).map_err(|_| {
        paypal_error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", "MALFORMED_REQUEST_JSON", "The request JSON is not well formed.")
    })
}

/// Reads `{currency_code|currency, value}` into ISO minor units.
fn read_money(m: &Value, field: &str) -> Result<(i64, String), (StatusCode, Value)> {
    let currency =
        m["currency_code"].as_str().or_else(|| m["currency"].as_str()).ok_or_else(|| invalid(field, "currency_code is required."))?;
    let value = m["value"].as_str().ok_or_else(|| invalid(field, "value is required."))?;
    let places = crate::currency::paypal_exponent(currency);
    let parsed = crate::currency::from_decimal(value, places).map_err(|_| {
        unprocessable("DECIMAL_PRECISION", &format!("If the currency supports decimals, only {places} decimal places are supported."))
    })?;
    if parsed <= 0 || value.split_once('.').is_some_and(|(_, f)| f.len() as u32 > places) {
        return Err(invalid(field, "The amount must be positive, in the currency's decimal places."));
    }
    let minor = crate::currency::from_paypal_value(value, currency).map_err(|e| invalid(field, &e.to_string()))?;
    Ok((minor, currency.to_string()))
}

async fn token(State(fake): State<FakePayPal>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    if basic != Some(format!("{}:{}", fake.0.client_id, fake.0.client_secret)) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_client", "error_description": "Client Authentication failed"})))
            .into_response();
    }
    if body.as_ref() != b"grant_type=client_credentials" {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"})))
            .into_response();
    }
    let lifetime = fake.0.behaviour.lock().expect("lock").token_lifetime_secs;
    let token = format!("A21AA{}", random_id(60));
    {
        let mut books = fake.0.books.lock().expect("lock");
        books.tokens.insert(token.clone(), std::time::Instant::now() + std::time::Duration::from_secs(lifetime));
        books.tokens_issued += 1;
    }
    Json(json!({
        "scope": "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/payments/refund",
        "access_token": token, "token_type": "Bearer", "app_id": "APP-80W284485P519543T", "expires_in": lifetime,
        "nonce": format!("{}{}", now(), random_id(20)),
    }))
    .into_response()
}

async fn create_order(State(fake): State<FakePayPal>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if let Err(e) = fake.authorized(&headers) {
        return reply(e);
    }
    let b = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return reply(e),
    };
    reply(fake.once(&headers, |books| {
        if b["intent"] != "CAPTURE" {
            return Err(invalid("/intent", "This fake supports intent CAPTURE only."));
        }
        let unit = &b["purchase_units"][0];
        let (minor, currency) = read_money(&unit["amount"], "/purchase_units/0/amount")?;
        let context = &b["payment_source"]["paypal"]["experience_context"];
        let context = if context.is_object() { context } else { &b["application_context"] };
        let order = Order {
            id: random_id(17),
            reference_id: unit["reference_id"].as_str().map(str::to_string),
            custom_id: unit["custom_id"].as_str().map(str::to_string),
            description: unit["description"].as_str().map(str::to_string),
            value: money(minor, &currency),
            currency,
            return_url: context["return_url"].as_str().map(str::to_string),
            cancel_url: context["cancel_url"].as_str().map(str::to_string),
            status: "PAYER_ACTION_REQUIRED",
            capture: None,
            created: now(),
        };
        let json = fake.order_json(&order, books);
        books.orders.insert(order.id.clone(), order);
        Ok((StatusCode::OK, json))
    }))
}

async fn get_order(State(fake): State<FakePayPal>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(e) = fake.authorized(&headers) {
        return reply(e);
    }
    reply(fake.order(&id).map(|o| (StatusCode::OK, o)).unwrap_or_else(|| not_found(&id)))
}

async fn capture_order(State(fake): State<FakePayPal>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(e) = fake.authorized(&headers) {
        return reply(e);
    }
    let mut captured = None;
    let answer = fake.once(&headers, |books| {
        let order = books.orders.get(&id).cloned().ok_or_else(|| not_found(&id))?;
        match order.status {
            "APPROVED" => {}
            "COMPLETED" => return Err(unprocessable("ORDER_ALREADY_CAPTURED", "Order already captured.")),
            _ => return Err(unprocessable("ORDER_NOT_APPROVED", "Payer has not yet approved the Order for payment.")),
        }
        let capture = Capture {
            id: random_id(17),
            order: order.id.clone(),
            custom_id: order.custom_id.clone(),
            amount: crate::currency::from_paypal_value(&order.value, &order.currency).unwrap_or_default(),
            currency: order.currency.clone(),
            refunded: 0,
        };
        captured = Some(capture.json(&fake.0.api_base));
        books.captures.insert(capture.id.clone(), capture.clone());
        let o = books.orders.get_mut(&id).expect("present");
        o.status = "COMPLETED";
        o.capture = Some(capture.id);
        let o = o.clone();
        Ok((StatusCode::CREATED, fake.order_json(&o, books)))
    });
    if let Some(capture) = captured {
        let fake = fake.clone();
        tokio::spawn(async move { fake.deliver("PAYMENT.CAPTURE.COMPLETED", "capture", capture).await });
    }
    reply(answer)
}

async fn refund_capture(State(fake): State<FakePayPal>, headers: HeaderMap, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    if let Err(e) = fake.authorized(&headers) {
        return reply(e);
    }
    let b = if body.is_empty() { Ok(json!({})) } else { json_body(&body) };
    let b = match b {
        Ok(b) => b,
        Err(e) => return reply(e),
    };
    let mut refunded = None;
    let answer = fake.once(&headers, |books| {
        let capture = books.captures.get_mut(&id).ok_or_else(|| not_found(&id))?;
        let left = capture.amount - capture.refunded;
        if left == 0 {
            return Err(unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded."));
        }
        let amount = if b["amount"].is_object() {
            let (amount, currency) = read_money(&b["amount"], "/amount")?;
            if currency != capture.currency {
                return Err(unprocessable("REFUND_CURRENCY_MISMATCH", "Refund must be in the same currency as the capture."));
            }
            amount
        } else {
            left
        };
        if amount > left {
            return Err(unprocessable(
                "REFUND_AMOUNT_EXCEEDED",
                "The refund amount must be less than or equal to the capture amount that has not yet been refunded.",
            ));
        }
        capture.refunded += amount;
        let base = &fake.0.api_base;
        let refund = json!({
            "id": random_id(17), "status": "COMPLETED", "custom_id": capture.custom_id, "note_to_payer": b["note_to_payer"],
            "amount": {"currency_code": capture.currency, "value": money(amount, &capture.currency)},
            "seller_payable_breakdown": {
                "gross_amount": {"currency_code": capture.currency, "value": money(amount, &capture.currency)},
                "total_refunded_amount": {"currency_code": capture.currency, "value": money(capture.refunded, &capture.currency)},
            },
            "create_time": now(),
            "links": [
                {"href": format!("{base}/v2/payments/refunds/{}", capture.id), "rel": "self", "method": "GET"},
                {"href": format!("{base}/v2/payments/captures/{}", capture.id), "rel": "up", "method": "GET"},
            ],
        });
        refunded = Some(refund.clone());
        books.refunds.push(refund.clone());
        Ok((StatusCode::CREATED, refund))
    });
    if let Some(refund) = refunded {
        let fake = fake.clone();
        tokio::spawn(async move { fake.deliver("PAYMENT.CAPTURE.REFUNDED", "refund", refund).await });
    }
    reply(answer)
}

async fn create_payout(State(fake): State<FakePayPal>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if let Err(e) = fake.authorized(&headers) {
        return reply(e);
    }
    let b = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return reply(e),
    };
    reply(fake.once(&headers, |books| {
        let Some(batch) = b["sender_batch_header"]["sender_batch_id"].as_str() else {
            return Err(invalid("/sender_batch_header/sender_batch_id", "sender_batch_id is required."));
        };
        if books.payouts.iter().any(|p| p["batch_header"]["sender_batch_header"]["sender_batch_id"] == batch) {
            return Err(paypal_error(
                StatusCode::BAD_REQUEST,
                "USER_BUSINESS_ERROR",
                "DUPLICATE_REQUEST_ID",
                "Batch with given sender_batch_id already exists",
            ));
        }
        let item = &b["items"][0];
        let (minor, currency) = read_money(&item["amount"], "/items/0/amount")?;
        let receiver = item["receiver"].as_str().unwrap_or_default();
        if !receiver.contains('@') {
            return Err(invalid("/items/0/receiver", "Receiver is invalid or does not match with type"));
        }
        let id = random_id(13);
        let payout = json!({
            "batch_header": {
                "payout_batch_id": id, "batch_status": "PENDING",
                "sender_batch_header": b["sender_batch_header"],
                "amount": {"currency": currency, "value": money(minor, &currency)},
            },
            "items": [{"payout_item_id": random_id(13), "transaction_status": "SUCCESS", "payout_batch_id": id,
                       "payout_item": {"receiver": receiver, "amount": item["amount"], "sender_item_id": item["sender_item_id"], "note": item["note"]}}],
        });
        books.payouts.push(payout.clone());
        let created = json!({"batch_header": {"payout_batch_id": id, "batch_status": "PENDING", "sender_batch_header": b["sender_batch_header"]},
            "links": [{"href": format!("{}/v1/payments/payouts/{id}", fake.0.api_base), "rel": "self", "method": "GET"}]});
        Ok((StatusCode::CREATED, created))
    }))
}

async fn get_payout(State(fake): State<FakePayPal>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(e) = fake.authorized(&headers) {
        return reply(e);
    }
    let books = fake.0.books.lock().expect("lock");
    let Some(mut payout) = books.payouts.iter().find(|p| p["batch_header"]["payout_batch_id"] == id.as_str()).cloned() else {
        return reply(not_found(&id));
    };
    let status = books.payout_status.get(&id).cloned().unwrap_or_else(|| "SUCCESS".into());
    if status == "DENIED" {
        payout["items"][0]["transaction_status"] = json!("FAILED");
    }
    payout["batch_header"]["batch_status"] = json!(status);
    reply((StatusCode::OK, payout))
}

async fn verify_signature(State(fake): State<FakePayPal>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if let Err(e) = fake.authorized(&headers) {
        return reply(e);
    }
    let b = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return reply(e),
    };
    let field = |k: &str| b[k].as_str().unwrap_or_default().to_string();
    for k in ["auth_algo", "cert_url", "transmission_id", "transmission_sig", "transmission_time", "webhook_id"] {
        if field(k).is_empty() || !b["webhook_event"].is_object() {
            return reply(invalid(&format!("/{k}"), "All transmission fields and webhook_event are required."));
        }
    }
    let expected = fake.signature(&field("transmission_id"), &field("transmission_time"), &field("webhook_id"), &b["webhook_event"]);
    let ok = field("webhook_id") == fake.0.webhook_id
        && field("auth_algo") == "SHA256withRSA"
        && bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), field("transmission_sig").as_bytes()));
    Json(json!({"verification_status": if ok { "SUCCESS" } else { "FAILURE" }})).into_response()
}

#[derive(Deserialize)]
struct TokenQuery {
    token: String,
}

async fn approval_page(State(fake): State<FakePayPal>, Query(q): Query<TokenQuery>) -> Response {
    let Some(o) = fake.0.books.lock().expect("lock").orders.get(&q.token).cloned() else {
        return (StatusCode::NOT_FOUND, "Unknown order").into_response();
    };
    let amount = format!("{} {}", o.currency, o.value);
    let actions = if o.status == "PAYER_ACTION_REQUIRED" {
        format!(
            r#"<form method="post" action="checkoutnow/{id}/approve"><button id="pay" type="submit">Pay with PayPal</button></form>
<form method="post" action="checkoutnow/{id}/cancel"><button id="cancel" type="submit" class="secondary">Cancel and return</button></form>"#,
            id = crate::html_escape(&o.id),
        )
    } else {
        "<p>This order is no longer waiting for approval.</p>".to_string()
    };
    let lines: Vec<String> = o.description.iter().cloned().chain(std::iter::once(format!("Order {}", o.id))).collect();
    checkout_html("PayPal", &amount, &lines, &actions).into_response()
}

fn back(url: Option<&str>, order: &str) -> Response {
    let Some(url) = url else { return (StatusCode::OK, "Done. You may close this page.").into_response() };
    Redirect::to(&crate::with_query(url, &[("token", order), ("PayerID", "FAKEPAYER1")])).into_response()
}

async fn approve_form(State(fake): State<FakePayPal>, Path(id): Path<String>) -> Response {
    let Some(o) = fake.0.books.lock().expect("lock").orders.get(&id).cloned() else {
        return (StatusCode::NOT_FOUND, "Unknown order").into_response();
    };
    fake.approve(&id).await;
    back(o.return_url.as_deref(), &id)
}

async fn cancel_form(State(fake): State<FakePayPal>, Path(id): Path<String>) -> Response {
    let Some(o) = fake.0.books.lock().expect("lock").orders.get(&id).cloned() else {
        return (StatusCode::NOT_FOUND, "Unknown order").into_response();
    };
    back(o.cancel_url.as_deref(), &id)
}
