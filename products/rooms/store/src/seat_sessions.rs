//! Seat sessions: who held which seat from when to when, written with every
//! seat change (taking, leaving, moving, removal, kicks, time-outs, the
//! room closing, seats taken away by a lower seat count or an ended VIP
//! tier; `sit_tx!`, `stand_tx!`, `leave_tx!`, `close_tx!`, `fit_seats!`).
//! Valid mic hours (BR-6) come from these intervals. [`reconcile`] is the
//! `agencies` job's safety net only.

use crate::{on_pool, BeginWrite, Db, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::ids::{AccountId, RoomId};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SeatSession {
    pub room_id: RoomId,
    pub seat_no: i64,
    pub account_id: AccountId,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
}

/// `who`'s sessions overlapping [`from`, `to`), oldest first.
pub async fn of(db: &Db, who: AccountId, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<SeatSession>> {
    let sql = "SELECT room_id, seat_no, account_id, started_at, ended_at, end_reason FROM seat_sessions
               WHERE account_id = $1 AND started_at < $3 AND (ended_at IS NULL OR ended_at > $2) ORDER BY started_at, id";
    Ok(on_pool!(db, p => sqlx::query_as::<_, SeatSession>(sql).bind(who).bind(from).bind(to).fetch_all(p).await?))
}

/// What [`reconcile`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reconciled {
    /// Open sessions whose seat is no longer held by their account, ended.
    pub closed: u64,
    /// Held seats without an open session, given one from now.
    pub opened: u64,
}

/// The job's safety net: ends at `now` each open session whose seat is no
/// longer held by its account (reason `reconciled`; seat changes end their
/// sessions themselves, so only data left by a crash or written outside the
/// store qualifies), and opens a session from `now` for each seat held
/// without one (seats taken before sessions were recorded).
pub async fn reconcile(db: &Db, now: DateTime<Utc>) -> StoreResult<Reconciled> {
    Ok(on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let closed = sqlx::query(
            "UPDATE seat_sessions SET ended_at = $1, end_reason = 'reconciled' WHERE ended_at IS NULL AND NOT EXISTS
             (SELECT 1 FROM seats s WHERE s.room_id = seat_sessions.room_id AND s.seat_no = seat_sessions.seat_no AND s.occupant_id = seat_sessions.account_id)",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let opened = sqlx::query(
            "INSERT INTO seat_sessions (room_id, seat_no, account_id, started_at)
             SELECT s.room_id, s.seat_no, s.occupant_id, $1 FROM seats s WHERE s.occupant_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM seat_sessions o WHERE o.account_id = s.occupant_id AND o.ended_at IS NULL)",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Reconciled { closed, opened }
    }))
}
