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
    policy_with(checkout_origin.as_slice(), &[])
}

/// The policy with a product's extra sources: `form_action`, origins a form
/// may lead to (a provider's hosted checkout); `connect_src`, origins its
/// scripts may reach (a voice server). An origin holding anything but
/// letters, digits and `:/.-[]` is left out, so none can break out of its
/// directive.
pub fn policy_with(form_action: &[&str], connect_src: &[&str]) -> HeaderValue {
    let safe = |o: &&&str| o.chars().all(|c| c.is_ascii_alphanumeric() || ":/.-[]".contains(c));
    let mut policy = CSP.to_string();
    for (directive, origins) in [("form-action 'self'", form_action), ("connect-src 'self'", connect_src)] {
        let extra: Vec<&str> = origins.iter().filter(safe).copied().collect();
        if !extra.is_empty() {
            policy = policy.replace(directive, &format!("{directive} {}", extra.join(" ")));
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_origins_go_to_their_directive_and_unsafe_ones_are_left_out() {
        let p = policy_with(&["https://checkout.stripe.com", "https://www.paypal.com", "x; script-src *"], &["http://[::1]:8088"]);
        let p = p.to_str().unwrap();
        assert!(p.contains("form-action 'self' https://checkout.stripe.com https://www.paypal.com;"), "{p}");
        assert!(p.contains("connect-src 'self' http://[::1]:8088;"), "{p}");
        assert!(!p.contains("script-src *"), "{p}");
        assert_eq!(policy_with(&[], &[]).to_str().unwrap(), CSP);
        assert_eq!(content_security_policy(Some("https://checkout.paystack.com")), policy_with(&["https://checkout.paystack.com"], &[]));
    }
}
