//! Profiles: create, edit, list/unlist, feature, pictures (upload, order,
//! moderation), guidelines and templates, bulk import, delete.

use super::kit::{self, Flash, Input, Via};
use super::nav;
use crate::auth::{ClientIp, CsrfToken, CurrentAdmin};
use crate::error::{AppError, AppResult};
use crate::media::MediaKey;
use crate::templates::{AdminNav, Chrome};
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use fantooo_domain::ids::ProfileId;
use fantooo_domain::{FieldErrors, Gender, Permission};
use fantooo_store::profile_admin::{self, ManagedProfile, PictureCheck, PictureReview, ProfileEdit, ProfileMetrics};
use fantooo_store::profiles::{self, NewProfile};
use fantooo_store::{audit, operations};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/profiles", get(list_page).post(create))
        .route("/api/admin/profiles", get(list_api).post(create))
        .route("/admin/profiles/import", post(import))
        .route("/api/admin/profiles/import", post(import))
        .route("/admin/profiles/{id}", get(detail_page).post(update))
        .route("/api/admin/profiles/{id}", get(detail_api).put(update))
        .route("/admin/profiles/{id}/guidance", post(guidance))
        .route("/api/admin/profiles/{id}/guidance", post(guidance))
        .route("/admin/profiles/{id}/featured", post(featured))
        .route("/api/admin/profiles/{id}/featured", post(featured))
        .route("/admin/profiles/{id}/active", post(active))
        .route("/api/admin/profiles/{id}/active", post(active))
        .route("/admin/profiles/{id}/pictures", post(upload_picture))
        .route("/api/admin/profiles/{id}/pictures", post(upload_picture))
        .route("/admin/profiles/{id}/pictures/order", post(reorder_pictures))
        .route("/api/admin/profiles/{id}/pictures/order", post(reorder_pictures))
        .route("/admin/profiles/{id}/pictures/flag", post(flag_picture))
        .route("/api/admin/profiles/{id}/pictures/flag", post(flag_picture))
        .route("/admin/profiles/{id}/delete", post(delete))
        .route("/api/admin/profiles/{id}/delete", post(delete))
}

const STYLES: &[&str] = &["flirty", "romantic", "friendly", "intellectual", "playful"];

/// A profile as typed into the form, the API or an import row.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ProfileForm {
    pub name: Option<String>,
    pub age: Option<String>,
    pub gender: Option<String>,
    pub location: Option<String>,
    pub bio: Option<String>,
    pub personality_traits: Option<String>,
    pub interests: Option<String>,
    pub occupation: Option<String>,
    /// One URL per line.
    pub profile_pictures: Option<String>,
    pub response_style: Option<String>,
    /// One template per line.
    pub response_templates: Option<String>,
    pub personality_guidelines: Option<String>,
    pub tags: Option<String>,
    pub category: Option<String>,
    pub is_featured: Option<String>,
    pub featured_until: Option<String>,
}

/// Picture references we accept: our own uploads or absolute https URLs.
fn picture_ok(url: &str) -> bool {
    let ours = url.starts_with("/media/") && url.len() > 7 && !url.contains("..");
    let remote = url.starts_with("https://") && url.len() > 12 && !url.contains(char::is_whitespace) && !url.contains('"');
    ours || remote
}

/// Checks every field, naming each bad one.
pub fn validate(f: &ProfileForm) -> Result<NewProfile, FieldErrors> {
    let mut e = FieldErrors::new();
    let name = kit::text(&f.name).filter(|n| n.chars().count() <= 50);
    if name.is_none() {
        e.add("name", "Enter a name of at most 50 characters");
    }
    let age = kit::text(&f.age).and_then(|a| a.parse::<i64>().ok()).filter(|a| (18..=100).contains(a));
    if age.is_none() {
        e.add("age", "Age must be a whole number from 18 to 100");
    }
    let gender = kit::text(&f.gender).and_then(|g| g.to_lowercase().parse::<Gender>().ok());
    if gender.is_none() {
        e.add("gender", "Gender must be male, female or other");
    }
    let location = kit::text(&f.location).filter(|l| l.chars().count() <= 100);
    if location.is_none() {
        e.add("location", "Enter a location of at most 100 characters");
    }
    let bio = kit::text(&f.bio).filter(|b| b.chars().count() <= 2000);
    if bio.is_none() {
        e.add("bio", "Write a bio of at most 2,000 characters");
    }
    let pictures = kit::lines(&f.profile_pictures);
    if !(3..=10).contains(&pictures.len()) {
        e.add("profile_pictures", format!("A profile needs 3 to 10 pictures; {} given", pictures.len()));
    } else if let Some(bad) = pictures.iter().find(|p| !picture_ok(p)) {
        e.add("profile_pictures", format!("Not an uploaded picture or https URL: {bad}"));
    }
    let style = kit::text(&f.response_style).map(|s| s.to_lowercase());
    if style.as_deref().is_some_and(|s| !STYLES.contains(&s)) {
        e.add("response_style", "Style must be flirty, romantic, friendly, intellectual or playful");
    }
    let featured_until = match kit::end_of(&f.featured_until) {
        Ok(v) => v,
        Err(_) => {
            e.add("featured_until", "Enter the date as YYYY-MM-DD");
            None
        }
    };
    let (Some(name), Some(age), Some(gender), Some(location), Some(bio), true) = (name, age, gender, location, bio, e.is_empty()) else {
        return Err(e);
    };
    Ok(NewProfile {
        name,
        age,
        gender,
        location,
        bio,
        personality_traits: kit::items(&f.personality_traits),
        interests: kit::items(&f.interests),
        occupation: kit::text(&f.occupation),
        profile_pictures: pictures,
        response_style: style,
        response_templates: kit::lines(&f.response_templates),
        personality_guidelines: kit::text(&f.personality_guidelines),
        is_featured: kit::checked(&f.is_featured),
        featured_until,
        tags: kit::items(&f.tags),
        category: kit::text(&f.category),
        popularity_score: 0,
    })
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/profiles.html")]
struct ListPage {
    chrome: Chrome,
    nav: AdminNav,
    profiles: Vec<ManagedProfile>,
    q: String,
    flash: Flash,
}

#[derive(Deserialize, Default)]
struct ListAndFlash {
    #[serde(default)]
    q: String,
    #[serde(default)]
    notice: String,
    #[serde(default)]
    error: String,
}

async fn list_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, Query(q): Query<ListAndFlash>) -> AppResult<Response> {
    me.require(Permission::ManageFictionalProfiles)?;
    let profiles = profile_admin::list(&state.db, Some(&q.q), 500).await?;
    let flash = Flash { notice: q.notice, error: q.error };
    Ok(ListPage { chrome: me.chrome(&csrf, "/admin/profiles"), nav: nav(&me), profiles, q: q.q, flash }.into_response())
}

async fn list_api(State(state): State<AppState>, me: CurrentAdmin, Query(q): Query<ListQuery>) -> AppResult<Json<serde_json::Value>> {
    me.require(Permission::ManageFictionalProfiles)?;
    Ok(Json(json!({ "profiles": profile_admin::list(&state.db, Some(&q.q), 500).await? })))
}

/// Checks an uploaded picture (format from the bytes, size, dimensions)
/// and stores it under a new key, recorded in `stored` so the caller can
/// remove it if what refers to it is not committed; returns its URL and
/// what was checked.
async fn store_picture(
    state: &AppState,
    bytes: Vec<u8>,
    stored: &mut Vec<crate::media::MediaKey>,
) -> AppResult<(String, &'static str, u32, u32, i64)> {
    let pic = crate::media::inspect(&bytes)?;
    let key = MediaKey::unique(pic.media_type);
    let len = bytes.len() as i64;
    let url = state.media.put(&key, bytes, pic.mime).await.map_err(|e| AppError::Internal(format!("media store: {e}")))?;
    stored.push(key);
    Ok((url, pic.mime, pic.width, pic.height, len))
}

/// Creates a profile from a form with picture files (multipart) or from
/// fields whose `profile_pictures` are URLs (form or JSON). Uploads are
/// removed again unless the profile is committed.
async fn create(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    req: axum::extract::Request,
) -> AppResult<Response> {
    me.require(Permission::ManageFictionalProfiles)?;
    let is_multipart =
        req.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("multipart/"));
    let mut stored = vec![];
    let outcome = async {
        let (mut form, files) = if is_multipart {
            let mut mp = <Multipart as axum::extract::FromRequest<()>>::from_request(req, &()).await.map_err(AppError::rejected)?;
            let mut fields = serde_json::Map::new();
            let mut files = vec![];
            while let Some(field) = mp.next_field().await.map_err(AppError::rejected)? {
                let name = field.name().unwrap_or("").to_string();
                if name == "pictures" {
                    let bytes = field.bytes().await.map_err(AppError::rejected)?;
                    if !bytes.is_empty() {
                        files.push(bytes.to_vec());
                    }
                } else {
                    let text = field.text().await.map_err(AppError::rejected)?;
                    fields.insert(name, serde_json::Value::String(text));
                }
            }
            let form: ProfileForm =
                serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| AppError::BadRequest(e.to_string()))?;
            (form, files)
        } else {
            let Input(form) = <Input<ProfileForm> as axum::extract::FromRequest<()>>::from_request(req, &()).await?;
            (form, vec![])
        };
        if files.len() > 10 {
            return Err(AppError::field("profile_pictures", "At most 10 pictures"));
        }
        // Check every upload before storing any, then validate the whole form.
        for bytes in &files {
            crate::media::inspect(bytes)?;
        }
        let mut checks = vec![];
        let mut urls = kit::lines(&form.profile_pictures);
        if !files.is_empty() {
            let mut probe = form.clone();
            probe.profile_pictures =
                Some((0..files.len() + urls.len()).map(|i| format!("/media/probe-{i}.png")).collect::<Vec<_>>().join("\n"));
            validate(&probe)?;
            for bytes in files {
                let (url, mime, w, h, len) = store_picture(&state, bytes, &mut stored).await?;
                urls.push(url.clone());
                checks.push((url, mime, w, h, len));
            }
            form.profile_pictures = Some(urls.join("\n"));
        }
        let new = validate(&form)?;
        let uploads: Vec<PictureCheck> = checks
            .iter()
            .map(|(url, mime, w, h, len)| PictureCheck { url, size_bytes: *len, format: mime, width: *w, height: *h })
            .collect();
        let id = profile_admin::create(&state.db, &new, &uploads, me.admin.id, Some(&ip)).await?;
        let profile = profile_admin::by_id(&state.db, id).await?;
        Ok((format!("Profile {} created", profile.name), json!({ "profile": profile })))
    }
    .await;
    if outcome.is_err() {
        crate::media::discard(state.media.as_ref(), &stored).await;
    }
    match (&outcome, via.api) {
        (Ok((_, body)), true) => Ok((axum::http::StatusCode::CREATED, Json(body.clone())).into_response()),
        _ => via.finish("/admin/profiles", outcome),
    }
}

#[derive(Serialize)]
struct Detail {
    profile: ManagedProfile,
    metrics: ProfileMetrics,
    conversion_percent: f64,
    pictures: Vec<PictureReview>,
}

async fn detail(state: &AppState, me: &CurrentAdmin, id: &str) -> AppResult<Detail> {
    me.require(Permission::ManageFictionalProfiles)?;
    let id: ProfileId = kit::id(id)?;
    let profile = profile_admin::by_id(&state.db, id).await?;
    let metrics = profile_admin::metrics(&state.db, id).await?;
    Ok(Detail {
        conversion_percent: metrics.conversion_percent(),
        metrics,
        pictures: profile_admin::picture_reviews(&state.db, id).await?,
        profile,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/profile.html")]
struct DetailPage {
    chrome: Chrome,
    nav: AdminNav,
    d: Detail,
    flash: Flash,
}

impl DetailPage {
    fn flagged(&self, url: &str) -> Option<&PictureReview> {
        self.d.pictures.iter().find(|p| p.media_url == url && p.is_flagged)
    }
    fn review(&self, url: &str) -> Option<&PictureReview> {
        self.d.pictures.iter().find(|p| p.media_url == url)
    }
    fn featured_until(&self) -> String {
        self.d.profile.featured_until.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
    }
}

async fn detail_page(
    State(state): State<AppState>,
    me: CurrentAdmin,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> AppResult<Response> {
    let d = detail(&state, &me, &id).await?;
    Ok(DetailPage { chrome: me.chrome(&csrf, "/admin/profiles"), nav: nav(&me), d, flash }.into_response())
}

async fn detail_api(State(state): State<AppState>, me: CurrentAdmin, Path(id): Path<String>) -> AppResult<Json<serde_json::Value>> {
    let d = detail(&state, &me, &id).await?;
    Ok(Json(serde_json::to_value(&d).map_err(|e| AppError::Internal(e.to_string()))?))
}

fn snapshot(p: &ManagedProfile) -> serde_json::Value {
    serde_json::to_value(p).unwrap_or_default()
}

async fn update(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Input(f): Input<ProfileForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageFictionalProfiles)?;
    let id: ProfileId = kit::id(&id)?;
    let back = format!("/admin/profiles/{id}");
    let outcome = async {
        let before = profile_admin::by_id(&state.db, id).await?;
        // Pictures have their own controls; the edit keeps the current ones.
        let mut f = f;
        f.profile_pictures = Some(before.profile_pictures.0.join("\n"));
        let p = validate(&f)?;
        let edit = ProfileEdit {
            name: p.name,
            age: p.age,
            gender: p.gender,
            location: p.location,
            bio: p.bio,
            personality_traits: p.personality_traits,
            interests: p.interests,
            occupation: p.occupation,
            response_style: p.response_style,
            response_templates: p.response_templates,
            personality_guidelines: p.personality_guidelines,
            tags: p.tags,
            category: p.category,
        };
        profile_admin::update(&state.db, id, &edit).await?;
        let after = profile_admin::by_id(&state.db, id).await?;
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            "profile_updated",
            Some(("profile", id.to_string())),
            Some(snapshot(&before)),
            Some(snapshot(&after)),
            Some(&ip),
        )
        .await?;
        Ok(("Profile saved".to_string(), json!({ "profile": after })))
    }
    .await;
    via.finish(&back, outcome)
}

#[derive(Deserialize)]
struct GuidanceForm {
    personality_guidelines: Option<String>,
    response_templates: Option<String>,
}

async fn guidance(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Input(f): Input<GuidanceForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageFictionalProfiles)?;
    let id: ProfileId = kit::id(&id)?;
    let outcome = async {
        let guidelines = kit::text(&f.personality_guidelines);
        if guidelines.as_deref().is_some_and(|g| g.chars().count() > 5000) {
            return Err(AppError::field("personality_guidelines", "At most 5,000 characters"));
        }
        let templates = kit::lines(&f.response_templates);
        if templates.len() > 50 || templates.iter().any(|t| t.chars().count() > 1000) {
            return Err(AppError::field("response_templates", "At most 50 templates of up to 1,000 characters"));
        }
        let before = profile_admin::by_id(&state.db, id).await?;
        profile_admin::update_guidance(&state.db, id, guidelines.as_deref(), &templates).await?;
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            "profile_guidance_updated",
            Some(("profile", id.to_string())),
            Some(json!({ "guidelines": before.personality_guidelines, "templates": before.response_templates.0 })),
            Some(json!({ "guidelines": guidelines, "templates": templates })),
            Some(&ip),
        )
        .await?;
        Ok(("Guidelines and templates saved".to_string(), json!({ "personality_guidelines": guidelines, "response_templates": templates })))
    }
    .await;
    via.finish(&format!("/admin/profiles/{id}"), outcome)
}

#[derive(Deserialize)]
struct FeaturedForm {
    featured: Option<String>,
    until: Option<String>,
}

async fn featured(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Input(f): Input<FeaturedForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageFictionalProfiles)?;
    let id: ProfileId = kit::id(&id)?;
    let outcome = async {
        let on = kit::checked(&f.featured);
        let until = kit::end_of(&f.until).map_err(|_| AppError::field("until", "Enter the end date as YYYY-MM-DD"))?;
        if on && until.is_some_and(|u| u <= Utc::now()) {
            return Err(AppError::field("until", "The end date must be in the future"));
        }
        let before = profile_admin::by_id(&state.db, id).await?;
        profile_admin::set_featured(&state.db, id, on, until).await?;
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            "profile_featured",
            Some(("profile", id.to_string())),
            Some(json!({ "is_featured": before.is_featured, "featured_until": before.featured_until })),
            Some(json!({ "is_featured": on, "featured_until": until })),
            Some(&ip),
        )
        .await?;
        Ok((
            if on { "Profile featured".to_string() } else { "Profile no longer featured".to_string() },
            json!({ "is_featured": on, "featured_until": until }),
        ))
    }
    .await;
    via.finish(&format!("/admin/profiles/{id}"), outcome)
}

#[derive(Deserialize)]
struct ActiveForm {
    active: Option<String>,
}

async fn active(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Input(f): Input<ActiveForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageFictionalProfiles)?;
    let id: ProfileId = kit::id(&id)?;
    let outcome = async {
        let on = kit::checked(&f.active);
        let before = profile_admin::by_id(&state.db, id).await?;
        profile_admin::set_active(&state.db, id, on).await?;
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            if on { "profile_activated" } else { "profile_deactivated" },
            Some(("profile", id.to_string())),
            Some(json!({ "is_active": before.is_active })),
            Some(json!({ "is_active": on })),
            Some(&ip),
        )
        .await?;
        Ok((if on { "Profile listed".to_string() } else { "Profile unlisted".to_string() }, json!({ "is_active": on })))
    }
    .await;
    via.finish(&format!("/admin/profiles/{id}"), outcome)
}

async fn upload_picture(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> AppResult<Response> {
    // The permission is checked before the body is even parsed.
    me.require(Permission::ManageFictionalProfiles)?;
    let id: ProfileId = kit::id(&id)?;
    let mut stored = vec![];
    let outcome = async {
        let mut mp = <Multipart as axum::extract::FromRequest<()>>::from_request(req, &()).await.map_err(AppError::rejected)?;
        let mut bytes = None;
        while let Some(field) = mp.next_field().await.map_err(AppError::rejected)? {
            if matches!(field.name(), Some("file" | "picture" | "pictures")) {
                bytes = Some(field.bytes().await.map_err(AppError::rejected)?.to_vec());
            }
        }
        let bytes = bytes.filter(|b| !b.is_empty()).ok_or_else(|| AppError::field("file", "Choose a picture to upload"))?;
        let before = profile_admin::by_id(&state.db, id).await?;
        if before.profile_pictures.0.len() >= 10 {
            return Err(AppError::Conflict("This profile already has 10 pictures; remove one first.".into()));
        }
        crate::media::inspect(&bytes)?;
        let (url, mime, w, h, len) = store_picture(&state, bytes, &mut stored).await?;
        let mut pictures = before.profile_pictures.0.clone();
        pictures.push(url.clone());
        if let Err(e) = profile_admin::set_pictures(&state.db, id, &pictures).await {
            crate::media::discard(state.media.as_ref(), &stored).await;
            return Err(e.into());
        }
        profile_admin::log_picture(
            &state.db,
            id,
            &PictureCheck { url: &url, size_bytes: len, format: mime, width: w, height: h },
            me.admin.id,
        )
        .await?;
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            "profile_picture_added",
            Some(("profile", id.to_string())),
            Some(json!({ "pictures": before.profile_pictures.0 })),
            Some(json!({ "pictures": pictures })),
            Some(&ip),
        )
        .await?;
        Ok(("Picture added".to_string(), json!({ "url": url, "pictures": pictures })))
    }
    .await;
    via.finish(&format!("/admin/profiles/{id}"), outcome)
}

#[derive(Deserialize)]
struct OrderForm {
    /// The pictures to keep, in order, one URL per line; or one `move`.
    order: Option<String>,
    /// `<url>` with `direction` up/down/first, or `remove`.
    url: Option<String>,
    action: Option<String>,
}

async fn reorder_pictures(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Input(f): Input<OrderForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageFictionalProfiles)?;
    let id: ProfileId = kit::id(&id)?;
    let outcome = async {
        let before = profile_admin::by_id(&state.db, id).await?.profile_pictures.0;
        let mut pictures = before.clone();
        if let Some(url) = kit::text(&f.url) {
            let i = pictures.iter().position(|p| *p == url).ok_or_else(|| AppError::field("url", "Not one of this profile's pictures"))?;
            match kit::text(&f.action).as_deref() {
                Some("up") if i > 0 => pictures.swap(i, i - 1),
                Some("down") if i + 1 < pictures.len() => pictures.swap(i, i + 1),
                Some("first") => {
                    let p = pictures.remove(i);
                    pictures.insert(0, p);
                }
                Some("remove") => {
                    pictures.remove(i);
                }
                Some("up" | "down") => {}
                _ => return Err(AppError::field("action", "Action must be up, down, first or remove")),
            }
        } else {
            let order = kit::lines(&f.order);
            // A new order may drop pictures but never add unknown ones.
            if let Some(bad) = order.iter().find(|u| !before.contains(u)) {
                return Err(AppError::field("order", format!("Not one of this profile's pictures: {bad}")));
            }
            pictures = order;
        }
        profile_admin::set_pictures(&state.db, id, &pictures).await?;
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            "profile_pictures_reordered",
            Some(("profile", id.to_string())),
            Some(json!({ "pictures": before })),
            Some(json!({ "pictures": pictures })),
            Some(&ip),
        )
        .await?;
        Ok(("Pictures updated".to_string(), json!({ "pictures": pictures })))
    }
    .await;
    via.finish(&format!("/admin/profiles/{id}"), outcome)
}

#[derive(Deserialize)]
struct FlagForm {
    url: Option<String>,
    flagged: Option<String>,
    reason: Option<String>,
}

async fn flag_picture(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Input(f): Input<FlagForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageFictionalProfiles)?;
    let id: ProfileId = kit::id(&id)?;
    let outcome = async {
        let profile = profile_admin::by_id(&state.db, id).await?;
        let url = kit::text(&f.url)
            .filter(|u| profile.profile_pictures.0.contains(u))
            .ok_or_else(|| AppError::field("url", "Not one of this profile's pictures"))?;
        let flagged = kit::checked(&f.flagged);
        let reason = kit::text(&f.reason);
        if flagged && reason.is_none() {
            return Err(AppError::field("reason", "Say why the picture is flagged"));
        }
        profile_admin::flag_picture(&state.db, id, &url, flagged, reason.as_deref(), me.admin.id).await?;
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            if flagged { "picture_flagged" } else { "picture_cleared" },
            Some(("profile", id.to_string())),
            None,
            Some(json!({ "url": url, "reason": reason })),
            Some(&ip),
        )
        .await?;
        Ok((if flagged { "Picture flagged".to_string() } else { "Flag cleared".to_string() }, json!({ "url": url, "is_flagged": flagged })))
    }
    .await;
    via.finish(&format!("/admin/profiles/{id}"), outcome)
}

#[derive(Deserialize)]
struct DeleteForm {
    /// Must repeat the number of open chats shown on the page, so nobody
    /// deletes a busy profile without seeing that it is busy.
    confirm_active_chats: Option<String>,
}

async fn delete(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Input(f): Input<DeleteForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageFictionalProfiles)?;
    let id: ProfileId = kit::id(&id)?;
    let outcome = async {
        let before = profile_admin::by_id(&state.db, id).await?;
        if kit::text(&f.confirm_active_chats).and_then(|n| n.parse::<i64>().ok()) != Some(before.active_chats) {
            return Err(AppError::field(
                "confirm_active_chats",
                format!("This profile has {} open chats; enter that number to confirm", before.active_chats),
            ));
        }
        let closed = operations::delete_profile(&state.db, id, Utc::now()).await?;
        state.realtime.written();
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            "profile_deleted",
            Some(("profile", id.to_string())),
            Some(snapshot(&before)),
            Some(json!({ "chats_closed": closed })),
            Some(&ip),
        )
        .await?;
        Ok((format!("Profile {} deleted; {closed} chats closed", before.name), json!({ "chats_closed": closed })))
    }
    .await;
    let back = if outcome.is_ok() { "/admin/profiles".to_string() } else { format!("/admin/profiles/{id}") };
    via.finish(&back, outcome)
}

#[derive(Deserialize)]
struct ImportForm {
    /// CSV (first row: column names) or a JSON array of objects.
    data: Option<String>,
    /// With "true", only report; create nothing.
    dry_run: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/profile_import.html")]
struct ImportPage {
    chrome: Chrome,
    nav: AdminNav,
    report: Vec<super::import::RowReport>,
    created: usize,
    failed: usize,
}

async fn import(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Input(f): Input<ImportForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageFictionalProfiles)?;
    let text = kit::text(&f.data).ok_or_else(|| AppError::field("data", "Paste CSV or JSON to import"))?;
    if text.len() > 2 * 1024 * 1024 {
        return Err(AppError::field("data", "At most 2 MB per import"));
    }
    let forms = super::import::forms(&text).map_err(|m| AppError::field("data", m))?;
    if forms.len() > 1000 {
        return Err(AppError::field("data", "At most 1,000 profiles per import"));
    }
    let (good, mut report) = super::import::check_rows(&forms);
    if !kit::checked(&f.dry_run) {
        for (row, profile) in good {
            let id = profiles::create(&state.db, &profile, Some(me.admin.id)).await?;
            report[row - 1].created = Some(id.to_string());
        }
        if let Err(e) = state.db.refresh_statistics("fictional_users").await {
            tracing::warn!(error = %e, "statistics not refreshed after the import");
        }
    }
    let created = report.iter().filter(|r| r.created.is_some()).count();
    let failed = report.iter().filter(|r| !r.errors.is_empty()).count();
    audit::admin_action(
        &state.db,
        Some(me.admin.id),
        "profiles_imported",
        Some(("profile", "bulk".into())),
        None,
        Some(json!({ "rows": report.len(), "created": created, "failed": failed })),
        Some(&ip),
    )
    .await?;
    if via.api {
        return Ok(Json(json!({ "created": created, "failed": failed, "rows": report })).into_response());
    }
    Ok(ImportPage { chrome: me.chrome(&csrf, "/admin/profiles"), nav: nav(&me), report, created, failed }.into_response())
}
