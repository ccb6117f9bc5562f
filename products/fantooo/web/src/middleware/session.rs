//! Fantooo's side of the platform's session layer
//! (`platform_web::session::load`): its sessions table and cookies, and
//! the [`Session`] a signed-in request carries; the account row is loaded
//! by the extractors in `crate::auth` when a handler asks for it.

use crate::auth::{Session, CSRF_COOKIE, SESSION_COOKIE};
use crate::AppState;
use chrono::{DateTime, Utc};
use fantooo_domain::ids::AccountId;
use fantooo_domain::AccountKind;
use fantooo_store::accounts::SESSIONS;
use fantooo_store::{users, StoreResult};
use platform_web::request::{set_cookie, ProxyTrust, SessionVia};
use platform_web::session::{Cookies, Found, Sessions, SignIn};

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

    /// A user's row, or an operator's id and name, comes in the session
    /// lookup's own statement: most requests are users', and each reads
    /// its row; an operator's reply needs only who they are.
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
