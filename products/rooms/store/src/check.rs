//! `rooms check`: invariants the data must hold whatever happened.

use crate::{on_pool, Db, StoreResult};

/// Names of violated invariants with their counts; empty when clean.
pub async fn run(db: &Db) -> StoreResult<Vec<(String, i64)>> {
    let checks: &[(&str, &str)] = &[
        (
            "room count differs from its participants",
            "SELECT COUNT(*) FROM rooms r WHERE r.present <> (SELECT COUNT(*) FROM room_participants p WHERE p.room_id = r.id)",
        ),
        (
            "seated user not in the room",
            "SELECT COUNT(*) FROM seats s WHERE s.occupant_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM room_participants p WHERE p.room_id = s.room_id AND p.account_id = s.occupant_id)",
        ),
        (
            "closed room with people in it",
            "SELECT COUNT(*) FROM room_participants p JOIN rooms r ON r.id = p.room_id WHERE r.status = 'closed'",
        ),
        (
            "seats beyond the seat count",
            "SELECT COUNT(*) FROM seats s JOIN rooms r ON r.id = s.room_id WHERE s.seat_no > r.seat_count OR s.seat_no < 1",
        ),
        ("locked seat with an occupant", "SELECT COUNT(*) FROM seats WHERE locked AND occupant_id IS NOT NULL"),
    ];
    let mut out = vec![];
    for (name, sql) in checks {
        let n: i64 = on_pool!(db, p => sqlx::query_scalar(sql).fetch_one(p).await?);
        if n > 0 {
            out.push((name.to_string(), n));
        }
    }
    Ok(out)
}
