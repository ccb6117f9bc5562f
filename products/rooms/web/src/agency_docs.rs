//! An agency application's details over HTTP (6.1): the owner of a pending
//! agency sends a square JPEG/PNG logo (≤ 2 MB, judged from the bytes by
//! platform-media), the ID front and back images (JPEG/PNG ≤ 2 MB each),
//! phone, address and referrer ID in one multipart form
//! (`/agencies/details`, `POST /api/v1/agency/details`). The ID images are
//! sealed here with AES-256-GCM (a random nonce per image, the agency and
//! side as associated data) before the store sees them, and opened only
//! for staff with `manage_users` — the permission that approves agencies —
//! on the back office (`/backoffice/agencies/{id}/id/{front|back}`), each
//! viewing audit-logged.

use crate::admin::BackOffice;
use crate::auth::CurrentUser;
use crate::error::{AppError, WebError, WebResult};
use crate::AppState;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use axum::extract::{Multipart, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use platform_backoffice::forms::with_param;
use platform_media::{MediaRules, MediaType, PixelLimits};
use rooms_domain::agency as rules;
use rooms_domain::ids::AgencyId;
use rooms_domain::staff::StaffPermission;
use rooms_store::agency_details::{self as details, SealedImage};
use serde_json::json;
use sha2::Digest;
use std::collections::HashMap;

/// The key ID images are sealed with: 32 bytes.
#[derive(Clone)]
pub struct DocKey([u8; 32]);

impl std::fmt::Debug for DocKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DocKey(…)")
    }
}

impl DocKey {
    /// From `ROOMS_ID_DOCS_KEY`: 32 bytes in standard base64.
    pub fn from_base64(text: &str) -> Result<DocKey, String> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|e| format!("ROOMS_ID_DOCS_KEY: {e}"))?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| "ROOMS_ID_DOCS_KEY must be 32 bytes (base64)".to_string())?;
        Ok(DocKey(key))
    }

    /// DEVELOPMENT ONLY: a fixed key anyone can derive. Production sets
    /// `ROOMS_ID_DOCS_KEY`.
    pub fn dev_only() -> DocKey {
        DocKey(sha2::Sha256::digest(b"rooms DEV-ONLY id document key: set ROOMS_ID_DOCS_KEY in production").into())
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0))
    }

    /// Seals `plain` for `agency`'s `side`: nonce (12 bytes) then ciphertext and tag.
    pub fn seal(&self, agency: AgencyId, side: &str, plain: &[u8]) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = format!("agency-id:{agency}:{side}");
        let ct = self.cipher().encrypt(&nonce, Payload { msg: plain, aad: aad.as_bytes() }).expect("AES-GCM seals any length we accept");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        out
    }

    /// Opens what [`DocKey::seal`] sealed for the same agency and side.
    pub fn open(&self, agency: AgencyId, side: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < 12 {
            return None;
        }
        let (nonce, ct) = sealed.split_at(12);
        let aad = format!("agency-id:{agency}:{side}");
        self.cipher().decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: aad.as_bytes() }).ok()
    }
}

/// An application's body: three pictures of up to 2 MB (6.1) and its text
/// fields; its routes carry this limit instead of the site's 4 MB.
pub const DETAILS_LIMIT: usize = 7 * 1024 * 1024;

const PICTURES: &[MediaType] = &[MediaType::Jpeg, MediaType::Png];

fn picture_rules(field: &'static str, label: &'static str) -> MediaRules {
    MediaRules { field, label, accept: PICTURES, max_bytes: 2 * 1024 * 1024, pixels: Some(PixelLimits { min_side: 64, max_side: 8192 }) }
}

/// The parts of the form: files with their declared type, and text fields.
#[derive(Default)]
struct Parts {
    files: HashMap<String, (Vec<u8>, Option<String>)>,
    text: HashMap<String, String>,
}

async fn read_parts(mut mp: Multipart) -> WebResult<Parts> {
    let mut parts = Parts::default();
    while let Some(part) = mp.next_field().await.map_err(AppError::rejected)? {
        let Some(name) = part.name().map(str::to_string) else { continue };
        if part.file_name().is_some() || matches!(name.as_str(), "logo" | "id_front" | "id_back") {
            let ct = part.content_type().map(str::to_string);
            let bytes = part.bytes().await.map_err(AppError::rejected)?;
            if !bytes.is_empty() {
                parts.files.insert(name, (bytes.to_vec(), ct));
            }
        } else {
            let text = part.text().await.map_err(AppError::rejected)?;
            parts.text.insert(name, text);
        }
    }
    Ok(parts)
}

/// Checks every field, names each bad one, seals the ID images and stores
/// the logo; then the store writes it all in one transaction.
async fn submit(s: &AppState, u: &CurrentUser, mp: Multipart) -> WebResult<()> {
    let Some(mine) = rooms_store::agencies::standing(&s.db, u.id()).await?.owns else {
        return Err(crate::error::refused("not_agency_owner", "Only an agency's owner completes its application"));
    };
    let parts = read_parts(mp).await?;
    let text = |k: &str| parts.text.get(k).map(String::as_str).unwrap_or("");
    let mut errs = match rules::check_details(text("phone"), text("address"), text("referrer")) {
        Ok(_) => platform_kernel::FieldErrors::default(),
        Err(e) => e,
    };
    let mut checked = HashMap::new();
    for (field, label) in [("logo", "The logo"), ("id_front", "The ID front"), ("id_back", "The ID back")] {
        let Some((bytes, ct)) = parts.files.get(field) else {
            errs.add(field, format!("{label} is required"));
            continue;
        };
        match platform_media::check(bytes, ct.as_deref(), &picture_rules(field, label)) {
            Ok(c) => {
                if field == "logo" && c.dimensions.is_some_and(|(w, h)| w != h) {
                    errs.add(field, "The logo must be square (as wide as it is high)");
                } else {
                    checked.insert(field, c);
                }
            }
            Err(e) => errs.0.extend(e.0),
        }
    }
    if !errs.0.is_empty() {
        return Err(AppError::Validation(errs).into());
    }
    let details = rules::check_details(text("phone"), text("address"), text("referrer")).map_err(AppError::Validation)?;
    let (logo, logo_ct) = parts.files.get("logo").cloned().ok_or_else(|| AppError::Internal("checked above".into()))?;
    let logo_url = crate::media::store_square(s, logo, logo_ct.as_deref(), &picture_rules("logo", "The logo")).await?;
    let key = &s.config.id_docs_key;
    let seal = |side: &'static str, field: &str| -> WebResult<SealedImage> {
        let (bytes, _) = parts.files.get(field).ok_or_else(|| AppError::Internal("checked above".into()))?;
        let mime = checked.get(field).map_or("application/octet-stream", |c| c.mime()).to_string();
        Ok(SealedImage { mime, sealed: key.seal(mine.id, side, bytes) })
    };
    let (front, back) = (seal("front", "id_front")?, seal("back", "id_back")?);
    let submission = details::Submission { logo_url, details, front, back };
    details::submit(&s.db, u.id(), mine.id, &submission, Utc::now()).await?;
    Ok(())
}

/// The form on `/agencies`: back there with a notice, or with the first
/// refusal's message.
pub async fn submit_page(State(s): State<AppState>, u: CurrentUser, mp: Multipart) -> WebResult<Response> {
    match submit(&s, &u, mp).await {
        Ok(()) => Ok(Redirect::to(&with_param("/agencies", "notice", "Application sent: staff will review it.")).into_response()),
        Err(WebError::Refused { message, .. }) => Ok(Redirect::to(&with_param("/agencies", "error", &message)).into_response()),
        Err(WebError::App(e @ (AppError::Validation(_) | AppError::PayloadTooLarge(_)))) => {
            Ok(Redirect::to(&with_param("/agencies", "error", &e.body().message)).into_response())
        }
        Err(e) => Err(e),
    }
}

#[utoipa::path(post, path = "/api/v1/agency/details", tag = "agencies",
    request_body(content_type = "multipart/form-data", description = "Files `logo` (square JPEG/PNG ≤ 2 MB), `id_front`, `id_back` (JPEG/PNG ≤ 2 MB each; stored encrypted, seen only by approving staff); fields `phone`, `address`, `referrer` (a public number, may be empty)"),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`{agency}` with its `logo_url`; staff review the application"),
        (status = 403, description = "`not_agency_owner`"),
        (status = 409, description = "`details_fixed`: the agency is already approved"),
        (status = 413, description = "The body is too large"),
        (status = 422, description = "`validation`, every bad field named: `logo` (type judged from the bytes, size, square), `id_front`, `id_back`, `phone`, `address`, `referrer`")))]
pub async fn submit_api(State(s): State<AppState>, u: CurrentUser, mp: Multipart) -> WebResult<Response> {
    submit(&s, &u, mp).await?;
    let a = rooms_store::agencies::standing(&s.db, u.id()).await?.owns;
    Ok(axum::Json(json!({"agency": a})).into_response())
}

/// An ID image, opened for staff who approve agencies; never cached.
pub async fn id_image(State(s): State<AppState>, me: BackOffice, Path((id, side)): Path<(String, String)>) -> WebResult<Response> {
    me.require(StaffPermission::ManageUsers)?;
    let id: AgencyId = platform_backoffice::forms::id(&id)?;
    if side != "front" && side != "back" {
        return Err(AppError::NotFound.into());
    }
    let doc = details::id_document(&s.db, me.user.id(), id, &side, Utc::now()).await?;
    let Some(plain) = s.config.id_docs_key.open(id, &side, &doc.sealed) else {
        return Err(AppError::Internal("an ID image does not open with this server's key (ROOMS_ID_DOCS_KEY changed?)".into()).into());
    };
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, doc.mime),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        plain,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_images_open_only_with_the_key_agency_and_side() {
        let key = DocKey::dev_only();
        let a = AgencyId::new();
        let plain = b"\xff\xd8\xff an ID picture";
        let sealed = key.seal(a, "front", plain);
        assert!(!sealed.windows(plain.len()).any(|w| w == plain), "the bytes are not stored in the clear");
        assert_ne!(sealed, key.seal(a, "front", plain), "a fresh nonce each time");
        assert_eq!(key.open(a, "front", &sealed).as_deref(), Some(&plain[..]));
        assert_eq!(key.open(a, "back", &sealed), None, "bound to its side");
        assert_eq!(key.open(AgencyId::new(), "front", &sealed), None, "bound to its agency");
        let other = DocKey::from_base64(&base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 32])).unwrap();
        assert_eq!(other.open(a, "front", &sealed), None, "another key opens nothing");
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(key.open(a, "front", &tampered), None);
        assert!(DocKey::from_base64("c2hvcnQ=").is_err());
    }
}
