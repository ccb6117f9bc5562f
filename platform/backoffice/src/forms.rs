//! What back-office handlers share: one handler serves a page form and
//! its JSON API twin, so the answer (redirect or JSON) and the input (form
//! or JSON body) depend on how the request came in.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use platform_web::error::{AppError, AppResult};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Whether the request came through `/api/…`.
#[derive(Debug, Clone, Copy)]
pub struct Via {
    pub api: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Via {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Via { api: parts.uri.path().starts_with("/api/") })
    }
}

impl Via {
    /// The answer to a change: the API gets `body`; a page goes back to
    /// `back` (or wherever the outcome says) with a notice. A refusal the
    /// admin can act on (validation, conflict, bad input) goes back to the
    /// page with the message; other errors propagate.
    pub fn finish(self, back: &str, outcome: AppResult<(String, serde_json::Value)>) -> AppResult<Response> {
        match outcome {
            Ok((_, body)) if self.api => Ok(Json(body).into_response()),
            Ok((notice, _)) => Ok(Redirect::to(&with_param(back, "notice", &notice)).into_response()),
            Err(e @ (AppError::Validation(_) | AppError::Conflict(_) | AppError::BadRequest(_) | AppError::PayloadTooLarge(_)))
                if !self.api =>
            {
                Ok(Redirect::to(&with_param(back, "error", &e.body().message)).into_response())
            }
            Err(e) => Err(e),
        }
    }
}

/// For forms that re-render their own page (create forms): success shows
/// the notice with 200, field errors show every message with 422.
pub fn flash_of(outcome: AppResult<(String, serde_json::Value)>) -> AppResult<(axum::http::StatusCode, Flash)> {
    match outcome {
        Ok((notice, _)) => Ok((axum::http::StatusCode::OK, Flash { notice, error: String::new() })),
        Err(AppError::Validation(e)) => {
            let error = e.0.iter().map(|f| f.message.clone()).collect::<Vec<_>>().join(" · ");
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, Flash { notice: String::new(), error }))
        }
        Err(e) => Err(e),
    }
}

pub fn with_param(path: &str, key: &str, value: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    let encoded = serde_urlencoded::to_string([(key, value)]).unwrap_or_default();
    format!("{path}{sep}{encoded}")
}

/// `?notice=` / `?error=` shown once after a redirect.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Flash {
    #[serde(default)]
    pub notice: String,
    #[serde(default)]
    pub error: String,
}

/// A form body or a JSON object, decoded into the same string-typed
/// struct: JSON numbers and booleans become their text, arrays become
/// newline-separated text, so both paths validate exactly alike.
pub struct Input<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Input<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("application/json"));
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(AppError::rejected)?;
        if is_json {
            let value: serde_json::Value = if bytes.is_empty() {
                serde_json::json!({})
            } else {
                serde_json::from_slice(&bytes).map_err(|e| AppError::BadRequest(format!("Invalid JSON body: {e}")))?
            };
            let serde_json::Value::Object(map) = value else { return Err(AppError::BadRequest("Send a JSON object".into())) };
            let flat: serde_json::Map<String, serde_json::Value> =
                map.into_iter().filter_map(|(k, v)| flatten(v).map(|s| (k, serde_json::Value::String(s)))).collect();
            serde_json::from_value(serde_json::Value::Object(flat))
                .map(Input)
                .map_err(|e| AppError::BadRequest(format!("Invalid JSON body: {e}")))
        } else {
            serde_urlencoded::from_bytes(&bytes).map(Input).map_err(|e| AppError::BadRequest(format!("Invalid form: {e}")))
        }
    }
}

fn flatten(v: serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Array(items) => Some(items.into_iter().filter_map(flatten).collect::<Vec<_>>().join("\n")),
        other => Some(other.to_string()),
    }
}

/// Non-empty trimmed text, or None.
pub fn text(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// One item per line (response templates, picture URLs).
pub fn lines(v: &Option<String>) -> Vec<String> {
    v.as_deref().unwrap_or("").lines().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Short items separated by commas or lines (tags, specialisations), lowercased.
pub fn items(v: &Option<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in v.as_deref().unwrap_or("").split([',', '\n', '|']).map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()) {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

pub fn checked(v: &Option<String>) -> bool {
    matches!(v.as_deref().map(str::trim), Some("on" | "true" | "1" | "yes"))
}

/// A field that should hold a date or time and does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotADate;

impl std::fmt::Display for NotADate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a date (YYYY-MM-DD) or time (RFC 3339)")
    }
}

/// A date (YYYY-MM-DD, end of that day) or an RFC 3339 time; None when empty.
pub fn end_of(v: &Option<String>) -> Result<Option<DateTime<Utc>>, NotADate> {
    let Some(s) = text(v) else { return Ok(None) };
    if let Ok(d) = NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
        return Ok(Some(d.and_hms_opt(23, 59, 59).expect("valid time").and_utc()));
    }
    DateTime::parse_from_rfc3339(&s).map(|t| Some(t.with_timezone(&Utc))).map_err(|_| NotADate)
}

/// A date (YYYY-MM-DD); None when empty.
pub fn date(v: &Option<String>) -> Result<Option<NaiveDate>, NotADate> {
    match text(v) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d").map(Some).map_err(|_| NotADate),
    }
}

/// Parses an id from a path segment; anything else is a 404.
pub fn id<T: std::str::FromStr>(raw: &str) -> AppResult<T> {
    raw.parse().map_err(|_| AppError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_dates_read_naturally() {
        assert_eq!(items(&Some("Flirty, romantic\nflirty".into())), vec!["flirty", "romantic"]);
        assert_eq!(lines(&Some(" a \n\n b ".into())), vec!["a", "b"]);
        assert_eq!(with_param("/x?y=1", "notice", "a b"), "/x?y=1&notice=a+b");
        assert!(end_of(&Some("2026-01-02".into())).unwrap().is_some());
        assert!(end_of(&Some("tomorrow".into())).is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Form fields reach these helpers as typed by an admin (or a script).
        #[test]
        fn form_helpers_take_any_text(raw in prop_oneof![any::<String>(), "[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}(T[0-9:]{0,8}(Z|[+-][0-9:]{0,5})?)?"]) {
            let v = Some(raw);
            let _ = (end_of(&v), date(&v), checked(&v));
            prop_assert!(lines(&v).iter().all(|l| !l.is_empty() && !l.contains('\n')));
            prop_assert!(items(&v).iter().all(|i| !i.is_empty() && !i.contains([',', '\n', '|'])));
            prop_assert!(with_param("/x", "notice", v.as_deref().unwrap_or("")).starts_with("/x?notice="));
        }
    }
}
