//! The back office. Every handler checks the admin's permission server-side.

use super::public::{LoginForm, LoginPage, NextQuery};
use crate::auth::{ClientIp, CsrfToken, CurrentAdmin};
use crate::error::{AppError, AppResult};
use crate::flows::{self, StaffInput};
use crate::templates::{self as t, AdminNav, Chrome};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use fantooo_domain::ids::{AdminId, UserId};
use fantooo_domain::pricing::PricingConfig;
use fantooo_domain::{AccountKind, FieldErrors, Permission};
use fantooo_store::{admins, audit, operators, packages, profiles, settings, stats, users};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(dashboard))
        .route("/admin/users", get(users_page))
        .route("/admin/profiles", get(profiles_page))
        .route("/admin/operators", get(operators_page).post(operators_create))
        .route("/admin/chats", get(chats_page))
        .route("/admin/payments", get(payments_page))
        .route("/admin/stats", get(stats_page))
        .route("/admin/admins", get(admins_page).post(admins_create))
        .route("/admin/admins/{id}/{action}", post(admins_change))
        .route("/admin/settings", get(settings_page).post(settings_save))
        .route("/admin/audit", get(audit_page))
}

/// Back-office pages and the permission each needs (None: any admin).
pub const PAGES: &[(&str, &str, Option<Permission>)] = &[
    ("/admin", "Dashboard", None),
    ("/admin/users", "Users", Some(Permission::ManageUsers)),
    ("/admin/profiles", "Profiles", Some(Permission::ManageFictionalProfiles)),
    ("/admin/operators", "Operators", Some(Permission::ManageOperators)),
    ("/admin/chats", "Chats", Some(Permission::ManageChats)),
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
    kind: AccountKind::Admin, title: "Back office sign in", subtitle: "Authorised staff only.", action: "/admin-login",
    login_label: "Email", login_type: "email", show_signup: false,
};

pub async fn login(csrf: CsrfToken, Query(q): Query<NextQuery>) -> Response {
    ADMIN_LOGIN.render(&csrf, String::new(), q.next.unwrap_or_default(), String::new()).into_response()
}

pub async fn login_submit(State(state): State<AppState>, ClientIp(ip): ClientIp, csrf: CsrfToken, headers: HeaderMap, Form(form): Form<LoginForm>) -> AppResult<Response> {
    ADMIN_LOGIN.submit(&state, &ip, &csrf, &headers, form).await
}

/// `/setup` exists only while no admin does.
pub async fn setup(State(state): State<AppState>, csrf: CsrfToken) -> AppResult<Response> {
    if admins::any_exist(&state.db).await? {
        return Err(AppError::NotFound);
    }
    Ok(t::Setup { chrome: Chrome::anonymous(&csrf.0, "/setup"), name: String::new(), email: String::new(), errors: FieldErrors::new(), token_configured: state.config.admin_setup_token.is_some() }.into_response())
}

pub async fn setup_submit(State(state): State<AppState>, csrf: CsrfToken, Form(input): Form<StaffInput>) -> AppResult<Response> {
    match flows::setup_first_admin(&state, &input).await {
        Ok(_) => Ok(Redirect::to("/admin-login").into_response()),
        Err(AppError::Validation(errors)) => {
            let page = t::Setup { chrome: Chrome::anonymous(&csrf.0, "/setup"), name: input.name, email: input.email, errors, token_configured: state.config.admin_setup_token.is_some() };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn dashboard(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken) -> AppResult<Response> {
    let totals = stats::totals(&state.db).await?;
    let recent = if me.can(Permission::ManageAdmins) { audit::recent_admin_actions(&state.db, 10).await? } else { vec![] };
    Ok(t::AdminDashboard { chrome: me.chrome(&csrf, "/admin"), nav: nav(&me), totals, recent }.into_response())
}

#[derive(Deserialize)]
struct UserQuery {
    q: Option<String>,
    before: Option<String>,
}

/// Keyset cursor for user listings: "<rfc3339>|<uuid>".
fn parse_cursor(c: Option<&str>) -> Option<(chrono::DateTime<chrono::Utc>, UserId)> {
    let (at, id) = c?.split_once('|')?;
    Some((chrono::DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&chrono::Utc), id.parse().ok()?))
}

fn make_cursor(u: &users::User) -> String {
    format!("{}|{}", u.created_at.to_rfc3339(), u.id)
}

/// One page of the user search (newest first) and the cursor of the next
/// page, if there is one. Shared by the page and the API.
pub async fn user_page(state: &AppState, q: Option<&str>, before: Option<&str>, limit: i64) -> AppResult<(Vec<users::User>, Option<String>)> {
    let search = q.filter(|s| !s.trim().is_empty());
    let mut list = users::list(&state.db, search, parse_cursor(before), limit + 1).await?;
    let next = (list.len() as i64 > limit).then(|| {
        list.truncate(limit as usize);
        make_cursor(list.last().expect("a full page is not empty"))
    });
    Ok((list, next))
}

async fn users_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, Query(q): Query<UserQuery>) -> AppResult<Response> {
    me.require(Permission::ManageUsers)?;
    let (list, next_cursor) = user_page(&state, q.q.as_deref(), q.before.as_deref(), 50).await?;
    Ok(t::AdminUsers { chrome: me.chrome(&csrf, "/admin/users"), nav: nav(&me), users: list, q: q.q.unwrap_or_default(), next_cursor }.into_response())
}

async fn profiles_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken) -> AppResult<Response> {
    me.require(Permission::ManageFictionalProfiles)?;
    let list = profiles::list_public(&state.db, 200, 0).await?;
    Ok(t::AdminProfiles { chrome: me.chrome(&csrf, "/admin/profiles"), nav: nav(&me), profiles: list }.into_response())
}

async fn operators_render(state: &AppState, me: &CurrentAdmin, csrf: &CsrfToken, errors: FieldErrors, notice: String) -> AppResult<t::AdminOperators> {
    let list = operators::list(&state.db).await?;
    Ok(t::AdminOperators { chrome: me.chrome(&csrf, "/admin/operators"), nav: nav(me), operators: list, errors, notice })
}

async fn operators_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken) -> AppResult<Response> {
    me.require(Permission::ManageOperators)?;
    Ok(operators_render(&state, &me, &csrf, FieldErrors::new(), String::new()).await?.into_response())
}

async fn operators_create(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, ClientIp(ip): ClientIp, Form(input): Form<StaffInput>) -> AppResult<Response> {
    me.require(Permission::ManageOperators)?;
    match flows::create_operator(&state, me.admin.id, &input, &ip).await {
        Ok(op) => Ok(operators_render(&state, &me, &csrf, FieldErrors::new(), format!("Operator {} created", op.name)).await?.into_response()),
        Err(AppError::Validation(e)) => Ok((StatusCode::UNPROCESSABLE_ENTITY, operators_render(&state, &me, &csrf, e, String::new()).await?).into_response()),
        Err(e) => Err(e),
    }
}

async fn chats_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken) -> AppResult<Response> {
    me.require(Permission::ManageChats)?;
    let chats = stats::recent_chats(&state.db, None, 100).await?;
    Ok(t::AdminChats { chrome: me.chrome(&csrf, "/admin/chats"), nav: nav(&me), chats }.into_response())
}

async fn payments_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken) -> AppResult<Response> {
    me.require(Permission::ManagePayments)?;
    let transactions = stats::recent_transactions(&state.db, 100).await?;
    let packages = packages::list_active(&state.db).await?;
    Ok(t::AdminPayments { chrome: me.chrome(&csrf, "/admin/payments"), nav: nav(&me), transactions, packages }.into_response())
}

async fn stats_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken) -> AppResult<Response> {
    me.require(Permission::ViewAnalytics)?;
    let totals = stats::totals(&state.db).await?;
    Ok(t::AdminStats { chrome: me.chrome(&csrf, "/admin/stats"), nav: nav(&me), totals }.into_response())
}

async fn admins_render(state: &AppState, me: &CurrentAdmin, csrf: &CsrfToken, errors: FieldErrors, notice: String, error: String) -> AppResult<t::AdminAdmins> {
    let list = admins::list(&state.db).await?;
    Ok(t::AdminAdmins { chrome: me.chrome(&csrf, "/admin/admins"), nav: nav(me), admins: list, me: me.admin.id, errors, notice, error })
}

async fn admins_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken) -> AppResult<Response> {
    me.require(Permission::ManageAdmins)?;
    Ok(admins_render(&state, &me, &csrf, FieldErrors::new(), String::new(), String::new()).await?.into_response())
}

async fn admins_create(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, ClientIp(ip): ClientIp, Form(input): Form<StaffInput>) -> AppResult<Response> {
    me.require(Permission::ManageAdmins)?;
    match flows::create_admin(&state, me.admin.id, &input, &ip).await {
        Ok(a) => Ok(admins_render(&state, &me, &csrf, FieldErrors::new(), format!("Admin {} created", a.name), String::new()).await?.into_response()),
        Err(AppError::Validation(e)) => Ok((StatusCode::UNPROCESSABLE_ENTITY, admins_render(&state, &me, &csrf, e, String::new(), String::new()).await?).into_response()),
        Err(e) => Err(e),
    }
}

async fn admins_change(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, ClientIp(ip): ClientIp, Path((id, action)): Path<(AdminId, String)>) -> AppResult<Response> {
    me.require(Permission::ManageAdmins)?;
    match flows::change_admin(&state, me.admin.id, id, &action, &ip).await {
        Ok(()) if id == me.admin.id && action != "activate" => Ok(Redirect::to("/admin-login").into_response()),
        Ok(()) => Ok(Redirect::to("/admin/admins").into_response()),
        Err(AppError::Conflict(msg)) => Ok((StatusCode::CONFLICT, admins_render(&state, &me, &csrf, FieldErrors::new(), String::new(), msg).await?).into_response()),
        Err(e) => Err(e),
    }
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
}

/// Applies a pricing form onto the current config, naming each bad field.
pub fn apply_pricing(mut cfg: PricingConfig, f: &PricingForm) -> Result<PricingConfig, FieldErrors> {
    let mut errs = FieldErrors::new();
    let mut num = |field: &'static str, v: &Option<String>, min: i64, max: i64| -> Option<i64> {
        let v = v.as_deref()?.trim();
        match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => { errs.add(field, format!("Enter a whole number from {min} to {max}")); None }
        }
    };
    if let Some(n) = num("free_messages_per_chat", &f.free_messages_per_chat, 0, 50) { cfg.free_messages_per_chat = n; }
    if let Some(n) = num("base_credits", &f.base_credits, 1, 100) { cfg.base_credits = n; }
    if let Some(n) = num("peak_start_hour", &f.peak_start_hour, 0, 23) { cfg.peak_start_hour = n as u32; }
    if let Some(n) = num("peak_end_hour", &f.peak_end_hour, 0, 23) { cfg.peak_end_hour = n as u32; }
    if let Some(n) = num("off_peak_start_hour", &f.off_peak_start_hour, 0, 23) { cfg.off_peak_start_hour = n as u32; }
    if let Some(n) = num("off_peak_end_hour", &f.off_peak_end_hour, 0, 23) { cfg.off_peak_end_hour = n as u32; }
    if errs.is_empty() && cfg.peak_start_hour == cfg.peak_end_hour {
        errs.add("peak_end_hour", "The peak window must not be empty");
    }
    errs.into_result().map(|_| cfg)
}

async fn settings_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken) -> AppResult<Response> {
    me.require(Permission::SystemSettings)?;
    let pricing = pricing(&state).await?;
    Ok(t::AdminSettings { chrome: me.chrome(&csrf, "/admin/settings"), nav: nav(&me), pricing, notice: String::new(), errors: FieldErrors::new() }.into_response())
}

async fn settings_save(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, Form(form): Form<PricingForm>) -> AppResult<Response> {
    me.require(Permission::SystemSettings)?;
    let current = pricing(&state).await?;
    match apply_pricing(current, &form) {
        Ok(cfg) => {
            settings::set(&state.db, "pricing", &cfg, Some(me.admin.id)).await?;
            Ok(t::AdminSettings { chrome: me.chrome(&csrf, "/admin/settings"), nav: nav(&me), pricing: cfg, notice: "Settings saved".into(), errors: FieldErrors::new() }.into_response())
        }
        Err(errors) => Ok((StatusCode::UNPROCESSABLE_ENTITY, t::AdminSettings { chrome: me.chrome(&csrf, "/admin/settings"), nav: nav(&me), pricing: current, notice: String::new(), errors }).into_response()),
    }
}

async fn audit_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken) -> AppResult<Response> {
    me.require(Permission::ManageAdmins)?;
    let actions = audit::recent_admin_actions(&state.db, 200).await?;
    Ok(t::AdminAudit { chrome: me.chrome(&csrf, "/admin/audit"), nav: nav(&me), actions }.into_response())
}

