//! The purchase flow between the payment provider and the store: opening a
//! checkout, applying what the provider reports (webhook, the buyer's
//! return, an admin's re-verify, the reconciliation job), and what follows
//! a credited purchase (live balance push, achievements).

use crate::error::{AppError, AppResult};
use crate::AppState;
use fantooo_domain::ids::{AdminId, ChatId, PackageId};
use fantooo_domain::payment::Decision;
use fantooo_store::packages::{self, Snapshot};
use fantooo_store::payments::{self, NewCheckout, Reported, Settlement, Source};
use fantooo_store::{rewards, users, Db};
use platform_payments::{ChargeReport, Checkout, CheckoutRequest, PaymentProvider, WebhookError, WebhookEvent};
use serde::Serialize;

fn reported(r: &ChargeReport) -> Reported<'_> {
    Reported {
        status: r.status,
        amount_cents: r.amount_cents,
        currency: &r.currency,
        gateway_response: r.gateway_response.as_deref(),
        raw: &r.raw,
    }
}

/// Where the provider sends the buyer back: the credits page, or the chat
/// they were in when they ran out (`/chat/{id}/paid`, which lands back in
/// that chat).
pub fn return_url(site_url: &str, back: Option<ChatId>) -> String {
    let site = site_url.trim_end_matches('/');
    match back {
        Some(chat) => format!("{site}/chat/{chat}/paid"),
        None => format!("{site}/credits/return"),
    }
}

/// Opens a checkout for one of the packages offered to `user`: the package
/// is snapshotted (the price lock), the provider opens the checkout, then
/// the pending transaction is recorded. With `back`, the buyer returns to
/// that chat.
pub async fn start_checkout(
    state: &AppState,
    user: &users::User,
    package: PackageId,
    site_url: &str,
    back: Option<ChatId>,
) -> AppResult<(Checkout, Settlement)> {
    let offered = packages::offered_to(&state.db, user.id).await?;
    let package = offered.iter().find(|p| p.id == package).ok_or_else(|| AppError::field("package_id", "This package is not on sale."))?;
    let snapshot = Snapshot::from(package);
    let reference = format!("ftx_{}", uuid::Uuid::now_v7().simple());
    let request = CheckoutRequest {
        reference: reference.clone(),
        email: user.email.clone(),
        amount_cents: snapshot.price_cents,
        currency: snapshot.currency.clone(),
        callback_url: return_url(site_url, back),
        cancel_url: None,
        description: None,
        metadata: serde_json::json!({
            "user_id": user.id, "package_id": package.id, "credits": snapshot.credits, "bonus_credits": snapshot.bonus_credits,
        }),
    };
    let checkout = state.payments.initialize(&request).await.map_err(AppError::from)?;
    let settlement = payments::record_checkout(
        &state.db,
        &NewCheckout {
            user: user.id,
            reference: &reference,
            snapshot: &snapshot,
            provider: state.payments.name(),
            authorization_url: &checkout.authorization_url,
        },
    )
    .await?;
    after_settlement(state, &settlement).await;
    Ok((checkout, settlement))
}

/// Asks the provider about `reference` and applies the answer.
pub async fn verify(state: &AppState, reference: &str, by: Option<AdminId>) -> AppResult<Settlement> {
    let settlement = verify_with(&state.db, state.payments.as_ref(), reference, by).await?;
    after_settlement(state, &settlement).await;
    Ok(settlement)
}

async fn verify_with(db: &Db, provider: &dyn PaymentProvider, reference: &str, by: Option<AdminId>) -> AppResult<Settlement> {
    let report = provider.verify(reference).await.map_err(AppError::from)?;
    if report.reference != reference {
        return Err(AppError::PaymentProvider(format!("the provider answered for {:?} when asked about {reference:?}", report.reference)));
    }
    Ok(payments::settle(db, reference, &reported(&report), Source::Verify { by }).await?)
}

/// What a webhook delivery did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum WebhookOutcome {
    /// An event this platform does not act on.
    Ignored {
        event: String,
    },
    Applied {
        reference: String,
        decision: String,
        deliveries: i64,
    },
}

/// Handles a webhook delivery: authenticity first, then the charge report.
pub async fn webhook(state: &AppState, headers: &axum::http::HeaderMap, body: &[u8]) -> AppResult<WebhookOutcome> {
    let hook = match state.payments.receive_webhook(headers, body).await {
        Ok(hook) => hook,
        Err(WebhookError::BadSignature | WebhookError::Stale { .. }) => {
            metrics::counter!("fantooo_webhooks_total", "result" => "bad_signature").increment(1);
            return Err(AppError::BadSignature);
        }
        Err(WebhookError::Malformed(m)) => return Err(AppError::BadRequest(m)),
        Err(e @ WebhookError::Unavailable(_)) => return Err(AppError::PaymentProvider(e.to_string())),
    };
    let WebhookEvent::Charge(report) = hook.event else {
        return Ok(WebhookOutcome::Ignored { event: hook.event_type });
    };
    let settlement =
        payments::settle(&state.db, &report.reference, &reported(&report), Source::Webhook { provider: state.payments.name() }).await?;
    metrics::counter!("fantooo_webhooks_total", "result" => decision_name(&settlement.decision)).increment(1);
    after_settlement(state, &settlement).await;
    Ok(WebhookOutcome::Applied {
        reference: report.reference,
        decision: decision_name(&settlement.decision).into(),
        deliveries: settlement.transaction.webhook_received_count,
    })
}

pub fn decision_name(d: &Decision) -> &'static str {
    match d {
        Decision::AlreadyCredited => "duplicate",
        Decision::AwaitCheckout => "held_for_checkout",
        Decision::Credit => "credited",
        Decision::Review(_) => "manual_review",
        Decision::Fail { .. } => "failed",
        Decision::Wait => "pending",
    }
}

/// After a commit that credited a purchase: push the balance to the
/// buyer's open pages.
async fn after_settlement(state: &AppState, s: &Settlement) {
    if !s.credited() {
        return;
    }
    metrics::counter!("fantooo_purchases_credited_total").increment(1);
    state.realtime.written();
}

/// Pays the achievements the user has met and not yet claimed. Rewards are
/// claimed by the user (the credits page's button), so a balance never
/// changes by surprise in the middle of a chat.
pub async fn claim_achievements(state: &AppState, user: fantooo_domain::ids::UserId) -> AppResult<Vec<rewards::Earned>> {
    let new = rewards::award_achievements(&state.db, user, chrono::Utc::now()).await?;
    if !new.is_empty() {
        state.realtime.written();
    }
    Ok(new)
}

/// Counts today's visit for the streak and pays the day's reward, if any.
pub async fn record_visit(state: &AppState, user: fantooo_domain::ids::UserId) -> AppResult<Option<rewards::DailyVisit>> {
    let visit = rewards::record_visit(&state.db, user, chrono::Utc::now()).await?;
    if visit.as_ref().is_some_and(|v| v.reward.is_some()) {
        state.realtime.written();
    }
    Ok(visit)
}

/// What one reconciliation pass did.
#[derive(Debug, Default, Serialize)]
pub struct ReconcileReport {
    pub checked: usize,
    pub credited: usize,
    pub failed: usize,
    pub unchanged: usize,
    pub errors: usize,
    pub orphans_flagged: u64,
}

/// Re-verifies checkouts pending since before `stale_before` and flags
/// webhooks that never got a checkout. Credits are added only when the
/// provider reports success, through the same settle path as webhooks.
pub async fn reconcile(
    db: &Db,
    provider: &dyn PaymentProvider,
    stale_before: chrono::DateTime<chrono::Utc>,
) -> Result<ReconcileReport, fantooo_store::StoreError> {
    let mut report = ReconcileReport::default();
    for t in payments::stale_pending(db, stale_before, 200).await? {
        report.checked += 1;
        match verify_with(db, provider, &t.provider_reference, None).await {
            Ok(s) if s.credited() => report.credited += 1,
            Ok(s) if matches!(s.decision, Decision::Fail { .. } | Decision::Review(_)) => report.failed += 1,
            Ok(_) => report.unchanged += 1,
            Err(e) => {
                report.errors += 1;
                tracing::warn!(reference = %t.provider_reference, error = %e, "reconcile: verify failed");
            }
        }
    }
    report.orphans_flagged = payments::flag_orphans(db, stale_before).await?;
    Ok(report)
}

/// The site's base URL for links the provider sends buyers back to.
pub fn site_url(state: &AppState, headers: &axum::http::HeaderMap) -> String {
    if let Some(url) = &state.config.payments.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)));
    let scheme = if state.config.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{}", host.unwrap_or("localhost"))
}
