//! Admins (manage_admins, i.e. super admins): create with a role, edit
//! role and permissions, deactivate or delete; the last active super admin
//! is protected by the store and a schema trigger.

use super::kit::{self, Flash, Input, Via};
use super::nav;
use crate::auth::{ClientIp, CsrfToken, CurrentAdmin};
use crate::error::{AppError, AppResult};
use crate::flows::{self, StaffInput};
use crate::templates::{AdminNav, Chrome};
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use fantooo_domain::ids::AdminId;
use fantooo_domain::{AdminRole, Permission, Permissions};
use fantooo_store::admins::{self, Admin};
use fantooo_store::audit;
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/admins", get(page).post(create))
        .route("/admin/admins/{id}", post(permissions))
        .route("/api/admin/admins/{id}", axum::routing::put(permissions))
        .route("/admin/admins/{id}/{action}", post(change))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/admins.html")]
struct AdminsPage {
    chrome: Chrome,
    nav: AdminNav,
    admins: Vec<Admin>,
    me: AdminId,
    flash: Flash,
    permissions: &'static [Permission],
}

impl AdminsPage {
    fn has(&self, a: &Admin, p: &Permission) -> bool {
        a.effective_permissions().has(*p)
    }
}

async fn page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, Query(flash): Query<Flash>) -> AppResult<Response> {
    me.require(Permission::ManageAdmins)?;
    let admins = admins::list(&state.db).await?;
    Ok(AdminsPage {
        chrome: me.chrome(&csrf, "/admin/admins"),
        nav: nav(&me),
        admins,
        me: me.admin.id,
        flash,
        permissions: Permission::ALL,
    }
    .into_response())
}

async fn create(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Input(input): Input<StaffInput>,
) -> AppResult<Response> {
    me.require(Permission::ManageAdmins)?;
    let outcome = async {
        let a = flows::create_admin(&state, me.admin.id, &input, &ip).await?;
        Ok((format!("Admin {} created", a.name), json!({ "admin": a })))
    }
    .await;
    if via.api {
        return via.finish("/admin/admins", outcome);
    }
    let (status, flash) = kit::flash_of(outcome)?;
    let admins = admins::list(&state.db).await?;
    let page = AdminsPage {
        chrome: me.chrome(&csrf, "/admin/admins"),
        nav: nav(&me),
        admins,
        me: me.admin.id,
        flash,
        permissions: Permission::ALL,
    };
    Ok((status, page).into_response())
}

/// Role and permission flags; flags not sent are off. Without any flag,
/// the role's defaults apply.
#[derive(Deserialize)]
struct PermissionsForm {
    role: Option<String>,
    #[serde(flatten)]
    flags: std::collections::HashMap<String, String>,
}

async fn permissions(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Input(f): Input<PermissionsForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageAdmins)?;
    let id: AdminId = kit::id(&id)?;
    let outcome = async {
        let before = admins::by_id(&state.db, id).await?;
        let role = match kit::text(&f.role) {
            None => before.role,
            Some(r) => r.parse::<AdminRole>().map_err(|_| AppError::field("role", "Role must be super_admin, admin or moderator"))?,
        };
        let given: Vec<Permission> =
            Permission::ALL.iter().copied().filter(|p| f.flags.get(p.as_str()).is_some_and(|v| kit::checked(&Some(v.clone())))).collect();
        let perms = if f.flags.keys().any(|k| Permission::ALL.iter().any(|p| p.as_str() == k)) {
            let mut p = Permissions::default();
            for flag in given {
                set(&mut p, flag);
            }
            p
        } else {
            Permissions::for_role(role)
        };
        admins::update_role(&state.db, id, role, perms).await?;
        let after = admins::by_id(&state.db, id).await?;
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            "admin_permissions_changed",
            Some(("admin", id.to_string())),
            Some(json!({ "role": before.role, "permissions": before.permissions.0 })),
            Some(json!({ "role": after.role, "permissions": after.permissions.0 })),
            Some(&ip),
        )
        .await?;
        Ok((format!("{} updated", after.name), json!({ "admin": after, "effective_permissions": after.effective_permissions() })))
    }
    .await;
    via.finish("/admin/admins", outcome)
}

fn set(p: &mut Permissions, flag: Permission) {
    match flag {
        Permission::ManageUsers => p.manage_users = true,
        Permission::ManageFictionalProfiles => p.manage_fictional_profiles = true,
        Permission::ManageOperators => p.manage_operators = true,
        Permission::ManageChats => p.manage_chats = true,
        Permission::ViewAnalytics => p.view_analytics = true,
        Permission::ManagePayments => p.manage_payments = true,
        Permission::ManageAdmins => p.manage_admins = true,
        Permission::SystemSettings => p.system_settings = true,
        Permission::DeleteData => p.delete_data = true,
    }
}

async fn change(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Path((id, action)): Path<(String, String)>,
) -> AppResult<Response> {
    me.require(Permission::ManageAdmins)?;
    let id: AdminId = kit::id(&id)?;
    let outcome = flows::change_admin(&state, me.admin.id, id, &action, &ip).await;
    // Removing oneself ends one's own session.
    if outcome.is_ok() && id == me.admin.id && action != "activate" && !via.api {
        return Ok(Redirect::to("/admin-login").into_response());
    }
    match outcome {
        Err(AppError::Conflict(msg)) if !via.api => {
            // The page shows why, with 409, so scripts and tests can tell.
            let admins = admins::list(&state.db).await?;
            let page = AdminsPage {
                chrome: me.chrome(&csrf, "/admin/admins"),
                nav: nav(&me),
                admins,
                me: me.admin.id,
                flash: Flash { notice: String::new(), error: msg },
                permissions: Permission::ALL,
            };
            Ok((axum::http::StatusCode::CONFLICT, page).into_response())
        }
        other => via.finish("/admin/admins", other.map(|()| (format!("Admin {action}d"), json!({ "ok": true })))),
    }
}
