//! The Stripe API client: Checkout Sessions, refunds, Connect transfers and
//! webhook signatures.
//!
//! References: <https://docs.stripe.com/api/checkout/sessions/create>,
//! <https://docs.stripe.com/api/refunds/create>,
//! <https://docs.stripe.com/api/transfers/create>,
//! <https://docs.stripe.com/webhooks#verify-manually>. Requests are
//! form-encoded (`line_items[0][price_data][unit_amount]=…`), answers are
//! JSON objects, errors `{"error": {"type", "code", "message"}}` with a 4xx
//! status. Amounts are integers in the currency's smallest unit; currencies
//! go out and come back lower case (we report them upper case).

use crate::{
    ChargeReport, Checkout, CheckoutRequest, PaymentError, PaymentProvider, PayoutReport, PayoutRequest, PayoutStatus, Payouts,
    RefundNotice, RefundReport, RefundRequest, RefundStatus, Refunds, Webhook, WebhookError, WebhookEvent,
};
use async_trait::async_trait;
use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use platform_kernel::payment::ChargeStatus;
use serde_json::Value;
use sha2::Sha256;
use std::sync::Arc;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Stripe's webhook signature scheme: the `Stripe-Signature` header is
/// `t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=…][,v0=…]`, the HMAC keyed
/// with the endpoint's signing secret (`whsec_…`) over `"{t}.{body}"`.
/// Any `v1` may match (Stripe sends several while a secret is rolled);
/// other schemes are ignored. A correctly signed delivery whose `t` is more
/// than the tolerance away from now is a replay.
#[derive(Clone)]
pub struct StripeSignature {
    secret: String,
    tolerance_secs: i64,
}

impl std::fmt::Debug for StripeSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeSignature").field("secret", &"<redacted>").field("tolerance_secs", &self.tolerance_secs).finish()
    }
}

impl StripeSignature {
    /// Stripe's libraries default to five minutes.
    pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

    pub fn new(secret: impl Into<String>) -> Self {
        StripeSignature { secret: secret.into(), tolerance_secs: Self::DEFAULT_TOLERANCE_SECS }
    }

    pub fn with_tolerance_secs(mut self, secs: i64) -> Self {
        self.tolerance_secs = secs;
        self
    }

    fn mac(&self, timestamp: i64, body: &[u8]) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(self.secret.as_bytes()).expect("HMAC takes keys of any length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }

    /// The header value Stripe would send for `body` at `timestamp`.
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        format!("t={timestamp},v1={}", hex::encode(self.mac(timestamp, body)))
    }

    /// Checks a `Stripe-Signature` header against `body` at time `now`
    /// (unix seconds): the signature first, then the timestamp, so a stale
    /// verdict is only given to deliveries that really are Stripe's.
    pub fn verify(&self, header: Option<&str>, body: &[u8], now: i64) -> Result<(), WebhookError> {
        let header = header.ok_or(WebhookError::BadSignature)?;
        let mut timestamp = None;
        let mut candidates = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
                Some(("v1", sig)) => candidates.extend(hex::decode(sig).ok()),
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or(WebhookError::BadSignature)?;
        let expected = self.mac(timestamp, body);
        // Every candidate is compared in full, so the time taken says nothing
        // about which one (if any) matched.
        let matched = candidates.iter().fold(0u8, |acc, c| acc | u8::from(c.len() == 32 && bool::from(c.as_slice().ct_eq(&expected))));
        if matched == 0 {
            return Err(WebhookError::BadSignature);
        }
        let age_secs = now - timestamp;
        if age_secs.abs() > self.tolerance_secs {
            return Err(WebhookError::Stale { age_secs });
        }
        Ok(())
    }
}

type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Stripe over HTTPS. `Debug` is written by hand so the keys never reach a
/// log line.
#[derive(Clone)]
pub struct Stripe {
    base_url: String,
    secret_key: String,
    signature: StripeSignature,
    clock: Clock,
    client: reqwest::Client,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe").field("base_url", &self.base_url).field("secret_key", &"<redacted>").finish_non_exhaustive()
    }
}

impl Stripe {
    pub const DEFAULT_BASE_URL: &'static str = "https://api.stripe.com";
    /// Where Stripe hosts Checkout pages.
    pub const CHECKOUT_ORIGIN: &'static str = "https://checkout.stripe.com";
    pub const SIGNATURE_HEADER: &'static str = "stripe-signature";

    /// `secret_key` (`sk_…`) authenticates API calls; `webhook_secret`
    /// (`whsec_…`, the endpoint's signing secret) checks webhooks.
    pub fn new(secret_key: impl Into<String>, webhook_secret: impl Into<String>) -> Self {
        Stripe {
            base_url: Self::DEFAULT_BASE_URL.into(),
            secret_key: secret_key.into(),
            signature: StripeSignature::new(webhook_secret),
            clock: Arc::new(|| chrono::Utc::now().timestamp()),
            client: crate::http_client(),
        }
    }

    /// Points the client elsewhere (the fake Stripe, a proxy).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into().trim_end_matches('/').to_owned();
        self
    }

    /// How far a webhook's timestamp may be from now (default 300 s).
    pub fn with_tolerance_secs(mut self, secs: i64) -> Self {
        self.signature = self.signature.with_tolerance_secs(secs);
        self
    }

    /// The clock webhook timestamps are checked against (unix seconds).
    pub fn with_clock(mut self, now: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(now);
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// GET `/v1/checkout/sessions/{id}`: the session as Stripe returns it.
    pub async fn checkout_session(&self, id: &str) -> Result<Value, PaymentError> {
        self.call(reqwest::Method::GET, &["v1", "checkout", "sessions", id], None, None).await
    }

    /// GET `/v1/payment_intents/{id}`.
    pub async fn payment_intent(&self, id: &str) -> Result<Value, PaymentError> {
        self.call(reqwest::Method::GET, &["v1", "payment_intents", id], None, None).await
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &[&str],
        form: Option<Vec<(String, String)>>,
        idempotency_key: Option<&str>,
    ) -> Result<Value, PaymentError> {
        let mut url = reqwest::Url::parse(&self.base_url).map_err(|e| PaymentError::Transport(format!("bad base URL: {e}")))?;
        url.path_segments_mut().map_err(|_| PaymentError::Transport("bad base URL".into()))?.pop_if_empty().extend(path);
        let mut req = self.client.request(method, url).bearer_auth(&self.secret_key);
        if let Some(key) = idempotency_key {
            req = req.header("Idempotency-Key", key);
        }
        if let Some(form) = form {
            let body = serde_urlencoded::to_string(&form).map_err(|e| PaymentError::Malformed(e.to_string()))?;
            req = req.header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(body);
        }
        let resp = req.send().await.map_err(|e| PaymentError::Transport(e.without_url().to_string()))?;
        let status = resp.status();
        let body: Value = resp.json().await.map_err(|e| PaymentError::Transport(format!("HTTP {status}: {}", e.without_url())))?;
        if status.is_success() {
            return Ok(body);
        }
        let error = &body["error"];
        let message = error["message"].as_str().map(str::to_string).unwrap_or_else(|| format!("HTTP {status}"));
        // A missing object in the path is a 404; `resource_missing` on a 400
        // names a bad parameter (a destination that does not exist).
        if status.as_u16() == 404 {
            return Err(PaymentError::UnknownReference);
        }
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(PaymentError::Transport(message));
        }
        Err(PaymentError::Rejected(message))
    }
}

/// Form fields for a Checkout Session in payment mode with one line item.
pub(crate) fn session_form(r: &CheckoutRequest) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = [
        ("mode", "payment".to_string()),
        ("line_items[0][quantity]", "1".into()),
        ("line_items[0][price_data][currency]", r.currency.to_ascii_lowercase()),
        ("line_items[0][price_data][unit_amount]", r.amount_cents.to_string()),
        ("line_items[0][price_data][product_data][name]", r.description.clone().unwrap_or_else(|| format!("Order {}", r.reference))),
        ("success_url", r.return_url()),
        ("cancel_url", r.cancel_return_url()),
        ("client_reference_id", r.reference.clone()),
        ("customer_email", r.email.clone()),
        ("metadata[reference]", r.reference.clone()),
        ("payment_intent_data[metadata][reference]", r.reference.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    // Stripe metadata holds strings: copy the top-level scalars.
    if let Some(extra) = r.metadata.as_object() {
        for (k, v) in extra.iter().filter(|(k, _)| k.as_str() != "reference") {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) => v.to_string(),
                _ => continue,
            };
            form.push((format!("metadata[{k}]"), text.clone()));
            form.push((format!("payment_intent_data[metadata][{k}]"), text));
        }
    }
    form
}

fn text(v: &Value, field: &str) -> Result<String, String> {
    v[field].as_str().map(str::to_string).ok_or_else(|| format!("no {field}"))
}

fn int(v: &Value, field: &str) -> Result<i64, String> {
    v[field].as_i64().ok_or_else(|| format!("no {field}"))
}

/// An id field that may be a string or an expanded object.
fn id_of(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string).or_else(|| v["id"].as_str().map(str::to_string))
}

fn our_reference(o: &Value) -> Option<String> {
    o["client_reference_id"].as_str().or_else(|| o["metadata"]["reference"].as_str()).map(str::to_string)
}

/// A Checkout Session as a charge report; `None` when it is not ours.
pub(crate) fn session_report(o: &Value) -> Result<Option<ChargeReport>, String> {
    let Some(reference) = our_reference(o) else { return Ok(None) };
    let status = match (o["status"].as_str(), o["payment_status"].as_str()) {
        (_, Some("paid" | "no_payment_required")) => ChargeStatus::Success,
        (Some("expired"), _) => ChargeStatus::Abandoned,
        _ => ChargeStatus::Pending,
    };
    Ok(Some(ChargeReport {
        reference,
        status,
        amount_cents: int(o, "amount_total")?,
        currency: text(o, "currency")?.to_ascii_uppercase(),
        gateway_response: o["payment_status"].as_str().map(str::to_string),
        provider_id: text(o, "id")?,
        payment_id: id_of(&o["payment_intent"]),
        raw: o.clone(),
    }))
}

/// A PaymentIntent as a charge report; `None` when it is not ours.
pub(crate) fn intent_report(o: &Value) -> Result<Option<ChargeReport>, String> {
    let Some(reference) = o["metadata"]["reference"].as_str().map(str::to_string) else { return Ok(None) };
    let failure = o["last_payment_error"]["message"].as_str().map(str::to_string);
    let status = match o["status"].as_str() {
        Some("succeeded") => ChargeStatus::Success,
        Some("canceled") => ChargeStatus::Abandoned,
        Some("requires_payment_method") if failure.is_some() => ChargeStatus::Failed,
        _ => ChargeStatus::Pending,
    };
    let amount = match o["amount_received"].as_i64() {
        Some(received) if status == ChargeStatus::Success && received > 0 => received,
        _ => int(o, "amount")?,
    };
    let id = text(o, "id")?;
    Ok(Some(ChargeReport {
        reference,
        status,
        amount_cents: amount,
        currency: text(o, "currency")?.to_ascii_uppercase(),
        gateway_response: failure.or_else(|| o["status"].as_str().map(str::to_string)),
        provider_id: id.clone(),
        payment_id: Some(id),
        raw: o.clone(),
    }))
}

fn refund_status(s: Option<&str>) -> RefundStatus {
    match s {
        Some("succeeded") => RefundStatus::Succeeded,
        Some("failed") => RefundStatus::Failed,
        Some("canceled") => RefundStatus::Cancelled,
        // pending, requires_action
        _ => RefundStatus::Pending,
    }
}

fn refund_report(o: &Value) -> Result<RefundReport, String> {
    Ok(RefundReport {
        refund_id: text(o, "id")?,
        payment_id: id_of(&o["payment_intent"]).or_else(|| id_of(&o["charge"])).ok_or("no payment_intent")?,
        status: refund_status(o["status"].as_str()),
        amount_cents: int(o, "amount")?,
        currency: text(o, "currency")?.to_ascii_uppercase(),
        raw: o.clone(),
    })
}

fn transfer_report(o: &Value) -> Result<PayoutReport, String> {
    Ok(PayoutReport {
        payout_id: text(o, "id")?,
        reference: o["metadata"]["reference"].as_str().or_else(|| o["transfer_group"].as_str()).unwrap_or_default().to_string(),
        status: if o["reversed"].as_bool() == Some(true) { PayoutStatus::Failed } else { PayoutStatus::Paid },
        amount_cents: int(o, "amount")?,
        currency: text(o, "currency")?.to_ascii_uppercase(),
        raw: o.clone(),
    })
}

/// Reads an event `{id, type, data: {object}}` into the platform's terms.
pub(crate) fn parse_event(body: &[u8]) -> Result<Webhook, WebhookError> {
    let e: Value = serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let (Some(event_id), Some(event_type)) = (e["id"].as_str(), e["type"].as_str()) else {
        return Err(WebhookError::Malformed("an event has an id and a type".into()));
    };
    let o = &e["data"]["object"];
    if !o.is_object() {
        return Err(WebhookError::Malformed(format!("{event_type}: no data.object")));
    }
    let bad = |m: String| WebhookError::Malformed(format!("{event_type}: {m}"));
    let charge = |r: Option<ChargeReport>| r.map_or(WebhookEvent::Other, WebhookEvent::Charge);
    let event = match event_type {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" | "checkout.session.expired" => {
            charge(session_report(o).map_err(bad)?)
        }
        "checkout.session.async_payment_failed" => {
            charge(session_report(o).map_err(bad)?.map(|r| ChargeReport { status: ChargeStatus::Failed, ..r }))
        }
        "payment_intent.succeeded" | "payment_intent.canceled" => charge(intent_report(o).map_err(bad)?),
        "payment_intent.payment_failed" => {
            charge(intent_report(o).map_err(bad)?.map(|r| ChargeReport { status: ChargeStatus::Failed, ..r }))
        }
        "charge.refunded" => WebhookEvent::Refunded(RefundNotice {
            payment_id: id_of(&o["payment_intent"]).or_else(|| id_of(&o["id"])).ok_or_else(|| bad("no payment_intent".into()))?,
            reference: o["metadata"]["reference"].as_str().map(str::to_string),
            refund_id: o["refunds"]["data"][0]["id"].as_str().map(str::to_string),
            total_refunded_cents: int(o, "amount_refunded").map_err(bad)?,
            currency: text(o, "currency").map_err(bad)?.to_ascii_uppercase(),
            raw: o.clone(),
        }),
        _ => WebhookEvent::Other,
    };
    Ok(Webhook { event_id: event_id.to_string(), event_type: event_type.to_string(), event })
}

fn malformed(m: String) -> PaymentError {
    PaymentError::Malformed(m)
}

#[async_trait]
impl PaymentProvider for Stripe {
    fn name(&self) -> &'static str {
        "stripe"
    }

    /// POST `/v1/checkout/sessions`, idempotent per reference.
    async fn initialize(&self, r: &CheckoutRequest) -> Result<Checkout, PaymentError> {
        let key = format!("checkout-{}", r.reference);
        let s = self.call(reqwest::Method::POST, &["v1", "checkout", "sessions"], Some(session_form(r)), Some(&key)).await?;
        let (id, url) = (text(&s, "id").map_err(malformed)?, text(&s, "url").map_err(malformed)?);
        if our_reference(&s).as_deref() != Some(r.reference.as_str()) {
            return Err(malformed(format!("the session does not carry the reference {:?}", r.reference)));
        }
        Ok(Checkout { authorization_url: url, access_code: id.clone(), reference: r.reference.clone(), provider_id: id })
    }

    /// Retrieves the Checkout Session (`cs_…`) or PaymentIntent (`pi_…`).
    async fn verify(&self, id: &str) -> Result<ChargeReport, PaymentError> {
        let report = if id.starts_with("pi_") {
            intent_report(&self.payment_intent(id).await?)
        } else {
            session_report(&self.checkout_session(id).await?)
        };
        report.map_err(malformed)?.ok_or_else(|| malformed(format!("{id} carries no reference of ours")))
    }

    async fn receive_webhook(&self, headers: &HeaderMap, body: &[u8]) -> Result<Webhook, WebhookError> {
        self.signature.verify(crate::header(headers, Self::SIGNATURE_HEADER), body, (self.clock)())?;
        parse_event(body)
    }

    fn checkout_origin(&self) -> Option<String> {
        if self.base_url == Self::DEFAULT_BASE_URL {
            return Some(Self::CHECKOUT_ORIGIN.to_string());
        }
        reqwest::Url::parse(&self.base_url).ok().map(|u| u.origin().ascii_serialization())
    }
}

#[async_trait]
impl Refunds for Stripe {
    /// POST `/v1/refunds` with `Idempotency-Key`.
    async fn refund(&self, r: &RefundRequest) -> Result<RefundReport, PaymentError> {
        let target = if r.payment_id.starts_with("ch_") { "charge" } else { "payment_intent" };
        let mut form = vec![(target.to_string(), r.payment_id.clone()), ("metadata[idempotency_key]".into(), r.idempotency_key.clone())];
        if let Some(amount) = r.amount_cents {
            form.push(("amount".into(), amount.to_string()));
        }
        if let Some(reason) = &r.reason {
            form.push(("metadata[reason]".into(), reason.clone()));
        }
        let o = self.call(reqwest::Method::POST, &["v1", "refunds"], Some(form), Some(&r.idempotency_key)).await?;
        refund_report(&o).map_err(malformed)
    }
}

#[async_trait]
impl Payouts for Stripe {
    /// POST `/v1/transfers` to a connected account, idempotent per reference.
    async fn payout(&self, r: &PayoutRequest) -> Result<PayoutReport, PaymentError> {
        let mut form = vec![
            ("amount".to_string(), r.amount_cents.to_string()),
            ("currency".into(), r.currency.to_ascii_lowercase()),
            ("destination".into(), r.destination.clone()),
            ("transfer_group".into(), r.reference.clone()),
            ("metadata[reference]".into(), r.reference.clone()),
        ];
        if let Some(note) = &r.note {
            form.push(("description".into(), note.clone()));
        }
        let key = format!("payout-{}", r.reference);
        let o = self.call(reqwest::Method::POST, &["v1", "transfers"], Some(form), Some(&key)).await?;
        transfer_report(&o).map_err(malformed)
    }

    /// GET `/v1/transfers/{id}`.
    async fn payout_status(&self, payout_id: &str) -> Result<PayoutReport, PaymentError> {
        let o = self.call(reqwest::Method::GET, &["v1", "transfers", payout_id], None, None).await?;
        transfer_report(&o).map_err(malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_an_independent_hmac_sha256() {
        // RFC 4231 test case 2 keyed "Jefe": the signed payload is "{t}.{body}".
        let sig = StripeSignature::new("Jefe");
        let header = sig.sign(1, b"what do ya want for nothing?");
        let mut mac = HmacSha256::new_from_slice(b"Jefe").unwrap();
        mac.update(b"1.what do ya want for nothing?");
        assert_eq!(header, format!("t=1,v1={}", hex::encode(mac.finalize().into_bytes())));
    }

    #[test]
    fn signature_verdicts() {
        let sig = StripeSignature::new("whsec_test");
        let body = br#"{"id":"evt_1"}"#;
        let t = 1_700_000_000;
        let good = sig.sign(t, body);
        let v1 = good.split_once("v1=").unwrap().1.to_string();
        let other = StripeSignature::new("whsec_other").sign(t, body);
        let other_v1 = other.split_once("v1=").unwrap().1.to_string();
        type Case<'a> = (Option<String>, &'a [u8], i64, Result<(), WebhookError>);
        let table: Vec<Case> = vec![
            (Some(good.clone()), body, t, Ok(())),
            (Some(good.clone()), body, t + 300, Ok(())),
            (Some(good.clone()), body, t - 300, Ok(())),
            (Some(good.clone()), body, t + 301, Err(WebhookError::Stale { age_secs: 301 })),
            (Some(good.clone()), body, t - 301, Err(WebhookError::Stale { age_secs: -301 })),
            // Several v1 values (a rolled secret), and v0 ignored.
            (Some(format!("t={t},v1={other_v1},v1={v1},v0=00")), body, t, Ok(())),
            (Some(format!("t={t}, v1={}", v1.to_uppercase())), body, t, Ok(())),
            (Some(other), body, t, Err(WebhookError::BadSignature)),
            (Some(good.clone()), br#"{"id":"evt_2"}"#, t, Err(WebhookError::BadSignature)),
            // The timestamp is part of what is signed.
            (Some(format!("t={},v1={v1}", t + 1)), body, t, Err(WebhookError::BadSignature)),
            (Some(format!("t={t},v0={v1}")), body, t, Err(WebhookError::BadSignature)),
            (Some(format!("v1={v1}")), body, t, Err(WebhookError::BadSignature)),
            (Some(format!("t={t},v1={}", &v1[..32])), body, t, Err(WebhookError::BadSignature)),
            (Some(format!("t=soon,v1={v1}")), body, t, Err(WebhookError::BadSignature)),
            (Some(String::new()), body, t, Err(WebhookError::BadSignature)),
            (None, body, t, Err(WebhookError::BadSignature)),
        ];
        for (header, body, now, want) in table {
            assert_eq!(sig.verify(header.as_deref(), body, now), want, "{header:?} at {now}");
        }
        // A stale forgery is a forgery.
        assert_eq!(StripeSignature::new("x").verify(Some(&good), body, t + 10_000), Err(WebhookError::BadSignature));
        // The window is configurable.
        assert_eq!(sig.clone().with_tolerance_secs(10).verify(Some(&good), body, t + 11), Err(WebhookError::Stale { age_secs: 11 }));
    }
}
