//! Users: search, suspend, ban, reinstate, verify.

use super::{at_of, cursor_of, direction_of, given, shell_for, when, Action, Detail, Field, Staff};
use crate::auth::CsrfToken;
use crate::{AppError, AppResult, AppState};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use gigstream_domain::backoffice::{AdminPermission as P, Standing};
use gigstream_domain::ids::AccountId;
use gigstream_store::backoffice::{self as bo, User, UserFilter};
use platform_backoffice::forms::{id, Flash, Input, Via};
use platform_backoffice::keyset::{KeysetPage, Page};
use platform_backoffice::shell::{confirmed, Cell, FilterField, Filters, ListPage, Table};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list_page))
        .route("/api/v1/admin/users", get(list_api))
        .route("/admin/users/{id}", get(detail_page))
        .route("/api/v1/admin/users/{id}", get(detail_api))
        .route("/admin/users/{id}/{action}", post(act))
        .route("/api/v1/admin/users/{id}/{action}", post(act))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    q: Option<String>,
    standing: Option<String>,
    #[serde(flatten)]
    page: Page,
}

const ROWS: i64 = 50;

async fn rows(state: &AppState, staff: &Staff, q: &ListQuery) -> AppResult<KeysetPage<User>> {
    staff.require(P::ManageUsers)?;
    let standing = match given(&q.standing) {
        None => None,
        Some(s) => Some(s.parse::<Standing>().map_err(|_| AppError::field("standing", "Choose active, suspended, banned or deleted."))?),
    };
    let at = at_of::<AccountId>(&q.page)?;
    let f = UserFilter { q: given(&q.q), standing };
    let found = bo::users(&state.db, &f, &at, ROWS).await?;
    Ok(KeysetPage::from_rows(found, &direction_of(&at), ROWS as usize, |u| cursor_of(u.created_at, u.id)))
}

async fn list_page(
    State(state): State<AppState>,
    staff: Staff,
    csrf: CsrfToken,
    Query(flash): Query<Flash>,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let page = rows(&state, &staff, &q).await?;
    let (text, standing) = (given(&q.q).unwrap_or_default(), given(&q.standing).unwrap_or_default());
    let filters = Filters {
        action: "/admin/users".into(),
        fields: vec![
            FilterField::input("q", "Email, username or name", "search", &text),
            FilterField::select(
                "standing",
                "Standing",
                &standing,
                &[("", "Any"), ("active", "Active"), ("suspended", "Suspended"), ("banned", "Banned"), ("deleted", "Deleted")],
            ),
        ],
    };
    let table = Table {
        columns: ["User", "Email", "Standing", "Verified", "Joined"].map(String::from).to_vec(),
        rows: page
            .items
            .iter()
            .map(|u| {
                vec![
                    Cell::link(format!("@{} · {}", u.username, u.display_name), format!("/admin/users/{}", u.id)),
                    Cell::mono(u.email.clone()),
                    Cell::text(u.standing.to_string()),
                    Cell::text(if u.verified_at.is_some() { "yes" } else { "no" }),
                    Cell::text(when(u.created_at)),
                ]
            })
            .collect(),
        empty: "No users match.".into(),
        keys: page.items.iter().map(|u| u.username.clone()).collect(),
    };
    let pager = page.pager("/admin/users", &[("q", &text), ("standing", &standing)]);
    ListPage { shell: shell_for(&staff, &csrf, "Users", "/admin/users", flash), filters, table, pager }.response()
}

async fn list_api(State(state): State<AppState>, staff: Staff, Query(q): Query<ListQuery>) -> AppResult<Json<Value>> {
    let page = rows(&state, &staff, &q).await?;
    Ok(Json(json!({ "users": page.items, "newer": page.newer.map(|c| c.encode()), "older": page.older.map(|c| c.encode()) })))
}

async fn load(state: &AppState, staff: &Staff, raw: &str) -> AppResult<User> {
    staff.require(P::ManageUsers)?;
    Ok(bo::user(&state.db, id(raw)?).await?)
}

async fn detail_page(
    State(state): State<AppState>,
    staff: Staff,
    csrf: CsrfToken,
    Query(flash): Query<Flash>,
    Path(raw): Path<String>,
) -> AppResult<Response> {
    let u = load(&state, &staff, &raw).await?;
    let path = format!("/admin/users/{}", u.id);
    let mut page = Detail::new(shell_for(&staff, &csrf, &format!("@{}", u.username), &path, flash))
        .fact("Name", u.display_name.clone())
        .fact("Email", u.email.clone())
        .fact("Standing", u.standing.to_string())
        .fact("Reason given", if u.standing_reason.is_empty() { "—".to_string() } else { u.standing_reason.clone() })
        .fact("Verified", u.verified_at.map(when).unwrap_or_else(|| "no".into()))
        .fact("Joined", when(u.created_at))
        .fact("Admin", u.admin_role.clone().unwrap_or_else(|| "no".into()));
    page.links.push(("Public profile".into(), format!("/u/{}", u.username)));
    page.links.push(("Audit entries about this user".into(), format!("/admin/audit?subject={}", u.id)));
    let reason = || vec![Field::new("reason", "Reason (the user is shown it)", "textarea", "")];
    match u.standing {
        Standing::Active => {
            page.actions.push(Action::confirmed(
                format!("{path}/suspend"),
                "Suspend",
                format!(
                    "Suspend @{}? Their sessions end now; they cannot sign in, buy or sell, and their live gigs are paused.",
                    u.username
                ),
                reason(),
            ));
            page.actions.push(Action::confirmed(
                format!("{path}/ban"),
                "Ban",
                format!("Ban @{}? Their sessions end now and they can no longer sign in, buy or sell.", u.username),
                reason(),
            ));
        }
        Standing::Suspended | Standing::Banned => {
            if u.standing == Standing::Suspended {
                page.actions.push(Action::confirmed(format!("{path}/ban"), "Ban", format!("Ban @{} for good?", u.username), reason()));
            }
            page.actions.push(Action::confirmed(
                format!("{path}/reinstate"),
                "Reinstate",
                format!("Let @{} sign in again? Their paused gigs stay paused until they resume them.", u.username),
                vec![],
            ));
        }
        Standing::Deleted => {}
    }
    if u.verified_at.is_none() && u.standing != Standing::Deleted {
        page.actions.push(Action::confirmed(
            format!("{path}/verify"),
            "Verify",
            format!("Mark @{} as verified (identity checked)?", u.username),
            vec![],
        ));
    }
    page.response()
}

async fn detail_api(State(state): State<AppState>, staff: Staff, Path(raw): Path<String>) -> AppResult<Json<Value>> {
    let u = load(&state, &staff, &raw).await?;
    Ok(Json(json!({ "user": u })))
}

#[derive(Deserialize, Default)]
struct ActForm {
    confirm: Option<String>,
    reason: Option<String>,
}

async fn act(
    State(state): State<AppState>,
    via: Via,
    staff: Staff,
    Path((raw, action)): Path<(String, String)>,
    Input(f): Input<ActForm>,
) -> AppResult<Response> {
    staff.require(P::ManageUsers)?;
    let target: AccountId = id(&raw)?;
    let back = format!("/admin/users/{target}");
    let outcome = async {
        if !via.api {
            confirmed(f.confirm.as_deref())?;
        }
        let reason = f.reason.clone().unwrap_or_default();
        let now = Utc::now();
        let (u, notice) = match action.as_str() {
            "suspend" => (bo::set_standing(&state.db, staff.actor(), target, Standing::Suspended, &reason, now).await?, "suspended"),
            "ban" => (bo::set_standing(&state.db, staff.actor(), target, Standing::Banned, &reason, now).await?, "banned"),
            "reinstate" => (bo::set_standing(&state.db, staff.actor(), target, Standing::Active, "", now).await?, "reinstated"),
            "verify" => (bo::verify(&state.db, staff.actor(), target, now).await?, "verified"),
            _ => return Err(AppError::NotFound),
        };
        Ok((format!("@{} {notice}.", u.username), json!({ "user": u })))
    }
    .await;
    via.finish(&back, outcome)
}
