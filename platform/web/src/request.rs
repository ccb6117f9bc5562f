//! What the outer layers learn about a request and hand to handlers as
//! extensions: the client's address, the CSRF token for forms, how the
//! session (if any) was carried; and the header parsing behind them.

use crate::error::AppError;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use std::net::SocketAddr;

/// Client address as seen by the server, or by the trusted proxy in front.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

/// The CSRF token to embed in forms rendered for this request.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// How this request's session was carried, when it has one. A cookie is
/// ambient (a browser sends it cross-site, so CSRF applies); a bearer token
/// is never sent by a browser on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionVia {
    Cookie,
    Bearer,
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CsrfToken>().cloned().ok_or(AppError::Internal("csrf layer missing".into()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<ClientIp>().cloned().unwrap_or(ClientIp("unknown".into())))
    }
}

/// Which proxies in front of the server are trusted to report the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProxyTrust {
    /// None: the client is the peer of the TCP connection.
    #[default]
    None,
    /// This many proxies, each appending the address it saw to
    /// `X-Forwarded-For`. The client is the entry that many places from the
    /// right; entries further left were written by the client itself and
    /// prove nothing.
    Hops(u8),
}

impl ProxyTrust {
    /// One trusted proxy when `behind_proxy` (a product's `--trust-proxy`), else none.
    pub fn one_if(behind_proxy: bool) -> ProxyTrust {
        if behind_proxy {
            ProxyTrust::Hops(1)
        } else {
            ProxyTrust::None
        }
    }
}

/// The client address of `req` under `trust`.
pub fn client_ip(req: &Request, trust: ProxyTrust) -> String {
    let peer = || req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    if let ProxyTrust::Hops(hops) = trust {
        if let Some(ip) = forwarded_client(req.headers(), hops) {
            return ip;
        }
    }
    peer().unwrap_or_else(|| "unknown".into())
}

/// The `hops`-th address from the right of all `X-Forwarded-For` headers
/// (in order), when there are that many.
pub fn forwarded_client(headers: &HeaderMap, hops: u8) -> Option<String> {
    if hops == 0 {
        return None;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let i = entries.len().checked_sub(usize::from(hops))?;
    entries.get(i).map(|s| s.to_string())
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// `Set-Cookie` value for an `HttpOnly` cookie on the whole site.
pub fn set_cookie(name: &str, value: &str, same_site: &str, max_age_secs: Option<u64>, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    let age = max_age_secs.map(|s| format!("; Max-Age={s}")).unwrap_or_default();
    format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}{age}{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_client_is_counted_from_the_right() {
        // The client forged "6.6.6.6"; the one trusted proxy appended the real peer.
        let h = xff(&["6.6.6.6, 203.0.113.9"]);
        assert_eq!(forwarded_client(&h, 1).as_deref(), Some("203.0.113.9"));
        assert_eq!(forwarded_client(&h, 2).as_deref(), Some("6.6.6.6"));
        assert_eq!(forwarded_client(&h, 3), None);
        assert_eq!(forwarded_client(&h, 0), None);
        // Several headers count as one list, in order.
        let h = xff(&["1.1.1.1", "2.2.2.2, 3.3.3.3"]);
        assert_eq!(forwarded_client(&h, 1).as_deref(), Some("3.3.3.3"));
        assert_eq!(forwarded_client(&xff(&[" , "]), 1), None);
    }

    #[test]
    fn cookies_and_bearer_tokens_are_read() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; session=abc; b=2"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer  tok "));
        assert_eq!(cookie(&h, "session"), Some("abc"));
        assert_eq!(cookie(&h, "missing"), None);
        assert_eq!(bearer(&h), Some("tok"));
        assert_eq!(set_cookie("s", "v", "Lax", Some(60), true), "s=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure");
    }

    proptest! {
        /// Cookie headers are attacker-controlled bytes: reading one never
        /// panics, and a value found is one the header really carried.
        #[test]
        fn any_cookie_header_is_read_safely(raw in proptest::collection::vec(any::<u8>(), 0..80), name in "[a-z_]{1,16}") {
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_bytes(&raw) {
                headers.insert(header::COOKIE, v);
            }
            if let Some(found) = cookie(&headers, &name) {
                let pair = format!("{name}={found}");
                prop_assert!(String::from_utf8_lossy(&raw).contains(&pair), "{} not in the header", pair);
            }
            let _ = bearer(&headers);
        }
    }
}
