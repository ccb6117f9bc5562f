//! Security headers on every response.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

// Everything is served from our own origin: no inline scripts, no third
// parties. The one exception is where forms may lead: the buy button's
// form is redirected to the payment provider's hosted checkout.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The policy, with the checkout's origin allowed as a form destination.
pub fn content_security_policy(checkout_origin: Option<&str>) -> HeaderValue {
    let policy = match checkout_origin.filter(|o| o.chars().all(|c| c.is_ascii_alphanumeric() || ":/.-[]".contains(c))) {
        Some(origin) => CSP.replace("form-action 'self'", &format!("form-action 'self' {origin}")),
        None => CSP.to_string(),
    };
    HeaderValue::from_str(&policy).unwrap_or_else(|_| HeaderValue::from_static(CSP))
}

/// The headers' settings, as the layer's state.
#[derive(Clone)]
pub struct SecurityHeaders {
    /// From [`content_security_policy`].
    pub csp: HeaderValue,
    /// Send HSTS (only behind HTTPS).
    pub hsts: bool,
}

/// Adds the security headers to every response.
pub async fn security(State(state): State<SecurityHeaders>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(HeaderName::from_static("content-security-policy"), state.csp.clone());
    let mut set = |name: &'static str, value: &'static str| {
        h.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    };
    set("x-frame-options", "DENY");
    set("x-content-type-options", "nosniff");
    set("referrer-policy", "strict-origin-when-cross-origin");
    set("permissions-policy", "camera=(), microphone=(), geolocation=(self), payment=(self)");
    set("cross-origin-opener-policy", "same-origin");
    if state.hsts {
        set("strict-transport-security", "max-age=63072000; includeSubDomains");
    }
    resp
}
