//! Buying coins through the payment provider (platform-payments' Paystack
//! client, or its local fake in the demo): open a checkout for a package
//! with its price locked, and apply whatever the provider reports — the
//! signed webhook, the buyer's return, a verify — through one store
//! function that credits once (`rooms_store::economy::settle`).

use crate::error::{AppError, WebResult};
use crate::AppState;
use async_trait::async_trait;
use axum::http::HeaderMap;
use chrono::Utc;
use platform_payments::fake::{CheckoutBase, FakePaystack};
use platform_payments::{
    ChargeReport, Checkout, CheckoutRequest, PaymentError, PaymentProvider, Paystack, Webhook, WebhookError, WebhookEvent,
};
use platform_web::ratelimit::Limit;
use rooms_domain::economy::PurchaseDecision;
use rooms_domain::ids::PackageId;
use rooms_store::accounts::Account;
use rooms_store::economy::{self, Purchase, Report};
use rooms_store::gifts::Settings;
use std::sync::Arc;

/// Where the built-in fake is mounted.
pub const FAKE_PREFIX: &str = "/fake-paystack";

/// The economy's settings and its payment provider.
pub struct Economy {
    pub provider: Arc<dyn PaymentProvider>,
    /// The local Paystack stand-in, served under [`FAKE_PREFIX`].
    pub fake: Option<FakePaystack>,
    /// This site's public base URL for the checkout return link; `None`:
    /// from the request's Host.
    pub public_url: Option<String>,
    /// Split rates and the ranking clock.
    pub settings: Settings,
    /// Coins per diamond (BR-2).
    pub diamond_rate: i64,
    /// Whether diamonds may be exchanged (staff can switch it off).
    pub exchange_open: bool,
    /// Whether salary may be exchanged for coins (6.4; staff can switch it off).
    pub salary_exchange_open: bool,
    /// Gifts per sender per minute.
    pub gifts: Limit,
    /// Exchanges and payout requests per minute.
    pub exchanges: Limit,
    /// This node's gift batcher (group commit of gift requests).
    pub accepts: Arc<super::accepts::GiftAccepts>,
    /// This node's batched gift writer.
    pub credits: Arc<super::credits::GiftCredits>,
}

impl Economy {
    fn with(provider: Arc<dyn PaymentProvider>, fake: Option<FakePaystack>, public_url: Option<String>) -> Economy {
        Economy {
            provider,
            fake,
            public_url,
            settings: Settings::default(),
            diamond_rate: rooms_domain::economy::DIAMOND_RATE,
            exchange_open: true,
            salary_exchange_open: true,
            gifts: Limit::per_minute(rooms_domain::economy::GIFTS_PER_MINUTE),
            exchanges: Limit::per_minute(10),
            accepts: Arc::default(),
            credits: Arc::default(),
        }
    }

    /// No provider: buying coins answers that payments are unavailable.
    pub fn unconfigured() -> Economy {
        Self::with(Arc::new(Unconfigured), None, None)
    }

    /// The real Paystack API.
    pub fn paystack(secret_key: &str, base_url: &str, public_url: Option<String>) -> Economy {
        Self::with(Arc::new(Paystack::new(secret_key).with_base_url(base_url)), None, public_url)
    }

    /// The built-in stand-in served by this app at `site` (its own base
    /// URL, reached over loopback): the client speaks Paystack's protocol to
    /// it, and it signs webhooks to this app with `secret_key`.
    pub fn fake(secret_key: &str, site: &str, public_url: Option<String>) -> Economy {
        let site = site.trim_end_matches('/');
        let fake = FakePaystack::new(secret_key, CheckoutBase::CallbackOrigin(FAKE_PREFIX.into()));
        fake.set_webhook_url(format!("{site}/api/webhooks/paystack"));
        let client = Paystack::new(secret_key).with_base_url(format!("{site}{FAKE_PREFIX}"));
        Self::with(Arc::new(client), Some(fake), public_url)
    }

    /// The provider at `base_url` (a fake on its own port in tests).
    pub fn at(secret_key: &str, base_url: &str) -> Economy {
        Self::with(Arc::new(Paystack::new(secret_key).with_base_url(base_url)), None, None)
    }
}

struct Unconfigured;

#[async_trait]
impl PaymentProvider for Unconfigured {
    fn name(&self) -> &'static str {
        "none"
    }
    async fn initialize(&self, _: &CheckoutRequest) -> Result<Checkout, PaymentError> {
        Err(PaymentError::Transport("no payment provider is configured".into()))
    }
    async fn verify(&self, _: &str) -> Result<ChargeReport, PaymentError> {
        Err(PaymentError::Transport("no payment provider is configured".into()))
    }
    async fn receive_webhook(&self, _: &HeaderMap, _: &[u8]) -> Result<Webhook, WebhookError> {
        Err(WebhookError::BadSignature)
    }
    fn checkout_origin(&self) -> Option<String> {
        None
    }
}

/// This site's base URL: the configured one, else from the Host header.
pub fn site_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.economy.public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers.get(axum::http::header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let scheme = if state.config.https { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// Opens a checkout for a package offered in the buyer's country.
pub async fn start_checkout(state: &AppState, buyer: &Account, package: PackageId, site: &str) -> WebResult<(Checkout, Purchase)> {
    let country = buyer.country.as_deref();
    let offered = economy::packages_for(&state.db, country).await?;
    let p = offered.iter().find(|p| p.id == package).ok_or_else(|| AppError::field("package_id", "This package is not on sale."))?;
    let reference = format!("rco_{}", PackageId::new().0.simple());
    let email = buyer.email.clone().unwrap_or_else(|| format!("{}@rooms.invalid", buyer.public_number));
    let request = CheckoutRequest {
        reference: reference.clone(),
        email,
        amount_cents: p.price_minor,
        currency: p.currency.clone(),
        callback_url: format!("{site}/coins/return"),
        cancel_url: None,
        description: Some(format!("{} coins", p.coins + p.bonus_coins)),
        metadata: serde_json::json!({"account_id": buyer.id, "package_id": p.id, "coins": p.coins, "bonus_coins": p.bonus_coins}),
    };
    // The pending purchase is recorded first, so a webhook that beats the
    // redirect finds it.
    let purchase =
        economy::record_checkout(&state.db, buyer.id, package, country, &reference, state.economy.provider.name(), Utc::now()).await?;
    let checkout = state.economy.provider.initialize(&request).await.map_err(AppError::from)?;
    Ok((checkout, purchase))
}

/// Applies a provider's report.
pub async fn apply(state: &AppState, r: &ChargeReport) -> WebResult<(PurchaseDecision, Purchase)> {
    let report =
        Report { status: r.status, amount_minor: r.amount_cents, currency: &r.currency, gateway_response: r.gateway_response.as_deref() };
    Ok(economy::settle(&state.db, &r.reference, &report, Utc::now()).await?)
}

/// Asks the provider about a purchase and applies the answer (the buyer's
/// return, or a "check again" button).
pub async fn verify(state: &AppState, reference: &str) -> WebResult<(PurchaseDecision, Purchase)> {
    let report = state.economy.provider.verify(reference).await.map_err(AppError::from)?;
    if report.reference != reference {
        return Err(AppError::BadRequest("the provider answered about another payment".into()).into());
    }
    apply(state, &report).await
}

/// `POST /api/webhooks/paystack`: signed deliveries only (401 otherwise);
/// an authentic charge report always gets 200, so the provider stops
/// retrying, and credits at most once.
#[utoipa::path(post, path = "/api/webhooks/paystack", tag = "coins", request_body(content = String, content_type = "application/json", description = "Paystack event, signed in `x-paystack-signature` (HMAC-SHA512 of the body)"), security(()), responses((status = 200, description = "Received; a charge is credited at most once"), (status = 401, description = "Missing or wrong signature")))]
pub async fn webhook(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> WebResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let hook = match state.economy.provider.receive_webhook(&headers, &body).await {
        Ok(h) => h,
        Err(WebhookError::Malformed(m)) => return Err(AppError::BadRequest(m).into()),
        Err(WebhookError::Unavailable(_)) => return Err(AppError::Unavailable.into()),
        Err(_) => return Err(AppError::BadSignature.into()),
    };
    if let WebhookEvent::Charge(report) = &hook.event {
        match apply(&state, report).await {
            Ok(_) | Err(crate::error::WebError::App(AppError::NotFound)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(axum::http::StatusCode::OK.into_response())
}
