//! Rooms' HTTP face: server-rendered pages, the same operations as a JSON
//! API under `/api/v1` (bearer access tokens with rotating refresh tokens
//! for apps, a cookie session for the web), the presence sweep job and the
//! demo data. Rules live in `rooms-domain`, SQL in `rooms-store`.
//!
//! Live delivery is the platform's WebSocket endpoint tailing the room and
//! user outboxes the store writes; voice is the voice service, called at
//! the seam in [`voice`].

pub mod actions;
pub mod admin;
pub mod agencies;
pub mod agency_docs;
pub mod api;
pub mod assets;
pub mod auth;
pub mod decor;
pub mod docs;
pub mod economy;
pub mod error;
pub mod exchanges;
pub mod jobs;
pub mod media;
pub mod pages;
pub mod realtime;
pub mod salary;
pub mod seed;
pub mod signin;
pub mod status;
pub mod voice;

use axum::http::HeaderValue;
use axum::{middleware as mw, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use platform_accounts::{AccessTokens, Tokens};
use platform_web::layers::{headers::SecurityHeaders, metrics::MetricsPrefix, outer_stack, Outer};
use platform_web::ratelimit::Limit;
use rooms_store::Db;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Settings of the web layer, filled from flags and environment by the binary.
#[derive(Clone)]
pub struct WebConfig {
    /// `Secure` cookies and HSTS (behind HTTPS).
    pub https: bool,
    /// Take the client address from `X-Forwarded-For` (one trusted proxy).
    pub trust_proxy: bool,
    /// Sign-in and sign-up attempts per minute, per address and per account.
    pub auth_per_minute: u32,
    /// API calls per minute per address and per account.
    pub api_per_minute: u32,
    /// Where uploaded logos and avatars are kept.
    pub media_dir: PathBuf,
    /// Secret that signs access tokens (at least 32 bytes).
    pub token_secret: Vec<u8>,
    /// Cheap password hashing for tests and demo seeds; never in production.
    pub fast_password_hashing: bool,
    /// Bearer token `/metrics` requires; unset: 404.
    pub metrics_token: Option<String>,
    /// How long a web session lasts.
    pub session_ttl: Duration,
    /// Origins of the voice servers browsers reach (added to the pages'
    /// `connect-src`).
    pub voice_origins: Vec<String>,
    /// This site's public base URL (links in mail; never the request's Host).
    pub public_url: String,
    /// The sender of Rooms' mail.
    pub mail_from: String,
    /// How long an agency membership lasts after notice to leave (6.5).
    pub agency_leave_notice: Duration,
    /// Seals agency applicants' ID images (`ROOMS_ID_DOCS_KEY`; the default
    /// is a fixed development-only key).
    pub id_docs_key: agency_docs::DocKey,
    /// How often the outbox tailer looks without being woken (a fallback:
    /// writers wake it; tests set a long one to show no delivery waits for it).
    pub realtime_poll: Duration,
    /// Keep bearers' accounts in this node's cache (`auth::BearerCache`;
    /// `ROOMS_BEARER_CACHE=off` reads the account on every bearer request).
    pub bearer_cache: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            https: false,
            trust_proxy: false,
            auth_per_minute: rooms_domain::limits::SIGN_IN_PER_MINUTE,
            api_per_minute: 100,
            media_dir: PathBuf::from("data/media"),
            token_secret: platform_accounts::random_token().into_bytes(),
            fast_password_hashing: false,
            metrics_token: None,
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            voice_origins: Vec::new(),
            public_url: "http://127.0.0.1:8090".into(),
            mail_from: "Rooms <no-reply@rooms.localhost>".into(),
            agency_leave_notice: rooms_domain::limits::AGENCY_LEAVE_NOTICE,
            id_docs_key: agency_docs::DocKey::dev_only(),
            realtime_poll: platform_realtime::POLL,
            bearer_cache: true,
        }
    }
}

/// Rooms' rate limits.
pub struct Limits {
    pub auth: Limit,
    pub api: Limit,
    pub chat: Limit,
    pub messages: Limit,
}

/// Everything a handler may need; cheap to clone: one reference count
/// (axum clones the state for every request), the fields behind it
/// ([`Shared`], read through `Deref`; set up through `DerefMut` before the
/// state is shared, which copies only if it already is).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl std::ops::DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }
}

/// The fields of [`AppState`].
#[derive(Clone)]
pub struct Shared {
    pub db: Db,
    pub config: Arc<WebConfig>,
    pub tokens: Arc<Tokens>,
    pub limits: Arc<Limits>,
    pub media: Arc<dyn platform_media::MediaStore>,
    pub metrics: Option<PrometheusHandle>,
    pub voice: Arc<dyn voice::VoiceSeam>,
    /// This node's live fan-out of the room and user outboxes.
    pub realtime: Arc<realtime::Realtime>,
    /// Wakes the live leaderboards' pusher (`realtime::boards`).
    pub boards: Arc<realtime::boards::Wake>,
    /// Coins, gifts and the payment provider.
    pub economy: Arc<economy::Economy>,
    /// Outgoing mail (reset links); a memory mailer unless SMTP is set up.
    pub mailer: Arc<dyn platform_mail::Mailer>,
    /// Google sign-in, when configured.
    pub google: Option<Arc<platform_identity::OidcClient>>,
    /// This node's cache of bearer credentials; none when
    /// `ROOMS_BEARER_CACHE=off`.
    pub bearer_cache: Option<Arc<auth::BearerCache>>,
}

impl AppState {
    pub fn new(db: Db, config: WebConfig, metrics: Option<PrometheusHandle>) -> Self {
        let tokens = Tokens::new(AccessTokens::new(&config.token_secret)).for_active(rooms_store::accounts::active_accounts());
        let limits = Limits {
            auth: Limit::per_minute(config.auth_per_minute),
            api: Limit::per_minute(config.api_per_minute),
            chat: Limit::per_minute(rooms_domain::limits::CHAT_PER_MINUTE),
            messages: Limit::per_minute(rooms_domain::limits::CHAT_PER_MINUTE),
        };
        let media = Arc::new(platform_media::LocalDisk::new(config.media_dir.clone()));
        let boards = Arc::new(realtime::boards::Wake::default());
        let realtime = realtime::start(db.clone(), boards.clone(), config.realtime_poll);
        let bearer_cache = config.bearer_cache.then(|| auth::start_bearer_cache(&db));
        AppState(Arc::new(Shared {
            db,
            config: Arc::new(config),
            tokens: Arc::new(tokens),
            limits: Arc::new(limits),
            media,
            metrics,
            voice: Arc::new(voice::NoVoice),
            realtime,
            boards,
            economy: Arc::new(economy::Economy::unconfigured()),
            mailer: Arc::new(platform_mail::MemoryMailer::new()),
            google: None,
            bearer_cache,
        }))
    }

    /// Takes expired voice passes off the voice servers every 30 s, for the
    /// life of the process (the passes live in this process's memory, so
    /// this is a per-process task rather than a leader-elected job).
    pub fn spawn_voice_sweep(&self) {
        let voice = self.voice.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(30));
            loop {
                every.tick().await;
                let n = voice.sweep().await;
                if n > 0 {
                    tracing::info!(passes = n, "voice passes lapsed");
                }
            }
        });
    }

    /// Forgets idle rate-limit keys every minute, for the life of the process.
    pub fn spawn_pruner(&self) {
        let l = self.limits.clone();
        platform_web::ratelimit::spawn_pruner(vec![Arc::new(move || {
            l.auth.prune();
            l.api.prune();
            l.chat.prune();
            l.messages.prune();
        })]);
    }
}

/// The complete application: pages, API, health and metrics, with every
/// layer applied.
pub fn app(state: AppState) -> Router {
    state.voice.attach(&state.db);
    realtime::boards::spawn(&state);
    let rt = state.realtime.clone();
    // A `talking` row was written to the room outbox: deliver it here, and
    // wake the other nodes.
    state
        .voice
        .on_talking(Arc::new(move |_room: rooms_domain::ids::RoomId, _account: rooms_domain::ids::AccountId, _on: bool| rt.written()));
    let routes = routes(&state)
        .with_state(state.clone())
        // innermost first: rate limits → CSRF → session → error pages
        .layer(mw::from_fn_with_state(state.clone(), wake_realtime))
        .layer(mw::from_fn_with_state(state.clone(), auth::rate_limit))
        .layer(mw::from_fn(platform_web::layers::csrf::check))
        .layer(mw::from_fn_with_state(state.clone(), platform_web::session::load::<AppState>))
        .layer(mw::from_fn_with_state(error::Pages, platform_web::error_pages::render::<error::Pages>));
    let outer = Outer {
        headers: SecurityHeaders {
            csp: policy(&state.config.voice_origins, state.economy.provider.checkout_origin().as_deref()),
            hsts: state.config.https,
        },
        metrics: MetricsPrefix("rooms"),
        // Uploads of one picture (2 MB) fit; the forms that carry more set
        // their own limit on their route (agency details, payment proofs).
        body_limit: 4 * 1024 * 1024,
        handler_timeout: Duration::from_secs(30),
    };
    let app = outer_stack(routes, outer).layer(mw::map_response(allow_microphone));
    economy::with_fake_provider(app, &state)
}

/// Every route, before the layers: the pages, and the JSON API from
/// [`docs::api`] (each API route registered with its OpenAPI description).
pub fn routes(state: &AppState) -> Router<AppState> {
    let (api, _) = docs::api().split_for_parts();
    Router::new()
        .merge(pages::routes())
        .merge(api::routes())
        .merge(economy::routes(state))
        .merge(status::routes())
        .merge(signin::routes())
        .merge(decor::routes())
        .merge(docs::pages())
        .merge(admin::routes())
        .merge(exchanges::routes())
        .merge(agencies::routes())
        .merge(api)
        .method_not_allowed_fallback(platform_web::error::method_not_allowed)
}

/// The platform's policy with the voice servers added to `connect-src`
/// (the voice client talks to Janus directly).
pub fn csp(voice_origins: &[String]) -> HeaderValue {
    policy(voice_origins, None)
}

/// [`csp`], with the payment provider's hosted checkout added to
/// `form-action` (buying posts a form that redirects there).
fn policy(voice_origins: &[String], checkout_origin: Option<&str>) -> HeaderValue {
    let voice: Vec<&str> = voice_origins.iter().map(String::as_str).collect();
    platform_web::layers::headers::policy_with(checkout_origin.as_slice(), &voice)
}

/// Rooms' pages use the microphone (a seat speaks), which the platform's
/// permissions policy turns off for every product.
async fn allow_microphone(mut resp: axum::response::Response) -> axum::response::Response {
    resp.headers_mut().insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(self), geolocation=(), payment=()"));
    resp
}

/// After any request that may have written (not GET or HEAD), wakes the
/// outbox tailer so the change reaches sockets now rather than at its next
/// poll.
async fn wake_realtime(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: mw::Next,
) -> axum::response::Response {
    let writes = !matches!(*req.method(), axum::http::Method::GET | axum::http::Method::HEAD);
    let resp = next.run(req).await;
    if writes {
        state.realtime.written();
    }
    resp
}

/// A header value from text known to be valid.
pub(crate) fn header(v: &str) -> HeaderValue {
    HeaderValue::from_str(v).unwrap_or_else(|_| HeaderValue::from_static(""))
}
