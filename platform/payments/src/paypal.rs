//! The PayPal REST client: OAuth2 client credentials, Orders v2 (create,
//! capture), refunds of captures, Payouts, and webhook verification through
//! PayPal's own verification endpoint.
//!
//! References: <https://developer.paypal.com/api/rest/authentication/>,
//! <https://developer.paypal.com/docs/api/orders/v2/>,
//! <https://developer.paypal.com/docs/api/payments/v2/#captures_refund>,
//! <https://developer.paypal.com/docs/api/payments.payouts-batch/v1/>,
//! <https://developer.paypal.com/docs/api/webhooks/v1/#verify-webhook-signature>.
//! Bodies are JSON; amounts are `{currency_code, value}` with `value` a
//! decimal string ([`crate::currency::to_paypal_value`]); errors are
//! `{name, message, debug_id, details: [{issue, description}]}`.
//! `PayPal-Request-Id` makes a POST idempotent.

use crate::currency::{from_paypal_value, to_paypal_value};
use crate::{
    ChargeReport, Checkout, CheckoutRequest, PaymentError, PaymentProvider, PayoutReport, PayoutRequest, PayoutStatus, Payouts,
    RefundNotice, RefundReport, RefundRequest, RefundStatus, Refunds, Webhook, WebhookError, WebhookEvent,
};
use async_trait::async_trait;
use axum::http::HeaderMap;
use platform_kernel::payment::ChargeStatus;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The transmission headers PayPal sends with every webhook, which its
/// verification endpoint needs back.
pub const TRANSMISSION_HEADERS: [&str; 5] =
    ["paypal-transmission-id", "paypal-transmission-time", "paypal-transmission-sig", "paypal-cert-url", "paypal-auth-algo"];

/// PayPal over HTTPS. `Debug` is written by hand so secrets never reach a
/// log line.
#[derive(Clone)]
pub struct PayPal {
    base_url: String,
    client_id: String,
    client_secret: String,
    webhook_id: String,
    client: reqwest::Client,
    /// The access token and when to stop using it.
    token: Arc<tokio::sync::Mutex<Option<(String, Instant)>>>,
}

impl std::fmt::Debug for PayPal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayPal")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// What a failed call said.
fn paypal_error(status: reqwest::StatusCode, body: &Value) -> PaymentError {
    let issue = body["details"][0]["issue"].as_str().or_else(|| body["name"].as_str()).or_else(|| body["error"].as_str());
    let message = body["details"][0]["description"]
        .as_str()
        .or_else(|| body["message"].as_str())
        .or_else(|| body["error_description"].as_str())
        .unwrap_or("");
    let text = format!("{} {message}", issue.unwrap_or(status.as_str())).trim().to_string();
    if status.as_u16() == 404 {
        PaymentError::UnknownReference
    } else if status.is_server_error() || status.as_u16() == 429 {
        PaymentError::Transport(text)
    } else {
        PaymentError::Rejected(text)
    }
}

impl PayPal {
    pub const DEFAULT_BASE_URL: &'static str = "https://api-m.paypal.com";
    pub const SANDBOX_BASE_URL: &'static str = "https://api-m.sandbox.paypal.com";
    /// Where PayPal hosts its approval pages.
    pub const CHECKOUT_ORIGIN: &'static str = "https://www.paypal.com";
    /// A token is renewed this long before PayPal says it expires.
    const TOKEN_MARGIN: Duration = Duration::from_secs(60);

    /// The REST app's client id and secret; `webhook_id` is the id PayPal
    /// gave the webhook endpoint (verification needs it).
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>, webhook_id: impl Into<String>) -> Self {
        PayPal {
            base_url: Self::DEFAULT_BASE_URL.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            webhook_id: webhook_id.into(),
            client: crate::http_client(),
            token: Arc::default(),
        }
    }

    /// Points the client elsewhere (the sandbox, the fake PayPal).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into().trim_end_matches('/').to_owned();
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn url(&self, path: &[&str]) -> Result<reqwest::Url, PaymentError> {
        let mut url = reqwest::Url::parse(&self.base_url).map_err(|e| PaymentError::Transport(format!("bad base URL: {e}")))?;
        url.path_segments_mut().map_err(|_| PaymentError::Transport("bad base URL".into()))?.pop_if_empty().extend(path);
        Ok(url)
    }

    /// POST `/v1/oauth2/token` (client credentials), cached until shortly
    /// before it expires.
    pub async fn access_token(&self) -> Result<String, PaymentError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref() {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let resp = self
            .client
            .post(self.url(&["v1", "oauth2", "token"])?)
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .map_err(|e| PaymentError::Transport(e.without_url().to_string()))?;
        let status = resp.status();
        let body: Value = resp.json().await.map_err(|e| PaymentError::Transport(format!("HTTP {status}: {}", e.without_url())))?;
        if !status.is_success() {
            return Err(paypal_error(status, &body));
        }
        let token = body["access_token"].as_str().ok_or_else(|| PaymentError::Malformed("no access_token".into()))?.to_string();
        let lifetime = Duration::from_secs(body["expires_in"].as_u64().unwrap_or(0));
        *cached = Some((token.clone(), Instant::now() + lifetime.saturating_sub(Self::TOKEN_MARGIN)));
        Ok(token)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &[&str],
        body: Option<String>,
        request_id: Option<&str>,
    ) -> Result<Value, PaymentError> {
        for attempt in 0..2 {
            let token = self.access_token().await?;
            let mut req =
                self.client.request(method.clone(), self.url(path)?).bearer_auth(&token).header("Prefer", "return=representation");
            if let Some(id) = request_id {
                req = req.header("PayPal-Request-Id", id);
            }
            if let Some(body) = &body {
                req = req.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.clone());
            }
            let resp = req.send().await.map_err(|e| PaymentError::Transport(e.without_url().to_string()))?;
            let status = resp.status();
            if status.as_u16() == 401 && attempt == 0 {
                // Revoked or expired early: forget it and ask once more.
                *self.token.lock().await = None;
                continue;
            }
            let text = resp.text().await.map_err(|e| PaymentError::Transport(e.without_url().to_string()))?;
            let value: Value = if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).map_err(|e| PaymentError::Transport(format!("HTTP {status}: {e}")))?
            };
            if status.is_success() {
                return Ok(value);
            }
            return Err(paypal_error(status, &value));
        }
        Err(PaymentError::Rejected("PayPal refused the access token".into()))
    }

    /// GET `/v2/checkout/orders/{id}`.
    pub async fn order(&self, id: &str) -> Result<Value, PaymentError> {
        self.call(reqwest::Method::GET, &["v2", "checkout", "orders", id], None, None).await
    }

    /// POST `/v1/notifications/verify-webhook-signature` with the
    /// transmission headers, our webhook id and the event exactly as
    /// received (spliced in raw, so nothing is re-serialised).
    pub async fn verify_webhook_signature(&self, headers: &HeaderMap, body: &[u8]) -> Result<bool, WebhookError> {
        let mut fields = Vec::new();
        for name in TRANSMISSION_HEADERS {
            fields.push(crate::header(headers, name).ok_or(WebhookError::BadSignature)?);
        }
        let body = std::str::from_utf8(body).map_err(|_| WebhookError::Malformed("not UTF-8".into()))?;
        if !serde_json::from_str::<Value>(body).is_ok_and(|v| v.is_object()) {
            return Err(WebhookError::Malformed("not a JSON object".into()));
        }
        let head = json!({
            "transmission_id": fields[0], "transmission_time": fields[1], "transmission_sig": fields[2],
            "cert_url": fields[3], "auth_algo": fields[4], "webhook_id": self.webhook_id,
        })
        .to_string();
        let request = format!("{},\"webhook_event\":{body}}}", head.trim_end_matches('}'));
        let answer = self
            .call(reqwest::Method::POST, &["v1", "notifications", "verify-webhook-signature"], Some(request), None)
            .await
            .map_err(|e| WebhookError::Unavailable(e.to_string()))?;
        Ok(answer["verification_status"] == "SUCCESS")
    }
}

fn amount_of(money: &Value) -> Result<(i64, String), String> {
    let currency = money["currency_code"].as_str().or_else(|| money["currency"].as_str()).ok_or("no currency_code")?;
    let value = money["value"].as_str().ok_or("no value")?;
    let minor = from_paypal_value(value.trim_start_matches('-'), currency).map_err(|e| e.to_string())?;
    Ok((minor, currency.to_ascii_uppercase()))
}

fn capture_status(s: Option<&str>) -> ChargeStatus {
    match s {
        // Refunds are reported apart; the payment itself succeeded.
        Some("COMPLETED" | "REFUNDED" | "PARTIALLY_REFUNDED") => ChargeStatus::Success,
        Some("DECLINED" | "FAILED") => ChargeStatus::Failed,
        _ => ChargeStatus::Pending,
    }
}

/// An order as a charge report; `None` when it carries no reference.
pub(crate) fn order_report(o: &Value) -> Result<Option<ChargeReport>, String> {
    let unit = &o["purchase_units"][0];
    let Some(reference) = unit["custom_id"].as_str().or_else(|| unit["reference_id"].as_str()).map(str::to_string) else {
        return Ok(None);
    };
    let capture = &unit["payments"]["captures"][0];
    let order_status = o["status"].as_str();
    let status = match order_status {
        Some("COMPLETED") => capture_status(capture["status"].as_str()),
        Some("VOIDED") => ChargeStatus::Abandoned,
        _ => ChargeStatus::Pending,
    };
    let (amount, currency) = amount_of(if capture.is_object() { &capture["amount"] } else { &unit["amount"] })?;
    Ok(Some(ChargeReport {
        reference,
        status,
        amount_cents: amount,
        currency,
        gateway_response: capture["status"].as_str().or(order_status).map(str::to_string),
        provider_id: o["id"].as_str().ok_or("no id")?.to_string(),
        payment_id: capture["id"].as_str().map(str::to_string),
        raw: o.clone(),
    }))
}

/// A capture resource (PAYMENT.CAPTURE.*) as a charge report.
fn capture_report(c: &Value) -> Result<Option<ChargeReport>, String> {
    let Some(reference) = c["custom_id"].as_str().map(str::to_string) else { return Ok(None) };
    let id = c["id"].as_str().ok_or("no id")?.to_string();
    let (amount, currency) = amount_of(&c["amount"])?;
    Ok(Some(ChargeReport {
        reference,
        status: capture_status(c["status"].as_str()),
        amount_cents: amount,
        currency,
        gateway_response: c["status_details"]["reason"].as_str().or(c["status"].as_str()).map(str::to_string),
        provider_id: c["supplementary_data"]["related_ids"]["order_id"].as_str().unwrap_or(&id).to_string(),
        payment_id: Some(id),
        raw: c.clone(),
    }))
}

fn refund_status(s: Option<&str>) -> RefundStatus {
    match s {
        Some("COMPLETED") => RefundStatus::Succeeded,
        Some("FAILED") => RefundStatus::Failed,
        Some("CANCELLED") => RefundStatus::Cancelled,
        _ => RefundStatus::Pending,
    }
}

/// The capture a refund belongs to, from its `up` link.
fn refunded_capture(r: &Value) -> Option<String> {
    let links = r["links"].as_array()?;
    let up = links.iter().find(|l| l["rel"] == "up")?["href"].as_str()?;
    let mut parts = up.trim_end_matches('/').rsplit('/');
    let id = parts.next()?;
    (parts.next() == Some("captures")).then(|| id.to_string())
}

fn payout_status(batch: &Value) -> PayoutStatus {
    let item = batch["items"][0]["transaction_status"].as_str();
    if matches!(item, Some("FAILED" | "RETURNED" | "BLOCKED" | "REFUNDED" | "REVERSED")) {
        return PayoutStatus::Failed;
    }
    match batch["batch_header"]["batch_status"].as_str() {
        Some("SUCCESS") if item.is_none() || item == Some("SUCCESS") => PayoutStatus::Paid,
        Some("DENIED" | "CANCELED") => PayoutStatus::Failed,
        _ => PayoutStatus::Pending,
    }
}

fn payout_report(o: &Value, fallback: Option<&PayoutRequest>) -> Result<PayoutReport, String> {
    let header = &o["batch_header"];
    let (amount, currency) = match (amount_of(&header["amount"]), fallback) {
        (Ok(a), _) => a,
        (Err(_), Some(r)) => (r.amount_cents, r.currency.to_ascii_uppercase()),
        (Err(e), None) => return Err(e),
    };
    Ok(PayoutReport {
        payout_id: header["payout_batch_id"].as_str().ok_or("no payout_batch_id")?.to_string(),
        reference: header["sender_batch_header"]["sender_batch_id"].as_str().unwrap_or_default().to_string(),
        status: payout_status(o),
        amount_cents: amount,
        currency,
        raw: o.clone(),
    })
}

/// Reads an event `{id, event_type, resource}` (after verification).
pub(crate) fn parse_event(body: &[u8]) -> Result<Webhook, WebhookError> {
    let e: Value = serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let (Some(event_id), Some(event_type)) = (e["id"].as_str(), e["event_type"].as_str()) else {
        return Err(WebhookError::Malformed("an event has an id and an event_type".into()));
    };
    let r = &e["resource"];
    let bad = |m: String| WebhookError::Malformed(format!("{event_type}: {m}"));
    let event = match event_type {
        "CHECKOUT.ORDER.APPROVED" => match order_report(r).map_err(bad)? {
            Some(report) => WebhookEvent::Approved { reference: report.reference, provider_id: report.provider_id },
            None => WebhookEvent::Other,
        },
        "PAYMENT.CAPTURE.COMPLETED" | "PAYMENT.CAPTURE.DENIED" | "PAYMENT.CAPTURE.DECLINED" | "PAYMENT.CAPTURE.PENDING" => {
            capture_report(r).map_err(bad)?.map_or(WebhookEvent::Other, WebhookEvent::Charge)
        }
        "PAYMENT.CAPTURE.REFUNDED" => {
            let total = &r["seller_payable_breakdown"]["total_refunded_amount"];
            let (total, currency) = amount_of(if total.is_object() { total } else { &r["amount"] }).map_err(bad)?;
            WebhookEvent::Refunded(RefundNotice {
                payment_id: refunded_capture(r).ok_or_else(|| bad("no link up to the capture".into()))?,
                reference: r["custom_id"].as_str().map(str::to_string),
                refund_id: r["id"].as_str().map(str::to_string),
                total_refunded_cents: total,
                currency,
                raw: r.clone(),
            })
        }
        _ => WebhookEvent::Other,
    };
    Ok(Webhook { event_id: event_id.to_string(), event_type: event_type.to_string(), event })
}

fn malformed(m: String) -> PaymentError {
    PaymentError::Malformed(m)
}

#[async_trait]
impl PaymentProvider for PayPal {
    fn name(&self) -> &'static str {
        "paypal"
    }

    /// POST `/v2/checkout/orders` (intent CAPTURE, one purchase unit whose
    /// `reference_id` and `custom_id` are our reference), idempotent per
    /// reference; the buyer approves at the `payer-action` link.
    async fn initialize(&self, r: &CheckoutRequest) -> Result<Checkout, PaymentError> {
        let value = to_paypal_value(r.amount_cents, &r.currency).map_err(|e| PaymentError::Rejected(e.to_string()))?;
        let mut unit = json!({
            "reference_id": r.reference, "custom_id": r.reference,
            "amount": {"currency_code": r.currency.to_ascii_uppercase(), "value": value},
        });
        if let Some(d) = &r.description {
            unit["description"] = json!(d.chars().take(127).collect::<String>());
        }
        let body = json!({
            "intent": "CAPTURE",
            "purchase_units": [unit],
            "payment_source": {"paypal": {"email_address": r.email, "experience_context": {
                "return_url": r.return_url(), "cancel_url": r.cancel_return_url(),
                "user_action": "PAY_NOW", "shipping_preference": "NO_SHIPPING",
            }}},
        });
        let key = format!("order-{}", r.reference);
        let o = self.call(reqwest::Method::POST, &["v2", "checkout", "orders"], Some(body.to_string()), Some(&key)).await?;
        let id = o["id"].as_str().ok_or_else(|| malformed("no order id".into()))?.to_string();
        let links = o["links"].as_array().cloned().unwrap_or_default();
        let approve = links
            .iter()
            .find(|l| l["rel"] == "payer-action" || l["rel"] == "approve")
            .and_then(|l| l["href"].as_str())
            .ok_or_else(|| malformed("no approval link".into()))?;
        Ok(Checkout { authorization_url: approve.to_string(), access_code: id.clone(), reference: r.reference.clone(), provider_id: id })
    }

    /// GET the order (`provider_id`).
    async fn verify(&self, id: &str) -> Result<ChargeReport, PaymentError> {
        order_report(&self.order(id).await?).map_err(malformed)?.ok_or_else(|| malformed(format!("order {id} carries no reference")))
    }

    /// Captures an approved order (`PayPal-Request-Id` = `capture-{id}`, so
    /// concurrent or repeated calls capture once); any other state is
    /// reported as it stands.
    async fn capture(&self, id: &str) -> Result<ChargeReport, PaymentError> {
        let order = self.order(id).await?;
        if order["status"] != "APPROVED" {
            return order_report(&order).map_err(malformed)?.ok_or_else(|| malformed(format!("order {id} carries no reference")));
        }
        let key = format!("capture-{id}");
        let captured =
            match self.call(reqwest::Method::POST, &["v2", "checkout", "orders", id, "capture"], Some("{}".into()), Some(&key)).await {
                Ok(o) => o,
                // Captured meanwhile by another path: report what is there.
                Err(PaymentError::Rejected(m)) if m.contains("ORDER_ALREADY_CAPTURED") => self.order(id).await?,
                Err(e) => return Err(e),
            };
        order_report(&captured).map_err(malformed)?.ok_or_else(|| malformed(format!("order {id} carries no reference")))
    }

    /// Asks PayPal whether the delivery is authentic, then reads it.
    async fn receive_webhook(&self, headers: &HeaderMap, body: &[u8]) -> Result<Webhook, WebhookError> {
        if !self.verify_webhook_signature(headers, body).await? {
            return Err(WebhookError::BadSignature);
        }
        parse_event(body)
    }

    fn checkout_origin(&self) -> Option<String> {
        if self.base_url == Self::DEFAULT_BASE_URL || self.base_url == Self::SANDBOX_BASE_URL {
            return Some(Self::CHECKOUT_ORIGIN.to_string());
        }
        reqwest::Url::parse(&self.base_url).ok().map(|u| u.origin().ascii_serialization())
    }
}

#[async_trait]
impl Refunds for PayPal {
    /// POST `/v2/payments/captures/{capture id}/refund`; no amount refunds
    /// what is left.
    async fn refund(&self, r: &RefundRequest) -> Result<RefundReport, PaymentError> {
        let mut body = json!({});
        if let Some(amount) = r.amount_cents {
            let value = to_paypal_value(amount, &r.currency).map_err(|e| PaymentError::Rejected(e.to_string()))?;
            body["amount"] = json!({"currency_code": r.currency.to_ascii_uppercase(), "value": value});
        }
        if let Some(reason) = &r.reason {
            body["note_to_payer"] = json!(reason);
        }
        let o = self
            .call(
                reqwest::Method::POST,
                &["v2", "payments", "captures", &r.payment_id, "refund"],
                Some(body.to_string()),
                Some(&r.idempotency_key),
            )
            .await?;
        let (amount, currency) = amount_of(&o["amount"]).map_err(malformed)?;
        Ok(RefundReport {
            refund_id: o["id"].as_str().ok_or_else(|| malformed("no refund id".into()))?.to_string(),
            payment_id: r.payment_id.clone(),
            status: refund_status(o["status"].as_str()),
            amount_cents: amount,
            currency,
            raw: o,
        })
    }
}

#[async_trait]
impl Payouts for PayPal {
    /// POST `/v1/payments/payouts`: one item to a PayPal email address,
    /// `sender_batch_id` = our reference (PayPal refuses a repeated one).
    async fn payout(&self, r: &PayoutRequest) -> Result<PayoutReport, PaymentError> {
        let value = to_paypal_value(r.amount_cents, &r.currency).map_err(|e| PaymentError::Rejected(e.to_string()))?;
        let mut item = json!({
            "recipient_type": "EMAIL", "receiver": r.destination, "sender_item_id": r.reference,
            "amount": {"value": value, "currency": r.currency.to_ascii_uppercase()},
        });
        if let Some(note) = &r.note {
            item["note"] = json!(note);
        }
        let body = json!({
            "sender_batch_header": {"sender_batch_id": r.reference, "email_subject": "You have a payout"},
            "items": [item],
        });
        let key = format!("payout-{}", r.reference);
        let o = self.call(reqwest::Method::POST, &["v1", "payments", "payouts"], Some(body.to_string()), Some(&key)).await?;
        payout_report(&o, Some(r)).map_err(malformed)
    }

    /// GET `/v1/payments/payouts/{batch id}`.
    async fn payout_status(&self, payout_id: &str) -> Result<PayoutReport, PaymentError> {
        let o = self.call(reqwest::Method::GET, &["v1", "payments", "payouts", payout_id], None, None).await?;
        payout_report(&o, None).map_err(malformed)
    }
}
