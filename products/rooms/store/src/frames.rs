//! Avatar frames (requirements 5.5, 5.7): the catalogue, buying one for
//! its period with coins through the ledger (the price the buyer saw is
//! checked, a repeated request key is refused, too few coins writes
//! nothing; `sale`), rebuying on top of the time left, wearing one at a time, and
//! the job that removes lapsed ones. Coins spent on frames add wealth XP.

use crate::economy;
use crate::{on_pool, refused, sale, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::ids::{AccountId, FrameId, FramePurchaseId};
use rooms_domain::status::{self, Privilege};
use serde::Serialize;
use serde_json::json;

/// The ledger reason of a frame purchase.
pub const FRAME_PURCHASE: &str = "frame_purchase";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Frame {
    pub id: FrameId,
    pub code: String,
    pub name: String,
    pub price: i64,
    pub days: i64,
    pub premium: bool,
    pub active: bool,
    pub sort: i64,
}

const FRAME_COLUMNS: &str = "id, code, name, price, days, premium, active, sort";

/// The frames on sale, in order.
pub async fn catalogue(db: &Db) -> StoreResult<Vec<Frame>> {
    let sql = format!("SELECT {FRAME_COLUMNS} FROM frames WHERE active ORDER BY sort, price");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Frame>(&sql).fetch_all(p).await?))
}

pub async fn frame(db: &Db, id: FrameId) -> StoreResult<Frame> {
    let sql = format!("SELECT {FRAME_COLUMNS} FROM frames WHERE id = $1");
    on_pool!(db, p => sqlx::query_as::<_, Frame>(&sql).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// A frame someone owns, until when, and whether they wear it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Owned {
    pub frame_id: FrameId,
    pub code: String,
    pub name: String,
    pub expires_at: DateTime<Utc>,
    pub worn: bool,
}

/// `who`'s frames still running at `now`, the one worn first.
pub async fn owned(db: &Db, who: AccountId, now: DateTime<Utc>) -> StoreResult<Vec<Owned>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Owned>(
        "SELECT o.frame_id, f.code, f.name, o.expires_at, o.worn FROM owned_frames o JOIN frames f ON f.id = o.frame_id
         WHERE o.account_id = $1 AND o.expires_at > $2 ORDER BY o.worn DESC, f.sort")
        .bind(who).bind(now).fetch_all(p).await?))
}

/// The code of the frame each of `who` wears at `now` (absent: none).
pub async fn worn(db: &Db, who: &[AccountId], now: DateTime<Utc>) -> StoreResult<Vec<(AccountId, String)>> {
    let mut out = vec![];
    for chunk in who.chunks(100) {
        let marks = platform_db::placeholders(2, chunk.len());
        let sql = format!(
            "SELECT o.account_id, f.code FROM owned_frames o JOIN frames f ON f.id = o.frame_id
             WHERE o.worn AND o.expires_at > $1 AND o.account_id IN ({marks})"
        );
        let rows: Vec<(AccountId, String)> = on_pool!(db, p => {
            let mut q = sqlx::query_as(&sql).bind(now);
            for a in chunk {
                q = q.bind(*a);
            }
            q.fetch_all(p).await?
        });
        out.extend(rows);
    }
    Ok(out)
}

/// What a purchase did.
#[derive(Debug, Clone, Serialize)]
pub struct Bought {
    pub purchase_id: FramePurchaseId,
    pub frame_id: FrameId,
    pub price: i64,
    pub days: i64,
    /// The frame's new end (time stacked on what was left).
    pub expires_at: DateTime<Utc>,
    /// The buyer's coins after.
    pub balance: i64,
}

/// Buys `frame` for its period at the price the buyer saw (`seen_price`;
/// a changed price → `price_changed`, refresh). Refusals: `frame_unavailable`,
/// `level_required` (premium frames), `duplicate_purchase` (the request
/// key was used); too few coins → `Insufficient`, nothing written. The
/// debit, the purchase record and the new end are one transaction.
pub async fn buy(db: &Db, who: AccountId, frame_id: FrameId, seen_price: i64, key: &str, now: DateTime<Utc>) -> StoreResult<Bought> {
    sale::check_key(key)?;
    let f = frame(db, frame_id).await.map_err(|_| refused("frame_unavailable", "That frame is not on sale"))?;
    if !f.active {
        return Err(refused("frame_unavailable", "That frame is not on sale"));
    }
    sale::check_price(f.price, seen_price)?;
    if f.premium {
        crate::levels::require(db, who, Privilege::PremiumFrames, "Premium frames open at a higher wealth level").await?;
    }
    let till = sale::till(db, key).await?;
    let id = FramePurchaseId::new();
    let ledger_key = format!("frame:{who}:{key}");
    let expires_at = sale::settled(on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        sale_key_unused!(tx, "SELECT COUNT(*) FROM frame_purchases WHERE account_id = $1 AND request_key = $2", who, key);
        let current: Option<DateTime<Utc>> = sqlx::query_scalar("SELECT expires_at FROM owned_frames WHERE account_id = $1 AND frame_id = $2")
            .bind(who).bind(frame_id).fetch_optional(&mut *tx).await?;
        let Some(expires_at) = status::extend(current, now, f.days) else {
            return Err(StoreError::Refused { field: "days", message: "That period cannot be added".into() });
        };
        sqlx::query("INSERT INTO frame_purchases (id, account_id, frame_id, request_key, price, days, expires_at, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(id).bind(who).bind(frame_id).bind(key).bind(f.price).bind(f.days).bind(expires_at).bind(now).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO owned_frames (account_id, frame_id, expires_at, worn) VALUES ($1, $2, $3, FALSE)
                     ON CONFLICT (account_id, frame_id) DO UPDATE SET expires_at = excluded.expires_at")
            .bind(who).bind(frame_id).bind(expires_at).execute(&mut *tx).await?;
        sale_charge!(tx, &till, who, f.price, FRAME_PURCHASE, id.to_string(), &ledger_key, key, now);
        user_event!(tx, who, "frame_bought", json!({"frame": f.code, "expires_at": expires_at}), now);
        tx.commit().await?;
        Ok::<DateTime<Utc>, StoreError>(expires_at)
    }
    .await))?;
    Ok(Bought { purchase_id: id, frame_id, price: f.price, days: f.days, expires_at, balance: economy::balances(db, who).await?.coins })
}

/// Wears `frame` (taking off any other), or takes every frame off
/// (`None`). Refusals: `not_owned`, `frame_expired`.
pub async fn wear(db: &Db, who: AccountId, frame: Option<FrameId>, now: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        if let Some(f) = frame {
            let end: Option<DateTime<Utc>> = sqlx::query_scalar("SELECT expires_at FROM owned_frames WHERE account_id = $1 AND frame_id = $2")
                .bind(who).bind(f).fetch_optional(&mut *tx).await?;
            match end {
                None => return Err(refused("not_owned", "Buy this frame first")),
                Some(end) if !status::running(end, now) => return Err(refused("frame_expired", "This frame has expired: buy it again")),
                Some(_) => {}
            }
        }
        sqlx::query("UPDATE owned_frames SET worn = FALSE WHERE account_id = $1 AND worn").bind(who).execute(&mut *tx).await?;
        if let Some(f) = frame {
            sqlx::query("UPDATE owned_frames SET worn = TRUE WHERE account_id = $1 AND frame_id = $2").bind(who).bind(f).execute(&mut *tx).await?;
        }
        user_event!(tx, who, "frame_worn", json!({"frame_id": frame}), now);
        tx.commit().await?;
        Ok(())
    })
}

/// The job: removes frames lapsed at `now`, telling each owner. Returns
/// how many were removed.
pub async fn expire(db: &Db, now: DateTime<Utc>) -> StoreResult<u64> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let gone: Vec<(AccountId, FrameId, String)> = sqlx::query_as(
            "SELECT o.account_id, o.frame_id, f.code FROM owned_frames o JOIN frames f ON f.id = o.frame_id WHERE o.expires_at <= $1 ORDER BY o.account_id LIMIT 1000")
            .bind(now).fetch_all(&mut *tx).await?;
        for (who, frame, code) in &gone {
            let n = sqlx::query("DELETE FROM owned_frames WHERE account_id = $1 AND frame_id = $2 AND expires_at <= $3")
                .bind(*who).bind(*frame).bind(now).execute(&mut *tx).await?.rows_affected();
            if n > 0 {
                user_event!(tx, *who, "frame_expired", json!({"frame": code}), now);
            }
        }
        tx.commit().await?;
        Ok(gone.len() as u64)
    })
}
