//! Who is asking: a web cookie session (platform-accounts' revocable
//! sessions, CSRF-checked) or an app's bearer access token (signed, short
//! lived, refused once the account signed out everywhere or was blocked);
//! the extractors that admit signed-in users and staff; the rate limits.

use crate::error::{AppError, WebError};
use crate::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use platform_accounts::password::{self, Cost};
use platform_db::StoreResult;
use platform_web::request::{set_cookie, ClientIp, ProxyTrust, SessionVia};
use platform_web::session::{Cookies, Found, Sessions, SignIn};
use rooms_domain::account::{AccountStatus, PlatformRole};
use rooms_domain::ids::AccountId;
use rooms_store::accounts::{self, Account, SESSIONS};
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "rooms_session";
pub const CSRF_COOKIE: &str = "rooms_csrf";
/// The only kind of account Rooms has; staff are accounts with a staff role.
pub const KIND: &str = "user";

/// The credential a request came with.
#[derive(Debug, Clone)]
pub struct Auth {
    pub account_id: AccountId,
    /// The cookie session's token (to sign out this one); `None` for bearer.
    pub session_token: Option<String>,
    /// The account's row as the credential's own lookup read it (in the
    /// same statement), so the request does not read it again.
    pub account: Option<Arc<Account>>,
}

/// What this node keeps of a bearer's account (its cache of bearer
/// credentials): the row its requests use, which says who the account is,
/// its role and status and holds no balance or count, and when its
/// credentials were last revoked. Every request still checks its own
/// token's issue time against that and the account's status.
#[derive(Debug, Clone)]
pub struct BearerAccount {
    pub account: Arc<Account>,
    pub credentials_after: Option<DateTime<Utc>>,
}

/// This node's cache of bearer credentials, keyed by account id, in front
/// of [`accounts::with_credentials_after`] (`platform_web::session_cache`):
/// served only while a read of [`accounts::SIGN_IN_VERSION`], which the
/// store's triggers move on every revocation, block, deletion, role or
/// profile change, found it unchanged less than [`BOUND`] ago, so such a
/// change is refused on every node within [`BOUND`] of its commit.
pub type BearerCache = platform_web::session_cache::SessionCache<BearerAccount, AccountId, String>;

pub use platform_web::session_cache::{BOUND, POLL_EVERY};

/// Accounts a node keeps at most (about a kilobyte each).
pub const BEARER_CACHE_CAPACITY: usize = 100_000;

/// How long an entry is kept at most before the account is read again
/// (the version, not this, is what refuses a change in time).
const BEARER_ENTRY_LIFE: chrono::Duration = chrono::Duration::minutes(10);

/// Starts this node's cache of bearer credentials and its version reads.
pub fn start_bearer_cache(db: &platform_db::Db) -> Arc<BearerCache> {
    let cache = Arc::new(BearerCache::new(BEARER_CACHE_CAPACITY));
    cache.watch(db.clone(), accounts::SIGN_IN_VERSION, POLL_EVERY);
    cache
}

impl AppState {
    /// Whether `account` may sign in, or who it is, changed on this node:
    /// drop it from this node's bearer cache at once (other nodes within
    /// [`BOUND`]).
    pub fn sign_in_changed(&self, account: AccountId) {
        if let Some(c) = &self.bearer_cache {
            c.forget_account(&account);
        }
    }

    /// The bearer of an access token for `id`, from this node's cache when
    /// it may serve it, else read (and kept).
    async fn bearer_account(&self, id: AccountId, now: DateTime<Utc>) -> StoreResult<Option<BearerAccount>> {
        let Some(cache) = &self.bearer_cache else {
            return Ok(accounts::with_credentials_after(&self.db, id)
                .await?
                .map(|(a, after)| BearerAccount { account: Arc::new(a), credentials_after: after }));
        };
        let key = id.to_string();
        let ticket = match cache.get(&key, SessionVia::Bearer, now, std::time::Instant::now()) {
            Ok((hit, _)) => return Ok(Some(hit)),
            Err(ticket) => ticket,
        };
        let Some((a, after)) = accounts::with_credentials_after(&self.db, id).await? else { return Ok(None) };
        let found = BearerAccount { account: Arc::new(a), credentials_after: after };
        let entry = platform_accounts::Session {
            account_id: id,
            kind: KIND.to_string(),
            via: platform_accounts::Via::Bearer,
            csrf_token: String::new(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + BEARER_ENTRY_LIFE,
        };
        cache.put(ticket, key, SessionVia::Bearer, found.clone(), entry);
        Ok(Some(found))
    }
}

/// A new password's hash, off the async threads.
pub async fn hash_password(password: String, fast: bool) -> Result<String, AppError> {
    password::hash(password, Cost::fast_if(fast)).await.map_err(|e| AppError::Internal(e.to_string()))
}

/// Rooms' side of the platform's session layer
/// (`platform_web::session::load`): a cookie is a platform session; a
/// bearer token is an app's signed access token.
impl SignIn for AppState {
    type Id = AccountId;
    type Kind = String;
    type Signed = Auth;

    fn sessions(&self) -> Sessions<'_> {
        let trust = ProxyTrust::one_if(self.config.trust_proxy);
        Sessions {
            db: &self.db,
            store: *SESSIONS,
            cookies: Cookies { session: SESSION_COOKIE, csrf: CSRF_COOKIE, secure: self.config.https, trust },
        }
    }

    fn signed(&self, token: String, _via: SessionVia, s: platform_accounts::Session<AccountId, String>) -> Auth {
        Auth { account_id: s.account_id, session_token: Some(token), account: None }
    }

    /// The session with its account row, in one statement.
    async fn find(&self, token: String, via: SessionVia, now: DateTime<Utc>) -> StoreResult<Option<Found<Self>>> {
        let found = SESSIONS
            .live_joined::<AccountId, String, Account>(&self.db, &token, now, accounts::SESSION_JOIN, accounts::session_columns())
            .await?;
        Ok(found.map(|(s, account)| {
            let mut signed = self.signed(token, via, s.clone());
            signed.account = Some(Arc::new(account));
            (signed, s)
        }))
    }

    /// A signed access token, refused once its account is not active or
    /// signed out everywhere after the token was issued (its account from
    /// this node's bearer cache when on, [`BearerCache`]).
    async fn bearer(&self, token: String, now: DateTime<Utc>) -> Result<Option<Auth>, AppError> {
        let Ok(claims) = self.tokens.verify(&token, now) else { return Ok(None) };
        let Some(id) = claims.account::<AccountId>() else { return Ok(None) };
        match self.bearer_account(id, now).await? {
            Some(b) if b.account.status == AccountStatus::Active => {
                let revoked = b.credentials_after.is_some_and(|t| claims.iat <= t.timestamp());
                Ok((!revoked).then_some(Auth { account_id: id, session_token: None, account: Some(b.account) }))
            }
            _ => Ok(None),
        }
    }
}

/// Paths whose POSTs are sign-in or sign-up attempts.
fn is_auth_path(path: &str) -> bool {
    matches!(path, "/signin" | "/signup" | "/reset" | "/api/v1/auth/signin" | "/api/v1/auth/signup" | "/api/v1/auth/reset")
}

/// Sign-in and sign-up attempts per address (per account in the
/// handlers); API calls per address and per account.
pub async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let ip = req.extensions().get::<ClientIp>().map(|c| c.0.clone()).unwrap_or_default();
    let result = if req.method() == Method::POST && is_auth_path(path) {
        state.limits.auth.check(format!("ip:{ip}"))
    } else if path.starts_with("/api/v1/") {
        state.limits.api.check(format!("ip:{ip}")).and_then(|()| match req.extensions().get::<Auth>() {
            Some(a) => state.limits.api.check(format!("acct:{}", a.account_id)),
            None => Ok(()),
        })
    } else {
        Ok(())
    };
    match result {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// A signed-in user whose account is active.
pub struct CurrentUser {
    pub auth: Auth,
    pub account: Account,
}

impl CurrentUser {
    pub fn id(&self) -> AccountId {
        self.account.id
    }
    pub fn is_staff(&self) -> bool {
        self.account.role.is_staff()
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let auth = parts.extensions.get::<Auth>().cloned().ok_or(AppError::Unauthenticated)?;
        // The row the credential's lookup read; else read now.
        let account = match &auth.account {
            Some(a) => Account::clone(a),
            None => accounts::by_id(&state.db, auth.account_id).await?.ok_or(AppError::Unauthenticated)?,
        };
        if account.status != AccountStatus::Active {
            return Err(AppError::Unauthenticated.into());
        }
        if account.needs_profile && !crate::signin::open_before_profile(parts.uri.path()) {
            return Err(crate::error::refused("profile_incomplete", "Choose your handle and give your birth date and country first"));
        }
        Ok(CurrentUser { auth, account })
    }
}

/// Anyone, signed in or not.
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match CurrentUser::from_request_parts(parts, state).await {
            Ok(u) => Ok(MaybeUser(Some(u))),
            Err(WebError::App(AppError::Unauthenticated)) => Ok(MaybeUser(None)),
            Err(e) => Err(e),
        }
    }
}

/// A signed-in staff member (platform role admin or super admin).
pub struct Staff(pub CurrentUser);

impl FromRequestParts<AppState> for Staff {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let u = CurrentUser::from_request_parts(parts, state).await?;
        if !matches!(u.account.role, PlatformRole::Admin | PlatformRole::SuperAdmin) {
            return Err(AppError::Forbidden.into());
        }
        Ok(Staff(u))
    }
}

/// `Set-Cookie` for a new web session, and for signing out.
pub fn session_cookie(token: &str, max_age: u64, secure: bool) -> String {
    set_cookie(SESSION_COOKIE, token, "Lax", Some(max_age), secure)
}

pub fn clear_session_cookie(secure: bool) -> String {
    set_cookie(SESSION_COOKIE, "", "Lax", Some(0), secure)
}
