//! Passwords, sessions and the extractors that admit each kind of account.

use crate::error::{AppError, AppResult};
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use fantooo_domain::ids::AccountId;
use fantooo_domain::{AccountKind, Permission};
use fantooo_store::{admins, operators, users};
use platform_accounts::password::{self, Cost};

pub const SESSION_COOKIE: &str = "fantooo_session";
pub const CSRF_COOKIE: &str = "fantooo_csrf";

/// A new password's hash, made off the async threads at most one per core
/// (`platform_accounts::password`); `fast` is the config's cheap profile
/// for test suites and demo seeds. Verify with
/// `platform_accounts::password::verify`.
pub async fn hash_password(password: String, fast: bool) -> AppResult<String> {
    password::hash(password, Cost::fast_if(fast)).await.map_err(|e| AppError::Internal(e.to_string()))
}

/// The authenticated session attached to a request by `middleware::session`.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub account_id: AccountId,
    pub kind: AccountKind,
    pub via_cookie: bool,
    pub csrf_token: String,
    /// Who the user is, read in the session lookup's statement and kept
    /// with the session in this node's cache (none for other kinds, or
    /// when the row is gone): never a live figure, which
    /// [`CurrentUser`] reads fresh.
    pub user: Option<std::sync::Arc<users::SignedUser>>,
    /// An operator's id and name, read in the session lookup's statement
    /// (none for other kinds, or when the operator is gone).
    pub operator: Option<users::SessionOperator>,
}

impl Session {
    /// Who the user is, as the session lookup read it; a user session
    /// without one is signed out.
    fn signed_user(&self) -> AppResult<&users::SignedUser> {
        self.user.as_deref().ok_or(AppError::Unauthenticated)
    }
}

pub use platform_web::request::{ClientIp, CsrfToken};

/// Any signed-in account, or none.
#[derive(Debug, Clone)]
pub struct MaybeSession(pub Option<Session>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSession {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeSession(parts.extensions.get::<Session>().cloned()))
    }
}

/// A session whose account row is gone is signed out; any other failure
/// (a database outage between the session and the account lookups) stays
/// what it is, so clients keep their session and retry.
fn account_gone(e: fantooo_store::StoreError) -> AppError {
    match e {
        fantooo_store::StoreError::NotFound => AppError::Unauthenticated,
        other => AppError::from(other),
    }
}

fn session_of(parts: &Parts, kind: AccountKind) -> AppResult<Session> {
    match parts.extensions.get::<Session>() {
        None => Err(AppError::Unauthenticated),
        Some(s) if s.kind == kind => Ok(s.clone()),
        Some(_) => Err(AppError::Forbidden),
    }
}

/// A signed-in real user, with their row read fresh (credits and unread
/// counts are live figures; the session carries only who they are).
pub struct CurrentUser {
    pub session: Session,
    pub user: users::User,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = session_of(parts, AccountKind::User)?;
        let id = session.signed_user()?.id;
        let user = users::by_id(&state.db, id).await.map_err(account_gone)?;
        if user.banned_at(chrono::Utc::now()) {
            return Err(AppError::Forbidden);
        }
        Ok(CurrentUser { session, user })
    }
}

/// A signed-in operator.
pub struct CurrentOperator {
    pub session: Session,
    pub operator: operators::Operator,
}

impl FromRequestParts<AppState> for CurrentOperator {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = session_of(parts, AccountKind::Operator)?;
        let operator = operators::by_account(&state.db, session.account_id).await.map_err(account_gone)?;
        Ok(CurrentOperator { session, operator })
    }
}

/// A signed-in, active admin.
pub struct CurrentAdmin {
    pub session: Session,
    pub admin: admins::Admin,
}

impl CurrentAdmin {
    /// Refuses with 403 unless this admin holds `p`.
    pub fn require(&self, p: Permission) -> AppResult<()> {
        platform_roles::require(&self.admin.effective_permissions(), p).map_err(|_| AppError::Forbidden)
    }
    pub fn can(&self, p: Permission) -> bool {
        self.admin.effective_permissions().has(p)
    }
}

impl FromRequestParts<AppState> for CurrentAdmin {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = session_of(parts, AccountKind::Admin)?;
        let admin = admins::by_account(&state.db, session.account_id).await.map_err(account_gone)?;
        if !admin.is_active {
            return Err(AppError::Unauthenticated);
        }
        Ok(CurrentAdmin { session, admin })
    }
}

/// Any signed-in account, as the chat access rule sees it.
pub struct CurrentViewer {
    pub session: Session,
    pub viewer: fantooo_domain::chat::Viewer,
    /// How the navigation greets them.
    pub name: String,
}

impl FromRequestParts<AppState> for CurrentViewer {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        use fantooo_domain::chat::Viewer;
        let session = parts.extensions.get::<Session>().cloned().ok_or(AppError::Unauthenticated)?;
        let viewer = match session.kind {
            AccountKind::User => {
                let user = session.signed_user()?;
                if user.banned_at(chrono::Utc::now()) {
                    return Err(AppError::Forbidden);
                }
                (Viewer::User(user.id), user.display_name.clone())
            }
            AccountKind::Operator => match &session.operator {
                Some(op) => (Viewer::Operator(op.id), op.name.clone()),
                None => {
                    let op = operators::by_account(&state.db, session.account_id).await.map_err(account_gone)?;
                    (Viewer::Operator(op.id), op.name)
                }
            },
            AccountKind::Admin => {
                let admin = admins::by_account(&state.db, session.account_id).await.map_err(account_gone)?;
                if !admin.is_active {
                    return Err(AppError::Unauthenticated);
                }
                (Viewer::Admin(admin.id, admin.effective_permissions()), admin.name.clone())
            }
        };
        let (viewer, name) = viewer;
        Ok(CurrentViewer { session, viewer, name })
    }
}
