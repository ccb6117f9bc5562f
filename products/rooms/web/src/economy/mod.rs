//! The coin economy's HTTP face, in its own routes so it stays apart from
//! the room pages: coins (balances, history, recharge packages bought
//! through the payment provider, transfers with confirmation), gifts (the
//! catalogue, sending in a room, history), diamonds (earnings, exchange,
//! payouts), levels and leaderboards. The JSON API is under `/api/v1`, the
//! pages at `/coins`, `/leaderboards`; the room page's gift panel is
//! `assets/gifts.js` over the same API and the room's live socket.

pub mod accepts;
pub mod api;
pub mod credits;
pub mod pages;
pub mod payments;
pub mod resellers;
pub mod seed;

pub use payments::Economy;

use crate::error::{AppError, WebError};
use crate::AppState;
use axum::Router;
use rooms_store::StoreError;

/// Every economy route (the fake provider's pages are mounted beside the
/// app's layers, see [`with_fake_provider`]).
pub fn routes(_state: &AppState) -> Router<AppState> {
    Router::new().merge(pages::routes()).merge(resellers::routes())
}

/// The fake provider's API and hosted checkout under `/fake-paystack`, when
/// the economy runs on it. It stands for a separate service, so it is
/// mounted outside the app's layers (no session, CSRF or rate limits), as
/// the real provider's pages would be: its own checkout form carries no
/// CSRF token of ours.
pub fn with_fake_provider(app: Router, state: &AppState) -> Router {
    match &state.economy.fake {
        Some(fake) => app.nest_service(payments::FAKE_PREFIX, fake.router()),
        None => app,
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
