//! The `rooms` binary: configuration, logging and subcommands. Everything
//! else lives in the library crates.

use clap::{Args, Parser, Subcommand, ValueEnum};
use rooms_domain::account::{AdultBirthDate, Country, FullName, Gender, Handle, Login, Password, PlatformRole};
use rooms_store::{Backend, Db};
use rooms_web::{seed, AppState, WebConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "rooms", version, about = "Rooms live voice rooms server")]
struct Cli {
    /// PostgreSQL URL (postgres://…). Without it, an embedded SQLite file in --data-dir is used.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,
    /// Directory for the embedded database and uploads.
    #[arg(long, env = "ROOMS_DATA_DIR", default_value = "data/rooms", global = true)]
    data_dir: PathBuf,
    /// Maximum database connections of this process.
    #[arg(long, env = "ROOMS_DB_MAX_CONNECTIONS", default_value_t = 20, global = true)]
    db_max_connections: u32,
    /// Log output format.
    #[arg(long, env = "ROOMS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    log_format: LogFormat,
    #[command(flatten)]
    serve: ServeArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Pretty,
    Json,
}

// Parsed once at start; boxing the serve flags would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Load demo people and rooms into an empty store.
    SeedDemo,
    /// Create a staff account; the password comes from ROOMS_ADMIN_PASSWORD or stdin.
    CreateAdmin {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        handle: String,
    },
    /// Check the data's invariants; exits 1 on any violation.
    Check,
    /// Run one scheduled job now (for external cron): sweep, housekeeping.
    Job {
        #[arg(value_parser = parse_job)]
        name: rooms_web::jobs::Job,
    },
}

fn parse_job(name: &str) -> Result<rooms_web::jobs::Job, String> {
    rooms_web::jobs::Job::from_name(name).ok_or_else(|| "unknown job; choose one of: sweep, housekeeping".to_string())
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
    #[command(flatten)]
    mail: MailArgs,
    #[command(flatten)]
    google: GoogleArgs,
}

#[derive(Args, Clone)]
struct MailArgs {
    /// This site's public base URL, for links in mail (default: http://<bind>).
    #[arg(long, env = "ROOMS_PUBLIC_URL")]
    public_url: Option<String>,
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
    platform_web::process::init_logging(matches!(cli.log_format, LogFormat::Json));
    if let Err(e) = run(cli).await {
        tracing::error!(error = %e, "fatal");
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn connect(cli: &Cli) -> Result<Db, AnyError> {
    let url = platform_db::url_or_embedded(cli.database_url.as_deref(), &cli.data_dir, "rooms.db")?;
    let db = rooms_store::connect(&url, cli.db_max_connections).await?;
    rooms_store::migrate(&db).await?;
    Ok(db)
}

async fn run(mut cli: Cli) -> Result<(), AnyError> {
    let db = connect(&cli).await?;
    let command = cli.command.take().unwrap_or_else(|| Command::Serve(cli.serve.clone()));
    match command {
        Command::Migrate => tracing::info!(backend = ?db.backend(), "migrations applied"),
        Command::SeedDemo => print_logins(&seed::seed_demo(&db, false).await?, None),
        Command::CreateAdmin { name, email, handle } => create_admin(&db, &name, &email, &handle).await?,
        Command::Check => {
            let problems = rooms_store::check::run(&db).await?;
            println!("{}", serde_json::to_string_pretty(&problems)?);
            if !problems.is_empty() {
                std::process::exit(1);
            }
        }
        Command::Job { name } => {
            let node = format!("cli-{}", std::process::id());
            let counts = platform_jobs::run_once(
                &db,
                name,
                &node,
                &rooms_web::jobs::runner(db.clone(), std::sync::Arc::new(rooms_web::voice::NoVoice)),
            )
            .await?;
            println!("{} {counts}", platform_jobs::Job::name(name));
        }
        Command::Serve(args) => serve(db, args, &cli.data_dir).await?,
    }
    Ok(())
}

async fn create_admin(db: &Db, name: &str, email: &str, handle: &str) -> Result<(), AnyError> {
    let password = match std::env::var("ROOMS_ADMIN_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            eprint!("Password for {email}: ");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
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
    let should_seed = match args.seed_demo {
        SeedMode::Always => true,
        SeedMode::Never => false,
        SeedMode::Auto => db.backend() == Backend::Sqlite && rooms_store::accounts::count(&db).await? == 0,
    };
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
    let public_url = args.mail.public_url.clone().unwrap_or_else(|| base.clone()).trim_end_matches('/').to_string();
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
        ..WebConfig::default()
    };
    let mut state = AppState::new(db.clone(), config, metrics);
    state.voice = voice;
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
    let node = args.node_name.unwrap_or_else(|| format!("node-{}", std::process::id()));
    rooms_web::jobs::spawn(db.clone(), node, state.voice.clone(), state.realtime.changed_callback());
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
