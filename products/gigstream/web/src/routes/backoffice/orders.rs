//! Orders and disputes: the list, an order's timeline, and an admin's
//! settlement (release, refund, split) or partial refund, through the
//! order store's own steps (`orders::resolve`, `orders::refund_part`).

use super::{at_of, cursor_of, direction_of, given, shell_for, when, Action, Detail, Field, Staff};
use crate::auth::CsrfToken;
use crate::templates::money;
use crate::{AppError, AppResult, AppState};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use gigstream_domain::backoffice::AdminPermission as P;
use gigstream_domain::ids::OrderId;
use gigstream_domain::{Money, OrderStatus};
use gigstream_store::backoffice::{self as bo, OrderLine, RefundLine};
use gigstream_store::orders::{self, Order, Resolution};
use platform_audit::Record;
use platform_backoffice::forms::{id, Flash, Input, Via};
use platform_backoffice::keyset::{KeysetPage, Page};
use platform_backoffice::shell::{confirmed, Cell, FilterField, Filters, ListPage, Table};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/orders", get(list_page))
        .route("/api/v1/admin/orders", get(list_api))
        .route("/admin/orders/{id}", get(detail_page))
        .route("/admin/orders/{id}/{action}", post(act))
        .route("/api/v1/admin/orders/{id}/{action}", post(act))
        .route("/admin/refunds", get(refunds_page))
        .route("/api/v1/admin/refunds", get(refunds_api))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    status: Option<String>,
    #[serde(flatten)]
    page: Page,
}

const ROWS: i64 = 50;

async fn rows(state: &AppState, staff: &Staff, q: &ListQuery) -> AppResult<KeysetPage<OrderLine>> {
    staff.require(P::ResolveOrders)?;
    let status = match given(&q.status) {
        None => None,
        Some(s) => Some(s.parse::<OrderStatus>().map_err(|_| AppError::field("status", "Unknown order status."))?),
    };
    let at = at_of::<OrderId>(&q.page)?;
    let found = bo::orders(&state.db, status, &at, ROWS).await?;
    Ok(KeysetPage::from_rows(found, &direction_of(&at), ROWS as usize, |o| cursor_of(o.created_at, o.id)))
}

const STATUSES: &[(&str, &str)] = &[
    ("", "Any"),
    ("disputed", "Disputed"),
    ("placed", "Placed"),
    ("paid", "Paid"),
    ("in_progress", "In progress"),
    ("delivered", "Delivered"),
    ("revision_requested", "Revision requested"),
    ("completed", "Completed"),
    ("released", "Released"),
    ("cancelled", "Cancelled"),
    ("refunded", "Refunded"),
    ("resolved", "Resolved"),
];

async fn list_page(
    State(state): State<AppState>,
    staff: Staff,
    csrf: CsrfToken,
    Query(flash): Query<Flash>,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let page = rows(&state, &staff, &q).await?;
    let status = given(&q.status).unwrap_or_default();
    let filters = Filters { action: "/admin/orders".into(), fields: vec![FilterField::select("status", "Status", &status, STATUSES)] };
    let table = Table {
        columns: ["Order", "Buyer", "Seller", "Status", "Total", "Refunded", "Placed"].map(String::from).to_vec(),
        rows: page
            .items
            .iter()
            .map(|o| {
                vec![
                    Cell::link(o.gig_title.clone(), format!("/admin/orders/{}", o.id)),
                    Cell::text(format!("@{}", o.buyer)),
                    Cell::text(format!("@{}", o.seller)),
                    Cell::text(o.status.to_string()),
                    Cell::mono(money(o.total_minor, o.currency)),
                    Cell::mono(money(o.refunded_minor, o.currency)),
                    Cell::text(when(o.created_at)),
                ]
            })
            .collect(),
        empty: "No orders match.".into(),
        keys: page.items.iter().map(|o| o.id.to_string()).collect(),
    };
    let pager = page.pager("/admin/orders", &[("status", &status)]);
    let title = if status == "disputed" { "Disputes" } else { "Orders" };
    ListPage { shell: shell_for(&staff, &csrf, title, "/admin/orders", flash), filters, table, pager }.response()
}

async fn list_api(State(state): State<AppState>, staff: Staff, Query(q): Query<ListQuery>) -> AppResult<Json<Value>> {
    let page = rows(&state, &staff, &q).await?;
    Ok(Json(json!({ "orders": page.items, "newer": page.newer.map(|c| c.encode()), "older": page.older.map(|c| c.encode()) })))
}

async fn detail_page(
    State(state): State<AppState>,
    staff: Staff,
    csrf: CsrfToken,
    Query(flash): Query<Flash>,
    Path(raw): Path<String>,
) -> AppResult<Response> {
    staff.require(P::ResolveOrders)?;
    let o = orders::get(&state.db, id::<OrderId>(&raw)?).await?;
    let path = format!("/admin/orders/{}", o.id);
    let m = |v: i64| money(v, o.currency);
    let mut page = Detail::new(shell_for(&staff, &csrf, &o.gig_title, &path, flash))
        .fact("Status", o.status.to_string())
        .fact("Paid", m(o.paid_minor))
        .fact("Refunded", m(o.refunded_minor))
        .fact("Released", m(o.released_minor))
        .fact("Seller earned", m(o.seller_earned_minor))
        .fact("Platform earned", m(o.platform_earned_minor))
        .fact("Placed", when(o.created_at));
    page.links.push(("The buyer".into(), format!("/admin/users/{}", o.buyer_id)));
    page.links.push(("The seller".into(), format!("/admin/users/{}", o.seller_id)));
    let held = o.paid_minor - o.refunded_minor - o.released_minor;
    if o.status == OrderStatus::Disputed {
        page.actions.push(Action::confirmed(
            format!("{path}/resolve"),
            "Resolve dispute",
            format!("Settle this dispute? Escrow holds {}; the outcome cannot be undone.", m(held)),
            vec![
                Field::select(
                    "outcome",
                    "Outcome",
                    "split",
                    &[("release", "Release to the seller"), ("refund", "Refund the buyer"), ("split", "Split")],
                ),
                Field::new("refund", "Refund to the buyer (split only)", "text", ""),
                Field::new("note", "Note for both parties", "textarea", ""),
            ],
        ));
    }
    if held > 0 && o.status != OrderStatus::Placed {
        page.actions.push(Action::confirmed(
            format!("{path}/refund"),
            "Partial refund",
            format!("Refund part of this order to the buyer (at most {})?", m(held)),
            vec![Field::new("amount", "Amount", "text", ""), Field::new("reason", "Reason", "textarea", "")],
        ));
    }
    let timeline = orders::timeline(&state.db, o.id).await?;
    page.table = Some(Table {
        columns: ["When", "Step", "By", "From", "To", "Note"].map(String::from).to_vec(),
        rows: timeline
            .iter()
            .map(|e| {
                vec![
                    Cell::text(when(e.created_at)),
                    Cell::text(e.action.to_string()),
                    Cell::text(e.actor.to_string()),
                    Cell::text(e.from_status.to_string()),
                    Cell::text(e.to_status.to_string()),
                    Cell::text(e.note.clone().unwrap_or_default()),
                ]
            })
            .collect(),
        empty: "No steps yet.".into(),
        keys: vec![],
    });
    page.response()
}

#[derive(Deserialize, Default)]
struct ActForm {
    confirm: Option<String>,
    outcome: Option<String>,
    /// The split's refund as typed on the page ("20" or "20.50").
    refund: Option<String>,
    /// The same in minor units (the API).
    refund_minor: Option<String>,
    note: Option<String>,
    amount: Option<String>,
    amount_minor: Option<String>,
    reason: Option<String>,
    request_key: Option<String>,
}

/// Minor units from `minor` (the API) or a decimal amount (`typed`, the page).
fn amount(minor: &Option<String>, typed: &Option<String>, o: &Order, field: &'static str) -> AppResult<i64> {
    if let Some(m) = given(minor) {
        return m.parse().map_err(|_| AppError::field(field, "Give a whole number of minor units (cents)."));
    }
    let text = given(typed).ok_or_else(|| AppError::field(field, "Give the amount, e.g. 20 or 20.50."))?;
    Ok(Money::parse(&text, o.currency).map_err(|_| AppError::field(field, "Give the amount, e.g. 20 or 20.50."))?.minor)
}

/// Settles a dispute through the order store, sends the refund, records it.
pub async fn resolve_order(state: &AppState, staff: &Staff, id: OrderId, r: Resolution, key: &str, note: &str) -> AppResult<Order> {
    let o = orders::resolve(&state.db, id, staff.user.account.id, r, key, note, Utc::now()).await?;
    super::super::common::refunds_out(state, o.id).await;
    audit(state, staff, "order.resolve", &o, json!({ "resolution": r }), note).await;
    Ok(o)
}

/// The order store's steps write the order's timeline; this adds the
/// back office's own entry (who, from where, what).
async fn audit(state: &AppState, staff: &Staff, action: &str, o: &Order, after: Value, reason: &str) {
    let (admin, subject) = (staff.user.account.id.to_string(), o.id.to_string());
    let mut r =
        Record::new("admin", Some(&admin), action).subject("order", &subject).change(None, Some(&after)).ip(staff.user.ip.as_deref());
    if !reason.is_empty() {
        r = r.reason(reason);
    }
    if let Err(e) = platform_audit::record(&state.db, &r).await {
        tracing::error!(order = %o.id, error = %e, "audit entry not written");
    }
}

async fn act(
    State(state): State<AppState>,
    via: Via,
    staff: Staff,
    Path((raw, action)): Path<(String, String)>,
    Input(f): Input<ActForm>,
) -> AppResult<Response> {
    staff.require(P::ResolveOrders)?;
    let oid: OrderId = id(&raw)?;
    let outcome = async {
        if !via.api {
            confirmed(f.confirm.as_deref())?;
        }
        let o = orders::get(&state.db, oid).await?;
        let o = match action.as_str() {
            "resolve" => {
                let r = match given(&f.outcome).as_deref() {
                    Some("release") => Resolution::Release,
                    Some("refund") => Resolution::Refund,
                    Some("split") => Resolution::Split { refund_minor: amount(&f.refund_minor, &f.refund, &o, "refund")? },
                    _ => return Err(AppError::field("outcome", "Choose release, refund or split.")),
                };
                let key = given(&f.request_key).unwrap_or_else(|| format!("resolve:{oid}"));
                resolve_order(&state, &staff, oid, r, &key, f.note.as_deref().unwrap_or("")).await?
            }
            "refund" => {
                let minor = amount(&f.amount_minor, &f.amount, &o, "amount")?;
                let key = match given(&f.request_key) {
                    Some(k) => k,
                    None if via.api => return Err(AppError::field("request_key", "Give a request key so a retry refunds once.")),
                    // A page form: one refund per order, amount and moment.
                    None => format!("admin-refund:{oid}:{minor}:{}", o.refunded_minor),
                };
                let reason = f.reason.clone().unwrap_or_default();
                let o = orders::refund_part(&state.db, oid, staff.user.account.id, minor, &key, &reason, Utc::now()).await?;
                super::super::common::refunds_out(&state, o.id).await;
                audit(&state, &staff, "order.refund", &o, json!({ "amount_minor": minor }), &reason).await;
                o
            }
            _ => return Err(AppError::NotFound),
        };
        Ok((format!("Order {}.", o.status), json!({ "order": o })))
    }
    .await;
    via.finish(&format!("/admin/orders/{oid}"), outcome)
}

#[derive(Deserialize, Default)]
struct RefundQuery {
    pending: Option<String>,
    #[serde(flatten)]
    page: Page,
}

async fn refund_rows(state: &AppState, staff: &Staff, q: &RefundQuery) -> AppResult<(bool, KeysetPage<RefundLine>)> {
    staff.require(P::ManageMoney)?;
    let pending = platform_backoffice::forms::checked(&q.pending);
    let at = at_of::<String>(&q.page)?;
    let found = bo::refunds(&state.db, pending, &at, ROWS).await?;
    Ok((pending, KeysetPage::from_rows(found, &direction_of(&at), ROWS as usize, |r| cursor_of(r.created_at, &r.id))))
}

async fn refunds_page(
    State(state): State<AppState>,
    staff: Staff,
    csrf: CsrfToken,
    Query(flash): Query<Flash>,
    Query(q): Query<RefundQuery>,
) -> AppResult<Response> {
    let (pending, page) = refund_rows(&state, &staff, &q).await?;
    let list = &page.items;
    let filters = Filters {
        action: "/admin/refunds".into(),
        fields: vec![FilterField::select(
            "pending",
            "Show",
            if pending { "yes" } else { "" },
            &[("", "All refunds"), ("yes", "Not yet confirmed by the provider")],
        )],
    };
    let table = Table {
        columns: ["When", "Order", "Amount", "Reason", "Provider"].map(String::from).to_vec(),
        rows: list
            .iter()
            .map(|r| {
                let provider = match &r.provider_error {
                    Some(e) => format!("{} ({e})", r.provider_status),
                    None => r.provider_status.clone(),
                };
                vec![
                    Cell::text(when(r.created_at)),
                    Cell::link(r.gig_title.clone(), format!("/admin/orders/{}", r.order_id)),
                    Cell::mono(money(r.amount_minor, r.currency)),
                    Cell::text(r.reason.clone()),
                    Cell::text(provider),
                ]
            })
            .collect(),
        empty: "No refunds.".into(),
        keys: list.iter().map(|r| r.id.clone()).collect(),
    };
    let pager = page.pager("/admin/refunds", &[("pending", if pending { "yes" } else { "" })]);
    ListPage { shell: shell_for(&staff, &csrf, "Refunds", "/admin/refunds", flash), filters, table, pager }.response()
}

async fn refunds_api(State(state): State<AppState>, staff: Staff, Query(q): Query<RefundQuery>) -> AppResult<Json<Value>> {
    let (_, page) = refund_rows(&state, &staff, &q).await?;
    let (newer, older) = (page.newer.map(|c| c.encode()), page.older.map(|c| c.encode()));
    Ok(Json(json!({ "refunds": page.items, "newer": newer, "older": older })))
}
