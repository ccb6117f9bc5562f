//! Credentials for mobile and API clients: a short-lived signed access
//! token, checked without a database round trip, and a long-lived refresh
//! token, stored hashed and exchanged for a new pair.
//!
//! Access tokens are HS256 JWTs ([`AccessTokens`]) carrying the account
//! (`sub`), its kind, issue and expiry times and a token id; they cannot be
//! revoked, so they live minutes (15 by default).
//!
//! Refresh tokens rotate ([`Tokens::rotate`]): each is good for one
//! exchange. A sign-in starts a family; every exchange marks the presented
//! token used and adds its successor to the family. A used token presented
//! again means two parties hold the family (a stolen token, or a client
//! that lost an answer), so the whole family is revoked and both must sign
//! in again.
//!
//! Two concurrent exchanges of one token are one exchange and one reuse:
//! the claim of a token is a single conditional `UPDATE` in a write
//! transaction, so exactly one succeeds, and the other, finding the token
//! used, revokes the family, including the successor just issued. Clients
//! must therefore send one refresh at a time.

use crate::{hash_token, random_token, ActiveAccounts, Column};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use platform_db::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use serde::{Deserialize, Serialize};
use std::fmt::Display;
use std::str::FromStr;

platform_kernel::id_type! {
    /// One chain of refresh tokens, started by a sign-in: one device's
    /// signed-in state. Revoking it signs that device out.
    FamilyId,
    /// One refresh token of a family.
    RefreshId
}

/// Why a token was refused. All but [`TokenError::Store`] mean "sign in
/// again" (401); `Store` is the server's fault.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Past its expiry.
    #[error("token expired")]
    Expired,
    /// Well formed but not signed with our key and algorithm: forged, or
    /// signed by another deployment.
    #[error("token signature is not valid")]
    BadSignature,
    /// Not a JWT of our claims at all.
    #[error("token is malformed")]
    Malformed,
    /// A refresh token the store does not know (or has purged).
    #[error("refresh token unknown")]
    Unknown,
    /// A refresh token of a revoked family.
    #[error("refresh token revoked")]
    Revoked,
    /// A refresh token that was already exchanged; its family is now revoked.
    #[error("refresh token reused; its sign-in is revoked")]
    Reused,
    /// The token's account may no longer sign in.
    #[error("account is not active")]
    Inactive,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TokenError {
    fn from(e: sqlx::Error) -> Self {
        TokenError::Store(e.into())
    }
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The account id, as text.
    pub sub: String,
    /// The kind of account, as text.
    pub kind: String,
    /// Issued at, in Unix seconds.
    pub iat: i64,
    /// Expires at, in Unix seconds: refused from this second on.
    pub exp: i64,
    /// A fresh id per token, for logs and deny lists.
    pub jti: String,
}

impl AccessClaims {
    /// The account id in the product's type; `None` if it does not parse.
    pub fn account<I: FromStr>(&self) -> Option<I> {
        self.sub.parse().ok()
    }

    /// The kind in the product's type; `None` if it does not parse.
    pub fn kind<K: FromStr>(&self) -> Option<K> {
        self.kind.parse().ok()
    }

    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

/// Signs and verifies access tokens with one HMAC-SHA256 secret.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime: Duration,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens").field("lifetime", &self.lifetime).finish_non_exhaustive()
    }
}

impl AccessTokens {
    /// How long an access token is good for unless set otherwise.
    pub const DEFAULT_LIFETIME: Duration = Duration::minutes(15);
    /// Shortest secret accepted: HS256 is as strong as its key.
    pub const MIN_SECRET_BYTES: usize = 32;

    /// Tokens signed with `secret` (at least 32 random bytes, kept in the
    /// product's configuration), living [`Self::DEFAULT_LIFETIME`].
    ///
    /// # Panics
    /// If `secret` is shorter than [`Self::MIN_SECRET_BYTES`].
    pub fn new(secret: &[u8]) -> Self {
        assert!(secret.len() >= Self::MIN_SECRET_BYTES, "an access token secret needs at least 32 bytes");
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is judged against the caller's clock in `verify`.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        AccessTokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            lifetime: Self::DEFAULT_LIFETIME,
        }
    }

    /// Tokens living `lifetime` instead.
    pub fn with_lifetime(self, lifetime: Duration) -> Self {
        AccessTokens { lifetime, ..self }
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// A token for `account` of `kind`, issued at `now`; with its claims.
    pub fn issue(&self, account: &impl Display, kind: &impl Display, now: DateTime<Utc>) -> (String, AccessClaims) {
        let claims = AccessClaims {
            sub: account.to_string(),
            kind: kind.to_string(),
            iat: now.timestamp(),
            exp: (now + self.lifetime).timestamp(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).expect("HS256 signing cannot fail");
        (token, claims)
    }

    /// The claims of `token` if it is ours and unexpired at `now`.
    ///
    /// Text that is not a JWT (three base64url parts, the first two JSON
    /// objects) is [`TokenError::Malformed`]; a JWT not signed with our key
    /// and HS256 is [`TokenError::BadSignature`], whatever it claims (one
    /// naming no JWT algorithm at all, like `none`, is `Malformed`); a JWT
    /// of ours whose claims are not [`AccessClaims`] is `Malformed`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
        if !is_jwt(token) {
            return Err(TokenError::Malformed);
        }
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation).map_err(|e| match e.kind() {
            // Another algorithm in the header (`none`, RS256 …) is a forgery
            // attempt just as much as a wrong signature.
            ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => TokenError::BadSignature,
            _ => TokenError::Malformed,
        })?;
        if now.timestamp() >= data.claims.exp {
            return Err(TokenError::Expired);
        }
        Ok(data.claims)
    }
}

/// Whether `token` has the shape of a JWT: three base64url parts, the
/// header and payload JSON objects.
fn is_jwt(token: &str) -> bool {
    use base64::Engine;
    let b64 = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let json_object = |part: &str| {
        b64.decode(part).ok().and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok()).is_some_and(|v| v.is_object())
    };
    let parts: Vec<&str> = token.split('.').collect();
    matches!(parts[..], [header, payload, signature] if json_object(header) && json_object(payload) && b64.decode(signature).is_ok())
}

/// A new credential pair, from a sign-in or a rotation. Both raw tokens go
/// to the client once.
#[derive(Debug, Clone)]
pub struct TokenPair<I, K> {
    pub account_id: I,
    pub kind: K,
    /// The sign-in this pair belongs to.
    pub family: FamilyId,
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

/// Access tokens plus the `refresh_tokens` table (migration 111).
#[derive(Debug, Clone)]
pub struct Tokens {
    access: AccessTokens,
    refresh_lifetime: Duration,
    accounts: Option<ActiveAccounts>,
}

impl Tokens {
    /// How long a refresh token is good for unless set otherwise. Each
    /// rotation issues a successor good for this long again, so a client in
    /// use stays signed in and one unused this long must sign in again.
    pub const DEFAULT_REFRESH_LIFETIME: Duration = Duration::days(30);

    pub fn new(access: AccessTokens) -> Self {
        Tokens { access, refresh_lifetime: Self::DEFAULT_REFRESH_LIFETIME, accounts: None }
    }

    /// Refresh tokens living `lifetime` instead.
    pub fn with_refresh_lifetime(self, lifetime: Duration) -> Self {
        Tokens { refresh_lifetime: lifetime, ..self }
    }

    /// Rotation refuses accounts that are not active in `accounts`.
    pub fn for_active(self, accounts: ActiveAccounts) -> Self {
        Tokens { accounts: Some(accounts), ..self }
    }

    pub fn access(&self) -> &AccessTokens {
        &self.access
    }

    /// The claims of an access token, if ours and unexpired at `now`.
    pub fn verify(&self, access_token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
        self.access.verify(access_token, now)
    }

    /// A sign-in of `account` at `now`: starts a refresh family and returns
    /// its first pair. The caller has checked the password (and that the
    /// account is active).
    pub async fn issue<I, K>(&self, db: &Db, account: &I, kind: &K, now: DateTime<Utc>) -> Result<TokenPair<I, K>, TokenError>
    where
        I: Column + Display,
        K: Column + Display,
    {
        let (pair, hash) = self.pair(account.clone(), kind.clone(), FamilyId::new(), now);
        on_pool!(db, p => {
            sqlx::query(INSERT).bind(RefreshId::new()).bind(pair.family).bind(account.clone()).bind(kind.clone())
                .bind(&hash).bind(now).bind(pair.refresh_expires_at)
                .execute(p).await?;
        });
        Ok(pair)
    }

    /// Exchanges `refresh_token` at `now` for a new pair in its family.
    ///
    /// Refused with [`TokenError::Unknown`], [`TokenError::Revoked`] or
    /// [`TokenError::Expired`] as the token stands, [`TokenError::Inactive`]
    /// when the account may no longer sign in (the token stays usable should
    /// the account come back), and [`TokenError::Reused`] when the token was
    /// already exchanged: then the whole family is revoked first.
    pub async fn rotate<I, K>(&self, db: &Db, refresh_token: &str, now: DateTime<Utc>) -> Result<TokenPair<I, K>, TokenError>
    where
        I: Column + Display,
        K: Column + Display,
    {
        let hash = hash_token(refresh_token);
        let active_sql = self.accounts.map(|a| a.active_sql());
        on_pool!(db, p => {
            let mut tx = p.begin_write().await?;
            // The claim: one statement, so of two concurrent exchanges only
            // one finds the token unused (PostgreSQL re-checks the condition
            // after waiting for the row; SQLite runs one writer at a time).
            let claimed: Option<(FamilyId, I, K)> = sqlx::query_as(
                "UPDATE refresh_tokens SET used_at = $1
                 WHERE token_hash = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1
                 RETURNING family_id, account_id, kind",
            )
            .bind(now).bind(&hash).fetch_optional(&mut *tx).await?;
            match claimed {
                Some((family, account, kind)) => {
                    if let Some(sql) = &active_sql {
                        let active: Option<bool> = sqlx::query_scalar(sql).bind(account.clone()).fetch_optional(&mut *tx).await?;
                        if active != Some(true) {
                            tx.rollback().await?;
                            return Err(TokenError::Inactive);
                        }
                    }
                    let (pair, next) = self.pair(account.clone(), kind.clone(), family, now);
                    sqlx::query(INSERT).bind(RefreshId::new()).bind(family).bind(account).bind(kind)
                        .bind(&next).bind(now).bind(pair.refresh_expires_at)
                        .execute(&mut *tx).await?;
                    tx.commit().await?;
                    Ok(pair)
                }
                None => {
                    type State = (FamilyId, Option<DateTime<Utc>>, Option<DateTime<Utc>>, DateTime<Utc>);
                    let state: Option<State> =
                        sqlx::query_as("SELECT family_id, used_at, revoked_at, expires_at FROM refresh_tokens WHERE token_hash = $1")
                            .bind(&hash).fetch_optional(&mut *tx).await?;
                    let err = match state {
                        None => TokenError::Unknown,
                        Some((_, _, Some(_), _)) => TokenError::Revoked,
                        Some((family, Some(_), None, _)) => {
                            sqlx::query(REVOKE_FAMILY).bind(family).bind(now).execute(&mut *tx).await?;
                            TokenError::Reused
                        }
                        Some((_, None, None, _)) => TokenError::Expired,
                    };
                    tx.commit().await?;
                    Err(err)
                }
            }
        })
    }

    /// Signs out the device holding `refresh_token` (its whole family);
    /// whether a family was found. Used or expired tokens still find it.
    pub async fn revoke(&self, db: &Db, refresh_token: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let sql = "SELECT family_id FROM refresh_tokens WHERE token_hash = $1";
        let family: Option<FamilyId> = on_pool!(db, p => sqlx::query_scalar(sql).bind(hash_token(refresh_token)).fetch_optional(p).await?);
        match family {
            Some(f) => self.revoke_family(db, f, now).await.map(|_| true),
            None => Ok(false),
        }
    }

    /// Revokes every token of `family`; returns how many were still unrevoked.
    pub async fn revoke_family(&self, db: &Db, family: FamilyId, now: DateTime<Utc>) -> StoreResult<u64> {
        Ok(on_pool!(db, p => sqlx::query(REVOKE_FAMILY).bind(family).bind(now).execute(p).await?.rows_affected()))
    }

    /// Signs `account` out of every device (a password change, a ban);
    /// returns how many tokens were still unrevoked. Access tokens already
    /// issued stay good until they expire.
    pub async fn revoke_account<I: Column>(&self, db: &Db, account: &I, now: DateTime<Utc>) -> StoreResult<u64> {
        let sql = "UPDATE refresh_tokens SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL";
        Ok(on_pool!(db, p => sqlx::query(sql).bind(account.clone()).bind(now).execute(p).await?.rows_affected()))
    }

    /// Deletes refresh tokens that expired before `before`. A family's used
    /// tokens go once expired too; a purged token presented again reads as
    /// [`TokenError::Unknown`], not as a reuse, so purge with a margin.
    pub async fn purge_expired(&self, db: &Db, before: DateTime<Utc>) -> StoreResult<u64> {
        let sql = "DELETE FROM refresh_tokens WHERE expires_at < $1";
        Ok(on_pool!(db, p => sqlx::query(sql).bind(before).execute(p).await?.rows_affected()))
    }

    /// A new pair in `family` and the hash of its refresh token, to store.
    fn pair<I: Display, K: Display>(&self, account: I, kind: K, family: FamilyId, now: DateTime<Utc>) -> (TokenPair<I, K>, String) {
        let (access_token, claims) = self.access.issue(&account, &kind, now);
        let refresh_token = random_token();
        let hash = hash_token(&refresh_token);
        let pair = TokenPair {
            account_id: account,
            kind,
            family,
            access_token,
            access_expires_at: claims.expires_at(),
            refresh_token,
            refresh_expires_at: now + self.refresh_lifetime,
        };
        (pair, hash)
    }
}

const INSERT: &str = "INSERT INTO refresh_tokens (id, family_id, account_id, kind, token_hash, created_at, expires_at)
                      VALUES ($1, $2, $3, $4, $5, $6, $7)";
const REVOKE_FAMILY: &str = "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL";
