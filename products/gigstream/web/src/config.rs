//! Settings of the web layer (the binary fills them from flags and env).

use crate::payments::PaymentsConfig;
use gigstream_domain::wallet::WithdrawalPolicy;
use gigstream_domain::{Currency, FeePolicy};
use platform_media::ClamdAddr;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct WebConfig {
    /// `Secure` cookies (behind HTTPS).
    pub secure_cookies: bool,
    pub hsts: bool,
    /// Behind one trusted proxy: the client is the last `X-Forwarded-For` entry.
    pub trust_proxy: bool,
    /// Plain-HTTP requests are redirected to HTTPS (`secure::https_redirect`).
    pub https_redirect: bool,
    /// Messages per minute per account.
    pub message_per_minute: u32,
    /// Sign-in and sign-up attempts per minute, per address and per login.
    pub auth_per_minute: u32,
    /// API calls per minute per address.
    pub api_per_minute: u32,
    /// Cheap password hashes (tests and demo seeds only).
    pub fast_password_hashing: bool,
    /// Where uploads (gallery pictures, deliverables) are kept.
    pub media_dir: PathBuf,
    /// The fees new orders are placed under.
    pub fees: FeePolicy,
    /// The marketplace's currency: gigs are priced in it.
    pub currency: Currency,
    /// The ClamAV daemon uploads are scanned by.
    pub clamd: ClamdAddr,
    /// Stripe and PayPal, real or faked.
    pub payments: PaymentsConfig,
    /// Days released earnings stay pending before they can be withdrawn.
    pub clearance_days: u32,
    /// Withdrawal minimum and fee.
    pub withdrawals: WithdrawalPolicy,
    /// The From of GigStream's mail (invoices).
    pub mail_from: String,
    /// Minutes a checkout may stay unreported before reconcile asks the provider.
    pub reconcile_after_minutes: u32,
    /// Notification email, web push and unsubscribe links.
    pub notify: crate::notify::NotifyConfig,
    /// The bearer token `/metrics` asks for; none: `/metrics` answers 404.
    pub metrics_token: Option<String>,
    /// Where panics and internal errors are reported (off by default).
    pub errors: crate::reporting::Reporter,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            hsts: false,
            trust_proxy: false,
            https_redirect: false,
            message_per_minute: 30,
            auth_per_minute: 5,
            api_per_minute: 100,
            fast_password_hashing: false,
            media_dir: PathBuf::from("data/media"),
            fees: FeePolicy::default(),
            currency: Currency::Usd,
            clamd: ClamdAddr::Unix(PathBuf::from("/var/run/clamav/clamd.ctl")),
            payments: PaymentsConfig::default(),
            clearance_days: 14,
            withdrawals: WithdrawalPolicy::default(),
            mail_from: "GigStream <billing@gigstream.localhost>".into(),
            reconcile_after_minutes: 15,
            notify: Default::default(),
            metrics_token: None,
            errors: Default::default(),
        }
    }
}
