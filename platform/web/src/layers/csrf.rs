//! CSRF protection for every state-changing request that a browser could be
//! tricked into sending: the token must come back in the form field
//! `csrf_token` or the `X-CSRF-Token` header. JSON API calls without a
//! cookie session (bearer tokens, sign-up, sign-in) carry no ambient
//! credentials and are exempt.

use crate::error::AppError;
use crate::request::{CsrfToken, SessionVia};
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

/// Form bodies are buffered to read the token; anything larger than this is
/// not a login/settings form and must use the header instead.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// The CSRF layer; it needs the session layer (which inserts [`SessionVia`]
/// and [`CsrfToken`]) outside it.
pub async fn check(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let via = req.extensions().get::<SessionVia>().copied();
    let cookie_session = via == Some(SessionVia::Cookie);
    // A bearer token is never sent by a browser on its own, so requests
    // signed in that way cannot be forged cross-site, whatever their body.
    let bearer_session = via == Some(SessionVia::Bearer);
    let is_json =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(|ct| ct.starts_with("application/json")).unwrap_or(false);
    // A JSON body cannot be sent cross-site without a CORS preflight (which
    // is never granted), so JSON requests without a cookie session carry no
    // forgeable credential. Webhooks authenticate by signature.
    if (!cookie_session && is_json) || bearer_session || req.uri().path().starts_with("/api/webhooks/") {
        return next.run(req).await;
    }
    let expected = match req.extensions().get::<CsrfToken>() {
        Some(t) => t.0.clone(),
        None => return AppError::Csrf.into_response(),
    };
    let matches = |given: &str| given.as_bytes().ct_eq(expected.as_bytes()).into();

    if let Some(h) = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return if matches(h) { next.run(req).await } else { AppError::Csrf.into_response() };
    }
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    // Upload forms are streamed, not buffered, so their token rides in the
    // form's action URL instead of a body field.
    if content_type.starts_with("multipart/form-data") {
        let token = req
            .uri()
            .query()
            .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "csrf_token").map(|(_, v)| v));
        return match token {
            Some(t) if matches(&t) => next.run(req).await,
            _ => AppError::Csrf.into_response(),
        };
    }
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    if !is_form {
        return AppError::Csrf.into_response();
    }
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, MAX_FORM_BYTES).await {
        Ok(b) => b,
        Err(_) => return AppError::PayloadTooLarge("This form is too large; send files as multipart uploads".into()).into_response(),
    };
    let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "csrf_token").map(|(_, v)| v));
    match token {
        Some(t) if matches(&t) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        _ => AppError::Csrf.into_response(),
    }
}
