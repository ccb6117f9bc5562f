//! One error type for the web layer of every product, and one mapping to
//! HTTP. Each variant is declared once, with its status and its stable
//! code beside it. The response carries the error body in an extension, so
//! a product's page layer can render it as an HTML page for browsers while
//! `/api` routes keep the JSON body.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use platform_db::StoreError;
use platform_kernel::{FieldError, FieldErrors};
use serde::Serialize;
use std::borrow::Cow;
use std::time::Duration;

/// Declares `AppError` with each variant's status and code in one place.
macro_rules! app_errors {
    ($( $(#[$attr:meta])* $variant:ident $( ( $($tuple:ty),* ) )? $( { $($field:ident : $fty:ty),* $(,)? } )? => $status:ident, $code:literal; )+) => {
        #[derive(Debug, thiserror::Error)]
        pub enum AppError {
            $( $(#[$attr])* $variant $( ( $($tuple),* ) )? $( { $($field: $fty),* } )?, )+
        }

        impl AppError {
            /// The HTTP status.
            pub fn status(&self) -> StatusCode {
                match self { $( app_errors!(@pat $variant $( ( $($tuple),* ) )? $( { $($field),* } )?) => StatusCode::$status, )+ }
            }

            /// The stable, machine-readable code in the JSON body.
            #[allow(unreachable_patterns)]
            pub fn code(&self) -> Cow<'static, str> {
                match self {
                    AppError::Insufficient { unit, .. } => Cow::Owned(format!("insufficient_{unit}")),
                    $( app_errors!(@pat $variant $( ( $($tuple),* ) )? $( { $($field),* } )?) => Cow::Borrowed($code), )+
                }
            }
        }
    };
    (@pat $variant:ident ( $($tuple:ty),* )) => { AppError::$variant(..) };
    (@pat $variant:ident { $($field:ident),* }) => { AppError::$variant { .. } };
    (@pat $variant:ident) => { AppError::$variant };
}

app_errors! {
    /// Input refused, field by field.
    #[error("{0}")]
    Validation(FieldErrors) => UNPROCESSABLE_ENTITY, "validation";
    #[error("please sign in")]
    Unauthenticated => UNAUTHORIZED, "unauthenticated";
    /// Wrong login or password (one message for every cause).
    #[error("Incorrect login or password")]
    LoginFailed => UNAUTHORIZED, "login_failed";
    #[error("you do not have permission to do that")]
    Forbidden => FORBIDDEN, "forbidden";
    #[error("not found")]
    NotFound => NOT_FOUND, "not_found";
    #[error("{0}")]
    Conflict(String) => CONFLICT, "conflict";
    #[error("{0}")]
    BadRequest(String) => BAD_REQUEST, "bad_request";
    /// A body or upload above the server's limits.
    #[error("{0}")]
    PayloadTooLarge(String) => PAYLOAD_TOO_LARGE, "payload_too_large";
    /// A paid action the balance does not cover; the code is
    /// `insufficient_<unit>` (e.g. `insufficient_credits`).
    #[error("{message}")]
    Insufficient { unit: &'static str, required: i64, available: i64, message: String } => PAYMENT_REQUIRED, "insufficient";
    #[error("too many requests, try again in {0}")]
    RateLimited(Wait) => TOO_MANY_REQUESTS, "rate_limited";
    #[error("security token missing or invalid; reload the page and try again")]
    Csrf => FORBIDDEN, "csrf";
    /// A webhook whose signature does not match its body.
    #[error("invalid signature")]
    BadSignature => UNAUTHORIZED, "bad_signature";
    /// A payment provider could not be reached or refused.
    #[error("{0}")]
    PaymentProvider(String) => BAD_GATEWAY, "payment_provider";
    /// The database is unreachable for now (with Retry-After): clients keep
    /// their session and retry.
    #[error("The service is briefly unavailable. Please try again in a moment.")]
    Unavailable => SERVICE_UNAVAILABLE, "unavailable";
    /// A service the request depends on (the virus scanner, …) is not
    /// answering; the message says which and what to do (with Retry-After).
    #[error("{0}")]
    DependencyDown(String) => SERVICE_UNAVAILABLE, "dependency_unavailable";
    /// A fault; the detail goes to the log, never to the client.
    #[error("internal error")]
    Internal(String) => INTERNAL_SERVER_ERROR, "internal";
}

pub type AppResult<T> = Result<T, AppError>;

/// How long a rate-limited client should wait; shown in whole seconds (at
/// least one) and sent as `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait(pub Duration);

impl Wait {
    pub fn secs(self) -> u64 {
        self.0.as_secs().max(1)
    }
}

impl std::fmt::Display for Wait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} s", self.secs())
    }
}

/// The JSON body of every error.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    pub error: Cow<'static, str>,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// For `insufficient_*`: what the action needs and what the balance holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<i64>,
}

/// The schema guard codes a product words for people, and the unit its
/// ledger refusals speak of. Each product keeps one, as a constant, and
/// installs it at start-up with [`set_vocabulary`] (each product is its own
/// process, so one per process is enough).
pub struct Vocabulary {
    /// The plural noun of the balance unit (`"credits"`, `"coins"`).
    pub unit: &'static str,
    /// What an `insufficient` refusal says, given required and available.
    pub insufficient: fn(i64, i64) -> String,
    /// `(guard code, message)` for the schema's guards.
    pub guards: &'static [(&'static str, &'static str)],
}

static GENERIC: Vocabulary =
    Vocabulary { unit: "balance", insufficient: |r, a| format!("This costs {r} and the balance holds {a}."), guards: &[] };
static VOCABULARY: std::sync::OnceLock<&'static Vocabulary> = std::sync::OnceLock::new();

/// Installs the product's words for store errors (the first call wins).
pub fn set_vocabulary(words: &'static Vocabulary) {
    let _ = VOCABULARY.set(words);
}

fn vocabulary() -> &'static Vocabulary {
    VOCABULARY.get().copied().unwrap_or(&GENERIC)
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::from_store(e, vocabulary())
    }
}

impl AppError {
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        AppError::Validation(FieldErrors::single(field, message))
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
            AppError::Insufficient { required, available, .. } => (Some(*required), Some(*available)),
            _ => (None, None),
        };
        ErrorBody { error: self.code(), message, fields, required, available }
    }

    /// A store error in a product's words (its unit and its guards).
    pub fn from_store(e: StoreError, words: &Vocabulary) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(what) => AppError::Conflict(format!("already exists ({what})")),
            StoreError::Guard { code, message } => {
                let known = words.guards.iter().find(|(c, _)| *c == code).map(|(_, m)| m.to_string());
                AppError::Conflict(known.unwrap_or(message))
            }
            StoreError::Invalid(m) => AppError::BadRequest(m),
            StoreError::Rule(m) => AppError::Conflict(m),
            StoreError::Refused { field, message } => AppError::field(field, message),
            StoreError::Insufficient { required, available } => {
                AppError::Insufficient { unit: words.unit, required, available, message: (words.insufficient)(required, available) }
            }
            other if other.is_unavailable() => {
                tracing::warn!(error = %other, "database unavailable");
                AppError::Unavailable
            }
            other => AppError::Internal(other.to_string()),
        }
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
    axum::extract::rejection::QueryRejection,
    axum::extract::rejection::PathRejection,
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

/// A payment provider's failure as the buyer meets it: a reference the
/// provider does not know is 404; anything else is logged with the
/// provider's own words and answered 502 with a message to try again.
impl From<platform_payments::PaymentError> for AppError {
    fn from(e: platform_payments::PaymentError) -> Self {
        match e {
            platform_payments::PaymentError::UnknownReference => AppError::NotFound,
            other => {
                tracing::warn!(error = %other, "payment provider call failed");
                AppError::PaymentProvider("The payment service is not available right now. Please try again in a moment.".into())
            }
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        AppError::Validation(e)
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Validation(FieldErrors(vec![e]))
    }
}

/// The answer to a known address asked with a method it does not take:
/// the same JSON error body as every other error (a product's page layer
/// renders it as an error page). Install with
/// `Router::method_not_allowed_fallback(method_not_allowed)`.
pub async fn method_not_allowed() -> Response {
    let body = ErrorBody {
        error: "method_not_allowed".into(),
        message: "This address does not accept that method.".into(),
        fields: vec![],
        required: None,
        available: None,
    };
    let mut resp = (StatusCode::METHOD_NOT_ALLOWED, axum::Json(&body)).into_response();
    resp.extensions_mut().insert(body);
    resp
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let internal = if let AppError::Internal(detail) = &self {
            // Details go to the log only; clients get a generic message.
            tracing::error!(error = %detail, "request failed");
            Some(InternalDetail(detail.clone()))
        } else {
            None
        };
        let status = self.status();
        let body = self.body();
        let mut resp = (status, axum::Json(&body)).into_response();
        if let AppError::RateLimited(wait) = &self {
            let secs = wait.secs().to_string();
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_str(&secs).expect("digits"));
        }
        if let AppError::Unavailable = &self {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let AppError::DependencyDown(_) = &self {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        }
        resp.extensions_mut().insert(body);
        if let Some(detail) = internal {
            resp.extensions_mut().insert(detail);
        }
        resp
    }
}

/// The detail of an internal error, kept on its response (never sent to
/// the client) for a layer that reports errors (a Sentry-compatible
/// endpoint, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalDetail(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: Vocabulary = Vocabulary {
        unit: "coins",
        insufficient: |r, a| format!("This needs {r} coins; you have {a}."),
        guards: &[("last_owner", "A room keeps at least one owner")],
    };

    #[tokio::test]
    async fn a_wrong_method_gets_the_json_error_body() {
        let resp = method_not_allowed().await;
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(resp.extensions().get::<ErrorBody>().map(|b| b.error.to_string()).as_deref(), Some("method_not_allowed"));
        let bytes = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["error"], "method_not_allowed");
        assert_eq!(v["message"], "This address does not accept that method.");
    }

    #[test]
    fn a_payment_providers_failure_is_a_retry_or_not_found() {
        use platform_payments::PaymentError;
        assert!(matches!(AppError::from(PaymentError::UnknownReference), AppError::NotFound));
        for e in [PaymentError::Transport("refused".into()), PaymentError::Rejected("bad key".into()), PaymentError::Malformed("{".into())]
        {
            let mapped = AppError::from(e);
            assert_eq!((mapped.status().as_u16(), mapped.code().as_ref()), (502, "payment_provider"));
            assert!(mapped.to_string().contains("try again"), "{mapped}");
            assert!(!mapped.to_string().contains("bad key"), "the provider's words stay in the log");
        }
    }

    #[test]
    fn each_variant_has_its_status_and_code() {
        let cases: Vec<(AppError, u16, &str)> = vec![
            (AppError::field("age", "too young"), 422, "validation"),
            (AppError::Unauthenticated, 401, "unauthenticated"),
            (AppError::LoginFailed, 401, "login_failed"),
            (AppError::Forbidden, 403, "forbidden"),
            (AppError::NotFound, 404, "not_found"),
            (AppError::Conflict("x".into()), 409, "conflict"),
            (AppError::BadRequest("x".into()), 400, "bad_request"),
            (AppError::PayloadTooLarge("x".into()), 413, "payload_too_large"),
            (AppError::RateLimited(Wait(Duration::from_secs(3))), 429, "rate_limited"),
            (AppError::Csrf, 403, "csrf"),
            (AppError::BadSignature, 401, "bad_signature"),
            (AppError::PaymentProvider("x".into()), 502, "payment_provider"),
            (AppError::Unavailable, 503, "unavailable"),
            (AppError::DependencyDown("x".into()), 503, "dependency_unavailable"),
            (AppError::Internal("x".into()), 500, "internal"),
        ];
        for (e, status, code) in cases {
            assert_eq!((e.status().as_u16(), e.code().as_ref()), (status, code), "{e:?}");
        }
    }

    #[test]
    fn store_errors_speak_the_products_words() {
        let e = AppError::from_store(StoreError::Insufficient { required: 5, available: 2 }, &WORDS);
        assert_eq!(e.status(), StatusCode::PAYMENT_REQUIRED);
        let body = e.body();
        assert_eq!(body.error, "insufficient_coins");
        assert_eq!(body.message, "This needs 5 coins; you have 2.");
        assert_eq!((body.required, body.available), (Some(5), Some(2)));

        let g = AppError::from_store(StoreError::Guard { code: "last_owner".into(), message: "raw".into() }, &WORDS);
        assert_eq!((g.status().as_u16(), g.to_string()), (409, "A room keeps at least one owner".to_string()));
        let unknown = AppError::from_store(StoreError::Guard { code: "other".into(), message: "raw words".into() }, &WORDS);
        assert_eq!(unknown.to_string(), "raw words");
        let refused = AppError::from_store(StoreError::Refused { field: "seat", message: "taken".into() }, &WORDS);
        assert_eq!(refused.body().fields[0].field, "seat");
    }

    #[test]
    fn the_body_rides_in_the_response() {
        let e = AppError::RateLimited(Wait(Duration::from_millis(10)));
        assert_eq!(e.to_string(), "too many requests, try again in 1 s");
        let resp = e.into_response();
        assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
        assert_eq!(resp.extensions().get::<ErrorBody>().map(|b| b.error.clone()), Some(Cow::Borrowed("rate_limited")));
    }
}
