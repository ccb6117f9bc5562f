//! Follows: people follow people and rooms.

use crate::accounts::PublicProfile;
use crate::{on_pool, refused, Db, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::ids::{AccountId, RoomId};

pub async fn follow_user(db: &Db, who: AccountId, whom: AccountId, now: DateTime<Utc>) -> StoreResult<()> {
    if who == whom {
        return Err(refused("not_on_self", "You cannot follow yourself"));
    }
    on_pool!(db, p => { sqlx::query("INSERT INTO user_follows (follower_id, followee_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(who).bind(whom).bind(now).execute(p).await?; });
    Ok(())
}

pub async fn unfollow_user(db: &Db, who: AccountId, whom: AccountId) -> StoreResult<()> {
    on_pool!(db, p => { sqlx::query("DELETE FROM user_follows WHERE follower_id = $1 AND followee_id = $2").bind(who).bind(whom).execute(p).await?; });
    Ok(())
}

pub async fn follow_room(db: &Db, who: AccountId, room: RoomId, now: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => { sqlx::query("INSERT INTO room_follows (follower_id, room_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(who).bind(room).bind(now).execute(p).await?; });
    Ok(())
}

pub async fn unfollow_room(db: &Db, who: AccountId, room: RoomId) -> StoreResult<()> {
    on_pool!(db, p => { sqlx::query("DELETE FROM room_follows WHERE follower_id = $1 AND room_id = $2").bind(who).bind(room).execute(p).await?; });
    Ok(())
}

/// Whether `who` follows `whom`.
pub async fn follows(db: &Db, who: AccountId, whom: AccountId) -> StoreResult<bool> {
    let n: i64 = on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM user_follows WHERE follower_id = $1 AND followee_id = $2")
        .bind(who).bind(whom).fetch_one(p).await?);
    Ok(n > 0)
}

const COLS: &str = "a.id, a.public_number, a.handle, a.display_name, a.gender, a.bio, a.avatar_url";

/// People following `whom`, newest first.
pub async fn followers(db: &Db, whom: AccountId, limit: i64) -> StoreResult<Vec<PublicProfile>> {
    let sql = format!("SELECT {COLS} FROM user_follows f JOIN accounts a ON a.id = f.follower_id WHERE f.followee_id = $1 ORDER BY f.created_at DESC LIMIT $2");
    Ok(on_pool!(db, p => sqlx::query_as::<_, PublicProfile>(&sql).bind(whom).bind(limit).fetch_all(p).await?))
}

/// People `who` follows, newest first.
pub async fn following(db: &Db, who: AccountId, limit: i64) -> StoreResult<Vec<PublicProfile>> {
    let sql = format!("SELECT {COLS} FROM user_follows f JOIN accounts a ON a.id = f.followee_id WHERE f.follower_id = $1 ORDER BY f.created_at DESC LIMIT $2");
    Ok(on_pool!(db, p => sqlx::query_as::<_, PublicProfile>(&sql).bind(who).bind(limit).fetch_all(p).await?))
}

/// Counts of followers and following.
pub async fn counts(db: &Db, who: AccountId) -> StoreResult<(i64, i64)> {
    on_pool!(db, p => {
        let followers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM user_follows WHERE followee_id = $1").bind(who).fetch_one(p).await?;
        let following: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM user_follows WHERE follower_id = $1").bind(who).fetch_one(p).await?;
        Ok((followers, following))
    })
}
