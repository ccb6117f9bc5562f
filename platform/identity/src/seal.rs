//! Sealing what a relying party keeps in the browser between two requests
//! (the [`crate::PendingLogin`] of an attempt, or the verified identity of
//! a sign-up still being finished): the value as JSON, base64url, with an
//! HMAC-SHA256 tag over a purpose and an expiry. Only the holder of the
//! key can make one, nothing in it can be changed, one made for one
//! purpose does not open for another, and it stops opening when it expires.
//! Sealed, not encrypted: keep secrets the browser must not read out of it
//! (a PKCE verifier is fine: it is useless without the attempt's code).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    /// Unix seconds after which it no longer opens.
    exp: u64,
    value: T,
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn mac(key: &[u8], purpose: &str, body: &str) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(purpose.as_bytes());
    m.update(b":");
    m.update(body.as_bytes());
    m
}

/// `value` sealed with `key` for `purpose`, opening for `ttl_secs`.
pub fn seal<T: Serialize>(key: &[u8], purpose: &str, ttl_secs: u64, value: &T) -> String {
    let envelope = Envelope { exp: now() + ttl_secs, value };
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&envelope).unwrap_or_default());
    let tag = URL_SAFE_NO_PAD.encode(mac(key, purpose, &body).finalize().into_bytes());
    format!("{body}.{tag}")
}

/// The value, if `sealed` came from [`seal`] with this key and purpose and
/// has not expired.
pub fn open<T: DeserializeOwned>(key: &[u8], purpose: &str, sealed: &str) -> Option<T> {
    let (body, tag) = sealed.split_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    mac(key, purpose, body).verify_slice(&tag).ok()?;
    let envelope: Envelope<T> = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()?;
    (envelope.exp >= now()).then_some(envelope.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_unchanged_with_its_key_purpose_and_time() {
        let key = b"0123456789abcdef0123456789abcdef";
        let sealed = seal(key, "login", 60, &("state", 7));
        assert_eq!(open::<(String, u32)>(key, "login", &sealed), Some(("state".into(), 7)));
        assert_eq!(open::<(String, u32)>(b"another key of thirty-two bytes!", "login", &sealed), None);
        assert_eq!(open::<(String, u32)>(key, "signup", &sealed), None, "another purpose");
        let (body, tag) = sealed.split_once('.').unwrap();
        let mut changed: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
        changed["value"][1] = serde_json::json!(8);
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(changed.to_string()));
        assert_eq!(open::<(String, u32)>(key, "login", &forged), None, "changed");
        let expired = seal(key, "login", 0, &1u8);
        let mut e: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(expired.split_once('.').unwrap().0).unwrap()).unwrap();
        assert!(e["exp"].as_u64().unwrap() <= now());
        e["exp"] = serde_json::json!(1);
        let body = URL_SAFE_NO_PAD.encode(e.to_string());
        let tag = URL_SAFE_NO_PAD.encode(mac(key, "login", &body).finalize().into_bytes());
        assert_eq!(open::<u8>(key, "login", &format!("{body}.{tag}")), None, "expired");
        assert_eq!(open::<u8>(key, "login", "junk"), None);
    }
}
