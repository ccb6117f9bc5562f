//! The coin economy's HTTP face, in its own routes so it stays apart from
//! the room pages: coins (balances, history, recharge packages bought
//! through the payment provider, transfers with confirmation), gifts (the
//! catalogue, sending in a room, history), diamonds (earnings, exchange,
//! payouts), levels and leaderboards. The JSON API is under `/api/v1`, the
//! pages at `/coins`, `/leaderboards`; the room page's gift panel is
//! `assets/gifts.js` over the same API and the room's live socket.

pub mod api;
pub mod pages;
pub mod payments;
pub mod resellers;
pub mod seed;

pub use payments::Economy;

use crate::error::{AppError, WebError};
use crate::AppState;
use axum::Router;
use rooms_store::StoreError;

/// Every economy route, with the fake provider's pages under
/// `/fake-paystack` when the economy runs on it.
pub fn routes(state: &AppState) -> Router<AppState> {
    let r = Router::new().merge(pages::routes()).merge(resellers::routes());
    match &state.economy.fake {
        Some(fake) => r.nest_service(payments::FAKE_PREFIX, fake.router()),
        None => r,
    }
}

/// A store error where money is short, in `unit`: 402 with `required` and
/// `available`.
pub fn money(e: StoreError, unit: &'static str) -> WebError {
    match e {
        StoreError::Insufficient { required, available } => AppError::Insufficient {
            unit,
            required,
            available,
            message: format!("Not enough {unit}: this needs {required}, you have {available}."),
        }
        .into(),
        other => other.into(),
    }
}
