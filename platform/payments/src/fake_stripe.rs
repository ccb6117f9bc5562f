//! A local Stripe. It speaks the parts of Stripe's API this platform uses —
//! `POST /v1/checkout/sessions`, `GET /v1/checkout/sessions/{id}`,
//! `GET /v1/payment_intents/{id}`, `POST /v1/refunds`, `POST /v1/transfers`
//! and `GET /v1/transfers/{id}`, form-encoded, behind the secret key, with
//! `Idempotency-Key` honoured — and hosts a checkout page (`/c/pay/{id}`)
//! whose Pay button completes the session, sends `checkout.session.completed`
//! and `payment_intent.succeeded` to the configured webhook URL signed with
//! the endpoint secret exactly as Stripe signs (`Stripe-Signature`), and
//! redirects to the session's `success_url`. Refunds send `charge.refunded`.
//! Refunds and transfers are recorded for tests and demos to read.

use crate::fake::CheckoutBase;
use crate::StripeSignature;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How the fake delivers webhooks.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Copies of each event, delivered concurrently (Stripe retries).
    pub webhook_copies: usize,
    pub send_webhooks: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour { webhook_copies: 1, send_webhooks: true }
    }
}

#[derive(Debug, Clone)]
struct Session {
    id: String,
    reference: Option<String>,
    amount: i64,
    currency: String,
    name: String,
    email: Option<String>,
    success_url: String,
    cancel_url: Option<String>,
    metadata: Map<String, Value>,
    intent_metadata: Map<String, Value>,
    status: &'static str,
    payment_status: &'static str,
    payment_intent: Option<String>,
    created: i64,
    url: String,
}

impl Session {
    fn json(&self) -> Value {
        json!({
            "id": self.id, "object": "checkout.session", "mode": "payment", "livemode": false,
            "amount_subtotal": self.amount, "amount_total": self.amount, "currency": self.currency,
            "client_reference_id": self.reference, "customer_email": self.email,
            "customer_details": self.email.as_ref().map(|e| json!({"email": e})),
            "metadata": self.metadata, "payment_intent": self.payment_intent,
            "payment_status": self.payment_status, "status": self.status,
            "success_url": self.success_url, "cancel_url": self.cancel_url,
            "url": if self.status == "open" { Value::String(self.url.clone()) } else { Value::Null },
            "created": self.created, "expires_at": self.created + 86_400,
        })
    }
}

#[derive(Debug, Clone)]
struct Intent {
    id: String,
    charge: String,
    amount: i64,
    currency: String,
    status: &'static str,
    metadata: Map<String, Value>,
    failure: Option<String>,
    refunded: i64,
    refunds: Vec<Value>,
    created: i64,
}

impl Intent {
    fn json(&self) -> Value {
        json!({
            "id": self.id, "object": "payment_intent", "livemode": false, "amount": self.amount,
            "amount_received": if self.status == "succeeded" { self.amount } else { 0 },
            "currency": self.currency, "status": self.status, "metadata": self.metadata,
            "latest_charge": self.charge, "created": self.created,
            "last_payment_error": self.failure.as_ref().map(|m| json!({"type": "card_error", "code": "card_declined", "message": m})),
        })
    }

    fn charge_json(&self) -> Value {
        json!({
            "id": self.charge, "object": "charge", "amount": self.amount, "amount_captured": self.amount,
            "amount_refunded": self.refunded, "refunded": self.refunded >= self.amount, "currency": self.currency,
            "payment_intent": self.id, "metadata": self.metadata, "status": "succeeded", "paid": true,
            "refunds": {"object": "list", "data": self.refunds.iter().rev().cloned().collect::<Vec<_>>()},
        })
    }
}

#[derive(Default)]
struct Books {
    sessions: HashMap<String, Session>,
    intents: HashMap<String, Intent>,
    refunds: Vec<Value>,
    transfers: Vec<Value>,
    /// `Idempotency-Key` → the first answer, replayed for repeats.
    idempotent: HashMap<String, (StatusCode, Value)>,
}

struct Inner {
    secret_key: String,
    signature: StripeSignature,
    checkout_base: CheckoutBase,
    webhook_url: Mutex<Option<String>>,
    books: Mutex<Books>,
    behaviour: Mutex<Behaviour>,
    client: reqwest::Client,
}

/// The fake Stripe; cheap to clone, clones share state.
#[derive(Clone)]
pub struct FakeStripe(Arc<Inner>);

impl std::fmt::Debug for FakeStripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeStripe").field("checkout_base", &self.0.checkout_base).finish_non_exhaustive()
    }
}

fn random_id(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(rand::random::<[u8; 12]>()))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

type ApiResult = Result<(StatusCode, Value), (StatusCode, Value)>;

fn stripe_error(status: StatusCode, code: &str, message: &str, param: Option<&str>) -> (StatusCode, Value) {
    (status, json!({"error": {"type": "invalid_request_error", "code": code, "message": message, "param": param}}))
}

fn missing(id: &str) -> (StatusCode, Value) {
    stripe_error(StatusCode::NOT_FOUND, "resource_missing", &format!("No such object: '{id}'"), Some("id"))
}

/// Form fields as Stripe receives them (`a[b][c]=v`), looked up by full key.
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &[u8]) -> Result<Form, (StatusCode, Value)> {
        serde_urlencoded::from_bytes(body)
            .map(Form)
            .map_err(|_| stripe_error(StatusCode::BAD_REQUEST, "parameter_invalid", "Invalid form body", None))
    }
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    fn required(&self, key: &str) -> Result<&str, (StatusCode, Value)> {
        self.get(key).ok_or_else(|| {
            stripe_error(StatusCode::BAD_REQUEST, "parameter_missing", &format!("Missing required param: {key}."), Some(key))
        })
    }
    fn amount(&self, key: &str) -> Result<i64, (StatusCode, Value)> {
        self.required(key)?.parse::<i64>().ok().filter(|a| *a > 0).ok_or_else(|| {
            stripe_error(StatusCode::BAD_REQUEST, "parameter_invalid_integer", &format!("Invalid positive integer: {key}"), Some(key))
        })
    }
    /// `prefix[key]=value` pairs as a metadata object.
    fn map(&self, prefix: &str) -> Map<String, Value> {
        self.0
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(prefix)?.strip_prefix('[')?.strip_suffix(']').map(|k| (k.to_string(), Value::String(v.clone())))
            })
            .collect()
    }
}

impl FakeStripe {
    /// `secret_key` is what API calls must present; `webhook_secret` signs
    /// webhooks.
    pub fn new(secret_key: impl Into<String>, webhook_secret: impl Into<String>, checkout_base: CheckoutBase) -> Self {
        FakeStripe(Arc::new(Inner {
            secret_key: secret_key.into(),
            signature: StripeSignature::new(webhook_secret),
            checkout_base,
            webhook_url: Mutex::new(None),
            books: Mutex::new(Books::default()),
            behaviour: Mutex::new(Behaviour::default()),
            client: reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().unwrap_or_default(),
        }))
    }

    /// A random secret key and endpoint secret shaped like Stripe's test ones.
    pub fn random_keys() -> (String, String) {
        (random_id("sk_test_"), random_id("whsec_"))
    }

    /// The API and checkout routes, rooted at `/` (nest them under a prefix).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/checkout/sessions", post(create_session))
            .route("/v1/checkout/sessions/{id}", get(get_session))
            .route("/v1/payment_intents/{id}", get(get_intent))
            .route("/v1/refunds", post(create_refund))
            .route("/v1/transfers", post(create_transfer))
            .route("/v1/transfers/{id}", get(get_transfer))
            .route("/c/pay/{id}", get(checkout_page))
            .route("/c/pay/{id}/pay", post(pay_form))
            .route("/c/pay/{id}/cancel", post(cancel_form))
            .with_state(self.clone())
    }

    /// Where webhooks go (the merchant's endpoint).
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        *self.0.webhook_url.lock().expect("lock") = Some(url.into());
    }

    pub fn set_behaviour(&self, b: Behaviour) {
        *self.0.behaviour.lock().expect("lock") = b;
    }

    /// Signs a body as Stripe would at `timestamp` (the header value).
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        self.0.signature.sign(timestamp, body)
    }

    /// A session as the API returns it.
    pub fn session(&self, id: &str) -> Option<Value> {
        self.0.books.lock().expect("lock").sessions.get(id).map(Session::json)
    }

    /// The session opened with our `reference`.
    pub fn session_for(&self, reference: &str) -> Option<Value> {
        let books = self.0.books.lock().expect("lock");
        books.sessions.values().find(|s| s.reference.as_deref() == Some(reference)).map(Session::json)
    }

    /// Every refund made, oldest first.
    pub fn refunds(&self) -> Vec<Value> {
        self.0.books.lock().expect("lock").refunds.clone()
    }

    /// Every transfer made, oldest first.
    pub fn transfers(&self) -> Vec<Value> {
        self.0.books.lock().expect("lock").transfers.clone()
    }

    /// An event body of `event_type` about `object`, as Stripe sends it.
    pub fn event_body(event_type: &str, object: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "id": random_id("evt_"), "object": "event", "api_version": "2024-06-20", "created": now(),
            "livemode": false, "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null},
            "type": event_type, "data": {"object": object},
        }))
        .expect("json")
    }

    /// The buyer pays: the session completes, a PaymentIntent succeeds, and
    /// both events are delivered. Returns the webhook HTTP statuses.
    pub async fn pay(&self, session_id: &str) -> Vec<u16> {
        let (session, intent) = {
            let mut books = self.0.books.lock().expect("lock");
            let Some(s) = books.sessions.get(session_id).cloned() else { return vec![] };
            if s.status != "open" {
                return vec![];
            }
            let intent = Intent {
                id: s.payment_intent.clone().unwrap_or_else(|| random_id("pi_")),
                charge: random_id("ch_"),
                amount: s.amount,
                currency: s.currency.clone(),
                status: "succeeded",
                metadata: s.intent_metadata.clone(),
                failure: None,
                refunded: 0,
                refunds: vec![],
                created: now(),
            };
            let s = books.sessions.get_mut(session_id).expect("present");
            s.status = "complete";
            s.payment_status = "paid";
            s.payment_intent = Some(intent.id.clone());
            let session = s.json();
            books.intents.insert(intent.id.clone(), intent.clone());
            (session, intent.json())
        };
        let mut statuses = self.deliver("checkout.session.completed", session).await;
        statuses.extend(self.deliver("payment_intent.succeeded", intent).await);
        statuses
    }

    /// The card is declined: the session stays open, its PaymentIntent
    /// reports the failure, and `payment_intent.payment_failed` is sent.
    pub async fn decline(&self, session_id: &str, message: &str) -> Vec<u16> {
        let intent = {
            let mut books = self.0.books.lock().expect("lock");
            let Some(s) = books.sessions.get_mut(session_id) else { return vec![] };
            let id = s.payment_intent.get_or_insert_with(|| random_id("pi_")).clone();
            let intent = Intent {
                id: id.clone(),
                charge: random_id("ch_"),
                amount: s.amount,
                currency: s.currency.clone(),
                status: "requires_payment_method",
                metadata: s.intent_metadata.clone(),
                failure: Some(message.to_string()),
                refunded: 0,
                refunds: vec![],
                created: now(),
            };
            books.intents.insert(id, intent.clone());
            intent.json()
        };
        self.deliver("payment_intent.payment_failed", intent).await
    }

    /// The session times out: `checkout.session.expired`.
    pub async fn expire(&self, session_id: &str) -> Vec<u16> {
        let session = {
            let mut books = self.0.books.lock().expect("lock");
            let Some(s) = books.sessions.get_mut(session_id) else { return vec![] };
            s.status = "expired";
            s.json()
        };
        self.deliver("checkout.session.expired", session).await
    }

    /// Delivers an event about `object` per the behaviour: every copy has
    /// the same event id, each signed now.
    pub async fn deliver(&self, event_type: &str, object: Value) -> Vec<u16> {
        let b = self.0.behaviour.lock().expect("lock").clone();
        let url = self.0.webhook_url.lock().expect("lock").clone();
        let Some(url) = url.filter(|_| b.send_webhooks) else { return vec![] };
        let body = Self::event_body(event_type, object);
        let signature = self.sign(now(), &body);
        crate::fake::post_copies(&self.0.client, &url, &body, &[("Stripe-Signature", signature)], b.webhook_copies).await
    }

    fn authorized(&self, headers: &HeaderMap) -> Result<(), (StatusCode, Value)> {
        let expected = format!("Bearer {}", self.0.secret_key);
        if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(expected.as_str()) {
            return Ok(());
        }
        Err((
            StatusCode::UNAUTHORIZED,
            json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_****"}}),
        ))
    }

    /// Runs a POST once per `Idempotency-Key`; repeats get the first answer.
    fn once(&self, headers: &HeaderMap, run: impl FnOnce(&mut Books) -> ApiResult) -> (StatusCode, Value) {
        let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
        let mut books = self.0.books.lock().expect("lock");
        if let Some(answer) = key.as_ref().and_then(|k| books.idempotent.get(k)) {
            return answer.clone();
        }
        let answer = run(&mut books).unwrap_or_else(|e| e);
        if let Some(k) = key {
            books.idempotent.insert(k, answer.clone());
        }
        answer
    }

    fn checkout_url(&self, success_url: &str, id: &str) -> String {
        match &self.0.checkout_base {
            CheckoutBase::Fixed(base) => format!("{}/c/pay/{id}", base.trim_end_matches('/')),
            CheckoutBase::CallbackOrigin(prefix) => {
                let origin = reqwest::Url::parse(success_url).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
                format!("{origin}{prefix}/c/pay/{id}")
            }
        }
    }
}

fn reply((status, body): (StatusCode, Value)) -> Response {
    (status, Json(body)).into_response()
}

async fn create_session(State(fake): State<FakeStripe>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if let Err(e) = fake.authorized(&headers) {
        return reply(e);
    }
    let form = match Form::parse(&body) {
        Ok(f) => f,
        Err(e) => return reply(e),
    };
    reply(fake.once(&headers, |books| {
        if form.required("mode")? != "payment" {
            return Err(stripe_error(StatusCode::BAD_REQUEST, "parameter_invalid", "This fake supports mode=payment only.", Some("mode")));
        }
        let amount = form.amount("line_items[0][price_data][unit_amount]")?;
        let currency = form.required("line_items[0][price_data][currency]")?.to_ascii_lowercase();
        let success_url = form.required("success_url")?.to_string();
        let id = random_id("cs_test_");
        let session = Session {
            url: fake.checkout_url(&success_url, &id),
            id: id.clone(),
            reference: form.get("client_reference_id").map(str::to_string),
            amount,
            currency,
            name: form.get("line_items[0][price_data][product_data][name]").unwrap_or("Payment").to_string(),
            email: form.get("customer_email").map(str::to_string),
            success_url,
            cancel_url: form.get("cancel_url").map(str::to_string),
            metadata: form.map("metadata"),
            intent_metadata: form.map("payment_intent_data[metadata]"),
            status: "open",
            payment_status: "unpaid",
            payment_intent: None,
            created: now(),
        };
        let json = session.json();
        books.sessions.insert(id, session);
        Ok((StatusCode::OK, json))
    }))
}

async fn get_session(State(fake): State<FakeStripe>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(e) = fake.authorized(&headers) {
        return reply(e);
    }
    reply(fake.session(&id).map(|s| (StatusCode::OK, s)).unwrap_or_else(|| missing(&id)))
}

async fn get_intent(State(fake): State<FakeStripe>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(e) = fake.authorized(&headers) {
        return reply(e);
    }
    let intent = fake.0.books.lock().expect("lock").intents.get(&id).map(Intent::json);
    reply(intent.map(|i| (StatusCode::OK, i)).unwrap_or_else(|| missing(&id)))
}

async fn create_refund(State(fake): State<FakeStripe>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if let Err(e) = fake.authorized(&headers) {
        return reply(e);
    }
    let form = match Form::parse(&body) {
        Ok(f) => f,
        Err(e) => return reply(e),
    };
    let mut refunded_charge = None;
    let answer = fake.once(&headers, |books| {
        let intent_id = match (form.get("payment_intent"), form.get("charge")) {
            (Some(pi), _) => pi.to_string(),
            (None, Some(ch)) => books.intents.values().find(|i| i.charge == ch).map(|i| i.id.clone()).ok_or_else(|| missing(ch))?,
            (None, None) => {
                return Err(stripe_error(
                    StatusCode::BAD_REQUEST,
                    "parameter_missing",
                    "Missing required param: payment_intent.",
                    Some("payment_intent"),
                ))
            }
        };
        let intent = books.intents.get_mut(&intent_id).ok_or_else(|| missing(&intent_id))?;
        if intent.status != "succeeded" {
            return Err(stripe_error(
                StatusCode::BAD_REQUEST,
                "payment_intent_unexpected_state",
                "This PaymentIntent has no successful charge to refund.",
                Some("payment_intent"),
            ));
        }
        let left = intent.amount - intent.refunded;
        if left == 0 {
            return Err(stripe_error(
                StatusCode::BAD_REQUEST,
                "charge_already_refunded",
                &format!("Charge {} has already been refunded.", intent.charge),
                None,
            ));
        }
        let amount = if form.get("amount").is_some() { form.amount("amount")? } else { left };
        if amount > left {
            return Err(stripe_error(
                StatusCode::BAD_REQUEST,
                "amount_too_large",
                &format!("Refund amount ({amount}) is greater than unrefunded amount on charge ({left})"),
                Some("amount"),
            ));
        }
        let refund = json!({
            "id": random_id("re_"), "object": "refund", "amount": amount, "currency": intent.currency,
            "payment_intent": intent.id, "charge": intent.charge, "status": "succeeded",
            "reason": form.get("reason"), "metadata": form.map("metadata"), "created": now(),
        });
        intent.refunded += amount;
        intent.refunds.push(refund.clone());
        refunded_charge = Some(intent.charge_json());
        books.refunds.push(refund.clone());
        Ok((StatusCode::OK, refund))
    });
    if let Some(charge) = refunded_charge {
        let fake = fake.clone();
        tokio::spawn(async move { fake.deliver("charge.refunded", charge).await });
    }
    reply(answer)
}

async fn create_transfer(State(fake): State<FakeStripe>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if let Err(e) = fake.authorized(&headers) {
        return reply(e);
    }
    let form = match Form::parse(&body) {
        Ok(f) => f,
        Err(e) => return reply(e),
    };
    reply(fake.once(&headers, |books| {
        let amount = form.amount("amount")?;
        let currency = form.required("currency")?.to_ascii_lowercase();
        let destination = form.required("destination")?;
        if !destination.starts_with("acct_") {
            return Err(stripe_error(
                StatusCode::BAD_REQUEST,
                "resource_missing",
                &format!("No such destination: '{destination}'"),
                Some("destination"),
            ));
        }
        let transfer = json!({
            "id": random_id("tr_"), "object": "transfer", "amount": amount, "amount_reversed": 0, "currency": currency,
            "destination": destination, "transfer_group": form.get("transfer_group"), "description": form.get("description"),
            "metadata": form.map("metadata"), "reversed": false, "created": now(),
        });
        books.transfers.push(transfer.clone());
        Ok((StatusCode::OK, transfer))
    }))
}

async fn get_transfer(State(fake): State<FakeStripe>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(e) = fake.authorized(&headers) {
        return reply(e);
    }
    let found = fake.transfers().into_iter().find(|t| t["id"] == id.as_str());
    reply(found.map(|t| (StatusCode::OK, t)).unwrap_or_else(|| missing(&id)))
}

/// The hosted payment page shared by the fakes: amount, lines, actions.
pub(crate) fn checkout_html(brand: &str, amount: &str, lines: &[String], actions: &str) -> Html<String> {
    let lines: String = lines.iter().map(|l| format!("<p class=\"note\">{}</p>", crate::html_escape(l))).collect();
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{brand} checkout · Test payments</title>
<style>body{{font-family:system-ui,sans-serif;background:#f4f6f8;margin:0;padding:32px 16px}}main{{max-width:380px;margin:auto;background:#fff;border-radius:12px;padding:24px;box-shadow:0 2px 8px rgba(0,0,0,.08)}}
button{{width:100%;padding:14px;margin-top:12px;border:0;border-radius:8px;background:#635bff;color:#fff;font-size:1rem;cursor:pointer}}button.secondary{{background:#eef1f4;color:#333}}.note{{color:#667;font-size:.85rem;overflow-wrap:anywhere}}</style></head>
<body><main><p class="note">{brand} test mode: no real money moves.</p><h1>Pay {amount}</h1>{lines}{actions}</main></body></html>"#,
        brand = crate::html_escape(brand),
        amount = crate::html_escape(amount),
    ))
}

async fn checkout_page(State(fake): State<FakeStripe>, Path(id): Path<String>) -> Response {
    let Some(s) = fake.0.books.lock().expect("lock").sessions.get(&id).cloned() else {
        return (StatusCode::NOT_FOUND, "Unknown checkout session").into_response();
    };
    let amount = crate::currency::display(s.amount, &s.currency);
    let actions = if s.status == "open" {
        format!(
            r#"<form method="post" action="{id}/pay"><button id="pay" type="submit">Pay {amount}</button></form>
<form method="post" action="{id}/cancel"><button id="cancel" type="submit" class="secondary">Cancel</button></form>"#,
            id = crate::html_escape(&s.id),
        )
    } else {
        "<p>This checkout session is closed.</p>".to_string()
    };
    let mut lines = vec![s.name.clone()];
    lines.extend(s.email.clone());
    checkout_html("Stripe", &amount, &lines, &actions).into_response()
}

async fn pay_form(State(fake): State<FakeStripe>, Path(id): Path<String>) -> Response {
    let Some(s) = fake.0.books.lock().expect("lock").sessions.get(&id).cloned() else {
        return (StatusCode::NOT_FOUND, "Unknown checkout session").into_response();
    };
    fake.pay(&id).await;
    Redirect::to(&s.success_url.replace("{CHECKOUT_SESSION_ID}", &id)).into_response()
}

async fn cancel_form(State(fake): State<FakeStripe>, Path(id): Path<String>) -> Response {
    let Some(s) = fake.0.books.lock().expect("lock").sessions.get(&id).cloned() else {
        return (StatusCode::NOT_FOUND, "Unknown checkout session").into_response();
    };
    // Stripe leaves the session open until it expires.
    Redirect::to(s.cancel_url.as_deref().unwrap_or(&s.success_url)).into_response()
}
