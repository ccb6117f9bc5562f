//! Standing: levels (wealth, charm, room) with their badges and the
//! privileges they unlock, and avatar frames. The JSON API is under `/api/v1`, the page at
//! `/levels`; badges are drawn next to people on the room page and
//! profiles (`templates/badge.html`), and `assets/status.js` adds them to
//! people who appear live and shows level-ups as a toast on every page.

pub mod frames;
pub mod levels;
pub mod sale;
pub mod vip;

use crate::AppState;
use axum::Router;
use rooms_domain::ids::AccountId;
use rooms_store::levels::Badge;
use rooms_store::{Db, StoreResult};

pub fn routes() -> Router<AppState> {
    Router::new().merge(levels::routes()).merge(frames::routes()).merge(vip::routes())
}

/// The JSON API of levels and frames.
pub fn api() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().merge(levels::api()).merge(frames::api()).merge(vip::api())
}

/// The badges of the people a page shows.
#[derive(Debug, Clone, Default)]
pub struct Badges(Vec<Badge>);

impl Badges {
    pub async fn load(db: &Db, who: &[AccountId]) -> StoreResult<Badges> {
        Ok(Badges(rooms_store::levels::badges(db, who).await?))
    }

    /// `who`'s badge, when loaded.
    pub fn of(&self, who: &AccountId) -> Option<&Badge> {
        self.0.iter().find(|b| &b.account_id == who)
    }
}
