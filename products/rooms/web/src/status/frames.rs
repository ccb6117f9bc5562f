//! Avatar frames over HTTP: the catalogue (`GET /api/v1/frames`), one's
//! own (`GET /api/v1/me/frames`), buying for the frame's period at the
//! price seen (`POST /api/v1/frames/{id}/purchase`), wearing one or none
//! (`POST /api/v1/me/frames/wear`), and the `/frames` page.

use crate::auth::CurrentUser;
use crate::error::{AppError, WebResult};
use crate::pages::Frame as PageFrame;
use crate::status::sale::{created, paid, BuyForm, BuyIn};
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use platform_web::request::CsrfToken;
use rooms_domain::ids::FrameId;
use rooms_store::frames::{self, Frame, Owned};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> Router<AppState> {
    Router::new().route("/frames", get(page)).route("/frames/{id}/buy", post(buy_form)).route("/frames/wear", post(wear_form))
}

/// The JSON API of frames, described by each handler's `#[utoipa::path]`.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(catalogue)).routes(routes!(mine)).routes(routes!(buy)).routes(routes!(wear))
}

#[utoipa::path(get, path = "/api/v1/frames", tag = "frames", security(()),
    responses((status = 200, description = "`{frames}`: the catalogue, each with its price, period in days and whether it is premium")))]
async fn catalogue(State(s): State<AppState>) -> WebResult<Response> {
    Ok(axum::Json(json!({"frames": frames::catalogue(&s.db).await?})).into_response())
}

#[utoipa::path(get, path = "/api/v1/me/frames", tag = "frames", security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{frames}`: the caller's frames with when each ends and which is worn")))]
async fn mine(State(s): State<AppState>, u: CurrentUser) -> WebResult<Response> {
    Ok(axum::Json(json!({"frames": frames::owned(&s.db, u.id(), Utc::now()).await?})).into_response())
}

#[utoipa::path(post, path = "/api/v1/frames/{id}/purchase", tag = "frames", params(("id" = String, Path, description = "Frame id")),
    request_body = BuyIn, security(("bearer" = []), ("session" = [])),
    responses((status = 201, description = "`{purchase}`: `{purchase_id, frame_id, price, days, expires_at, balance}`; buying again extends the period"),
        (status = 402, description = "`insufficient_coins` with `required` and `available`; nothing written"),
        (status = 403, description = "`level_required`: premium frames open at a higher wealth level"),
        (status = 409, description = "`frame_unavailable` (no such frame, or not on sale), `price_changed` (refresh and try again), or `duplicate_purchase` (the key was used)"),
        (status = 422, description = "`validation` on `price` or `idempotency_key`")))]
async fn buy(
    State(s): State<AppState>,
    u: CurrentUser,
    Path(id): Path<FrameId>,
    crate::api::Json(b): crate::api::Json<BuyIn>,
) -> WebResult<Response> {
    let (price, key) = b.parts()?;
    created(frames::buy(&s.db, u.id(), id, price, &key, Utc::now()).await)
}

#[derive(Deserialize, ToSchema)]
struct WearIn {
    /// The frame to wear; `null` takes it off.
    #[schema(value_type = Option<String>)]
    frame_id: Option<FrameId>,
}

#[utoipa::path(post, path = "/api/v1/me/frames/wear", tag = "frames", request_body = WearIn, security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{frames}`: the caller's frames, the chosen one worn (none when `frame_id` is null)"),
        (status = 409, description = "`not_owned` (buy it first) or `frame_expired` (buy it again)")))]
async fn wear(State(s): State<AppState>, u: CurrentUser, crate::api::Json(w): crate::api::Json<WearIn>) -> WebResult<Response> {
    frames::wear(&s.db, u.id(), w.frame_id, Utc::now()).await?;
    Ok(axum::Json(json!({"frames": frames::owned(&s.db, u.id(), Utc::now()).await?})).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "frames.html")]
struct FramesPage {
    f: PageFrame,
    catalogue: Vec<Frame>,
    owned: Vec<Owned>,
    coins: i64,
    notice: String,
    key: String,
}

impl FramesPage {
    fn owns(&self, id: &FrameId) -> Option<&Owned> {
        self.owned.iter().find(|o| &o.frame_id == id)
    }
}

#[derive(Deserialize, Default)]
struct Notice {
    notice: Option<String>,
}

async fn page(State(s): State<AppState>, csrf: CsrfToken, u: CurrentUser, Query(q): Query<Notice>) -> WebResult<FramesPage> {
    let notice = match q.notice.as_deref() {
        Some("bought") => "Frame bought: wear it below.",
        Some("worn") => "Your frame is on.",
        Some("off") => "Frame taken off.",
        _ => "",
    };
    Ok(FramesPage {
        f: PageFrame::new(&csrf, Some(&u)),
        catalogue: frames::catalogue(&s.db).await?,
        owned: frames::owned(&s.db, u.id(), Utc::now()).await?,
        coins: rooms_store::economy::balances(&s.db, u.id()).await?.coins,
        notice: notice.to_string(),
        key: platform_accounts::random_token(),
    })
}

async fn buy_form(State(s): State<AppState>, u: CurrentUser, Path(id): Path<FrameId>, Form(b): Form<BuyForm>) -> WebResult<Response> {
    paid(frames::buy(&s.db, u.id(), id, b.price, &b.key, Utc::now()).await)?;
    Ok(Redirect::to("/frames?notice=bought").into_response())
}

#[derive(Deserialize)]
struct WearForm {
    /// A frame id, or empty to take it off.
    frame: String,
}

async fn wear_form(State(s): State<AppState>, u: CurrentUser, Form(w): Form<WearForm>) -> WebResult<Response> {
    let frame = match w.frame.trim() {
        "" => None,
        f => Some(f.parse::<FrameId>().map_err(|_| AppError::field("frame", "Choose one of your frames"))?),
    };
    frames::wear(&s.db, u.id(), frame, Utc::now()).await?;
    Ok(Redirect::to(if frame.is_some() { "/frames?notice=worn" } else { "/frames?notice=off" }).into_response())
}
