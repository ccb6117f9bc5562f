//! Levels over HTTP: the ladders (`GET /api/v1/levels`), one's own levels
//! with what they unlock (`GET /api/v1/me/levels`, the `/levels` page), a
//! room's level (`GET /api/v1/rooms/{id}/level`), badges of several people
//! (`GET /api/v1/badges?accounts=…`), and staff setting a level
//! (`PUT /api/v1/admin/levels/{track}/{level}`).

use crate::auth::{CurrentUser, Staff};
use crate::error::{AppError, WebResult};
use crate::pages::Frame;
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use platform_web::request::CsrfToken;
use rooms_domain::ids::{AccountId, RoomId};
use rooms_domain::progress::Track;
use rooms_domain::status::{self, Ladder, Privilege, Step};
use rooms_store::levels::{self, Badge, Ladders, Level, Reached};
use rooms_store::rooms;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> Router<AppState> {
    Router::new().route("/levels", get(page))
}

/// The JSON API of levels and badges, described by each handler's
/// `#[utoipa::path]`.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ladders))
        .routes(routes!(mine))
        .routes(routes!(room_level))
        .routes(routes!(badges))
        .routes(routes!(set_step))
}

/// What a person's levels come to.
pub struct Mine {
    pub wealth: Level,
    pub charm: Level,
    pub badge: Badge,
    pub reached: Vec<Reached>,
}

async fn mine_of(s: &AppState, who: AccountId) -> WebResult<(Ladders, Mine)> {
    let ladders = levels::ladders(&s.db).await?;
    let id = who.to_string();
    let wealth = levels::level(&s.db, Track::Wealth, &id).await?;
    let charm = levels::level(&s.db, Track::Charm, &id).await?;
    let badge = levels::badge(&s.db, who).await?;
    let reached = levels::reached(&s.db, &id).await?;
    Ok((ladders, Mine { wealth, charm, badge, reached }))
}

#[utoipa::path(get, path = "/api/v1/levels", tag = "levels", security(()),
    responses((status = 200, description = "`{ladders, privileges}`: the wealth, charm and room ladders (each step's XP, badge and privileges) and every privilege")))]
async fn ladders(State(s): State<AppState>) -> WebResult<Response> {
    Ok(axum::Json(json!({"ladders": levels::ladders(&s.db).await?, "privileges": Privilege::ALL})).into_response())
}

#[utoipa::path(get, path = "/api/v1/me/levels", tag = "levels", security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{wealth, charm, privileges, badge, reached}`: the caller's levels with their progress, what they unlock, and the levels reached")))]
async fn mine(State(s): State<AppState>, u: CurrentUser) -> WebResult<Response> {
    let (_, m) = mine_of(&s, u.id()).await?;
    Ok(axum::Json(json!({
        "wealth": m.wealth, "charm": m.charm, "privileges": m.badge.privileges, "badge": m.badge, "reached": m.reached,
    }))
    .into_response())
}

#[utoipa::path(get, path = "/api/v1/rooms/{id}/level", tag = "levels", params(("id" = String, Path, description = "Room id")), security(()),
    responses((status = 200, description = "`{room_id, level}`"),
        (status = 404, description = "`not_found`: no such room")))]
async fn room_level(State(s): State<AppState>, Path(id): Path<RoomId>) -> WebResult<Response> {
    rooms::get(&s.db, id).await?.ok_or(AppError::NotFound)?;
    Ok(axum::Json(json!({"room_id": id, "level": levels::room_level(&s.db, id).await?})).into_response())
}

#[derive(Deserialize)]
struct BadgesQuery {
    accounts: Option<String>,
}

/// At most this many accounts per badge request.
const MAX_BADGES: usize = 100;

#[utoipa::path(get, path = "/api/v1/badges", tag = "levels",
    params(("accounts" = String, Query, description = "Comma-separated account ids, 1 to 100")), security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{badges}`: each account's levels, badge and privileges"),
        (status = 422, description = "`validation` on `accounts`: none, more than 100, or not account ids")))]
async fn badges(State(s): State<AppState>, _u: CurrentUser, Query(q): Query<BadgesQuery>) -> WebResult<Response> {
    let text = q.accounts.unwrap_or_default();
    let ids: Vec<AccountId> = text
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| x.parse::<AccountId>().map_err(|_| AppError::field("accounts", "a comma-separated list of account ids")))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() || ids.len() > MAX_BADGES {
        return Err(AppError::field("accounts", format!("name 1 to {MAX_BADGES} accounts")).into());
    }
    Ok(axum::Json(json!({"badges": levels::badges(&s.db, &ids).await?})).into_response())
}

#[derive(Deserialize, ToSchema)]
struct StepIn {
    xp: i64,
    badge: String,
    #[serde(default)]
    privileges: Vec<String>,
}

#[utoipa::path(put, path = "/api/v1/admin/levels/{track}/{level}", tag = "back office",
    params(("track" = String, Path, description = "wealth, charm or room"), ("level" = i64, Path, description = "The level to set, from 1")),
    request_body = StepIn, security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{ladder}`: the track's ladder with the step set"),
        (status = 403, description = "`forbidden`: staff only"),
        (status = 404, description = "`not_found`: no such track"),
        (status = 422, description = "`validation` on `level` (from 1), `xp` (not negative, and rising with the level), `badge` (1 to 30 characters) or `privileges` (unknown names)")))]
async fn set_step(
    State(s): State<AppState>,
    Staff(staff): Staff,
    Path((track, level)): Path<(String, i64)>,
    crate::api::Json(b): crate::api::Json<StepIn>,
) -> WebResult<Response> {
    let track = levels::parse_track(&track).ok_or(AppError::NotFound)?;
    if level < 1 {
        return Err(AppError::field("level", "levels start at 1").into());
    }
    if b.xp < 0 {
        return Err(AppError::field("xp", "XP cannot be negative").into());
    }
    let privileges = status::parse_privileges(&b.privileges.join(",")).map_err(|m| AppError::field("privileges", m))?;
    let step = Step { level, xp: b.xp, badge: b.badge, privileges };
    let ladder = levels::set_step(&s.db, track, &step, Some(staff.id()), Utc::now()).await?;
    Ok(axum::Json(json!({"ladder": ladder})).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "levels.html")]
struct LevelsPage {
    f: Frame,
    ladders: Ladders,
    m: Mine,
}

impl LevelsPage {
    fn tracks(&self) -> [(&'static str, &Ladder, &Level); 2] {
        [("Wealth (coins spent)", &self.ladders.wealth, &self.m.wealth), ("Charm (gifts received)", &self.ladders.charm, &self.m.charm)]
    }
    fn progress(&self, ladder: &Ladder, level: &Level) -> i64 {
        level.progress(ladder)
    }
    fn unlocks(&self, step: &Step) -> String {
        step.privileges.iter().map(|p| describe(*p)).collect::<Vec<_>>().join("; ")
    }
    fn privileges(&self) -> Vec<&'static str> {
        self.m.badge.privileges.iter().map(|p| describe(*p)).collect()
    }
}

/// A privilege in words.
pub fn describe(p: Privilege) -> &'static str {
    match p {
        Privilege::ColouredName => "your name stands out in rooms and chat",
        Privilege::EntryNotice => "rooms announce you when you enter",
        Privilege::PremiumFrames => "premium avatar frames",
        Privilege::ExclusiveGifts => "VIP-only gifts",
        Privilege::KickProtection => "only a room's owner can kick you",
        Privilege::MuteProtection => "others cannot mute you",
        Privilege::ExtraSeats => "more seats in your own room",
    }
}

async fn page(State(s): State<AppState>, csrf: CsrfToken, u: CurrentUser) -> WebResult<LevelsPage> {
    let (ladders, m) = mine_of(&s, u.id()).await?;
    Ok(LevelsPage { f: Frame::new(&csrf, Some(&u)), ladders, m })
}
