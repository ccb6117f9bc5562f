//! Payments through a provider: card checkouts, refunds and payouts.
//!
//! The platform talks to three providers, each through a real HTTP client
//! with a configurable base URL and a local fake that speaks the same
//! protocol (API, hosted checkout page, signed webhooks), so every flow runs
//! offline and in tests:
//!
//! | provider | client | fake | checkout | refunds | payouts |
//! |---|---|---|---|---|---|
//! | Paystack | [`Paystack`] | [`fake::FakePaystack`] | ✓ | — | — |
//! | Stripe | [`Stripe`] | [`fake_stripe::FakeStripe`] | Checkout Session | ✓ | Connect transfers |
//! | PayPal | [`PayPal`] | [`fake_paypal::FakePayPal`] | Orders v2 + capture | ✓ | Payouts |
//!
//! Every provider implements the core [`PaymentProvider`] (open a checkout,
//! ask what became of it, capture it, read a webhook); [`Refunds`] and
//! [`Payouts`] are capabilities on top, and [`Gateway`] names a provider
//! with all three, for a marketplace that holds `Arc<dyn Gateway>`.
//!
//! Nothing here touches the database: what a provider's report means for
//! our records is decided by the product and applied by its store. Amounts
//! are integers in the currency's minor unit ([`currency`]).

pub mod currency;
pub mod fake;
pub mod fake_paypal;
pub mod fake_stripe;
mod paypal;
mod paystack;
pub mod signature;
mod stripe;

use async_trait::async_trait;
use axum::http::HeaderMap;
use platform_kernel::payment::ChargeStatus;
use serde::Serialize;

pub use paypal::{PayPal, TRANSMISSION_HEADERS};
pub use paystack::Paystack;
pub use stripe::{Stripe, StripeSignature};

/// A checkout to open at the provider, with the price already locked.
#[derive(Debug, Clone, Serialize)]
pub struct CheckoutRequest {
    /// Ours, unique per checkout; every provider echoes it in its reports
    /// (Paystack's `reference`, Stripe's `client_reference_id` and
    /// metadata, PayPal's `custom_id`).
    pub reference: String,
    pub email: String,
    /// In the currency's minor unit (cents for KES and USD, yen for JPY).
    pub amount_cents: i64,
    /// ISO 4217, upper case.
    pub currency: String,
    /// Where the provider sends the buyer back after paying. Stripe and
    /// PayPal get it with `reference=<ours>` added to the query, so the
    /// return handler of every provider can read the reference.
    pub callback_url: String,
    /// Where the buyer lands on cancelling (Stripe, PayPal); `None` uses
    /// `callback_url` with `cancelled=1` added.
    pub cancel_url: Option<String>,
    /// What the buyer pays for, shown on the provider's page (Stripe's line
    /// item name, PayPal's purchase unit description).
    pub description: Option<String>,
    pub metadata: serde_json::Value,
}

impl CheckoutRequest {
    /// `callback_url` with `reference=<ours>` added to its query.
    pub fn return_url(&self) -> String {
        with_query(&self.callback_url, &[("reference", &self.reference)])
    }

    /// `cancel_url`, or `callback_url` with `reference` and `cancelled=1`.
    pub fn cancel_return_url(&self) -> String {
        match &self.cancel_url {
            Some(u) => u.clone(),
            None => with_query(&self.callback_url, &[("reference", &self.reference), ("cancelled", "1")]),
        }
    }
}

/// Adds query pairs to a URL, keeping what it already has.
pub(crate) fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
}

/// Where to send the buyer to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkout {
    pub authorization_url: String,
    /// Paystack's access code; Stripe's session id; PayPal's order id.
    pub access_code: String,
    /// Ours, as asked.
    pub reference: String,
    /// The id [`PaymentProvider::verify`] and [`PaymentProvider::capture`]
    /// take: Paystack: our reference; Stripe: the Checkout Session id
    /// (`cs_…`); PayPal: the order id. Store it with the checkout.
    pub provider_id: String,
}

/// The provider's account of one charge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChargeReport {
    /// Ours, as given when the checkout was opened.
    pub reference: String,
    pub status: ChargeStatus,
    pub amount_cents: i64,
    /// ISO 4217, upper case.
    pub currency: String,
    /// The gateway's words for the outcome ("Approved", "Declined", …).
    pub gateway_response: Option<String>,
    /// What `verify` takes for this charge (see [`Checkout::provider_id`]);
    /// a Stripe PaymentIntent event reports the PaymentIntent id
    /// (`pi_…`), which `verify` takes too.
    pub provider_id: String,
    /// What a refund names, once paid: Stripe's PaymentIntent id, PayPal's
    /// capture id, Paystack's transaction id.
    pub payment_id: Option<String>,
    /// The provider's payload, kept with the transaction for audit.
    pub raw: serde_json::Value,
}

/// A verified webhook delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// The provider's event id (Stripe `evt_…`, PayPal `WH-…`); deliveries
    /// of one event carry the same id, so a product records it to act once.
    /// Paystack sends none: there it is `{event}:{transaction id}`.
    pub event_id: String,
    /// The provider's event type (`checkout.session.completed`,
    /// `PAYMENT.CAPTURE.COMPLETED`, `charge.success`, …).
    pub event_type: String,
    pub event: WebhookEvent,
}

/// What a webhook says, in the platform's terms.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookEvent {
    /// A charge changed state: settle it by its reference.
    Charge(ChargeReport),
    /// The buyer approved a payment the merchant must now capture (PayPal's
    /// `CHECKOUT.ORDER.APPROVED`): call [`PaymentProvider::capture`] with
    /// `provider_id`, then settle the report it returns.
    Approved { reference: String, provider_id: String },
    /// Money went back to the buyer (Stripe's `charge.refunded`, PayPal's
    /// `PAYMENT.CAPTURE.REFUNDED`), possibly made outside this platform.
    Refunded(RefundNotice),
    /// An event this platform does not act on, or a payment it did not open.
    Other,
}

/// A provider's word that a payment was (partly) refunded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefundNotice {
    /// The refunded payment (Stripe's PaymentIntent, PayPal's capture).
    pub payment_id: String,
    /// Ours, when the provider carries it.
    pub reference: Option<String>,
    /// The refund this notice is about, when the provider says (PayPal).
    pub refund_id: Option<String>,
    /// Everything refunded from this payment so far.
    pub total_refunded_cents: i64,
    pub currency: String,
    pub raw: serde_json::Value,
}

/// Why a webhook delivery was refused. A product answers 401 for
/// [`BadSignature`](Self::BadSignature) and [`Stale`](Self::Stale), 400 for
/// [`Malformed`](Self::Malformed) and 503 for
/// [`Unavailable`](Self::Unavailable) (the provider then retries).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook signature is missing or wrong")]
    BadSignature,
    /// Correctly signed, but too old (or from the future): a replay.
    #[error("the webhook timestamp is {age_secs} s away from now, outside the tolerance")]
    Stale { age_secs: i64 },
    #[error("malformed webhook: {0}")]
    Malformed(String),
    /// The provider's verification service could not be asked (PayPal).
    #[error("the webhook could not be verified now: {0}")]
    Unavailable(String),
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// The provider could not be reached or answered garbage.
    #[error("payment provider unreachable: {0}")]
    Transport(String),
    /// The provider refused the request (bad key, bad amount…).
    #[error("payment provider refused: {0}")]
    Rejected(String),
    /// The provider has no charge with that reference.
    #[error("the payment provider has no transaction with that reference")]
    UnknownReference,
    #[error("malformed payload: {0}")]
    Malformed(String),
}

/// Every provider: open a checkout, learn what became of it, read webhooks.
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Short name stored with each transaction.
    fn name(&self) -> &'static str;
    /// Opens a checkout and returns where the buyer pays.
    async fn initialize(&self, request: &CheckoutRequest) -> Result<Checkout, PaymentError>;
    /// Asks the provider what became of a charge; `id` is
    /// [`Checkout::provider_id`].
    async fn verify(&self, id: &str) -> Result<ChargeReport, PaymentError>;
    /// Completes a checkout the buyer approved and reports it. Providers
    /// that take the money at approval (Paystack, Stripe Checkout) just
    /// verify; PayPal captures the order (idempotently: a second call
    /// reports the first capture). Call it on the buyer's return and on
    /// [`WebhookEvent::Approved`].
    async fn capture(&self, id: &str) -> Result<ChargeReport, PaymentError> {
        self.verify(id).await
    }
    /// Authenticates a webhook delivery from its headers and raw body, then
    /// reads it.
    async fn receive_webhook(&self, headers: &HeaderMap, body: &[u8]) -> Result<Webhook, WebhookError>;
    /// Origin of the hosted checkout page, for the Content-Security-Policy
    /// `form-action` list (None when it is served by this app).
    fn checkout_origin(&self) -> Option<String>;
}

platform_kernel::text_enum! {
    /// Where a refund stands at the provider.
    pub enum RefundStatus {
        Pending => "pending",
        Succeeded => "succeeded",
        Failed => "failed",
        Cancelled => "cancelled",
    }
}

platform_kernel::text_enum! {
    /// Where a payout stands at the provider.
    pub enum PayoutStatus {
        Pending => "pending",
        Paid => "paid",
        Failed => "failed",
    }
}

/// Money back to the buyer from one payment.
#[derive(Debug, Clone, Serialize)]
pub struct RefundRequest {
    /// [`ChargeReport::payment_id`] of the payment.
    pub payment_id: String,
    /// `None` refunds what is left of the payment.
    pub amount_cents: Option<i64>,
    /// The payment's currency (PayPal states amounts with it).
    pub currency: String,
    /// Ours, unique per refund: sent as the provider's idempotency key
    /// (`Idempotency-Key`, `PayPal-Request-Id`), so a retried request
    /// refunds once.
    pub idempotency_key: String,
    /// Shown to the buyer where the provider supports it; kept in metadata.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefundReport {
    pub refund_id: String,
    pub payment_id: String,
    pub status: RefundStatus,
    pub amount_cents: i64,
    pub currency: String,
    pub raw: serde_json::Value,
}

/// Money to a seller's account at the provider.
#[derive(Debug, Clone, Serialize)]
pub struct PayoutRequest {
    /// Ours, unique per payout; the idempotency key too.
    pub reference: String,
    /// Stripe: the connected account (`acct_…`); PayPal: the receiver's
    /// PayPal email address.
    pub destination: String,
    pub amount_cents: i64,
    pub currency: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PayoutReport {
    /// Stripe's transfer id (`tr_…`); PayPal's payout batch id.
    pub payout_id: String,
    pub reference: String,
    pub status: PayoutStatus,
    pub amount_cents: i64,
    pub currency: String,
    pub raw: serde_json::Value,
}

/// Providers that can give money back.
#[async_trait]
pub trait Refunds: Send + Sync {
    async fn refund(&self, request: &RefundRequest) -> Result<RefundReport, PaymentError>;
}

/// Providers that can pay sellers.
#[async_trait]
pub trait Payouts: Send + Sync {
    async fn payout(&self, request: &PayoutRequest) -> Result<PayoutReport, PaymentError>;
    /// Asks again about a payout (`payout_id` from [`PayoutReport`]).
    async fn payout_status(&self, payout_id: &str) -> Result<PayoutReport, PaymentError>;
}

/// A provider with checkout, refunds and payouts (Stripe, PayPal), for
/// products that hold `Arc<dyn Gateway>`; it upcasts to the capabilities.
pub trait Gateway: PaymentProvider + Refunds + Payouts {}
impl<T: PaymentProvider + Refunds + Payouts> Gateway for T {}

/// Reads one header as text.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A reqwest client with the timeout every provider call gets.
pub(crate) fn http_client() -> reqwest::Client {
    // A builder failure means TLS could not initialise; the default client
    // reports the same problem on first use, where it belongs.
    reqwest::Client::builder().timeout(std::time::Duration::from_secs(15)).build().unwrap_or_default()
}

pub(crate) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
