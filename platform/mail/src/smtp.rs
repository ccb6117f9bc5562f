//! SMTP through lettre on tokio with rustls.

use crate::{Email, MailError, Mailer};
use async_trait::async_trait;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// No TLS at all: a relay on loopback or inside a private network only.
    Plain,
    /// Plain connect, then STARTTLS, required (submission port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// Where and how to hand messages over. `Debug` hides the password.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// User name and password, when the relay wants them.
    pub credentials: Option<(String, String)>,
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .finish_non_exhaustive()
    }
}

impl SmtpConfig {
    pub fn new(host: impl Into<String>, port: u16, security: Security) -> Self {
        SmtpConfig { host: host.into(), port, security, credentials: None, timeout: Duration::from_secs(20) }
    }

    pub fn plain(host: impl Into<String>, port: u16) -> Self {
        Self::new(host, port, Security::Plain)
    }

    pub fn starttls(host: impl Into<String>, port: u16) -> Self {
        Self::new(host, port, Security::StartTls)
    }

    pub fn tls(host: impl Into<String>, port: u16) -> Self {
        Self::new(host, port, Security::Tls)
    }

    pub fn with_credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some((user.into(), password.into()));
        self
    }

    /// Reads `smtp://host:port`, `smtp+starttls://user:pass@host:587` or
    /// `smtps://host:465` (user and password percent-encoded).
    pub fn from_url(url: &str) -> Result<Self, MailError> {
        let bad = |m: &str| MailError::Invalid(format!("SMTP URL {:?}: {m}", redact(url)));
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let (security, default_port) = match scheme {
            "smtp" => (Security::Plain, 25),
            "smtp+starttls" => (Security::StartTls, 587),
            "smtps" => (Security::Tls, 465),
            _ => return Err(bad("the scheme is smtp, smtp+starttls or smtps")),
        };
        let rest = rest.trim_end_matches('/');
        let (auth, hostport) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad("bad port"))?),
            None => (hostport, default_port),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let mut config = Self::new(host, port, security);
        if let Some(auth) = auth {
            let (user, pass) = auth.split_once(':').ok_or_else(|| bad("user without password"))?;
            config = config.with_credentials(percent_decode(user), percent_decode(pass));
        }
        Ok(config)
    }
}

fn redact(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, host))) => format!("{scheme}://…@{host}"),
        _ => url.to_string(),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Sends through an SMTP relay; connections are pooled.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").finish_non_exhaustive()
    }
}

impl SmtpMailer {
    pub fn new(config: SmtpConfig) -> Result<Self, MailError> {
        let tls = |host: &str| TlsParameters::new(host.to_string()).map_err(|e| MailError::Invalid(format!("TLS for {host}: {e}")));
        let tls = match config.security {
            Security::Plain => Tls::None,
            Security::StartTls => Tls::Required(tls(&config.host)?),
            Security::Tls => Tls::Wrapper(tls(&config.host)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout));
        if let Some((user, pass)) = config.credentials {
            builder = builder.credentials(Credentials::new(user, pass));
        }
        Ok(SmtpMailer { transport: builder.build() })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let message = email.to_lettre()?;
        self.transport.send(message).await.map_err(|e| MailError::Transport(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls() {
        let c = SmtpConfig::from_url("smtp+starttls://mailer%40example.com:p%3Ass@smtp.example.com:2525").unwrap();
        assert_eq!((c.host.as_str(), c.port, c.security), ("smtp.example.com", 2525, Security::StartTls));
        assert_eq!(c.credentials, Some(("mailer@example.com".into(), "p:ss".into())));
        let c = SmtpConfig::from_url("smtps://smtp.example.com").unwrap();
        assert_eq!((c.port, c.security, c.credentials), (465, Security::Tls, None));
        let c = SmtpConfig::from_url("smtp://127.0.0.1:2525/").unwrap();
        assert_eq!((c.host.as_str(), c.port, c.security), ("127.0.0.1", 2525, Security::Plain));
        for bad in ["http://x", "smtp://", "smtp://host:port", "smtp://user@host", "host:25"] {
            assert!(SmtpConfig::from_url(bad).is_err(), "{bad}");
        }
        let err = SmtpConfig::from_url("smtp://user:hunter2@host:x").unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(!format!("{:?}", SmtpConfig::plain("h", 25).with_credentials("u", "hunter2")).contains("hunter2"));
    }
}
