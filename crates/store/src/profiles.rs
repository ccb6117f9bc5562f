//! Public profiles (the spec's `fictional_users`). Fields that guide staff —
//! guidelines, templates, notes — are read only by staff queries.

use crate::{on_pool, Db, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::{AdminId, ProfileId};
use fantooo_domain::Gender;
use serde::Serialize;
use sqlx::types::Json;

/// What any signed-in user may see of a profile.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PublicProfile {
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
    pub is_featured: bool,
    pub tags: Json<Vec<String>>,
    pub popularity_score: i64,
}

pub const PUBLIC_COLUMNS: &str = "id, name, age, gender, location, bio, personality_traits, interests, occupation, profile_pictures, is_featured, tags, popularity_score";

#[derive(Debug, Clone)]
pub struct NewProfile {
    pub name: String,
    pub age: i64,
    pub gender: Gender,
    pub location: String,
    pub bio: String,
    pub personality_traits: Vec<String>,
    pub interests: Vec<String>,
    pub occupation: Option<String>,
    pub profile_pictures: Vec<String>,
    pub response_style: Option<String>,
    pub response_templates: Vec<String>,
    pub personality_guidelines: Option<String>,
    pub is_featured: bool,
    pub featured_until: Option<DateTime<Utc>>,
    pub tags: Vec<String>,
    pub category: Option<String>,
    pub popularity_score: i64,
}

pub async fn create(db: &Db, new: &NewProfile, created_by: Option<AdminId>) -> StoreResult<ProfileId> {
    let id = ProfileId::new();
    let now = Utc::now();
    let sql = "INSERT INTO fictional_users (id, name, age, gender, location, bio, personality_traits, interests, occupation, profile_pictures,
                 response_style, response_templates, personality_guidelines, is_featured, featured_until, tags, category, popularity_score,
                 created_by, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20)";
    on_pool!(db, p => {
        sqlx::query(sql).bind(id).bind(&new.name).bind(new.age).bind(new.gender).bind(&new.location).bind(&new.bio)
            .bind(Json(&new.personality_traits)).bind(Json(&new.interests)).bind(&new.occupation).bind(Json(&new.profile_pictures))
            .bind(&new.response_style).bind(Json(&new.response_templates)).bind(&new.personality_guidelines)
            .bind(new.is_featured).bind(new.featured_until).bind(Json(&new.tags)).bind(&new.category).bind(new.popularity_score)
            .bind(created_by).bind(now)
            .execute(p).await?;
    });
    Ok(id)
}

pub async fn count_active(db: &Db) -> StoreResult<i64> {
    let sql = "SELECT COUNT(*) FROM fictional_users WHERE deleted_at IS NULL AND is_active";
    Ok(on_pool!(db, p => sqlx::query_scalar(sql).fetch_one(p).await?))
}

/// Active profiles, featured first, then by popularity (admin and landing use).
pub async fn list_public(db: &Db, limit: i64, offset: i64) -> StoreResult<Vec<PublicProfile>> {
    let sql = format!("SELECT {PUBLIC_COLUMNS} FROM fictional_users WHERE deleted_at IS NULL AND is_active
                       ORDER BY is_featured DESC, popularity_score DESC, id LIMIT $1 OFFSET $2");
    Ok(on_pool!(db, p => sqlx::query_as::<_, PublicProfile>(&sql).bind(limit).bind(offset).fetch_all(p).await?))
}

/// A profile's public face even when it is no longer listed (a chat keeps
/// showing whom it was with).
pub async fn public_including_unlisted(db: &Db, id: ProfileId) -> StoreResult<PublicProfile> {
    let sql = format!("SELECT {PUBLIC_COLUMNS} FROM fictional_users WHERE id = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, PublicProfile>(&sql).bind(id).fetch_one(p).await?))
}
