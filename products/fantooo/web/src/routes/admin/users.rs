//! Real users: search, detail, bans, GDPR deletion and credit changes.

use super::kit::{self, Flash, Input, Via};
use super::nav;
use crate::auth::{ClientIp, CsrfToken, CurrentAdmin};
use crate::error::{AppError, AppResult};
use crate::templates::{AdminNav, Chrome};
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::{MessageId, UserId};
use fantooo_domain::ledger::LedgerReason;
use fantooo_domain::refund::RefundReason;
use fantooo_domain::{Credits, Permission};
use fantooo_store::audit;
use fantooo_store::chats::{self, ChatSummary};
use fantooo_store::ledger::{self, Entry};
use fantooo_store::refunds;
use fantooo_store::user_admin::{self, Activity, Ban, DeletedUser, UserFilter};
use fantooo_store::users::User;
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list_page))
        .route("/api/admin/users", get(list_api))
        .route("/admin/users/{id}", get(detail_page))
        .route("/api/admin/users/{id}", get(detail_api))
        .route("/admin/users/{id}/ban", post(ban))
        .route("/api/admin/users/{id}/ban", post(ban))
        .route("/admin/users/{id}/unban", post(unban))
        .route("/api/admin/users/{id}/unban", post(unban))
        .route("/admin/users/{id}/delete", post(gdpr_delete))
        .route("/api/admin/users/{id}/delete", post(gdpr_delete))
        .route("/admin/users/{id}/credits", post(adjust_credits))
        .route("/api/admin/users/{id}/credits", post(adjust_credits))
        .route("/admin/users/{id}/refund", post(refund))
        .route("/api/admin/users/{id}/refund", post(refund))
}

#[derive(Deserialize, Default, Clone)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    tier: String,
    before: Option<String>,
    limit: Option<i64>,
}

/// Keyset cursor: "<rfc3339>|<uuid>".
fn parse_cursor(c: Option<&str>) -> Option<(DateTime<Utc>, UserId)> {
    let (at, id) = c?.split_once('|')?;
    Some((DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc), id.parse().ok()?))
}

async fn search(state: &AppState, me: &CurrentAdmin, q: &ListQuery) -> AppResult<(Vec<User>, Option<String>)> {
    me.require(Permission::ManageUsers)?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let filter = UserFilter { text: Some(q.q.clone()), status: Some(q.status.clone()), tier: Some(q.tier.clone()) };
    let mut list = user_admin::search(&state.db, &filter, parse_cursor(q.before.as_deref()), limit + 1).await?;
    let next = (list.len() as i64 > limit).then(|| {
        list.truncate(limit as usize);
        let last = list.last().expect("a full page is not empty");
        format!("{}|{}", last.created_at.to_rfc3339(), last.id)
    });
    Ok((list, next))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
struct ListPage {
    chrome: Chrome,
    nav: AdminNav,
    users: Vec<User>,
    q: ListQuery,
    next_cursor: Option<String>,
}

async fn list_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, Query(q): Query<ListQuery>) -> AppResult<Response> {
    let (users, next_cursor) = search(&state, &me, &q).await?;
    Ok(ListPage { chrome: me.chrome(&csrf, "/admin/users"), nav: nav(&me), users, q, next_cursor }.into_response())
}

async fn list_api(State(state): State<AppState>, me: CurrentAdmin, Query(q): Query<ListQuery>) -> AppResult<Json<serde_json::Value>> {
    let (users, next) = search(&state, &me, &q).await?;
    Ok(Json(json!({ "users": users, "next_cursor": next })))
}

#[derive(serde::Serialize)]
struct Detail {
    user: User,
    deleted_at: Option<DateTime<Utc>>,
    deletion: Option<DeletedUser>,
    chats: Vec<ChatSummary>,
    ledger: Vec<Entry>,
    activity: Vec<Activity>,
    bans: Vec<Ban>,
}

async fn detail(state: &AppState, me: &CurrentAdmin, id: &str) -> AppResult<Detail> {
    me.require(Permission::ManageUsers)?;
    let id: UserId = kit::id(id)?;
    let (user, deleted_at) = user_admin::by_id_any(&state.db, id).await?;
    Ok(Detail {
        deletion: user_admin::deletion_record(&state.db, id).await?,
        chats: chats::list_for_user(&state.db, id, 100).await?,
        ledger: ledger::entries(&state.db, id, None, 50).await?,
        activity: user_admin::activity(&state.db, id, 50).await?,
        bans: user_admin::bans(&state.db, id).await?,
        user,
        deleted_at,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/user.html")]
struct DetailPage {
    chrome: Chrome,
    nav: AdminNav,
    d: Detail,
    flash: Flash,
    can_delete: bool,
    can_credit: bool,
    /// Names the refund form's submission, so submitting it twice refunds once.
    refund_key: String,
}

impl DetailPage {
    fn confirm_phrase(&self) -> String {
        confirm_phrase(&self.d.user)
    }
}

/// What an admin must type to delete a user: deliberate, and specific to
/// this account so a pasted confirmation cannot delete the wrong one.
fn confirm_phrase(u: &User) -> String {
    format!("DELETE {}", u.username)
}

async fn detail_page(
    State(state): State<AppState>,
    me: CurrentAdmin,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> AppResult<Response> {
    let d = detail(&state, &me, &id).await?;
    let (can_delete, can_credit) = (me.can(Permission::DeleteData), me.can(Permission::ManagePayments));
    let refund_key = uuid::Uuid::now_v7().to_string();
    Ok(DetailPage { chrome: me.chrome(&csrf, "/admin/users"), nav: nav(&me), d, flash, can_delete, can_credit, refund_key }.into_response())
}

async fn detail_api(State(state): State<AppState>, me: CurrentAdmin, Path(id): Path<String>) -> AppResult<Json<serde_json::Value>> {
    let d = detail(&state, &me, &id).await?;
    Ok(Json(serde_json::to_value(&d).map_err(|e| AppError::Internal(e.to_string()))?))
}

#[derive(Deserialize)]
struct BanForm {
    reason: Option<String>,
    /// Empty: permanent ban; a date: suspension until the end of that day.
    until: Option<String>,
}

async fn ban(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Input(f): Input<BanForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageUsers)?;
    let user: UserId = kit::id(&id)?;
    let back = format!("/admin/users/{user}");
    let outcome = async {
        let reason = kit::text(&f.reason).ok_or_else(|| AppError::field("reason", "Give a reason for the ban"))?;
        let until = kit::end_of(&f.until).map_err(|_| AppError::field("until", "Enter the end date as YYYY-MM-DD"))?;
        if until.is_some_and(|u| u <= Utc::now()) {
            return Err(AppError::field("until", "The end date must be in the future"));
        }
        user_admin::ban(&state.db, user, &reason, until, me.admin.id).await?;
        state.sign_in_changed(None);
        let after = json!({ "is_banned": true, "reason": reason, "until": until });
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            if until.is_some() { "user_suspended" } else { "user_banned" },
            Some(("user", user.to_string())),
            Some(json!({ "is_banned": false })),
            Some(after.clone()),
            Some(&ip),
        )
        .await?;
        Ok((if until.is_some() { "User suspended".to_string() } else { "User banned".to_string() }, json!({ "user": after })))
    }
    .await;
    via.finish(&back, outcome)
}

async fn unban(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> AppResult<Response> {
    me.require(Permission::ManageUsers)?;
    let user: UserId = kit::id(&id)?;
    let outcome = async {
        let before = fantooo_store::users::by_id(&state.db, user).await?;
        user_admin::unban(&state.db, user).await?;
        state.sign_in_changed(None);
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            "user_unbanned",
            Some(("user", user.to_string())),
            Some(json!({ "is_banned": before.is_banned, "reason": before.ban_reason, "until": before.banned_until })),
            Some(json!({ "is_banned": false })),
            Some(&ip),
        )
        .await?;
        Ok(("Ban lifted".to_string(), json!({ "is_banned": false })))
    }
    .await;
    via.finish(&format!("/admin/users/{user}"), outcome)
}

#[derive(Deserialize)]
struct DeleteForm {
    confirm: Option<String>,
    reason: Option<String>,
}

async fn gdpr_delete(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Input(f): Input<DeleteForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageUsers)?;
    me.require(Permission::DeleteData)?;
    let user: UserId = kit::id(&id)?;
    let outcome = async {
        let target = fantooo_store::users::by_id(&state.db, user).await?;
        let phrase = confirm_phrase(&target);
        if kit::text(&f.confirm).as_deref() != Some(phrase.as_str()) {
            return Err(AppError::field("confirm", format!("Type “{phrase}” to confirm; deletion cannot be undone")));
        }
        let reason = kit::text(&f.reason).unwrap_or_else(|| "user request".into());
        let done = user_admin::gdpr_delete(&state.db, user, &reason, Some(me.admin.id), me.admin.account_id, Some(&ip), Utc::now()).await?;
        state.sign_in_changed(None);
        state.realtime.written();
        Ok((format!("User deleted; refund pending: {}", kit::kes(done.refund_amount_cents)), json!({ "deletion": done })))
    }
    .await;
    via.finish(&format!("/admin/users/{user}"), outcome)
}

#[derive(Deserialize)]
struct CreditForm {
    delta: Option<String>,
    note: Option<String>,
    /// A client-chosen key makes a retried adjustment apply once.
    idempotency_key: Option<String>,
}

async fn adjust_credits(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Input(f): Input<CreditForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageUsers)?;
    me.require(Permission::ManagePayments)?;
    let user: UserId = kit::id(&id)?;
    let outcome = async {
        let delta: i64 = kit::text(&f.delta)
            .and_then(|d| d.parse().ok())
            .filter(|d: &i64| *d != 0 && d.abs() <= 1_000_000)
            .ok_or_else(|| AppError::field("delta", "Enter a non-zero whole number of credits (negative to deduct)"))?;
        let note = kit::text(&f.note).ok_or_else(|| AppError::field("note", "Say why the balance changes"))?;
        let key = kit::text(&f.idempotency_key)
            .map(|k| format!("admin-adjust:{k}"))
            .unwrap_or_else(|| format!("admin-adjust:{}", uuid::Uuid::now_v7()));
        let before = ledger::balance(&state.db, user).await?;
        let posted = ledger::post(
            &state.db,
            &ledger::Movement {
                user,
                delta: Credits(delta),
                reason: LedgerReason::AdminAdjustment,
                reference: Some(&note),
                idempotency_key: &key,
                created_by: Some(me.admin.account_id),
            },
        )
        .await?;
        state.realtime.written();
        let balance = match posted {
            ledger::Posted::Applied { balance } => balance,
            ledger::Posted::Duplicate => ledger::balance(&state.db, user).await?,
        };
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            "credits_adjusted",
            Some(("user", user.to_string())),
            Some(json!({ "credits": before })),
            Some(json!({ "credits": balance, "delta": delta, "note": note })),
            Some(&ip),
        )
        .await?;
        Ok((format!("Balance is now {balance} credits"), json!({ "balance": balance })))
    }
    .await;
    via.finish(&format!("/admin/users/{user}"), outcome)
}

#[derive(Deserialize)]
struct RefundForm {
    credits: Option<String>,
    reason: Option<String>,
    notes: Option<String>,
    message_id: Option<String>,
    /// Embedded in the page's form (or chosen by an API client): a double
    /// submit with the same key refunds once.
    idempotency_key: Option<String>,
}

/// Refunds through the one refund path (`fantooo_store::refunds`), so the
/// page form and its JSON twin follow the same rule, cap and audit as the
/// payments back office.
async fn refund(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    Path(id): Path<String>,
    Input(f): Input<RefundForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageUsers)?;
    me.require(Permission::ManagePayments)?;
    let user: UserId = kit::id(&id)?;
    let outcome = async {
        let credits: i64 = kit::text(&f.credits)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| AppError::field("credits", "Enter how many credits to return"))?;
        let reason = kit::text(&f.reason)
            .and_then(|r| r.parse::<RefundReason>().ok())
            .filter(|r| RefundReason::CHOOSABLE.contains(r))
            .ok_or_else(|| AppError::field("reason", "Choose a refund reason"))?;
        let message = match kit::text(&f.message_id) {
            None => None,
            Some(m) => {
                Some(m.parse::<MessageId>().map_err(|_| AppError::field("message_id", "Enter a valid message id or leave it empty"))?)
            }
        };
        let notes = kit::text(&f.notes);
        let key = kit::text(&f.idempotency_key);
        let done = refunds::refund(
            &state.db,
            &refunds::RefundRequest {
                user,
                credits: Credits(credits),
                reason,
                message,
                chat: None,
                admin: me.admin.id,
                admin_account: me.admin.account_id,
                notes: notes.as_deref(),
                key: key.as_deref(),
            },
        )
        .await?;
        state.realtime.written();
        let notice = if done.repeated {
            format!("Already refunded: {} credits", done.refund.amount)
        } else {
            format!("{} credits refunded", done.refund.amount)
        };
        Ok((notice, json!({ "balance": done.balance, "refund": done.refund, "repeated": done.repeated })))
    }
    .await;
    via.finish(&format!("/admin/users/{user}"), outcome)
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Admin search cursors come back from the browser: anything that
        /// parses is a real instant and id, and the rest is simply ignored.
        #[test]
        fn any_cursor_text_is_a_cursor_or_none(raw in prop_oneof![any::<String>(), "[0-9T:+Z.-]{0,30}\\|[0-9a-f-]{0,40}"]) {
            if let Some((at, id)) = parse_cursor(Some(&raw)) {
                prop_assert_eq!(parse_cursor(Some(&format!("{}|{}", at.to_rfc3339(), id))), Some((at, id)));
            }
        }
    }
}
