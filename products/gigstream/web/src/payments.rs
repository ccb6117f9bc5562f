//! The payment seam: Stripe and PayPal through the platform's
//! [`Gateway`]s. Placing an order opens a checkout at the method the buyer
//! chose; the provider's signed webhook (or the buyer's return) settles it
//! through [`settle`], which credits escrow exactly once per order
//! (idempotent by the provider's event id and by our reference). Refunds
//! and seller payouts go back out through the same gateways, each with an
//! idempotency key, so a retry never pays twice.
//!
//! In fake mode both providers are the platform's protocol-true fakes,
//! served by this app under [`FAKE_STRIPE_PREFIX`] and [`FAKE_PAYPAL_PREFIX`]
//! and reached over loopback HTTP by the real clients.

use crate::{AppError, AppState};
use chrono::Utc;
use gigstream_domain::ids::{OrderId, WithdrawalId};
use gigstream_domain::wallet::{PayMethod, WithdrawalStatus};
use gigstream_domain::Currency;
use gigstream_store::orders::{self, Confirmed, Order};
use gigstream_store::payments::{self as paid, RefundSent};
use gigstream_store::wallet::{self, Decided};
use gigstream_store::StoreError;
use platform_kernel::payment::ChargeStatus;
use platform_payments::fake::CheckoutBase;
use platform_payments::fake_paypal::FakePayPal;
use platform_payments::fake_stripe::FakeStripe;
use platform_payments::{
    ChargeReport, CheckoutRequest, Gateway, PayPal, PaymentError, PayoutRequest, PayoutStatus, RefundRequest, RefundStatus, Stripe,
    WebhookError, WebhookEvent,
};
use std::sync::Arc;

pub const FAKE_STRIPE_PREFIX: &str = "/fake-stripe";
pub const FAKE_PAYPAL_PREFIX: &str = "/fake-paypal";

/// Stripe's keys and where its API is.
#[derive(Clone)]
pub struct StripeKeys {
    pub secret_key: String,
    pub webhook_secret: String,
    pub base_url: String,
}

/// PayPal's REST app and where its API is.
#[derive(Clone)]
pub struct PayPalKeys {
    pub client_id: String,
    pub client_secret: String,
    pub webhook_id: String,
    pub base_url: String,
}

/// How this app reaches its payment providers.
#[derive(Clone)]
pub enum PaymentsMode {
    /// Both providers faked by this app itself, reached at `self_url`
    /// (`http://<bind address>`): no network, no real money.
    Fake { self_url: String },
    /// The real APIs (or any base URL); a method without keys is offered to nobody.
    Live { stripe: Option<StripeKeys>, paypal: Option<PayPalKeys> },
}

#[derive(Clone)]
pub struct PaymentsConfig {
    pub mode: PaymentsMode,
    /// Public origin of this site for the providers' return links; `None`
    /// uses the fake's `self_url`, or the request's host.
    pub public_url: Option<String>,
}

impl std::fmt::Debug for PaymentsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match &self.mode {
            PaymentsMode::Fake { self_url } => format!("fake at {self_url}"),
            PaymentsMode::Live { stripe, paypal } => format!("live (stripe: {}, paypal: {})", stripe.is_some(), paypal.is_some()),
        };
        f.debug_struct("PaymentsConfig").field("mode", &mode).field("public_url", &self.public_url).finish()
    }
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        PaymentsConfig { mode: PaymentsMode::Fake { self_url: "http://127.0.0.1:8082".into() }, public_url: None }
    }
}

/// The fakes this app serves in fake mode (tests drive them too).
#[derive(Clone)]
pub struct Fakes {
    pub stripe: FakeStripe,
    pub paypal: FakePayPal,
}

/// The configured gateways.
pub struct Payments {
    stripe: Option<Arc<dyn Gateway>>,
    paypal: Option<Arc<dyn Gateway>>,
    pub public_url: Option<String>,
    /// Where this app reaches itself in fake mode.
    pub self_url: Option<String>,
    pub fakes: Option<Fakes>,
}

impl Payments {
    pub fn new(config: &PaymentsConfig) -> Payments {
        match &config.mode {
            PaymentsMode::Fake { self_url } => {
                let self_url = self_url.trim_end_matches('/').to_string();
                let (sk, whsec) = FakeStripe::random_keys();
                let stripe_fake = FakeStripe::new(sk.clone(), whsec.clone(), CheckoutBase::CallbackOrigin(FAKE_STRIPE_PREFIX.into()));
                stripe_fake.set_webhook_url(format!("{self_url}/api/webhooks/stripe"));
                let (id, secret, hook) = FakePayPal::random_credentials();
                let paypal_base = format!("{self_url}{FAKE_PAYPAL_PREFIX}");
                let paypal_fake = FakePayPal::new(
                    id.clone(),
                    secret.clone(),
                    hook.clone(),
                    paypal_base.clone(),
                    CheckoutBase::CallbackOrigin(FAKE_PAYPAL_PREFIX.into()),
                );
                paypal_fake.set_webhook_url(format!("{self_url}/api/webhooks/paypal"));
                Payments {
                    stripe: Some(Arc::new(Stripe::new(sk, whsec).with_base_url(format!("{self_url}{FAKE_STRIPE_PREFIX}")))),
                    paypal: Some(Arc::new(PayPal::new(id, secret, hook).with_base_url(paypal_base))),
                    public_url: config.public_url.clone(),
                    self_url: Some(self_url),
                    fakes: Some(Fakes { stripe: stripe_fake, paypal: paypal_fake }),
                }
            }
            PaymentsMode::Live { stripe, paypal } => Payments {
                stripe: stripe.as_ref().map(|k| {
                    Arc::new(Stripe::new(k.secret_key.clone(), k.webhook_secret.clone()).with_base_url(k.base_url.clone()))
                        as Arc<dyn Gateway>
                }),
                paypal: paypal.as_ref().map(|k| {
                    Arc::new(
                        PayPal::new(k.client_id.clone(), k.client_secret.clone(), k.webhook_id.clone()).with_base_url(k.base_url.clone()),
                    ) as Arc<dyn Gateway>
                }),
                public_url: config.public_url.clone(),
                self_url: None,
                fakes: None,
            },
        }
    }

    /// The methods buyers may choose, in display order.
    pub fn methods(&self) -> Vec<PayMethod> {
        PayMethod::ALL.iter().copied().filter(|m| self.get(*m).is_some()).collect()
    }

    pub fn get(&self, method: PayMethod) -> Option<&Arc<dyn Gateway>> {
        match method {
            PayMethod::Stripe => self.stripe.as_ref(),
            PayMethod::Paypal => self.paypal.as_ref(),
        }
    }

    /// The gateway of a method, or a field error naming `field`.
    pub fn require(&self, method: PayMethod, field: &'static str) -> Result<&Arc<dyn Gateway>, AppError> {
        self.get(method).ok_or_else(|| AppError::field(field, format!("{} is not available here", method.label())))
    }

    /// Origins of hosted checkout pages (for the CSP's form-action).
    pub fn checkout_origins(&self) -> Vec<String> {
        [&self.stripe, &self.paypal].into_iter().flatten().filter_map(|g| g.checkout_origin()).collect()
    }
}

/// Reads a method name from a form or body field.
pub fn method_of(text: &str, field: &'static str) -> Result<PayMethod, AppError> {
    text.parse().map_err(|_| AppError::field(field, "Choose how to pay: stripe or paypal"))
}

/// Opens a checkout for `order` at `method`; returns where the buyer pays.
/// `origin` is this site as the buyer reached it (for the return links).
pub async fn start(state: &AppState, order: &Order, method: PayMethod, email: &str, origin: &str) -> Result<String, AppError> {
    let gateway = state.payments.require(method, "method")?;
    let base = state.payments.public_url.clone().unwrap_or_else(|| origin.to_string());
    let base = base.trim_end_matches('/');
    let request = CheckoutRequest {
        reference: order.payment_reference.clone(),
        email: email.to_string(),
        amount_cents: order.total_minor,
        currency: order.currency.as_str().to_string(),
        callback_url: format!("{base}/orders/{}/paid", order.id),
        cancel_url: Some(format!("{base}/orders/{}", order.id)),
        description: Some(format!("{} · {}", order.gig_title, order.package_name).chars().take(120).collect()),
        metadata: serde_json::json!({ "order_id": order.id.to_string() }),
    };
    let checkout = gateway.initialize(&request).await.map_err(AppError::from)?;
    paid::record_checkout(&state.db, order.id, method.as_str(), &checkout.provider_id, Utc::now()).await?;
    Ok(checkout.authorization_url)
}

/// What settling a provider's report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Settled {
    Credited,
    AlreadyPaid,
    DuplicateEvent,
    /// Not (yet) paid: nothing to credit.
    NotPaid,
    /// No order of ours carries this reference.
    UnknownReference,
}

/// Credits escrow for a successful charge, once (by event id and by reference).
pub async fn settle(state: &AppState, method: PayMethod, event_id: &str, report: &ChargeReport) -> Result<Settled, AppError> {
    if report.status != ChargeStatus::Success {
        return Ok(Settled::NotPaid);
    }
    let currency: Currency = report
        .currency
        .parse()
        .map_err(|_| AppError::field("currency", format!("GigStream does not take payments in {}", report.currency)))?;
    let now = Utc::now();
    let r = orders::confirm_payment(&state.db, method.as_str(), &report.reference, event_id, report.amount_cents, currency, now).await;
    let outcome = match r {
        Ok(Confirmed::Credited) => Settled::Credited,
        Ok(Confirmed::AlreadyPaid) => Settled::AlreadyPaid,
        Ok(Confirmed::DuplicateEvent) => Settled::DuplicateEvent,
        Err(StoreError::NotFound) => return Ok(Settled::UnknownReference),
        Err(e) => return Err(e.into()),
    };
    if let Some(payment_id) = &report.payment_id {
        paid::record_payment(&state.db, &report.reference, method.as_str(), &report.provider_id, payment_id, now).await?;
    }
    if outcome == Settled::Credited {
        match orders::by_reference(&state.db, &report.reference).await {
            Ok(o) => {
                crate::invoices::kick(state, o.id);
                crate::notify::about_order(state, &o, gigstream_domain::notifications::Event::OrderPlaced).await;
                crate::notify::about_order(state, &o, gigstream_domain::notifications::Event::PaymentReceived).await;
            }
            Err(e) => tracing::warn!(error = %e, reference = %report.reference, "payment notifications not stored"),
        }
    }
    Ok(outcome)
}

/// A webhook delivery refused, in the provider's terms: 401 for a bad or
/// stale signature, 400 when malformed, 503 when it cannot be checked now
/// (the provider retries).
pub fn webhook_refusal(e: WebhookError) -> AppError {
    match e {
        WebhookError::BadSignature | WebhookError::Stale { .. } => AppError::BadSignature,
        WebhookError::Malformed(m) => AppError::BadRequest(m),
        WebhookError::Unavailable(m) => {
            tracing::warn!(error = %m, "a webhook could not be verified now");
            AppError::Unavailable
        }
    }
}

/// Handles one verified-or-refused webhook delivery.
pub async fn webhook(state: &AppState, method: PayMethod, headers: &axum::http::HeaderMap, body: &[u8]) -> Result<Settled, AppError> {
    let gateway = state.payments.get(method).ok_or(AppError::NotFound)?;
    let hook = gateway.receive_webhook(headers, body).await.map_err(webhook_refusal)?;
    match hook.event {
        WebhookEvent::Charge(report) => settle(state, method, &hook.event_id, &report).await,
        WebhookEvent::Approved { provider_id, .. } => {
            // PayPal: the buyer approved; capture (idempotent) and credit.
            let report = gateway.capture(&provider_id).await.map_err(AppError::from)?;
            settle(state, method, &hook.event_id, &report).await
        }
        WebhookEvent::Refunded(_) | WebhookEvent::Other => Ok(Settled::NotPaid),
    }
}

/// The buyer is back from the provider: capture (PayPal) or verify
/// (Stripe) each checkout of the order and credit what was paid. The
/// webhook does the same; whichever comes first credits.
pub async fn on_return(state: &AppState, order: OrderId) -> Result<(), AppError> {
    for c in paid::checkouts(&state.db, order).await? {
        ask(state, &c, "return").await?;
    }
    Ok(())
}

/// Asks the provider about one checkout (capture for PayPal, verify for
/// Stripe) and settles what it reports paid, through [`settle`]. `why`
/// names the asking in the event id (`return:…`, `reconcile:…`).
async fn ask(state: &AppState, c: &paid::CheckoutRow, why: &str) -> Result<Settled, AppError> {
    let Ok(method) = c.provider.parse::<PayMethod>() else { return Ok(Settled::NotPaid) };
    let Some(gateway) = state.payments.get(method) else { return Ok(Settled::NotPaid) };
    match gateway.capture(&c.checkout_id).await {
        Ok(report) => settle(state, method, &format!("{why}:{}", c.checkout_id), &report).await,
        Err(e) => {
            tracing::warn!(error = %e, order = %c.order_id, why, "asking about a checkout failed");
            Ok(Settled::NotPaid)
        }
    }
}

/// Checkouts older than this are no longer asked about.
pub const RECONCILE_WINDOW_DAYS: i64 = 7;

/// What a reconcile run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reconciled {
    pub checked: usize,
    pub credited: usize,
}

/// The `reconcile` job: asks the providers about checkouts of unpaid
/// orders that have not reported back for `GIGSTREAM_RECONCILE_AFTER_MINUTES`
/// (a lost webhook, a buyer who closed the tab) and settles those paid
/// through the same idempotent path as the webhook. Each checkout is asked
/// again only after another such period, for a week.
pub async fn reconcile(state: &AppState, now: chrono::DateTime<Utc>) -> Result<Reconciled, AppError> {
    let before = now - chrono::Duration::minutes(i64::from(state.config.reconcile_after_minutes));
    let since = now - chrono::Duration::days(RECONCILE_WINDOW_DAYS);
    let mut done = Reconciled::default();
    for c in paid::stale_checkouts(&state.db, before, since, 200).await? {
        done.checked += 1;
        if ask(state, &c, "reconcile").await? == Settled::Credited {
            done.credited += 1;
            tracing::info!(order = %c.order_id, provider = %c.provider, "a checkout that never reported back was paid: credited");
        }
        paid::asked(&state.db, c.order_id, &c.provider, now).await?;
    }
    Ok(done)
}

/// Sends the refunds the provider has not confirmed (of one order, or all),
/// each under its own idempotency key, and records the answers. Returns
/// how many the provider confirmed. A provider that cannot be reached
/// leaves them pending for the next call (the `refunds` job).
pub async fn send_refunds(state: &AppState, order: Option<OrderId>) -> Result<usize, AppError> {
    let mut confirmed = 0;
    let now = Utc::now();
    for r in paid::pending_refunds(&state.db, order, 200).await? {
        let method = r.provider.as_deref().and_then(|p| p.parse::<PayMethod>().ok());
        let checkout = match method {
            Some(m) => paid::checkouts(&state.db, r.order_id).await?.into_iter().find(|c| c.provider == m.as_str()),
            None => None,
        };
        let (Some(method), Some(checkout)) = (method, checkout) else {
            paid::refund_sent(&state.db, r.id, RefundSent::NoProvider, None, None, now).await?;
            continue;
        };
        let Some(gateway) = state.payments.get(method) else { continue };
        let payment_id = match checkout.payment_id {
            Some(p) => p,
            None => match gateway.verify(&checkout.checkout_id).await.map(|c| c.payment_id) {
                Ok(Some(p)) => p,
                _ => continue,
            },
        };
        let request = RefundRequest {
            payment_id,
            amount_cents: Some(r.amount_minor),
            currency: r.currency.as_str().to_string(),
            idempotency_key: format!("refund-{}", r.request_key),
            reason: Some(r.reason.clone()).filter(|s| !s.is_empty()),
        };
        match gateway.refund(&request).await {
            Ok(report) => {
                let status = match report.status {
                    RefundStatus::Succeeded => RefundSent::Succeeded,
                    RefundStatus::Failed | RefundStatus::Cancelled => RefundSent::Failed,
                    RefundStatus::Pending => continue,
                };
                confirmed += usize::from(status == RefundSent::Succeeded);
                paid::refund_sent(&state.db, r.id, status, Some(&report.refund_id), None, now).await?;
            }
            Err(PaymentError::Rejected(m)) => {
                tracing::error!(refund = %r.id, error = %m, "the provider refused a refund");
                paid::refund_sent(&state.db, r.id, RefundSent::Failed, None, Some(&m), now).await?;
            }
            Err(e) => tracing::warn!(refund = %r.id, error = %e, "refund not sent yet"),
        }
    }
    Ok(confirmed)
}

/// Pays an approved withdrawal through its method's payouts, idempotent by
/// the withdrawal's id (the provider's key), and records the outcome: paid
/// moves the held money out once; failed returns it to the seller. A
/// provider that cannot be reached leaves it approved for the `payouts` job.
pub async fn pay_out(state: &AppState, id: WithdrawalId) -> Result<WithdrawalStatus, AppError> {
    let w = wallet::withdrawal(&state.db, id).await?;
    if w.status != WithdrawalStatus::Approved {
        return Ok(w.status);
    }
    let gateway = state.payments.require(w.method, "method")?;
    let now = Utc::now();
    let report = match &w.payout_id {
        // Sent before and pending: ask again.
        Some(payout_id) => gateway.payout_status(payout_id).await,
        None => {
            let request = PayoutRequest {
                reference: format!("gsw_{}", w.id.as_uuid().simple()),
                destination: w.destination.clone(),
                amount_cents: w.payout_minor(),
                currency: w.currency.as_str().to_string(),
                note: Some("GigStream earnings".into()),
            };
            gateway.payout(&request).await
        }
    };
    match report {
        Ok(r) => match r.status {
            PayoutStatus::Paid => {
                wallet::mark_paid(&state.db, id, &r.payout_id, now).await?;
                let amount = gigstream_domain::Money::new(w.payout_minor(), w.currency);
                let body = format!("{amount} was sent to {}.", w.destination);
                crate::notify::send(
                    state,
                    w.seller_id,
                    gigstream_domain::notifications::Event::WithdrawalPaid,
                    "Withdrawal paid",
                    &body,
                    "/wallet",
                )
                .await;
            }
            PayoutStatus::Failed => {
                wallet::mark_failed(&state.db, id, "The provider could not pay this out", Some(&r.payout_id), now).await?;
            }
            PayoutStatus::Pending => wallet::set_payout_id(&state.db, id, &r.payout_id, now).await?,
        },
        Err(PaymentError::Rejected(m)) => {
            let d = wallet::mark_failed(&state.db, id, &format!("Refused by the provider: {m}"), None, now).await?;
            debug_assert!(matches!(d, Decided::Done | Decided::Already));
        }
        Err(e) => tracing::warn!(withdrawal = %id, error = %e, "payout not sent yet"),
    }
    Ok(wallet::withdrawal(&state.db, id).await?.status)
}
