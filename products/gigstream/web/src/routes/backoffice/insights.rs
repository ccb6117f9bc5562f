//! Security events, analytics (orders, GMV and fees by day as SVG
//! charts), the marketplace settings and the audit log.

use super::{given, shell_for, when, Action, Detail, Field, Staff};
use crate::auth::CsrfToken;
use crate::templates::money;
use crate::{AppError, AppResult, AppState};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Duration, Utc};
use gigstream_domain::backoffice::{self as rules, AdminPermission as P, Settings};
use gigstream_domain::FeePolicy;
use gigstream_store::backoffice as bo;
use gigstream_store::security::{self, Kind};
use platform_audit::{Entry, Filter, Position};
use platform_backoffice::forms::{Flash, Input, Via};
use platform_backoffice::keyset::{Cursor, Direction, KeysetPage, Page};
use platform_backoffice::shell::{Cell, FilterField, Filters, ListPage, Table};
use platform_kernel::FieldErrors;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/security", get(security_page))
        .route("/api/v1/admin/security", get(security_api))
        .route("/admin/analytics", get(analytics_page))
        .route("/api/v1/admin/analytics", get(analytics_api))
        .route("/admin/settings", get(settings_page).post(save_settings))
        .route("/api/v1/admin/settings", get(settings_api).put(save_settings).post(save_settings))
        .route("/admin/audit", get(audit_page))
        .route("/api/v1/admin/audit", get(audit_api))
}

#[derive(Deserialize, Default)]
struct SecurityQuery {
    kind: Option<String>,
    #[serde(flatten)]
    page: Page,
}

const SECURITY_ROWS: i64 = 50;

async fn security_rows(state: &AppState, staff: &Staff, q: &SecurityQuery) -> AppResult<KeysetPage<security::Event>> {
    staff.require(P::ViewSecurity)?;
    let kind = match given(&q.kind) {
        None => None,
        Some(k) => Some(k.parse::<Kind>().map_err(|_| AppError::field("kind", "Choose infected uploads or failed sign-ins."))?),
    };
    let at = super::seq_at(&q.page)?;
    let found = gigstream_store::backoffice::security_events(&state.db, kind, &at, SECURITY_ROWS).await?;
    Ok(KeysetPage::from_rows(found, &super::direction_of(&at), SECURITY_ROWS as usize, |e| Cursor::new(e.seq, e.seq)))
}

async fn security_page(
    State(state): State<AppState>,
    staff: Staff,
    csrf: CsrfToken,
    Query(flash): Query<Flash>,
    Query(q): Query<SecurityQuery>,
) -> AppResult<Response> {
    let page = security_rows(&state, &staff, &q).await?;
    let list = &page.items;
    let kind = given(&q.kind).unwrap_or_default();
    let filters = Filters {
        action: "/admin/security".into(),
        fields: vec![FilterField::select(
            "kind",
            "Kind",
            &kind,
            &[("", "Any"), ("infected_upload", "Infected uploads"), ("failed_login", "Failed sign-ins")],
        )],
    };
    let table = Table {
        columns: ["When", "What", "Account", "Address", "Detail"].map(String::from).to_vec(),
        rows: list
            .iter()
            .map(|e| {
                let d = &e.detail.0;
                let mut lines = vec![];
                for (k, v) in [("signature", &d.signature), ("field", &d.field), ("file", &d.file_name), ("login", &d.login)] {
                    if !v.is_empty() {
                        lines.push(format!("{k}: {v}"));
                    }
                }
                vec![
                    Cell::text(when(e.created_at)),
                    Cell::text(e.kind.label()),
                    match e.account_id {
                        Some(a) => Cell::link(a.to_string(), format!("/admin/users/{a}")),
                        None => Cell::text("—"),
                    },
                    Cell::mono(e.ip.clone().unwrap_or_default()),
                    Cell::lines("", lines),
                ]
            })
            .collect(),
        empty: "No security events.".into(),
        keys: list.iter().map(|e| e.kind.to_string()).collect(),
    };
    let pager = page.pager("/admin/security", &[("kind", &kind)]);
    ListPage { shell: shell_for(&staff, &csrf, "Security events", "/admin/security", flash), filters, table, pager }.response()
}

async fn security_api(State(state): State<AppState>, staff: Staff, Query(q): Query<SecurityQuery>) -> AppResult<Json<Value>> {
    let page = security_rows(&state, &staff, &q).await?;
    let (newer, older) = (page.newer.map(|c| c.encode()), page.older.map(|c| c.encode()));
    Ok(Json(json!({ "events": page.items, "newer": newer, "older": older })))
}

#[derive(Deserialize, Default)]
struct DaysQuery {
    days: Option<String>,
}

async fn days_of(state: &AppState, staff: &Staff, q: &DaysQuery) -> AppResult<Vec<rules::Day>> {
    staff.require(P::ViewAnalytics)?;
    let days: u32 = match given(&q.days) {
        None => 30,
        Some(d) => d.parse().ok().filter(|d| (1..=366).contains(d)).ok_or_else(|| AppError::field("days", "Give 1 to 366 days."))?,
    };
    let now = Utc::now();
    let today = now.date_naive();
    let from = (today - Duration::days(i64::from(days) - 1)).and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let paid = bo::paid_orders(&state.db, from, now + Duration::seconds(1)).await?;
    Ok(rules::by_day(&paid, today, days))
}

async fn analytics_page(
    State(state): State<AppState>,
    staff: Staff,
    csrf: CsrfToken,
    Query(flash): Query<Flash>,
    Query(q): Query<DaysQuery>,
) -> AppResult<Response> {
    let days = days_of(&state, &staff, &q).await?;
    let cur = state.config.currency;
    let labels: Vec<String> = days.iter().map(|d| d.day.format("%Y-%m-%d").to_string()).collect();
    let series = |f: fn(&rules::Day) -> i64, minor: bool| -> Vec<f64> {
        days.iter().map(|d| if minor { f(d) as f64 / 100.0 } else { f(d) as f64 }).collect()
    };
    let chart = |title: &str, values: Vec<f64>| format!("<h2>{title}</h2>{}", platform_backoffice::charts::bars(title, &labels, &values));
    let total = |f: fn(&rules::Day) -> i64| days.iter().map(f).sum::<i64>();
    let mut page = Detail::new(shell_for(&staff, &csrf, "Analytics", "/admin/analytics", flash))
        .fact("Days", days.len().to_string())
        .fact("Orders paid", total(|d| d.orders).to_string())
        .fact("GMV", money(total(|d| d.gmv_minor), cur))
        .fact("Fees", money(total(|d| d.fees_minor), cur));
    page.chart = [
        chart("Orders paid per day", series(|d| d.orders, false)),
        chart(&format!("GMV per day ({cur})"), series(|d| d.gmv_minor, true)),
        chart(&format!("Fees per day ({cur})"), series(|d| d.fees_minor, true)),
    ]
    .join("");
    page.links.push(("Last 7 days".into(), "/admin/analytics?days=7".into()));
    page.links.push(("Last 90 days".into(), "/admin/analytics?days=90".into()));
    page.table = Some(Table {
        columns: ["Day", "Orders", "GMV", "Fees"].map(String::from).to_vec(),
        rows: days
            .iter()
            .rev()
            .map(|d| {
                vec![
                    Cell::text(d.day.format("%Y-%m-%d").to_string()),
                    Cell::mono(d.orders.to_string()),
                    Cell::mono(money(d.gmv_minor, cur)),
                    Cell::mono(money(d.fees_minor, cur)),
                ]
            })
            .collect(),
        empty: String::new(),
        keys: vec![],
    });
    page.response()
}

async fn analytics_api(State(state): State<AppState>, staff: Staff, Query(q): Query<DaysQuery>) -> AppResult<Json<Value>> {
    let days = days_of(&state, &staff, &q).await?;
    Ok(Json(json!({ "currency": state.config.currency, "days": days })))
}

fn settings_json(s: &Settings) -> Value {
    json!({
        "platform_fee_percent": rules::bps_text(s.fees.platform_fee_bps),
        "buyer_fee_percent": rules::bps_text(s.fees.buyer_fee_bps),
        "buyer_fee_min_minor": s.fees.buyer_fee_min_minor,
        "clearance_days": s.clearance_days,
    })
}

fn settings_form(s: &Settings, cur: gigstream_domain::Currency) -> Vec<Field> {
    vec![
        Field::new("platform_fee_percent", "Platform fee (% of the seller's price)", "text", rules::bps_text(s.fees.platform_fee_bps)),
        Field::new("buyer_fee_percent", "Buyer's service fee (%)", "text", rules::bps_text(s.fees.buyer_fee_bps)),
        Field::new(
            "buyer_fee_min",
            &format!("Smallest service fee ({cur})"),
            "text",
            gigstream_domain::Money { minor: s.fees.buyer_fee_min_minor, currency: cur }.decimal(),
        ),
        Field::new("clearance_days", "Clearance period (days)", "number", s.clearance_days.to_string()),
    ]
}

async fn settings_page(State(state): State<AppState>, staff: Staff, csrf: CsrfToken, Query(flash): Query<Flash>) -> AppResult<Response> {
    staff.require(P::ManageSettings)?;
    let s = crate::settings::current(&state).await?;
    let mut page = Detail::new(shell_for(&staff, &csrf, "Settings", "/admin/settings", flash));
    page.facts.push((
        "Applies to".into(),
        "Orders placed from now on (each order keeps the fees it was placed under); clearance of all pending earnings.".into(),
    ));
    page.actions.push(Action::form("/admin/settings", "Save settings", settings_form(&s, state.config.currency)));
    page.response()
}

async fn settings_api(State(state): State<AppState>, staff: Staff) -> AppResult<Json<Value>> {
    staff.require(P::ManageSettings)?;
    Ok(Json(json!({ "settings": settings_json(&crate::settings::current(&state).await?) })))
}

#[derive(Deserialize, Default)]
struct SettingsForm {
    platform_fee_percent: Option<String>,
    buyer_fee_percent: Option<String>,
    buyer_fee_min: Option<String>,
    buyer_fee_min_minor: Option<String>,
    clearance_days: Option<String>,
}

/// The form read field by field, every refusal named.
fn read_settings(f: &SettingsForm, current: Settings, cur: gigstream_domain::Currency) -> AppResult<Settings> {
    let mut errors = FieldErrors::new();
    let pct = |v: &Option<String>, field: &'static str, now: u32, errors: &mut FieldErrors| match given(v) {
        None => now,
        Some(t) => rules::percent_bps(&t).unwrap_or_else(|| {
            errors.add(field, "Give a percentage such as 20 or 12.5.");
            now
        }),
    };
    let platform_fee_bps = pct(&f.platform_fee_percent, "platform_fee_percent", current.fees.platform_fee_bps, &mut errors);
    let buyer_fee_bps = pct(&f.buyer_fee_percent, "buyer_fee_percent", current.fees.buyer_fee_bps, &mut errors);
    let buyer_fee_min_minor = match (given(&f.buyer_fee_min_minor), given(&f.buyer_fee_min)) {
        (Some(m), _) => m.parse().unwrap_or_else(|_| {
            errors.add("buyer_fee_min_minor", "Give a whole number of minor units.");
            0
        }),
        (None, Some(t)) => gigstream_domain::Money::parse(&t, cur).map(|m| m.minor).unwrap_or_else(|_| {
            errors.add("buyer_fee_min", "Give an amount such as 1 or 1.50.");
            0
        }),
        (None, None) => current.fees.buyer_fee_min_minor,
    };
    let clearance_days = match given(&f.clearance_days) {
        None => current.clearance_days,
        Some(t) => t.parse().unwrap_or_else(|_| {
            errors.add("clearance_days", "Give a whole number of days.");
            0
        }),
    };
    let new = Settings { fees: FeePolicy { platform_fee_bps, buyer_fee_bps, buyer_fee_min_minor }, clearance_days };
    if errors.is_empty() {
        if let Err(bad) = new.check() {
            for (field, message) in bad {
                errors.add(field, message);
            }
        }
    }
    if errors.is_empty() {
        Ok(new)
    } else {
        Err(AppError::Validation(errors))
    }
}

async fn save_settings(State(state): State<AppState>, via: Via, staff: Staff, Input(f): Input<SettingsForm>) -> AppResult<Response> {
    staff.require(P::ManageSettings)?;
    let outcome = async {
        let defaults = crate::settings::defaults(&state.config);
        let current = crate::settings::current(&state).await?;
        let new = read_settings(&f, current, state.config.currency)?;
        let saved = bo::save_settings(&state.db, staff.actor(), defaults, new, Utc::now()).await?;
        Ok(("Settings saved.".to_string(), json!({ "settings": settings_json(&saved) })))
    }
    .await;
    via.finish("/admin/settings", outcome)
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    action: Option<String>,
    subject: Option<String>,
    #[serde(flatten)]
    page: Page,
}

async fn audit_rows(state: &AppState, staff: &Staff, q: &AuditQuery, limit: i64) -> AppResult<KeysetPage<Entry>> {
    staff.require(P::ViewAudit)?;
    let (action, subject) = (given(&q.action), given(&q.subject));
    let at = match q.page.direction()? {
        Direction::First => Position::Newest,
        Direction::Before(c) => Position::Before(c.key_as("before")?),
        Direction::After(c) => Position::After(c.key_as("after")?),
    };
    let f = Filter { action: action.as_deref(), subject_id: subject.as_deref(), ..Filter::default() };
    let page = platform_audit::list(&state.db, &f, at, limit).await?;
    let cursor = |seq: i64| Cursor::new(seq, seq);
    Ok(KeysetPage { items: page.entries, newer: page.newer.map(cursor), older: page.older.map(cursor) })
}

async fn audit_page(
    State(state): State<AppState>,
    staff: Staff,
    csrf: CsrfToken,
    Query(flash): Query<Flash>,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    let page = audit_rows(&state, &staff, &q, 50).await?;
    let (action, subject) = (given(&q.action).unwrap_or_default(), given(&q.subject).unwrap_or_default());
    let filters = Filters {
        action: "/admin/audit".into(),
        fields: vec![
            FilterField::input("action", "Action (e.g. user.ban)", "text", &action),
            FilterField::input("subject", "Subject id", "text", &subject),
        ],
    };
    let table = Table {
        columns: ["When (UTC)", "Who", "Action", "Subject", "Changes"].map(String::from).to_vec(),
        rows: page
            .items
            .iter()
            .map(|e| {
                let who = format!("{} {}", e.actor_kind, e.actor_id.as_deref().unwrap_or(""));
                let subject = format!("{} {}", e.subject_kind.as_deref().unwrap_or(""), e.subject_id.as_deref().unwrap_or(""));
                let mut changes: Vec<String> =
                    platform_audit::changes(e.before_value.as_ref().map(|j| &j.0), e.after_value.as_ref().map(|j| &j.0))
                        .iter()
                        .map(ToString::to_string)
                        .collect();
                if let Some(r) = &e.reason {
                    changes.insert(0, format!("reason: {r}"));
                }
                vec![
                    Cell::text(e.at.format("%Y-%m-%d %H:%M:%S").to_string()),
                    Cell::mono(who.trim().to_string()),
                    Cell::text(e.action.clone()),
                    Cell::mono(subject.trim().to_string()),
                    if changes.is_empty() { Cell::text("—") } else { Cell::lines("", changes) },
                ]
            })
            .collect(),
        empty: "Nothing recorded for these filters.".into(),
        keys: page.items.iter().map(|e| e.action.clone()).collect(),
    };
    let pager = page.pager("/admin/audit", &[("action", &action), ("subject", &subject)]);
    ListPage { shell: shell_for(&staff, &csrf, "Audit log", "/admin/audit", flash), filters, table, pager }.response()
}

async fn audit_api(State(state): State<AppState>, staff: Staff, Query(q): Query<AuditQuery>) -> AppResult<Json<Value>> {
    let page = audit_rows(&state, &staff, &q, 200).await?;
    Ok(Json(json!({ "entries": page.items, "newer": page.newer.map(|c| c.encode()), "older": page.older.map(|c| c.encode()) })))
}
