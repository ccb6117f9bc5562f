//! Seller profiles and the public numbers shown with them.

use chrono::{DateTime, Utc};
use gigstream_domain::ids::AccountId;
use platform_db::{on_pool, Db, StoreResult};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

/// One piece of past work shown on a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortfolioItem {
    pub title: String,
    pub url: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Profile {
    pub headline: String,
    pub bio: String,
    pub skills: Json<Vec<String>>,
    pub languages: Json<Vec<String>>,
    pub portfolio: Json<Vec<PortfolioItem>>,
    pub response_hours: i32,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            headline: String::new(),
            bio: String::new(),
            skills: Json(vec![]),
            languages: Json(vec![]),
            portfolio: Json(vec![]),
            response_hours: 24,
        }
    }
}

/// The account's seller profile, or an empty one.
pub async fn get(db: &Db, account: AccountId) -> StoreResult<Profile> {
    let sql = "SELECT headline, bio, skills, languages, portfolio, response_hours FROM seller_profiles WHERE account_id = $1";
    let row: Option<Profile> = on_pool!(db, p => sqlx::query_as(sql).bind(account).fetch_optional(p).await?);
    Ok(row.unwrap_or_default())
}

/// Saves the profile (fields checked by the caller).
pub async fn save(db: &Db, account: AccountId, profile: &Profile, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = "INSERT INTO seller_profiles (account_id, headline, bio, skills, languages, portfolio, response_hours, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT (account_id) DO UPDATE SET headline = excluded.headline, bio = excluded.bio, skills = excluded.skills,
                 languages = excluded.languages, portfolio = excluded.portfolio, response_hours = excluded.response_hours,
                 updated_at = excluded.updated_at";
    on_pool!(db, p => {
        sqlx::query(sql).bind(account).bind(&profile.headline).bind(&profile.bio).bind(&profile.skills).bind(&profile.languages)
            .bind(&profile.portfolio).bind(profile.response_hours).bind(now).execute(p).await?;
    });
    Ok(())
}

/// A seller's public numbers.
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct Stats {
    pub active_gigs: i64,
    pub orders_completed: i64,
    pub orders_in_progress: i64,
    /// Reviews arrive in a later part; until then no rating exists.
    pub rating_count: i64,
}

pub async fn stats(db: &Db, account: AccountId) -> StoreResult<Stats> {
    let sql = "SELECT
        (SELECT COUNT(*) FROM gigs WHERE seller_id = $1 AND status = 'active') AS active_gigs,
        (SELECT COUNT(*) FROM orders WHERE seller_id = $1 AND status = 'released') AS orders_completed,
        (SELECT COUNT(*) FROM orders WHERE seller_id = $1 AND status IN ('paid', 'in_progress', 'delivered', 'revision_requested')) AS orders_in_progress,
        (SELECT CAST(COALESCE(SUM(rating_count), 0) AS BIGINT) FROM gigs WHERE seller_id = $1) AS rating_count";
    Ok(on_pool!(db, p => sqlx::query_as(sql).bind(account).fetch_one(p).await?))
}
