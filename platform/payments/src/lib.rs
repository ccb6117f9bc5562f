//! Card and mobile-money payments through a provider. The platform talks to
//! a [`PaymentProvider`]; [`Paystack`] is the real one, and [`fake`] serves
//! a local stand-in that speaks the same protocol (API, hosted checkout,
//! signed webhooks) so the purchase flow runs offline and in tests.
//!
//! Nothing here touches the database: what a provider's report means for
//! our records is decided in `platform_kernel::payment` and applied by the
//! store.

pub mod fake;
mod paystack;
pub mod signature;

use async_trait::async_trait;
use platform_kernel::payment::ChargeStatus;
use serde::Serialize;

pub use paystack::Paystack;

/// A checkout to open at the provider, with the price already locked.
#[derive(Debug, Clone, Serialize)]
pub struct CheckoutRequest {
    /// Ours, unique per checkout; the provider echoes it everywhere.
    pub reference: String,
    pub email: String,
    /// In the currency's subunit (cents for KES), as the provider counts it.
    pub amount_cents: i64,
    pub currency: String,
    /// Where the provider sends the buyer back.
    pub callback_url: String,
    pub metadata: serde_json::Value,
}

/// Where to send the buyer to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkout {
    pub authorization_url: String,
    pub access_code: String,
    pub reference: String,
}

/// The provider's account of one charge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChargeReport {
    pub reference: String,
    pub status: ChargeStatus,
    pub amount_cents: i64,
    pub currency: String,
    /// The gateway's words for the outcome ("Approved", "Declined", …).
    pub gateway_response: Option<String>,
    /// The provider's payload, kept with the transaction for audit.
    pub raw: serde_json::Value,
}

/// A parsed webhook delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookEvent {
    /// A charge changed state (`charge.success` and friends).
    Charge(ChargeReport),
    /// An event this platform does not act on (transfers, subscriptions…).
    Other(String),
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

#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Short name stored with each transaction.
    fn name(&self) -> &'static str;
    /// Opens a checkout and returns where the buyer pays.
    async fn initialize(&self, request: &CheckoutRequest) -> Result<Checkout, PaymentError>;
    /// Asks the provider what became of a charge.
    async fn verify(&self, reference: &str) -> Result<ChargeReport, PaymentError>;
    /// Whether a webhook body really comes from the provider.
    fn webhook_is_authentic(&self, body: &[u8], signature: Option<&str>) -> bool;
    /// Reads a webhook body (only call after checking it is authentic).
    fn parse_webhook(&self, body: &[u8]) -> Result<WebhookEvent, PaymentError>;
    /// Origin of the hosted checkout page, for the Content-Security-Policy
    /// `form-action` list (None when it is served by this app).
    fn checkout_origin(&self) -> Option<String>;
}
