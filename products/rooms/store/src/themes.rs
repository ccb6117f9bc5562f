//! Room themes (2.6, free themes): staff-supplied rows of `room_themes`
//! (name and colours), one active per room, chosen by the owner; everyone
//! in the room is told (`settings` event) and sees it at once.

use crate::{on_pool, refused, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::ids::{AccountId, RoomId};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Theme {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub top_color: String,
    pub bottom_color: String,
    pub accent_color: String,
}

/// Every theme, in display order.
pub async fn list(db: &Db) -> StoreResult<Vec<Theme>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Theme>(
        "SELECT id, name, kind, top_color, bottom_color, accent_color FROM room_themes ORDER BY sort_order, id").fetch_all(p).await?))
}

/// Makes `theme` the room's active theme; only the owner chooses, only a
/// free theme that exists.
pub async fn choose(db: &Db, room: RoomId, actor: AccountId, theme: &str, now: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let owner: Option<AccountId> = sqlx::query_scalar("SELECT owner_id FROM rooms WHERE id = $1").bind(room).fetch_optional(&mut *tx).await?;
        match owner {
            None => return Err(StoreError::NotFound),
            Some(o) if o != actor => return Err(refused("owner_only", "Only the room's owner chooses its theme")),
            Some(_) => {}
        }
        let n = sqlx::query("UPDATE rooms SET theme_id = $2 WHERE id = $1 AND EXISTS (SELECT 1 FROM room_themes WHERE id = $2 AND kind = 'free')")
            .bind(room).bind(theme).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::Refused { field: "theme", message: "Choose one of the listed themes".into() });
        }
        room_event!(tx, room, "settings", json!({"theme": theme}), now);
        mod_log!(tx, room, actor, None::<AccountId>, rooms_domain::moderation::Action::EditSettings, format!("theme {theme}"), now);
        tx.commit().await?;
    });
    Ok(())
}
