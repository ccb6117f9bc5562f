//! One error type for the web layer and one mapping to HTTP. The response
//! carries the error in an extension; `middleware::errors` renders it as an
//! HTML page for browser routes, while /api routes keep the JSON body.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use fantooo_domain::FieldErrors;
use fantooo_store::StoreError;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Validation(FieldErrors),
    #[error("please sign in")]
    Unauthenticated,
    /// Wrong login or password (one message for every cause).
    #[error("Incorrect login or password")]
    LoginFailed,
    #[error("you do not have permission to do that")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    /// A body or upload above the server's limits (HTTP 413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A paid action the balance does not cover (HTTP 402).
    #[error("This message costs {required} credits and you have {available}. Buy credits to continue.")]
    InsufficientCredits { required: i64, available: i64 },
    #[error("too many requests, try again in {} s", .0.as_secs().max(1))]
    RateLimited(Duration),
    #[error("security token missing or invalid; reload the page and try again")]
    Csrf,
    /// A webhook whose signature does not match its body (HTTP 401).
    #[error("invalid signature")]
    BadSignature,
    /// The payment provider could not be reached or refused (HTTP 502).
    #[error("{0}")]
    PaymentProvider(String),
    /// The database is unreachable for now (HTTP 503 with Retry-After):
    /// clients keep their session and retry.
    #[error("The service is briefly unavailable. Please try again in a moment.")]
    Unavailable,
    #[error("internal error")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

/// The JSON body of every error.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    pub error: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<fantooo_domain::FieldError>,
    /// For `insufficient_credits`: what the action needs and what the user has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<i64>,
}

impl AppError {
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        AppError::Validation(FieldErrors::single(field, message))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthenticated | AppError::LoginFailed | AppError::BadSignature => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::InsufficientCredits { .. } => StatusCode::PAYMENT_REQUIRED,
            AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::PaymentProvider(_) => StatusCode::BAD_GATEWAY,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation",
            AppError::Unauthenticated => "unauthenticated",
            AppError::LoginFailed => "login_failed",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::BadRequest(_) => "bad_request",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::InsufficientCredits { .. } => "insufficient_credits",
            AppError::RateLimited(_) => "rate_limited",
            AppError::Csrf => "csrf",
            AppError::BadSignature => "bad_signature",
            AppError::PaymentProvider(_) => "payment_provider",
            AppError::Unavailable => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn body(&self) -> ErrorBody {
        let fields = match self {
            AppError::Validation(f) => f.0.clone(),
            _ => vec![],
        };
        let message = match self {
            AppError::Validation(f) if f.0.len() == 1 => f.0[0].message.clone(),
            AppError::Validation(_) => "Some fields need attention".into(),
            other => other.to_string(),
        };
        let (required, available) = match self {
            AppError::InsufficientCredits { required, available } => (Some(*required), Some(*available)),
            _ => (None, None),
        };
        ErrorBody { error: self.code(), message, fields, required, available }
    }
}

/// An extractor's refusal (body, form, JSON or multipart): its status and
/// its words. Axum's rejection types all carry both.
pub trait Rejection {
    fn status(&self) -> StatusCode;
    fn body_text(&self) -> String;
}

macro_rules! rejection_types {
    ($($t:ty),*) => {$(
        impl Rejection for $t {
            fn status(&self) -> StatusCode { <$t>::status(self) }
            fn body_text(&self) -> String { <$t>::body_text(self) }
        }
    )*};
}

rejection_types!(
    axum::extract::rejection::BytesRejection,
    axum::extract::rejection::FormRejection,
    axum::extract::rejection::JsonRejection,
    axum::extract::multipart::MultipartRejection,
    axum::extract::multipart::MultipartError
);

impl AppError {
    /// Keeps "too large" a 413 (the client must send less, not differently);
    /// every other malformed body is a 400 with the extractor's explanation.
    pub fn rejected(r: impl Rejection) -> Self {
        Self::from_rejection(r.status(), r.body_text())
    }

    pub fn from_rejection(status: StatusCode, text: String) -> Self {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge("The request is too large".into())
        } else {
            AppError::BadRequest(text)
        }
    }
}

/// The schema's guard against removing the last active super admin.
pub const LAST_SUPER_ADMIN: &str = "last_super_admin";

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(what) => AppError::Conflict(format!("already exists ({what})")),
            StoreError::Guard { code, .. } if code == LAST_SUPER_ADMIN => {
                AppError::Conflict("The last active super admin cannot be removed, deactivated or demoted".into())
            }
            StoreError::Guard { message, .. } => AppError::Conflict(message),
            StoreError::Invalid(m) => AppError::BadRequest(m),
            StoreError::Rule(m) => AppError::Conflict(m),
            StoreError::Refused { field, message } => AppError::field(field, message),
            StoreError::Insufficient { required, available } => AppError::InsufficientCredits { required, available },
            other if other.is_unavailable() => {
                tracing::warn!(error = %other, "database unavailable");
                AppError::Unavailable
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        AppError::Validation(e)
    }
}

impl From<fantooo_domain::FieldError> for AppError {
    fn from(e: fantooo_domain::FieldError) -> Self {
        AppError::Validation(FieldErrors(vec![e]))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(detail) = &self {
            // Details go to the log only; clients get a generic message.
            tracing::error!(error = %detail, "request failed");
        }
        let status = self.status();
        let body = self.body();
        let mut resp = (status, axum::Json(&body)).into_response();
        if let AppError::RateLimited(wait) = &self {
            let secs = wait.as_secs().max(1).to_string();
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_str(&secs).expect("digits"));
        }
        if let AppError::Unavailable = &self {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp.extensions_mut().insert(body);
        resp
    }
}
