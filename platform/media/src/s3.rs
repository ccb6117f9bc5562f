//! S3-compatible buckets (AWS S3, MinIO, Cloudflare R2, …) through
//! `object_store`, speaking HTTP with the workspace's own reqwest client
//! (rustls with the bundled web PKI roots, ring), so no second TLS stack or
//! native certificate store comes along.

use crate::{MediaError, ObjectMedia, DEFAULT_PUBLIC_BASE};
use async_trait::async_trait;
use http_body_util::BodyExt;
use object_store::aws::AmazonS3Builder;
use object_store::client::{
    ClientConfigKey, ClientOptions, HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpResponse, HttpResponseBody,
    HttpService,
};
use object_store::{BackoffConfig, RetryConfig};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How long to wait for a connection to the endpoint.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request may take, body included (videos are the largest).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Where a bucket is and how to sign requests to it. Requests are
/// path-style (`{endpoint}/{bucket}/{key}`), which every S3-compatible
/// service accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    /// The API's base URL: `https://s3.eu-west-1.amazonaws.com`,
    /// `https://<account>.r2.cloudflarestorage.com`,
    /// `http://127.0.0.1:9000`. Plain `http://` is allowed only because
    /// it is written here, for local servers.
    pub endpoint: String,
    /// Signing region (`auto` for R2, anything for most local servers).
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Where stored objects are served, [`DEFAULT_PUBLIC_BASE`] unless the
    /// bucket is public or behind a CDN.
    pub public_base: String,
}

impl S3Config {
    /// A bucket served through the app under [`DEFAULT_PUBLIC_BASE`].
    pub fn new(
        bucket: impl Into<String>,
        endpoint: impl Into<String>,
        region: impl Into<String>,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        S3Config {
            bucket: bucket.into(),
            endpoint: endpoint.into(),
            region: region.into(),
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            public_base: DEFAULT_PUBLIC_BASE.to_string(),
        }
    }

    /// Serves objects under `base` instead of [`DEFAULT_PUBLIC_BASE`].
    pub fn with_public_base(mut self, base: impl Into<String>) -> Self {
        self.public_base = base.into();
        self
    }

    fn validate(&self) -> Result<(), MediaError> {
        let missing = [
            ("bucket", &self.bucket),
            ("endpoint", &self.endpoint),
            ("region", &self.region),
            ("access key id", &self.access_key_id),
            ("secret access key", &self.secret_access_key),
        ]
        .into_iter()
        .filter(|(_, v)| v.trim().is_empty())
        .map(|(name, _)| name)
        .collect::<Vec<_>>();
        if !missing.is_empty() {
            return Err(MediaError::Config(format!("S3 needs a {}", missing.join(", a "))));
        }
        if !(self.endpoint.starts_with("https://") || self.endpoint.starts_with("http://")) {
            return Err(MediaError::Config(format!("S3 endpoint must be an http(s) URL, not {:?}", self.endpoint)));
        }
        Ok(())
    }
}

/// Shows everything but the secret.
impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("public_base", &self.public_base)
            .finish()
    }
}

impl ObjectMedia {
    /// Objects in the S3-compatible bucket `config` describes. Nothing is
    /// sent until the first call.
    pub fn s3(config: &S3Config) -> Result<ObjectMedia, MediaError> {
        config.validate()?;
        let retry = RetryConfig { backoff: BackoffConfig::default(), max_retries: 3, retry_timeout: Duration::from_secs(30) };
        let store = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_endpoint(config.endpoint.trim_end_matches('/'))
            .with_region(&config.region)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(&config.secret_access_key)
            .with_virtual_hosted_style_request(false)
            .with_allow_http(config.endpoint.starts_with("http://"))
            // One key at a time: a plain DELETE, which every S3-compatible
            // service has, rather than the bulk DeleteObjects call.
            .with_disable_bulk_delete(true)
            .with_retry(retry)
            .with_http_connector(WorkspaceHttp)
            .build()?;
        Ok(ObjectMedia::new(Arc::new(store)).with_public_base(config.public_base.clone()))
    }
}

/// Hands `object_store` a client from the workspace's reqwest.
#[derive(Debug)]
struct WorkspaceHttp;

impl HttpConnector for WorkspaceHttp {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        let allow_http = options.get_config_value(&ClientConfigKey::AllowHttp).is_some_and(|v| v == "true");
        let client = reqwest::Client::builder()
            .https_only(!allow_http)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| object_store::Error::Generic { store: "S3", source: Box::new(e) })?;
        Ok(HttpClient::new(Reqwest(client)))
    }
}

#[derive(Debug)]
struct Reqwest(reqwest::Client);

#[async_trait]
impl HttpService for Reqwest {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let (parts, body) = req.into_parts();
        let url = reqwest::Url::parse(&parts.uri.to_string()).map_err(|e| HttpError::new(HttpErrorKind::Request, e))?;
        let mut request = reqwest::Request::new(parts.method, url);
        *request.headers_mut() = parts.headers;
        *request.body_mut() = Some(match body.as_bytes() {
            Some(bytes) => reqwest::Body::from(bytes.clone()),
            None => reqwest::Body::wrap(body),
        });
        let response = self.0.execute(request).await.map_err(http_error)?;
        let (parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
        Ok(HttpResponse::from_parts(parts, HttpResponseBody::new(body.map_err(http_error))))
    }
}

/// Sorts a reqwest failure into the kinds `object_store` retries on.
fn http_error(e: reqwest::Error) -> HttpError {
    let kind = if e.is_timeout() {
        HttpErrorKind::Timeout
    } else if e.is_connect() {
        HttpErrorKind::Connect
    } else if e.is_request() {
        HttpErrorKind::Request
    } else if e.is_decode() || e.is_body() {
        HttpErrorKind::Decode
    } else {
        HttpErrorKind::Unknown
    };
    HttpError::new(kind, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_incomplete_configuration() {
        let ok = S3Config::new("b", "http://127.0.0.1:9", "us-east-1", "AKID", "secret");
        assert!(ObjectMedia::s3(&ok).is_ok());
        let no_secret = S3Config { secret_access_key: " ".into(), ..ok.clone() };
        let e = ObjectMedia::s3(&no_secret).unwrap_err().to_string();
        assert!(e.contains("secret access key"), "{e}");
        let bad_url = S3Config { endpoint: "127.0.0.1:9".into(), ..ok.clone() };
        assert!(ObjectMedia::s3(&bad_url).is_err());
        assert!(!format!("{ok:?}").contains("\"secret\""), "the secret is not printed");
    }
}
