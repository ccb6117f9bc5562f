//! The `fantooo` binary: configuration, logging and subcommands. Everything
//! else lives in the library crates.

use clap::{Args, Parser, Subcommand, ValueEnum};
use fantooo_domain::{validation as v, AdminRole, Permissions};
use fantooo_geo::{Geocoder, GoogleGeocoder, OfflineGazetteer};
use fantooo_store::{admins, Backend, Db};
use fantooo_web::{seed, AppState, WebConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "fantooo", version, about = "Fantooo chat platform server")]
struct Cli {
    /// PostgreSQL URL (postgres://…). Without it, an embedded SQLite file in --data-dir is used.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,
    /// Directory for the embedded database and other local files.
    #[arg(long, env = "FANTOOO_DATA_DIR", default_value = "data", global = true)]
    data_dir: PathBuf,
    /// Maximum database connections of this process.
    #[arg(long, env = "FANTOOO_DB_MAX_CONNECTIONS", default_value_t = 20, global = true)]
    db_max_connections: u32,
    /// Log output format.
    #[arg(long, env = "FANTOOO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Pretty,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Load demo data (packages, profiles, staff, a demo user) into an empty store.
    SeedDemo,
    /// Create an admin from the command line; the password is read from FANTOOO_ADMIN_PASSWORD or stdin.
    CreateAdmin {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "super_admin")]
        role: String,
    },
    /// Run one scheduled job now (for external cron).
    Job {
        #[arg(value_enum)]
        name: JobName,
    },
}

/// The scheduled jobs, as `fantooo job <name>` (see `fantooo_jobs::Job`).
#[derive(Clone, Copy, ValueEnum)]
enum JobName {
    /// Give waiting chats to the best available operators.
    Assign,
    /// Warn idle operators and take chats they left unanswered.
    IdleCheck,
    /// Escalate over-reassigned or long-waiting chats to admins.
    Escalate,
    /// Close chats inactive for 24 hours.
    AutoClose,
    /// Recompute operator quality scores; suspend those below threshold.
    OperatorStats,
    /// Create monthly partitions ahead (PostgreSQL).
    Partitions,
    /// Delete expired sessions, old realtime events and old job runs.
    Housekeeping,
    /// Aggregate the daily analytics tables behind /admin/stats.
    DailyStats,
}

impl JobName {
    fn job(self) -> fantooo_jobs::Job {
        use fantooo_jobs::Job;
        match self {
            JobName::Assign => Job::Assign,
            JobName::IdleCheck => Job::IdleCheck,
            JobName::Escalate => Job::Escalate,
            JobName::AutoClose => Job::AutoClose,
            JobName::OperatorStats => Job::OperatorStats,
            JobName::Partitions => Job::Partitions,
            JobName::Housekeeping => Job::Housekeeping,
            JobName::DailyStats => Job::DailyStats,
        }
    }
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "FANTOOO_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Secret that /setup requires to create the first super admin.
    #[arg(long, env = "ADMIN_SETUP_TOKEN", hide_env_values = true)]
    admin_setup_token: Option<String>,
    /// Domain of generated user email addresses.
    #[arg(long, env = "FANTOOO_EMAIL_DOMAIN", default_value = "fantooo.com")]
    email_domain: String,
    /// Mark cookies Secure and send HSTS (set when served over HTTPS).
    #[arg(long, env = "FANTOOO_HTTPS")]
    https: bool,
    /// Trust X-Forwarded-For from a reverse proxy for client addresses.
    #[arg(long, env = "FANTOOO_TRUST_PROXY")]
    trust_proxy: bool,
    /// Sign-in/sign-up attempts allowed per minute per address and per account.
    #[arg(long, env = "FANTOOO_AUTH_RATE_PER_MINUTE", default_value_t = 5)]
    auth_rate_per_minute: u32,
    /// API requests allowed per minute per address and per account.
    #[arg(long, env = "FANTOOO_API_RATE_PER_MINUTE", default_value_t = 100)]
    api_rate_per_minute: u32,
    /// This node's name in logs and job records (default: node-<pid>).
    #[arg(long, env = "FANTOOO_NODE_NAME")]
    node_name: Option<String>,
    /// Chat messages allowed per minute per account.
    #[arg(long, env = "FANTOOO_MESSAGE_RATE_PER_MINUTE", default_value_t = 60)]
    message_rate_per_minute: u32,
    /// Where uploaded pictures are kept (default: <data-dir>/media).
    #[arg(long, env = "FANTOOO_MEDIA_DIR")]
    media_dir: Option<PathBuf>,
    /// Google Geocoding API key; without it the built-in world gazetteer is used.
    #[arg(long, env = "GOOGLE_GEOCODING_API_KEY", hide_env_values = true)]
    google_geocoding_key: Option<String>,
    /// Base URL of the Google Geocoding API.
    #[arg(long, env = "GOOGLE_GEOCODING_URL", default_value = "https://maps.googleapis.com")]
    google_geocoding_url: String,
    /// Load demo data on start: `auto` seeds an empty embedded store only.
    #[arg(long, env = "FANTOOO_SEED_DEMO", value_enum, default_value_t = SeedMode::Auto)]
    seed_demo: SeedMode,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SeedMode {
    Auto,
    Always,
    Never,
}

type AnyError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    if let Err(e) = run(cli).await {
        tracing::error!(error = %e, "fatal");
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
}

async fn connect(cli: &Cli) -> Result<Db, AnyError> {
    let url = match &cli.database_url {
        Some(u) => u.clone(),
        None => {
            std::fs::create_dir_all(&cli.data_dir)?;
            format!("sqlite://{}", cli.data_dir.join("fantooo.db").display())
        }
    };
    let db = Db::connect(&url, cli.db_max_connections).await?;
    db.migrate().await?;
    Ok(db)
}

async fn run(mut cli: Cli) -> Result<(), AnyError> {
    let command = cli.command.take().unwrap_or_else(default_serve);
    let db = connect(&cli).await?;
    match command {
        Command::Migrate => {
            tracing::info!(backend = ?db.backend(), "migrations applied");
        }
        Command::SeedDemo => {
            let logins = seed::seed_demo(&db, false, "fantooo.com").await?;
            if logins.is_empty() { println!("demo data already present"); } else { print_logins(&logins, None); }
        }
        Command::CreateAdmin { name, email, role } => create_admin(&db, &name, &email, &role).await?,
        Command::Job { name } => run_job(&db, name).await?,
        Command::Serve(args) => serve(db, args, &cli.data_dir).await?,
    }
    Ok(())
}

/// `fantooo` with no subcommand serves, reading serve's flags from the environment.
fn default_serve() -> Command {
    #[derive(Parser)]
    struct Only {
        #[command(flatten)]
        serve: ServeArgs,
    }
    Command::Serve(Only::parse_from(["fantooo"]).serve)
}

async fn run_job(db: &Db, name: JobName) -> Result<(), AnyError> {
    let job = name.job();
    let started = chrono::Utc::now();
    let counts = fantooo_jobs::run(db, job, started).await?;
    let node = format!("cli-{}", std::process::id());
    fantooo_store::jobs::record(db, job.name(), &node, started, chrono::Utc::now(), &counts, None).await?;
    // Running nodes pick up what changed (assignments, warnings) at once.
    fantooo_store::wakeup::notify(db).await?;
    tracing::info!(job = job.name(), counts = %counts, "job finished");
    println!("{} {}", job.name(), counts);
    Ok(())
}

async fn create_admin(db: &Db, name: &str, email: &str, role: &str) -> Result<(), AnyError> {
    let name = v::display_name("name", name).map_err(|e| e.message)?;
    let email = v::email(email).map_err(|e| e.message)?;
    let role: AdminRole = role.parse().map_err(|_| "role must be super_admin, admin or moderator")?;
    let password = match std::env::var("FANTOOO_ADMIN_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            eprint!("Password for {email}: ");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    v::password(&password).map_err(|e| e.message)?;
    let hash = fantooo_web::auth::hash_password(password, false).await.map_err(|e| e.to_string())?;
    let admin = admins::create(db, &admins::NewAdmin { name, email, role, permissions: Permissions::for_role(role) }, &hash, None, false).await?;
    fantooo_store::audit::admin_action(db, None, "admin_created_cli", Some(("admin", admin.id.to_string())), None, None, None).await?;
    println!("created {} admin {} ({})", admin.role, admin.email, admin.id);
    Ok(())
}

fn print_logins(logins: &[seed::DemoLogin], base: Option<&str>) {
    println!("\nDemo logins (password for all: {}):", seed::DEMO_PASSWORD);
    for l in logins {
        println!("  {:<12} {:<28} at {}{}", l.role, l.login, base.unwrap_or(""), l.url);
    }
    println!();
}

async fn serve(db: Db, args: ServeArgs, data_dir: &std::path::Path) -> Result<(), AnyError> {
    let should_seed = match args.seed_demo {
        SeedMode::Always => true,
        SeedMode::Never => false,
        // Only an empty embedded store gets demo data; never production Postgres.
        SeedMode::Auto => db.backend() == Backend::Sqlite && !admins::any_exist(&db).await? && fantooo_store::stats::totals(&db).await?.users == 0,
    };
    let base = format!("http://{}", args.bind);
    if should_seed {
        let logins = seed::seed_demo(&db, false, &args.email_domain).await?;
        if !logins.is_empty() { print_logins(&logins, Some(&base)); }
    }
    let geocoder: Arc<dyn Geocoder> = match &args.google_geocoding_key {
        Some(key) => Arc::new(GoogleGeocoder::new(key.clone()).with_base_url(args.google_geocoding_url.clone())),
        None => {
            // Build the city index off the request path, before the first sign-up.
            tokio::task::spawn_blocking(|| OfflineGazetteer::new().preload());
            Arc::new(OfflineGazetteer::new())
        }
    };
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder().ok();
    let config = WebConfig {
        email_domain: args.email_domain.clone(),
        admin_setup_token: args.admin_setup_token.clone().filter(|t| !t.is_empty()),
        secure_cookies: args.https,
        trust_proxy: args.trust_proxy,
        hsts: args.https,
        auth_per_minute: args.auth_rate_per_minute,
        api_per_minute: args.api_rate_per_minute,
        messages_per_minute: args.message_rate_per_minute,
        node_name: args.node_name.clone().unwrap_or_else(|| format!("node-{}", std::process::id())),
        media_dir: args.media_dir.clone().unwrap_or_else(|| data_dir.join("media")),
        ..WebConfig::default()
    };
    if config.admin_setup_token.is_none() && !admins::any_exist(&db).await? {
        tracing::warn!("no admin exists and ADMIN_SETUP_TOKEN is unset: set it to open /setup, or use `fantooo create-admin`");
    }
    let state = AppState::new(db.clone(), config, geocoder, metrics);
    fantooo_web::middleware::ratelimit::spawn_pruner(state.limits.clone());
    fantooo_jobs::spawn_scheduler(db.clone(), state.config.node_name.clone(), state.realtime.changed_callback());
    let app = fantooo_web::app(state);
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    tracing::info!(address = %base, backend = ?db.backend(), "fantooo listening");
    println!("Fantooo is running at {base}");
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async { let _ = tokio::signal::ctrl_c().await; };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) { s.recv().await; }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
