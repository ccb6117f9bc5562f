//! A local Paystack. It implements the parts of the real protocol this
//! platform uses: `POST /transaction/initialize` and
//! `GET /transaction/verify/{reference}` behind the secret key, a hosted
//! checkout page whose "Pay" button settles the charge, and webhooks signed
//! exactly like Paystack's. The demo mounts it inside the app
//! (`--payments fake`); tests run it on its own port and use the knobs in
//! [`Behaviour`] to send duplicate, early or tampered webhooks.

use crate::signature;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How the fake misbehaves (or not).
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Copies of each webhook, delivered concurrently (Paystack retries).
    pub webhook_copies: usize,
    /// Send webhooks at all; without them only verify tells the outcome.
    pub send_webhooks: bool,
    /// Settle the charge and deliver its webhook before answering
    /// initialize, so the webhook beats the merchant's own record.
    pub pay_during_initialize: bool,
    /// Charge this amount instead of the one asked for.
    pub charged_amount_cents: Option<i64>,
    /// Charge in this currency instead of the one asked for.
    pub charged_currency: Option<String>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            webhook_copies: 1,
            send_webhooks: true,
            pay_during_initialize: false,
            charged_amount_cents: None,
            charged_currency: None,
        }
    }
}

/// Where checkout pages are linked from `authorization_url`.
#[derive(Debug, Clone)]
pub enum CheckoutBase {
    /// A fixed base URL (the fake on its own port).
    Fixed(String),
    /// The callback URL's origin plus this path prefix: the fake mounted
    /// inside the app is reachable on whatever host the buyer used.
    CallbackOrigin(String),
}

#[derive(Debug, Clone)]
struct Charge {
    id: u64,
    reference: String,
    access_code: String,
    email: String,
    amount: i64,
    currency: String,
    callback_url: String,
    metadata: Value,
    /// Paystack reports unpaid checkouts as "abandoned".
    status: String,
    gateway_response: Option<String>,
    paid_at: Option<String>,
    created_at: String,
}

impl Charge {
    fn json(&self) -> Value {
        json!({
            "id": self.id, "domain": "test", "status": self.status, "reference": self.reference,
            "amount": self.amount, "message": null, "gateway_response": self.gateway_response,
            "paid_at": self.paid_at, "created_at": self.created_at, "channel": "card", "currency": self.currency,
            "ip_address": "127.0.0.1", "metadata": self.metadata, "fees": null,
            "customer": { "email": self.email }, "requested_amount": self.amount,
        })
    }
}

struct Inner {
    secret: String,
    checkout_base: CheckoutBase,
    webhook_url: Mutex<Option<String>>,
    charges: Mutex<HashMap<String, Charge>>,
    behaviour: Mutex<Behaviour>,
    client: reqwest::Client,
}

/// The fake provider; cheap to clone, all clones share state.
#[derive(Clone)]
pub struct FakePaystack(Arc<Inner>);

impl std::fmt::Debug for FakePaystack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakePaystack").field("checkout_base", &self.0.checkout_base).finish_non_exhaustive()
    }
}

impl FakePaystack {
    pub fn new(secret: impl Into<String>, checkout_base: CheckoutBase) -> Self {
        FakePaystack(Arc::new(Inner {
            secret: secret.into(),
            checkout_base,
            webhook_url: Mutex::new(None),
            charges: Mutex::new(HashMap::new()),
            behaviour: Mutex::new(Behaviour::default()),
            client: reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().unwrap_or_default(),
        }))
    }

    /// A random secret key shaped like Paystack's test keys.
    pub fn random_secret() -> String {
        format!("sk_test_{}", hex::encode(rand::random::<[u8; 20]>()))
    }

    /// The API and checkout routes, rooted at `/` (nest them under a prefix).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/transaction/initialize", post(initialize))
            .route("/transaction/verify/{reference}", get(verify))
            .route("/checkout/{code}", get(checkout_page))
            .route("/checkout/{code}/pay", post(pay_form))
            .route("/checkout/{code}/cancel", post(cancel_form))
            .with_state(self.clone())
    }

    /// Where webhooks go (the merchant's endpoint).
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        *self.0.webhook_url.lock().expect("lock") = Some(url.into());
    }

    pub fn set_behaviour(&self, b: Behaviour) {
        *self.0.behaviour.lock().expect("lock") = b;
    }

    pub fn behaviour(&self) -> Behaviour {
        self.0.behaviour.lock().expect("lock").clone()
    }

    /// The references of every checkout opened so far.
    pub fn references(&self) -> Vec<String> {
        self.0.charges.lock().expect("lock").keys().cloned().collect()
    }

    /// The JSON body of a webhook for `reference` as it stands now.
    pub fn event_body(&self, reference: &str, event: &str) -> Option<Vec<u8>> {
        let charge = self.0.charges.lock().expect("lock").get(reference).cloned()?;
        Some(serde_json::to_vec(&json!({ "event": event, "data": charge.json() })).expect("json"))
    }

    /// Signs a body with this fake's secret key.
    pub fn sign(&self, body: &[u8]) -> String {
        signature::sign(&self.0.secret, body)
    }

    /// Settles a charge as the buyer paying would, then delivers its
    /// webhook(s) per the behaviour. Returns the webhook HTTP statuses.
    pub async fn pay(&self, reference: &str) -> Vec<u16> {
        let b = self.behaviour();
        {
            let mut charges = self.0.charges.lock().expect("lock");
            let Some(c) = charges.get_mut(reference) else { return vec![] };
            c.status = "success".into();
            c.gateway_response = Some("Successful".into());
            c.paid_at = Some(now());
            if let Some(a) = b.charged_amount_cents {
                c.amount = a;
            }
            if let Some(cur) = &b.charged_currency {
                c.currency = cur.clone();
            }
        }
        if !b.send_webhooks {
            return vec![];
        }
        self.deliver(reference, "charge.success", b.webhook_copies).await
    }

    /// Declines a charge (as a card decline would) and delivers the event.
    pub async fn decline(&self, reference: &str, gateway_response: &str) -> Vec<u16> {
        self.set_status(reference, "failed", gateway_response);
        let b = self.behaviour();
        if !b.send_webhooks {
            return vec![];
        }
        self.deliver(reference, "charge.failed", b.webhook_copies).await
    }

    /// Changes what verify reports, without any webhook.
    pub fn set_status(&self, reference: &str, status: &str, gateway_response: &str) {
        if let Some(c) = self.0.charges.lock().expect("lock").get_mut(reference) {
            c.status = status.into();
            c.gateway_response = Some(gateway_response.into());
        }
    }

    /// Delivers `copies` identical signed webhooks concurrently.
    pub async fn deliver(&self, reference: &str, event: &str, copies: usize) -> Vec<u16> {
        let url = self.0.webhook_url.lock().expect("lock").clone();
        let (Some(url), Some(body)) = (url, self.event_body(reference, event)) else { return vec![] };
        let sig = self.sign(&body);
        post_copies(&self.0.client, &url, &body, &[("x-paystack-signature", sig)], copies).await
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let expected = format!("Bearer {}", self.0.secret);
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(expected.as_str())
    }

    fn by_code(&self, code: &str) -> Option<Charge> {
        self.0.charges.lock().expect("lock").values().find(|c| c.access_code == code).cloned()
    }

    fn authorization_url(&self, callback_url: &str, code: &str) -> String {
        match &self.0.checkout_base {
            CheckoutBase::Fixed(base) => format!("{}/checkout/{code}", base.trim_end_matches('/')),
            CheckoutBase::CallbackOrigin(prefix) => {
                let origin = reqwest::Url::parse(callback_url).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
                format!("{origin}{prefix}/checkout/{code}")
            }
        }
    }
}

fn now() -> String {
    // RFC 3339 in UTC with milliseconds, as Paystack writes timestamps.
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn envelope_error(status: StatusCode, message: &str, code: &str) -> Response {
    (status, Json(json!({ "status": false, "message": message, "type": "validation_error", "code": code }))).into_response()
}

#[derive(Deserialize)]
struct InitializeBody {
    email: String,
    /// Paystack accepts the amount as a number or a string of digits.
    amount: Value,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    reference: Option<String>,
    #[serde(default)]
    callback_url: Option<String>,
    #[serde(default)]
    metadata: Value,
}

async fn initialize(State(fake): State<FakePaystack>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if !fake.authorized(&headers) {
        return envelope_error(StatusCode::UNAUTHORIZED, "Invalid key", "invalid_key");
    }
    let Ok(b) = serde_json::from_slice::<InitializeBody>(&body) else {
        return envelope_error(StatusCode::BAD_REQUEST, "Invalid request body", "invalid_params");
    };
    let amount = match &b.amount {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    let Some(amount) = amount.filter(|a| *a > 0) else {
        return envelope_error(StatusCode::BAD_REQUEST, "Invalid amount", "invalid_params");
    };
    if !b.email.contains('@') {
        return envelope_error(StatusCode::BAD_REQUEST, "Invalid Email Address Passed", "invalid_params");
    }
    let reference = b.reference.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let code = hex::encode(rand::random::<[u8; 8]>());
    let callback_url = b.callback_url.unwrap_or_default();
    {
        let mut charges = fake.0.charges.lock().expect("lock");
        if charges.contains_key(&reference) {
            return envelope_error(StatusCode::BAD_REQUEST, "Duplicate Transaction Reference", "duplicate_reference");
        }
        let id = charges.len() as u64 + 1;
        charges.insert(
            reference.clone(),
            Charge {
                id,
                reference: reference.clone(),
                access_code: code.clone(),
                email: b.email,
                amount,
                currency: b.currency.unwrap_or_else(|| "NGN".into()),
                callback_url: callback_url.clone(),
                metadata: b.metadata,
                status: "abandoned".into(),
                gateway_response: None,
                paid_at: None,
                created_at: now(),
            },
        );
    }
    if fake.behaviour().pay_during_initialize {
        fake.pay(&reference).await;
    }
    let authorization_url = fake.authorization_url(&callback_url, &code);
    Json(json!({
        "status": true, "message": "Authorization URL created",
        "data": { "authorization_url": authorization_url, "access_code": code, "reference": reference },
    }))
    .into_response()
}

async fn verify(State(fake): State<FakePaystack>, headers: HeaderMap, Path(reference): Path<String>) -> Response {
    if !fake.authorized(&headers) {
        return envelope_error(StatusCode::UNAUTHORIZED, "Invalid key", "invalid_key");
    }
    let charge = fake.0.charges.lock().expect("lock").get(&reference).cloned();
    match charge {
        Some(c) => Json(json!({ "status": true, "message": "Verification successful", "data": c.json() })).into_response(),
        None => envelope_error(StatusCode::BAD_REQUEST, "Transaction reference not found", "transaction_not_found"),
    }
}

async fn checkout_page(State(fake): State<FakePaystack>, Path(code): Path<String>) -> Response {
    let Some(c) = fake.by_code(&code) else { return (StatusCode::NOT_FOUND, "Unknown checkout").into_response() };
    let amount = format!("{} {}.{:02}", c.currency, c.amount / 100, c.amount % 100);
    let settled = c.status != "abandoned";
    let actions = if settled {
        "<p>This checkout is closed.</p>".to_string()
    } else {
        format!(
            r#"<form method="post" action="{code}/pay"><button id="pay" type="submit">Pay {amount}</button></form>
<form method="post" action="{code}/cancel"><button id="cancel" type="submit" class="secondary">Cancel payment</button></form>"#
        )
    };
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Checkout · Test payments</title>
<style>body{{font-family:system-ui,sans-serif;background:#f4f6f8;margin:0;padding:32px 16px}}main{{max-width:380px;margin:auto;background:#fff;border-radius:12px;padding:24px;box-shadow:0 2px 8px rgba(0,0,0,.08)}}
button{{width:100%;padding:14px;margin-top:12px;border:0;border-radius:8px;background:#0ba4db;color:#fff;font-size:1rem;cursor:pointer}}button.secondary{{background:#eef1f4;color:#333}}.note{{color:#667;font-size:.85rem}}</style></head>
<body><main><p class="note">Test mode: no real money moves.</p><h1>Pay {amount}</h1><p>{email}</p><p class="note">Reference {reference}</p>{actions}</main></body></html>"#,
        email = html_escape(&c.email), reference = html_escape(&c.reference),
    ))
    .into_response()
}

fn back_to_merchant(c: &Charge) -> Response {
    let sep = if c.callback_url.contains('?') { '&' } else { '?' };
    let q = serde_urlencoded::to_string([("trxref", &c.reference), ("reference", &c.reference)]).unwrap_or_default();
    Redirect::to(&format!("{}{sep}{q}", c.callback_url)).into_response()
}

async fn pay_form(State(fake): State<FakePaystack>, Path(code): Path<String>) -> Response {
    let Some(c) = fake.by_code(&code) else { return (StatusCode::NOT_FOUND, "Unknown checkout").into_response() };
    if c.status == "abandoned" {
        fake.pay(&c.reference).await;
    }
    back_to_merchant(&c)
}

async fn cancel_form(State(fake): State<FakePaystack>, Path(code): Path<String>) -> Response {
    let Some(c) = fake.by_code(&code) else { return (StatusCode::NOT_FOUND, "Unknown checkout").into_response() };
    if c.status == "abandoned" {
        fake.set_status(&c.reference, "abandoned", "Customer cancelled");
    }
    back_to_merchant(&c)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// POSTs `copies` identical JSON webhook deliveries concurrently (the
/// fakes' retries) and returns each HTTP status (0: not delivered).
pub(crate) async fn post_copies(
    client: &reqwest::Client,
    url: &str,
    body: &[u8],
    headers: &[(&'static str, String)],
    copies: usize,
) -> Vec<u16> {
    let sends = (0..copies).map(|_| {
        let mut req = client.post(url).header(header::CONTENT_TYPE, "application/json").body(body.to_vec());
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        async move {
            match req.send().await {
                Ok(r) => r.status().as_u16(),
                Err(e) => {
                    tracing::warn!(error = %e, "fake provider: webhook delivery failed");
                    0
                }
            }
        }
    });
    futures_util::future::join_all(sends).await
}
