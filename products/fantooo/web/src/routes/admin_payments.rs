//! Back-office payments: the review queue (pending, failed and flagged
//! transactions, re-verify, close a review, run reconciliation), credit
//! refunds with the spec's reasons, account-deletion refunds, and credit
//! packages. Every handler needs `manage_payments`; pages and JSON share
//! the parsing and the store calls.

use super::admin::nav;
use crate::auth::{ClientIp, CsrfToken, CurrentAdmin};
use crate::error::{AppError, AppResult};
use crate::purchases::{self, decision_name};
use crate::routes::api::ApiJson;
use crate::templates::{AdminNav, Chrome};
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{DateTime, NaiveDateTime, Utc};
use fantooo_domain::ids::{ChatId, MessageId, PackageId, RefundId, TransactionId, UserId};
use fantooo_domain::refund::RefundReason;
use fantooo_domain::{Credits, FieldErrors, Kes, Permission};
use fantooo_store::packages::{self, NewPackage, Package};
use fantooo_store::payments::{self, Transaction, WebhookTotals};
use fantooo_store::refunds::{self, Refund, RefundRequest};
use fantooo_store::{audit, users};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/payments/review", get(review_page))
        .route("/admin/payments/transactions/{id}/verify", post(verify_form))
        .route("/admin/payments/transactions/{id}/dismiss", post(dismiss_form))
        .route("/admin/payments/reconcile", post(reconcile_form))
        .route("/admin/payments/refunds", get(refunds_page).post(refund_form))
        .route("/admin/payments/refunds/{id}/paid", post(refund_paid_form))
        .route("/admin/payments/deletion-refunds", post(deletion_refund_form))
        .route("/admin/payments/packages", get(packages_page).post(package_form))
        .route("/admin/payments/packages/{id}/{action}", post(package_toggle_form))
        .route("/api/admin/payments/queue", get(api_queue))
        .route("/api/admin/payments/transactions/{id}/verify", post(api_verify))
        .route("/api/admin/payments/transactions/{id}/dismiss", post(api_dismiss))
        .route("/api/admin/payments/reconcile", post(api_reconcile))
        .route("/api/admin/refunds", get(api_refunds).post(api_refund))
        .route("/api/admin/refunds/{id}/paid", post(api_refund_paid))
        .route("/api/admin/users/{id}/deletion-refund", post(api_deletion_refund))
        .route("/api/admin/packages", get(api_packages).post(api_package_create))
        .route("/api/admin/packages/{id}/{action}", post(api_package_toggle))
}

fn gate(me: &CurrentAdmin) -> AppResult<()> {
    me.require(Permission::ManagePayments)
}

fn parse_id<T: std::str::FromStr>(raw: &str) -> AppResult<T> {
    raw.parse().map_err(|_| AppError::NotFound)
}

// ---------------------------------------------------------------- review queue

#[derive(Template, WebTemplate)]
#[template(path = "admin/payments_review.html")]
struct ReviewPage {
    chrome: Chrome,
    nav: AdminNav,
    queue: Vec<Transaction>,
    webhooks: WebhookTotals,
    notice: Option<String>,
}

async fn queue(state: &AppState) -> AppResult<(Vec<Transaction>, WebhookTotals)> {
    let stale_before =
        Utc::now() - chrono::Duration::from_std(state.config.payments.reconcile_after).unwrap_or(chrono::Duration::minutes(15));
    Ok((payments::review_queue(&state.db, stale_before, 200).await?, payments::webhook_totals(&state.db).await?))
}

async fn render_review(state: &AppState, me: &CurrentAdmin, csrf: &CsrfToken, notice: Option<String>) -> AppResult<Response> {
    let (queue, webhooks) = queue(state).await?;
    Ok(ReviewPage { chrome: me.chrome(csrf, "/admin/payments"), nav: nav(me), queue, webhooks, notice }.into_response())
}

async fn review_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken) -> AppResult<Response> {
    gate(&me)?;
    render_review(&state, &me, &csrf, None).await
}

/// Asks the provider again about one transaction, on an admin's behalf.
async fn reverify(state: &AppState, me: &CurrentAdmin, id: TransactionId, ip: &str) -> AppResult<(Transaction, &'static str)> {
    let t = payments::by_id(&state.db, id).await?;
    let s = purchases::verify(state, &t.provider_reference, Some(me.admin.id)).await?;
    let outcome = decision_name(&s.decision);
    audit::admin_action(
        &state.db,
        Some(me.admin.id),
        "payment_reverified",
        Some(("transaction", id.to_string())),
        Some(json!({ "status": t.status })),
        Some(json!({ "status": s.transaction.status, "outcome": outcome })),
        Some(ip),
    )
    .await?;
    Ok((s.transaction, outcome))
}

async fn verify_form(
    State(state): State<AppState>,
    me: CurrentAdmin,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> AppResult<Response> {
    gate(&me)?;
    let notice = match reverify(&state, &me, parse_id(&id)?, &ip).await {
        Ok((t, outcome)) => format!("{}: provider checked, {outcome} (now {}).", t.provider_reference, t.status),
        Err(AppError::PaymentProvider(m)) => m,
        Err(AppError::NotFound) => "The provider has no transaction with that reference.".into(),
        Err(e) => return Err(e),
    };
    render_review(&state, &me, &csrf, Some(notice)).await
}

#[derive(Deserialize, Default)]
struct DismissInput {
    #[serde(default)]
    note: String,
}

fn check_note(note: &str) -> AppResult<String> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 500 {
        return Err(AppError::field("note", "Say in up to 500 characters how the review was resolved."));
    }
    Ok(note.to_string())
}

async fn dismiss_form(
    State(state): State<AppState>,
    me: CurrentAdmin,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Form(input): Form<DismissInput>,
) -> AppResult<Response> {
    gate(&me)?;
    let note = check_note(&input.note)?;
    payments::dismiss_review(&state.db, parse_id(&id)?, me.admin.id, &note).await?;
    render_review(&state, &me, &csrf, Some("Review closed.".into())).await
}

async fn run_reconcile(state: &AppState) -> AppResult<purchases::ReconcileReport> {
    let stale_before =
        Utc::now() - chrono::Duration::from_std(state.config.payments.reconcile_after).unwrap_or(chrono::Duration::minutes(15));
    let report = purchases::reconcile(&state.db, state.payments.as_ref(), stale_before).await?;
    if report.credited > 0 {
        state.realtime.written();
    }
    Ok(report)
}

async fn reconcile_form(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken) -> AppResult<Response> {
    gate(&me)?;
    let r = run_reconcile(&state).await?;
    let notice = format!(
        "Reconciliation: {} checked, {} credited, {} failed, {} unchanged, {} errors, {} orphan webhooks flagged.",
        r.checked, r.credited, r.failed, r.unchanged, r.errors, r.orphans_flagged
    );
    render_review(&state, &me, &csrf, Some(notice)).await
}

async fn api_queue(State(state): State<AppState>, me: CurrentAdmin) -> AppResult<Json<serde_json::Value>> {
    gate(&me)?;
    let (queue, webhooks) = queue(&state).await?;
    Ok(Json(json!({ "transactions": queue, "webhooks": webhooks })))
}

async fn api_verify(
    State(state): State<AppState>,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    gate(&me)?;
    let (t, outcome) = reverify(&state, &me, parse_id(&id)?, &ip).await?;
    Ok(Json(json!({ "transaction": t, "outcome": outcome })))
}

async fn api_dismiss(
    State(state): State<AppState>,
    me: CurrentAdmin,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DismissInput>,
) -> AppResult<Json<serde_json::Value>> {
    gate(&me)?;
    let id: TransactionId = parse_id(&id)?;
    payments::dismiss_review(&state.db, id, me.admin.id, &check_note(&input.note)?).await?;
    Ok(Json(json!({ "transaction": payments::by_id(&state.db, id).await? })))
}

async fn api_reconcile(State(state): State<AppState>, me: CurrentAdmin) -> AppResult<Json<purchases::ReconcileReport>> {
    gate(&me)?;
    Ok(Json(run_reconcile(&state).await?))
}

// ---------------------------------------------------------------- refunds

/// A refund as submitted, from the form or JSON (all text until parsed).
#[derive(Deserialize, Default, Clone)]
struct RefundInput {
    #[serde(default)]
    user: String,
    #[serde(default)]
    credits: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    message_id: String,
    #[serde(default)]
    chat_id: String,
    #[serde(default)]
    notes: String,
    /// Names the submission (embedded in the page's form, or chosen by an
    /// API client): a repeated submit with the same key refunds once.
    #[serde(default)]
    idempotency_key: String,
}

struct ParsedRefund {
    user: UserId,
    credits: Credits,
    reason: RefundReason,
    message: Option<MessageId>,
    chat: Option<ChatId>,
    notes: Option<String>,
}

/// Finds the user by id or username.
async fn find_user(state: &AppState, raw: &str) -> AppResult<Option<users::User>> {
    let raw = raw.trim();
    let found = match raw.parse::<UserId>() {
        Ok(id) => users::by_id(&state.db, id).await,
        Err(_) => users::by_username(&state.db, raw).await,
    };
    match found {
        Ok(u) => Ok(Some(u)),
        Err(fantooo_store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn parse_refund(state: &AppState, f: &RefundInput) -> AppResult<ParsedRefund> {
    let mut errs = FieldErrors::new();
    let user = if f.user.trim().is_empty() { None } else { find_user(state, &f.user).await? };
    if user.is_none() {
        errs.add("user", "Enter the username or id of an existing user.");
    }
    let credits = match f.credits.trim().parse::<i64>() {
        Ok(n) if n > 0 => Some(Credits(n)),
        _ => {
            errs.add("credits", "Enter a whole number of credits, at least 1.");
            None
        }
    };
    let reason = match f.reason.parse::<RefundReason>() {
        Ok(r) if RefundReason::CHOOSABLE.contains(&r) => Some(r),
        _ => {
            errs.add("reason", "Choose a reason: accidental_send, inappropriate_content, system_error or admin_discretion.");
            None
        }
    };
    let optional = |raw: &str, field: &'static str, errs: &mut FieldErrors| -> Option<String> {
        let t = raw.trim();
        if t.is_empty() {
            return None;
        }
        if uuid::Uuid::parse_str(t).is_err() {
            errs.add(field, "Enter a valid id or leave it empty.");
            return None;
        }
        Some(t.to_string())
    };
    let message = optional(&f.message_id, "message_id", &mut errs).and_then(|s| s.parse().ok());
    let chat = optional(&f.chat_id, "chat_id", &mut errs).and_then(|s| s.parse().ok());
    let notes = Some(f.notes.trim().to_string()).filter(|n| !n.is_empty());
    if notes.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        errs.add("notes", "Notes are limited to 1000 characters.");
    }
    errs.into_result()?;
    Ok(ParsedRefund {
        user: user.expect("checked").id,
        credits: credits.expect("checked"),
        reason: reason.expect("checked"),
        message,
        chat,
        notes,
    })
}

async fn make_refund(state: &AppState, me: &CurrentAdmin, input: &RefundInput) -> AppResult<refunds::Refunded> {
    let r = parse_refund(state, input).await?;
    let done = refunds::refund(
        &state.db,
        &RefundRequest {
            user: r.user,
            credits: r.credits,
            reason: r.reason,
            message: r.message,
            chat: r.chat,
            admin: me.admin.id,
            admin_account: me.admin.account_id,
            notes: r.notes.as_deref(),
            key: Some(input.idempotency_key.trim()).filter(|k| !k.is_empty()),
        },
    )
    .await?;
    state.realtime.written();
    Ok(done)
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/refunds.html")]
struct RefundsPage {
    chrome: Chrome,
    nav: AdminNav,
    refunds: Vec<Refund>,
    form: RefundInput,
    errors: FieldErrors,
    notice: Option<String>,
}

impl RefundsPage {
    /// The key the form submits: the one it was sent with after a refused
    /// submit, a fresh one for a new form.
    fn form_key(&self) -> String {
        if self.form.idempotency_key.trim().is_empty() {
            uuid::Uuid::now_v7().to_string()
        } else {
            self.form.idempotency_key.clone()
        }
    }
    fn err(&self, field: &str) -> &str {
        self.errors.for_field(field).unwrap_or("")
    }
    fn reasons(&self) -> &'static [RefundReason] {
        RefundReason::CHOOSABLE
    }
    fn selected(&self, r: &RefundReason) -> &'static str {
        if self.form.reason == r.as_str() {
            "selected"
        } else {
            ""
        }
    }
}

async fn render_refunds(
    state: &AppState,
    me: &CurrentAdmin,
    csrf: &CsrfToken,
    form: RefundInput,
    errors: FieldErrors,
    notice: Option<String>,
) -> AppResult<RefundsPage> {
    Ok(RefundsPage {
        chrome: me.chrome(csrf, "/admin/payments"),
        nav: nav(me),
        refunds: refunds::recent(&state.db, 100).await?,
        form,
        errors,
        notice,
    })
}

async fn refunds_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken) -> AppResult<Response> {
    gate(&me)?;
    Ok(render_refunds(&state, &me, &csrf, RefundInput::default(), FieldErrors::new(), None).await?.into_response())
}

async fn refund_form(
    State(state): State<AppState>,
    me: CurrentAdmin,
    csrf: CsrfToken,
    Form(input): Form<RefundInput>,
) -> AppResult<Response> {
    gate(&me)?;
    match make_refund(&state, &me, &input).await {
        Ok(done) => {
            let notice =
                format!("Refunded {} credits to {}; their balance is now {}.", done.refund.amount, done.refund.username, done.balance);
            Ok(render_refunds(&state, &me, &csrf, RefundInput::default(), FieldErrors::new(), Some(notice)).await?.into_response())
        }
        Err(AppError::Validation(errors)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render_refunds(&state, &me, &csrf, input, errors, None).await?).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn refund_paid_form(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, Path(id): Path<String>) -> AppResult<Response> {
    gate(&me)?;
    refunds::complete_pending(&state.db, parse_id(&id)?, me.admin.id).await?;
    Ok(render_refunds(&state, &me, &csrf, RefundInput::default(), FieldErrors::new(), Some("Refund marked as paid.".into()))
        .await?
        .into_response())
}

#[derive(Deserialize)]
struct DeletionInput {
    #[serde(default)]
    user: String,
}

async fn open_deletion(state: &AppState, me: &CurrentAdmin, user: UserId) -> AppResult<refunds::DeletionRefund> {
    let d = refunds::open_deletion_refund(&state.db, user, me.admin.id, me.admin.account_id).await?;
    state.realtime.written();
    Ok(d)
}

async fn deletion_refund_form(
    State(state): State<AppState>,
    me: CurrentAdmin,
    csrf: CsrfToken,
    Form(input): Form<DeletionInput>,
) -> AppResult<Response> {
    gate(&me)?;
    let Some(user) = find_user(&state, &input.user).await? else {
        let errors = FieldErrors::single("deletion_user", "Enter the username or id of an existing user.");
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render_refunds(&state, &me, &csrf, RefundInput::default(), errors, None).await?)
            .into_response());
    };
    let d = open_deletion(&state, &me, user.id).await?;
    let notice = match d.refund_id {
        Some(_) => format!("{} unused credits closed; {} is owed to {} (pending until paid).", d.unused_credits, d.amount, user.username),
        None => format!("{} has no unused credits; nothing is owed.", user.username),
    };
    Ok(render_refunds(&state, &me, &csrf, RefundInput::default(), FieldErrors::new(), Some(notice)).await?.into_response())
}

async fn api_refunds(State(state): State<AppState>, me: CurrentAdmin) -> AppResult<Json<serde_json::Value>> {
    gate(&me)?;
    Ok(Json(json!({ "refunds": refunds::recent(&state.db, 100).await?, "reasons": RefundReason::CHOOSABLE })))
}

/// JSON refunds: `user` (username or id) or `user_id`, and numbers as numbers.
#[derive(Deserialize)]
struct RefundBody {
    user: Option<String>,
    user_id: Option<String>,
    credits: Option<serde_json::Value>,
    reason: Option<String>,
    message_id: Option<String>,
    chat_id: Option<String>,
    notes: Option<String>,
    idempotency_key: Option<String>,
}

async fn api_refund(State(state): State<AppState>, me: CurrentAdmin, ApiJson(b): ApiJson<RefundBody>) -> AppResult<Response> {
    gate(&me)?;
    let text = |v: Option<serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let input = RefundInput {
        user: b.user.or(b.user_id).unwrap_or_default(),
        credits: text(b.credits),
        reason: b.reason.unwrap_or_default(),
        message_id: b.message_id.unwrap_or_default(),
        chat_id: b.chat_id.unwrap_or_default(),
        notes: b.notes.unwrap_or_default(),
        idempotency_key: b.idempotency_key.unwrap_or_default(),
    };
    let done = make_refund(&state, &me, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "refund": done.refund, "balance": done.balance }))).into_response())
}

async fn api_refund_paid(State(state): State<AppState>, me: CurrentAdmin, Path(id): Path<String>) -> AppResult<Json<serde_json::Value>> {
    gate(&me)?;
    let id: RefundId = parse_id(&id)?;
    refunds::complete_pending(&state.db, id, me.admin.id).await?;
    Ok(Json(json!({ "refund": refunds::by_id(&state.db, id).await? })))
}

async fn api_deletion_refund(
    State(state): State<AppState>,
    me: CurrentAdmin,
    Path(id): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    gate(&me)?;
    let user: UserId = parse_id(&id)?;
    let d = open_deletion(&state, &me, user).await?;
    Ok(Json(json!({ "deletion_refund": d })))
}

// ---------------------------------------------------------------- packages

#[derive(Deserialize, Default, Clone)]
struct PackageInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    credits: String,
    #[serde(default)]
    price_kes: String,
    #[serde(default)]
    bonus_credits: String,
    #[serde(default)]
    badge: String,
    #[serde(default)]
    is_featured: Option<String>,
    #[serde(default)]
    sort_order: String,
    #[serde(default)]
    valid_from: String,
    #[serde(default)]
    valid_until: String,
    #[serde(default)]
    variant: String,
}

struct ParsedPackage {
    name: String,
    credits: i64,
    price: Kes,
    bonus: i64,
    badge: Option<String>,
    featured: bool,
    sort_order: i64,
    valid_from: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
    variant: Option<String>,
}

/// RFC 3339, or the `datetime-local` form value read as UTC.
fn parse_when(raw: &str) -> Result<Option<DateTime<Utc>>, ()> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(Some(d.with_timezone(&Utc)));
    }
    NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M").map(|n| Some(n.and_utc())).map_err(|_| ())
}

fn parse_package(f: &PackageInput) -> Result<ParsedPackage, FieldErrors> {
    let mut errs = FieldErrors::new();
    let name = f.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 60 {
        errs.add("name", "Name the package (up to 60 characters).");
    }
    let mut num = |field: &'static str, raw: &str, min: i64, max: i64, default: Option<i64>| -> i64 {
        let t = raw.trim();
        if t.is_empty() {
            if let Some(d) = default {
                return d;
            }
        }
        match t.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => n,
            _ => {
                errs.add(field, format!("Enter a whole number from {min} to {max}."));
                0
            }
        }
    };
    let credits = num("credits", &f.credits, 1, 100_000, None);
    let price = num("price_kes", &f.price_kes, 1, 1_000_000, None);
    let bonus = num("bonus_credits", &f.bonus_credits, 0, 100_000, Some(0));
    let sort_order = num("sort_order", &f.sort_order, 0, 1000, Some(0));
    let text = |raw: &str| Some(raw.trim().to_string()).filter(|s| !s.is_empty());
    let badge = text(&f.badge);
    if badge.as_ref().is_some_and(|b| b.chars().count() > 20) {
        errs.add("badge", "Badges are up to 20 characters.");
    }
    let variant = text(&f.variant);
    if variant.as_ref().is_some_and(|v| v.len() > 20 || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
        errs.add("variant", "A variant is a short name: letters, digits, '-' or '_'.");
    }
    let valid_from = parse_when(&f.valid_from).unwrap_or_else(|_| {
        errs.add("valid_from", "Enter a date and time.");
        None
    });
    let valid_until = parse_when(&f.valid_until).unwrap_or_else(|_| {
        errs.add("valid_until", "Enter a date and time.");
        None
    });
    if let (Some(a), Some(b)) = (valid_from, valid_until) {
        if b <= a {
            errs.add("valid_until", "The end must be after the start.");
        }
    }
    errs.into_result()?;
    let featured = matches!(f.is_featured.as_deref(), Some("on" | "true" | "1"));
    Ok(ParsedPackage {
        name,
        credits,
        price: Kes::from_shillings(price),
        bonus,
        badge,
        featured,
        sort_order,
        valid_from,
        valid_until,
        variant,
    })
}

async fn create_package(state: &AppState, me: &CurrentAdmin, f: &PackageInput) -> AppResult<Package> {
    let p = parse_package(f)?;
    let id = packages::create_by(
        &state.db,
        &NewPackage {
            name: &p.name,
            credits: p.credits,
            price_cents: p.price.cents(),
            bonus_credits: p.bonus,
            badge: p.badge.as_deref(),
            is_featured: p.featured,
            sort_order: p.sort_order,
            valid_from: p.valid_from,
            valid_until: p.valid_until,
            variant: p.variant.as_deref(),
        },
        Some(me.admin.id),
    )
    .await?;
    Ok(packages::by_id(&state.db, id).await?)
}

fn toggle(action: &str) -> AppResult<bool> {
    match action {
        "activate" => Ok(true),
        "deactivate" => Ok(false),
        _ => Err(AppError::NotFound),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/packages.html")]
struct PackagesPage {
    chrome: Chrome,
    nav: AdminNav,
    packages: Vec<Package>,
    form: PackageInput,
    errors: FieldErrors,
    notice: Option<String>,
}

impl PackagesPage {
    fn err(&self, field: &str) -> &str {
        self.errors.for_field(field).unwrap_or("")
    }
    fn window(&self, p: &Package) -> String {
        let f = |t: &Option<DateTime<Utc>>| t.map(|t| t.format("%Y-%m-%d %H:%M").to_string());
        match (f(&p.valid_from), f(&p.valid_until)) {
            (Some(a), Some(b)) => format!("{a} – {b}"),
            (Some(a), None) => format!("from {a}"),
            (None, Some(b)) => format!("until {b}"),
            (None, None) => "always".into(),
        }
    }
}

async fn render_packages(
    state: &AppState,
    me: &CurrentAdmin,
    csrf: &CsrfToken,
    form: PackageInput,
    errors: FieldErrors,
    notice: Option<String>,
) -> AppResult<PackagesPage> {
    Ok(PackagesPage {
        chrome: me.chrome(csrf, "/admin/payments"),
        nav: nav(me),
        packages: packages::list_all(&state.db).await?,
        form,
        errors,
        notice,
    })
}

async fn packages_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken) -> AppResult<Response> {
    gate(&me)?;
    Ok(render_packages(&state, &me, &csrf, PackageInput::default(), FieldErrors::new(), None).await?.into_response())
}

async fn package_form(
    State(state): State<AppState>,
    me: CurrentAdmin,
    csrf: CsrfToken,
    Form(input): Form<PackageInput>,
) -> AppResult<Response> {
    gate(&me)?;
    match create_package(&state, &me, &input).await {
        Ok(p) => Ok(render_packages(
            &state,
            &me,
            &csrf,
            PackageInput::default(),
            FieldErrors::new(),
            Some(format!("Package {} created.", p.name)),
        )
        .await?
        .into_response()),
        Err(AppError::Validation(errors)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render_packages(&state, &me, &csrf, input, errors, None).await?).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn package_toggle_form(
    State(state): State<AppState>,
    me: CurrentAdmin,
    Path((id, action)): Path<(String, String)>,
) -> AppResult<Response> {
    gate(&me)?;
    let id: PackageId = parse_id(&id)?;
    packages::set_active(&state.db, id, toggle(&action)?, me.admin.id).await?;
    Ok(Redirect::to("/admin/payments/packages").into_response())
}

async fn api_packages(State(state): State<AppState>, me: CurrentAdmin) -> AppResult<Json<serde_json::Value>> {
    gate(&me)?;
    Ok(Json(json!({ "packages": packages::list_all(&state.db).await? })))
}

async fn api_package_create(
    State(state): State<AppState>,
    me: CurrentAdmin,
    ApiJson(body): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> AppResult<Response> {
    gate(&me)?;
    // Accept numbers and booleans as JSON values; the form parser reads text.
    let text: serde_json::Map<String, serde_json::Value> = body
        .into_iter()
        .map(|(k, v)| {
            let s = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Bool(true) => "true".into(),
                serde_json::Value::Bool(false) | serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            (k, serde_json::Value::String(s))
        })
        .collect();
    let mut input: PackageInput =
        serde_json::from_value(serde_json::Value::Object(text)).map_err(|e| AppError::BadRequest(e.to_string()))?;
    if input.is_featured.as_deref() == Some("") {
        input.is_featured = None;
    }
    let p = create_package(&state, &me, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "package": p }))).into_response())
}

async fn api_package_toggle(
    State(state): State<AppState>,
    me: CurrentAdmin,
    Path((id, action)): Path<(String, String)>,
) -> AppResult<Json<serde_json::Value>> {
    gate(&me)?;
    let id: PackageId = parse_id(&id)?;
    packages::set_active(&state.db, id, toggle(&action)?, me.admin.id).await?;
    Ok(Json(json!({ "package": packages::by_id(&state.db, id).await? })))
}
