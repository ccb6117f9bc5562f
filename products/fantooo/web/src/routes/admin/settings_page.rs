//! Platform settings: pricing hours and free messages, operations
//! thresholds (idle, escalation, auto-close, quality), and the email
//! domain of new users. `settings::set` audits every change with before
//! and after.

use super::kit::{self, Flash, Input, Via};
use super::{apply_pricing, nav, pricing, PricingForm};
use crate::auth::{CsrfToken, CurrentAdmin};
use crate::error::{AppError, AppResult};
use crate::templates::{AdminNav, Chrome};
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use fantooo_domain::account::CircumventionPolicy;
use fantooo_domain::legal::LegalDoc;
use fantooo_domain::operations::OperationsConfig;
use fantooo_domain::pricing::PricingConfig;
use fantooo_domain::{FieldErrors, Permission};
use fantooo_store::{operations, settings};
use serde::Deserialize;
use serde_json::json;

pub const EMAIL_DOMAIN_KEY: &str = "email_domain";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/settings", get(page).post(save_pricing))
        .route("/api/admin/settings", get(api))
        .route("/admin/settings/operations", post(save_operations))
        .route("/api/admin/settings/operations", put(save_operations))
        .route("/admin/settings/email-domain", post(save_email_domain))
        .route("/api/admin/settings/email-domain", put(save_email_domain))
        .route("/admin/settings/circumvention", post(save_circumvention))
        .route("/api/admin/settings/circumvention", put(save_circumvention))
}

/// The domain of new users' addresses: the setting, else the server flag.
pub async fn email_domain(state: &AppState) -> AppResult<String> {
    Ok(settings::get::<String>(&state.db, EMAIL_DOMAIN_KEY).await?.unwrap_or_else(|| state.config.email_domain.clone()))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    nav: AdminNav,
    pricing: PricingConfig,
    operations: OperationsConfig,
    email_domain: String,
    circumvention: CircumventionPolicy,
    /// (slug, title, text in force) per legal document.
    legal: Vec<(&'static str, &'static str, String)>,
    flash: Flash,
}

impl SettingsPage {
    /// A percentage as the multiplier it is: 150 → "×1.5", 80 → "×0.8".
    fn times(&self, percent: &i64) -> String {
        let s = format!("{:.2}", *percent as f64 / 100.0);
        format!("×{}", s.trim_end_matches('0').trim_end_matches('.'))
    }
    /// Every tier with its price multiplier, in percent.
    fn tiers(&self) -> Vec<(fantooo_domain::UserTier, i64)> {
        fantooo_domain::UserTier::ALL.iter().map(|t| (*t, t.discount_percent())).collect()
    }
}

async fn page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, Query(flash): Query<Flash>) -> AppResult<Response> {
    me.require(Permission::SystemSettings)?;
    Ok(SettingsPage {
        chrome: me.chrome(&csrf, "/admin/settings"),
        nav: nav(&me),
        pricing: pricing(&state).await?,
        operations: operations::config(&state.db).await?,
        email_domain: email_domain(&state).await?,
        circumvention: crate::circumvention::policy(&state).await?,
        legal: legal_texts(&state).await?,
        flash,
    }
    .into_response())
}

async fn legal_texts(state: &AppState) -> AppResult<Vec<(&'static str, &'static str, String)>> {
    let mut out = Vec::new();
    for doc in LegalDoc::ALL {
        out.push((doc.slug(), doc.title(), super::super::legal::current(state, doc).await?.0));
    }
    Ok(out)
}

async fn api(State(state): State<AppState>, me: CurrentAdmin) -> AppResult<Json<serde_json::Value>> {
    me.require(Permission::SystemSettings)?;
    Ok(Json(json!({
        "pricing": pricing(&state).await?,
        "operations": operations::config(&state.db).await?,
        "email_domain": email_domain(&state).await?,
        "ban_circumvention": crate::circumvention::policy(&state).await?,
    })))
}

async fn save_pricing(State(state): State<AppState>, via: Via, me: CurrentAdmin, Input(form): Input<PricingForm>) -> AppResult<Response> {
    me.require(Permission::SystemSettings)?;
    let outcome = async {
        let cfg = apply_pricing(pricing(&state).await?, &form)?;
        settings::set(&state.db, "pricing", &cfg, Some(me.admin.id)).await?;
        Ok(("Settings saved".to_string(), json!({ "pricing": cfg })))
    }
    .await;
    // A page submit with errors comes back with 422 and the message.
    if let (Err(AppError::Validation(e)), false) = (&outcome, via.api) {
        return Err(AppError::Validation(e.clone()));
    }
    via.finish("/admin/settings", outcome)
}

#[derive(Deserialize)]
struct OperationsForm {
    idle_warning_secs: Option<String>,
    idle_reassign_secs: Option<String>,
    max_reassignments: Option<String>,
    auto_close_hours: Option<String>,
    queue_escalation_mins: Option<String>,
    default_quality_threshold: Option<String>,
    suspension_days: Option<String>,
    default_max_concurrent_chats: Option<String>,
}

fn apply_operations(mut c: OperationsConfig, f: &OperationsForm) -> Result<OperationsConfig, FieldErrors> {
    let mut e = FieldErrors::new();
    let mut int = |field: &'static str, v: &Option<String>, target: &mut i64| {
        if let Some(t) = kit::text(v) {
            match t.parse() {
                Ok(n) => *target = n,
                Err(_) => e.add(field, "Enter a whole number"),
            }
        }
    };
    int("idle_warning_secs", &f.idle_warning_secs, &mut c.idle_warning_secs);
    int("idle_reassign_secs", &f.idle_reassign_secs, &mut c.idle_reassign_secs);
    int("max_reassignments", &f.max_reassignments, &mut c.max_reassignments);
    int("auto_close_hours", &f.auto_close_hours, &mut c.auto_close_hours);
    int("queue_escalation_mins", &f.queue_escalation_mins, &mut c.queue_escalation_mins);
    int("suspension_days", &f.suspension_days, &mut c.suspension_days);
    int("default_max_concurrent_chats", &f.default_max_concurrent_chats, &mut c.default_max_concurrent_chats);
    if let Some(t) = kit::text(&f.default_quality_threshold) {
        match t.parse() {
            Ok(n) => c.default_quality_threshold = n,
            Err(_) => e.add("default_quality_threshold", "Enter a number"),
        }
    }
    e.into_result()?;
    c.validate()?;
    Ok(c)
}

async fn save_operations(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    Input(f): Input<OperationsForm>,
) -> AppResult<Response> {
    me.require(Permission::SystemSettings)?;
    let outcome = async {
        let cfg = apply_operations(operations::config(&state.db).await?, &f)?;
        settings::set(&state.db, operations::SETTINGS_KEY, &cfg, Some(me.admin.id)).await?;
        Ok(("Operations settings saved".to_string(), json!({ "operations": cfg })))
    }
    .await;
    via.finish("/admin/settings", outcome)
}

#[derive(Deserialize)]
struct CircumventionForm {
    policy: Option<String>,
}

/// What a sign-up from a banned user's address or device gets: flagged
/// for review (the default) or blocked outright. Audited by `settings::set`.
async fn save_circumvention(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    Input(f): Input<CircumventionForm>,
) -> AppResult<Response> {
    me.require(Permission::SystemSettings)?;
    let outcome = async {
        let policy: CircumventionPolicy = kit::text(&f.policy)
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| AppError::field("policy", "Choose flag_for_review or block"))?;
        settings::set(&state.db, crate::circumvention::POLICY_KEY, &policy, Some(me.admin.id)).await?;
        Ok(("Ban circumvention setting saved".to_string(), json!({ "ban_circumvention": policy })))
    }
    .await;
    via.finish("/admin/settings", outcome)
}

#[derive(Deserialize)]
struct DomainForm {
    email_domain: Option<String>,
}

/// A plain DNS name: labels of letters, digits and hyphens, one dot at least.
fn valid_domain(d: &str) -> bool {
    d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

async fn save_email_domain(State(state): State<AppState>, via: Via, me: CurrentAdmin, Input(f): Input<DomainForm>) -> AppResult<Response> {
    me.require(Permission::SystemSettings)?;
    let outcome = async {
        let domain = kit::text(&f.email_domain)
            .map(|d| d.to_lowercase())
            .filter(|d| valid_domain(d))
            .ok_or_else(|| AppError::field("email_domain", "Enter a domain such as fantooo.com"))?;
        settings::set(&state.db, EMAIL_DOMAIN_KEY, &domain, Some(me.admin.id)).await?;
        Ok((format!("New users get addresses at {domain}"), json!({ "email_domain": domain })))
    }
    .await;
    via.finish("/admin/settings", outcome)
}

#[cfg(test)]
mod tests {
    #[test]
    fn domains_are_plain_dns_names() {
        assert!(super::valid_domain("fantooo.com"));
        assert!(super::valid_domain("mail.fantooo.co.ke"));
        assert!(!super::valid_domain("localhost"));
        assert!(!super::valid_domain("bad domain.com"));
        assert!(!super::valid_domain("-x.com"));
    }
}
