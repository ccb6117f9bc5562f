//! A user's favourite profiles. `real_users.favorite_count` mirrors the
//! number of rows and changes in the same transaction as the row itself.

use crate::profiles::{PublicProfile, PUBLIC_COLUMNS};
use crate::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use chrono::Utc;
use fantooo_domain::ids::{ProfileId, UserId};
use std::collections::HashSet;

const VISIBLE: &str = "SELECT COUNT(*) FROM fictional_users WHERE id = $1 AND deleted_at IS NULL AND is_active";

/// Adds a favourite. Returns whether it was new; adding twice changes
/// nothing. `NotFound` when the profile is unknown or no longer visible.
pub async fn add(db: &Db, user: UserId, profile: ProfileId) -> StoreResult<bool> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let visible: i64 = sqlx::query_scalar(VISIBLE).bind(profile).fetch_one(&mut *tx).await?;
        if visible == 0 {
            return Err(StoreError::NotFound);
        }
        // ON CONFLICT keeps concurrent double-clicks from counting twice:
        // the loser inserts nothing and so bumps nothing.
        let added = sqlx::query("INSERT INTO favorites (user_id, fictional_user_id, created_at) VALUES ($1, $2, $3)
                                 ON CONFLICT (user_id, fictional_user_id) DO NOTHING")
            .bind(user).bind(profile).bind(Utc::now())
            .execute(&mut *tx).await?.rows_affected() == 1;
        if added {
            sqlx::query("UPDATE real_users SET favorite_count = favorite_count + 1 WHERE id = $1").bind(user).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(added)
    })
}

/// Removes a favourite. Returns whether one was removed; removing twice
/// changes nothing. A favourite of a since-hidden profile can still be
/// removed; otherwise an unknown or hidden profile is `NotFound`.
pub async fn remove(db: &Db, user: UserId, profile: ProfileId) -> StoreResult<bool> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let removed = sqlx::query("DELETE FROM favorites WHERE user_id = $1 AND fictional_user_id = $2")
            .bind(user).bind(profile)
            .execute(&mut *tx).await?.rows_affected() == 1;
        if removed {
            sqlx::query("UPDATE real_users SET favorite_count = favorite_count - 1 WHERE id = $1").bind(user).execute(&mut *tx).await?;
        } else {
            let visible: i64 = sqlx::query_scalar(VISIBLE).bind(profile).fetch_one(&mut *tx).await?;
            if visible == 0 {
                return Err(StoreError::NotFound);
            }
        }
        tx.commit().await?;
        Ok(removed)
    })
}

/// The user's visible favourites, most recently added first.
pub async fn list(db: &Db, user: UserId) -> StoreResult<Vec<PublicProfile>> {
    let columns = PUBLIC_COLUMNS.split(", ").map(|c| format!("p.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {columns} FROM favorites f JOIN fictional_users p ON p.id = f.fictional_user_id
         WHERE f.user_id = $1 AND p.deleted_at IS NULL AND p.is_active
         ORDER BY f.created_at DESC, p.id"
    );
    Ok(on_pool!(db, p => sqlx::query_as::<_, PublicProfile>(&sql).bind(user).fetch_all(p).await?))
}

/// Ids of every profile the user has favourited, to mark hearts on a page.
pub async fn ids(db: &Db, user: UserId) -> StoreResult<HashSet<ProfileId>> {
    let sql = "SELECT fictional_user_id FROM favorites WHERE user_id = $1";
    let rows: Vec<ProfileId> = on_pool!(db, p => sqlx::query_scalar(sql).bind(user).fetch_all(p).await?);
    Ok(rows.into_iter().collect())
}

pub async fn is_favorite(db: &Db, user: UserId, profile: ProfileId) -> StoreResult<bool> {
    let sql = "SELECT COUNT(*) FROM favorites WHERE user_id = $1 AND fictional_user_id = $2";
    let n: i64 = on_pool!(db, p => sqlx::query_scalar(sql).bind(user).bind(profile).fetch_one(p).await?);
    Ok(n > 0)
}

/// The user's favourite count as kept on `real_users`.
pub async fn count(db: &Db, user: UserId) -> StoreResult<i64> {
    let sql = "SELECT favorite_count FROM real_users WHERE id = $1";
    Ok(on_pool!(db, p => sqlx::query_scalar(sql).bind(user).fetch_one(p).await?))
}
