//! The Paystack API client.
//!
//! References: <https://paystack.com/docs/api/transaction/> (initialize,
//! verify) and <https://paystack.com/docs/payments/webhooks/> (events and
//! signatures). Amounts are in the currency's subunit; every response is an
//! envelope `{status: bool, message, data}`.

use crate::{ChargeReport, Checkout, CheckoutRequest, PaymentError, PaymentProvider, Webhook, WebhookError, WebhookEvent};
use async_trait::async_trait;
use axum::http::HeaderMap;
use platform_kernel::payment::ChargeStatus;
use serde::Deserialize;

/// Paystack over HTTPS. `Debug` is written by hand so the secret key never
/// reaches a log line.
#[derive(Clone)]
pub struct Paystack {
    base_url: String,
    secret_key: String,
    client: reqwest::Client,
}

impl std::fmt::Debug for Paystack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paystack").field("base_url", &self.base_url).field("secret_key", &"<redacted>").finish()
    }
}

impl Paystack {
    pub const DEFAULT_BASE_URL: &'static str = "https://api.paystack.co";
    /// Where Paystack hosts its checkout pages.
    pub const CHECKOUT_ORIGIN: &'static str = "https://checkout.paystack.com";
    /// The header carrying a webhook's signature.
    pub const SIGNATURE_HEADER: &'static str = "x-paystack-signature";

    pub fn new(secret_key: impl Into<String>) -> Self {
        let client = crate::http_client();
        Paystack { base_url: Self::DEFAULT_BASE_URL.into(), secret_key: secret_key.into(), client }
    }

    /// Points the client elsewhere (the fake Paystack, a proxy).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into().trim_end_matches('/').to_owned();
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    async fn call<T: serde::de::DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<(T, serde_json::Value), PaymentError> {
        let resp = req.bearer_auth(&self.secret_key).send().await.map_err(|e| PaymentError::Transport(e.without_url().to_string()))?;
        let status = resp.status();
        let body: serde_json::Value =
            resp.json().await.map_err(|e| PaymentError::Transport(format!("HTTP {status}: {}", e.without_url())))?;
        let envelope: Envelope = serde_json::from_value(body.clone()).map_err(|e| PaymentError::Malformed(e.to_string()))?;
        if !envelope.status {
            let message = envelope.message.unwrap_or_else(|| format!("HTTP {status}"));
            if envelope.code.as_deref() == Some("transaction_not_found") || message.to_lowercase().contains("reference not found") {
                return Err(PaymentError::UnknownReference);
            }
            return Err(PaymentError::Rejected(message));
        }
        let raw = body.get("data").cloned().unwrap_or(serde_json::Value::Null);
        let data = serde_json::from_value(raw.clone()).map_err(|e| PaymentError::Malformed(e.to_string()))?;
        Ok((data, raw))
    }
}

#[derive(Deserialize)]
struct Envelope {
    status: bool,
    message: Option<String>,
    code: Option<String>,
}

#[derive(Deserialize)]
struct InitializeData {
    authorization_url: String,
    access_code: String,
    reference: String,
}

/// The fields of a transaction object this platform reads.
#[derive(Deserialize)]
struct TransactionData {
    #[serde(default)]
    id: Option<serde_json::Value>,
    reference: String,
    status: String,
    amount: i64,
    currency: String,
    gateway_response: Option<String>,
}

/// Paystack's transaction statuses, folded into ours.
fn charge_status(s: &str) -> ChargeStatus {
    match s {
        "success" => ChargeStatus::Success,
        "failed" => ChargeStatus::Failed,
        "abandoned" => ChargeStatus::Abandoned,
        "reversed" => ChargeStatus::Reversed,
        // ongoing, pending, processing, queued: not final yet.
        _ => ChargeStatus::Pending,
    }
}

fn report(data: TransactionData, raw: serde_json::Value) -> ChargeReport {
    ChargeReport {
        status: charge_status(&data.status),
        provider_id: data.reference.clone(),
        payment_id: data.id.as_ref().map(id_text),
        reference: data.reference,
        amount_cents: data.amount,
        currency: data.currency,
        gateway_response: data.gateway_response,
        raw,
    }
}

/// Paystack ids are numbers; text for ours.
fn id_text(v: &serde_json::Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

/// Reads a webhook body: `{event, data}` where charge events carry a
/// transaction object. Paystack sends no event id, so the id is the event
/// name and the object's id (or reference): a redelivery carries the same.
pub(crate) fn parse_event(body: &[u8]) -> Result<Webhook, WebhookError> {
    #[derive(Deserialize)]
    struct Event {
        event: String,
        data: serde_json::Value,
    }
    let e: Event = serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let object = e.data.get("id").filter(|v| !v.is_null()).or_else(|| e.data.get("reference")).map(id_text).unwrap_or_default();
    let event_id = format!("{}:{object}", e.event);
    let event = if !e.event.starts_with("charge.") || e.event.starts_with("charge.dispute") {
        WebhookEvent::Other
    } else {
        let data: TransactionData =
            serde_json::from_value(e.data.clone()).map_err(|err| WebhookError::Malformed(format!("{}: {err}", e.event)))?;
        WebhookEvent::Charge(report(data, e.data))
    };
    Ok(Webhook { event_id, event_type: e.event, event })
}

#[async_trait]
impl PaymentProvider for Paystack {
    fn name(&self) -> &'static str {
        "paystack"
    }

    async fn initialize(&self, r: &CheckoutRequest) -> Result<Checkout, PaymentError> {
        let body = serde_json::json!({
            "email": r.email, "amount": r.amount_cents, "currency": r.currency, "reference": r.reference,
            "callback_url": r.callback_url, "metadata": r.metadata,
        });
        let req = self.client.post(format!("{}/transaction/initialize", self.base_url)).json(&body);
        let (d, _): (InitializeData, _) = self.call(req).await?;
        if d.reference != r.reference {
            return Err(PaymentError::Malformed(format!("initialize echoed reference {:?} for {:?}", d.reference, r.reference)));
        }
        Ok(Checkout {
            authorization_url: d.authorization_url,
            access_code: d.access_code,
            provider_id: d.reference.clone(),
            reference: d.reference,
        })
    }

    async fn verify(&self, reference: &str) -> Result<ChargeReport, PaymentError> {
        // References are ours (letters, digits, '_' and '-'), but encode anyway.
        let mut url = reqwest::Url::parse(&format!("{}/transaction/verify/", self.base_url))
            .map_err(|e| PaymentError::Transport(format!("bad base URL: {e}")))?;
        url.path_segments_mut().map_err(|_| PaymentError::Transport("bad base URL".into()))?.pop_if_empty().push(reference);
        let (d, raw): (TransactionData, _) = self.call(self.client.get(url)).await?;
        Ok(report(d, raw))
    }

    /// Checks `x-paystack-signature` (HMAC-SHA512 of the body), then reads.
    async fn receive_webhook(&self, headers: &HeaderMap, body: &[u8]) -> Result<Webhook, WebhookError> {
        if !crate::signature::verify(&self.secret_key, body, crate::header(headers, Self::SIGNATURE_HEADER)) {
            return Err(WebhookError::BadSignature);
        }
        parse_event(body)
    }

    fn checkout_origin(&self) -> Option<String> {
        if self.base_url == Self::DEFAULT_BASE_URL {
            return Some(Self::CHECKOUT_ORIGIN.to_string());
        }
        // Elsewhere (a fake or a proxy), checkout pages share the API's origin.
        reqwest::Url::parse(&self.base_url).ok().map(|u| u.origin().ascii_serialization())
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Bodies shaped like webhooks, with wrong types and truncations mixed in.
    fn body() -> impl Strategy<Value = Vec<u8>> {
        let json = r#"\{"event":"(charge\.(success|failed|dispute\.create)|transfer\.x)?","data":(\{("reference":"[a-z0-9]{0,8}",?)?("amount":-?[0-9]{0,20},?)?("status":"[a-z]{0,8}",?)?("currency":(null|"KES"|1),?)?\}|null|\[\]|"x")\}"#;
        prop_oneof![proptest::collection::vec(any::<u8>(), 0..200), json.prop_map(String::into_bytes)]
    }

    proptest! {
        /// Authentic or not, a webhook body is an event or `Malformed`, never a panic.
        #[test]
        fn any_body_is_an_event_or_malformed(b in body()) {
            match parse_event(&b) {
                Ok(_) | Err(WebhookError::Malformed(_)) => {}
                Err(other) => prop_assert!(false, "unexpected error {:?}", other),
            }
        }

        #[test]
        fn only_the_right_signature_verifies(secret in "\\PC{1,20}", b in proptest::collection::vec(any::<u8>(), 0..100), sig in proptest::option::of("\\PC{0,140}")) {
            let right = crate::signature::sign(&secret, &b);
            prop_assert!(crate::signature::verify(&secret, &b, Some(&right)));
            if let Some(s) = sig.filter(|s| !s.trim().eq_ignore_ascii_case(&right)) {
                prop_assert!(!crate::signature::verify(&secret, &b, Some(&s)));
            }
        }
    }
}
