//! Passwords, sessions and the extractors that admit each kind of account.

use crate::error::{AppError, AppResult};
use crate::AppState;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use fantooo_domain::ids::AccountId;
use fantooo_domain::{AccountKind, Permission};
use fantooo_store::{admins, operators, users};
use std::sync::OnceLock;

pub const SESSION_COOKIE: &str = "fantooo_session";
pub const CSRF_COOKIE: &str = "fantooo_csrf";

fn argon(fast: bool) -> Argon2<'static> {
    // Production uses OWASP's Argon2id baseline (19 MiB, 2 passes); test
    // suites may opt into a cheap profile to keep hundreds of logins fast.
    let params = if fast { Params::new(1024, 1, 1, None) } else { Params::new(19 * 1024, 2, 1, None) };
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.expect("valid argon2 params"))
}

/// At most one Argon2 computation per core at a time. Each takes 19 MiB; an
/// unbounded burst of sign-ins would otherwise spread those buffers over
/// dozens of blocking threads and their allocator arenas (we measured
/// 1.5 GB of resident memory after 1,000 sign-ups), and would let a flood
/// of logins starve everything else.
async fn hashing_slot() -> tokio::sync::SemaphorePermit<'static> {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    let slots = SLOTS.get_or_init(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)));
    slots.acquire().await.expect("semaphore never closes")
}

/// Hashes off the async threads: Argon2 is deliberately slow.
pub async fn hash_password(password: String, fast: bool) -> AppResult<String> {
    let _slot = hashing_slot().await;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon(fast).hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(e.to_string()))
}

/// Verifies a password; with no stored hash it still spends the same time
/// so response timing does not reveal which logins exist.
pub async fn verify_password(password: String, stored: Option<String>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let _slot = hashing_slot().await;
    tokio::task::spawn_blocking(move || {
        // The stand-in hash is made here, on the blocking pool, like every
        // other Argon2 computation.
        let hash = stored.as_deref().unwrap_or_else(|| {
            DUMMY.get_or_init(|| {
                let salt = SaltString::generate(&mut OsRng);
                argon(false).hash_password(b"not-a-real-password", &salt).expect("hash").to_string()
            })
        });
        let Ok(parsed) = PasswordHash::new(hash) else { return false };
        // Parameters come from the stored hash itself.
        let ok = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        ok && stored.is_some()
    })
    .await
    .unwrap_or(false)
}

/// The authenticated session attached to a request by `middleware::session`.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub account_id: AccountId,
    pub kind: AccountKind,
    pub via_cookie: bool,
    pub csrf_token: String,
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

fn session_of(parts: &Parts, kind: AccountKind) -> AppResult<Session> {
    match parts.extensions.get::<Session>() {
        None => Err(AppError::Unauthenticated),
        Some(s) if s.kind == kind => Ok(s.clone()),
        Some(_) => Err(AppError::Forbidden),
    }
}

/// A signed-in real user.
pub struct CurrentUser {
    pub session: Session,
    pub user: users::User,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = session_of(parts, AccountKind::User)?;
        let user = users::by_account(&state.db, session.account_id).await.map_err(|_| AppError::Unauthenticated)?;
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
        let operator = operators::by_account(&state.db, session.account_id).await.map_err(|_| AppError::Unauthenticated)?;
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
        if self.admin.effective_permissions().has(p) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
    pub fn can(&self, p: Permission) -> bool {
        self.admin.effective_permissions().has(p)
    }
}

impl FromRequestParts<AppState> for CurrentAdmin {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = session_of(parts, AccountKind::Admin)?;
        let admin = admins::by_account(&state.db, session.account_id).await.map_err(|_| AppError::Unauthenticated)?;
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
                let user = users::by_account(&state.db, session.account_id).await.map_err(|_| AppError::Unauthenticated)?;
                if user.banned_at(chrono::Utc::now()) {
                    return Err(AppError::Forbidden);
                }
                (Viewer::User(user.id), user.display_name)
            }
            AccountKind::Operator => {
                let op = operators::by_account(&state.db, session.account_id).await.map_err(|_| AppError::Unauthenticated)?;
                (Viewer::Operator(op.id), op.name)
            }
            AccountKind::Admin => {
                let admin = admins::by_account(&state.db, session.account_id).await.map_err(|_| AppError::Unauthenticated)?;
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
