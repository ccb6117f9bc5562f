//! The HTTP → HTTPS redirect (behind `GIGSTREAM_HTTPS_REDIRECT`): a
//! request that arrived as plain HTTP gets a permanent redirect to the same
//! path on HTTPS. Behind a trusted proxy the scheme is the proxy's
//! `X-Forwarded-Proto`; without one this server only speaks plain HTTP, so
//! every request is redirected (put TLS in front). The health check is
//! answered as is, for load balancers probing over HTTP.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Whether the request came over HTTPS, as far as this server can tell.
pub fn came_over_https(req: &Request, trust_proxy: bool) -> bool {
    trust_proxy
        && req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

pub async fn https_redirect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.config.https_redirect || req.uri().path() == "/api/health" || came_over_https(&req, state.config.trust_proxy) {
        return next.run(req).await;
    }
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).filter(|h| valid_host(h));
    let Some(host) = host else {
        return (StatusCode::BAD_REQUEST, "This site is served over HTTPS only.").into_response();
    };
    let path = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let to = format!("https://{host}{path}");
    (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, to)]).into_response()
}

/// A Host header that is a name or address with an optional port, nothing else.
fn valid_host(h: &str) -> bool {
    !h.is_empty() && h.len() <= 255 && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
}

#[cfg(test)]
mod tests {
    #[test]
    fn hosts_are_plain_names_or_addresses() {
        for (h, ok) in [("example.com", true), ("127.0.0.1:8082", true), ("[::1]:80", true), ("", false), ("a/b", false), ("x@y", false)] {
            assert_eq!(super::valid_host(h), ok, "{h}");
        }
    }
}
