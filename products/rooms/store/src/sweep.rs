//! The presence sweep (a platform-jobs job, every 10 s): participants gone
//! silent leave (seated ones after the 45 s seat hold), lapsed invitations
//! go, and rooms empty for two minutes close themselves.

use crate::{on_pool, BeginWrite, Db, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::ids::{AccountId, RoomId};
use rooms_domain::limits;
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Default, Serialize)]
pub struct SweepCounts {
    pub left: u64,
    pub invites_expired: u64,
    pub rooms_closed: u64,
    /// Who left which room (for voice to follow).
    #[serde(skip)]
    pub gone: Vec<(RoomId, AccountId)>,
    /// The rooms closed.
    #[serde(skip)]
    pub closed: Vec<RoomId>,
}

pub async fn run(db: &Db, now: DateTime<Utc>) -> StoreResult<SweepCounts> {
    let mut counts = SweepCounts::default();
    let silent = now - limits::chrono(limits::PRESENCE_TIMEOUT);
    let held = now - limits::chrono(limits::SEAT_HOLD);
    // Unseated participants silent past the timeout; seated ones past the hold.
    let stale: Vec<(RoomId, AccountId, bool)> = on_pool!(db, p => sqlx::query_as(
        "SELECT rp.room_id, rp.account_id, EXISTS (SELECT 1 FROM seats s WHERE s.room_id = rp.room_id AND s.occupant_id = rp.account_id)
         FROM room_participants rp WHERE rp.last_seen_at < $1")
        .bind(silent).fetch_all(p).await?);
    for (room, who, seated) in stale {
        let cutoff = if seated { held } else { silent };
        let gone = on_pool!(db, p => {
            let mut tx = p.begin_write().await?;
            // Re-checked under the write lock: a heartbeat in between keeps them.
            let gone = leave_tx!(tx, room, who, "timeout", now, "last_seen_at < $3", Some(cutoff));
            tx.commit().await?;
            gone
        });
        counts.left += u64::from(gone);
        if gone {
            counts.gone.push((room, who));
        }
    }
    let expired: Vec<(RoomId, AccountId, i64)> = on_pool!(db, p => sqlx::query_as(
        "DELETE FROM seat_invites WHERE expires_at <= $1 RETURNING room_id, account_id, seat_no").bind(now).fetch_all(p).await?);
    for (room, who, seat) in &expired {
        on_pool!(db, p => {
            let mut tx = p.begin_write().await?;
            room_event!(tx, *room, "invite_expired", json!({"account": who, "seat": seat}), now);
            tx.commit().await?;
        });
    }
    counts.invites_expired = expired.len() as u64;
    let close_before = now - limits::chrono(limits::EMPTY_ROOM_AUTO_CLOSE);
    let empty: Vec<RoomId> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT id FROM rooms WHERE status = 'open' AND present = 0 AND empty_since IS NOT NULL AND empty_since <= $1")
        .bind(close_before).fetch_all(p).await?);
    for room in empty {
        let closed = on_pool!(db, p => {
            let mut tx = p.begin_write().await?;
            // Only if still empty since then: someone may have just joined.
            let still: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rooms WHERE id = $1 AND present = 0 AND empty_since <= $2")
                .bind(room).bind(close_before).fetch_one(&mut *tx).await?;
            let closed = still > 0 && close_tx!(tx, room, "empty", now);
            tx.commit().await?;
            closed
        });
        counts.rooms_closed += u64::from(closed);
        if closed {
            counts.closed.push(room);
        }
    }
    Ok(counts)
}
