//! Passwords: Argon2id hashes made and checked off the async threads, and
//! the strength rule for new passwords.
//!
//! Every Argon2 computation runs on tokio's blocking pool, at most one per
//! core at a time. Each takes 19 MiB; an unbounded burst of sign-ins would
//! otherwise spread those buffers over dozens of blocking threads and their
//! allocator arenas (1,000 sign-ups once left 1.5 GB resident), and a flood
//! of logins would starve everything else.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use platform_kernel::FieldError;
use std::sync::OnceLock;

/// How much work a new hash costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    /// OWASP's Argon2id baseline: 19 MiB, 2 passes. Every real deployment.
    Production,
    /// 1 MiB, 1 pass: for test suites and demo seeds that make hundreds of
    /// accounts. Verification reads the parameters from the stored hash, so
    /// such hashes still verify anywhere.
    Fast,
}

impl Cost {
    /// `Fast` when `fast` is set (a product's "fast password hashing" switch).
    pub fn fast_if(fast: bool) -> Cost {
        if fast {
            Cost::Fast
        } else {
            Cost::Production
        }
    }

    fn argon(self) -> Argon2<'static> {
        let params = match self {
            Cost::Production => Params::new(19 * 1024, 2, 1, None),
            Cost::Fast => Params::new(1024, 1, 1, None),
        };
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.expect("valid argon2 params"))
    }
}

/// Hashing could not finish: the blocking task died or Argon2 refused.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// At most one Argon2 computation per core at a time.
async fn hashing_slot() -> tokio::sync::SemaphorePermit<'static> {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    let slots = SLOTS.get_or_init(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)));
    slots.acquire().await.expect("semaphore never closes")
}

/// A PHC-format Argon2id hash of `password` with a fresh salt, to store.
pub async fn hash(password: String, cost: Cost) -> Result<String, HashError> {
    let _slot = hashing_slot().await;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        cost.argon().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(|e| HashError(e.to_string()))?
    .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the `stored` hash. With no stored hash (an
/// unknown login) it checks against a stand-in and answers false, spending
/// the same time, so response timing does not reveal which logins exist.
/// A stored value that is not a hash never matches.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let _slot = hashing_slot().await;
    tokio::task::spawn_blocking(move || {
        // The stand-in is made here, on the blocking pool, like every other
        // Argon2 computation, and at production cost like real hashes.
        let hash = stored.as_deref().unwrap_or_else(|| {
            DUMMY.get_or_init(|| {
                let salt = SaltString::generate(&mut OsRng);
                Cost::Production.argon().hash_password(b"not-a-real-password", &salt).expect("hash").to_string()
            })
        });
        let Ok(parsed) = PasswordHash::new(hash) else { return false };
        // Parameters come from the stored hash itself.
        let ok = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        ok && stored.is_some()
    })
    .await
    .unwrap_or(false)
}

/// Shortest password accepted.
pub const MIN_LEN: usize = 8;
/// Longest password accepted, so the cost of hashing stays bounded.
pub const MAX_LEN: usize = 128;

/// The rule for a new password: 8–128 characters with an uppercase letter, a
/// lowercase letter, a digit and a symbol. The error names the field
/// `password` and says what is missing, in words for people.
pub fn strength(p: &str) -> Result<(), FieldError> {
    let f = "password";
    let len = p.chars().count();
    if len < MIN_LEN {
        return Err(FieldError::new(f, "Password must be at least 8 characters"));
    }
    if len > MAX_LEN {
        return Err(FieldError::new(f, "Password must be at most 128 characters"));
    }
    if !p.chars().any(|c| c.is_uppercase()) {
        return Err(FieldError::new(f, "Password needs an uppercase letter"));
    }
    if !p.chars().any(|c| c.is_lowercase()) {
        return Err(FieldError::new(f, "Password needs a lowercase letter"));
    }
    if !p.chars().any(|c| c.is_ascii_digit()) {
        return Err(FieldError::new(f, "Password needs a digit"));
    }
    if !p.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace()) {
        return Err(FieldError::new(f, "Password needs a symbol such as ! ? # or @"));
    }
    Ok(())
}
