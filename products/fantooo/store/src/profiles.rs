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

/// Inserts a profile row on any executor (a pool or the caller's transaction).
macro_rules! insert_profile {
    ($exec:expr, $id:expr, $new:expr, $created_by:expr, $now:expr) => {{
        let new: &$crate::profiles::NewProfile = $new;
        sqlx::query(
            "INSERT INTO fictional_users (id, name, age, gender, location, bio, personality_traits, interests, occupation, profile_pictures,
                     response_style, response_templates, personality_guidelines, is_featured, featured_until, tags, category, popularity_score,
                     created_by, created_at, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20)",
        )
        .bind($id).bind(&new.name).bind(new.age).bind(new.gender).bind(&new.location).bind(&new.bio)
        .bind(Json(&new.personality_traits)).bind(Json(&new.interests)).bind(&new.occupation).bind(Json(&new.profile_pictures))
        .bind(&new.response_style).bind(Json(&new.response_templates)).bind(&new.personality_guidelines)
        .bind(new.is_featured).bind(new.featured_until).bind(Json(&new.tags)).bind(&new.category).bind(new.popularity_score)
        .bind($created_by).bind($now)
        .execute($exec)
        .await?
    }};
}
pub(crate) use insert_profile;

pub async fn create(db: &Db, new: &NewProfile, created_by: Option<AdminId>) -> StoreResult<ProfileId> {
    let id = ProfileId::new();
    let now = Utc::now();
    on_pool!(db, p => {
        insert_profile!(p, id, new, created_by, now);
    });
    Ok(id)
}

pub async fn count_active(db: &Db) -> StoreResult<i64> {
    let sql = "SELECT COUNT(*) FROM fictional_users WHERE deleted_at IS NULL AND is_active";
    Ok(on_pool!(db, p => sqlx::query_scalar(sql).fetch_one(p).await?))
}

/// Active profiles, featured first, then by popularity (admin and landing use).
pub async fn list_public(db: &Db, limit: i64, offset: i64) -> StoreResult<Vec<PublicProfile>> {
    let sql = format!(
        "SELECT {PUBLIC_COLUMNS} FROM fictional_users WHERE deleted_at IS NULL AND is_active
                       ORDER BY is_featured DESC, popularity_score DESC, id DESC LIMIT $1 OFFSET $2"
    );
    Ok(on_pool!(db, p => sqlx::query_as::<_, PublicProfile>(&sql).bind(limit).bind(offset).fetch_all(p).await?))
}

/// A profile's public face even when it is no longer listed (a chat keeps
/// showing whom it was with).
pub async fn public_including_unlisted(db: &Db, id: ProfileId) -> StoreResult<PublicProfile> {
    let sql = format!("SELECT {PUBLIC_COLUMNS} FROM fictional_users WHERE id = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, PublicProfile>(&sql).bind(id).fetch_one(p).await?))
}

/// One visible profile (active, not deleted) for the public profile page.
pub async fn public_by_id(db: &Db, id: ProfileId) -> StoreResult<PublicProfile> {
    let sql = format!("SELECT {PUBLIC_COLUMNS} FROM fictional_users WHERE id = $1 AND deleted_at IS NULL AND is_active");
    Ok(on_pool!(db, p => sqlx::query_as::<_, PublicProfile>(&sql).bind(id).fetch_one(p).await?))
}

/// What a discover search narrows by. Text fields are matched
/// case-insensitively as substrings; LIKE wildcards in them match literally.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileFilter {
    /// The genders that may appear (at most the three there are); empty
    /// means none may, so the search returns nothing.
    pub genders: Vec<Gender>,
    pub min_age: Option<i64>,
    pub max_age: Option<i64>,
    pub location: Option<String>,
    /// Searched in name, bio and tags.
    pub text: Option<String>,
}

/// Position after the last profile of a page in discover order
/// (featured first, then popularity, then newest id). Clients see it only as an
/// opaque string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileCursor {
    pub is_featured: bool,
    pub popularity_score: i64,
    pub id: ProfileId,
}

impl ProfileCursor {
    pub fn after(p: &PublicProfile) -> Self {
        ProfileCursor { is_featured: p.is_featured, popularity_score: p.popularity_score, id: p.id }
    }

    /// 25 bytes (flag, score big-endian, uuid) as 50 lowercase hex digits.
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(25);
        bytes.push(u8::from(self.is_featured));
        bytes.extend_from_slice(&self.popularity_score.to_be_bytes());
        bytes.extend_from_slice(self.id.0.as_bytes());
        hex::encode(bytes)
    }

    /// Accepts exactly what `encode` produces; anything else is `None`.
    pub fn decode(s: &str) -> Option<Self> {
        if s.len() != 50 {
            return None;
        }
        let bytes = hex::decode(s).ok()?;
        let is_featured = match bytes[0] {
            0 => false,
            1 => true,
            _ => return None,
        };
        let score = i64::from_be_bytes(bytes[1..9].try_into().ok()?);
        let id = uuid::Uuid::from_slice(&bytes[9..25]).ok()?;
        Some(ProfileCursor { is_featured, popularity_score: score, id: ProfileId(id) })
    }
}

/// `%text%` for LIKE with `\` as the escape character, lowercased to match
/// `lower(column)`.
pub(crate) fn contains_pattern(text: &str) -> String {
    let escaped = text.trim().to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// One page of visible profiles matching `f`, in discover order, starting
/// after `after`. Keyset pagination: each page costs the same however deep.
pub async fn search(db: &Db, f: &ProfileFilter, after: Option<ProfileCursor>, limit: i64) -> StoreResult<Vec<PublicProfile>> {
    if f.genders.is_empty() {
        return Ok(vec![]);
    }
    // Only the predicates in use are part of the statement (a handful of
    // distinct texts, each prepared once): a generic plan for
    // "$n IS NULL OR …" cannot use the listing index, this one walks it in
    // order and stops after `limit` rows.
    let mut sql = format!("SELECT {PUBLIC_COLUMNS} FROM fictional_users WHERE deleted_at IS NULL AND is_active");
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    sql += &format!(" AND gender IN ({})", f.genders.iter().map(|_| format!("${}", next())).collect::<Vec<_>>().join(", "));
    if f.min_age.is_some() {
        sql += &format!(" AND age >= ${}", next())
    }
    if f.max_age.is_some() {
        sql += &format!(" AND age <= ${}", next())
    }
    let location = f.location.as_deref().filter(|s| !s.trim().is_empty()).map(contains_pattern);
    if location.is_some() {
        sql += &format!(" AND lower(location) LIKE ${} ESCAPE '\\'", next())
    }
    let text = f.text.as_deref().filter(|s| !s.trim().is_empty()).map(contains_pattern);
    if text.is_some() {
        let t = next();
        sql += &format!(" AND (lower(name) LIKE ${t} ESCAPE '\\' OR lower(bio) LIKE ${t} ESCAPE '\\' OR lower(CAST(tags AS TEXT)) LIKE ${t} ESCAPE '\\')");
    }
    // Discover order is one direction on every key, so the page boundary is
    // a single row-value comparison the index can start from.
    if after.is_some() {
        sql += &format!(" AND (is_featured, popularity_score, id) < (${}, ${}, ${})", next(), next(), next());
    }
    sql += &format!(" ORDER BY is_featured DESC, popularity_score DESC, id DESC LIMIT ${}", next());
    on_pool!(db, p => {
        let mut q = sqlx::query_as::<_, PublicProfile>(&sql);
        for g in &f.genders { q = q.bind(*g) }
        if let Some(a) = f.min_age { q = q.bind(a) }
        if let Some(a) = f.max_age { q = q.bind(a) }
        if let Some(l) = &location { q = q.bind(l) }
        if let Some(t) = &text { q = q.bind(t) }
        if let Some(c) = after { q = q.bind(c.is_featured).bind(c.popularity_score).bind(c.id) }
        Ok(q.bind(limit).fetch_all(p).await?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_refuses_garbage() {
        for (f, s) in [(true, 0), (false, i64::MAX), (false, -5), (true, 980)] {
            let c = ProfileCursor { is_featured: f, popularity_score: s, id: ProfileId::new() };
            let text = c.encode();
            assert_eq!(text.len(), 50);
            assert_eq!(ProfileCursor::decode(&text), Some(c));
        }
        let good = ProfileCursor { is_featured: true, popularity_score: 1, id: ProfileId::new() }.encode();
        let bad_flag = format!("02{}", &good[2..]);
        for bad in ["", "abc", "zz", &good[..48], &format!("{good}00"), &bad_flag, &good.replace(|c: char| c.is_ascii_digit(), "g")] {
            assert_eq!(ProfileCursor::decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern(" Nai "), "%nai%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}

/// A profile as the staff who voice it see it: how to write as them.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StaffProfile {
    pub id: ProfileId,
    pub name: String,
    pub age: i64,
    pub location: String,
    pub bio: String,
    pub occupation: Option<String>,
    pub personality_traits: Json<Vec<String>>,
    pub interests: Json<Vec<String>>,
    pub profile_pictures: Json<Vec<String>>,
    pub response_style: Option<String>,
    pub response_templates: Json<Vec<String>>,
    pub personality_guidelines: Option<String>,
    pub operator_notes: Option<String>,
}

pub async fn staff_view(db: &Db, id: ProfileId) -> StoreResult<StaffProfile> {
    let sql = "SELECT id, name, age, location, bio, occupation, personality_traits, interests, profile_pictures, response_style,
                      response_templates, personality_guidelines, operator_notes FROM fictional_users WHERE id = $1";
    Ok(on_pool!(db, p => sqlx::query_as::<_, StaffProfile>(sql).bind(id).fetch_one(p).await?))
}

/// Shared staff notes on how this profile is being voiced.
pub async fn set_operator_notes(db: &Db, id: ProfileId, notes: Option<&str>) -> StoreResult<()> {
    let sql = "UPDATE fictional_users SET operator_notes = $2, updated_at = $3 WHERE id = $1";
    on_pool!(db, p => { sqlx::query(sql).bind(id).bind(notes).bind(Utc::now()).execute(p).await?; });
    Ok(())
}

/// The messages users sent a profile and the credits they paid for them:
/// the profile row's counters (what was counted before they moved) plus
/// its slots in `profile_message_counts` (see `messages::send_as_user`).
pub async fn message_totals(db: &Db, id: ProfileId) -> StoreResult<(i64, i64)> {
    let sql = "SELECT CAST(f.total_messages + COALESCE((SELECT SUM(c.messages) FROM profile_message_counts c WHERE c.profile_id = f.id), 0) AS BIGINT),
                      CAST(f.total_revenue_credits + COALESCE((SELECT SUM(c.revenue_credits) FROM profile_message_counts c WHERE c.profile_id = f.id), 0) AS BIGINT)
               FROM fictional_users f WHERE f.id = $1";
    Ok(on_pool!(db, p => sqlx::query_as(sql).bind(id).fetch_one(p).await?))
}
