//! Error reporting to a Sentry-compatible endpoint (the `sentry` crate;
//! off unless a DSN is configured, `GIGSTREAM_SENTRY_DSN`). The layer
//! [`report`] sits next to the handlers: a handler that panics answers 500
//! and is reported with its panic message; a 500 from an internal error is
//! reported with the error's detail (kept on the response by
//! `platform_web::error::InternalDetail`, never shown to the client). Each
//! event carries the request's method, path and request id — no query
//! string, headers, cookies or body.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use platform_web::error::InternalDetail;
use sentry::protocol::{Event, Exception, Level};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

/// Where events go: a client for the DSN, or nothing.
#[derive(Clone, Default)]
pub struct Reporter {
    client: Option<Arc<sentry::Client>>,
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reporter").field("enabled", &self.client.is_some()).finish()
    }
}

impl Reporter {
    /// A reporter for `dsn` (none or empty: reporting is off). A DSN that
    /// does not parse is an error at start.
    pub fn new(dsn: Option<&str>, environment: &str) -> Result<Reporter, String> {
        let Some(dsn) = dsn.map(str::trim).filter(|d| !d.is_empty()) else { return Ok(Reporter::default()) };
        let dsn: sentry::types::Dsn = dsn.parse().map_err(|e| format!("the Sentry DSN is not valid: {e}"))?;
        let mut options = sentry::ClientOptions::default();
        options.dsn = Some(dsn);
        options.release = Some(concat!("gigstream@", env!("CARGO_PKG_VERSION")).into());
        options.environment = Some(environment.to_string().into());
        options.send_default_pii = false;
        // The transport's TLS runs on ring, as the rest of the tree; a
        // provider installed earlier stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = sentry::Client::from_config(sentry::apply_defaults(options));
        Ok(Reporter { client: Some(Arc::new(client)) })
    }

    pub fn enabled(&self) -> bool {
        self.client.is_some()
    }

    /// Sends one event (in the background); its id, if sent.
    pub fn capture(&self, event: Event<'static>) -> Option<sentry::types::Uuid> {
        let client = self.client.as_ref()?;
        let hub = sentry::Hub::new(Some(client.clone()), Arc::new(sentry::Scope::default()));
        Some(hub.capture_event(event))
    }

    /// Waits up to `timeout` for queued events to be sent.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.client.as_ref().is_none_or(|c| c.flush(Some(timeout)))
    }
}

/// What is reported of a request.
struct Seen {
    method: String,
    path: String,
    request_id: Option<String>,
}

fn event(seen: &Seen, level: Level, exception: Exception) -> Event<'static> {
    let mut e = Event {
        level,
        transaction: Some(format!("{} {}", seen.method, seen.path)),
        exception: vec![exception].into(),
        request: Some(sentry::protocol::Request {
            method: Some(seen.method.clone()),
            url: format!("http://gigstream{}", seen.path).parse().ok(),
            ..Default::default()
        }),
        ..Default::default()
    };
    if let Some(id) = &seen.request_id {
        e.tags.insert("request_id".into(), id.clone());
    }
    e
}

/// The layer: reports panics and internal errors of the handlers inside it.
pub async fn report(State(reporter): State<Reporter>, req: Request, next: Next) -> Response {
    if !reporter.enabled() {
        return next.run(req).await;
    }
    let seen = Seen {
        method: req.method().to_string(),
        path: req.uri().path().to_string(),
        request_id: req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_string),
    };
    match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(resp) => {
            if resp.status() == StatusCode::INTERNAL_SERVER_ERROR {
                let detail = resp.extensions().get::<InternalDetail>().map(|d| d.0.clone()).unwrap_or_else(|| "internal error".into());
                let exception = Exception { ty: "InternalError".into(), value: Some(detail), ..Default::default() };
                reporter.capture(event(&seen, Level::Error, exception));
            }
            resp
        }
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a handler panicked".into());
            tracing::error!(panic = %message, path = %seen.path, "handler panicked");
            let exception = Exception { ty: "panic".into(), value: Some(message.clone()), ..Default::default() };
            reporter.capture(event(&seen, Level::Fatal, exception));
            crate::AppError::Internal(format!("handler panicked: {message}")).into_response()
        }
    }
}
