//! Real users: registration (with age and location compliance logs), lookup
//! and the admin listing.

use crate::{insert_account, on_pool, BeginWrite, Db, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::{AccountId, OperatorId, UserId};
use fantooo_domain::{AccountKind, Credits, Gender, LookingFor, UserTier};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: UserId,
    pub account_id: AccountId,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub age: i64,
    pub gender: Gender,
    pub looking_for: LookingFor,
    pub location: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub bio: Option<String>,
    pub credits: Credits,
    pub total_spent_cents: i64,
    pub user_tier: UserTier,
    pub is_active: bool,
    pub is_banned: bool,
    pub ban_reason: Option<String>,
    pub banned_until: Option<DateTime<Utc>>,
    pub last_active_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The user's own photo (a media URL), shown to the profiles they chat with.
    pub profile_picture: Option<String>,
    /// Where password-reset links go, once verified; never shown to others.
    pub recovery_email: Option<String>,
    pub recovery_email_verified_at: Option<DateTime<Utc>>,
    /// `{"email": …, "push": …, "sound": …}`.
    pub notification_preferences: sqlx::types::Json<serde_json::Value>,
    /// Replies not read yet, over all the user's chats.
    pub unread_replies: i64,
}

impl User {
    /// Whether a reply plays a sound (off unless the user turned it on).
    pub fn sound_on(&self) -> bool {
        self.notification_preferences.0.get("sound").and_then(serde_json::Value::as_bool).unwrap_or(false)
    }
    /// The recovery email, once its link was followed.
    pub fn verified_recovery_email(&self) -> Option<&str> {
        self.recovery_email.as_deref().filter(|_| self.recovery_email_verified_at.is_some())
    }

    /// Whether this user's ban or suspension is in force at `now`.
    pub fn banned_at(&self, now: DateTime<Utc>) -> bool {
        fantooo_domain::account::ban_in_force(self.is_banned, self.banned_until, now)
    }
}

/// A user row's own columns, unqualified.
macro_rules! user_row_columns {
    () => {
        "id, account_id, username, display_name, email, age, gender, looking_for, location, latitude, longitude, bio, credits, total_spent_cents, user_tier, is_active, is_banned, ban_reason, banned_until, last_active_at, created_at, profile_picture, recovery_email, recovery_email_verified_at, notification_preferences"
    };
}

/// The unread count over the user's chats (of the row `real_users`).
macro_rules! unread_replies {
    () => {
        "(SELECT CAST(COALESCE(SUM(c.user_unread), 0) AS BIGINT) FROM chats c WHERE c.real_user_id = real_users.id) AS unread_replies"
    };
}

pub(crate) const USER_COLUMNS: &str = concat!(user_row_columns!(), ", ", unread_replies!());

/// Who a session's account is, fetched in the session lookup's own
/// statement (`platform_accounts::SessionStore::live_joined` with
/// [`SESSION_JOIN`] and [`session_columns`]): a user's identity, or an
/// operator's id and name (what a chat request needs of them); none for
/// admins, or when the row is gone. Only what identifies the asker and
/// decides whether they may act, so a node may keep it for the session's
/// life (the `sign_in_version` triggers move when any of it changes);
/// never a balance or a count, which handlers read fresh.
pub struct SessionUser(pub Option<SignedUser>, pub Option<SessionOperator>);

/// A user as their session knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUser {
    pub id: UserId,
    pub display_name: String,
    pub is_banned: bool,
    pub banned_until: Option<DateTime<Utc>>,
}

impl SignedUser {
    /// Whether this user's ban or suspension is in force at `now`.
    pub fn banned_at(&self, now: DateTime<Utc>) -> bool {
        fantooo_domain::account::ban_in_force(self.is_banned, self.banned_until, now)
    }
}

/// An operator's id and name, read with their session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOperator {
    pub id: OperatorId,
    pub name: String,
}

/// The user row, or the operator row, joined onto a session row (aliased
/// `s`). A deleted operator is no operator, as in `operators::by_account`.
pub const SESSION_JOIN: &str = "LEFT JOIN real_users ON s.kind = 'user' AND real_users.account_id = s.account_id
    LEFT JOIN operators ON s.kind = 'operator' AND operators.account_id = s.account_id AND operators.deleted_at IS NULL";

/// What [`SessionUser`] reads, renamed since the session and account rows
/// beside it share some column names.
pub fn session_columns() -> &'static str {
    "real_users.id AS session_user_id, real_users.display_name AS session_user_name, real_users.is_banned AS session_user_banned,
     real_users.banned_until AS session_user_banned_until, operators.id AS session_operator_id, operators.name AS session_operator_name"
}

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for SessionUser
where
    Option<UserId>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<OperatorId>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<DateTime<Utc>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    &'r str: sqlx::ColumnIndex<R>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        let id: Option<UserId> = row.try_get("session_user_id")?;
        let user = match id {
            Some(id) => {
                let display_name: Option<String> = row.try_get("session_user_name")?;
                let is_banned: Option<bool> = row.try_get("session_user_banned")?;
                Some(SignedUser {
                    id,
                    display_name: display_name.unwrap_or_default(),
                    is_banned: is_banned.unwrap_or(false),
                    banned_until: row.try_get("session_user_banned_until")?,
                })
            }
            None => None,
        };
        let operator_id: Option<OperatorId> = row.try_get("session_operator_id")?;
        let operator_name: Option<String> = row.try_get("session_operator_name")?;
        let operator = operator_id.zip(operator_name).map(|(id, name)| SessionOperator { id, name });
        Ok(SessionUser(user, operator))
    }
}

/// A validated registration.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub age: i64,
    pub gender: Gender,
    pub looking_for: LookingFor,
    pub location: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The gazetteer's canonical spelling when it differs from the input.
    pub corrected_location: Option<String>,
    pub geocoding_service: String,
    pub ip: Option<String>,
    /// The user accepted the Terms of Service and Privacy Policy now.
    pub accepted_terms: bool,
    /// The sign-up matched a ban and is flagged for review (see `reviews`).
    pub review: Option<ReviewFlag>,
}

/// The ban a flagged sign-up matched, and from where it came.
#[derive(Debug, Clone)]
pub struct ReviewFlag {
    pub banned_user_id: UserId,
    pub ip: Option<String>,
    pub device: Option<String>,
}

/// Creates the account, the profile and both compliance log rows atomically.
pub async fn create(db: &Db, new: &NewUser, password_hash: &str) -> StoreResult<User> {
    let now = Utc::now();
    let account = AccountId::new();
    let id = UserId::new();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        insert_account!(tx, account, AccountKind::User, &new.username, password_hash, now);
        sqlx::query("INSERT INTO real_users (id, account_id, username, display_name, email, age, gender, looking_for, location, latitude, longitude, last_active_at, created_at, updated_at, terms_accepted_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12, $13)")
            .bind(id).bind(account).bind(&new.username).bind(&new.display_name).bind(&new.email).bind(new.age)
            .bind(new.gender).bind(new.looking_for).bind(&new.location).bind(new.latitude).bind(new.longitude).bind(now)
            .bind(new.accepted_terms.then_some(now))
            .execute(&mut *tx).await?;
        sqlx::query("INSERT INTO age_verification_log (id, user_id, attempted_username, stated_age, verification_method, is_compliant, ip_address, created_at)
                     VALUES ($1, $2, $3, $4, 'self_declared', TRUE, $5, $6)")
            .bind(Uuid::now_v7()).bind(id).bind(&new.username).bind(new.age).bind(&new.ip).bind(now)
            .execute(&mut *tx).await?;
        sqlx::query("INSERT INTO location_validation_log (id, user_id, location_text, latitude, longitude, is_valid, geocoding_service, corrected_location, created_at)
                     VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, $8)")
            .bind(Uuid::now_v7()).bind(id).bind(&new.location).bind(new.latitude).bind(new.longitude)
            .bind(&new.geocoding_service).bind(&new.corrected_location).bind(now)
            .execute(&mut *tx).await?;
        if let Some(flag) = &new.review {
            sqlx::query("INSERT INTO signup_reviews (id, user_id, banned_user_id, ip_address, device_fingerprint, status, created_at)
                         VALUES ($1, $2, $3, $4, $5, 'pending', $6)")
                .bind(fantooo_domain::ids::RowId::new()).bind(id).bind(flag.banned_user_id).bind(&flag.ip).bind(&flag.device).bind(now)
                .execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    by_id(db, id).await
}

/// Logs a refused age (under 18 or over 100); no account is created.
pub async fn log_refused_age(db: &Db, username: &str, stated_age: i64, ip: Option<&str>) -> StoreResult<()> {
    on_pool!(db, p => {
        sqlx::query("INSERT INTO age_verification_log (id, user_id, attempted_username, stated_age, verification_method, is_compliant, compliance_notes, ip_address, created_at)
                     VALUES ($1, NULL, $2, $3, 'self_declared', FALSE, 'registration refused', $4, $5)")
            .bind(Uuid::now_v7()).bind(username).bind(stated_age).bind(ip).bind(Utc::now())
            .execute(p).await?;
    });
    Ok(())
}

/// A place offered instead of what was typed: its name and position.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    pub location: String,
    pub latitude: f64,
    pub longitude: f64,
}

/// Logs a location that failed validation: not found, not where the
/// device is, or not checkable because the geocoder failed (the error
/// says which, an outage included), with the first place offered instead.
pub async fn log_invalid_location(
    db: &Db,
    text: &str,
    lat: Option<f64>,
    lon: Option<f64>,
    error: &str,
    service: &str,
    correction: Option<&Correction>,
) -> StoreResult<()> {
    on_pool!(db, p => {
        sqlx::query("INSERT INTO location_validation_log (id, user_id, location_text, latitude, longitude, is_valid, validation_error, geocoding_service,
                                                          corrected_location, corrected_latitude, corrected_longitude, created_at)
                     VALUES ($1, NULL, $2, $3, $4, FALSE, $5, $6, $7, $8, $9, $10)")
            .bind(Uuid::now_v7()).bind(text).bind(lat).bind(lon).bind(error).bind(service)
            .bind(correction.map(|c| c.location.as_str())).bind(correction.map(|c| c.latitude)).bind(correction.map(|c| c.longitude))
            .bind(Utc::now())
            .execute(p).await?;
    });
    Ok(())
}

/// One row of the location validation log, newest first.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LocationLogEntry {
    pub location_text: String,
    pub is_valid: bool,
    pub validation_error: Option<String>,
    pub geocoding_service: String,
    pub corrected_location: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn location_log(db: &Db, limit: i64) -> StoreResult<Vec<LocationLogEntry>> {
    let sql = "SELECT location_text, is_valid, validation_error, geocoding_service, corrected_location, created_at
               FROM location_validation_log ORDER BY created_at DESC, id DESC LIMIT $1";
    Ok(on_pool!(db, p => sqlx::query_as::<_, LocationLogEntry>(sql).bind(limit).fetch_all(p).await?))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AgeLogEntry {
    pub attempted_username: Option<String>,
    pub stated_age: i64,
    pub is_compliant: bool,
    pub created_at: DateTime<Utc>,
}

pub async fn age_log(db: &Db, limit: i64) -> StoreResult<Vec<AgeLogEntry>> {
    let sql = "SELECT attempted_username, stated_age, is_compliant, created_at FROM age_verification_log ORDER BY created_at DESC LIMIT $1";
    Ok(on_pool!(db, p => sqlx::query_as::<_, AgeLogEntry>(sql).bind(limit).fetch_all(p).await?))
}

pub async fn username_taken(db: &Db, username: &str) -> StoreResult<bool> {
    // Staff logins live in other namespaces; only user names can collide.
    let sql = "SELECT COUNT(*) FROM real_users WHERE username = $1";
    let n: i64 = on_pool!(db, p => sqlx::query_scalar(sql).bind(username).fetch_one(p).await?);
    Ok(n > 0)
}

pub async fn by_id(db: &Db, id: UserId) -> StoreResult<User> {
    let sql = format!("SELECT {USER_COLUMNS} FROM real_users WHERE id = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, User>(&sql).bind(id).fetch_one(p).await?))
}

/// What a user has spent, for staff: credits over their lifetime and KES
/// paid, with the number of successful purchases.
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct Spend {
    pub lifetime_credits_spent: i64,
    pub total_spent_cents: i64,
    pub purchases: i64,
}

pub async fn spend(db: &Db, id: UserId) -> StoreResult<Spend> {
    let sql = "SELECT u.lifetime_credits_spent, u.total_spent_cents,
                      (SELECT COUNT(*) FROM transactions t WHERE t.real_user_id = u.id AND t.type = 'purchase' AND t.status = 'success') AS purchases
               FROM real_users u WHERE u.id = $1";
    Ok(on_pool!(db, p => sqlx::query_as::<_, Spend>(sql).bind(id).fetch_one(p).await?))
}

pub async fn by_username(db: &Db, username: &str) -> StoreResult<User> {
    let sql = format!("SELECT {USER_COLUMNS} FROM real_users WHERE username = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, User>(&sql).bind(username.trim().to_lowercase()).fetch_one(p).await?))
}

pub async fn by_account(db: &Db, account: AccountId) -> StoreResult<User> {
    let sql = format!("SELECT {USER_COLUMNS} FROM real_users WHERE account_id = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, User>(&sql).bind(account).fetch_one(p).await?))
}

/// One page of users, newest first; `before` is the last row's (created_at, id).
pub async fn list(db: &Db, search: Option<&str>, before: Option<(DateTime<Utc>, UserId)>, limit: i64) -> StoreResult<Vec<User>> {
    let pattern = search.map(|s| format!("%{}%", s.trim().to_lowercase().replace('%', "\\%").replace('_', "\\_")));
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM real_users
         WHERE deleted_at IS NULL
           AND ($1 IS NULL OR username LIKE $1 ESCAPE '\\' OR LOWER(display_name) LIKE $1 ESCAPE '\\' OR LOWER(location) LIKE $1 ESCAPE '\\')
           AND ($2 IS NULL OR created_at < $2 OR (created_at = $2 AND id < $3))
         ORDER BY created_at DESC, id DESC LIMIT $4");
    let (at, id) = before.map(|(a, i)| (Some(a), Some(i))).unwrap_or((None, None));
    Ok(on_pool!(db, p => sqlx::query_as::<_, User>(&sql).bind(&pattern).bind(at).bind(id).bind(limit).fetch_all(p).await?))
}

pub async fn update_profile(db: &Db, id: UserId, display_name: &str, bio: Option<&str>) -> StoreResult<()> {
    on_pool!(db, p => {
        sqlx::query("UPDATE real_users SET display_name = $1, bio = $2, updated_at = $3 WHERE id = $4")
            .bind(display_name).bind(bio).bind(Utc::now()).bind(id).execute(p).await?;
    });
    Ok(())
}

/// Marks the user as present now (WebSocket heartbeat).
pub async fn touch_active(db: &Db, id: UserId, at: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => { sqlx::query("UPDATE real_users SET last_active_at = $2 WHERE id = $1").bind(id).bind(at).execute(p).await?; });
    Ok(())
}

/// Turns the reply sound on or off.
pub async fn set_sound(db: &Db, user: UserId, on: bool) -> StoreResult<()> {
    let prefs: Option<sqlx::types::Json<serde_json::Value>> = on_pool!(db, p =>
        sqlx::query_scalar("SELECT notification_preferences FROM real_users WHERE id = $1").bind(user).fetch_optional(p).await?);
    let mut prefs = prefs.ok_or(crate::StoreError::NotFound)?.0;
    if !prefs.is_object() {
        prefs = serde_json::json!({});
    }
    prefs["sound"] = serde_json::Value::Bool(on);
    on_pool!(db, p => {
        sqlx::query("UPDATE real_users SET notification_preferences = $2, updated_at = $3 WHERE id = $1")
            .bind(user).bind(sqlx::types::Json(&prefs)).bind(Utc::now()).execute(p).await?;
    });
    Ok(())
}

/// Sets (or, with `None`, removes) the user's own photo.
pub async fn set_picture(db: &Db, user: UserId, url: Option<&str>) -> StoreResult<Option<String>> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let before: Option<Option<String>> = sqlx::query_scalar("SELECT profile_picture FROM real_users WHERE id = $1")
            .bind(user).fetch_optional(&mut *tx).await?;
        let before = before.ok_or(crate::StoreError::NotFound)?;
        sqlx::query("UPDATE real_users SET profile_picture = $2, updated_at = $3 WHERE id = $1")
            .bind(user).bind(url).bind(Utc::now()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(before)
    })
}
