//! Seats and moderation (requirements 3.2, 4.1–4.6). Every action reads
//! the actor's and the target's room roles in its own transaction, asks
//! `rooms_domain::moderation::authorize`, applies the change, logs it
//! (moderator, target, room, action, reason, time) and writes its event to
//! the room outbox, all in one commit.
//!
//! Taking a seat is one conditional `UPDATE … WHERE occupant_id IS NULL AND
//! NOT locked`: of two users taking the last free seat at once, exactly one
//! changes the row. A user holds at most one seat (a unique index).
//!
//! Voice seam: after a seat, mute or kick change commits, the web layer
//! tells the voice service (`VoiceService`) to allow, mute or drop the
//! participant's audio.

use crate::{conflict_on, on_pool, refusal, refused, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::ids::{AccountId, RoomId};
use rooms_domain::limits;
use rooms_domain::moderation::{authorize, how_to_sit, may_unmute_self, Action, Sit, Target};
use rooms_domain::room::RoomRole;
use serde_json::json;

fn target_of(actor: AccountId, target: AccountId, role: Option<RoomRole>) -> Target {
    if actor == target {
        Target::Myself
    } else {
        // A target without a resolvable role is treated as a visitor; the
        // room itself exists (the actor's role resolved).
        Target::Other(role.unwrap_or(RoomRole::Visitor))
    }
}

/// Who did what to whom, and why.
#[derive(Debug, Clone, Copy)]
pub struct Act<'a> {
    pub room: RoomId,
    pub actor: AccountId,
    pub reason: &'a str,
}

/// Checks `act.actor` may do `action` to `target` and runs `$body` in the
/// same transaction, then logs the action and commits.
macro_rules! moderated {
    ($db:expr, $act:expr, $action:expr, $target:expr, $now:expr, |$tx:ident, $actor_role:ident, $target_role:ident| $body:block) => {{
        let act: Act<'_> = $act;
        let target: Option<AccountId> = $target;
        on_pool!($db, p => {
            let mut $tx = p.begin_write().await?;
            let $actor_role = role_of!($tx, act.room, act.actor);
            if $actor_role.is_none() {
                let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rooms WHERE id = $1").bind(act.room).fetch_one(&mut *$tx).await?;
                if exists == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            let $target_role = match target {
                Some(t) => role_of!($tx, act.room, t),
                None => None,
            };
            let aim = match target {
                Some(t) => target_of(act.actor, t, $target_role),
                None => Target::Nobody,
            };
            authorize($actor_role, $action, aim).map_err(refusal)?;
            let out = $body;
            mod_log!($tx, act.room, act.actor, target, $action, act.reason, $now);
            $tx.commit().await?;
            Ok(out)
        })
    }};
}

/// Whether the room is open and `who` is in it, inside a transaction.
macro_rules! require_present {
    ($tx:expr, $room:expr, $who:expr, $code:literal, $msg:literal) => {{
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM room_participants rp JOIN rooms r ON r.id = rp.room_id WHERE rp.room_id = $1 AND rp.account_id = $2 AND r.status = 'open'",
        )
        .bind($room)
        .bind($who)
        .fetch_one(&mut *$tx)
        .await?;
        if n == 0 {
            return Err(refused($code, $msg));
        }
    }};
}

/// Puts `$who` on seat `$seat` (or the lowest free one): one conditional
/// update. Evaluates to the seat number, or returns the refusal.
macro_rules! sit_tx {
    ($tx:expr, $room:expr, $who:expr, $seat:expr, $now:expr) => {{
        let seated: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM seats WHERE occupant_id = $1").bind($who).fetch_one(&mut *$tx).await?;
        if seated > 0 {
            return Err(refused("already_seated", "You already hold a seat; leave it first"));
        }
        let seat: Option<i64> = $seat;
        let wanted: Option<i64> = match seat {
            Some(n) => Some(n),
            None => sqlx::query_scalar("SELECT MIN(seat_no) FROM seats WHERE room_id = $1 AND occupant_id IS NULL AND NOT locked")
                .bind($room)
                .fetch_one(&mut *$tx)
                .await?,
        };
        let Some(no) = wanted else { return Err(refused("no_free_seat", "Every seat is taken")) };
        let r = sqlx::query(
            "UPDATE seats SET occupant_id = $3, muted = FALSE, muted_by_moderator = FALSE
             WHERE room_id = $1 AND seat_no = $2 AND occupant_id IS NULL AND NOT locked",
        )
        .bind($room)
        .bind(no)
        .bind($who)
        .execute(&mut *$tx)
        .await
        .map_err(StoreError::from);
        let n = match r {
            Ok(r) => r.rows_affected(),
            Err(e) if conflict_on(&e, "occupant_id") => return Err(refused("already_seated", "You already hold a seat; leave it first")),
            Err(e) => return Err(e),
        };
        if n == 0 {
            let row: Option<bool> = sqlx::query_scalar("SELECT locked FROM seats WHERE room_id = $1 AND seat_no = $2")
                .bind($room)
                .bind(no)
                .fetch_optional(&mut *$tx)
                .await?;
            return Err(match row {
                None => StoreError::Refused { field: "seat", message: "No such seat".into() },
                Some(true) => refused("seat_locked", "That seat is locked"),
                Some(false) => refused("seat_taken", "Someone just took that seat"),
            });
        }
        sqlx::query("DELETE FROM seat_requests WHERE room_id = $1 AND account_id = $2").bind($room).bind($who).execute(&mut *$tx).await?;
        sqlx::query("DELETE FROM seat_invites WHERE room_id = $1 AND account_id = $2").bind($room).bind($who).execute(&mut *$tx).await?;
        sqlx::query("UPDATE rooms SET last_activity_at = $2 WHERE id = $1").bind($room).bind($now).execute(&mut *$tx).await?;
        start_seat_session!($tx, $room, no, $who, $now);
        room_event!($tx, $room, "seat_taken", json!({"seat": no, "account": $who}), $now);
        no
    }};
}

/// Frees the seat `$who` holds, if any; evaluates to its number.
macro_rules! stand_tx {
    ($tx:expr, $room:expr, $who:expr, $reason:expr, $now:expr) => {{
        let seat: Option<i64> = sqlx::query_scalar(
            "UPDATE seats SET occupant_id = NULL, muted = FALSE, muted_by_moderator = FALSE WHERE room_id = $1 AND occupant_id = $2 RETURNING seat_no",
        )
        .bind($room)
        .bind($who)
        .fetch_optional(&mut *$tx)
        .await?;
        if let Some(no) = seat {
            end_seat_session!($tx, $room, $who, $reason, $now);
            room_event!($tx, $room, "seat_freed", json!({"seat": no, "account": $who, "reason": $reason}), $now);
        }
        seat
    }};
}

/// The user takes a seat (a given one, or the lowest free one). In apply
/// mode, users below admin must request instead (`must_apply`).
pub async fn take(db: &Db, room: RoomId, who: AccountId, seat: Option<i64>, now: DateTime<Utc>) -> StoreResult<i64> {
    let act = Act { room, actor: who, reason: "" };
    moderated!(db, act, Action::TakeSeat, Some(who), now, |tx, role, _t| {
        require_present!(tx, room, who, "not_in_room", "Join the room first");
        let (speak, text, pictures, apply): (bool, bool, bool, bool) =
            sqlx::query_as("SELECT visitor_speak, visitor_text, visitor_pictures, apply_mode FROM rooms WHERE id = $1")
                .bind(room)
                .fetch_one(&mut *tx)
                .await?;
        let perms = rooms_domain::room::VisitorPermissions { speak, text, pictures };
        match how_to_sit(role.unwrap_or(RoomRole::Visitor), perms, apply).map_err(refusal)? {
            Sit::Apply => return Err(refused("must_apply", "Seats in this room are by application; raise your hand")),
            Sit::Take => {}
        }
        sit_tx!(tx, room, who, seat, now)
    })
}

/// The user leaves their seat (and stays in the room).
pub async fn leave(db: &Db, room: RoomId, who: AccountId, now: DateTime<Utc>) -> StoreResult<Option<i64>> {
    let act = Act { room, actor: who, reason: "" };
    moderated!(db, act, Action::LeaveSeat, Some(who), now, |tx, _r, _t| { stand_tx!(tx, room, who, "left_seat", now) })
}

/// Raises a hand: asks the owner and admins for a seat.
pub async fn request(db: &Db, room: RoomId, who: AccountId, now: DateTime<Utc>) -> StoreResult<()> {
    let act = Act { room, actor: who, reason: "" };
    moderated!(db, act, Action::RequestSeat, Some(who), now, |tx, role, _t| {
        require_present!(tx, room, who, "not_in_room", "Join the room first");
        let (speak, text, pictures): (bool, bool, bool) =
            sqlx::query_as("SELECT visitor_speak, visitor_text, visitor_pictures FROM rooms WHERE id = $1")
                .bind(room)
                .fetch_one(&mut *tx)
                .await?;
        let perms = rooms_domain::room::VisitorPermissions { speak, text, pictures };
        how_to_sit(role.unwrap_or(RoomRole::Visitor), perms, true).map_err(refusal)?;
        let n = sqlx::query("INSERT INTO seat_requests (room_id, account_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(room)
            .bind(who)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n > 0 {
            room_event!(tx, room, "seat_requested", json!({"account": who}), now);
        }
    })
}

/// An owner or admin accepts a raised hand, seating the user.
pub async fn accept(db: &Db, act: Act<'_>, target: AccountId, seat: Option<i64>, now: DateTime<Utc>) -> StoreResult<i64> {
    let room = act.room;
    moderated!(db, act, Action::AcceptRequest, Some(target), now, |tx, _r, _t| {
        let n = sqlx::query("DELETE FROM seat_requests WHERE room_id = $1 AND account_id = $2")
            .bind(room)
            .bind(target)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(refused("no_request", "That person has not asked for a seat"));
        }
        require_present!(tx, room, target, "target_not_in_room", "That person is not in the room");
        sit_tx!(tx, room, target, seat, now)
    })
}

/// An owner or admin invites someone to a free seat; the invitation lapses
/// after 30 s.
pub async fn invite(db: &Db, act: Act<'_>, target: AccountId, seat: i64, now: DateTime<Utc>) -> StoreResult<DateTime<Utc>> {
    let room = act.room;
    let expires = now + limits::chrono(limits::SEAT_INVITE_EXPIRY);
    moderated!(db, act, Action::Invite, Some(target), now, |tx, _r, _t| {
        require_present!(tx, room, target, "target_not_in_room", "That person is not in the room");
        let row: Option<(Option<AccountId>, bool)> =
            sqlx::query_as("SELECT occupant_id, locked FROM seats WHERE room_id = $1 AND seat_no = $2")
                .bind(room)
                .bind(seat)
                .fetch_optional(&mut *tx)
                .await?;
        match row {
            None => return Err(StoreError::Refused { field: "seat", message: "No such seat".into() }),
            Some((_, true)) => return Err(refused("seat_locked", "That seat is locked")),
            Some((Some(_), _)) => return Err(refused("seat_taken", "That seat is taken")),
            Some((None, false)) => {}
        }
        sqlx::query("DELETE FROM seat_invites WHERE room_id = $1 AND account_id = $2").bind(room).bind(target).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO seat_invites (room_id, account_id, seat_no, invited_by, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(room)
            .bind(target)
            .bind(seat)
            .bind(act.actor)
            .bind(expires)
            .execute(&mut *tx)
            .await?;
        room_event!(tx, room, "seat_invited", json!({"account": target, "seat": seat, "expires_at": expires}), now);
        expires
    })
}

/// The invited user takes the seat they were invited to, while the
/// invitation lasts and the seat is still free.
pub async fn accept_invite(db: &Db, room: RoomId, who: AccountId, now: DateTime<Utc>) -> StoreResult<i64> {
    let act = Act { room, actor: who, reason: "invited" };
    moderated!(db, act, Action::TakeSeat, Some(who), now, |tx, _r, _t| {
        let seat: Option<i64> =
            sqlx::query_scalar("SELECT seat_no FROM seat_invites WHERE room_id = $1 AND account_id = $2 AND expires_at > $3")
                .bind(room)
                .bind(who)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(seat) = seat else { return Err(refused("no_invite", "The invitation has expired")) };
        require_present!(tx, room, who, "not_in_room", "Join the room first");
        sit_tx!(tx, room, who, Some(seat), now)
    })
}

/// Moves a seated user (oneself, or a lower rank) to another free seat.
pub async fn move_to(db: &Db, act: Act<'_>, target: AccountId, seat: i64, now: DateTime<Utc>) -> StoreResult<()> {
    let room = act.room;
    moderated!(db, act, Action::MoveSeat, Some(target), now, |tx, _r, _t| {
        let Some(from) = stand_tx!(tx, room, target, "moved", now) else {
            return Err(refused("not_seated", "That person holds no seat"));
        };
        let to = sit_tx!(tx, room, target, Some(seat), now);
        room_event!(tx, room, "seat_moved", json!({"account": target, "from": from, "to": to}), now);
    })
}

/// Locks or unlocks a free seat (owner and admins).
pub async fn set_locked(db: &Db, act: Act<'_>, seat: i64, locked: bool, now: DateTime<Utc>) -> StoreResult<()> {
    let room = act.room;
    let action = if locked { Action::Lock } else { Action::Unlock };
    moderated!(db, act, action, None, now, |tx, _r, _t| {
        let row: Option<Option<AccountId>> = sqlx::query_scalar("SELECT occupant_id FROM seats WHERE room_id = $1 AND seat_no = $2")
            .bind(room)
            .bind(seat)
            .fetch_optional(&mut *tx)
            .await?;
        match row {
            None => return Err(StoreError::Refused { field: "seat", message: "No such seat".into() }),
            Some(Some(_)) if locked => return Err(refused("seat_occupied", "Free the seat before locking it")),
            Some(_) => {}
        }
        sqlx::query("UPDATE seats SET locked = $3 WHERE room_id = $1 AND seat_no = $2")
            .bind(room)
            .bind(seat)
            .bind(locked)
            .execute(&mut *tx)
            .await?;
        if locked {
            sqlx::query("DELETE FROM seat_invites WHERE room_id = $1 AND seat_no = $2").bind(room).bind(seat).execute(&mut *tx).await?;
        }
        room_event!(tx, room, if locked { "seat_locked" } else { "seat_unlocked" }, json!({"seat": seat}), now);
    })
}

/// Mutes or unmutes a seated user (oneself, or a lower rank). Someone muted
/// by a moderator cannot unmute themselves.
pub async fn set_muted(db: &Db, act: Act<'_>, target: AccountId, muted: bool, now: DateTime<Utc>) -> StoreResult<()> {
    let room = act.room;
    let action = if muted { Action::Mute } else { Action::Unmute };
    let by_self = act.actor == target;
    moderated!(db, act, action, Some(target), now, |tx, actor_role, _t| {
        vip_shield!(tx, act.actor, actor_role, action, target, now);
        let row: Option<(i64, bool)> =
            sqlx::query_as("SELECT seat_no, muted_by_moderator FROM seats WHERE room_id = $1 AND occupant_id = $2")
                .bind(room)
                .bind(target)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((seat, by_moderator)) = row else { return Err(refused("not_seated", "That person holds no seat")) };
        if !muted && by_self && !may_unmute_self(by_moderator) {
            return Err(refused("muted_by_moderator", "A moderator muted you; ask them to unmute you"));
        }
        sqlx::query("UPDATE seats SET muted = $3, muted_by_moderator = $4 WHERE room_id = $1 AND seat_no = $2")
            .bind(room)
            .bind(seat)
            .bind(muted)
            .bind(muted && !by_self)
            .execute(&mut *tx)
            .await?;
        room_event!(tx, room, if muted { "muted" } else { "unmuted" }, json!({"seat": seat, "account": target, "by": act.actor}), now);
    })
}

/// Takes a lower-ranked user (or oneself) off their seat; they stay in the room.
pub async fn remove(db: &Db, act: Act<'_>, target: AccountId, now: DateTime<Utc>) -> StoreResult<()> {
    let room = act.room;
    moderated!(db, act, Action::RemoveFromSeat, Some(target), now, |tx, actor_role, _t| {
        vip_shield!(tx, act.actor, actor_role, Action::RemoveFromSeat, target, now);
        if stand_tx!(tx, room, target, "removed", now).is_none() {
            return Err(refused("not_seated", "That person holds no seat"));
        }
    })
}

/// Kicks a lower-ranked user out of the room; they may not re-enter for
/// the cool-down (10 minutes).
pub async fn kick(db: &Db, act: Act<'_>, target: AccountId, now: DateTime<Utc>) -> StoreResult<DateTime<Utc>> {
    let room = act.room;
    let until = now + limits::chrono(limits::KICK_COOLDOWN);
    moderated!(db, act, Action::Kick, Some(target), now, |tx, actor_role, _t| {
        vip_shield!(tx, act.actor, actor_role, Action::Kick, target, now);
        ban_tx!(tx, room, target, "kick", Some(until), act.reason, act.actor, now);
        leave_tx!(tx, room, target, "kicked", now);
        room_event!(tx, room, "kicked", json!({"account": target, "until": until, "by": act.actor, "reason": act.reason}), now);
        until
    })
}

/// Blocks a lower-ranked user from the room until unblocked.
pub async fn block(db: &Db, act: Act<'_>, target: AccountId, now: DateTime<Utc>) -> StoreResult<()> {
    let room = act.room;
    moderated!(db, act, Action::Block, Some(target), now, |tx, actor_role, _t| {
        vip_shield!(tx, act.actor, actor_role, Action::Block, target, now);
        ban_tx!(tx, room, target, "block", None::<DateTime<Utc>>, act.reason, act.actor, now);
        leave_tx!(tx, room, target, "blocked", now);
        room_event!(tx, room, "blocked", json!({"account": target, "by": act.actor}), now);
    })
}

/// Lifts a block.
pub async fn unblock(db: &Db, act: Act<'_>, target: AccountId, now: DateTime<Utc>) -> StoreResult<()> {
    let room = act.room;
    moderated!(db, act, Action::Unblock, Some(target), now, |tx, _r, _t| {
        let n = sqlx::query("DELETE FROM room_bans WHERE room_id = $1 AND account_id = $2 AND kind = 'block'")
            .bind(room)
            .bind(target)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(refused("not_blocked", "That person is not blocked"));
        }
        room_event!(tx, room, "unblocked", json!({"account": target}), now);
    })
}

/// The owner makes someone a room admin, or takes the role back (they stay
/// a member).
pub async fn set_admin(db: &Db, act: Act<'_>, target: AccountId, admin: bool, now: DateTime<Utc>) -> StoreResult<()> {
    let room = act.room;
    let action = if admin { Action::AppointAdmin } else { Action::RemoveAdmin };
    moderated!(db, act, action, Some(target), now, |tx, _r, target_role| {
        if !admin && target_role != Some(RoomRole::Admin) {
            return Err(refused("not_admin", "That person is not a room admin"));
        }
        let role = if admin { "admin" } else { "member" };
        sqlx::query(
            "INSERT INTO room_members (room_id, account_id, role, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (room_id, account_id) DO UPDATE SET role = excluded.role",
        )
        .bind(room)
        .bind(target)
        .bind(role)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        room_event!(tx, room, "role_changed", json!({"account": target, "role": role}), now);
    })
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Ban {
    pub account_id: AccountId,
    pub display_name: String,
    pub kind: String,
    pub until: Option<DateTime<Utc>>,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// Blocks and running kick cool-downs (for owners and admins to lift).
pub async fn bans(db: &Db, room: RoomId, now: DateTime<Utc>) -> StoreResult<Vec<Ban>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Ban>(
        "SELECT b.account_id, a.display_name, b.kind, b.until, b.reason, b.created_at FROM room_bans b JOIN accounts a ON a.id = b.account_id
         WHERE b.room_id = $1 AND (b.until IS NULL OR b.until > $2) ORDER BY b.created_at DESC")
        .bind(room).bind(now).fetch_all(p).await?))
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct LogEntry {
    pub seq: i64,
    pub actor_id: AccountId,
    pub target_id: Option<AccountId>,
    pub action: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// The room's action log, newest first (for the owner and staff).
pub async fn log(db: &Db, room: RoomId, limit: i64) -> StoreResult<Vec<LogEntry>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, LogEntry>(
        "SELECT seq, actor_id, target_id, action, reason, created_at FROM moderation_log WHERE room_id = $1 ORDER BY seq DESC LIMIT $2")
        .bind(room).bind(limit).fetch_all(p).await?))
}
