//! The back office. Every handler checks the admin's permission server-side.

use super::public::{LoginForm, LoginPage, NextQuery};
use crate::auth::{ClientIp, CsrfToken, CurrentAdmin};
use crate::error::{AppError, AppResult};
use crate::flows::{self, StaffInput};
use crate::templates::{self as t, AdminNav, Chrome};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use fantooo_domain::pricing::PricingConfig;
use fantooo_domain::{AccountKind, FieldErrors, Permission};
use fantooo_store::{packages, settings, stats};
use serde::Deserialize;

mod admins;
mod chats;
mod dashboard;
mod import;
pub(crate) mod kit;
mod operators;
mod profiles;
mod reports;
mod reviews;
mod settings_page;
pub use settings_page::email_domain;
mod stats_page;
mod users;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/payments", get(payments_page))
        .merge(dashboard::routes())
        .merge(reviews::routes())
        .merge(reports::routes())
        .merge(users::routes())
        .merge(profiles::routes())
        .merge(operators::routes())
        .merge(chats::routes())
        .merge(stats_page::routes())
        .merge(admins::routes())
        .merge(settings_page::routes())
}

/// Back-office pages and the permission each needs (None: any admin).
pub const PAGES: &[(&str, &str, Option<Permission>)] = &[
    ("/admin", "Dashboard", None),
    ("/admin/users", "Users", Some(Permission::ManageUsers)),
    ("/admin/profiles", "Profiles", Some(Permission::ManageFictionalProfiles)),
    ("/admin/operators", "Operators", Some(Permission::ManageOperators)),
    ("/admin/chats", "Chats", Some(Permission::ManageChats)),
    ("/admin/reports", "Reports", Some(Permission::ManageChats)),
    ("/admin/payments", "Payments", Some(Permission::ManagePayments)),
    ("/admin/stats", "Analytics", Some(Permission::ViewAnalytics)),
    ("/admin/admins", "Admins", Some(Permission::ManageAdmins)),
    ("/admin/settings", "Settings", Some(Permission::SystemSettings)),
    ("/admin/audit", "Audit log", Some(Permission::ManageAdmins)),
];

pub(crate) fn nav(me: &CurrentAdmin) -> AdminNav {
    let items = PAGES.iter().filter(|(_, _, p)| p.map(|p| me.can(p)).unwrap_or(true)).map(|(h, l, _)| (*h, *l)).collect();
    AdminNav { items, admin_name: me.admin.name.clone(), role: me.admin.role.to_string() }
}

const ADMIN_LOGIN: LoginPage = LoginPage {
    kind: AccountKind::Admin,
    title: "Back office sign in",
    subtitle: "Authorised staff only.",
    action: "/admin-login",
    login_label: "Email",
    login_type: "email",
    show_signup: false,
};

pub async fn login(csrf: CsrfToken, Query(q): Query<NextQuery>) -> Response {
    ADMIN_LOGIN.render(&csrf, String::new(), q.next.unwrap_or_default(), String::new()).into_response()
}

pub async fn login_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    csrf: CsrfToken,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    ADMIN_LOGIN.submit(&state, &ip, &csrf, &headers, form).await
}

/// `/setup` exists only while no admin does.
pub async fn setup(State(state): State<AppState>, csrf: CsrfToken) -> AppResult<Response> {
    if fantooo_store::admins::any_exist(&state.db).await? {
        return Err(AppError::NotFound);
    }
    Ok(t::Setup {
        chrome: Chrome::anonymous(&csrf.0, "/setup"),
        name: String::new(),
        email: String::new(),
        errors: FieldErrors::new(),
        token_configured: state.config.admin_setup_token.is_some(),
    }
    .into_response())
}

pub async fn setup_submit(State(state): State<AppState>, csrf: CsrfToken, Form(input): Form<StaffInput>) -> AppResult<Response> {
    match flows::setup_first_admin(&state, &input).await {
        Ok(_) => Ok(Redirect::to("/admin-login").into_response()),
        Err(AppError::Validation(errors)) => {
            let page = t::Setup {
                chrome: Chrome::anonymous(&csrf.0, "/setup"),
                name: input.name,
                email: input.email,
                errors,
                token_configured: state.config.admin_setup_token.is_some(),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn payments_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken) -> AppResult<Response> {
    me.require(Permission::ManagePayments)?;
    let transactions = stats::recent_transactions(&state.db, 100).await?;
    let packages = packages::list_active(&state.db).await?;
    Ok(t::AdminPayments { chrome: me.chrome(&csrf, "/admin/payments"), nav: nav(&me), transactions, packages }.into_response())
}

/// The pricing settings in force (defaults until an admin saves them).
pub async fn pricing(state: &AppState) -> AppResult<PricingConfig> {
    Ok(settings::get::<PricingConfig>(&state.db, "pricing").await?.unwrap_or_default())
}

#[derive(Deserialize, Default)]
pub struct PricingForm {
    pub free_messages_per_chat: Option<String>,
    pub base_credits: Option<String>,
    pub peak_start_hour: Option<String>,
    pub peak_end_hour: Option<String>,
    pub off_peak_start_hour: Option<String>,
    pub off_peak_end_hour: Option<String>,
    /// The multipliers, in percent of the base price.
    pub featured_percent: Option<String>,
    pub peak_percent: Option<String>,
    pub off_peak_percent: Option<String>,
    pub loyalty_every: Option<String>,
}

/// Applies a pricing form onto the current config, naming each bad field.
pub fn apply_pricing(mut cfg: PricingConfig, f: &PricingForm) -> Result<PricingConfig, FieldErrors> {
    let mut errs = FieldErrors::new();
    let mut num = |field: &'static str, v: &Option<String>, min: i64, max: i64| -> Option<i64> {
        let v = v.as_deref()?.trim();
        match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                errs.add(field, format!("Enter a whole number from {min} to {max}"));
                None
            }
        }
    };
    if let Some(n) = num("free_messages_per_chat", &f.free_messages_per_chat, 0, 50) {
        cfg.free_messages_per_chat = n;
    }
    if let Some(n) = num("base_credits", &f.base_credits, 1, 100) {
        cfg.base_credits = n;
    }
    if let Some(n) = num("peak_start_hour", &f.peak_start_hour, 0, 23) {
        cfg.peak_start_hour = n as u32;
    }
    if let Some(n) = num("peak_end_hour", &f.peak_end_hour, 0, 23) {
        cfg.peak_end_hour = n as u32;
    }
    if let Some(n) = num("off_peak_start_hour", &f.off_peak_start_hour, 0, 23) {
        cfg.off_peak_start_hour = n as u32;
    }
    if let Some(n) = num("off_peak_end_hour", &f.off_peak_end_hour, 0, 23) {
        cfg.off_peak_end_hour = n as u32;
    }
    if let Some(n) = num("featured_percent", &f.featured_percent, 100, 500) {
        cfg.featured_percent = n;
    }
    if let Some(n) = num("peak_percent", &f.peak_percent, 50, 300) {
        cfg.peak_percent = n;
    }
    if let Some(n) = num("off_peak_percent", &f.off_peak_percent, 10, 100) {
        cfg.off_peak_percent = n;
    }
    if let Some(n) = num("loyalty_every", &f.loyalty_every, 0, 10_000) {
        cfg.loyalty_every = n;
    }
    if errs.is_empty() && cfg.peak_start_hour == cfg.peak_end_hour {
        errs.add("peak_end_hour", "The peak window must not be empty");
    }
    errs.into_result().map(|_| cfg)
}
