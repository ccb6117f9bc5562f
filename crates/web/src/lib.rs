//! Fantooo's HTTP face: server-rendered pages, the JSON API, and the layers
//! every request passes (security headers, request ids, rate limits, CSRF,
//! metrics). Handlers stay thin: rules live in `fantooo-domain`, persistence
//! in `fantooo-store`.

pub mod assets;
pub mod auth;
pub mod circumvention;
pub mod config;
pub mod error;
pub mod flows;
pub mod media;
pub mod middleware;
pub mod realtime;
pub mod routes;
pub mod seed;
pub mod templates;

use axum::Router;
use fantooo_geo::Geocoder;
use fantooo_store::Db;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;

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
    pub media: Arc<dyn media::MediaStore>,
    /// Wakes this node's queue assigner.
    pub assigner: fantooo_jobs::Assigner,
}

impl AppState {
    pub fn new(db: Db, config: WebConfig, geocoder: Arc<dyn Geocoder>, metrics: Option<PrometheusHandle>) -> Self {
        let limits = Arc::new(middleware::ratelimit::Limiters::new(&config));
        let realtime = realtime::Realtime::start(db.clone());
        let media = Arc::new(media::LocalMedia::new(config.media_dir.clone()));
        let assigner = if config.run_assigner {
            fantooo_jobs::spawn_assigner(db.clone(), config.node_name.clone(), realtime.changed_callback())
        } else {
            fantooo_jobs::Assigner::disabled()
        };
        AppState { db, config: Arc::new(config), geocoder, limits, metrics, realtime, media, assigner }
    }
}

/// The complete application router with all layers applied.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}
