//! A push service on loopback that behaves like a browser vendor's: each
//! [`FakePushService::subscribe`] creates a subscriber key pair and
//! authentication secret, as a browser does on `pushManager.subscribe`, and
//! every push that arrives is checked — `Content-Encoding: aes128gcm`, a
//! `TTL`, a VAPID `Authorization` whose ES256 signature verifies against
//! its `k`, whose audience is this service's origin and whose expiry is
//! within 24 hours — and decrypted with the subscriber's keys (RFC 8291's
//! key derivation and RFC 8188's record, written out here on RustCrypto
//! rather than borrowed from the sender's library). Refused pushes answer
//! 400/401 with the reason and are counted.

use crate::{decode, encode, Subscription};
use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{Aes128Gcm, Nonce};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hkdf::Hkdf;
use sha2::Sha256;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256PublicKey};
use web_push_native::jwt_simple::claims::NoCustomClaims;
use web_push_native::jwt_simple::common::VerificationOptions;
use web_push_native::p256;
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

/// One push that passed every check, decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The subscription's id (the last segment of its endpoint).
    pub id: String,
    pub payload: Vec<u8>,
    pub ttl: u32,
    pub urgency: Option<String>,
    pub topic: Option<String>,
    /// The VAPID public key (`k`) it was signed with.
    pub vapid_key: String,
    /// The JWT's `sub` (the sender's contact).
    pub contact: String,
}

struct Subscriber {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

#[derive(Default)]
struct Shared {
    subscribers: Mutex<HashMap<String, Subscriber>>,
    gone: Mutex<HashSet<String>>,
    received: Mutex<Vec<Received>>,
    refused: Mutex<Vec<String>>,
    arrived: Notify,
}

/// The service; it runs until the runtime ends.
#[derive(Clone)]
pub struct FakePushService {
    origin: String,
    shared: Arc<Shared>,
}

impl FakePushService {
    /// Listens on 127.0.0.1 on a free port.
    pub async fn start() -> std::io::Result<FakePushService> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let origin = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared::default());
        let app = Router::new().route("/push/{id}", post(receive)).with_state((origin.clone(), shared.clone()));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakePushService { origin, shared })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// A new subscriber, as a browser's `PushSubscription.toJSON()`.
    pub fn subscribe(&self) -> Subscription {
        let secret = p256::SecretKey::random(&mut OsRng);
        let mut auth = [0u8; 16];
        OsRng.fill_bytes(&mut auth);
        let mut id = [0u8; 12];
        OsRng.fill_bytes(&mut id);
        let id = encode(&id);
        let public = secret.public_key().to_encoded_point(false);
        let sub = Subscription { endpoint: format!("{}/push/{id}", self.origin), p256dh: encode(public.as_bytes()), auth: encode(&auth) };
        self.shared.subscribers.lock().expect("lock").insert(id, Subscriber { secret, auth });
        sub
    }

    /// From now on pushes to `subscription` answer 410 Gone.
    pub fn expire(&self, subscription: &Subscription) {
        self.shared.gone.lock().expect("lock").insert(id_of(subscription));
    }

    /// Every accepted push, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("lock").clone()
    }

    /// The pushes accepted for `subscription`.
    pub fn received_by(&self, subscription: &Subscription) -> Vec<Received> {
        let id = id_of(subscription);
        self.received().into_iter().filter(|r| r.id == id).collect()
    }

    /// Why each refused push was refused.
    pub fn refused(&self) -> Vec<String> {
        self.shared.refused.lock().expect("lock").clone()
    }

    /// Waits until `n` pushes were accepted (or 10 s pass) and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let notified = self.shared.arrived.notified();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.received();
            }
        }
    }
}

fn id_of(s: &Subscription) -> String {
    s.endpoint.rsplit('/').next().unwrap_or_default().to_string()
}

async fn receive(
    State((origin, shared)): State<(String, Arc<Shared>)>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    if shared.gone.lock().expect("lock").contains(&id) {
        return (StatusCode::GONE, "subscription expired".into());
    }
    let checked = {
        let subs = shared.subscribers.lock().expect("lock");
        let Some(sub) = subs.get(&id) else {
            return (StatusCode::NOT_FOUND, "no such subscription".into());
        };
        check(&origin, &headers, &body, sub)
    };
    match checked {
        Ok((payload, vapid_key, contact)) => {
            let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
            let ttl = header("ttl").and_then(|t| t.parse().ok()).unwrap_or(0);
            shared.received.lock().expect("lock").push(Received {
                id,
                payload,
                ttl,
                urgency: header("urgency"),
                topic: header("topic"),
                vapid_key,
                contact,
            });
            shared.arrived.notify_waiters();
            (StatusCode::CREATED, String::new())
        }
        Err((status, why)) => {
            shared.refused.lock().expect("lock").push(why.clone());
            (status, why)
        }
    }
}

type Refusal = (StatusCode, String);

fn bad(status: StatusCode, why: &str) -> Refusal {
    (status, why.to_string())
}

/// The headers, the VAPID signature and the payload; the plaintext, the
/// signing key and the contact when all hold.
fn check(origin: &str, headers: &HeaderMap, body: &[u8], sub: &Subscriber) -> Result<(Vec<u8>, String, String), Refusal> {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    if header("content-encoding") != Some("aes128gcm") {
        return Err(bad(StatusCode::BAD_REQUEST, "Content-Encoding must be aes128gcm"));
    }
    if header("ttl").and_then(|t| t.parse::<u32>().ok()).is_none() {
        return Err(bad(StatusCode::BAD_REQUEST, "TTL header missing or not a number"));
    }
    let (key, contact) = vapid(origin, header("authorization").unwrap_or(""))?;
    let payload = decrypt(body, sub).map_err(|why| bad(StatusCode::BAD_REQUEST, why))?;
    Ok((payload, key, contact))
}

/// `vapid t=<jwt>, k=<key>`: the signature verifies with `k`, the audience
/// is this origin, the expiry is less than 24 hours away, the subject is a
/// contact.
fn vapid(origin: &str, value: &str) -> Result<(String, String), Refusal> {
    let unauthorized = |why: &str| bad(StatusCode::UNAUTHORIZED, why);
    let rest = value.strip_prefix("vapid ").ok_or_else(|| unauthorized("Authorization must use the vapid scheme"))?;
    let mut token = None;
    let mut key = None;
    for part in rest.split(',') {
        let (name, v) = part.trim().split_once('=').ok_or_else(|| unauthorized("malformed vapid parameters"))?;
        match name {
            "t" => token = Some(v.to_string()),
            "k" => key = Some(v.to_string()),
            _ => {}
        }
    }
    let (token, key) = token.zip(key).ok_or_else(|| unauthorized("vapid needs t and k"))?;
    let raw = decode(&key).map_err(|_| unauthorized("k is not base64url"))?;
    let public = ES256PublicKey::from_bytes(&raw).map_err(|_| unauthorized("k is not a P-256 key"))?;
    let options = VerificationOptions { allowed_audiences: Some(HashSet::from([origin.to_string()])), ..Default::default() };
    let claims =
        public.verify_token::<NoCustomClaims>(&token, Some(options)).map_err(|e| unauthorized(&format!("VAPID token refused: {e}")))?;
    let expires = claims.expires_at.ok_or_else(|| unauthorized("VAPID token has no exp"))?;
    let now = web_push_native::jwt_simple::prelude::Clock::now_since_epoch();
    if expires.as_secs() > now.as_secs() + 24 * 3600 {
        return Err(unauthorized("VAPID token expires more than 24 hours ahead"));
    }
    let contact = claims.subject.unwrap_or_default();
    if !(contact.starts_with("mailto:") || contact.starts_with("https:")) {
        return Err(unauthorized("VAPID sub must be a mailto: or https: contact"));
    }
    Ok((key, contact))
}

fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) {
    Hkdf::<Sha256>::new(Some(salt), ikm).expand(info, out).expect("output length is small");
}

/// RFC 8188 header (salt, record size, key id = the sender's ephemeral
/// public key), RFC 8291 key derivation, one AES-128-GCM record ending in
/// the last-record delimiter 0x02.
fn decrypt(body: &[u8], sub: &Subscriber) -> Result<Vec<u8>, &'static str> {
    if body.len() < 21 {
        return Err("body shorter than the aes128gcm header");
    }
    let salt = &body[..16];
    let record_size = u32::from_be_bytes([body[16], body[17], body[18], body[19]]) as usize;
    let idlen = body[20] as usize;
    if idlen != 65 || body.len() < 21 + idlen {
        return Err("the key id must be the sender's 65-byte public key");
    }
    let sender = p256::PublicKey::from_sec1_bytes(&body[21..21 + idlen]).map_err(|_| "the key id is not a P-256 point")?;
    let record = &body[21 + idlen..];
    if record.len() > record_size || record.len() < 17 {
        return Err("a push must be one record of at most the declared size");
    }
    let shared = p256::ecdh::diffie_hellman(sub.secret.to_nonzero_scalar(), sender.as_affine());
    let mut info = b"WebPush: info\0".to_vec();
    info.extend_from_slice(sub.secret.public_key().to_encoded_point(false).as_bytes());
    info.extend_from_slice(sender.to_encoded_point(false).as_bytes());
    let mut ikm = [0u8; 32];
    hkdf(&sub.auth, shared.raw_secret_bytes(), &info, &mut ikm);
    let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
    hkdf(salt, &ikm, b"Content-Encoding: aes128gcm\0", &mut cek);
    hkdf(salt, &ikm, b"Content-Encoding: nonce\0", &mut nonce);
    let cipher = Aes128Gcm::new_from_slice(&cek).map_err(|_| "key length")?;
    let mut plain =
        cipher.decrypt(Nonce::from_slice(&nonce), record).map_err(|_| "the payload does not decrypt with the subscriber's keys")?;
    while plain.last() == Some(&0) {
        plain.pop();
    }
    if plain.pop() != Some(2) {
        return Err("the record does not end with the last-record delimiter");
    }
    Ok(plain)
}
