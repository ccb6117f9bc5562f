//! Getting back in without the password: an optional recovery email the
//! user proves by following a link, and password-reset links sent only to
//! such a verified address. Every link is single-use and expires; only the
//! SHA-256 of its token is stored, so a database leak opens no account.

use crate::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Duration, Utc};
use fantooo_domain::ids::{AccountId, UserId};
use platform_accounts::once::{self, OneTime};

/// How long an email-verification link works.
pub const VERIFY_TTL: Duration = Duration::hours(24);
/// How long a password-reset link works.
pub const RESET_TTL: Duration = Duration::hours(1);
/// Reset links sent to one account per hour at most; further requests are
/// answered the same way but send nothing.
pub const RESETS_PER_HOUR: i64 = 3;

const VERIFY: &str = "verify_email";
const RESET: &str = "reset_password";

/// Sets the recovery email (unverified until its link is followed) and
/// returns the verification token to mail to it. Earlier unused
/// verification links stop working.
pub async fn set_email(db: &Db, user: UserId, email: &str, now: DateTime<Utc>) -> StoreResult<String> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("UPDATE real_users SET recovery_email = $2, recovery_email_verified_at = NULL, updated_at = $3 WHERE id = $1")
            .bind(user).bind(email).bind(now).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        once::withdraw_in(&mut *tx, &[VERIFY, RESET], &user, now).await?;
        let spec = OneTime { purpose: VERIFY, account: user, detail: Some(email), issued_by: None, ttl: VERIFY_TTL };
        let token = once::issue_in(&mut *tx, &spec, now).await?;
        tx.commit().await?;
        Ok(token)
    })
}

/// Removes the recovery email; its pending links stop working.
pub async fn remove_email(db: &Db, user: UserId, now: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        sqlx::query("UPDATE real_users SET recovery_email = NULL, recovery_email_verified_at = NULL, updated_at = $2 WHERE id = $1")
            .bind(user).bind(now).execute(&mut *tx).await?;
        once::withdraw_in(&mut *tx, &[VERIFY, RESET], &user, now).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Uses a token of `purpose` in the caller's transaction: the user and
/// the address it went to, or `NotFound` for an unknown, used or expired
/// link.
macro_rules! use_token {
    ($tx:expr, $token:expr, $purpose:expr, $now:expr) => {{
        let used = once::redeem_in::<_, UserId>(&mut *$tx, $token, &[$purpose], $now).await?.ok_or(StoreError::NotFound)?;
        (used.account, used.detail.unwrap_or_default())
    }};
}

/// Follows a verification link: the address it was sent to becomes the
/// verified recovery email (if it is still the one set). `NotFound` for an
/// unknown, used or expired link.
pub async fn verify_email(db: &Db, token: &str, now: DateTime<Utc>) -> StoreResult<UserId> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let (user, email) = use_token!(tx, token, VERIFY, now);
        let n = sqlx::query("UPDATE real_users SET recovery_email_verified_at = $3 WHERE id = $1 AND recovery_email = $2")
            .bind(user).bind(&email).bind(now).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(user)
    })
}

/// An account a reset link may be sent for: active, with a verified
/// recovery email.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResetTarget {
    pub user_id: UserId,
    pub username: String,
    pub email: String,
}

/// The accounts whose username, or whose verified recovery email, is
/// `login` (case-insensitive for the email).
pub async fn targets(db: &Db, login: &str) -> StoreResult<Vec<ResetTarget>> {
    let sql = "SELECT id AS user_id, username, recovery_email AS email FROM real_users
               WHERE (username = $1 OR lower(recovery_email) = lower($1))
                 AND recovery_email IS NOT NULL AND recovery_email_verified_at IS NOT NULL AND is_active AND deleted_at IS NULL
               ORDER BY username LIMIT 10";
    Ok(on_pool!(db, p => sqlx::query_as::<_, ResetTarget>(sql).bind(login.trim()).fetch_all(p).await?))
}

/// Issues a reset link for `target` unless [`RESETS_PER_HOUR`] were
/// already issued in the last hour (then `None`). Earlier unused reset
/// links stop working.
pub async fn issue_reset(db: &Db, target: &ResetTarget, now: DateTime<Utc>) -> StoreResult<Option<String>> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        // Serialises concurrent requests for one account on its row.
        sqlx::query("UPDATE real_users SET updated_at = updated_at WHERE id = $1").bind(target.user_id).execute(&mut *tx).await?;
        let recent = once::issued_since_in(&mut *tx, RESET, &target.user_id, now - Duration::hours(1)).await?;
        if recent >= RESETS_PER_HOUR {
            return Ok(None);
        }
        once::withdraw_in(&mut *tx, &[RESET], &target.user_id, now).await?;
        let spec = OneTime { purpose: RESET, account: target.user_id, detail: Some(&target.email), issued_by: None, ttl: RESET_TTL };
        let token = once::issue_in(&mut *tx, &spec, now).await?;
        tx.commit().await?;
        Ok(Some(token))
    })
}

/// Whether a reset link still works (to show its form or say it expired).
pub async fn reset_usable(db: &Db, token: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    once::usable(db, token, RESET, now).await
}

/// Follows a reset link: the password becomes `hash` and every session of
/// the account is signed out, with the link used up, in one transaction.
/// `NotFound` for an unknown, used or expired link.
pub async fn reset_password(db: &Db, token: &str, hash: &str, now: DateTime<Utc>) -> StoreResult<AccountId> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let (user, _) = use_token!(tx, token, RESET, now);
        let account: AccountId = sqlx::query_scalar("SELECT account_id FROM real_users WHERE id = $1 AND is_active AND deleted_at IS NULL")
            .bind(user).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
        sqlx::query("UPDATE accounts SET password_hash = $2 WHERE id = $1").bind(account).bind(hash).execute(&mut *tx).await?;
        sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL").bind(account).bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(account)
    })
}
