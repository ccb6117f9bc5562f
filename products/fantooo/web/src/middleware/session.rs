//! Fantooo's side of the platform's session layer
//! (`platform_web::session::load`): its sessions table and cookies, and
//! the [`Session`] a signed-in request carries; the account row is loaded
//! by the extractors in `crate::auth` when a handler asks for it.
//!
//! Users' and operators' sessions are kept in this node's cache
//! (`platform_web::session_cache`): a [`Session`] holds only who is asking
//! (the user's id, name and ban, the operator's id and name), and the
//! `sign_in_version` row, which the store's triggers move on every
//! revocation, ban, deletion, rename and kind or password change, is read
//! every [`POLL_EVERY`]; a change is refused on every node within
//! [`BOUND`]. Admins' sessions are looked up on every request (their
//! extractor reads the admin row anyway).

use crate::auth::{Session, CSRF_COOKIE, SESSION_COOKIE};
use crate::AppState;
use chrono::{DateTime, Utc};
use fantooo_domain::ids::AccountId;
use fantooo_domain::AccountKind;
use fantooo_store::accounts::SESSIONS;
use fantooo_store::{users, StoreResult};
use platform_web::request::{set_cookie, ProxyTrust, SessionVia};
use platform_web::session::{Cookies, Found, Sessions, SignIn};
pub use platform_web::session_cache::{BOUND, POLL_EVERY};
use std::sync::Arc;

/// This node's cache of live sessions.
pub type SessionCache = platform_web::session_cache::SessionCache<Session, AccountId, AccountKind>;

/// Sessions a node keeps at most (a few hundred bytes each).
pub const CACHE_CAPACITY: usize = 100_000;

/// Where the store's triggers keep the sign-in version.
pub const VERSION_TABLE: &str = "sign_in_version";

/// Starts this node's session cache and its version reads, unless
/// `FANTOOO_SESSION_CACHE=off`.
pub fn start_cache(db: &fantooo_store::Db) -> Option<Arc<SessionCache>> {
    if std::env::var("FANTOOO_SESSION_CACHE").is_ok_and(|v| v == "off") {
        return None;
    }
    let cache = Arc::new(SessionCache::new(CACHE_CAPACITY));
    cache.watch(db.clone(), VERSION_TABLE, POLL_EVERY);
    Some(cache)
}

impl SignIn for AppState {
    type Id = AccountId;
    type Kind = AccountKind;
    type Signed = Session;

    fn sessions(&self) -> Sessions<'_> {
        let trust = ProxyTrust::one_if(self.config.trust_proxy);
        Sessions {
            db: &self.db,
            store: *SESSIONS,
            cookies: Cookies { session: SESSION_COOKIE, csrf: CSRF_COOKIE, secure: self.config.secure_cookies, trust },
        }
    }

    fn cache(&self) -> Option<&SessionCache> {
        self.session_cache.as_deref()
    }

    fn cacheable(&self, found: &Found<Self>) -> bool {
        found.1.kind != AccountKind::Admin
    }

    fn signed(&self, token: String, via: SessionVia, s: platform_accounts::Session<AccountId, AccountKind>) -> Session {
        Session {
            token,
            account_id: s.account_id,
            kind: s.kind,
            via_cookie: via == SessionVia::Cookie,
            csrf_token: s.csrf_token,
            user: None,
            operator: None,
        }
    }

    /// Who a user is, or an operator's id and name, comes in the session
    /// lookup's own statement: most requests are users', and each reads
    /// who they are; an operator's reply needs only who they are.
    async fn find(&self, token: String, via: SessionVia, now: DateTime<Utc>) -> StoreResult<Option<Found<Self>>> {
        let found = SESSIONS
            .live_joined::<AccountId, AccountKind, users::SessionUser>(&self.db, &token, now, users::SESSION_JOIN, users::session_columns())
            .await?;
        Ok(found.map(|(s, row)| {
            let mut signed = self.signed(token, via, s.clone());
            signed.user = row.0.map(std::sync::Arc::new);
            signed.operator = row.1;
            (signed, s)
        }))
    }
}

/// `Set-Cookie` value for a new session cookie.
pub fn session_cookie(token: &str, max_age_secs: u64, secure: bool) -> String {
    set_cookie(SESSION_COOKIE, token, "Lax", Some(max_age_secs), secure)
}

pub fn clear_session_cookie(secure: bool) -> String {
    set_cookie(SESSION_COOKIE, "", "Lax", Some(0), secure)
}

impl AppState {
    /// The session of `token` was signed out on this node: drop it from
    /// this node's cache at once (other nodes within [`BOUND`]).
    pub fn signed_out(&self, token: &str) {
        if let Some(c) = &self.session_cache {
            c.forget_token(&platform_accounts::hash_token(token));
        }
    }

    /// Whether `account` may sign in, or who it is, changed on this node
    /// (`None`: some account whose id the caller does not hold): drop its
    /// sessions, or all, from this node's cache at once.
    pub fn sign_in_changed(&self, account: Option<AccountId>) {
        match (&self.session_cache, account) {
            (Some(c), Some(a)) => c.forget_account(&a),
            (Some(c), None) => c.clear(),
            (None, _) => {}
        }
    }
}
