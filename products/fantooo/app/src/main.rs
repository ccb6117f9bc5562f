//! The `fantooo` binary: configuration, logging and subcommands. Everything
//! else lives in the library crates.

use clap::{Args, Parser, Subcommand, ValueEnum};
use fantooo_domain::{validation as v, AdminRole, Permissions};
use fantooo_store::{admins, Backend, Db};
use fantooo_web::config::{PaymentsConfig, PaymentsMode};
use fantooo_web::{seed, AppState, WebConfig};
use platform_geo::{Geocoder, GoogleGeocoder, OfflineGazetteer};
use platform_web::cli::{self, AnyError, SeedMode};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// mimalloc instead of glibc's malloc: glibc's allocator was about a
/// quarter of a busy server's CPU in Rooms' profile (README "Rooms
/// benchmarks"); every product's server and bench use the same.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What Fantooo's command line says of itself (the rest is the platform's
/// `platform_web::cli`).
const PRODUCT: cli::Product = cli::Product {
    env_prefix: "FANTOOO",
    data_dir: "data",
    db_file: "fantooo.db",
    seed_demo_about: "Load demo data (packages, profiles, staff, a demo user) into an empty store.",
    check_about: "Check the data's invariants (balances = ledger, counters = messages, one charge per paid message, operator limits); exits 1 on any violation.",
    jobs: "assign, idle-check, escalate, auto-close, operator-stats, partitions, archive-partitions, housekeeping, daily-stats, reconcile-payments",
};

#[derive(Parser)]
#[command(name = "fantooo", version, about = "Fantooo chat platform server")]
struct Cli {
    #[command(flatten)]
    common: cli::Common,
    #[command(flatten)]
    payments: PaymentArgs,
    /// `serve`'s flags, for `fantooo` without a subcommand (which serves).
    #[command(flatten)]
    serve: ServeArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

type Command = cli::Command<ServeArgs, CreateAdmin, JobArg, More>;

/// `create-admin`'s flags.
#[derive(Args)]
struct CreateAdmin {
    #[command(flatten)]
    staff: cli::Staff,
    #[arg(long, default_value = "super_admin")]
    role: String,
}

/// Fantooo's own subcommands.
#[derive(Subcommand)]
enum More {
    /// Bring an archived monthly partition back (PostgreSQL), e.g.
    /// `fantooo restore-partition messages_y2025m01`, from
    /// `<dir>/<name>.copy.gz` (dir: FANTOOO_ARCHIVE_DIR, else `archive`).
    RestorePartition {
        name: String,
        #[arg(long, env = "FANTOOO_ARCHIVE_DIR", default_value = "archive")]
        dir: std::path::PathBuf,
    },
}

/// Payment provider settings (shared by `serve` and `job reconcile-payments`).
#[derive(Args)]
struct PaymentArgs {
    /// `fake` serves a local Paystack stand-in under /fake-paystack; `paystack`
    /// uses the real API. Default: paystack when a secret key is set.
    #[arg(long, env = "FANTOOO_PAYMENTS", value_enum, global = true)]
    payments: Option<PaymentsArg>,
    /// Paystack secret key (API calls and webhook signatures).
    #[arg(long, env = "PAYSTACK_SECRET_KEY", hide_env_values = true, global = true)]
    paystack_secret_key: Option<String>,
    /// Base URL of the Paystack API.
    #[arg(long, env = "PAYSTACK_BASE_URL", default_value = "https://api.paystack.co", global = true)]
    paystack_base_url: String,
    /// Public base URL of this site (for the checkout return link); default: the request's host.
    #[arg(long, env = "FANTOOO_PUBLIC_URL", global = true)]
    public_url: Option<String>,
    /// Minutes a checkout may stay pending before reconciliation asks the provider.
    #[arg(long, env = "FANTOOO_RECONCILE_AFTER_MINUTES", default_value_t = 15, global = true)]
    reconcile_after_minutes: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PaymentsArg {
    Fake,
    Paystack,
}

impl PaymentArgs {
    /// The configured Paystack secret key, if any.
    fn secret_key(&self) -> Option<&str> {
        self.paystack_secret_key.as_deref().filter(|k| !k.is_empty())
    }

    /// The payments configuration for a server listening on `bind`.
    fn config(&self, bind: SocketAddr) -> Result<PaymentsConfig, AnyError> {
        let mode = self.payments.unwrap_or(if self.paystack_secret_key.is_some() { PaymentsArg::Paystack } else { PaymentsArg::Fake });
        let mut cfg = PaymentsConfig::fake_at(bind);
        // A configured key is used in fake mode too (webhooks are signed
        // with it), never silently replaced by a random one.
        if let Some(key) = self.secret_key() {
            cfg.secret_key = key.to_string();
        }
        cfg.public_url = self.public_url.clone().map(|u| u.trim_end_matches('/').to_string());
        cfg.reconcile_after = Duration::from_secs(self.reconcile_after_minutes.max(1) * 60);
        if mode == PaymentsArg::Paystack {
            cfg.mode = PaymentsMode::Paystack;
            cfg.secret_key = self.secret_key().ok_or("--payments paystack needs PAYSTACK_SECRET_KEY")?.to_string();
            cfg.api_base_url = self.paystack_base_url.clone();
        }
        Ok(cfg)
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
    /// Seconds a client has to send its request line and headers; slower
    /// clients are disconnected (a guard against slowloris connections).
    #[arg(long, env = "FANTOOO_HEADER_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout_secs: u64,
    /// Open connections, WebSockets included, above which new ones wait in the backlog.
    #[arg(long, env = "FANTOOO_MAX_CONNECTIONS", default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: u64,
    /// Bearer token a metrics scraper must send to read /metrics; without
    /// it /metrics is not served.
    #[arg(long, env = "FANTOOO_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// SMTP relay for the site's own mail (recovery-email links):
    /// `smtp://`, `smtp+starttls://user:pass@host:587` or `smtps://…`.
    /// Without it that mail is kept in memory and never delivered.
    #[arg(long, env = "FANTOOO_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The From of that mail (default `Fantooo <no-reply@<email-domain>>`).
    #[arg(long, env = "FANTOOO_MAIL_FROM")]
    mail_from: Option<String>,
    /// Load demo data on start: `auto` seeds an empty embedded store only.
    #[arg(long, env = "FANTOOO_SEED_DEMO", value_enum, default_value_t = SeedMode::Auto)]
    seed_demo: SeedMode,
}

/// glibc raises its mmap threshold after large frees, after which the 19 MiB
/// Argon2 buffers are carved from per-thread heaps and never returned to the
/// system. A fixed 1 MiB threshold keeps big, short-lived buffers in mmap.
fn pin_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: mallopt only sets an allocator tunable; it is called once,
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[tokio::main]
async fn main() {
    pin_mmap_threshold();
    let cli: Cli = cli::parse::<Cli, ServeArgs>(&PRODUCT);
    cli::run(cli.common.log_format, run(cli)).await;
}

async fn run(mut cli: Cli) -> Result<(), AnyError> {
    let db = cli.common.open(&PRODUCT, fantooo_store::connect, fantooo_store::migrate).await?;
    // Without a subcommand, serve with the top-level flags.
    let command = match cli.command.take() {
        Some(c) => c,
        None => Command::Serve(cli.serve),
    };
    match command {
        Command::Migrate => {
            tracing::info!(backend = ?db.backend(), "migrations applied");
        }
        Command::SeedDemo => {
            let logins = seed::seed_demo(&db, false, "fantooo.com").await?;
            if logins.is_empty() {
                println!("demo data already present");
            } else {
                print_logins(&logins, None);
            }
        }
        Command::CreateAdmin(CreateAdmin { staff, role }) => create_admin(&db, &staff.name, &staff.email, &role).await?,
        Command::Job { name } => run_job(&db, name, &cli.payments).await?,
        Command::More(More::RestorePartition { name, dir }) => {
            let rows = fantooo_store::partitions::restore(&db, &dir, &name).await?;
            println!("restored {name}: {rows} rows");
        }
        Command::Check => {
            let report = fantooo_store::invariants::check(&db).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if !report.is_clean() {
                std::process::exit(1);
            }
        }
        Command::Serve(args) => serve(db, args, &cli.common.data_dir, &cli.payments).await?,
    }
    Ok(())
}

/// A job the command line can run: one of the scheduled jobs, or payment
/// reconciliation (which needs the payment provider's settings).
#[derive(Clone, Copy, Debug)]
enum JobArg {
    Scheduled(fantooo_jobs::Job),
    ReconcilePayments,
}

impl std::str::FromStr for JobArg {
    type Err = String;
    fn from_str(name: &str) -> Result<JobArg, String> {
        if name == "reconcile-payments" {
            return Ok(JobArg::ReconcilePayments);
        }
        fantooo_jobs::Job::from_name(name).map(JobArg::Scheduled).ok_or_else(|| {
            let mut names: Vec<&str> = fantooo_jobs::Job::ALL.iter().map(|j| j.name()).collect();
            names.push("reconcile-payments");
            format!("unknown job; choose one of: {}", names.join(", "))
        })
    }
}

async fn run_job(db: &Db, job: JobArg, payments: &PaymentArgs) -> Result<(), AnyError> {
    let job = match job {
        JobArg::Scheduled(job) => job,
        JobArg::ReconcilePayments => {
            // In fake mode the provider is the running server's stand-in.
            let cfg = payments.config("127.0.0.1:8080".parse()?)?;
            let provider = platform_payments::Paystack::new(cfg.secret_key.clone()).with_base_url(cfg.api_base_url.clone());
            let r = reconcile_once(db, &provider, cfg.reconcile_after).await?;
            platform_db::wakeup::notify(db).await?;
            println!(
                "checked {} · credited {} · failed {} · unchanged {} · errors {} · orphan webhooks flagged {}",
                r.checked, r.credited, r.failed, r.unchanged, r.errors, r.orphans_flagged
            );
            return Ok(());
        }
    };
    let counts = platform_jobs::run_once(db, job, &cli::job_node(), &fantooo_jobs::runner(db.clone())).await?;
    // Running nodes pick up what changed (assignments, warnings) at once.
    platform_db::wakeup::notify(db).await?;
    tracing::info!(job = job.name(), counts = %counts, "job finished");
    println!("{} {}", job.name(), counts);
    Ok(())
}

async fn reconcile_once(
    db: &Db,
    provider: &dyn platform_payments::PaymentProvider,
    after: Duration,
) -> Result<fantooo_web::purchases::ReconcileReport, AnyError> {
    let stale_before = chrono::Utc::now() - chrono::Duration::from_std(after)?;
    let r = fantooo_web::purchases::reconcile(db, provider, stale_before).await?;
    tracing::info!(
        job = "reconcile-payments",
        checked = r.checked,
        credited = r.credited,
        failed = r.failed,
        errors = r.errors,
        orphans = r.orphans_flagged,
        "job finished"
    );
    Ok(r)
}

async fn create_admin(db: &Db, name: &str, email: &str, role: &str) -> Result<(), AnyError> {
    let name = v::display_name("name", name).map_err(|e| e.message)?;
    let email = v::email(email).map_err(|e| e.message)?;
    let role: AdminRole = role.parse().map_err(|_| "role must be super_admin, admin or moderator")?;
    let password = cli::admin_password(&PRODUCT, &email)?;
    v::password(&password).map_err(|e| e.message)?;
    let hash = fantooo_web::auth::hash_password(password, false).await.map_err(|e| e.to_string())?;
    let admin =
        admins::create(db, &admins::NewAdmin { name, email, role, permissions: Permissions::for_role(role) }, &hash, None, false).await?;
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

async fn serve(db: Db, args: ServeArgs, data_dir: &std::path::Path, payments: &PaymentArgs) -> Result<(), AnyError> {
    // Only an empty embedded store gets demo data; never production Postgres.
    let embedded_and_empty = async {
        Ok::<_, AnyError>(
            db.backend() == Backend::Sqlite && !admins::any_exist(&db).await? && fantooo_store::stats::totals(&db).await?.users == 0,
        )
    };
    let should_seed = args.seed_demo.should_seed(embedded_and_empty).await?;
    let base = format!("http://{}", args.bind);
    if should_seed {
        let logins = seed::seed_demo(&db, false, &args.email_domain).await?;
        if !logins.is_empty() {
            print_logins(&logins, Some(&base));
        }
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
        node_name: cli::node_name(args.node_name.clone()),
        media_dir: args.media_dir.clone().unwrap_or_else(|| data_dir.join("media")),
        payments: payments.config(args.bind)?,
        metrics_token: args.metrics_token.clone().filter(|t| !t.is_empty()),
        mail_from: args.mail_from.clone().filter(|f| !f.trim().is_empty()),
        ..WebConfig::default()
    };
    let mailer: Option<Arc<dyn platform_mail::Mailer>> = match args.smtp_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => {
            let config = platform_mail::SmtpConfig::from_url(url).map_err(|e| format!("--smtp-url: {e}"))?;
            Some(Arc::new(platform_mail::SmtpMailer::new(config).map_err(|e| format!("--smtp-url: {e}"))?))
        }
        None => {
            tracing::warn!("mail: no FANTOOO_SMTP_URL, so recovery-email links are not delivered");
            None
        }
    };
    match config.payments.mode {
        PaymentsMode::Fake if payments.secret_key().is_some() => tracing::warn!(
            "payments: built-in fake Paystack at /fake-paystack (no real money), signing with the configured PAYSTACK_SECRET_KEY; \
             pass --payments paystack to use the real Paystack"
        ),
        PaymentsMode::Fake => tracing::info!("payments: built-in fake Paystack at /fake-paystack (no real money)"),
        PaymentsMode::Paystack => tracing::info!(api = %config.payments.api_base_url, "payments: Paystack"),
    }
    if config.admin_setup_token.is_none() && !admins::any_exist(&db).await? {
        tracing::warn!("no admin exists and ADMIN_SETUP_TOKEN is unset: set it to open /setup, or use `fantooo create-admin`");
    }
    let mut state = AppState::new(db.clone(), config, geocoder, metrics);
    if let Some(mailer) = mailer {
        state = state.with_mailer(mailer);
    }
    fantooo_web::middleware::ratelimit::spawn_pruner(state.limits.clone());
    fantooo_jobs::spawn_scheduler(db.clone(), state.config.node_name.clone(), state.realtime.changed_callback());
    spawn_reconciliation(state.clone());
    // Sockets are accepted once the outbox tailer has read its heads, so an
    // event committed after a client connects "from now" is delivered live.
    state.realtime.started().await;
    let app = fantooo_web::app(state);
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    tracing::info!(address = %base, backend = ?db.backend(), "fantooo listening");
    println!("Fantooo is running at {base}");
    let server = fantooo_web::server::ServerConfig {
        header_read_timeout: Duration::from_secs(args.header_timeout_secs),
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        ..Default::default()
    };
    fantooo_web::server::serve(listener, app, server, platform_web::process::shutdown_signal()).await?;
    db.close().await;
    Ok(())
}

/// Re-verifies stale checkouts every few minutes (also `fantooo job reconcile-payments`).
fn spawn_reconciliation(state: AppState) {
    tokio::spawn(async move {
        let period = Duration::from_secs(5 * 60);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            tick.tick().await;
            match reconcile_once(&state.db, state.payments.as_ref(), state.config.payments.reconcile_after).await {
                Ok(r) if r.credited > 0 => state.realtime.written(),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "payment reconciliation failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_payments_use_a_configured_secret_key() {
        let bind: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let cli = Cli::try_parse_from(["fantooo", "--payments", "fake", "--paystack-secret-key", "sk_test_configured"]).unwrap();
        let cfg = cli.payments.config(bind).unwrap();
        assert_eq!(cfg.mode, PaymentsMode::Fake);
        assert_eq!(cfg.secret_key, "sk_test_configured");
        let cli = Cli::try_parse_from(["fantooo", "--payments", "fake"]).unwrap();
        assert!(!cli.payments.config(bind).unwrap().secret_key.is_empty(), "without one, a random key");
    }

    #[test]
    fn serve_flags_work_without_the_subcommand() {
        let cli = Cli::try_parse_from(["fantooo", "--bind", "127.0.0.1:9999", "--metrics-token", "t0k"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.bind, "127.0.0.1:9999".parse::<SocketAddr>().unwrap());
        assert_eq!(cli.serve.metrics_token.as_deref(), Some("t0k"));
        let cli = Cli::try_parse_from(["fantooo", "serve", "--bind", "127.0.0.1:9998"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Serve(ref a)) if a.bind.port() == 9998));
    }
}
