//! Janus AudioBridge room numbers, stored with the room (`voice_number`):
//! 1, 2, … in the order voice first needs them, exact in a browser (far
//! below 2^53) and the same on every node. Two rooms allocating at once
//! compute the same next number; the unique index refuses the second,
//! which tries again with the next one. Two allocations for the same room
//! end on the one number (the update only sets a missing number).
//!
//! Who is talking ([`talking`]) goes through the room outbox like every
//! other room event, so the sockets on every node receive it, and a
//! reconnecting page replays it to the current state.

use crate::{conflict_on, on_pool, BeginWrite, Db, StoreError, StoreResult};
use rooms_domain::ids::RoomId;

/// The room's voice number, allocated on first use; `None` for no such room.
pub async fn of(db: &Db, room: RoomId) -> StoreResult<Option<u64>> {
    let mut last = None;
    for _ in 0..32 {
        let current: Option<Option<i64>> =
            on_pool!(db, p => sqlx::query_scalar("SELECT voice_number FROM rooms WHERE id = $1").bind(room).fetch_optional(p).await?);
        match current {
            None => return Ok(None),
            Some(Some(n)) => return Ok(Some(u64::try_from(n).unwrap_or_default())),
            Some(None) => {}
        }
        let r: StoreResult<()> = async {
            on_pool!(db, p => {
                let mut tx = p.begin_write().await?;
                sqlx::query("UPDATE rooms SET voice_number = (SELECT COALESCE(MAX(voice_number), 0) + 1 FROM rooms) WHERE id = $1 AND voice_number IS NULL")
                    .bind(room).execute(&mut *tx).await?;
                tx.commit().await?;
            });
            Ok(())
        }
        .await;
        match r {
            Ok(()) => {}
            Err(e) if conflict_on(&e, "voice_number") => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| StoreError::Rule("could not allocate a voice number".into())))
}

/// The room with stored voice number `number`, and the one seated person
/// in it for whom `is_them` holds (the voice server names speakers by its
/// own participant numbers); `None` when there is no such room or seat.
pub async fn speaker(
    db: &Db,
    number: u64,
    is_them: impl Fn(rooms_domain::ids::AccountId) -> bool,
) -> StoreResult<Option<(RoomId, rooms_domain::ids::AccountId)>> {
    let Ok(n) = i64::try_from(number) else { return Ok(None) };
    let room: Option<RoomId> =
        on_pool!(db, p => sqlx::query_scalar("SELECT id FROM rooms WHERE voice_number = $1").bind(n).fetch_optional(p).await?);
    let Some(room) = room else { return Ok(None) };
    let seated: Vec<rooms_domain::ids::AccountId> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT occupant_id FROM seats WHERE room_id = $1 AND occupant_id IS NOT NULL").bind(room).fetch_all(p).await?);
    Ok(seated.into_iter().find(|a| is_them(*a)).map(|a| (room, a)))
}

/// Records that the seated person in the room with stored voice number
/// `number` for whom `is_them` holds started (`on`) or stopped talking: a
/// `talking` event (`{"account", "talking"}`) in the room's outbox, written
/// only while they still hold the seat. Returns the room and account, or
/// `None` when nobody seated matches (the event is then dropped).
pub async fn talking(
    db: &Db,
    number: u64,
    is_them: impl Fn(rooms_domain::ids::AccountId) -> bool,
    on: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<Option<(RoomId, rooms_domain::ids::AccountId)>> {
    let Some((room, account)) = speaker(db, number, is_them).await? else { return Ok(None) };
    let written = on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let seated: Option<i64> = sqlx::query_scalar("SELECT seat_no FROM seats WHERE room_id = $1 AND occupant_id = $2")
            .bind(room).bind(account).fetch_optional(&mut *tx).await?;
        if seated.is_some() {
            room_event!(tx, room, "talking", serde_json::json!({"account": account, "talking": on}), now);
        }
        tx.commit().await?;
        seated.is_some()
    });
    Ok(written.then_some((room, account)))
}
