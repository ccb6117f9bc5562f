//! Discover, favourites and the profile page, each as a page and as JSON.
//! Everything here shows `PublicProfile` only, so fields that guide staff
//! never reach a user.

mod filters;

use super::public::safe_next;
use crate::auth::{CsrfToken, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::templates::Chrome;
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Form, Json, Router};
use fantooo_domain::ids::ProfileId;
use fantooo_domain::{AccountKind, FieldErrors};
use fantooo_store::favorites;
use fantooo_store::profiles::{self, ProfileCursor, PublicProfile};
use filters::{allowed_genders, validate, DiscoverQuery, Search, PAGE_SIZE};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/discover", get(discover_page))
        .route("/profile/{id}", get(profile_page))
        .route("/favorites", get(favorites_page))
        .route("/favorites/{id}", post(favorite_add))
        .route("/favorites/{id}/delete", post(favorite_remove))
        .route("/api/profiles", get(api_profiles))
        .route("/api/profiles/{id}", get(api_profile))
        .route("/api/favorites", get(api_favorites))
        .route("/api/favorites/{id}", put(api_favorite_put).delete(api_favorite_delete))
}

/// A profile as a card or JSON object, with the viewer's heart state.
#[derive(Debug, Serialize)]
pub struct Card {
    #[serde(flatten)]
    pub profile: PublicProfile,
    pub is_favorite: bool,
}

/// Ids arrive as text so that a malformed one is simply "not found".
fn profile_id(raw: &str) -> AppResult<ProfileId> {
    raw.parse().map_err(|_| AppError::NotFound)
}

/// One page of cards and the cursor of the next page, if there is one.
async fn page(state: &AppState, me: &CurrentUser, s: &Search) -> AppResult<(Vec<Card>, Option<String>)> {
    let mut list = profiles::search(&state.db, &s.filter, s.after, s.limit + 1).await?;
    let next = (list.len() as i64 > s.limit).then(|| {
        list.truncate(s.limit as usize);
        ProfileCursor::after(list.last().expect("a full page is not empty")).encode()
    });
    let favs = favorites::ids(&state.db, me.user.id).await?;
    let cards = list.into_iter().map(|p| Card { is_favorite: favs.contains(&p.id), profile: p }).collect();
    Ok((cards, next))
}

fn gender_label(g: fantooo_domain::Gender) -> &'static str {
    match g {
        fantooo_domain::Gender::Female => "Women",
        fantooo_domain::Gender::Male => "Men",
        fantooo_domain::Gender::Other => "Non-binary people",
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "discover.html")]
pub struct DiscoverPage {
    pub chrome: Chrome,
    pub cards: Vec<Card>,
    pub form: DiscoverQuery,
    pub errors: FieldErrors,
    /// (value, label) of each gender the viewer may pick.
    pub gender_options: Vec<(&'static str, &'static str)>,
    /// The no-script link to the next page.
    pub next_href: Option<String>,
    pub next_cursor: String,
    /// The API address the script fetches further pages from.
    pub api_href: String,
    /// Where the heart forms return to.
    pub back: String,
}

impl DiscoverPage {
    pub fn err(&self, field: &str) -> &str {
        self.errors.for_field(field).unwrap_or("")
    }
    pub fn selected(&self, value: &str) -> &'static str {
        if self.form.gender == value {
            "selected"
        } else {
            ""
        }
    }
}

async fn discover_page(
    State(state): State<AppState>,
    me: CurrentUser,
    csrf: CsrfToken,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let mut form = DiscoverQuery::parse(raw.as_deref());
    // Pages are a fixed size; `limit` is for API clients.
    form.limit.clear();
    let filter_query = form.filter_query();
    let (cards, next, errors) = match validate(&form, me.user.looking_for) {
        Ok(search) => {
            let (cards, next) = page(&state, &me, &search).await?;
            (cards, next, FieldErrors::new())
        }
        Err(errors) => (vec![], None, errors),
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let join = if filter_query.is_empty() { "" } else { "&" };
    let view = DiscoverPage {
        chrome: me.chrome(&csrf, "/discover"),
        cards,
        gender_options: allowed_genders(me.user.looking_for).into_iter().map(|g| (g.as_str(), gender_label(g))).collect(),
        next_href: next.as_ref().map(|c| format!("/discover?{filter_query}{join}cursor={c}")),
        next_cursor: next.unwrap_or_default(),
        api_href: format!("/api/profiles?{filter_query}{join}limit={PAGE_SIZE}"),
        back: uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/discover".into()),
        form,
        errors,
    };
    Ok((status, view).into_response())
}

async fn api_profiles(State(state): State<AppState>, me: CurrentUser, RawQuery(raw): RawQuery) -> AppResult<Json<serde_json::Value>> {
    let search = validate(&DiscoverQuery::parse(raw.as_deref()), me.user.looking_for)?;
    let (cards, next) = page(&state, &me, &search).await?;
    Ok(Json(json!({ "profiles": cards, "next_cursor": next })))
}

#[derive(Template, WebTemplate)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    pub chrome: Chrome,
    pub p: PublicProfile,
    pub is_favorite: bool,
    pub back: String,
    /// The user blocked this profile.
    pub blocked: bool,
    /// What was just done from the block/report form.
    pub safety_notice: Option<&'static str>,
    pub report_reasons: &'static [fantooo_domain::chat::ReportReason],
}

async fn card(state: &AppState, me: &CurrentUser, id: ProfileId) -> AppResult<Card> {
    let profile = profiles::public_by_id(&state.db, id).await?;
    let is_favorite = favorites::is_favorite(&state.db, me.user.id, id).await?;
    Ok(Card { profile, is_favorite })
}

#[derive(Deserialize)]
struct ProfileQuery {
    done: Option<String>,
}

async fn profile_page(
    State(state): State<AppState>,
    me: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Query(q): Query<ProfileQuery>,
) -> AppResult<Response> {
    let id = profile_id(&id)?;
    let Card { profile, is_favorite } = card(&state, &me, id).await?;
    let back = format!("/profile/{id}");
    let blocked = fantooo_store::safety::is_blocked(&state.db, me.user.id, id).await?;
    let safety_notice = match q.done.as_deref() {
        Some("blocked") => Some("Blocked. Your chat is closed."),
        Some("unblocked") => Some("Unblocked. Send a message to chat again."),
        Some("reported") => Some("Thank you. Your report was sent and will be looked at soon."),
        _ => None,
    };
    let report_reasons = fantooo_domain::chat::ReportReason::ALL;
    Ok(ProfilePage { chrome: me.chrome(&csrf, &back), p: profile, is_favorite, back, blocked, safety_notice, report_reasons }
        .into_response())
}

async fn api_profile(State(state): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> AppResult<Json<serde_json::Value>> {
    let card = card(&state, &me, profile_id(&id)?).await?;
    Ok(Json(json!({ "profile": card })))
}

#[derive(Template, WebTemplate)]
#[template(path = "favorites.html")]
pub struct FavoritesPage {
    pub chrome: Chrome,
    pub cards: Vec<Card>,
    pub back: String,
}

async fn favorite_cards(state: &AppState, me: &CurrentUser) -> AppResult<Vec<Card>> {
    let list = favorites::list(&state.db, me.user.id).await?;
    Ok(list.into_iter().map(|profile| Card { profile, is_favorite: true }).collect())
}

async fn favorites_page(State(state): State<AppState>, me: CurrentUser, csrf: CsrfToken) -> AppResult<Response> {
    let cards = favorite_cards(&state, &me).await?;
    Ok(FavoritesPage { chrome: me.chrome(&csrf, "/favorites"), cards, back: "/favorites".into() }.into_response())
}

async fn api_favorites(State(state): State<AppState>, me: CurrentUser) -> AppResult<Json<serde_json::Value>> {
    Ok(Json(json!({ "profiles": favorite_cards(&state, &me).await? })))
}

#[derive(Deserialize)]
struct BackForm {
    next: Option<String>,
}

async fn favorite_add(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<BackForm>,
) -> AppResult<Redirect> {
    favorites::add(&state.db, me.user.id, profile_id(&id)?).await?;
    Ok(Redirect::to(&safe_next(f.next.as_deref(), AccountKind::User)))
}

async fn favorite_remove(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<BackForm>,
) -> AppResult<Redirect> {
    favorites::remove(&state.db, me.user.id, profile_id(&id)?).await?;
    Ok(Redirect::to(&safe_next(f.next.as_deref(), AccountKind::User)))
}

/// The state after a change, so a client can update its heart and count.
async fn favorite_state(state: &AppState, me: &CurrentUser, id: ProfileId, is_favorite: bool) -> AppResult<Json<serde_json::Value>> {
    let count = favorites::count(&state.db, me.user.id).await?;
    Ok(Json(json!({ "profile_id": id, "is_favorite": is_favorite, "favorite_count": count })))
}

async fn api_favorite_put(State(state): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> AppResult<Json<serde_json::Value>> {
    let id = profile_id(&id)?;
    favorites::add(&state.db, me.user.id, id).await?;
    favorite_state(&state, &me, id, true).await
}

async fn api_favorite_delete(State(state): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> AppResult<Json<serde_json::Value>> {
    let id = profile_id(&id)?;
    favorites::remove(&state.db, me.user.id, id).await?;
    favorite_state(&state, &me, id, false).await
}
