//! Statements that run inside a caller's transaction on either store. Each
//! expands to typed sqlx calls on `$tx` (a transaction of either backend,
//! inside `on_pool!`), so one text serves both.

/// Appends an event to the room outbox.
macro_rules! room_event {
    ($tx:expr, $room:expr, $kind:expr, $payload:expr, $now:expr) => {
        sqlx::query("INSERT INTO room_events (room_id, kind, payload, created_at) VALUES ($1, $2, $3, $4)")
            .bind($room)
            .bind($kind)
            .bind(serde_json::Value::to_string(&$payload))
            .bind($now)
            .execute(&mut *$tx)
            .await?
    };
}

/// Appends an event to one person's outbox.
macro_rules! user_event {
    ($tx:expr, $account:expr, $kind:expr, $payload:expr, $now:expr) => {
        sqlx::query("INSERT INTO user_events (account_id, kind, payload, created_at) VALUES ($1, $2, $3, $4)")
            .bind($account)
            .bind($kind)
            .bind(serde_json::Value::to_string(&$payload))
            .bind($now)
            .execute(&mut *$tx)
            .await?
    };
}

/// Records a room action: moderator, target, room, action, reason, time.
macro_rules! mod_log {
    ($tx:expr, $room:expr, $actor:expr, $target:expr, $action:expr, $reason:expr, $now:expr) => {
        sqlx::query("INSERT INTO moderation_log (room_id, actor_id, target_id, action, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind($room)
            .bind($actor)
            .bind($target)
            .bind($action.as_str())
            .bind($reason)
            .bind($now)
            .execute(&mut *$tx)
            .await?
    };
}

/// Records a staff or account action in the audit log.
macro_rules! audit {
    ($tx:expr, $actor:expr, $action:expr, $kind:expr, $target:expr, $detail:expr, $now:expr) => {
        sqlx::query("INSERT INTO audit_log (actor_id, action, target_kind, target_id, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind($actor)
            .bind($action)
            .bind($kind)
            .bind($target)
            .bind($detail)
            .bind($now)
            .execute(&mut *$tx)
            .await?
    };
}

/// The room role of `$who` in `$room`, read in the transaction:
/// `Some(role)`, or `None` when the room does not exist.
macro_rules! role_of {
    ($tx:expr, $room:expr, $who:expr) => {{
        let text: Option<String> = sqlx::query_scalar(
            "SELECT CASE WHEN r.owner_id = $2 THEN 'owner'
                    ELSE COALESCE((SELECT m.role FROM room_members m WHERE m.room_id = r.id AND m.account_id = $2), 'visitor') END
             FROM rooms r WHERE r.id = $1",
        )
        .bind($room)
        .bind($who)
        .fetch_optional(&mut *$tx)
        .await?;
        text.and_then(|t| t.parse::<rooms_domain::room::RoomRole>().ok())
    }};
}

/// Ends the open seat session (`seat_sessions`) of `$who` in `$room` at
/// `$now` with `$reason`: mic time is the exact time between taking a seat
/// and leaving it, written with the seat change itself.
macro_rules! end_seat_session {
    ($tx:expr, $room:expr, $who:expr, $reason:expr, $now:expr) => {
        sqlx::query("UPDATE seat_sessions SET ended_at = $3, end_reason = $4 WHERE room_id = $1 AND account_id = $2 AND ended_at IS NULL")
            .bind($room)
            .bind($who)
            .bind($now)
            .bind($reason)
            .execute(&mut *$tx)
            .await?
    };
}

/// Opens the seat session of `$who` on seat `$seat` of `$room` from `$now`
/// (a session still open elsewhere, which a seat change never leaves, is
/// ended first: one open session per account).
macro_rules! start_seat_session {
    ($tx:expr, $room:expr, $seat:expr, $who:expr, $now:expr) => {
        sqlx::query("UPDATE seat_sessions SET ended_at = $2, end_reason = 'replaced' WHERE account_id = $1 AND ended_at IS NULL")
            .bind($who)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
        sqlx::query("INSERT INTO seat_sessions (room_id, seat_no, account_id, started_at) VALUES ($1, $2, $3, $4)")
            .bind($room)
            .bind($seat)
            .bind($who)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
    };
}

/// Takes `$who` out of `$room` inside a transaction: frees their seat,
/// drops their requests and invitations, lowers the count and writes the
/// events. Evaluates to whether they were present (matching `$extra`, an
/// SQL condition on the participant row, such as a staleness cut-off bound
/// as `$3`).
macro_rules! leave_tx {
    ($tx:expr, $room:expr, $who:expr, $reason:expr, $now:expr) => {
        leave_tx!($tx, $room, $who, $reason, $now, "TRUE OR $3 IS NULL", None::<chrono::DateTime<chrono::Utc>>)
    };
    ($tx:expr, $room:expr, $who:expr, $reason:expr, $now:expr, $extra:expr, $cutoff:expr) => {{
        let sql = format!("DELETE FROM room_participants WHERE room_id = $1 AND account_id = $2 AND ({})", $extra);
        let gone = sqlx::query(&sql).bind($room).bind($who).bind($cutoff).execute(&mut *$tx).await?.rows_affected() > 0;
        if gone {
            let seat: Option<i64> = sqlx::query_scalar("UPDATE seats SET occupant_id = NULL, muted = FALSE, muted_by_moderator = FALSE WHERE room_id = $1 AND occupant_id = $2 RETURNING seat_no")
                .bind($room).bind($who).fetch_optional(&mut *$tx).await?;
            if let Some(no) = seat {
                end_seat_session!($tx, $room, $who, $reason, $now);
                room_event!($tx, $room, "seat_freed", serde_json::json!({"seat": no, "account": $who, "reason": $reason}), $now);
            }
            sqlx::query("DELETE FROM seat_requests WHERE room_id = $1 AND account_id = $2").bind($room).bind($who).execute(&mut *$tx).await?;
            sqlx::query("DELETE FROM seat_invites WHERE room_id = $1 AND account_id = $2").bind($room).bind($who).execute(&mut *$tx).await?;
            sqlx::query("UPDATE rooms SET present = present - 1 WHERE id = $1").bind($room).execute(&mut *$tx).await?;
            sqlx::query("UPDATE rooms SET empty_since = $2 WHERE id = $1 AND present = 0").bind($room).bind($now).execute(&mut *$tx).await?;
            room_event!($tx, $room, "left", serde_json::json!({"account": $who, "reason": $reason}), $now);
        }
        gone
    }};
}

/// Revokes every credential of `$id` inside a transaction: web sessions,
/// refresh tokens (platform-accounts' tables) and access tokens issued
/// until `$now`.
macro_rules! revoke_in_tx {
    ($tx:expr, $id:expr, $now:expr) => {
        sqlx::query("UPDATE accounts SET credentials_after = $2 WHERE id = $1").bind($id).bind($now).execute(&mut *$tx).await?;
        sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL")
            .bind($id)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
        sqlx::query("UPDATE refresh_tokens SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL")
            .bind($id)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
    };
}

/// Closes `$room` inside a transaction: everyone out, seats freed,
/// requests and invitations dropped, clients told. Evaluates to whether it
/// was open.
macro_rules! close_tx {
    ($tx:expr, $room:expr, $reason:expr, $now:expr) => {{
        let n = sqlx::query("UPDATE rooms SET status = 'closed', closed_at = $2, present = 0, empty_since = NULL WHERE id = $1 AND status = 'open'")
            .bind($room)
            .bind($now)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
        if n > 0 {
            sqlx::query("DELETE FROM room_participants WHERE room_id = $1").bind($room).execute(&mut *$tx).await?;
            sqlx::query("UPDATE seats SET occupant_id = NULL, muted = FALSE, muted_by_moderator = FALSE WHERE room_id = $1").bind($room).execute(&mut *$tx).await?;
            sqlx::query("UPDATE seat_sessions SET ended_at = $2, end_reason = 'room_closed' WHERE room_id = $1 AND ended_at IS NULL")
                .bind($room)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
            sqlx::query("DELETE FROM seat_requests WHERE room_id = $1").bind($room).execute(&mut *$tx).await?;
            sqlx::query("DELETE FROM seat_invites WHERE room_id = $1").bind($room).execute(&mut *$tx).await?;
            room_event!($tx, $room, "room_closed", serde_json::json!({"room": $room, "reason": $reason}), $now);
        }
        n > 0
    }};
}

/// Records a kick (with its end) or a block (no end) of `$who` in `$room`.
macro_rules! ban_tx {
    ($tx:expr, $room:expr, $who:expr, $kind:expr, $until:expr, $reason:expr, $by:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO room_bans (room_id, account_id, kind, until, reason, by_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (room_id, account_id) DO UPDATE SET kind = excluded.kind, until = excluded.until, reason = excluded.reason,
                 by_id = excluded.by_id, created_at = excluded.created_at",
        )
        .bind($room)
        .bind($who)
        .bind($kind)
        .bind($until)
        .bind($reason)
        .bind($by)
        .bind($now)
        .execute(&mut *$tx)
        .await?
    };
}

/// Fits a room's seats to its owner's choice plus the seats the owner's
/// running VIP tier adds (within 15, `rooms_domain::vip::seats_with_bonus`):
/// seats above are removed (their occupants told), missing ones added, and
/// `rooms.bonus_seats` kept. Evaluates to who sat on a removed seat, with
/// its number (voice must mute them once the transaction commits).
macro_rules! fit_seats {
    ($tx:expr, $room:expr, $now:expr) => {{
        let room: rooms_domain::ids::RoomId = $room;
        let (owner, chosen): (rooms_domain::ids::AccountId, i64) =
            sqlx::query_as("SELECT owner_id, seat_count FROM rooms WHERE id = $1").bind(room).fetch_one(&mut *$tx).await?;
        let extra: Option<i64> = sqlx::query_scalar(
            "SELECT t.extra_seats FROM vip_memberships m JOIN vip_tiers t ON t.tier = m.tier WHERE m.account_id = $1 AND m.expires_at > $2",
        )
        .bind(owner)
        .bind($now)
        .fetch_optional(&mut *$tx)
        .await?;
        let total = rooms_domain::vip::seats_with_bonus(chosen, extra.unwrap_or(0));
        let removed: Vec<(i64, Option<rooms_domain::ids::AccountId>)> =
            sqlx::query_as("DELETE FROM seats WHERE room_id = $1 AND seat_no > $2 RETURNING seat_no, occupant_id")
                .bind(room)
                .bind(total)
                .fetch_all(&mut *$tx)
                .await?;
        let mut unseated: Vec<(i64, rooms_domain::ids::AccountId)> = vec![];
        for (no, occupant) in removed {
            room_event!($tx, room, "seat_removed", serde_json::json!({"seat": no, "account": occupant}), $now);
            if let Some(who) = occupant {
                end_seat_session!($tx, room, who, "seat_removed", $now);
                unseated.push((no, who));
            }
        }
        for no in 1..=total {
            sqlx::query("INSERT INTO seats (room_id, seat_no) VALUES ($1, $2) ON CONFLICT (room_id, seat_no) DO NOTHING")
                .bind(room)
                .bind(no)
                .execute(&mut *$tx)
                .await?;
        }
        sqlx::query("UPDATE rooms SET bonus_seats = $2 WHERE id = $1").bind(room).bind(total - chosen).execute(&mut *$tx).await?;
        unseated
    }};
}

/// Refuses with `vip_protected` when the target's running VIP tier shields
/// them from `$action` by an actor of `$actor_role`
/// (`rooms_domain::vip::shield`), read in the action's transaction.
macro_rules! vip_shield {
    ($tx:expr, $actor:expr, $actor_role:expr, $action:expr, $target:expr, $now:expr) => {{
        let target: rooms_domain::ids::AccountId = $target;
        let lists: Vec<String> = sqlx::query_scalar(
            "SELECT t.privileges FROM vip_memberships m JOIN vip_tiers t ON t.tier <= m.tier WHERE m.account_id = $1 AND m.expires_at > $2",
        )
        .bind(target)
        .bind($now)
        .fetch_all(&mut *$tx)
        .await?;
        let mut privileges = std::collections::BTreeSet::new();
        for l in &lists {
            privileges.extend(rooms_domain::status::parse_privileges(l).map_err(StoreError::Invalid)?);
        }
        let aim = if $actor == target {
            rooms_domain::moderation::Target::Myself
        } else {
            rooms_domain::moderation::Target::Other(rooms_domain::room::RoomRole::Visitor)
        };
        if let Err(message) = rooms_domain::vip::shield($action, $actor_role, aim, &privileges) {
            return Err(crate::refused("vip_protected", message));
        }
    }};
}

/// Records each level `$subject` reached on `$track` (XP from the `all`
/// counters of `$board`) once, and announces it: `room_level_up` to the
/// room (`$room`, for the room track), `level_up` to the person otherwise.
macro_rules! levels_reached {
    ($tx:expr, $ladder:expr, $track:expr, $board:expr, $subject:expr, $room:expr, $now:expr) => {{
        let (ladder, track, subject): (&rooms_domain::status::Ladder, rooms_domain::progress::Track, &String) = ($ladder, $track, $subject);
        let room: Option<rooms_domain::ids::RoomId> = $room;
        let (xp, known): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT CAST(SUM(amount) AS BIGINT) FROM gift_counters WHERE board = $1 AND period = 'all' AND subject = $2),
                    (SELECT MAX(level) FROM level_events WHERE track = $3 AND subject = $2)",
        )
        .bind($board)
        .bind(subject)
        .bind(track.as_str())
        .fetch_one(&mut *$tx)
        .await?;
        level_ups!($tx, ladder, track, subject, room, xp, known, $now);
    }};
}

/// The levels of `$subject` on `$track` above `$known` (the highest one
/// recorded) up to what `$xp` reaches: each recorded once and announced
/// (the second half of [`levels_reached`]).
macro_rules! level_ups {
    ($tx:expr, $ladder:expr, $track:expr, $subject:expr, $room:expr, $xp:expr, $known:expr, $now:expr) => {{
        let (ladder, track, subject): (&rooms_domain::status::Ladder, rooms_domain::progress::Track, &String) = ($ladder, $track, $subject);
        let room: Option<rooms_domain::ids::RoomId> = $room;
        let (xp, known): (Option<i64>, Option<i64>) = ($xp, $known);
        let level = ladder.level(xp.unwrap_or(0));
        for reached in (known.unwrap_or(1) + 1)..=level {
            let n = sqlx::query(
                "INSERT INTO level_events (track, subject, level, reached_at) VALUES ($1, $2, $3, $4) ON CONFLICT (track, subject, level) DO NOTHING",
            )
            .bind(track.as_str())
            .bind(subject)
            .bind(reached)
            .bind($now)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
            if n == 0 {
                continue;
            }
            let step = ladder.step(reached);
            let data = serde_json::json!({
                "track": track, "level": reached, "badge": step.map(|x| x.badge.as_str()),
                "unlocks": step.map(|x| x.privileges.clone()).unwrap_or_default(),
            });
            match (track, room) {
                (rooms_domain::progress::Track::Room, Some(room)) => {
                    room_event!($tx, room, "room_level_up", data, $now);
                }
                (rooms_domain::progress::Track::Room, None) => {}
                _ => {
                    let who: rooms_domain::ids::AccountId = subject.parse().map_err(|_| StoreError::Invalid(subject.clone()))?;
                    user_event!($tx, who, "level_up", data, $now);
                }
            }
        }
    }};
}

/// [`levels_reached`] for many `(track, board, subject, room)` at once:
/// every subject's XP and highest recorded level in one statement (200
/// subjects a statement), then only the levels reached are written. The
/// list's order is the lock order of the `level_events` rows written.
macro_rules! levels_reached_many {
    ($tx:expr, $ladders:expr, $tracks:expr, $now:expr) => {{
        let ladders: &crate::levels::Ladders = $ladders;
        let tracks: &[(rooms_domain::progress::Track, &str, String, Option<rooms_domain::ids::RoomId>)] = $tracks;
        for chunk in tracks.chunks(200) {
            let values = platform_db::value_tuples(1, 3, chunk.len());
            let sql = format!(
                "WITH t (track, board, subject) AS (VALUES {values})
                 SELECT t.track, t.subject,
                        (SELECT CAST(SUM(c.amount) AS BIGINT) FROM gift_counters c WHERE c.board = t.board AND c.period = 'all' AND c.subject = t.subject),
                        (SELECT MAX(e.level) FROM level_events e WHERE e.track = t.track AND e.subject = t.subject)
                 FROM t"
            );
            let mut q = sqlx::query_as::<_, (String, String, Option<i64>, Option<i64>)>(&sql);
            for (track, board, subject, _) in chunk {
                q = q.bind(track.as_str()).bind(*board).bind(subject.as_str());
            }
            let found = q.fetch_all(&mut *$tx).await?;
            for (track, _, subject, room) in chunk {
                let Some((_, _, xp, known)) = found.iter().find(|f| f.0 == track.as_str() && &f.1 == subject) else { continue };
                let ladder = ladders.get(*track);
                if ladder.level(xp.unwrap_or(0)) > known.unwrap_or(1) {
                    level_ups!($tx, ladder, *track, subject, *room, *xp, *known, $now);
                }
            }
        }
    }};
}

/// Coins `$who` spent on a purchase (a frame, a VIP tier) add as much
/// wealth XP (BR-4, requirement 9.1) on the `wealth_xp` board's all-time
/// counter (shard from the request key), and the levels it reaches are
/// recorded and announced.
macro_rules! spend_xp {
    ($tx:expr, $ladders:expr, $who:expr, $coins:expr, $key:expr, $now:expr) => {{
        let subject = $who.to_string();
        let shard = i64::from(rooms_domain::economy::shard_of($key));
        sqlx::query(
            "INSERT INTO gift_counters (board, period, subject, shard, amount, gifts, last_at) VALUES ('wealth_xp', 'all', $1, $2, $3, 0, $4)
             ON CONFLICT (board, period, subject, shard) DO UPDATE SET amount = gift_counters.amount + excluded.amount, last_at = excluded.last_at",
        )
        .bind(&subject)
        .bind(shard)
        .bind($coins)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
        let ladders: &crate::levels::Ladders = $ladders;
        levels_reached!($tx, &ladders.wealth, rooms_domain::progress::Track::Wealth, "wealth_xp", &subject, None, $now);
    }};
}
