//! Being in a room: join (open room, no block or kick cool-down, free
//! capacity), leave, heartbeat, and the room's live state. A private room's
//! password is checked by the caller before [`join`] (it is a slow hash).
//!
//! Voice seam: after a successful join or leave, the web layer issues or
//! withdraws the participant's voice pass (`VoiceService`).

use crate::rooms::Room;
use crate::{on_pool, refused, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::ids::{AccountId, RoomId};
use rooms_domain::room::RoomRole;
use serde::Serialize;
use serde_json::json;

/// What a participant learns on entry.
#[derive(Debug, Clone, Serialize)]
pub struct Joined {
    pub role: RoomRole,
    /// Already inside (a reconnect within the hold): nothing changed.
    pub resumed: bool,
}

/// Enters `who` into `room`. Refusals: `room_closed`, `blocked`,
/// `kick_cooldown`, `room_full`. Entering again while present resumes.
pub async fn join(db: &Db, room: RoomId, who: AccountId, now: DateTime<Utc>) -> StoreResult<Joined> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM rooms WHERE id = $1").bind(room).fetch_optional(&mut *tx).await?;
        match status.as_deref() {
            None => return Err(StoreError::NotFound),
            Some("open") => {}
            Some(_) => return Err(refused("room_closed", "This room is closed")),
        }
        let ban: Option<(String, Option<DateTime<Utc>>)> = sqlx::query_as("SELECT kind, until FROM room_bans WHERE room_id = $1 AND account_id = $2")
            .bind(room).bind(who).fetch_optional(&mut *tx).await?;
        match ban {
            Some((kind, _)) if kind == "block" => return Err(refused("blocked", "You are blocked from this room")),
            Some((_, Some(until))) if until > now => {
                let mins = ((until - now).num_seconds() + 59) / 60;
                return Err(refused("kick_cooldown", format!("You were removed from this room; you may come back in {mins} min")));
            }
            Some(_) => {
                sqlx::query("DELETE FROM room_bans WHERE room_id = $1 AND account_id = $2").bind(room).bind(who).execute(&mut *tx).await?;
            }
            None => {}
        }
        let role = role_of!(tx, room, who).ok_or(StoreError::NotFound)?;
        let resumed = sqlx::query("UPDATE room_participants SET last_seen_at = $3 WHERE room_id = $1 AND account_id = $2")
            .bind(room).bind(who).bind(now).execute(&mut *tx).await?.rows_affected() > 0;
        if !resumed {
            // The count is the capacity guard: a conditional increment on
            // the room row, which serialises concurrent joins.
            let n = sqlx::query("UPDATE rooms SET present = present + 1, empty_since = NULL, last_activity_at = $2 WHERE id = $1 AND present < capacity")
                .bind(room).bind(now).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(refused("room_full", "This room is full; try again when someone leaves"));
            }
            sqlx::query("INSERT INTO room_participants (room_id, account_id, joined_at, last_seen_at) VALUES ($1, $2, $3, $3)")
                .bind(room).bind(who).bind(now).execute(&mut *tx).await?;
            let name: String = sqlx::query_scalar("SELECT display_name FROM accounts WHERE id = $1").bind(who).fetch_one(&mut *tx).await?;
            room_event!(tx, room, "joined", json!({"account": who, "name": name, "role": role}), now);
        }
        tx.commit().await?;
        Ok(Joined { role, resumed })
    })
}

/// Takes `who` out of `room`; whether they were in it.
pub async fn leave(db: &Db, room: RoomId, who: AccountId, now: DateTime<Utc>) -> StoreResult<bool> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let gone = leave_tx!(tx, room, who, "left", now);
        tx.commit().await?;
        Ok(gone)
    })
}

/// Marks `who` as still present; false when they are not in the room (the
/// client must join again).
pub async fn heartbeat(db: &Db, room: RoomId, who: AccountId, now: DateTime<Utc>) -> StoreResult<bool> {
    let n = on_pool!(db, p => sqlx::query("UPDATE room_participants SET last_seen_at = $3 WHERE room_id = $1 AND account_id = $2")
        .bind(room).bind(who).bind(now).execute(p).await?.rows_affected());
    Ok(n > 0)
}

/// Heartbeats for every room the accounts with these handles are in (the
/// demo's people on a local run).
pub async fn heartbeat_handles(db: &Db, handles: &[&str], now: DateTime<Utc>) -> StoreResult<u64> {
    let mut n = 0;
    for h in handles {
        n += on_pool!(db, p => sqlx::query("UPDATE room_participants SET last_seen_at = $2 WHERE account_id = (SELECT id FROM accounts WHERE handle = $1)")
            .bind(*h).bind(now).execute(p).await?.rows_affected());
    }
    Ok(n)
}

pub async fn is_present(db: &Db, room: RoomId, who: AccountId) -> StoreResult<bool> {
    let n: i64 = on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM room_participants WHERE room_id = $1 AND account_id = $2")
        .bind(room).bind(who).fetch_one(p).await?);
    Ok(n > 0)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SeatView {
    pub seat_no: i64,
    pub occupant_id: Option<AccountId>,
    pub occupant_name: Option<String>,
    pub locked: bool,
    pub muted: bool,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ParticipantView {
    pub account_id: AccountId,
    pub display_name: String,
    pub public_number: i64,
    pub role: RoomRole,
    pub joined_at: DateTime<Utc>,
}

/// A room as a newcomer sees it: settings, seats, participants, raised
/// hands, and the outbox position to follow live events from.
#[derive(Debug, Clone, Serialize)]
pub struct RoomState {
    pub room: Room,
    pub seats: Vec<SeatView>,
    pub participants: Vec<ParticipantView>,
    pub requests: Vec<AccountId>,
    /// Open seat invitations (lapsed ones are dropped by the sweep).
    pub invites: Vec<InviteView>,
    pub last_seq: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct InviteView {
    pub account_id: AccountId,
    pub seat_no: i64,
    pub expires_at: DateTime<Utc>,
}

pub async fn state(db: &Db, room: RoomId) -> StoreResult<RoomState> {
    let r = crate::rooms::get(db, room).await?.ok_or(StoreError::NotFound)?;
    on_pool!(db, p => {
        let seats: Vec<SeatView> = sqlx::query_as(
            "SELECT s.seat_no, s.occupant_id, a.display_name AS occupant_name, s.locked, s.muted
             FROM seats s LEFT JOIN accounts a ON a.id = s.occupant_id WHERE s.room_id = $1 ORDER BY s.seat_no")
            .bind(room).fetch_all(p).await?;
        let participants: Vec<ParticipantView> = sqlx::query_as(
            "SELECT rp.account_id, a.display_name, a.public_number,
                    CASE WHEN r.owner_id = rp.account_id THEN 'owner' ELSE COALESCE(m.role, 'visitor') END AS role, rp.joined_at
             FROM room_participants rp JOIN accounts a ON a.id = rp.account_id JOIN rooms r ON r.id = rp.room_id
             LEFT JOIN room_members m ON m.room_id = rp.room_id AND m.account_id = rp.account_id
             WHERE rp.room_id = $1 ORDER BY rp.joined_at")
            .bind(room).fetch_all(p).await?;
        let requests: Vec<AccountId> = sqlx::query_scalar("SELECT account_id FROM seat_requests WHERE room_id = $1 ORDER BY created_at")
            .bind(room).fetch_all(p).await?;
        let invites: Vec<InviteView> = sqlx::query_as("SELECT account_id, seat_no, expires_at FROM seat_invites WHERE room_id = $1 ORDER BY expires_at")
            .bind(room).fetch_all(p).await?;
        let last_seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM room_events WHERE room_id = $1").bind(room).fetch_one(p).await?;
        Ok(RoomState { room: r, seats, participants, requests, invites, last_seq: last_seq.unwrap_or(0) })
    })
}
