//! Errors of the web layer: the platform's `AppError`, plus store refusals
//! that carry their own stable code (`room_full`, `kick_cooldown`,
//! `seat_taken`, …), answered with the same JSON body and rendered as pages
//! for browsers.

use crate::pages::ErrorPage;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
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
        | "sign_in_cancelled"
        | "not_your_request"
        | "level_required"
        | "vip_required"
        | "vip_protected" => StatusCode::FORBIDDEN,
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

/// Rooms' error pages (`platform_web::error_pages::render`): its page, and
/// `/signin` for a browser that must sign in.
#[derive(Clone, Copy)]
pub struct Pages;

impl platform_web::error_pages::ErrorPages for Pages {
    fn render(&self, p: &platform_web::error_pages::ErrorPage<'_>) -> String {
        ErrorPage { title: p.title, message: p.message }.render().unwrap_or_else(|_| p.message.to_string())
    }

    fn sign_in(&self, _path: &str) -> &'static str {
        "/signin"
    }

    /// Someone signed in with Google still owes their handle, birth date
    /// and country: every page sends them to finish that first.
    fn redirect_for(&self, code: &str) -> Option<&'static str> {
        (code == "profile_incomplete").then_some("/welcome")
    }
}
