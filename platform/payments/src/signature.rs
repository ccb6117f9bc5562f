//! Paystack's webhook signature: the hex HMAC-SHA512 of the raw request body
//! keyed with the account's secret key, sent as `x-paystack-signature`.

use hmac::{Hmac, Mac};
use sha2::Sha512;
use subtle::ConstantTimeEq;

type HmacSha512 = Hmac<Sha512>;

/// The signature Paystack would send for `body`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = HmacSha512::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Checks `signature` against `body` in constant time. Compares the decoded
/// bytes, so hex case does not matter and a wrong length fails early
/// without revealing anything about the expected value.
pub fn verify(secret: &str, body: &[u8], signature: Option<&str>) -> bool {
    let Some(given) = signature.and_then(|s| hex::decode(s.trim()).ok()) else { return false };
    let mut mac = HmacSha512::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    let expected = mac.finalize().into_bytes();
    given.len() == expected.len() && bool::from(given.as_slice().ct_eq(expected.as_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_an_independent_hmac_sha512() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let expected = "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737";
        assert_eq!(sign("Jefe", b"what do ya want for nothing?"), expected);
        assert!(verify("Jefe", b"what do ya want for nothing?", Some(expected)));
        assert!(verify("Jefe", b"what do ya want for nothing?", Some(&expected.to_uppercase())));
    }

    #[test]
    fn rejects_tampering_wrong_keys_and_junk() {
        let body = br#"{"event":"charge.success","data":{"amount":40000}}"#;
        let sig = sign("sk_test_1", body);
        assert!(verify("sk_test_1", body, Some(&sig)));
        assert!(!verify("sk_test_2", body, Some(&sig)), "other key");
        assert!(!verify("sk_test_1", br#"{"event":"charge.success","data":{"amount":40001}}"#, Some(&sig)), "altered body");
        assert!(!verify("sk_test_1", body, Some(&sig[..64])), "truncated");
        assert!(!verify("sk_test_1", body, Some("not hex")));
        assert!(!verify("sk_test_1", body, Some("")));
        assert!(!verify("sk_test_1", body, None));
    }
}
