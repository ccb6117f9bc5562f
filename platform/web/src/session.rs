//! The session layer every product runs: it resolves the client address,
//! the request's credential (an `Authorization: Bearer` token, else the
//! session cookie) and the CSRF token forms must carry, and hands them to
//! handlers as request extensions.
//!
//! A product implements [`SignIn`]: where its sessions are kept
//! (a `platform_accounts::SessionStore`), its cookie names, and what a live
//! session becomes in its requests ([`SignIn::Signed`], its own type, which
//! its extractors read and complete with its own account row). A bearer
//! token is a session token by default; a product that gives apps signed
//! access tokens instead overrides [`SignIn::bearer`].
//!
//! Forms carry the session's CSRF token when signed in by cookie, else a
//! double-submit token kept in its own cookie (issued on first visit).
//!
//! ```ignore
//! router.layer(axum::middleware::from_fn_with_state(state.clone(), platform_web::session::load::<AppState>))
//! ```

use crate::request::{bearer, client_ip, cookie, set_cookie, ClientIp, CsrfToken, ProxyTrust, SessionVia};
use crate::session_cache::SessionCache;
use crate::AppError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use platform_accounts::{Column, Session, SessionStore};
use platform_db::{Db, StoreResult};
use std::future::Future;

/// A product's cookies and how it is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cookies {
    /// The session cookie's name (e.g. `fantooo_session`).
    pub session: &'static str,
    /// The double-submit CSRF cookie's name (e.g. `fantooo_csrf`).
    pub csrf: &'static str,
    /// Whether cookies are marked `Secure` (served over HTTPS).
    pub secure: bool,
    /// Who reports the client's address.
    pub trust: ProxyTrust,
}

impl Cookies {
    /// `Set-Cookie` for a new session cookie (`SameSite=Lax`, so links from
    /// other sites arrive signed in; writes are CSRF-checked).
    pub fn session_cookie(&self, token: &str, max_age_secs: u64) -> String {
        set_cookie(self.session, token, "Lax", Some(max_age_secs), self.secure)
    }

    /// `Set-Cookie` that signs the browser out.
    pub fn clear_session_cookie(&self) -> String {
        set_cookie(self.session, "", "Lax", Some(0), self.secure)
    }
}

/// Where a product's sessions live and how they are carried.
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'a> {
    pub db: &'a Db,
    pub store: SessionStore,
    pub cookies: Cookies,
}

/// A session's last-seen time is written at most this often.
pub const TOUCH_EVERY_SECS: i64 = 60;

/// A live session as the product makes it, beside the platform's row.
pub type Found<P> = (<P as SignIn>::Signed, Session<<P as SignIn>::Id, <P as SignIn>::Kind>);

/// What a product tells the session layer.
pub trait SignIn: Clone + Send + Sync + 'static {
    /// The product's account id and kind, as its sessions table holds them.
    type Id: Column;
    type Kind: Column;
    /// What a signed-in request carries in its extensions.
    type Signed: Clone + Send + Sync + 'static;

    /// Its database, where it keeps its sessions, and its cookies.
    fn sessions(&self) -> Sessions<'_>;
    /// A live session, presented as `token` by `via`, as the product's own.
    fn signed(&self, token: String, via: SessionVia, session: Session<Self::Id, Self::Kind>) -> Self::Signed;

    /// The live session of `token` with what the product makes of it. By
    /// default the platform's lookup, then [`SignIn::signed`]; a product
    /// whose requests go on to read their account row overrides this to
    /// fetch that row in the same statement
    /// (`platform_accounts::SessionStore::live_joined`) and keeps it in its
    /// `Signed`.
    fn find(&self, token: String, via: SessionVia, now: DateTime<Utc>) -> impl Future<Output = StoreResult<Option<Found<Self>>>> + Send {
        async move {
            let Sessions { db, store, .. } = self.sessions();
            let found = store.live::<Self::Id, Self::Kind>(db, &token, now).await?;
            Ok(found.map(|session| (self.signed(token, via, session.clone()), session)))
        }
    }

    /// This node's cache of live sessions in front of [`SignIn::find`]
    /// (`crate::session_cache`), if the product keeps one; none by default.
    /// A product that keeps one makes its `Signed` hold only what
    /// identifies the asker, never a live figure.
    fn cache(&self) -> Option<&SessionCache<Self::Signed, Self::Id, Self::Kind>> {
        None
    }

    /// Whether a found session may be cached (a product may keep some
    /// kinds of account, say its staff, out of the cache).
    fn cacheable(&self, _found: &Found<Self>) -> bool {
        true
    }

    /// A bearer token's holder: by default a session like the cookie's.
    fn bearer(&self, token: String, now: DateTime<Utc>) -> impl Future<Output = Result<Option<Self::Signed>, AppError>> + Send {
        async move { Ok(live(self, token, SessionVia::Bearer, now).await?.map(|(signed, _)| signed)) }
    }
}

/// The live session of `token`, touched when last seen over a minute ago,
/// with its CSRF token. A failed lookup is an error, never "signed out":
/// clients would drop a valid session over a database hiccup.
pub async fn live<P: SignIn>(p: &P, token: String, via: SessionVia, now: DateTime<Utc>) -> Result<Option<(P::Signed, String)>, AppError> {
    if token.is_empty() {
        return Ok(None);
    }
    let cache = p.cache().map(|c| (c, platform_accounts::hash_token(&token)));
    let (found, ticket) = match &cache {
        Some((c, key)) => match c.get(key, via, now, std::time::Instant::now()) {
            Ok(hit) => (Some(hit), None),
            Err(ticket) => (None, Some(ticket)),
        },
        None => (None, None),
    };
    let (signed, session) = match found {
        Some(hit) => hit,
        None => {
            let found = p.find(token.clone(), via, now).await.map_err(|e| {
                tracing::warn!(error = %e, "session lookup failed");
                AppError::from(e)
            })?;
            let Some(found) = found else { return Ok(None) };
            if let (Some((c, key)), Some(ticket)) = (&cache, ticket) {
                if p.cacheable(&found) {
                    c.put(ticket, key.clone(), via, found.0.clone(), found.1.clone());
                }
            }
            found
        }
    };
    if now - session.last_seen_at > Duration::seconds(TOUCH_EVERY_SECS) {
        let Sessions { db, store, .. } = p.sessions();
        if store.touch(db, &token, now).await.is_ok() {
            if let Some((c, key)) = &cache {
                c.seen(key, now);
            }
        }
    }
    Ok(Some((signed, session.csrf_token)))
}

/// The layer (see the module documentation).
pub async fn load<P: SignIn>(State(p): State<P>, mut req: Request, next: Next) -> Response {
    let cookies = p.sessions().cookies;
    let ip = client_ip(&req, cookies.trust);
    req.extensions_mut().insert(ClientIp(ip));
    let now = Utc::now();
    let found = match bearer(req.headers()).map(str::to_string) {
        Some(token) => p.bearer(token, now).await.map(|s| s.map(|s| (s, SessionVia::Bearer, None))),
        None => match cookie(req.headers(), cookies.session).map(str::to_string) {
            Some(token) => live(&p, token, SessionVia::Cookie, now).await.map(|s| s.map(|(s, csrf)| (s, SessionVia::Cookie, Some(csrf)))),
            None => Ok(None),
        },
    };
    let (signed, session_csrf) = match found {
        Ok(Some((signed, via, csrf))) => {
            req.extensions_mut().insert(via);
            (Some(signed), csrf)
        }
        Ok(None) => (None, None),
        Err(e) => return e.into_response(),
    };
    let mut new_csrf_cookie = None;
    let csrf = match session_csrf {
        Some(c) => c,
        None => match cookie(req.headers(), cookies.csrf).filter(|v| v.len() == 64) {
            Some(v) => v.to_string(),
            None => {
                let v = platform_accounts::random_token();
                new_csrf_cookie = Some(v.clone());
                v
            }
        },
    };
    req.extensions_mut().insert(CsrfToken(csrf));
    if let Some(s) = signed {
        req.extensions_mut().insert(s);
    }
    let mut resp = next.run(req).await;
    if let Some(v) = new_csrf_cookie {
        if let Ok(h) = HeaderValue::from_str(&set_cookie(cookies.csrf, &v, "Strict", None, cookies.secure)) {
            resp.headers_mut().append(header::SET_COOKIE, h);
        }
    }
    resp
}
