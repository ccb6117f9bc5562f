//! Fantooo's HTTP face: server-rendered pages, the JSON API, and the layers
//! every request passes (security headers, request ids, rate limits, CSRF,
//! metrics). Handlers stay thin: rules live in `fantooo-domain`, persistence
//! in `fantooo-store`.

pub mod assets;
pub use platform_web::server;
pub mod auth;
pub mod circumvention;
pub mod config;
pub mod error;
pub mod flows;
pub mod media;
pub mod middleware;
pub mod purchases;
pub mod realtime;
pub mod routes;
pub mod seed;
pub mod send_batch;
pub mod templates;
pub mod user_json;

use axum::Router;
use fantooo_store::Db;
use metrics_exporter_prometheus::PrometheusHandle;
use platform_geo::Geocoder;
use platform_payments::fake::{CheckoutBase, FakePaystack};
use platform_payments::{PaymentProvider, Paystack};
use std::sync::Arc;

/// `scheme://host[:port]` of a URL (empty when it does not parse).
fn reqwest_origin(url: &str) -> String {
    url.split_once("://").map(|(scheme, rest)| format!("{scheme}://{}", rest.split('/').next().unwrap_or(""))).unwrap_or_default()
}

pub use config::WebConfig;
pub use error::{AppError, AppResult};

/// Everything a request handler may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<WebConfig>,
    pub geocoder: Arc<dyn Geocoder>,
    pub limits: Arc<middleware::ratelimit::Limiters>,
    pub metrics: Option<PrometheusHandle>,
    pub realtime: Arc<realtime::Realtime>,
    pub media: Arc<dyn platform_media::MediaStore>,
    /// Wakes this node's queue assigner.
    pub assigner: fantooo_jobs::Assigner,
    pub payments: Arc<dyn PaymentProvider>,
    /// The local Paystack stand-in, mounted under `/fake-paystack` in fake mode.
    pub fake_paystack: Option<FakePaystack>,
    /// The Content-Security-Policy sent with every page.
    pub csp: axum::http::HeaderValue,
    /// The site's own mail (recovery links); kept in memory until a relay
    /// is configured with [`AppState::with_mailer`].
    pub mailer: Arc<dyn platform_mail::Mailer>,
    /// This node's copy of the pricing settings, for the send path.
    pub pricing: Arc<fantooo_store::settings::Cached<fantooo_domain::pricing::PricingConfig>>,
    /// Group commit for users' sends (see [`send_batch`]).
    pub sends: Arc<send_batch::SendBatcher>,
    /// This node's cache of live sessions (see [`middleware::session`]);
    /// none when `FANTOOO_SESSION_CACHE=off`.
    pub session_cache: Option<Arc<middleware::session::SessionCache>>,
}

impl AppState {
    pub fn new(db: Db, config: WebConfig, geocoder: Arc<dyn Geocoder>, metrics: Option<PrometheusHandle>) -> Self {
        platform_web::error::set_vocabulary(&error::WORDS);
        let limits = Arc::new(middleware::ratelimit::Limiters::new(&config));
        let realtime = realtime::start(db.clone());
        let media = Arc::new(platform_media::LocalDisk::new(config.media_dir.clone()));
        let assigner = if config.run_assigner {
            fantooo_jobs::spawn_assigner(db.clone(), config.node_name.clone(), realtime.changed_callback())
        } else {
            fantooo_jobs::Assigner::disabled()
        };
        let pay = &config.payments;
        // Both modes speak Paystack's protocol; fake mode points the client
        // at the stand-in this app serves itself.
        let payments: Arc<dyn PaymentProvider> = Arc::new(Paystack::new(pay.secret_key.clone()).with_base_url(pay.api_base_url.clone()));
        let fake_paystack = (pay.mode == config::PaymentsMode::Fake).then(|| {
            let fake = FakePaystack::new(pay.secret_key.clone(), CheckoutBase::CallbackOrigin(routes::FAKE_PAYSTACK_PREFIX.into()));
            let origin = reqwest_origin(&pay.api_base_url);
            fake.set_webhook_url(format!("{origin}/api/webhooks/paystack"));
            fake
        });
        let csp = middleware::headers::content_security_policy(payments.checkout_origin().as_deref());
        let mailer = Arc::new(platform_mail::MemoryMailer::new());
        let pricing = Arc::new(fantooo_store::settings::Cached::new("pricing"));
        let sends = send_batch::SendBatcher::start(db.clone(), Arc::clone(&pricing));
        let session_cache = middleware::session::start_cache(&db);
        AppState {
            db,
            config: Arc::new(config),
            geocoder,
            limits,
            metrics,
            realtime,
            media,
            assigner,
            payments,
            fake_paystack,
            csp,
            mailer,
            pricing,
            sends,
            session_cache,
        }
    }

    /// Sends the site's mail through `mailer` (an SMTP relay in production).
    pub fn with_mailer(mut self, mailer: Arc<dyn platform_mail::Mailer>) -> Self {
        self.mailer = mailer;
        self
    }
}

/// The complete application router with all layers applied.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}
