//! Real users as moderators see them: filtered search, activity, bans with
//! circumvention tracking, and GDPR deletion.

use crate::audit::Actor;
use crate::ledger::{applied, CREDITS};
use crate::users::User;
use crate::{emit_operator_event, on_pool, release_operator_slot, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::{AccountId, AdminId, ChatId, OperatorId, RowId, UserId};
use fantooo_domain::ledger::LedgerReason;
use fantooo_domain::Credits;
use serde::Serialize;
use sqlx::types::Json;

/// What the user search narrows by.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub text: Option<String>,
    /// active, banned, inactive (deactivated) or deleted.
    pub status: Option<String>,
    pub tier: Option<String>,
}

/// A page of users matching `f`, newest first, after a (created_at, id) cursor.
pub async fn search(db: &Db, f: &UserFilter, before: Option<(DateTime<Utc>, UserId)>, limit: i64) -> StoreResult<Vec<User>> {
    let pattern = f.text.as_deref().filter(|s| !s.trim().is_empty()).map(crate::profiles::contains_pattern);
    let status = f.status.as_deref().filter(|s| !s.is_empty());
    let tier = f.tier.as_deref().filter(|s| !s.is_empty());
    let columns = crate::users::USER_COLUMNS;
    let sql = &format!(
        "SELECT {columns}
               FROM real_users
               WHERE ($1 IS NULL OR LOWER(username) LIKE $1 ESCAPE '\\' OR LOWER(display_name) LIKE $1 ESCAPE '\\'
                      OR LOWER(email) LIKE $1 ESCAPE '\\' OR LOWER(location) LIKE $1 ESCAPE '\\')
                 AND (CASE WHEN $2 IS NULL THEN deleted_at IS NULL
                           WHEN $2 = 'deleted' THEN deleted_at IS NOT NULL
                           WHEN $2 = 'banned' THEN deleted_at IS NULL AND is_banned
                           WHEN $2 = 'inactive' THEN deleted_at IS NULL AND NOT is_active
                           ELSE deleted_at IS NULL AND is_active AND NOT is_banned END)
                 AND ($3 IS NULL OR user_tier = $3)
                 AND ($4 IS NULL OR created_at < $4 OR (created_at = $4 AND id < $5))
               ORDER BY created_at DESC, id DESC LIMIT $6"
    );
    let (at, id) = before.map(|(a, i)| (Some(a), Some(i))).unwrap_or((None, None));
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, User>(sql).bind(&pattern).bind(status).bind(tier).bind(at).bind(id).bind(limit).fetch_all(p).await?),
    )
}

/// A user row even after deletion (the detail page shows the tombstone).
pub async fn by_id_any(db: &Db, id: UserId) -> StoreResult<(User, Option<DateTime<Utc>>)> {
    let user = crate::users::by_id(db, id).await?;
    let deleted: Option<DateTime<Utc>> =
        on_pool!(db, p => sqlx::query_scalar("SELECT deleted_at FROM real_users WHERE id = $1").bind(id).fetch_one(p).await?);
    Ok((user, deleted))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Activity {
    pub activity_type: String,
    pub ip_address: Option<String>,
    pub device_fingerprint: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Records a sign-in or sign-up with where it came from; these traces are
/// what a ban later blocks.
pub async fn record_activity(
    db: &Db,
    user: UserId,
    kind: &str,
    ip: Option<&str>,
    device: Option<&str>,
    user_agent: Option<&str>,
) -> StoreResult<()> {
    let sql = "INSERT INTO user_activity_log (id, user_id, activity_type, ip_address, device_fingerprint, user_agent, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    on_pool!(db, p => {
        sqlx::query(sql).bind(RowId::new()).bind(user).bind(kind).bind(ip).bind(device).bind(user_agent).bind(Utc::now()).execute(p).await?;
    });
    Ok(())
}

pub async fn activity(db: &Db, user: UserId, limit: i64) -> StoreResult<Vec<Activity>> {
    let sql = "SELECT activity_type, ip_address, device_fingerprint, user_agent, created_at FROM user_activity_log WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2";
    Ok(on_pool!(db, p => sqlx::query_as::<_, Activity>(sql).bind(user).bind(limit).fetch_all(p).await?))
}

/// One ban and what it tracks.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Ban {
    pub id: RowId,
    pub ban_reason: String,
    pub banned_until: Option<DateTime<Utc>>,
    pub is_permanent: bool,
    pub ip_addresses: Json<Vec<String>>,
    pub device_fingerprints: Json<Vec<String>>,
    pub circumvention_attempts: i64,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub lifted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub async fn bans(db: &Db, user: UserId) -> StoreResult<Vec<Ban>> {
    let sql = "SELECT id, ban_reason, banned_until, is_permanent, ip_addresses, device_fingerprints, circumvention_attempts, last_attempt_at, lifted_at, created_at
               FROM banned_users_tracking WHERE user_id = $1 ORDER BY created_at DESC";
    Ok(on_pool!(db, p => sqlx::query_as::<_, Ban>(sql).bind(user).fetch_all(p).await?))
}

/// The ban itself, inside the caller's transaction (see `ban`).
macro_rules! ban_in_tx {
    ($tx:expr, $user:expr, $reason:expr, $until:expr, $by:expr, $now:expr) => {{
        let (user, reason, until, by, now) = ($user, $reason, $until, $by, $now);
        let account: Option<fantooo_domain::ids::AccountId> = sqlx::query_scalar(
            "UPDATE real_users SET is_banned = TRUE, ban_reason = $2, banned_until = $3, updated_at = $4 WHERE id = $1 AND deleted_at IS NULL RETURNING account_id")
            .bind(user).bind(reason).bind(until).bind(now).fetch_optional(&mut *$tx).await?;
        let Some(account) = account else { return Err($crate::StoreError::NotFound) };
        let mut ips: Vec<String> = sqlx::query_scalar("SELECT DISTINCT ip_address FROM user_activity_log WHERE user_id = $1 AND ip_address IS NOT NULL")
            .bind(user).fetch_all(&mut *$tx).await?;
        let session_ips: Vec<String> = sqlx::query_scalar("SELECT DISTINCT ip FROM sessions WHERE account_id = $1 AND ip IS NOT NULL")
            .bind(account).fetch_all(&mut *$tx).await?;
        ips.extend(session_ips);
        ips.sort();
        ips.dedup();
        let devices: Vec<String> = sqlx::query_scalar("SELECT DISTINCT device_fingerprint FROM user_activity_log WHERE user_id = $1 AND device_fingerprint IS NOT NULL")
            .bind(user).fetch_all(&mut *$tx).await?;
        sqlx::query("INSERT INTO banned_users_tracking (id, user_id, ban_reason, banned_by, banned_until, is_permanent, ip_addresses, device_fingerprints, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(fantooo_domain::ids::RowId::new()).bind(user).bind(reason).bind(by).bind(until).bind(until.is_none()).bind(sqlx::types::Json(&ips)).bind(sqlx::types::Json(&devices)).bind(now)
            .execute(&mut *$tx).await?;
        sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL").bind(account).bind(now).execute(&mut *$tx).await?;
    }};
}
pub(crate) use ban_in_tx;

/// Bans a user (permanently when `until` is None, otherwise a suspension):
/// their sessions end, and every address and device they used is recorded
/// so a new account from them can be refused.
pub async fn ban(db: &Db, user: UserId, reason: &str, until: Option<DateTime<Utc>>, by: AdminId) -> StoreResult<()> {
    let now = Utc::now();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        ban_in_tx!(tx, user, reason, until, by, now);
        tx.commit().await?;
    });
    Ok(())
}

/// Lifts a ban; the user's traces stop blocking others.
pub async fn unban(db: &Db, user: UserId) -> StoreResult<()> {
    let now = Utc::now();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("UPDATE real_users SET is_banned = FALSE, ban_reason = NULL, banned_until = NULL, updated_at = $2 WHERE id = $1 AND deleted_at IS NULL")
            .bind(user).bind(now).execute(&mut *tx).await?.rows_affected();
        if n == 0 { return Err(StoreError::NotFound) }
        sqlx::query("UPDATE banned_users_tracking SET lifted_at = $2 WHERE user_id = $1 AND lifted_at IS NULL").bind(user).bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// `%"value"%`: matches one element of a JSON array of strings stored as
/// text on SQLite or jsonb on PostgreSQL (both render `"value"`).
fn json_element_pattern(value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%\"{escaped}\"%")
}

/// Whether a registration or sign-in from `ip` / `device` matches a ban in
/// force. A match is counted on the ban, logged as a security event and
/// raised to admins; the caller refuses the attempt (`blocked`) or flags
/// the new account for review. Returns the banned
/// user it matched.
pub async fn check_circumvention(
    db: &Db,
    ip: Option<&str>,
    device: Option<&str>,
    context: &str,
    blocked: bool,
    now: DateTime<Utc>,
) -> StoreResult<Option<UserId>> {
    let ip = ip.filter(|s| !s.is_empty() && *s != "unknown");
    let device = device.filter(|s| !s.is_empty());
    if ip.is_none() && device.is_none() {
        return Ok(None);
    }
    let ip_pattern = ip.map(json_element_pattern);
    let device_pattern = device.map(json_element_pattern);
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let hit: Option<(RowId, UserId)> = sqlx::query_as(
            "SELECT id, user_id FROM banned_users_tracking
             WHERE lifted_at IS NULL AND (banned_until IS NULL OR banned_until > $3)
               AND (($1 IS NOT NULL AND CAST(ip_addresses AS TEXT) LIKE $1 ESCAPE '\\')
                 OR ($2 IS NOT NULL AND CAST(device_fingerprints AS TEXT) LIKE $2 ESCAPE '\\'))
             ORDER BY created_at DESC LIMIT 1")
            .bind(&ip_pattern).bind(&device_pattern).bind(now).fetch_optional(&mut *tx).await?;
        let Some((ban, user)) = hit else { return Ok(None) };
        sqlx::query("UPDATE banned_users_tracking SET circumvention_attempts = circumvention_attempts + 1, last_attempt_at = $2 WHERE id = $1")
            .bind(ban).bind(now).execute(&mut *tx).await?;
        let detail = serde_json::json!({ "context": context, "banned_user_id": user, "device": device }).to_string();
        sqlx::query("INSERT INTO security_events (kind, detail, ip_address, created_at) VALUES ('ban_circumvention', $1, $2, $3)")
            .bind(&detail).bind(ip).bind(now).execute(&mut *tx).await?;
        let metadata = serde_json::json!({ "banned_user_id": user, "context": context, "ip": ip });
        let message = if blocked {
            format!("Blocked a {context} matching a banned user's address or device")
        } else {
            format!("Flagged a {context} for review: it matches a banned user's address or device")
        };
        crate::notify_admins!(tx, "security_alert", message, metadata, now);
        tx.commit().await?;
        Ok(Some(user))
    })
}

/// What a GDPR deletion did.
#[derive(Debug, Clone, Serialize)]
pub struct Deletion {
    pub messages_anonymised: u64,
    pub chats_closed: u64,
    pub unused_credits: i64,
    pub refund_amount_cents: i64,
}

/// KES owed per unused credit on account deletion (spec: 10 KES).
pub const REFUND_CENTS_PER_CREDIT: i64 = 10 * 100;

pub const ANONYMISED_MESSAGE: &str = "[Message from deleted user]";

/// What an anonymised audit value shows in place of the user's words.
pub const ANONYMISED_VALUE: &str = "[deleted]";

/// Keys of audit before/after values that hold free text about or by a
/// user (their message text, identity, notes about them).
const PERSONAL_AUDIT_KEYS: &[&str] = &["content", "username", "email", "display_name", "bio", "location", "note", "notes", "admin_notes"];

/// Replaces the personal parts of one audit value: every string under a
/// personal key, and any string equal to one of `personal` wherever it
/// sits. Returns whether anything changed.
fn anonymise_value(v: &mut serde_json::Value, personal: &[String]) -> bool {
    use serde_json::Value;
    let is_personal = |s: &str| personal.iter().any(|p| !p.is_empty() && p.eq_ignore_ascii_case(s));
    match v {
        Value::String(s) if is_personal(s) => {
            *s = ANONYMISED_VALUE.into();
            true
        }
        Value::Object(map) => {
            let mut changed = false;
            for (k, x) in map.iter_mut() {
                if PERSONAL_AUDIT_KEYS.contains(&k.as_str()) && matches!(x, Value::String(s) if !s.is_empty() && s != ANONYMISED_VALUE) {
                    *x = Value::String(ANONYMISED_VALUE.into());
                    changed = true;
                } else {
                    changed |= anonymise_value(x, personal);
                }
            }
            changed
        }
        Value::Array(items) => items.iter_mut().fold(false, |c, x| anonymise_value(x, personal) | c),
        _ => false,
    }
}

/// Deletes a user for good, in one transaction: their messages are
/// anonymised with every earlier version of them (edit history, audited
/// edits), the audit log's values about them lose their personal data,
/// open chats are closed (operators freed), the account archived to
/// deleted_users with the unused-credit refund recorded as pending (the
/// credits leave the balance through the ledger), identity fields replaced,
/// the login disabled, and the deletion itself audited. Irreversible.
/// `by` is the admin who deleted the account, or None when users deleted
/// their own (`by_account` is then theirs).
pub async fn gdpr_delete(
    db: &Db,
    user: UserId,
    reason: &str,
    by: Option<AdminId>,
    by_account: AccountId,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<Deletion> {
    #[derive(sqlx::FromRow)]
    struct Doomed {
        account_id: AccountId,
        username: String,
        display_name: String,
        email: String,
        credits: i64,
        total_spent_cents: i64,
        total_messages_sent: i64,
        created_at: DateTime<Utc>,
    }
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let u: Option<Doomed> = sqlx::query_as(
            "UPDATE real_users SET updated_at = $2 WHERE id = $1 AND deleted_at IS NULL
             RETURNING account_id, username, display_name, email, credits, total_spent_cents, total_messages_sent, created_at")
            .bind(user).bind(now).fetch_optional(&mut *tx).await?;
        let Some(u) = u else { return Err(StoreError::NotFound) };
        // Every copy of the user's words goes with them: earlier versions
        // kept by edits, and audited before/after values.
        sqlx::query(
            "UPDATE message_edit_history SET original_content = '[Deleted]', new_content = $2
             WHERE message_id IN (SELECT m.id FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.real_user_id = $1 AND m.sender_type = 'real')")
            .bind(user).bind(ANONYMISED_MESSAGE).execute(&mut *tx).await?;
        let mut personal: Vec<String> = sqlx::query_scalar(
            "SELECT m.content FROM messages m JOIN chats c ON c.id = m.chat_id
             WHERE c.real_user_id = $1 AND m.sender_type = 'real' AND m.content <> ''
             UNION SELECT COALESCE(m.original_content, '') FROM messages m JOIN chats c ON c.id = m.chat_id
             WHERE c.real_user_id = $1 AND m.sender_type = 'real'")
            .bind(user).fetch_all(&mut *tx).await?;
        personal.extend([u.username.clone(), u.email.clone(), u.display_name.clone()]);
        let chats: Vec<String> = sqlx::query_scalar("SELECT CAST(id AS TEXT) FROM chats WHERE real_user_id = $1")
            .bind(user).fetch_all(&mut *tx).await?;
        let messages: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(m.id AS TEXT) FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.real_user_id = $1 AND m.sender_type = 'real'")
            .bind(user).fetch_all(&mut *tx).await?;
        for (kind, ids) in [("user", vec![user.to_string()]), ("chat", chats), ("message", messages)] {
            platform_audit::scrub_in(&mut *tx, kind, &ids, |v| anonymise_value(v, &personal)).await?;
        }
        let messages_anonymised = sqlx::query(
            "UPDATE messages SET content = $2, original_content = '[Deleted]', media_url = NULL, updated_at = $3
             WHERE sender_type = 'real' AND chat_id IN (SELECT id FROM chats WHERE real_user_id = $1)")
            .bind(user).bind(ANONYMISED_MESSAGE).bind(now).execute(&mut *tx).await?.rows_affected();
        let open: Vec<(ChatId, Option<OperatorId>)> = sqlx::query_as(
            "SELECT id, assigned_operator_id FROM chats WHERE real_user_id = $1 AND status IN ('active', 'idle', 'escalated')")
            .bind(user).fetch_all(&mut *tx).await?;
        for (chat, op) in &open {
            sqlx::query("UPDATE chats SET status = 'closed', close_reason = 'user_deleted', closed_at = $2, assigned_operator_id = NULL WHERE id = $1")
                .bind(chat).bind(now).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM chat_queue WHERE chat_id = $1").bind(chat).execute(&mut *tx).await?;
            if let Some(op) = op {
                release_operator_slot!(tx, op);
                emit_operator_event!(tx, Some(*op), crate::events::EventBody::TakenAway { chat_id: *chat, reason: "user_deleted".into() }, now);
            }
        }
        let refund_amount_cents = u.credits * REFUND_CENTS_PER_CREDIT;
        if u.credits > 0 {
            let key = format!("gdpr-refund:{user}");
            let m = crate::ledger::Movement {
                user, delta: Credits(-u.credits), reason: LedgerReason::Refund, reference: Some("account_deletion"),
                idempotency_key: &key, created_by: Some(by_account),
            };
            applied(CREDITS.post_in(&mut *tx, &m.posting(), now).await?)?;
            sqlx::query("INSERT INTO credit_refunds (id, user_id, amount, reason, processed_by, notes, status, created_at)
                         VALUES ($1, $2, $3, 'account_deletion', $4, $5, 'pending', $6)")
                .bind(RowId::new()).bind(user).bind(u.credits).bind(by)
                .bind(format!("Refund for {} unused credits (KES {})", u.credits, refund_amount_cents / 100)).bind(now)
                .execute(&mut *tx).await?;
        }
        sqlx::query("INSERT INTO deleted_users (id, original_user_id, username, email, deletion_reason, deletion_requested_at, deletion_completed_at,
                       total_spent_cents, total_messages_sent, account_age_days, unused_credits, refund_amount_cents, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $6)")
            .bind(RowId::new()).bind(user).bind(&u.username).bind(&u.email).bind(reason).bind(now)
            .bind(u.total_spent_cents).bind(u.total_messages_sent).bind((now - u.created_at).num_days()).bind(u.credits).bind(refund_amount_cents)
            .execute(&mut *tx).await?;
        let tombstone = format!("deleted_{}", user.0.simple());
        sqlx::query("UPDATE real_users SET deleted_at = $2, is_active = FALSE, username = $3, display_name = 'Deleted user', email = $4,
                            bio = NULL, profile_picture = NULL, profile_pictures = '[]', latitude = NULL, longitude = NULL,
                            recovery_email = NULL, recovery_email_verified_at = NULL
                     WHERE id = $1")
            .bind(user).bind(now).bind(&tombstone).bind(format!("{tombstone}@deleted.invalid")).execute(&mut *tx).await?;
        // Recovery links carry the address they went to; reports the user's words.
        platform_accounts::once::forget_in(&mut *tx, &user).await?;
        sqlx::query("UPDATE profile_reports SET details = NULL WHERE user_id = $1").bind(user).execute(&mut *tx).await?;
        // The login goes: a new password hash nobody knows, a login nobody
        // can type, and no live session.
        sqlx::query("UPDATE accounts SET is_active = FALSE, login = $2, password_hash = '!' WHERE id = $1")
            .bind(u.account_id).bind(&tombstone).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(u.account_id).execute(&mut *tx).await?;
        sqlx::query("UPDATE user_activity_log SET ip_address = NULL, user_agent = NULL, device_fingerprint = NULL WHERE user_id = $1")
            .bind(user).execute(&mut *tx).await?;
        let done = Deletion { messages_anonymised, chats_closed: open.len() as u64, unused_credits: u.credits, refund_amount_cents };
        let (before, after) = (serde_json::json!({ "credits": u.credits }), serde_json::to_value(&done).unwrap_or_default());
        platform_audit::record_in(&mut *tx, &Actor::of(by).record("user_deleted").subject("user", &user.to_string()).change(Some(&before), Some(&after)).ip(ip), now).await?;
        tx.commit().await?;
        Ok(done)
    })
}

/// The archived record of a deleted user.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeletedUser {
    pub original_user_id: UserId,
    pub username: Option<String>,
    pub deletion_reason: Option<String>,
    pub deletion_completed_at: DateTime<Utc>,
    pub unused_credits: Option<i64>,
    pub refund_amount_cents: Option<i64>,
    pub refund_processed: bool,
}

pub async fn deletion_record(db: &Db, user: UserId) -> StoreResult<Option<DeletedUser>> {
    let sql =
        "SELECT original_user_id, username, deletion_reason, deletion_completed_at, unused_credits, refund_amount_cents, refund_processed
               FROM deleted_users WHERE original_user_id = $1";
    Ok(on_pool!(db, p => sqlx::query_as::<_, DeletedUser>(sql).bind(user).fetch_optional(p).await?))
}
