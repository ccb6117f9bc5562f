//! Accounts: sign-up by phone or email, sign-in lookups, profiles, public
//! numbers, search, blocking, sign-out everywhere and password resets.
//! Sessions and refresh tokens are platform-accounts' ([`SESSIONS`]).

use crate::{conflict_on, on_pool, refused, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use platform_accounts::once::{self, OneTime};
use platform_accounts::{ActiveAccounts, SessionStore};
use rooms_domain::account::{AccountStatus, AdultBirthDate, Country, FullName, Gender, Handle, Login, PlatformRole, ResetChannel};
use rooms_domain::ids::AccountId;
use rooms_domain::limits;
use serde::Serialize;
use std::sync::LazyLock;

/// Rooms' sessions: platform-accounts' `sessions` table, each live only while
/// its account is active.
pub static SESSIONS: LazyLock<SessionStore> =
    LazyLock::new(|| SessionStore::new().for_active(ActiveAccounts::new("accounts", "id", "is_active")));

/// Where refresh tokens check that their account may still sign in.
pub fn active_accounts() -> ActiveAccounts {
    ActiveAccounts::new("accounts", "id", "is_active")
}

/// A new account's parsed input.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub login: Login,
    pub handle: Handle,
    pub full_name: FullName,
    pub birth_date: AdultBirthDate,
    pub country: Country,
    pub gender: Gender,
}

/// An account as its owner and staff see it. Others see [`PublicProfile`].
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Account {
    pub id: AccountId,
    pub public_number: i64,
    pub handle: String,
    pub full_name: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub birth_date: Option<String>,
    pub country: Option<String>,
    pub gender: Gender,
    pub bio: String,
    pub avatar_url: Option<String>,
    pub role: PlatformRole,
    pub status: AccountStatus,
    pub status_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Made through a sign-in provider and still without the handle, birth
    /// date and country of 1.1; other features wait until they are given.
    pub needs_profile: bool,
}

/// What anyone may see of an account: never phone, email, birth date or
/// balances (1.1).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PublicProfile {
    pub id: AccountId,
    pub public_number: i64,
    pub handle: String,
    pub display_name: String,
    pub gender: Gender,
    pub bio: String,
    pub avatar_url: Option<String>,
}

const ACCOUNT_COLS: &str = "id, public_number, handle, full_name, display_name, phone, email, birth_date, country, gender, bio, avatar_url, role, status, status_reason, created_at, needs_profile";
const PUBLIC_COLS: &str = "id, public_number, handle, display_name, gender, bio, avatar_url";

/// Creates an account with a fresh public number. A taken handle, phone or
/// email is refused on its field.
pub async fn create(db: &Db, new: &NewAccount, password_hash: &str, role: PlatformRole, now: DateTime<Utc>) -> StoreResult<Account> {
    let (phone, email) = match &new.login {
        Login::Phone(p) => (Some(p.as_str().to_string()), None),
        Login::Email(e) => (None, Some(e.as_str().to_string())),
    };
    for _ in 0..8 {
        let id = AccountId::new();
        let number = rooms_domain::number::generate(&mut rand::thread_rng());
        let r: StoreResult<()> = async {
            on_pool!(db, p => {
                sqlx::query(
                    "INSERT INTO accounts (id, public_number, handle, full_name, display_name, phone, email, password_hash, birth_date, country, gender, role, created_at)
                     VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(id).bind(number).bind(new.handle.as_str()).bind(new.full_name.as_str()).bind(&phone).bind(&email).bind(password_hash)
                .bind(new.birth_date.date().format("%Y-%m-%d").to_string()).bind(new.country.as_str()).bind(new.gender).bind(role).bind(now)
                .execute(p).await?;
            });
            Ok(())
        }
        .await;
        match r {
            Ok(()) => return by_id(db, id).await?.ok_or(StoreError::NotFound),
            Err(e) if conflict_on(&e, "public_number") => continue,
            Err(e) if conflict_on(&e, "handle") => {
                return Err(StoreError::Refused { field: "handle", message: "That handle is taken".into() })
            }
            Err(e) if conflict_on(&e, "phone") => {
                return Err(StoreError::Refused {
                    field: "phone",
                    message: "An account with this phone number exists; sign in instead".into(),
                })
            }
            Err(e) if conflict_on(&e, "email") => {
                return Err(StoreError::Refused { field: "email", message: "An account with this email exists; sign in instead".into() })
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Rule("could not find a free public number".into()))
}

pub async fn by_id(db: &Db, id: AccountId) -> StoreResult<Option<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Account>(&sql).bind(id).fetch_optional(p).await?))
}

/// The account's row with the instant before which its access tokens are
/// refused ([`credentials_after`]): what a bearer request checks and then
/// uses, in one statement.
pub async fn with_credentials_after(db: &Db, id: AccountId) -> StoreResult<Option<(Account, Option<DateTime<Utc>>)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        account: Account,
        credentials_after: Option<DateTime<Utc>>,
    }
    let sql = format!("SELECT {ACCOUNT_COLS}, credentials_after FROM accounts WHERE id = $1");
    let row = on_pool!(db, p => sqlx::query_as::<_, Row>(&sql).bind(id).fetch_optional(p).await?);
    Ok(row.map(|r| (r.account, r.credentials_after)))
}

/// Where the store's triggers keep the version that moves on every change
/// of what [`with_credentials_after`] gives and on every deletion
/// (migration 1158): each node's cache of bearer credentials reads it.
pub const SIGN_IN_VERSION: &str = "account_sign_in_version";

/// The session's account row, joined onto a session row (aliased `s`) in
/// the session lookup's own statement
/// (`platform_accounts::SessionStore::live_joined` with [`SESSION_JOIN`]
/// and [`session_columns`]).
pub const SESSION_JOIN: &str = "JOIN accounts acct ON acct.id = s.account_id";

/// [`Account`]'s columns qualified by [`SESSION_JOIN`]'s alias, since the
/// session row beside them shares some names.
pub fn session_columns() -> &'static str {
    static COLUMNS: LazyLock<String> =
        LazyLock::new(|| ACCOUNT_COLS.split(',').map(|c| format!("acct.{}", c.trim())).collect::<Vec<_>>().join(", "));
    &COLUMNS
}

pub async fn profile(db: &Db, id: AccountId) -> StoreResult<Option<PublicProfile>> {
    let sql = format!("SELECT {PUBLIC_COLS} FROM accounts WHERE id = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, PublicProfile>(&sql).bind(id).fetch_optional(p).await?))
}

pub async fn by_number(db: &Db, number: i64) -> StoreResult<Option<PublicProfile>> {
    let sql = format!("SELECT {PUBLIC_COLS} FROM accounts WHERE public_number = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, PublicProfile>(&sql).bind(number).fetch_optional(p).await?))
}

/// Whether an account with this handle exists.
pub async fn handle_exists(db: &Db, handle: &str) -> StoreResult<bool> {
    let n: i64 = on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE handle = $1").bind(handle).fetch_one(p).await?);
    Ok(n > 0)
}

/// Whether a handle is free (the live check of 1.1).
pub async fn handle_free(db: &Db, handle: &Handle) -> StoreResult<bool> {
    let n: i64 =
        on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE handle = $1").bind(handle.as_str()).fetch_one(p).await?);
    Ok(n == 0)
}

/// `%` and `_` in a LIKE pattern taken literally.
pub(crate) fn like_prefix(q: &str) -> String {
    let escaped: String = q.chars().flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] }).collect();
    format!("{escaped}%")
}

/// Users by public number (all digits) or by the start of their display
/// name or handle, ignoring case; active accounts only.
pub async fn search(db: &Db, query: &str, limit: i64) -> StoreResult<Vec<PublicProfile>> {
    let q = query.trim();
    if q.is_empty() {
        return Ok(vec![]);
    }
    if q.chars().all(|c| c.is_ascii_digit()) && q.len() <= 12 {
        let n: i64 = q.parse().unwrap_or(-1);
        return Ok(by_number(db, n).await?.into_iter().collect());
    }
    let pattern = like_prefix(&q.to_lowercase());
    let sql = format!(
        "SELECT {PUBLIC_COLS} FROM accounts WHERE status = 'active' AND (lower(display_name) LIKE $1 ESCAPE '\\' OR handle LIKE $1 ESCAPE '\\')
         ORDER BY display_name, public_number LIMIT $2"
    );
    Ok(on_pool!(db, p => sqlx::query_as::<_, PublicProfile>(&sql).bind(&pattern).bind(limit).fetch_all(p).await?))
}

/// Accounts for staff, in any status: by public number, handle, name, phone or email prefix.
pub async fn search_all(db: &Db, query: &str, limit: i64) -> StoreResult<Vec<Account>> {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return Ok(vec![]);
    }
    let number: i64 = q.parse().unwrap_or(-1);
    let pattern = like_prefix(&q);
    let sql = format!(
        "SELECT {ACCOUNT_COLS} FROM accounts WHERE public_number = $1 OR handle LIKE $2 ESCAPE '\\' OR lower(display_name) LIKE $2 ESCAPE '\\'
         OR phone LIKE $2 ESCAPE '\\' OR email LIKE $2 ESCAPE '\\' ORDER BY created_at DESC LIMIT $3"
    );
    Ok(on_pool!(db, p => sqlx::query_as::<_, Account>(&sql).bind(number).bind(&pattern).bind(limit).fetch_all(p).await?))
}

/// What sign-in needs about a login.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginRecord {
    pub id: AccountId,
    pub password_hash: String,
    pub role: PlatformRole,
    pub status: AccountStatus,
    pub status_reason: Option<String>,
}

pub async fn find_login(db: &Db, login: &Login) -> StoreResult<Option<LoginRecord>> {
    let (col, value) = match login {
        Login::Phone(p) => ("phone", p.as_str()),
        Login::Email(e) => ("email", e.as_str()),
    };
    let sql = format!("SELECT id, password_hash, role, status, status_reason FROM accounts WHERE {col} = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, LoginRecord>(&sql).bind(value).fetch_optional(p).await?))
}

pub async fn record_login(db: &Db, id: AccountId, now: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => { sqlx::query("UPDATE accounts SET last_login_at = $2 WHERE id = $1").bind(id).bind(now).execute(p).await?; });
    Ok(())
}

/// Profile changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    pub display_name: Option<FullName>,
    pub bio: Option<rooms_domain::account::Bio>,
    pub gender: Option<Gender>,
    pub avatar_url: Option<String>,
}

pub async fn update_profile(db: &Db, id: AccountId, c: &ProfileChange) -> StoreResult<()> {
    let n = on_pool!(db, p => sqlx::query(
        "UPDATE accounts SET display_name = COALESCE($2, display_name), bio = COALESCE($3, bio), gender = COALESCE($4, gender),
                avatar_url = COALESCE($5, avatar_url) WHERE id = $1")
        .bind(id).bind(c.display_name.as_ref().map(FullName::as_str)).bind(c.bio.as_ref().map(|b| b.as_str()))
        .bind(c.gender).bind(&c.avatar_url).execute(p).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The instant before which access tokens of `id` are refused (set by
/// sign-out everywhere, blocking and password resets).
pub async fn credentials_after(db: &Db, id: AccountId) -> StoreResult<Option<DateTime<Utc>>> {
    let v: Option<Option<DateTime<Utc>>> =
        on_pool!(db, p => sqlx::query_scalar("SELECT credentials_after FROM accounts WHERE id = $1").bind(id).fetch_optional(p).await?);
    Ok(v.flatten())
}

/// Signs the account out everywhere: web sessions and refresh tokens are
/// revoked and access tokens issued until now stop working.
pub async fn revoke_all_credentials(db: &Db, id: AccountId, now: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        revoke_in_tx!(tx, id, now);
        tx.commit().await?;
    });
    Ok(())
}

/// Suspends, bans or reinstates an account (staff); blocking signs it out
/// everywhere and takes it out of every room in the same transaction, and
/// is audit-logged.
pub async fn set_status(
    db: &Db,
    staff: AccountId,
    id: AccountId,
    status: AccountStatus,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("UPDATE accounts SET status = $2, status_reason = $3, is_active = $4 WHERE id = $1")
            .bind(id).bind(status).bind((status != AccountStatus::Active).then_some(reason)).bind(status == AccountStatus::Active)
            .execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        if status != AccountStatus::Active {
            revoke_in_tx!(tx, id, now);
            // Out of every room at once (seat freed, everyone told).
            let rooms: Vec<rooms_domain::ids::RoomId> =
                sqlx::query_scalar("SELECT room_id FROM room_participants WHERE account_id = $1").bind(id).fetch_all(&mut *tx).await?;
            for room in rooms {
                leave_tx!(tx, room, id, "account_blocked", now);
            }
        }
        audit!(tx, Some(staff), format!("account_{status}"), "account", id.to_string(), reason, now);
        let (actor, subject, after) = (staff.to_string(), id.to_string(), serde_json::json!({ "status": status }));
        let action = format!("account.{status}");
        let entry = platform_audit::Record::new("staff", Some(&actor), &action).subject("account", &subject).change(None, Some(&after)).reason(reason);
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Issues a password reset token for the account of `login`. Email links
/// live 15 minutes, replace the account's earlier unused links and are
/// issued at most [`limits::RESET_MAILS_PER_HOUR`] times an hour; staff-issued
/// tokens live 24 hours and are audit-logged. `None` when no such account
/// exists or its hourly mails are spent (callers answer the same either way).
pub async fn issue_reset(
    db: &Db,
    login: &Login,
    channel: ResetChannel,
    staff: Option<AccountId>,
    now: DateTime<Utc>,
) -> StoreResult<Option<(AccountId, String)>> {
    let Some(acct) = find_login(db, login).await? else { return Ok(None) };
    let purpose = reset_purpose(channel);
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        if channel == ResetChannel::Email {
            // At most a few mails an hour per account; a new link replaces
            // the ones before it.
            let recent = once::issued_since_in(&mut *tx, purpose, &acct.id, now - chrono::Duration::hours(1)).await?;
            if recent >= limits::RESET_MAILS_PER_HOUR {
                return Ok(None);
            }
            once::withdraw_in(&mut *tx, &[purpose], &acct.id, now).await?;
        }
        let spec = OneTime { purpose, account: acct.id, detail: None, issued_by: staff, ttl: limits::chrono(channel.lifetime()) };
        let token = once::issue_in(&mut *tx, &spec, now).await?;
        if channel == ResetChannel::Staff {
            audit!(tx, staff, "reset_token_issued", "account", acct.id.to_string(), "", now);
        }
        tx.commit().await?;
        Ok(Some((acct.id, token)))
    })
}

/// What a reset token of each channel is called among the platform's
/// single-use tokens.
fn reset_purpose(channel: ResetChannel) -> &'static str {
    match channel {
        ResetChannel::Email => "reset_email",
        ResetChannel::Staff => "reset_staff",
    }
}

/// Spends a reset token and sets the new password: the token must be
/// unexpired and unused, and of two simultaneous uses exactly one wins.
/// A reset signs the account out everywhere. `None`: the token does not
/// work (unknown, used or expired; one answer for all).
pub async fn redeem_reset(db: &Db, token: &str, new_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<AccountId>> {
    let purposes = [reset_purpose(ResetChannel::Email), reset_purpose(ResetChannel::Staff)];
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let used = once::redeem_in::<_, AccountId>(&mut *tx, token, &purposes, now).await?;
        let Some(id) = used.map(|u| u.account) else { return Ok(None) };
        sqlx::query("UPDATE accounts SET password_hash = $2 WHERE id = $1").bind(id).bind(new_hash).execute(&mut *tx).await?;
        revoke_in_tx!(tx, id, now);
        audit!(tx, None::<AccountId>, "password_reset", "account", id.to_string(), "", now);
        tx.commit().await?;
        Ok(Some(id))
    })
}

/// Staff accounts (for the admin pages).
pub async fn any_staff(db: &Db) -> StoreResult<bool> {
    let n: i64 =
        on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE role IN ('admin', 'super_admin')").fetch_one(p).await?);
    Ok(n > 0)
}

pub async fn count(db: &Db) -> StoreResult<i64> {
    Ok(on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(p).await?))
}

/// Refuses a login whose account is suspended or banned, with the reason.
pub fn check_status(rec: &LoginRecord) -> StoreResult<()> {
    match rec.status {
        AccountStatus::Active => Ok(()),
        s => {
            let reason = rec.status_reason.clone().unwrap_or_default();
            Err(refused(
                "account_blocked",
                format!("This account is {s}{}", if reason.is_empty() { String::new() } else { format!(": {reason}") }),
            ))
        }
    }
}
