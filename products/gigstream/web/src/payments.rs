//! The payment seam. Placing an order asks a [`Checkout`] where the buyer
//! pays; whatever provider takes the money reports back through
//! [`confirm`], which credits escrow exactly once per order (idempotent by
//! the provider's event id and by our reference). Stripe and PayPal plug in
//! as further `Checkout`s whose webhooks call [`confirm`]; until then
//! [`FakeCheckout`] is a local stand-in page (no real money).

use crate::{AppError, AppState};
use async_trait::async_trait;
use chrono::Utc;
use gigstream_domain::Currency;
use gigstream_store::orders::{self, Confirmed, Order};

#[async_trait]
pub trait Checkout: Send + Sync {
    /// The provider's short name, stored with the payment.
    fn provider(&self) -> &'static str;
    /// Where to send the buyer to pay for `order` (its total and reference).
    async fn start(&self, order: &Order) -> Result<String, AppError>;
}

/// The local stand-in: a page on this site with a "Pay" button.
pub struct FakeCheckout;

#[async_trait]
impl Checkout for FakeCheckout {
    fn provider(&self) -> &'static str {
        "fake"
    }

    async fn start(&self, order: &Order) -> Result<String, AppError> {
        Ok(format!("/pay/fake/{}", order.payment_reference))
    }
}

/// A provider reports a settled payment: escrow is credited once.
pub async fn confirm(
    state: &AppState,
    provider: &str,
    reference: &str,
    provider_event_id: &str,
    amount_minor: i64,
    currency: Currency,
) -> Result<Confirmed, AppError> {
    Ok(orders::confirm_payment(&state.db, provider, reference, provider_event_id, amount_minor, currency, Utc::now()).await?)
}
