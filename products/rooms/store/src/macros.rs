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
