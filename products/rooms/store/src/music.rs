//! Background music (4.5, kept simple): the owner or a room admin sets the
//! room's track (an uploaded audio file) and starts or stops it; the state
//! is on the room (`music_url`, `music_title`, `music_started_at`) and each
//! change is a `music` room event. Every listener's page plays the track
//! from the shared start time, so all hear the same place in it. It is not
//! mixed into the voice server's mix (no hidden music seat yet).

use crate::{on_pool, refusal, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::ids::{AccountId, RoomId};
use rooms_domain::moderation::{authorize, Action, Target};
use rooms_domain::room::RoomRole;
use serde_json::json;

/// What the owner does with the music.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new track (stopped until played).
    Track {
        url: String,
        title: String,
    },
    Play,
    Stop,
}

/// Applies a music change by `actor` (owner or room admin); refused with the
/// moderation codes otherwise, and `no_track` when there is nothing to play.
pub async fn change(db: &Db, room: RoomId, actor: AccountId, c: &Change, now: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let role: Option<RoomRole> = role_of!(tx, room, actor);
        let Some(role) = role else { return Err(StoreError::NotFound) };
        authorize(Some(role), Action::EditSettings, Target::Nobody).map_err(refusal)?;
        let n = match c {
            Change::Track { url, title } => sqlx::query("UPDATE rooms SET music_url = $2, music_title = $3, music_started_at = NULL WHERE id = $1")
                .bind(room).bind(url).bind(title).execute(&mut *tx).await?.rows_affected(),
            Change::Play => sqlx::query("UPDATE rooms SET music_started_at = $2 WHERE id = $1 AND music_url IS NOT NULL")
                .bind(room).bind(now).execute(&mut *tx).await?.rows_affected(),
            Change::Stop => sqlx::query("UPDATE rooms SET music_started_at = NULL WHERE id = $1")
                .bind(room).execute(&mut *tx).await?.rows_affected(),
        };
        if n == 0 {
            return Err(crate::refused("no_track", "Upload a track first"));
        }
        let (url, title, started): (Option<String>, Option<String>, Option<DateTime<Utc>>) =
            sqlx::query_as("SELECT music_url, music_title, music_started_at FROM rooms WHERE id = $1").bind(room).fetch_one(&mut *tx).await?;
        room_event!(tx, room, "music", json!({"url": url, "title": title, "started_at": started, "playing": started.is_some()}), now);
        tx.commit().await?;
    });
    Ok(())
}

/// Refuses `actor` unless they may change the room's music (before an
/// upload is stored).
pub async fn check(db: &Db, room: RoomId, actor: AccountId) -> StoreResult<()> {
    on_pool!(db, p => {
        let mut c = p.acquire().await?;
        let role: Option<RoomRole> = role_of!(c, room, actor);
        let Some(role) = role else { return Err(StoreError::NotFound) };
        authorize(Some(role), Action::EditSettings, Target::Nobody).map_err(refusal)?;
    });
    Ok(())
}
