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
        }
    }
}
