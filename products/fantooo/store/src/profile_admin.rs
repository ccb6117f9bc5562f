//! Profiles as the back office manages them: every column, listed or not,
//! their pictures with moderation flags, and per-profile metrics.

use crate::audit::Actor;
use crate::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::{AdminId, ProfileId, RowId};
use fantooo_domain::Gender;
use serde::Serialize;
use sqlx::types::Json;

/// A profile with the staff-only fields.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ManagedProfile {
    pub id: ProfileId,
    pub name: String,
    pub age: i64,
    pub gender: Gender,
    pub location: String,
    pub bio: String,
    pub personality_traits: Json<Vec<String>>,
    pub interests: Json<Vec<String>>,
    pub occupation: Option<String>,
    pub profile_pictures: Json<Vec<String>>,
    pub response_style: Option<String>,
    pub response_templates: Json<Vec<String>>,
    pub personality_guidelines: Option<String>,
    pub is_active: bool,
    pub is_featured: bool,
    pub featured_until: Option<DateTime<Utc>>,
    pub tags: Json<Vec<String>>,
    pub category: Option<String>,
    pub popularity_score: i64,
    pub total_chats: i64,
    pub created_at: DateTime<Utc>,
    /// Chats still open with this profile (shown before a delete).
    pub active_chats: i64,
}

const COLUMNS: &str =
    "f.id, f.name, f.age, f.gender, f.location, f.bio, f.personality_traits, f.interests, f.occupation, f.profile_pictures,
    f.response_style, f.response_templates, f.personality_guidelines, f.is_active, f.is_featured, f.featured_until, f.tags, f.category,
    f.popularity_score, f.total_chats, f.created_at,
    (SELECT COUNT(*) FROM chats c WHERE c.fictional_user_id = f.id AND c.status IN ('active', 'idle', 'escalated')) AS active_chats";

/// Every profile not deleted, listed or not, newest first; `q` matches the name.
pub async fn list(db: &Db, q: Option<&str>, limit: i64) -> StoreResult<Vec<ManagedProfile>> {
    let pattern = q.filter(|s| !s.trim().is_empty()).map(crate::profiles::contains_pattern);
    let sql = format!(
        "SELECT {COLUMNS} FROM fictional_users f WHERE f.deleted_at IS NULL AND ($1 IS NULL OR LOWER(f.name) LIKE $1 ESCAPE '\\')
                       ORDER BY f.created_at DESC, f.id DESC LIMIT $2"
    );
    Ok(on_pool!(db, p => sqlx::query_as::<_, ManagedProfile>(&sql).bind(&pattern).bind(limit).fetch_all(p).await?))
}

pub async fn by_id(db: &Db, id: ProfileId) -> StoreResult<ManagedProfile> {
    let sql = format!("SELECT {COLUMNS} FROM fictional_users f WHERE f.id = $1 AND f.deleted_at IS NULL");
    Ok(on_pool!(db, p => sqlx::query_as::<_, ManagedProfile>(&sql).bind(id).fetch_one(p).await?))
}

/// A profile even after deletion (its chats remain inspectable).
pub async fn including_deleted(db: &Db, id: ProfileId) -> StoreResult<ManagedProfile> {
    let sql = format!("SELECT {COLUMNS} FROM fictional_users f WHERE f.id = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, ManagedProfile>(&sql).bind(id).fetch_one(p).await?))
}

/// The editable fields (everything but pictures, which have their own calls).
#[derive(Debug, Clone, Serialize)]
pub struct ProfileEdit {
    pub name: String,
    pub age: i64,
    pub gender: Gender,
    pub location: String,
    pub bio: String,
    pub personality_traits: Vec<String>,
    pub interests: Vec<String>,
    pub occupation: Option<String>,
    pub response_style: Option<String>,
    pub response_templates: Vec<String>,
    pub personality_guidelines: Option<String>,
    pub tags: Vec<String>,
    pub category: Option<String>,
}

pub async fn update(db: &Db, id: ProfileId, e: &ProfileEdit) -> StoreResult<()> {
    let sql = "UPDATE fictional_users SET name = $2, age = $3, gender = $4, location = $5, bio = $6, personality_traits = $7, interests = $8,
                 occupation = $9, response_style = $10, response_templates = $11, personality_guidelines = $12, tags = $13, category = $14, updated_at = $15
               WHERE id = $1 AND deleted_at IS NULL";
    let n = on_pool!(db, p => sqlx::query(sql).bind(id).bind(&e.name).bind(e.age).bind(e.gender).bind(&e.location).bind(&e.bio)
        .bind(Json(&e.personality_traits)).bind(Json(&e.interests)).bind(&e.occupation).bind(&e.response_style)
        .bind(Json(&e.response_templates)).bind(&e.personality_guidelines).bind(Json(&e.tags)).bind(&e.category).bind(Utc::now())
        .execute(p).await?.rows_affected());
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Guidelines and response templates only (the operators' editor).
pub async fn update_guidance(db: &Db, id: ProfileId, guidelines: Option<&str>, templates: &[String]) -> StoreResult<()> {
    let sql = "UPDATE fictional_users SET personality_guidelines = $2, response_templates = $3, updated_at = $4 WHERE id = $1 AND deleted_at IS NULL";
    let n = on_pool!(db, p => sqlx::query(sql).bind(id).bind(guidelines).bind(Json(templates)).bind(Utc::now()).execute(p).await?.rows_affected());
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Lists or unlists a profile (discover shows only active ones).
pub async fn set_active(db: &Db, id: ProfileId, active: bool) -> StoreResult<()> {
    let sql = "UPDATE fictional_users SET is_active = $2, updated_at = $3 WHERE id = $1 AND deleted_at IS NULL";
    let n = on_pool!(db, p => sqlx::query(sql).bind(id).bind(active).bind(Utc::now()).execute(p).await?.rows_affected());
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Features a profile (optionally until a date) or stops featuring it.
pub async fn set_featured(db: &Db, id: ProfileId, featured: bool, until: Option<DateTime<Utc>>) -> StoreResult<()> {
    let sql = "UPDATE fictional_users SET is_featured = $2, featured_until = $3, updated_at = $4 WHERE id = $1 AND deleted_at IS NULL";
    let until = if featured { until } else { None };
    let n = on_pool!(db, p => sqlx::query(sql).bind(id).bind(featured).bind(until).bind(Utc::now()).execute(p).await?.rows_affected());
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Replaces the picture list (reorder, add, remove). The schema's CHECK
/// refuses fewer than 3 or more than 10, whatever the caller did.
pub async fn set_pictures(db: &Db, id: ProfileId, pictures: &[String]) -> StoreResult<()> {
    if !(3..=10).contains(&pictures.len()) {
        return Err(StoreError::Rule(format!("A profile needs 3 to 10 pictures; this would leave {}.", pictures.len())));
    }
    let sql = "UPDATE fictional_users SET profile_pictures = $2, updated_at = $3 WHERE id = $1 AND deleted_at IS NULL";
    let n = on_pool!(db, p => sqlx::query(sql).bind(id).bind(Json(pictures)).bind(Utc::now()).execute(p).await?.rows_affected());
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// What the upload check found out about a picture.
#[derive(Debug, Clone)]
pub struct PictureCheck<'a> {
    pub url: &'a str,
    pub size_bytes: i64,
    pub format: &'a str,
    pub width: u32,
    pub height: u32,
}

/// Creates a profile from the back office in one transaction: the row, the
/// validation log of its uploaded pictures and the audit entry commit
/// together or not at all (the caller then removes the uploads).
pub async fn create(
    db: &Db,
    new: &crate::profiles::NewProfile,
    uploads: &[PictureCheck<'_>],
    by: AdminId,
    ip: Option<&str>,
) -> StoreResult<ProfileId> {
    let id = ProfileId::new();
    let now = Utc::now();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        crate::profiles::insert_profile!(&mut *tx, id, new, Some(by), now);
        for c in uploads {
            sqlx::query(LOG_PICTURE).bind(RowId::new()).bind(id).bind(c.url).bind(c.size_bytes).bind(c.format)
                .bind(format!("{}x{}", c.width, c.height)).bind(by).bind(now).execute(&mut *tx).await?;
        }
        let after = serde_json::json!({ "name": new.name, "pictures": new.profile_pictures.len() });
        platform_audit::record_in(&mut *tx, &Actor::admin(by).record("profile_created").subject("profile", &id.to_string()).change(None, Some(&after)).ip(ip), now).await?;
        tx.commit().await?;
    });
    Ok(id)
}

const LOG_PICTURE: &str =
    "INSERT INTO profile_media_validation (id, fictional_user_id, media_url, media_type, file_size_bytes, file_format, dimensions,
                 is_approved, moderated_by, moderated_at, created_at)
               VALUES ($1, $2, $3, 'profile_picture', $4, $5, $6, TRUE, $7, $8, $8)";

/// Records a checked upload in the media validation log.
pub async fn log_picture(db: &Db, profile: ProfileId, c: &PictureCheck<'_>, by: AdminId) -> StoreResult<()> {
    on_pool!(db, p => {
        sqlx::query(LOG_PICTURE).bind(RowId::new()).bind(profile).bind(c.url).bind(c.size_bytes).bind(c.format)
            .bind(format!("{}x{}", c.width, c.height)).bind(by).bind(Utc::now()).execute(p).await?;
    });
    Ok(())
}

/// One picture's moderation state.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PictureReview {
    pub media_url: String,
    pub file_format: Option<String>,
    pub dimensions: Option<String>,
    pub file_size_bytes: Option<i64>,
    pub is_flagged: bool,
    pub flag_reason: Option<String>,
}

pub async fn picture_reviews(db: &Db, profile: ProfileId) -> StoreResult<Vec<PictureReview>> {
    let sql = "SELECT media_url, file_format, dimensions, file_size_bytes, is_flagged, flag_reason FROM profile_media_validation
               WHERE fictional_user_id = $1 ORDER BY created_at";
    Ok(on_pool!(db, p => sqlx::query_as::<_, PictureReview>(sql).bind(profile).fetch_all(p).await?))
}

/// Flags (or clears) a picture for moderation. Pictures added by import or
/// seed have no log row yet, so one is created on first review.
pub async fn flag_picture(db: &Db, profile: ProfileId, url: &str, flagged: bool, reason: Option<&str>, by: AdminId) -> StoreResult<()> {
    let now = Utc::now();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("UPDATE profile_media_validation SET is_flagged = $3, flag_reason = $4, is_approved = $5, moderated_by = $6, moderated_at = $7
                             WHERE fictional_user_id = $1 AND media_url = $2")
            .bind(profile).bind(url).bind(flagged).bind(reason).bind(!flagged).bind(by).bind(now).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            sqlx::query("INSERT INTO profile_media_validation (id, fictional_user_id, media_url, media_type, is_approved, is_flagged, flag_reason, moderated_by, moderated_at, created_at)
                         VALUES ($1, $2, $3, 'profile_picture', $4, $5, $6, $7, $8, $8)")
                .bind(RowId::new()).bind(profile).bind(url).bind(!flagged).bind(flagged).bind(reason).bind(by).bind(now).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// A profile's business numbers: conversion is the share of its chats in
/// which the user went on to pay for a message.
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct ProfileMetrics {
    pub chats: i64,
    pub active_chats: i64,
    pub messages: i64,
    pub credits_spent: i64,
    pub paid_chats: i64,
}

impl ProfileMetrics {
    pub fn conversion_percent(&self) -> f64 {
        if self.chats == 0 {
            0.0
        } else {
            (self.paid_chats as f64 * 1000.0 / self.chats as f64).round() / 10.0
        }
    }
}

pub async fn metrics(db: &Db, id: ProfileId) -> StoreResult<ProfileMetrics> {
    let sql = "SELECT COUNT(*) AS chats,
                      CAST(COALESCE(SUM(CASE WHEN status IN ('active', 'idle', 'escalated') THEN 1 ELSE 0 END), 0) AS BIGINT) AS active_chats,
                      CAST(COALESCE(SUM(message_count), 0) AS BIGINT) AS messages,
                      CAST(COALESCE(SUM(total_credits_spent), 0) AS BIGINT) AS credits_spent,
                      CAST(COALESCE(SUM(CASE WHEN paid_messages_count > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS paid_chats
               FROM chats WHERE fictional_user_id = $1";
    Ok(on_pool!(db, p => sqlx::query_as::<_, ProfileMetrics>(sql).bind(id).fetch_one(p).await?))
}
