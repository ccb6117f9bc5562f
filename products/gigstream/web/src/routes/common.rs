//! What pages and the API share: body extractors that answer in our error
//! shape, uploads, and the order steps with their permission checks.

use crate::auth::CurrentUser;
use crate::{AppError, AppState};
use axum::extract::{FromRequest, Multipart, Request};
use chrono::Utc;
use gigstream_domain::ids::OrderId;
use gigstream_domain::notifications::Event;
use gigstream_domain::order::{Action, Actor};
use gigstream_store::orders::{self, DeliveredFile, Order};
use gigstream_store::security;
use platform_media::{MediaKey, MediaRules, MediaType, PixelLimits, ScanError, Verdict};
use serde::de::DeserializeOwned;

/// A JSON body; a malformed one is a 400 (413 when too large) in our shape.
pub struct JsonIn<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonIn<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(req, state).await.map(|j| JsonIn(j.0)).map_err(AppError::rejected)
    }
}

/// A form body, likewise.
pub struct FormIn<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for FormIn<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Form::<T>::from_request(req, state).await.map(|j| FormIn(j.0)).map_err(AppError::rejected)
    }
}

pub const GALLERY: MediaRules = MediaRules {
    field: "image",
    label: "Picture",
    accept: &MediaType::IMAGES,
    max_bytes: 5 * 1024 * 1024,
    pixels: Some(PixelLimits { min_side: 200, max_side: 8000 }),
};

pub const DELIVERABLE: MediaRules =
    MediaRules { field: "files", label: "Delivered file", accept: &MediaType::ALL, max_bytes: 10 * 1024 * 1024, pixels: None };

/// Checks an upload (its type sniffed from the bytes), has it scanned for
/// viruses, and stores it under `prefix`.
pub async fn store_upload(
    state: &AppState,
    who: &CurrentUser,
    prefix: &str,
    (bytes, name): (Vec<u8>, &str),
    declared: Option<&str>,
    rules: &MediaRules,
) -> Result<(String, &'static str), AppError> {
    // Size first (nothing oversized is sent to the scanner); then the scan,
    // so an infected file is caught and recorded whatever type it claims;
    // then the type from the bytes.
    platform_media::check_bytes(bytes.len(), rules)?;
    scan_upload(state, who, &bytes, name, rules).await?;
    let checked = platform_media::check(&bytes, declared, rules)?;
    let key = MediaKey::unique_under(prefix, checked.media_type).map_err(|e| AppError::Internal(e.to_string()))?;
    state.media.put(&key, bytes, checked.mime()).await.map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((key.as_str().to_string(), checked.mime()))
}

/// Has the virus scanner look at an upload before anything is stored. An
/// infected file is refused on its field and recorded as a security event;
/// a scanner that does not answer refuses the upload with a 503 that says
/// so (never stores it unscanned).
pub async fn scan_upload(state: &AppState, who: &CurrentUser, bytes: &[u8], name: &str, rules: &MediaRules) -> Result<(), AppError> {
    match state.scanner.scan(bytes).await {
        Ok(Verdict::Clean) => Ok(()),
        Ok(Verdict::Infected(signature)) => {
            tracing::warn!(account = %who.account.id, %signature, field = rules.field, file = name, "infected upload refused");
            let detail = security::Detail {
                signature: signature.clone(),
                field: rules.field.into(),
                file_name: name.into(),
                bytes: bytes.len() as i64,
                ..security::Detail::default()
            };
            security::record(&state.db, security::Kind::InfectedUpload, Some(who.account.id), who.ip.as_deref(), &detail, Utc::now())
                .await?;
            Err(AppError::field(
                rules.field,
                format!("{} was refused: the virus scanner found {signature} in it. Nothing was stored.", rules.label),
            ))
        }
        Err(ScanError::Refused(why)) => {
            Err(AppError::field(rules.field, format!("{} could not be scanned for viruses ({why}), so it was not stored.", rules.label)))
        }
        Err(e) => {
            tracing::error!(error = %e, "virus scanner unavailable; upload refused");
            Err(AppError::DependencyDown(SCANNER_DOWN.into()))
        }
    }
}

/// What an upload meets while the virus scanner is down.
pub const SCANNER_DOWN: &str =
    "Uploads are paused: the virus scanner is not answering, and no file is stored without a scan. Please try again in a few minutes.";

/// The name a client gave a file, without control characters, at most 120 characters.
pub fn file_name(raw: Option<&str>, fallback: &str) -> String {
    raw.unwrap_or(fallback).chars().filter(|c| !c.is_control()).take(120).collect()
}

/// A delivery's message and files, from a multipart form (`message`,
/// `files`…) whose files are checked and stored as they arrive.
pub async fn read_delivery(state: &AppState, who: &CurrentUser, mut form: Multipart) -> Result<(String, Vec<DeliveredFile>), AppError> {
    let mut message = String::new();
    let mut files = vec![];
    while let Some(field) = form.next_field().await.map_err(AppError::rejected)? {
        match field.name().unwrap_or("") {
            "message" => message = field.text().await.map_err(AppError::rejected)?,
            "files" => {
                let name = file_name(field.file_name(), "file");
                let declared = field.content_type().map(str::to_string);
                let bytes = field.bytes().await.map_err(AppError::rejected)?.to_vec();
                if bytes.is_empty() {
                    continue;
                }
                if files.len() >= 5 {
                    return Err(AppError::field("files", "At most 5 files per delivery"));
                }
                let size = bytes.len() as i64;
                let (key, mime) = store_upload(state, who, "deliveries", (bytes, &name), declared.as_deref(), &DELIVERABLE).await?;
                files.push(DeliveredFile { key, name, content_type: mime.into(), bytes: size });
            }
            _ => {}
        }
    }
    Ok((message, files))
}

/// The order and the side `user` is on; 404 for anyone else.
pub async fn order_for(state: &AppState, user: &CurrentUser, id: OrderId) -> Result<(Order, Actor), AppError> {
    let o = orders::get(&state.db, id).await?;
    let actor = o.actor_for(user.account.id, user.account.is_admin).ok_or(AppError::NotFound)?;
    Ok((o, actor))
}

/// 403 unless `actor` may ever take `action`.
pub fn may(actor: Actor, action: Action) -> Result<(), AppError> {
    if action.actors().contains(&actor) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// One order step by a party, after the permission check.
pub async fn order_step(state: &AppState, user: &CurrentUser, id: OrderId, action: Action, input: StepInput) -> Result<Order, AppError> {
    let (o, actor) = order_for(state, user, id).await?;
    let db = &state.db;
    let me = user.account.id;
    let now = Utc::now();
    let key = input.request_key.clone().unwrap_or_else(|| format!("{}:{}", action, o.version));
    let done = match action {
        Action::SubmitRequirements => {
            may(actor, action)?;
            orders::submit_requirements(db, id, me, input.answers, now).await?
        }
        Action::Deliver => {
            may(actor, action)?;
            orders::deliver(db, id, me, &input.message, input.files, now).await?
        }
        Action::RequestRevision => {
            may(actor, action)?;
            orders::request_revision(db, id, me, &input.message, now).await?
        }
        Action::Accept => {
            may(actor, action)?;
            orders::accept(db, id, me, now).await?
        }
        Action::RequestCancel => {
            may(actor, action)?;
            orders::request_cancel(db, id, actor, me, &input.message, now).await?
        }
        Action::Cancel => {
            may(actor, action)?;
            let o = orders::cancel(db, id, (actor, me), input.refund_minor, &key, &input.message, now).await?;
            refunds_out(state, id).await;
            o
        }
        Action::Dispute => {
            may(actor, action)?;
            orders::dispute(db, id, actor, me, &input.message, now).await?
        }
        _ => return Err(AppError::NotFound),
    };
    let event = match action {
        Action::SubmitRequirements => Some(Event::RequirementsSubmitted),
        Action::Deliver => Some(Event::Delivered),
        Action::RequestRevision => Some(Event::RevisionRequested),
        Action::Accept => Some(Event::Completed),
        _ => None,
    };
    if let Some(event) = event {
        crate::notify::about_order(state, &done, event).await;
    }
    Ok(done)
}

/// What an order step may carry.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct StepInput {
    pub answers: Vec<String>,
    /// The delivery message, revision note, or reason.
    #[serde(alias = "note", alias = "reason")]
    pub message: String,
    #[serde(skip)]
    pub files: Vec<DeliveredFile>,
    /// An admin's partial refund on cancel.
    pub refund_minor: Option<i64>,
    pub request_key: Option<String>,
}

/// The action named in a URL (`/orders/{id}/{action}`).
pub fn action_of(name: &str) -> Result<Action, AppError> {
    Ok(match name {
        "requirements" => Action::SubmitRequirements,
        "deliver" => Action::Deliver,
        "revision" => Action::RequestRevision,
        "accept" => Action::Accept,
        "cancel-request" => Action::RequestCancel,
        "cancel" => Action::Cancel,
        "dispute" => Action::Dispute,
        _ => return Err(AppError::NotFound),
    })
}

/// Sends an order's new refunds to its payment provider. The refund is
/// already booked; a provider that cannot be reached now gets it again
/// from the `refunds` job (same idempotency key).
pub async fn refunds_out(state: &AppState, id: OrderId) {
    if let Err(e) = crate::payments::send_refunds(state, Some(id)).await {
        tracing::warn!(order = %id, error = %e, "refund left for the refunds job");
    }
    crate::invoices::kick(state, id);
}
