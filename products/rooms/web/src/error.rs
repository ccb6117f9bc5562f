//! Errors of the web layer: the platform's `AppError`, plus store refusals
//! that carry their own stable code (`room_full`, `kick_cooldown`,
//! `seat_taken`, …), answered with the same JSON body and rendered as pages
//! for browsers.

use crate::pages::ErrorPage;
use askama::Template;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
pub use platform_web::error::{AppError, ErrorBody};
use rooms_store::StoreError;

/// A handler's failure.
#[derive(Debug)]
pub enum WebError {
    App(AppError),
    /// A rule refused the request; `code` is stable for clients.
    Refused {
        code: String,
        message: String,
    },
}

pub type WebResult<T> = Result<T, WebError>;

/// The status of each refusal code.
pub fn status_of(code: &str) -> StatusCode {
    match code {
        "role_unknown"
        | "not_moderator"
        | "owner_only"
        | "target_not_lower"
        | "not_on_self"
        | "blocked"
        | "kick_cooldown"
        | "visitors_may_not_speak"
        | "chat_not_allowed"
        | "muted_by_moderator"
        | "wrong_room_password"
        | "account_blocked"
        | "profile_incomplete"
        | "email_unverified"
        | "sign_in_failed"
        | "sign_in_cancelled" => StatusCode::FORBIDDEN,
        "provider_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        "bad_target" => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::CONFLICT,
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError::App(e)
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Guard { code, message } => WebError::Refused { code, message },
            other => WebError::App(AppError::from(other)),
        }
    }
}

impl From<platform_kernel::FieldError> for WebError {
    fn from(e: platform_kernel::FieldError) -> Self {
        WebError::App(e.into())
    }
}

impl From<platform_kernel::FieldErrors> for WebError {
    fn from(e: platform_kernel::FieldErrors) -> Self {
        WebError::App(e.into())
    }
}

pub fn refused(code: &str, message: impl Into<String>) -> WebError {
    WebError::Refused { code: code.into(), message: message.into() }
}

/// An error body answered as JSON, carried in the response for the page layer.
pub fn respond(status: StatusCode, body: ErrorBody) -> Response {
    let mut resp = (status, Json(body.clone())).into_response();
    resp.extensions_mut().insert(body);
    resp
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::App(e) => e.into_response(),
            WebError::Refused { code, message } => {
                let status = status_of(&code);
                respond(status, ErrorBody { error: code.into(), message, fields: vec![], required: None, available: None })
            }
        }
    }
}

/// Browser routes get errors as pages (and a sign-in redirect for 401);
/// `/api/` routes keep the JSON body.
pub async fn render_html(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let wants_json = path.starts_with("/api/")
        || path == "/metrics"
        || req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.starts_with("application/json"));
    let resp = next.run(req).await;
    if wants_json {
        return resp;
    }
    let status = resp.status();
    let Some(body) = resp.extensions().get::<ErrorBody>().cloned() else {
        if status == StatusCode::NOT_FOUND && resp.headers().get(header::CONTENT_TYPE).is_none() {
            return page(status, "Page not found", "We couldn't find that page.");
        }
        return resp;
    };
    if body.error == "profile_incomplete" {
        return Redirect::to("/welcome").into_response();
    }
    if status == StatusCode::UNAUTHORIZED && body.error == "unauthenticated" {
        let next = serde_urlencoded::to_string([("next", path.as_str())]).unwrap_or_default();
        return Redirect::to(&format!("/signin?{next}")).into_response();
    }
    let title = match status {
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::TOO_MANY_REQUESTS => "Slow down",
        StatusCode::CONFLICT => "That did not work",
        s if s.is_server_error() => "Something went wrong",
        _ => "Please check your input",
    };
    let mut message = body.message.clone();
    for f in &body.fields {
        if body.fields.len() > 1 {
            message.push_str(&format!(" — {}: {}", f.field, f.message));
        }
    }
    let mut out = page(status, title, &message);
    if let Some(r) = resp.headers().get(header::RETRY_AFTER) {
        out.headers_mut().insert(header::RETRY_AFTER, r.clone());
    }
    out
}

fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let html = ErrorPage { title, message }.render().unwrap_or_else(|_| message.to_string());
    (status, Html(html)).into_response()
}
