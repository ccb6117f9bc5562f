//! Coin requests to resellers (requirement 5.3, 5.4) over HTTP: the
//! `/coin-requests` page (ask a reseller with payment proof, follow one's
//! requests; a reseller sees their stock, the requests made to them and
//! decides), the same operations as JSON under `/api/v1/coin-requests`,
//! the proof pictures (judged from their bytes, served only to the
//! requester, the reseller and staff), and the staff page
//! `/admin/coin-requests` on the platform's back-office shell (every
//! request, bulk decisions, reseller stock top-ups). Page forms and API
//! calls go through the same handlers (`Via`, `Input`).

use crate::auth::{CurrentUser, Staff};
use crate::error::{AppError, WebError, WebResult};
use crate::pages::Frame;
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use platform_backoffice::forms::{with_param, Flash, Input, Via};
use platform_backoffice::keyset::Pager;
use platform_backoffice::shell::{self, Cell, FilterField, Filters, Shell, Table};
use platform_media::{MediaKey, MediaRules, MediaType};
use platform_web::request::CsrfToken;
use rooms_domain::account::PlatformRole;
use rooms_domain::coin_requests::{Action, Payment, MAX_PROOFS};
use rooms_domain::ids::{AccountId, CoinRequestId};
use rooms_store::coin_requests::{self as cr, Actor, Approval, CoinRequest, NewRequest, Of, Reseller};
use rooms_store::{accounts, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A request's body may carry three pictures of 2 MB each.
const UPLOAD_LIMIT: usize = (MAX_PROOFS * 2 + 1) * 1024 * 1024;

/// Proof pictures: JPEG or PNG, at most 2 MB, judged from the bytes.
pub const PROOF_RULES: MediaRules = MediaRules {
    field: "proof",
    label: "Payment proof",
    accept: &[MediaType::Jpeg, MediaType::Png],
    max_bytes: 2 * 1024 * 1024,
    pixels: None,
};

/// The pages, the proof pictures and the staff forms.
pub fn routes() -> Router<AppState> {
    let upload = DefaultBodyLimit::max(UPLOAD_LIMIT);
    Router::new()
        .route("/coin-requests", get(page).post(create).layer(upload))
        .route("/coin-requests/{id}/{action}", post(decide))
        .route("/coin-requests/{id}/proofs/{n}", get(proof))
        .route("/admin/coin-requests", get(admin_page))
        .route("/admin/coin-requests/bulk", post(bulk))
        .route("/admin/resellers/stock", post(top_up))
        .route("/assets/backoffice.css", get(shell::stylesheet))
}

/// The JSON API of coin requests and reseller stock, described by each
/// handler's `#[utoipa::path]`.
pub fn api() -> OpenApiRouter<AppState> {
    let upload = OpenApiRouter::new().routes(routes!(list_api, create)).layer(DefaultBodyLimit::max(UPLOAD_LIMIT));
    OpenApiRouter::new()
        .merge(upload)
        .routes(routes!(resellers_api))
        .routes(routes!(one_api))
        .routes(routes!(decide))
        .routes(routes!(admin_api))
        .routes(routes!(bulk))
        .routes(routes!(top_up))
}

/// A request with what its viewer needs: proof links and whether a credit
/// approval is overdue.
fn view(r: &CoinRequest, now: DateTime<Utc>) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    let proofs: Vec<String> = (0..r.proof_keys().len()).map(|n| format!("/coin-requests/{}/proofs/{n}", r.id)).collect();
    v["proofs"] = json!(proofs);
    v["overdue"] = json!(r.overdue(now));
    v
}

fn views(rows: &[CoinRequest]) -> Vec<Value> {
    let now = Utc::now();
    rows.iter().map(|r| view(r, now)).collect()
}

/// The answer to a change: JSON for the API (with `status`), a redirect
/// back with a notice for a page; refusals a person can act on go back to
/// the page with their message.
pub(crate) fn answer(via: Via, back: &str, status: StatusCode, outcome: WebResult<(impl AsRef<str>, Value)>) -> WebResult<Response> {
    match outcome {
        Ok((_, body)) if via.api => Ok((status, axum::Json(body)).into_response()),
        Ok((notice, _)) => Ok(Redirect::to(&with_param(back, "notice", notice.as_ref())).into_response()),
        Err(WebError::Refused { message, .. }) if !via.api => Ok(Redirect::to(&with_param(back, "error", &message)).into_response()),
        Err(WebError::App(
            e @ (AppError::Validation(_) | AppError::Insufficient { .. } | AppError::BadRequest(_) | AppError::PayloadTooLarge(_)),
        )) if !via.api => Ok(Redirect::to(&with_param(back, "error", &e.body().message)).into_response()),
        Err(e) => Err(e),
    }
}

/// Short reseller stock: 402 with `required` and `available`.
fn stock_short(e: StoreError) -> WebError {
    match e {
        StoreError::Insufficient { required, available } => AppError::Insufficient {
            unit: "coins",
            required,
            available,
            message: format!("The reseller's stock is short: this needs {required} coins, it has {available}."),
        }
        .into(),
        other => other.into(),
    }
}

#[utoipa::path(get, path = "/api/v1/resellers", tag = "coin requests", security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{resellers}`: the active resellers one may ask for coins")))]
async fn resellers_api(State(s): State<AppState>, _u: CurrentUser) -> WebResult<Response> {
    Ok(axum::Json(json!({"resellers": cr::resellers(&s.db).await?})).into_response())
}

#[derive(Deserialize)]
struct ListQuery {
    /// `reseller`: the requests made to me.
    #[serde(rename = "as")]
    as_: Option<String>,
    before: Option<DateTime<Utc>>,
}

#[utoipa::path(get, path = "/api/v1/coin-requests", tag = "coin requests",
    params(("as" = Option<String>, Query, description = "requester (default): the caller's requests; reseller: the requests made to the caller"),
        ("before" = Option<String>, Query, description = "Requests made before this time (RFC 3339)")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{requests}` (as reseller also `stock`): each request with `proofs` links and `overdue`, newest 100"),
        (status = 403, description = "`forbidden`: `as=reseller` from an account that is not a reseller"),
        (status = 422, description = "`validation` on `as`: requester or reseller")))]
async fn list_api(State(s): State<AppState>, u: CurrentUser, Query(q): Query<ListQuery>) -> WebResult<Response> {
    match q.as_.as_deref() {
        None | Some("requester") => {
            let rows = cr::list(&s.db, Of::Requester(u.id()), q.before, 100).await?;
            Ok(axum::Json(json!({"requests": views(&rows)})).into_response())
        }
        Some("reseller") if u.account.role == PlatformRole::Reseller => {
            let rows = cr::list(&s.db, Of::Reseller(u.id()), q.before, 100).await?;
            let stock = cr::stock(&s.db, u.id()).await?;
            Ok(axum::Json(json!({"requests": views(&rows), "stock": stock})).into_response())
        }
        Some("reseller") => Err(AppError::Forbidden.into()),
        Some(_) => Err(AppError::field("as", "requester or reseller").into()),
    }
}

/// A request its viewer may see: requester, reseller or staff.
async fn visible(s: &AppState, u: &CurrentUser, id: CoinRequestId) -> WebResult<CoinRequest> {
    let r = cr::get(&s.db, id).await?;
    if r.involves(u.id()) || u.is_staff() {
        Ok(r)
    } else {
        Err(AppError::NotFound.into())
    }
}

#[utoipa::path(get, path = "/api/v1/coin-requests/{id}", tag = "coin requests",
    params(("id" = String, Path, description = "Coin request id")), security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{request}` with `proofs` links and `overdue`"),
        (status = 404, description = "`not_found`: no such request, or the caller is not its requester, its reseller or staff")))]
async fn one_api(State(s): State<AppState>, u: CurrentUser, Path(id): Path<CoinRequestId>) -> WebResult<Response> {
    let r = visible(&s, &u, id).await?;
    Ok(axum::Json(json!({"request": view(&r, Utc::now())})).into_response())
}

async fn proof(State(s): State<AppState>, u: CurrentUser, Path((id, n)): Path<(CoinRequestId, usize)>) -> WebResult<Response> {
    let r = visible(&s, &u, id).await?;
    let key = r.proof_keys().get(n).copied().ok_or(AppError::NotFound)?.to_string();
    let key = MediaKey::parse(&key).map_err(|_| AppError::NotFound)?;
    let m = s.media.get(&key).await.map_err(|e| AppError::Internal(e.to_string()))?.ok_or(AppError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, m.content_type), (header::CACHE_CONTROL, "private, no-store".to_string())], m.bytes).into_response())
}

/// What the request form sends: the reseller's public number, coins, a
/// message and one to three proof pictures.
#[derive(Default)]
struct Asked {
    reseller: String,
    coins: String,
    message: String,
    proofs: Vec<(Vec<u8>, Option<String>)>,
}

async fn read_request(mut mp: Multipart) -> WebResult<Asked> {
    let mut a = Asked::default();
    while let Some(part) = mp.next_field().await.map_err(AppError::rejected)? {
        let name = part.name().unwrap_or("").to_string();
        if name == "proof" {
            let ct = part.content_type().map(str::to_string);
            let bytes = part.bytes().await.map_err(AppError::rejected)?;
            if !bytes.is_empty() {
                a.proofs.push((bytes.to_vec(), ct));
            }
            continue;
        }
        let text = part.text().await.map_err(AppError::rejected)?;
        match name.as_str() {
            "reseller" => a.reseller = text,
            "coins" => a.coins = text,
            "message" => a.message = text,
            _ => {}
        }
    }
    Ok(a)
}

fn whole(field: &'static str, text: &str) -> WebResult<i64> {
    text.trim().parse::<i64>().map_err(|_| AppError::field(field, "Enter a whole number.").into())
}

#[utoipa::path(post, path = "/api/v1/coin-requests", tag = "coin requests",
    request_body(content_type = "multipart/form-data",
        description = "Fields `reseller` (the reseller's public number), `coins`, `message`, and one to three `proof` pictures (JPEG or PNG, at most 2 MB each)"),
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, description = "`{request}`: sent, the reseller is told"),
        (status = 409, description = "`pending_request_exists`: a pending request to this reseller is open already"),
        (status = 413, description = "`payload_too_large`: the body is too large"),
        (status = 422, description = "`validation` on `reseller` (not an active reseller, or oneself), `coins`, `message` or `proof` (missing, too many, not JPEG/PNG, too large)")))]
async fn create(State(s): State<AppState>, via: Via, u: CurrentUser, mp: Multipart) -> WebResult<Response> {
    let outcome = async {
        let a = read_request(mp).await?;
        let number = whole("reseller", &a.reseller)?;
        let reseller =
            accounts::by_number(&s.db, number).await?.ok_or_else(|| AppError::field("reseller", "Choose one of the resellers listed."))?;
        let coins = whole("coins", &a.coins)?;
        rooms_domain::coin_requests::check_request(coins, &a.message, a.proofs.len(), reseller.id == u.id())?;
        let mut keys = Vec::with_capacity(a.proofs.len());
        for (bytes, ct) in &a.proofs {
            let checked = platform_media::check(bytes, ct.as_deref(), &PROOF_RULES)?;
            let key = MediaKey::unique_under("proofs", checked.media_type).map_err(|e| AppError::Internal(e.to_string()))?;
            s.media.put(&key, bytes.clone(), checked.media_type.mime()).await.map_err(|e| AppError::Internal(e.to_string()))?;
            keys.push(key.to_string());
        }
        let n = NewRequest { requester: u.id(), reseller: reseller.id, coins, message: &a.message, proofs: &keys };
        let r = cr::create(&s.db, &n, Utc::now()).await?;
        Ok::<_, WebError>(("Request sent; the reseller has been told.", json!({"request": view(&r, Utc::now())})))
    }
    .await;
    answer(via, "/coin-requests", StatusCode::CREATED, outcome)
}

/// A decision's fields, as a form or JSON sends them.
#[derive(Deserialize, Default, ToSchema)]
struct DecisionIn {
    /// approve: the coins to send (default: what was asked; a number or its text).
    coins: Option<String>,
    /// approve: cash (default) or credit.
    payment: Option<String>,
    /// approve on credit: days until repayment is due.
    credit_days: Option<String>,
    /// approve, reject: a note to the requester.
    note: Option<String>,
}

fn optional_whole(field: &'static str, v: &Option<String>) -> WebResult<Option<i64>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => whole(field, t).map(Some),
    }
}

/// The actor for a decision: the signed-in account, a super admin or not.
fn actor_of(u: &CurrentUser) -> Actor {
    Actor { id: u.id(), super_admin: u.account.role == PlatformRole::SuperAdmin }
}

#[utoipa::path(post, path = "/api/v1/coin-requests/{id}/{action}", tag = "coin requests",
    params(("id" = String, Path, description = "Coin request id"),
        ("action" = String, Path, description = "approve or reject (the reseller or a super admin), cancel (the requester), repaid (a credit approval, by the reseller or a super admin)")),
    request_body = DecisionIn, security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{request}` as it now stands"),
        (status = 402, description = "`insufficient_coins` with `required` and `available`: the reseller's stock is short; nothing written"),
        (status = 403, description = "`not_your_request`: only the reseller asked, or a super admin, decides"),
        (status = 404, description = "`not_found`: no such action, no such request, or not one the caller is part of"),
        (status = 409, description = "`already_processed`, `request_expired`, or `not_open_credit` (repaid on what is not an unpaid credit approval)"),
        (status = 422, description = "`validation` on `coins`, `payment` (cash or credit), `credit_days` or `note`")))]
async fn decide(
    State(s): State<AppState>,
    via: Via,
    u: CurrentUser,
    Path((id, action)): Path<(CoinRequestId, String)>,
    Input(d): Input<DecisionIn>,
) -> WebResult<Response> {
    let back = if u.account.role == PlatformRole::SuperAdmin { "/admin/coin-requests" } else { "/coin-requests" };
    let now = Utc::now();
    let note = d.note.as_deref().unwrap_or("").trim();
    let outcome = async {
        let (notice, r) = match action.as_str() {
            "approve" => {
                let payment = match d.payment.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(p) => Some(p.parse::<Payment>().map_err(|_| AppError::field("payment", "cash or credit"))?),
                };
                let coins = optional_whole("coins", &d.coins)?;
                let credit_days = optional_whole("credit_days", &d.credit_days)?;
                rooms_domain::coin_requests::check_approval(coins.unwrap_or(1), payment.unwrap_or(Payment::Cash), credit_days, note)?;
                let a = Approval { coins, payment, credit_days, note };
                ("Approved: the coins were sent.", cr::approve(&s.db, id, actor_of(&u), &a, now).await.map_err(stock_short)?)
            }
            "reject" => ("Rejected.", cr::reject(&s.db, id, actor_of(&u), note, now).await?),
            "cancel" => ("Request cancelled.", cr::cancel(&s.db, id, u.id(), now).await?),
            "repaid" => ("Marked repaid.", cr::mark_repaid(&s.db, id, actor_of(&u), now).await?),
            _ => return Err(AppError::NotFound.into()),
        };
        Ok::<_, WebError>((notice, json!({"request": view(&r, now)})))
    }
    .await;
    answer(via, back, StatusCode::OK, outcome)
}

// ---------------------------------------------------------------- the page

struct Row {
    r: CoinRequest,
    other: String,
    proofs: usize,
    overdue: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "coin_requests.html")]
struct Page {
    f: Frame,
    flash: Flash,
    resellers: Vec<Reseller>,
    mine: Vec<Row>,
    reseller: bool,
    stock: i64,
    incoming: Vec<Row>,
    notices: Vec<platform_audit::Notice>,
}

/// Rows with the other party's name.
async fn rows(s: &AppState, list: Vec<CoinRequest>, other_of: impl Fn(&CoinRequest) -> AccountId) -> WebResult<Vec<Row>> {
    let now = Utc::now();
    let mut out = Vec::with_capacity(list.len());
    for r in list {
        let other =
            accounts::profile(&s.db, other_of(&r)).await?.map(|p| format!("{} ({})", p.display_name, p.public_number)).unwrap_or_default();
        out.push(Row { proofs: r.proof_keys().len(), overdue: r.overdue(now), other, r });
    }
    Ok(out)
}

async fn page(State(s): State<AppState>, csrf: CsrfToken, u: CurrentUser, Query(flash): Query<Flash>) -> WebResult<Page> {
    let reseller = u.account.role == PlatformRole::Reseller;
    let mine = rows(&s, cr::list(&s.db, Of::Requester(u.id()), None, 50).await?, |r| r.reseller_id).await?;
    let (stock, incoming, notices) = if reseller {
        let id = u.id().to_string();
        let reader = platform_audit::Reader { id: &id, role: Some(PlatformRole::Reseller.as_str()) };
        (
            cr::stock(&s.db, u.id()).await?,
            rows(&s, cr::list(&s.db, Of::Reseller(u.id()), None, 100).await?, |r| r.requester_id).await?,
            platform_audit::notices(&s.db, reader, true, None, 10).await?,
        )
    } else {
        (0, vec![], vec![])
    };
    let resellers = cr::resellers(&s.db).await?.into_iter().filter(|r| r.id != u.id()).collect();
    Ok(Page { f: Frame::new(&csrf, Some(&u)), flash, resellers, mine, reseller, stock, incoming, notices })
}

// ---------------------------------------------------------------- staff

#[derive(Deserialize, Default)]
struct AdminQuery {
    status: Option<String>,
    #[serde(default)]
    notice: String,
    #[serde(default)]
    error: String,
}

fn status_filter(q: &AdminQuery) -> WebResult<Option<&str>> {
    match q.status.as_deref() {
        None | Some("") => Ok(None),
        Some(s) if s.parse::<rooms_domain::coin_requests::Status>().is_ok() => Ok(Some(s)),
        Some(_) => Err(AppError::field("status", "pending, approved, rejected, cancelled or expired").into()),
    }
}

#[utoipa::path(get, path = "/api/v1/admin/coin-requests", tag = "back office",
    params(("status" = Option<String>, Query, description = "pending, approved, rejected, cancelled or expired")), security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{requests}`: every request (newest 200) with `proofs` links and `overdue`"),
        (status = 403, description = "`forbidden`: staff only"),
        (status = 422, description = "`validation` on `status`")))]
async fn admin_api(State(s): State<AppState>, _staff: Staff, Query(q): Query<AdminQuery>) -> WebResult<Response> {
    let rows = cr::list(&s.db, Of::All(status_filter(&q)?), None, 200).await?;
    Ok(axum::Json(json!({"requests": views(&rows)})).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_coin_requests.html")]
struct AdminPage {
    shell: Shell,
    filters: Filters,
    table: Table,
    pager: Pager,
    pending: Vec<(CoinRequestId, String)>,
    resellers: Vec<(Reseller, i64)>,
    super_admin: bool,
}

async fn admin_page(State(s): State<AppState>, csrf: CsrfToken, Staff(u): Staff, Query(q): Query<AdminQuery>) -> WebResult<AdminPage> {
    let status = status_filter(&q)?;
    let list = cr::list(&s.db, Of::All(status), None, 200).await?;
    let now = Utc::now();
    let mut table = Table {
        columns: ["Asked", "From", "To reseller", "Coins", "Status", "Proof", "Note"].map(String::from).to_vec(),
        empty: "No coin requests.".into(),
        ..Table::default()
    };
    let mut pending = vec![];
    let name = |p: Option<accounts::PublicProfile>| p.map(|p| format!("{} ({})", p.display_name, p.public_number)).unwrap_or_default();
    for r in &list {
        let from = name(accounts::profile(&s.db, r.requester_id).await?);
        let to = name(accounts::profile(&s.db, r.reseller_id).await?);
        let status = if r.overdue(now) { format!("{} · credit overdue", r.status) } else { r.status.clone() };
        let coins = r.approved_coins.map_or(r.coins.to_string(), |a| format!("{a} (asked {})", r.coins));
        let proof =
            if r.proof_keys().is_empty() { Cell::text("—") } else { Cell::link("view", format!("/coin-requests/{}/proofs/0", r.id)) };
        table.rows.push(vec![
            Cell::text(r.created_at.format("%Y-%m-%d %H:%M").to_string()),
            Cell::text(from.clone()),
            Cell::text(to),
            Cell::mono(coins),
            Cell::text(status),
            proof,
            Cell::text(r.note.clone()),
        ]);
        table.keys.push(r.id.to_string());
        if r.is_pending() {
            pending.push((r.id, format!("{} coins from {from}", r.coins)));
        }
    }
    let mut resellers = vec![];
    for r in cr::resellers(&s.db).await? {
        let stock = cr::stock(&s.db, r.id).await?;
        resellers.push((r, stock));
    }
    let statuses = [
        ("", "Any"),
        ("pending", "Pending"),
        ("approved", "Approved"),
        ("rejected", "Rejected"),
        ("cancelled", "Cancelled"),
        ("expired", "Expired"),
    ];
    let shell = Shell {
        product: "Rooms back office".into(),
        title: "Coin requests".into(),
        home: "/admin".into(),
        stylesheet: "/assets/backoffice.css".into(),
        nav: shell::nav(&[("Staff home", "/admin"), ("Coin requests", "/admin/coin-requests")], "/admin/coin-requests"),
        flash: Flash { notice: q.notice.clone(), error: q.error.clone() },
        who: format!("{} · {}", u.account.display_name, u.account.role),
        csrf_token: csrf.0.clone(),
        logout: "/signout".into(),
    };
    Ok(AdminPage {
        shell,
        filters: Filters {
            action: "/admin/coin-requests".into(),
            fields: vec![FilterField::select("status", "Status", q.status.as_deref().unwrap_or(""), &statuses)],
        },
        table,
        pager: Pager::default(),
        pending,
        resellers,
        super_admin: u.account.role == PlatformRole::SuperAdmin,
    })
}

/// Only a super admin decides requests they are not the reseller of, and
/// tops up stock (5.4).
fn super_admin(u: &CurrentUser) -> WebResult<Actor> {
    if u.account.role != PlatformRole::SuperAdmin {
        return Err(AppError::Forbidden.into());
    }
    Ok(actor_of(u))
}

#[derive(Deserialize, Default, ToSchema)]
struct BulkIn {
    /// Request ids: a JSON array, or repeated/newline-separated form fields.
    #[schema(value_type = Vec<String>)]
    ids: Option<String>,
    /// approve or reject.
    action: Option<String>,
    note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/admin/coin-requests/bulk", tag = "back office", request_body = BulkIn, security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{results}`: per request `{id, result, message}`, `result` approved, rejected, not_found or the refusal code (`already_processed`, `insufficient_coins`, …)"),
        (status = 403, description = "`forbidden`: super admins only"),
        (status = 422, description = "`validation` on `action` (approve or reject) or `ids` (none, or not request ids)")))]
async fn bulk(State(s): State<AppState>, via: Via, Staff(u): Staff, body: axum::body::Bytes) -> WebResult<Response> {
    let actor = super_admin(&u)?;
    let outcome = async {
        let b = bulk_input(&body, via.api)?;
        let action = match b.action.as_deref() {
            Some("approve") => Action::Approve,
            Some("reject") => Action::Reject,
            _ => return Err(AppError::field("action", "approve or reject").into()),
        };
        let ids: Vec<CoinRequestId> = b
            .ids
            .as_deref()
            .unwrap_or("")
            .split(['\n', ','])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| t.parse().map_err(|_| AppError::field("ids", format!("{t} is not a request id"))))
            .collect::<Result<_, _>>()?;
        if ids.is_empty() {
            return Err(AppError::field("ids", "Choose at least one request.").into());
        }
        let out = cr::bulk(&s.db, &ids, action, actor, b.note.as_deref().unwrap_or("").trim(), Utc::now()).await?;
        let done = out.iter().filter(|o| o.result == "approved" || o.result == "rejected").count();
        let notice = format!("{done} of {} requests done.", out.len());
        Ok::<_, WebError>((notice, json!({"results": out})))
    }
    .await;
    answer(via, "/admin/coin-requests", StatusCode::OK, outcome)
}

/// The bulk form repeats `ids` (one per ticked box); JSON sends an array.
fn bulk_input(body: &[u8], api: bool) -> WebResult<BulkIn> {
    if api {
        let v: Value = serde_json::from_slice(body).map_err(|e| AppError::BadRequest(format!("Invalid JSON body: {e}")))?;
        let ids = v["ids"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("\n"));
        let text = |k: &str| v[k].as_str().map(str::to_string);
        return Ok(BulkIn { ids, action: text("action"), note: text("note") });
    }
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|e| AppError::BadRequest(format!("Invalid form: {e}")))?;
    let mut b = BulkIn::default();
    let mut ids = vec![];
    for (k, v) in pairs {
        match k.as_str() {
            "ids" => ids.push(v),
            "action" => b.action = Some(v),
            "note" => b.note = Some(v),
            _ => {}
        }
    }
    b.ids = Some(ids.join("\n"));
    Ok(b)
}

#[derive(Deserialize, Default, ToSchema)]
struct TopUpIn {
    /// The reseller's public number.
    reseller: Option<String>,
    /// Coins to add from the treasury (a number or its text).
    coins: Option<String>,
    /// One top-up per key.
    idempotency_key: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/admin/resellers/stock", tag = "back office", request_body = TopUpIn, security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{applied, stock}`: `applied` false when the idempotency key was used already"),
        (status = 403, description = "`forbidden`: super admins only"),
        (status = 422, description = "`validation` on `reseller` (no one, or not an active reseller), `coins` or `idempotency_key`")))]
async fn top_up(State(s): State<AppState>, via: Via, Staff(u): Staff, Input(t): Input<TopUpIn>) -> WebResult<Response> {
    let staff = super_admin(&u)?;
    let outcome = async {
        let number = whole("reseller", t.reseller.as_deref().unwrap_or(""))?;
        let reseller = accounts::by_number(&s.db, number).await?.ok_or_else(|| AppError::field("reseller", "No one has that number."))?;
        let coins = whole("coins", t.coins.as_deref().unwrap_or(""))?;
        let key = t.idempotency_key.filter(|k| !k.trim().is_empty()).ok_or_else(|| AppError::field("idempotency_key", "missing"))?;
        let applied = cr::top_up(&s.db, reseller.id, coins, &key, staff.id, Utc::now()).await?;
        let stock = cr::stock(&s.db, reseller.id).await?;
        Ok::<_, WebError>(("Stock topped up.", json!({"applied": applied, "stock": stock})))
    }
    .await;
    answer(via, "/admin/coin-requests", StatusCode::OK, outcome)
}

/// A fresh idempotency key for a top-up form.
pub fn fresh_key() -> String {
    platform_accounts::random_token()
}

impl AdminPage {
    fn key(&self) -> String {
        fresh_key()
    }
}
