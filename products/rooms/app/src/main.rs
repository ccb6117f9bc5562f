//! The `rooms` binary: configuration, logging and subcommands. Everything
//! else lives in the library crates.

use clap::{Args, Parser, ValueEnum};
use platform_web::cli::{self, AnyError, SeedMode};
use rooms_domain::account::{AdultBirthDate, Country, FullName, Gender, Handle, Login, Password, PlatformRole};
use rooms_store::{Backend, Db};
use rooms_web::{seed, AppState, WebConfig};

type Command = cli::Command<ServeArgs, CreateAdmin, JobName>;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// mimalloc instead of glibc's malloc: under a stream of gifts, glibc's
/// allocator (`_int_malloc`, `unlink_chunk`, `malloc_consolidate`) was
/// about a quarter of `rooms serve`'s CPU (`perf record`, README "Rooms
/// benchmarks").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What Rooms' command line says of itself (the rest is the platform's
/// `platform_web::cli`).
const PRODUCT: cli::Product = cli::Product {
    env_prefix: "ROOMS",
    data_dir: "data/rooms",
    db_file: "rooms.db",
    seed_demo_about: "Load demo people and rooms into an empty store.",
    check_about: "Check the data's invariants; exits 1 on any violation.",
    jobs: "sweep, housekeeping, frames, vip, boards, agencies, gift_credits",
};

#[derive(Parser)]
#[command(name = "rooms", version, about = "Rooms live voice rooms server")]
struct Cli {
    #[command(flatten)]
    common: cli::Common,
    #[command(flatten)]
    serve: ServeArgs,
    #[command(subcommand)]
    command: Option<cli::Command<ServeArgs, CreateAdmin, JobName>>,
}

/// `create-admin`'s flags: a staff account.
#[derive(Args)]
struct CreateAdmin {
    #[command(flatten)]
    staff: cli::Staff,
    /// The staff account's handle (its name in rooms and chat).
    #[arg(long)]
    handle: String,
}

/// A job `job` runs.
#[derive(Clone, Copy)]
struct JobName(rooms_web::jobs::Job);

impl std::str::FromStr for JobName {
    type Err = String;
    fn from_str(name: &str) -> Result<JobName, String> {
        rooms_web::jobs::Job::from_name(name).map(JobName).ok_or_else(|| format!("unknown job; choose one of: {}", PRODUCT.jobs))
    }
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ROOMS_BIND", default_value = "127.0.0.1:8090")]
    bind: SocketAddr,
    /// Mark cookies Secure and send HSTS (set when served over HTTPS).
    #[arg(long, env = "ROOMS_HTTPS")]
    https: bool,
    /// Trust X-Forwarded-For from one reverse proxy for client addresses.
    #[arg(long, env = "ROOMS_TRUST_PROXY")]
    trust_proxy: bool,
    /// Sign-in/sign-up attempts per minute per address and per account.
    #[arg(long, env = "ROOMS_AUTH_RATE_PER_MINUTE", default_value_t = 5)]
    auth_rate_per_minute: u32,
    /// API calls per minute per address and per account.
    #[arg(long, env = "ROOMS_API_RATE_PER_MINUTE", default_value_t = 100)]
    api_rate_per_minute: u32,
    /// Secret (≥ 32 bytes) that signs access tokens; random per start when unset (tokens then die with the process).
    #[arg(long, env = "ROOMS_TOKEN_SECRET", hide_env_values = true)]
    token_secret: Option<String>,
    /// Where uploaded logos and avatars are stored (default: <data-dir>/media).
    #[arg(long, env = "ROOMS_MEDIA_DIR")]
    media_dir: Option<PathBuf>,
    /// This node's name in logs and job records (default: node-<pid>).
    #[arg(long, env = "ROOMS_NODE_NAME")]
    node_name: Option<String>,
    /// Bearer token a scraper sends to read /metrics; unset: /metrics answers 404.
    #[arg(long, env = "ROOMS_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// `auto` seeds an empty embedded store; `always`, `never`.
    #[arg(long, env = "ROOMS_SEED_DEMO", value_enum, default_value_t = SeedMode::Auto)]
    seed_demo: SeedMode,
    /// 32 bytes (base64) sealing agency applicants' ID images; unset: a fixed development-only key.
    #[arg(long, env = "ROOMS_ID_DOCS_KEY", hide_env_values = true)]
    id_docs_key: Option<String>,
    /// Days an agency membership lasts after notice to leave (6.5).
    #[arg(long, env = "ROOMS_AGENCY_LEAVE_NOTICE_DAYS", default_value_t = 7)]
    agency_leave_notice_days: u32,
    /// `on` keeps bearers' accounts in this node's cache (a revocation,
    /// block or role change is refused within 100 ms on every node); `off`
    /// reads the account on every bearer request.
    #[arg(long, env = "ROOMS_BEARER_CACHE", value_enum, default_value_t = Switch::On)]
    bearer_cache: Switch,
    #[command(flatten)]
    payments: PaymentArgs,
    #[command(flatten)]
    mail: MailArgs,
    #[command(flatten)]
    google: GoogleArgs,
}

/// Buying coins: the payment provider.
#[derive(Args, Clone)]
struct PaymentArgs {
    /// `fake` serves a local Paystack stand-in under /fake-paystack (no real
    /// money); `paystack` the real API. Default: paystack with a secret key, else fake.
    #[arg(long = "payments", env = "ROOMS_PAYMENTS", value_enum)]
    mode: Option<PaymentsMode>,
    /// Paystack secret key: API bearer token and webhook signing key.
    #[arg(long, env = "PAYSTACK_SECRET_KEY", hide_env_values = true)]
    paystack_secret_key: Option<String>,
    /// Base URL of the Paystack API.
    #[arg(long, env = "PAYSTACK_BASE_URL", default_value = "https://api.paystack.co")]
    paystack_base_url: String,
    /// This site's public base URL, for checkout return links and links in mail (default: http://<bind>).
    #[arg(long, env = "ROOMS_PUBLIC_URL")]
    public_url: Option<String>,
}

#[derive(Args, Clone)]
struct MailArgs {
    /// SMTP relay: smtp://host:25, smtp+starttls://user:pass@host:587 or smtps://user:pass@host:465. Unset: mail is kept in memory, not sent.
    #[arg(long, env = "ROOMS_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// Sender of Rooms' mail.
    #[arg(long, env = "ROOMS_MAIL_FROM", default_value = "Rooms <no-reply@rooms.localhost>")]
    mail_from: String,
}

#[derive(Args, Clone)]
struct GoogleArgs {
    /// OAuth client id of the Google sign-in app; with the secret, turns on "Continue with Google".
    #[arg(long, env = "ROOMS_GOOGLE_CLIENT_ID")]
    google_client_id: Option<String>,
    /// OAuth client secret of that app.
    #[arg(long, env = "ROOMS_GOOGLE_CLIENT_SECRET", hide_env_values = true)]
    google_client_secret: Option<String>,
    /// The provider's issuer URL (OpenID Connect discovery lives under it).
    #[arg(long, env = "ROOMS_GOOGLE_ISSUER", default_value = "https://accounts.google.com")]
    google_issuer: String,
    /// Demo only: a built-in stand-in for Google under /fake-google (test identities, no real accounts).
    #[arg(long, env = "ROOMS_FAKE_GOOGLE")]
    fake_google: bool,
}

/// A feature on or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Switch {
    On,
    Off,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PaymentsMode {
    Fake,
    Paystack,
}

impl PaymentArgs {
    /// The economy for a server reachable at `site` (its own loopback URL).
    fn economy(&self, site: &str) -> Result<rooms_web::economy::Economy, AnyError> {
        let key = self.paystack_secret_key.clone().filter(|k| !k.is_empty());
        let mode = self.mode.unwrap_or(if key.is_some() { PaymentsMode::Paystack } else { PaymentsMode::Fake });
        let public = self.public_url.clone().filter(|u| !u.is_empty());
        Ok(match (mode, key) {
            (PaymentsMode::Paystack, Some(k)) => {
                tracing::info!(base = %self.paystack_base_url, "payments: Paystack");
                rooms_web::economy::Economy::paystack(&k, &self.paystack_base_url, public)
            }
            (PaymentsMode::Paystack, None) => return Err("--payments paystack needs PAYSTACK_SECRET_KEY".into()),
            (PaymentsMode::Fake, k) => {
                tracing::info!("payments: built-in fake Paystack at /fake-paystack (no real money)");
                let k = k.unwrap_or_else(platform_payments::fake::FakePaystack::random_secret);
                rooms_web::economy::Economy::fake(&k, site, public)
            }
        })
    }
}

#[tokio::main]
async fn main() {
    let cli: Cli = cli::parse::<Cli, ServeArgs>(&PRODUCT);
    cli::run(cli.common.log_format, run(cli)).await;
}

async fn run(mut cli: Cli) -> Result<(), AnyError> {
    let db = cli.common.open(&PRODUCT, rooms_store::connect, rooms_store::migrate).await?;
    let command = cli.command.take().unwrap_or_else(|| Command::Serve(cli.serve.clone()));
    match command {
        Command::Migrate => tracing::info!(backend = ?db.backend(), "migrations applied"),
        Command::SeedDemo => print_logins(&seed::seed_demo(&db, false).await?, None),
        Command::CreateAdmin(CreateAdmin { staff, handle }) => create_admin(&db, &staff.name, &staff.email, &handle).await?,
        Command::Check => {
            let problems = rooms_store::check::run(&db).await?;
            println!("{}", serde_json::to_string_pretty(&problems)?);
            if !problems.is_empty() {
                std::process::exit(1);
            }
        }
        Command::Job { name: JobName(name) } => {
            let counts = platform_jobs::run_once(
                &db,
                name,
                &cli::job_node(),
                &rooms_web::jobs::runner(
                    db.clone(),
                    std::sync::Arc::new(rooms_web::voice::NoVoice),
                    rooms_web::economy::Economy::unconfigured().settings.clock,
                ),
            )
            .await?;
            println!("{} {counts}", platform_jobs::Job::name(name));
        }
        Command::Serve(args) => serve(db, args, &cli.common.data_dir).await?,
        Command::More(none) => match none {},
    }
    Ok(())
}

async fn create_admin(db: &Db, name: &str, email: &str, handle: &str) -> Result<(), AnyError> {
    let password = cli::admin_password(&PRODUCT, email)?;
    let password = Password::parse(&password).map_err(|e| e.message)?;
    let new = rooms_store::accounts::NewAccount {
        login: Login::Email(rooms_domain::account::Email::parse(email).map_err(|e| e.message)?),
        handle: Handle::parse(handle).map_err(|e| e.message)?,
        full_name: FullName::parse("name", name).map_err(|e| e.message)?,
        // Staff accounts are adults by definition; the date is a placeholder.
        birth_date: AdultBirthDate::parse("1970-01-01", chrono::Utc::now().date_naive()).map_err(|e| e.message)?,
        country: Country::parse("US").map_err(|e| e.message)?,
        gender: Gender::Unspecified,
    };
    let hash = rooms_web::auth::hash_password(password.expose().to_string(), false).await.map_err(|e| e.to_string())?;
    let a = rooms_store::accounts::create(db, &new, &hash, PlatformRole::SuperAdmin, chrono::Utc::now()).await?;
    println!("created staff account {} (ID {})", email, a.public_number);
    Ok(())
}

fn print_logins(logins: &[seed::DemoLogin], base: Option<&str>) {
    if logins.is_empty() {
        println!("demo data already present");
        return;
    }
    println!("\nDemo logins (password for all: {}):", seed::DEMO_PASSWORD);
    for l in logins {
        println!("  {:<6} {}", l.role, l.login);
    }
    if let Some(b) = base {
        println!("Open {b}");
    }
    println!();
}

async fn serve(db: Db, args: ServeArgs, data_dir: &std::path::Path) -> Result<(), AnyError> {
    let base = format!("http://{}", args.bind);
    let embedded_and_empty = async { Ok::<_, AnyError>(db.backend() == Backend::Sqlite && rooms_store::accounts::count(&db).await? == 0) };
    let should_seed = args.seed_demo.should_seed(embedded_and_empty).await?;
    if should_seed {
        print_logins(&seed::seed_demo(&db, false).await?, Some(&base));
    }
    let token_secret = match args.token_secret.filter(|s| !s.is_empty()) {
        Some(s) if s.len() >= 32 => s.into_bytes(),
        Some(_) => return Err("ROOMS_TOKEN_SECRET must be at least 32 bytes".into()),
        None => {
            tracing::warn!("ROOMS_TOKEN_SECRET unset: app access tokens are signed with a random key and end with this process");
            WebConfig::default().token_secret
        }
    };
    // The demo's people have no browser sending heartbeats; on the embedded
    // demo store they are kept present so its rooms stay live.
    if db.backend() == Backend::Sqlite && args.seed_demo != SeedMode::Never && seed::has_demo(&db).await? {
        seed::keep_demo_present(db.clone());
    }
    let public_url = args.payments.public_url.clone().unwrap_or_else(|| base.clone()).trim_end_matches('/').to_string();
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder().ok();
    // Voice: Janus at JANUS_URL, or unavailable (the site says so).
    let (voice, voice_origins) = rooms_web::voice::from_env();
    tracing::info!(available = voice.available(), "voice");
    let config = WebConfig {
        voice_origins,
        https: args.https,
        trust_proxy: args.trust_proxy,
        auth_per_minute: args.auth_rate_per_minute,
        api_per_minute: args.api_rate_per_minute,
        media_dir: args.media_dir.unwrap_or_else(|| data_dir.join("media")),
        token_secret,
        metrics_token: args.metrics_token.filter(|t| !t.is_empty()),
        public_url: public_url.clone(),
        mail_from: args.mail.mail_from.clone(),
        agency_leave_notice: Duration::from_secs(u64::from(args.agency_leave_notice_days) * 24 * 3600),
        bearer_cache: args.bearer_cache == Switch::On,
        id_docs_key: match args.id_docs_key.as_deref().filter(|k| !k.is_empty()) {
            Some(k) => rooms_web::agency_docs::DocKey::from_base64(k)?,
            None => {
                tracing::warn!("ROOMS_ID_DOCS_KEY is unset: agency ID images are sealed with a development-only key");
                rooms_web::agency_docs::DocKey::dev_only()
            }
        },
        ..WebConfig::default()
    };
    let mut state = AppState::new(db.clone(), config, metrics);
    state.voice = voice;
    // A wildcard bind is still reachable on loopback, where the fake provider is called.
    let own = if args.bind.ip().is_unspecified() { SocketAddr::from(([127, 0, 0, 1], args.bind.port())) } else { args.bind };
    state.economy = std::sync::Arc::new(args.payments.economy(&format!("http://{own}"))?);
    state.voice.attach(&db);
    match args.mail.smtp_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => state.mailer = Arc::new(platform_mail::SmtpMailer::new(platform_mail::SmtpConfig::from_url(url)?)?),
        None => tracing::warn!("ROOMS_SMTP_URL unset: reset mails are kept in memory and not sent"),
    }
    let redirect = format!("{public_url}/auth/google/callback");
    let fake_google = if args.google.fake_google {
        let fake = platform_identity::fake::FakeOidc::new(format!("{public_url}/fake-google"));
        fake.add_client("rooms-demo", "rooms-demo-secret", &[&redirect]);
        let config = platform_identity::OidcConfig::new(fake.issuer(), "rooms-demo", "rooms-demo-secret", redirect.clone());
        state.google = Some(Arc::new(platform_identity::OidcClient::new(config)));
        tracing::warn!("Google sign-in is the built-in stand-in under /fake-google: test identities, not real Google accounts");
        Some(fake)
    } else {
        None
    };
    if let (Some(id), Some(secret)) = (&args.google.google_client_id, &args.google.google_client_secret) {
        let config = platform_identity::OidcConfig::new(&args.google.google_issuer, id, secret, redirect.clone());
        state.google = Some(Arc::new(platform_identity::OidcClient::new(config)));
    }
    tracing::info!(google = state.google.is_some(), "sign-in providers");
    state.spawn_pruner();
    state.spawn_voice_sweep();
    let node = cli::node_name(args.node_name);
    rooms_web::jobs::spawn(db.clone(), node, state.voice.clone(), state.economy.settings.clock, state.realtime.changed_callback());
    // Sockets are accepted once the outbox tailer has read its heads, so an
    // event committed after a client connects "from now" is delivered live.
    state.realtime.started().await;
    let mut app = rooms_web::app(state);
    if let Some(fake) = fake_google {
        // Outside the product's layers: the stand-in's page has its own inline style.
        app = app.nest("/fake-google", fake.router());
    }
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    tracing::info!(address = %base, backend = ?db.backend(), "rooms listening");
    println!("Rooms is running at {base}");
    let server = platform_web::server::ServerConfig { header_read_timeout: Duration::from_secs(10), ..Default::default() };
    platform_web::server::serve(listener, app, server, platform_web::process::shutdown_signal()).await?;
    db.close().await;
    Ok(())
}
