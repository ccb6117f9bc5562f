//! One purchase path over HTTP for time-limited items (frames, VIP): the
//! body with the price seen and the request key (each named when
//! missing), the form's fields, and the answer: 201 `{purchase}`, too few
//! coins 402 with the numbers, refusals with their codes.

use crate::economy::money;
use crate::error::{AppError, WebResult};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rooms_store::{StoreError, StoreResult};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// A purchase at the price seen.
#[derive(Deserialize, ToSchema)]
pub struct BuyIn {
    /// The price the buyer was shown.
    price: Option<i64>,
    /// One purchase per key (1 to 100 characters).
    idempotency_key: Option<String>,
}

impl BuyIn {
    /// The price seen and the key, each named when missing.
    pub fn parts(self) -> Result<(i64, String), AppError> {
        seen(self.price, self.idempotency_key)
    }
}

/// The price seen and the key of a purchase, each named when missing.
pub fn seen(price: Option<i64>, key: Option<String>) -> Result<(i64, String), AppError> {
    let price = price.ok_or_else(|| AppError::field("price", "Send the price you were shown"))?;
    let key = key.ok_or_else(|| AppError::field("idempotency_key", "Send a key for this purchase"))?;
    Ok((price, key))
}

/// A purchase form's fields: the price shown and the page's key.
#[derive(Deserialize)]
pub struct BuyForm {
    pub price: i64,
    pub key: String,
}

/// A sale's outcome for a handler: too few coins as 402 with the numbers.
pub fn paid<T>(r: StoreResult<T>) -> WebResult<T> {
    r.map_err(|e: StoreError| money(e, "coins"))
}

/// A sale's outcome as the API answers it: 201 `{purchase}`.
pub fn created<T: Serialize>(r: StoreResult<T>) -> WebResult<Response> {
    let done = paid(r)?;
    Ok((StatusCode::CREATED, axum::Json(json!({"purchase": done}))).into_response())
}
