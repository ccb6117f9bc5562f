//! Web push: [`PushSender`] is what products call; [`WebPushClient`] sends
//! through a browser vendor's push service (RFC 8030) with the payload
//! encrypted for the subscriber (`aes128gcm`, RFC 8291 on RFC 8188) and the
//! request signed with the site's VAPID key (RFC 8292); [`MemoryPush`]
//! keeps what would have been sent. With the `testing` feature,
//! [`fake::FakePushService`] is a push service on loopback that checks the
//! headers and the VAPID signature and decrypts every payload with the
//! subscriber's keys, as a browser would.
//!
//! ```no_run
//! # async fn demo() -> Result<(), platform_push::PushError> {
//! use platform_push::{Message, PushSender, Subscription, VapidKeys, WebPushClient};
//! let keys = VapidKeys::from_base64("…the private key from config…")?;
//! let client = WebPushClient::new(keys, "mailto:ops@gigstream.example");
//! let sub = Subscription { endpoint: "https://push.example/…".into(), p256dh: "B…".into(), auth: "…".into() };
//! client.send(&sub, &Message::new(br#"{"title":"Order delivered"}"#.to_vec())).await?;
//! # Ok(()) }
//! ```

#[cfg(feature = "testing")]
pub mod fake;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use web_push_native::jwt_simple::algorithms::{ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair};
use web_push_native::jwt_simple::claims::Claims;
use web_push_native::p256;

/// The largest payload one aes128gcm record of 4096 bytes carries: the
/// record minus the 86-byte header, the 16-byte tag and the delimiter.
pub const MAX_PAYLOAD: usize = 4096 - 86 - 16 - 1;

/// What the browser's `PushSubscription.toJSON()` gives: the push service's
/// URL and the subscriber's keys (base64url).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub endpoint: String,
    /// The subscriber's P-256 public key, uncompressed (65 bytes).
    pub p256dh: String,
    /// The subscriber's 16-byte authentication secret.
    pub auth: String,
}

impl Subscription {
    /// Checks the endpoint and both keys; the error names the bad part.
    pub fn check(&self) -> Result<(), PushError> {
        self.parts().map(|_| ())
    }

    fn parts(&self) -> Result<(reqwest::Url, p256::PublicKey, web_push_native::Auth), PushError> {
        let bad = |what: &str| PushError::Subscription(what.to_string());
        let url = reqwest::Url::parse(&self.endpoint).map_err(|_| bad("endpoint: not a URL"))?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
            return Err(bad("endpoint: must be an http(s) URL"));
        }
        let key = decode(&self.p256dh).map_err(|_| bad("p256dh: not base64url"))?;
        let key = p256::PublicKey::from_sec1_bytes(&key).map_err(|_| bad("p256dh: not a P-256 public key"))?;
        let auth = decode(&self.auth).map_err(|_| bad("auth: not base64url"))?;
        if auth.len() != 16 {
            return Err(bad("auth: must be 16 bytes"));
        }
        Ok((url, key, web_push_native::Auth::clone_from_slice(&auth)))
    }
}

/// base64url without padding (what browsers and VAPID use); padding and
/// the standard alphabet are accepted too.
pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let t = text.trim().trim_end_matches('=').replace('+', "-").replace('/', "_");
    URL_SAFE_NO_PAD.decode(t)
}

pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The site's VAPID key pair (P-256). The private half is configuration;
/// the public half is the `applicationServerKey` browsers subscribe with.
#[derive(Clone)]
pub struct VapidKeys {
    pair: Arc<ES256KeyPair>,
}

impl std::fmt::Debug for VapidKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKeys").field("public", &self.public_base64()).finish_non_exhaustive()
    }
}

impl VapidKeys {
    /// A new random key pair (for the demo and tests; production keeps one).
    pub fn generate() -> Self {
        VapidKeys { pair: Arc::new(ES256KeyPair::generate()) }
    }

    /// From the private key's 32 bytes in base64url.
    pub fn from_base64(private: &str) -> Result<Self, PushError> {
        let raw = decode(private).map_err(|_| PushError::Key("the VAPID private key is not base64url".into()))?;
        let pair = ES256KeyPair::from_bytes(&raw).map_err(|_| PushError::Key("not a P-256 private key (32 bytes)".into()))?;
        Ok(VapidKeys { pair: Arc::new(pair) })
    }

    /// The private key in base64url (to put in configuration).
    pub fn private_base64(&self) -> String {
        encode(&self.pair.to_bytes())
    }

    /// The public key, uncompressed, in base64url: `applicationServerKey`.
    pub fn public_base64(&self) -> String {
        encode(&self.pair.public_key().public_key().to_bytes_uncompressed())
    }

    /// `Authorization: vapid t=<JWT>, k=<public key>` for one push service
    /// origin, valid for `valid` (at most 24 hours by RFC 8292).
    pub fn authorization(&self, origin: &str, subject: &str, valid: Duration) -> Result<String, PushError> {
        let claims = Claims::create(valid.into()).with_audience(origin).with_subject(subject);
        let token = self.pair.sign(claims).map_err(|e| PushError::Key(e.to_string()))?;
        Ok(format!("vapid t={token}, k={}", self.public_base64()))
    }
}

/// How urgent a push is (RFC 8030 §5.3); services may hold back `low`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    VeryLow,
    Low,
    Normal,
    High,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::VeryLow => "very-low",
            Urgency::Low => "low",
            Urgency::Normal => "normal",
            Urgency::High => "high",
        }
    }
}

/// One push: the plaintext payload (encrypted per subscriber) and how the
/// push service should treat it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub payload: Vec<u8>,
    /// Seconds the push service keeps it for an offline device.
    pub ttl: u32,
    pub urgency: Urgency,
    /// A later push with the same topic replaces an undelivered one.
    pub topic: Option<String>,
}

impl Message {
    pub fn new(payload: Vec<u8>) -> Self {
        Message { payload, ttl: 24 * 3600, urgency: Urgency::Normal, topic: None }
    }
}

/// What the push service said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted for delivery.
    Delivered,
    /// The subscription no longer exists (404/410): forget it.
    Gone,
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// A subscription that cannot be sent to; names the bad part.
    #[error("invalid subscription: {0}")]
    Subscription(String),
    /// The VAPID key is unusable.
    #[error("VAPID key: {0}")]
    Key(String),
    #[error("the payload is {0} bytes; a push carries at most {MAX_PAYLOAD}")]
    TooLarge(usize),
    /// The push service refused the request.
    #[error("the push service answered {status}: {body}")]
    Rejected { status: u16, body: String },
    /// The push service could not be reached.
    #[error("the push service could not be reached: {0}")]
    Unreachable(String),
}

impl PushError {
    /// Worth trying again later (the service was down or asked to slow down).
    pub fn is_transient(&self) -> bool {
        match self {
            PushError::Unreachable(_) => true,
            PushError::Rejected { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

/// Sends one push; shared behind `Arc<dyn PushSender>`.
#[async_trait]
pub trait PushSender: Send + Sync {
    async fn send(&self, subscription: &Subscription, message: &Message) -> Result<Outcome, PushError>;
}

/// The real client: encrypts for the subscriber, signs with VAPID, POSTs.
#[derive(Clone, Debug)]
pub struct WebPushClient {
    http: reqwest::Client,
    keys: VapidKeys,
    subject: String,
}

impl WebPushClient {
    /// `subject` is the contact the push services may write to
    /// (`mailto:…` or an `https:` URL).
    pub fn new(keys: VapidKeys, subject: impl Into<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("the HTTP client builds");
        WebPushClient { http, keys, subject: subject.into() }
    }

    pub fn keys(&self) -> &VapidKeys {
        &self.keys
    }

    /// The encrypted body and headers of one push, without sending it.
    pub fn request(&self, subscription: &Subscription, message: &Message) -> Result<reqwest::Request, PushError> {
        if message.payload.len() > MAX_PAYLOAD {
            return Err(PushError::TooLarge(message.payload.len()));
        }
        let (url, key, auth) = subscription.parts()?;
        let body = web_push_native::encrypt(message.payload.clone(), &key, &auth).map_err(|e| PushError::Key(e.to_string()))?;
        // The audience is the push service's origin, port included.
        let origin = url.origin().ascii_serialization();
        let authorization = self.keys.authorization(&origin, &self.subject, Duration::from_secs(12 * 3600))?;
        let mut req = self
            .http
            .post(url)
            .header("TTL", message.ttl.to_string())
            .header("Urgency", message.urgency.as_str())
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("Authorization", authorization)
            .body(body);
        if let Some(topic) = &message.topic {
            req = req.header("Topic", topic);
        }
        req.build().map_err(|e| PushError::Subscription(format!("endpoint: {e}")))
    }
}

#[async_trait]
impl PushSender for WebPushClient {
    async fn send(&self, subscription: &Subscription, message: &Message) -> Result<Outcome, PushError> {
        let req = self.request(subscription, message)?;
        let res = self.http.execute(req).await.map_err(|e| PushError::Unreachable(e.to_string()))?;
        let status = res.status().as_u16();
        match status {
            200..=299 => Ok(Outcome::Delivered),
            404 | 410 => Ok(Outcome::Gone),
            _ => {
                let mut body = res.text().await.unwrap_or_default();
                body.truncate(300);
                Err(PushError::Rejected { status, body })
            }
        }
    }
}

/// Keeps every push instead of sending it.
#[derive(Debug, Clone, Default)]
pub struct MemoryPush {
    sent: Arc<Mutex<Vec<(Subscription, Message)>>>,
}

impl MemoryPush {
    pub fn sent(&self) -> Vec<(Subscription, Message)> {
        self.sent.lock().expect("lock").clone()
    }
}

#[async_trait]
impl PushSender for MemoryPush {
    async fn send(&self, subscription: &Subscription, message: &Message) -> Result<Outcome, PushError> {
        subscription.check()?;
        if message.payload.len() > MAX_PAYLOAD {
            return Err(PushError::TooLarge(message.payload.len()));
        }
        self.sent.lock().expect("lock").push((subscription.clone(), message.clone()));
        Ok(Outcome::Delivered)
    }
}
