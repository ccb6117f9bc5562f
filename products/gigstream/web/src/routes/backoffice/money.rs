//! Withdrawals: the approval queue (approve pays out through the
//! provider; reject returns the money), as pages and as the JSON API.

use super::{cursor_of, given, shell_for, when, Action, Detail, Field, Staff};
use crate::auth::CsrfToken;
use crate::templates::money;
use crate::{payments, AppError, AppResult, AppState};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use gigstream_domain::backoffice::AdminPermission as P;
use gigstream_domain::ids::WithdrawalId;
use gigstream_domain::wallet::WithdrawalStatus;
use gigstream_store::wallet::{self, Withdrawal};
use platform_audit::Record;
use platform_backoffice::forms::{id, Flash, Input, Via};
use platform_backoffice::keyset::{Cursor, Pager};
use platform_backoffice::shell::{confirmed, Cell, FilterField, Filters, ListPage, Table};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/withdrawals", get(list_page))
        .route("/api/v1/admin/withdrawals", get(list_api))
        .route("/admin/withdrawals/{id}", get(detail_page))
        .route("/admin/withdrawals/{id}/{decision}", post(decide_handler))
        .route("/api/v1/admin/withdrawals/{id}/{decision}", post(decide_handler))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    status: Option<String>,
    before: Option<String>,
}

const ROWS: i64 = 50;

async fn rows(state: &AppState, staff: &Staff, q: &ListQuery) -> AppResult<(Vec<Withdrawal>, Option<Cursor>)> {
    staff.require(P::ManageMoney)?;
    let status = match given(&q.status) {
        None => None,
        Some(s) => Some(s.parse::<WithdrawalStatus>().map_err(|_| AppError::field("status", "Unknown withdrawal status"))?),
    };
    let before = match given(&q.before) {
        None => None,
        Some(text) => {
            let c = Cursor::decode(&text, "before")?;
            let at: DateTime<Utc> = c.key_as("before")?;
            Some((at, c.id.parse().map_err(|_| AppError::field("before", "This page link is not valid; start from the first page."))?))
        }
    };
    let mut list = wallet::withdrawals(&state.db, status, before, ROWS + 1).await?;
    let more = list.len() as i64 > ROWS;
    list.truncate(ROWS as usize);
    let older = if more { list.last().map(|w| cursor_of(w.created_at, w.id)) } else { None };
    Ok((list, older))
}

async fn list_page(
    State(state): State<AppState>,
    staff: Staff,
    csrf: CsrfToken,
    Query(flash): Query<Flash>,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let (list, older) = rows(&state, &staff, &q).await?;
    let status = given(&q.status).unwrap_or_default();
    let filters = Filters {
        action: "/admin/withdrawals".into(),
        fields: vec![FilterField::select(
            "status",
            "Status",
            &status,
            &[
                ("", "Any"),
                ("requested", "Waiting"),
                ("approved", "Approved"),
                ("paid", "Paid"),
                ("rejected", "Rejected"),
                ("failed", "Failed"),
            ],
        )],
    };
    let table = Table {
        columns: ["Requested", "Amount", "Paid out", "Method", "To", "Status"].map(String::from).to_vec(),
        rows: list
            .iter()
            .map(|w| {
                vec![
                    Cell::link(when(w.created_at), format!("/admin/withdrawals/{}", w.id)),
                    Cell::mono(money(w.amount_minor, w.currency)),
                    Cell::mono(money(w.payout_minor(), w.currency)),
                    Cell::text(w.method.label()),
                    Cell::mono(w.destination.clone()),
                    Cell::text(w.status.label()),
                ]
            })
            .collect(),
        empty: "No withdrawals match.".into(),
        keys: list.iter().map(|w| w.id.to_string()).collect(),
    };
    let mut pairs = vec![];
    if !status.is_empty() {
        pairs.push(("status", status.clone()));
    }
    let pager = Pager {
        newer: None,
        older: older.map(|c| {
            pairs.push(("before", c.encode()));
            format!("/admin/withdrawals?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
        }),
    };
    ListPage { shell: shell_for(&staff, &csrf, "Withdrawals", "/admin/withdrawals", flash), filters, table, pager }.response()
}

async fn list_api(State(state): State<AppState>, staff: Staff, Query(q): Query<ListQuery>) -> AppResult<Json<Value>> {
    let (list, older) = rows(&state, &staff, &q).await?;
    let list: Vec<Value> = list.iter().map(super::super::money::withdrawal_json).collect();
    Ok(Json(json!({ "withdrawals": list, "older": older.map(|c| c.encode()) })))
}

async fn detail_page(
    State(state): State<AppState>,
    staff: Staff,
    csrf: CsrfToken,
    Query(flash): Query<Flash>,
    Path(raw): Path<String>,
) -> AppResult<Response> {
    staff.require(P::ManageMoney)?;
    let w = wallet::withdrawal(&state.db, id::<WithdrawalId>(&raw)?).await?;
    let path = format!("/admin/withdrawals/{}", w.id);
    let m = |v: i64| money(v, w.currency);
    let mut page = Detail::new(shell_for(&staff, &csrf, &format!("Withdrawal of {}", m(w.amount_minor)), &path, flash))
        .fact("Status", w.status.label())
        .fact("Amount", m(w.amount_minor))
        .fact("Fee", m(w.fee_minor))
        .fact("Paid out", m(w.payout_minor()))
        .fact("Method", w.method.label())
        .fact("Destination", w.destination.clone())
        .fact("Requested", when(w.created_at))
        .fact("Note", w.note.clone().unwrap_or_else(|| "—".into()));
    page.links.push(("The seller".into(), format!("/admin/users/{}", w.seller_id)));
    if w.status == WithdrawalStatus::Requested {
        page.actions.push(Action::confirmed(
            format!("{path}/approve"),
            "Approve and pay",
            format!("Pay {} to {} now through {}?", m(w.payout_minor()), w.destination, w.method.label()),
            vec![],
        ));
        page.actions.push(Action::confirmed(
            format!("{path}/reject"),
            "Reject",
            "Reject this withdrawal? The money goes back to the seller's available balance.".into(),
            vec![Field::new("note", "Why (the seller is shown it)", "textarea", "")],
        ));
    }
    page.response()
}

/// Approves (and pays out) or rejects a withdrawal, with its audit entry;
/// repeating a decision is harmless.
pub async fn decide_withdrawal(state: &AppState, staff: &Staff, id: WithdrawalId, decision: &str, note: &str) -> AppResult<Withdrawal> {
    let now = Utc::now();
    let before = wallet::withdrawal(&state.db, id).await?.status;
    match decision {
        "approve" => {
            wallet::approve(&state.db, id, staff.user.account.id, now).await?;
            payments::pay_out(state, id).await?;
        }
        "reject" => {
            wallet::reject(&state.db, id, staff.user.account.id, note, now).await?;
        }
        _ => return Err(AppError::NotFound),
    }
    let w = wallet::withdrawal(&state.db, id).await?;
    if w.status != before {
        let (admin, subject) = (staff.user.account.id.to_string(), id.to_string());
        let (b, a) = (json!({ "status": before }), json!({ "status": w.status, "payout_id": w.payout_id }));
        let mut r = Record::new("admin", Some(&admin), if decision == "approve" { "withdrawal.approve" } else { "withdrawal.reject" })
            .subject("withdrawal", &subject)
            .change(Some(&b), Some(&a))
            .ip(staff.user.ip.as_deref());
        if !note.trim().is_empty() {
            r = r.reason(note.trim());
        }
        if let Err(e) = platform_audit::record(&state.db, &r).await {
            tracing::error!(withdrawal = %id, error = %e, "audit entry not written");
        }
    }
    Ok(w)
}

#[derive(Deserialize, Default)]
struct DecideForm {
    confirm: Option<String>,
    note: Option<String>,
}

async fn decide_handler(
    State(state): State<AppState>,
    via: Via,
    staff: Staff,
    Path((raw, decision)): Path<(String, String)>,
    Input(f): Input<DecideForm>,
) -> AppResult<Response> {
    staff.require(P::ManageMoney)?;
    let wid: WithdrawalId = id(&raw)?;
    let outcome = async {
        if !via.api {
            confirmed(f.confirm.as_deref())?;
        }
        let w = decide_withdrawal(&state, &staff, wid, &decision, f.note.as_deref().unwrap_or("")).await?;
        Ok((format!("Withdrawal {}.", w.status.label().to_lowercase()), json!({ "withdrawal": super::super::money::withdrawal_json(&w) })))
    }
    .await;
    via.finish(&format!("/admin/withdrawals/{wid}"), outcome)
}
