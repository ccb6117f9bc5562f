//! GigStream's HTTP face: server-rendered pages, the JSON API under
//! `/api/v1`, and the layers every request passes. Handlers stay thin: the
//! rules live in `gigstream-domain`, persistence in `gigstream-store`.

pub mod assets;
pub mod auth;
pub mod config;
pub mod error;
pub mod forms;
pub mod google;
pub mod invoices;
pub mod middleware;
pub mod notify;
pub mod payments;
pub mod realtime;
pub mod reporting;
pub mod routes;
pub mod secure;
pub mod seed;
pub mod settings;
pub mod templates;
pub mod views;

pub use config::WebConfig;
pub use error::{AppError, AppResult};
pub use platform_web::server;

use gigstream_store::Db;
use std::sync::Arc;

/// Everything a handler may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<WebConfig>,
    pub limits: Arc<middleware::Limits>,
    pub media: Arc<dyn platform_media::MediaStore>,
    /// Stripe and PayPal (or their fakes): checkouts, refunds, payouts.
    pub payments: Arc<payments::Payments>,
    /// Every upload is scanned by it before it is stored.
    pub scanner: Arc<dyn platform_media::Scanner>,
    /// This node's live messaging fan-out.
    pub realtime: Arc<realtime::Realtime>,
    /// Converts gig videos in the background.
    pub ffmpeg: Arc<platform_media::video::Ffmpeg>,
    /// Outgoing mail (invoices); kept in memory unless SMTP is set up.
    pub mailer: Arc<dyn platform_mail::Mailer>,
    /// Google sign-in, when configured.
    pub google: Option<Arc<google::Google>>,
    /// Email and web push senders for notifications.
    pub notifier: Arc<notify::Notifier>,
    /// The Prometheus recorder's handle, when the binary installed one.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

impl AppState {
    pub fn new(db: Db, config: WebConfig) -> Self {
        platform_web::error::set_vocabulary(&error::WORDS);
        let limits = Arc::new(middleware::Limits::new(&config));
        let media = Arc::new(platform_media::LocalDisk::new(config.media_dir.clone()));
        let payments = Arc::new(payments::Payments::new(&config.payments));
        let scanner = Arc::new(platform_media::Clamd::new(config.clamd.clone()));
        let realtime = realtime::start(db.clone());
        let ffmpeg = Arc::new(platform_media::video::Ffmpeg::default());
        // One SMTP client for all of GigStream's mail (invoices, credit
        // notes, notifications). Without a relay, mail is kept in memory and
        // notifications skip their email.
        let smtp: Option<Arc<dyn platform_mail::Mailer>> =
            config.notify.smtp.clone().and_then(|c| match platform_mail::SmtpMailer::new(c) {
                Ok(m) => Some(Arc::new(m) as Arc<dyn platform_mail::Mailer>),
                Err(e) => {
                    tracing::error!(error = %e, "the SMTP relay is unusable; mail is kept in memory, not sent");
                    None
                }
            });
        let mailer = smtp.clone().unwrap_or_else(|| Arc::new(platform_mail::MemoryMailer::new()));
        let notifier = Arc::new(notify::Notifier::new(&config.notify, smtp));
        let state = AppState {
            db,
            config: Arc::new(config),
            limits,
            media,
            payments,
            scanner,
            realtime,
            ffmpeg,
            mailer,
            google: None,
            notifier,
            metrics: None,
        };
        notify::spawn_worker(state.clone());
        state
    }
}

/// The complete application router with all layers applied.
pub fn app(state: AppState) -> axum::Router {
    routes::router(state)
}
