//! Outgoing mail: a [`Mailer`] trait the products call, [`SmtpMailer`]
//! (lettre over tokio and rustls: plain, STARTTLS or implicit TLS, with
//! credentials when the relay wants them), [`MemoryMailer`] for tests that
//! only need to see what was sent, and — with the `testing` feature —
//! [`testing::SmtpSink`], a small SMTP server on loopback that accepts
//! messages so tests can send through real SMTP and read what arrived.
//!
//! ```no_run
//! # async fn demo() -> Result<(), platform_mail::MailError> {
//! use platform_mail::{Attachment, Email, Mailer, SmtpConfig, SmtpMailer};
//! let mailer = SmtpMailer::new(SmtpConfig::starttls("smtp.example.com", 587).with_credentials("user", "pass"))?;
//! let email = Email::new("GigStream <billing@gigstream.example>", "buyer@example.com", "Your invoice 2026-0001")
//!     .text("Thank you for your order.")
//!     .attach(Attachment::new("invoice-2026-0001.pdf", "application/pdf", vec![/* PDF bytes */]));
//! mailer.send(&email).await?;
//! # Ok(()) }
//! ```

mod message;
mod smtp;
#[cfg(feature = "testing")]
pub mod testing;

use async_trait::async_trait;
use std::sync::{Arc, Mutex};

pub use message::{Attachment, Email};
pub use smtp::{Security, SmtpConfig, SmtpMailer};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// An address, header or attachment the message cannot carry.
    #[error("invalid message: {0}")]
    Invalid(String),
    /// The relay could not be reached, or refused the message.
    #[error("could not send mail: {0}")]
    Transport(String),
}

/// Sends one message; implementations are shared behind `Arc<dyn Mailer>`.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, email: &Email) -> Result<(), MailError>;
}

/// Keeps every message instead of sending it (tests, and the demo when no
/// relay is configured). It checks the message as the SMTP mailer would,
/// so a message it accepts is one SMTP would accept.
#[derive(Debug, Clone, Default)]
pub struct MemoryMailer {
    sent: Arc<Mutex<Vec<Email>>>,
}

impl MemoryMailer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message sent so far, oldest first.
    pub fn sent(&self) -> Vec<Email> {
        self.sent.lock().expect("lock").clone()
    }

    /// The messages sent to `address`.
    pub fn sent_to(&self, address: &str) -> Vec<Email> {
        self.sent().into_iter().filter(|e| e.to.iter().any(|t| t.contains(address))).collect()
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        email.to_lettre()?;
        self.sent.lock().expect("lock").push(email.clone());
        Ok(())
    }
}
