//! The marketplace settings in force: what admins stored in the back
//! office (`settings` table) over the defaults the server was started with
//! (`GIGSTREAM_PLATFORM_FEE_PERCENT`, `…_BUYER_FEE_…`, `…_CLEARANCE_DAYS`).

use crate::{AppResult, AppState, WebConfig};
use gigstream_domain::backoffice::Settings;

/// The command line's values.
pub fn defaults(config: &WebConfig) -> Settings {
    Settings { fees: config.fees, clearance_days: config.clearance_days }
}

/// The settings new orders, clearance and wallets use now.
pub async fn current(state: &AppState) -> AppResult<Settings> {
    Ok(gigstream_store::backoffice::settings(&state.db, defaults(&state.config)).await?)
}
