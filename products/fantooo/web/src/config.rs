//! Settings of the web layer, filled from flags/env by the binary.

use std::time::Duration;

#[derive(Clone)]
pub struct WebConfig {
    /// Users get `username@<email_domain>` addresses.
    pub email_domain: String,
    /// Required by /setup to create the first super admin; /setup is closed without it.
    pub admin_setup_token: Option<String>,
    /// Mark cookies `Secure` (on behind HTTPS; off for plain-HTTP local runs).
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_proxy: bool,
    pub session_ttl: Duration,
    /// Requests per minute per IP and per account on auth endpoints.
    pub auth_per_minute: u32,
    /// Requests per minute per IP/account on the JSON API.
    pub api_per_minute: u32,
    /// Chat messages per minute per user.
    pub messages_per_minute: u32,
    /// Directory for uploaded pictures (the local media store).
    pub media_dir: std::path::PathBuf,
    /// Run this node's queue assigner (off in tests that drive assignment).
    pub run_assigner: bool,
    /// This node's name in logs and job records.
    pub node_name: String,
    /// Send HSTS (only meaningful behind HTTPS).
    pub hsts: bool,
    /// Lower Argon2 cost for test suites; never set in production.
    pub fast_password_hashing: bool,
    pub payments: PaymentsConfig,
    /// Bearer token that `/metrics` requires; without one `/metrics` is
    /// not served (404).
    pub metrics_token: Option<String>,
    /// The `From` of the site's own mail (recovery links); default
    /// `Fantooo <no-reply@<email_domain>>`.
    pub mail_from: Option<String>,
}

/// Which payment provider serves checkouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentsMode {
    /// The built-in fake Paystack under `/fake-paystack` (demo, offline).
    Fake,
    /// The real Paystack API.
    Paystack,
}

#[derive(Clone)]
pub struct PaymentsConfig {
    pub mode: PaymentsMode,
    /// The provider secret key: API bearer token and webhook signing key.
    pub secret_key: String,
    /// Base URL of the provider's API (the fake's is this app's own
    /// `/fake-paystack`, reached over loopback).
    pub api_base_url: String,
    /// This site's public base URL for the checkout return link; when
    /// unset it is taken from the request's Host.
    pub public_url: Option<String>,
    /// Checkouts pending longer than this are re-verified by reconciliation.
    pub reconcile_after: Duration,
}

impl PaymentsConfig {
    /// The fake served by an app listening on `addr`.
    pub fn fake_at(addr: std::net::SocketAddr) -> PaymentsConfig {
        // A wildcard bind is still reachable on loopback.
        let host = if addr.ip().is_unspecified() { std::net::SocketAddr::from(([127, 0, 0, 1], addr.port())) } else { addr };
        PaymentsConfig {
            mode: PaymentsMode::Fake,
            secret_key: platform_payments::fake::FakePaystack::random_secret(),
            api_base_url: format!("http://{host}/fake-paystack"),
            public_url: None,
            reconcile_after: Duration::from_secs(15 * 60),
        }
    }
}

impl std::fmt::Debug for PaymentsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentsConfig")
            .field("mode", &self.mode)
            .field("secret_key", &"<redacted>")
            .field("api_base_url", &self.api_base_url)
            .field("public_url", &self.public_url)
            .field("reconcile_after", &self.reconcile_after)
            .finish()
    }
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("email_domain", &self.email_domain)
            .field("admin_setup_token", &self.admin_setup_token.as_ref().map(|_| "<redacted>"))
            .field("secure_cookies", &self.secure_cookies)
            .field("trust_proxy", &self.trust_proxy)
            .field("session_ttl", &self.session_ttl)
            .field("auth_per_minute", &self.auth_per_minute)
            .field("api_per_minute", &self.api_per_minute)
            .field("messages_per_minute", &self.messages_per_minute)
            .field("media_dir", &self.media_dir)
            .field("payments", &self.payments)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "<redacted>"))
            .field("mail_from", &self.mail_from)
            .finish()
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            email_domain: "fantooo.com".into(),
            admin_setup_token: None,
            secure_cookies: false,
            trust_proxy: false,
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            auth_per_minute: 5,
            api_per_minute: 100,
            messages_per_minute: 60,
            media_dir: "data/media".into(),
            run_assigner: true,
            node_name: format!("node-{}", std::process::id()),
            hsts: false,
            fast_password_hashing: false,
            payments: PaymentsConfig::fake_at(std::net::SocketAddr::from(([127, 0, 0, 1], 8080))),
            metrics_token: None,
            mail_from: None,
        }
    }
}
