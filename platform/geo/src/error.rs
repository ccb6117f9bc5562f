use thiserror::Error;

/// Failures of a geocoding backend. "No such place" is not an error: it is
/// [`crate::Resolution::NotFound`] or an empty suggestion list.
#[derive(Debug, Error)]
pub enum GeoError {
    /// The caller passed something unusable (e.g. latitude 123).
    #[error("invalid geocoding input: {0}")]
    InvalidInput(String),
    /// The remote service answered with an error status (quota, bad key, ...).
    #[error("geocoding service error: {0}")]
    Service(String),
    /// The request never got a usable HTTP answer.
    ///
    /// The wrapped error has had its URL stripped: the URL carries the API key.
    #[error("geocoding request failed: {0}")]
    Transport(#[source] reqwest::Error),
    /// The service answered, but not with the JSON we expect.
    #[error("unexpected geocoding response: {0}")]
    InvalidResponse(String),
}

impl GeoError {
    /// Wraps a reqwest error without the request URL (and so without the key).
    /// Deliberately not a `From` impl, so `?` can't bypass the redaction.
    pub(crate) fn transport(err: reqwest::Error) -> Self {
        GeoError::Transport(err.without_url())
    }
}
