//! Rooms: create (one per user, name unique ignoring case), settings,
//! close and reopen, discovery. Voice is not here: where a room opens or
//! closes, the web layer calls the voice service after the commit.

use crate::{conflict_on, on_pool, refusal, refused, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::ids::{AccountId, RoomId};
use rooms_domain::limits;
use rooms_domain::moderation::{authorize, Action, Target};
use rooms_domain::room::{RoomKind, RoomName, RoomRole, RoomStatus, SeatCount, VisitorPermissions};
use serde::Serialize;
use serde_json::json;

/// A new room's parsed input; the password (for a private room) arrives
/// already hashed.
#[derive(Debug, Clone)]
pub struct NewRoom {
    pub name: RoomName,
    pub kind: RoomKind,
    pub password_hash: Option<String>,
    pub seat_count: SeatCount,
    pub visitors: VisitorPermissions,
    pub apply_mode: bool,
    pub logo_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Room {
    pub id: RoomId,
    pub owner_id: AccountId,
    pub name: String,
    pub logo_url: Option<String>,
    pub kind: RoomKind,
    pub seat_count: i64,
    pub capacity: i64,
    pub visitor_speak: bool,
    pub visitor_text: bool,
    pub visitor_pictures: bool,
    pub hidden: bool,
    pub apply_mode: bool,
    pub announcement: String,
    pub greeting: String,
    pub status: RoomStatus,
    pub present: i64,
    pub last_activity_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// The active theme (`room_themes.id`).
    pub theme_id: String,
    /// The owner's background track, and since when it plays (`None`: stopped).
    pub music_url: Option<String>,
    pub music_title: Option<String>,
    pub music_started_at: Option<DateTime<Utc>>,
    /// Seats the owner's VIP tier adds to `seat_count` (within 15).
    pub bonus_seats: i64,
}

impl Room {
    /// Every seat the room has: the owner's choice and the VIP bonus.
    pub fn seats(&self) -> i64 {
        self.seat_count + self.bonus_seats
    }

    pub fn visitors(&self) -> VisitorPermissions {
        VisitorPermissions { speak: self.visitor_speak, text: self.visitor_text, pictures: self.visitor_pictures }
    }
}

pub(crate) const ROOM_COLS: &str = "id, owner_id, name, logo_url, kind, seat_count, capacity, visitor_speak, visitor_text, visitor_pictures, hidden, apply_mode, announcement, greeting, status, present, last_activity_at, created_at, theme_id, music_url, music_title, music_started_at, bonus_seats";

/// Creates a room owned by `owner`, open, with its seats. Of simultaneous
/// creates by one user exactly one succeeds (`one_room_per_user`); a name
/// taken in any case is refused on its field.
pub async fn create(db: &Db, owner: AccountId, new: &NewRoom, now: DateTime<Utc>) -> StoreResult<Room> {
    let id = RoomId::new();
    let r: StoreResult<()> = async {
        on_pool!(db, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query(
                "INSERT INTO rooms (id, owner_id, name, name_key, logo_url, kind, password_hash, seat_count, capacity, visitor_speak, visitor_text,
                                    visitor_pictures, apply_mode, status, last_activity_at, empty_since, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'open', $14, $14, $14)")
                .bind(id).bind(owner).bind(new.name.as_str()).bind(new.name.key()).bind(&new.logo_url).bind(new.kind).bind(&new.password_hash)
                .bind(new.seat_count.get()).bind(limits::ROOM_CAPACITY).bind(new.visitors.speak).bind(new.visitors.text).bind(new.visitors.pictures)
                .bind(new.apply_mode).bind(now)
                .execute(&mut *tx).await?;
            fit_seats!(tx, id, now);
            room_event!(tx, id, "room_opened", json!({"room": id, "name": new.name.as_str()}), now);
            tx.commit().await?;
        });
        Ok(())
    }
    .await;
    match r {
        Ok(()) => get(db, id).await?.ok_or(StoreError::NotFound),
        Err(e) if conflict_on(&e, "owner_id") => Err(refused("one_room_per_user", "You already own a room; open it instead")),
        Err(e) if conflict_on(&e, "name_key") => Err(StoreError::Refused { field: "name", message: "That room name is taken".into() }),
        Err(e) => Err(e),
    }
}

pub async fn get(db: &Db, id: RoomId) -> StoreResult<Option<Room>> {
    let sql = format!("SELECT {ROOM_COLS} FROM rooms WHERE id = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Room>(&sql).bind(id).fetch_optional(p).await?))
}

pub async fn owned_by(db: &Db, owner: AccountId) -> StoreResult<Option<Room>> {
    let sql = format!("SELECT {ROOM_COLS} FROM rooms WHERE owner_id = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Room>(&sql).bind(owner).fetch_optional(p).await?))
}

/// The stored hash of a private room's password (checked only on entry).
pub async fn password_hash(db: &Db, id: RoomId) -> StoreResult<Option<String>> {
    let v: Option<Option<String>> =
        on_pool!(db, p => sqlx::query_scalar("SELECT password_hash FROM rooms WHERE id = $1").bind(id).fetch_optional(p).await?);
    v.ok_or(StoreError::NotFound)
}

/// The room role of `who` in `room` (visitor when they hold none).
pub async fn role(db: &Db, room: RoomId, who: AccountId) -> StoreResult<RoomRole> {
    on_pool!(db, p => {
        let mut c = p.acquire().await?;
        role_of!(c, room, who).ok_or(StoreError::NotFound)
    })
}

/// A settings change (2.3, 2.4); `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub name: Option<RoomName>,
    pub announcement: Option<String>,
    pub greeting: Option<String>,
    pub visitors: Option<VisitorPermissions>,
    pub hidden: Option<bool>,
    pub apply_mode: Option<bool>,
    pub seat_count: Option<SeatCount>,
    /// Switch to public (erases the password), or to private with a new
    /// password hash (`Some(None)` keeps the existing one).
    pub access: Option<(RoomKind, Option<String>)>,
    pub logo_url: Option<String>,
}

/// What [`update_settings`] changed: the room as it is now, and who sat on
/// a seat that fewer seats removed (their voice is muted by the caller once
/// this has committed).
#[derive(Debug)]
pub struct Updated {
    pub room: Room,
    pub unseated: Vec<AccountId>,
}

/// Applies a settings change by the owner or a room admin. Lowering the
/// seat count frees the removed seats and tells their occupants.
pub async fn update_settings(db: &Db, room: RoomId, actor: AccountId, s: &Settings, now: DateTime<Utc>) -> StoreResult<Updated> {
    let r: StoreResult<Vec<AccountId>> = async {
        on_pool!(db, p => {
            let mut tx = p.begin_write().await?;
            let role = role_of!(tx, room, actor);
            authorize(role, Action::EditSettings, Target::Nobody).map_err(refusal)?;
            let vis = s.visitors;
            sqlx::query(
                "UPDATE rooms SET name = COALESCE($2, name), name_key = COALESCE($3, name_key), announcement = COALESCE($4, announcement),
                        greeting = COALESCE($5, greeting), visitor_speak = COALESCE($6, visitor_speak), visitor_text = COALESCE($7, visitor_text),
                        visitor_pictures = COALESCE($8, visitor_pictures), hidden = COALESCE($9, hidden), apply_mode = COALESCE($10, apply_mode),
                        logo_url = COALESCE($11, logo_url), last_activity_at = $12
                 WHERE id = $1")
                .bind(room).bind(s.name.as_ref().map(RoomName::as_str)).bind(s.name.as_ref().map(RoomName::key))
                .bind(&s.announcement).bind(&s.greeting).bind(vis.map(|v| v.speak)).bind(vis.map(|v| v.text)).bind(vis.map(|v| v.pictures))
                .bind(s.hidden).bind(s.apply_mode).bind(&s.logo_url).bind(now)
                .execute(&mut *tx).await?;
            match &s.access {
                None => {}
                Some((RoomKind::Public, _)) => {
                    sqlx::query("UPDATE rooms SET kind = 'public', password_hash = NULL WHERE id = $1").bind(room).execute(&mut *tx).await?;
                }
                Some((RoomKind::Private, hash)) => {
                    let n = sqlx::query("UPDATE rooms SET kind = 'private', password_hash = COALESCE($2, password_hash) WHERE id = $1 AND COALESCE($2, password_hash) IS NOT NULL")
                        .bind(room).bind(hash).execute(&mut *tx).await?.rows_affected();
                    if n == 0 {
                        return Err(StoreError::Refused { field: "password", message: "A private room needs a password".into() });
                    }
                }
            }
            let mut unseated = vec![];
            if let Some(count) = s.seat_count {
                // The owner's choice, and the seats their VIP tier adds on top.
                sqlx::query("UPDATE rooms SET seat_count = $2, bonus_seats = 0 WHERE id = $1").bind(room).bind(count.get()).execute(&mut *tx).await?;
                unseated = fit_seats!(tx, room, now).into_iter().map(|(_, who)| who).collect();
            }
            let settings: Room = sqlx::query_as(&format!("SELECT {ROOM_COLS} FROM rooms WHERE id = $1")).bind(room).fetch_one(&mut *tx).await?;
            room_event!(tx, room, "settings", json!({"room": settings}), now);
            mod_log!(tx, room, actor, None::<AccountId>, Action::EditSettings, "", now);
            tx.commit().await?;
            Ok::<_, StoreError>(unseated)
        })
    }
    .await;
    match r {
        Ok(unseated) => Ok(Updated { room: get(db, room).await?.ok_or(StoreError::NotFound)?, unseated }),
        Err(e) if conflict_on(&e, "name_key") => Err(StoreError::Refused { field: "name", message: "That room name is taken".into() }),
        Err(e) => Err(e),
    }
}

/// Closes a room: everyone is taken out, seats are freed, clients are told.
/// `by_staff` lets staff close any room; otherwise only the owner may.
/// Whether the room was open.
pub async fn close(db: &Db, room: RoomId, actor: AccountId, by_staff: bool, reason: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let role = role_of!(tx, room, actor);
        if role.is_none() {
            return Err(StoreError::NotFound);
        }
        if !by_staff {
            authorize(role, Action::Close, Target::Nobody).map_err(refusal)?;
        }
        let closed = close_tx!(tx, room, reason, now);
        if closed {
            mod_log!(tx, room, actor, None::<AccountId>, Action::Close, reason, now);
        }
        tx.commit().await?;
        Ok(closed)
    })
}

/// Reopens the owner's closed room.
pub async fn reopen(db: &Db, room: RoomId, actor: AccountId, now: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let role = role_of!(tx, room, actor);
        authorize(role, Action::Close, Target::Nobody).map_err(refusal)?;
        let n = sqlx::query("UPDATE rooms SET status = 'open', closed_at = NULL, empty_since = $2, last_activity_at = $2 WHERE id = $1 AND status = 'closed'")
            .bind(room).bind(now).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(refused("room_open", "The room is already open"));
        }
        room_event!(tx, room, "room_opened", json!({"room": room}), now);
        tx.commit().await?;
    });
    Ok(())
}

/// Which rooms the discovery page lists.
#[derive(Debug, Clone)]
pub enum Listing<'a> {
    /// Every open room not hidden from search.
    Live,
    /// Open rooms whose name starts with or contains the query.
    Search(&'a str),
    /// Open rooms the viewer follows, or owned by people they follow.
    Following(AccountId),
}

/// Open rooms ordered by people present, then by recent activity. Rooms
/// empty for longer than the grace period are left out.
pub async fn discover(db: &Db, listing: Listing<'_>, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Room>> {
    let grace = now - limits::chrono(limits::EMPTY_ROOM_GRACE);
    let cols = ROOM_COLS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ");
    let base =
        format!("SELECT {cols} FROM rooms r WHERE r.status = 'open' AND (r.present > 0 OR r.empty_since IS NULL OR r.empty_since > $1)");
    let order = "ORDER BY r.present DESC, r.last_activity_at DESC LIMIT $2";
    Ok(match listing {
        Listing::Live => {
            let sql = format!("{base} AND NOT r.hidden {order}");
            on_pool!(db, p => sqlx::query_as::<_, Room>(&sql).bind(grace).bind(limit).fetch_all(p).await?)
        }
        Listing::Search(q) => {
            let pattern = format!("%{}", crate::accounts::like_prefix(&q.trim().to_lowercase()));
            let sql = format!("{base} AND NOT r.hidden AND r.name_key LIKE $3 ESCAPE '\\' {order}");
            on_pool!(db, p => sqlx::query_as::<_, Room>(&sql).bind(grace).bind(limit).bind(&pattern).fetch_all(p).await?)
        }
        Listing::Following(viewer) => {
            let sql = format!(
                "{base} AND (EXISTS (SELECT 1 FROM room_follows f WHERE f.room_id = r.id AND f.follower_id = $3)
                          OR EXISTS (SELECT 1 FROM user_follows u WHERE u.followee_id = r.owner_id AND u.follower_id = $3)) {order}"
            );
            on_pool!(db, p => sqlx::query_as::<_, Room>(&sql).bind(grace).bind(limit).bind(viewer).fetch_all(p).await?)
        }
    })
}
