//! The `gigstream` binary: configuration, logging and subcommands.
//! Everything else lives in the library crates.

use clap::{value_parser, Args, Parser, ValueEnum};
use futures_util::future::BoxFuture;
use gigstream_domain::wallet::WithdrawalPolicy;
use gigstream_domain::FeePolicy;
use gigstream_store::accounts::{self, NewAccount};
use gigstream_store::{Backend, Db};
use gigstream_web::payments::{PayPalKeys, PaymentsConfig, PaymentsMode, StripeKeys};
use gigstream_web::{seed, AppState, WebConfig};
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

/// What GigStream's command line says of itself (the rest is the
/// platform's `platform_web::cli`).
const PRODUCT: cli::Product = cli::Product {
    env_prefix: "GIGSTREAM",
    data_dir: "data/gigstream",
    db_file: "gigstream.db",
    seed_demo_about: "Load demo sellers, gigs, a buyer and an admin into an empty store.",
    check_about: "Check the money invariants; exits 1 on any violation.",
    jobs:
        "auto-complete, housekeeping, clear-earnings, refunds, payouts, invoices, reconcile, notifications, fold-facets, message-reminders",
};

#[derive(Parser)]
#[command(name = "gigstream", version, about = "GigStream gig marketplace server")]
struct Cli {
    #[command(flatten)]
    common: cli::Common,
    #[command(flatten)]
    money: MoneyArgs,
    #[command(flatten)]
    serve: ServeArgs,
    #[command(flatten)]
    mail: MailArgs,
    #[command(flatten)]
    google: GoogleArgs,
    #[command(flatten)]
    notify: NotifyArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

type Command = cli::Command<ServeArgs, CreateAdmin, Job>;

/// `create-admin`'s flags.
#[derive(Args)]
struct CreateAdmin {
    #[arg(long)]
    username: String,
    #[arg(long)]
    email: String,
    #[arg(long, default_value = "Admin")]
    name: String,
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "GIGSTREAM_BIND", default_value = "127.0.0.1:8082")]
    bind: SocketAddr,
    /// Mark cookies Secure and send HSTS (behind HTTPS).
    #[arg(long, env = "GIGSTREAM_HTTPS")]
    https: bool,
    /// Trust the last X-Forwarded-For entry (behind one reverse proxy).
    #[arg(long, env = "GIGSTREAM_TRUST_PROXY")]
    trust_proxy: bool,
    /// Answer plain-HTTP requests with a permanent redirect to HTTPS (the
    /// scheme from the trusted proxy's X-Forwarded-Proto; without
    /// --trust-proxy every request counts as plain HTTP).
    #[arg(long, env = "GIGSTREAM_HTTPS_REDIRECT")]
    https_redirect: bool,
    /// Messages one account may send per minute.
    #[arg(long, env = "GIGSTREAM_MESSAGE_RATE_PER_MINUTE", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    message_rate_per_minute: u32,
    /// Sign-in/sign-up attempts per minute per address and per login.
    #[arg(long, env = "GIGSTREAM_AUTH_RATE_PER_MINUTE", default_value_t = 5)]
    auth_rate_per_minute: u32,
    /// API requests per minute per address.
    #[arg(long, env = "GIGSTREAM_API_RATE_PER_MINUTE", default_value_t = 300)]
    api_rate_per_minute: u32,
    /// Where uploads are kept (default: <data-dir>/media).
    #[arg(long, env = "GIGSTREAM_MEDIA_DIR")]
    media_dir: Option<PathBuf>,
    /// The ClamAV daemon every upload is scanned by before it is stored:
    /// `unix:/path`, `/path`, `tcp://host:port` or `host:port`. While it does
    /// not answer, uploads are refused (never stored unscanned).
    #[arg(long, env = "GIGSTREAM_CLAMD", default_value = "unix:/var/run/clamav/clamd.ctl", value_parser = parse_clamd)]
    clamd: platform_media::ClamdAddr,
    /// The platform's fee on the seller's price, in percent.
    #[arg(long, env = "GIGSTREAM_PLATFORM_FEE_PERCENT", default_value_t = 20.0)]
    platform_fee_percent: f64,
    /// The buyer's service fee, in percent of the price.
    #[arg(long, env = "GIGSTREAM_BUYER_FEE_PERCENT", default_value_t = 5.0)]
    buyer_fee_percent: f64,
    /// The smallest buyer service fee, in cents.
    #[arg(long, env = "GIGSTREAM_BUYER_FEE_MIN_CENTS", default_value_t = 100)]
    buyer_fee_min_cents: i64,
    /// Load demo data on start: `auto` seeds an empty embedded store only.
    #[arg(long, env = "GIGSTREAM_SEED_DEMO", value_enum, default_value_t = SeedMode::Auto)]
    seed_demo: SeedMode,
    /// Bearer token a scraper sends to read /metrics; unset: /metrics answers 404.
    #[arg(long, env = "GIGSTREAM_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Report panics and internal errors to this Sentry-compatible DSN; unset: off.
    #[arg(long, env = "GIGSTREAM_SENTRY_DSN", hide_env_values = true)]
    sentry_dsn: Option<String>,
    /// The environment name error reports carry.
    #[arg(long, env = "GIGSTREAM_SENTRY_ENVIRONMENT", default_value = "production")]
    sentry_environment: String,
}

fn parse_clamd(text: &str) -> Result<platform_media::ClamdAddr, String> {
    platform_media::ClamdAddr::parse(text)
}

/// Payment providers, clearance and withdrawals (shared by `serve` and the jobs).
#[derive(Args, Clone)]
struct MoneyArgs {
    /// `fake` serves local Stripe and PayPal stand-ins (no network, no real
    /// money); `live` uses the APIs below. Default: live when STRIPE_SECRET_KEY
    /// or PAYPAL_CLIENT_ID is set.
    #[arg(long, env = "GIGSTREAM_PAYMENTS", value_enum, global = true)]
    payments: Option<PaymentsArg>,
    /// Stripe secret key (sk_…).
    #[arg(long, env = "STRIPE_SECRET_KEY", hide_env_values = true, global = true)]
    stripe_secret_key: Option<String>,
    /// The Stripe webhook endpoint's signing secret (whsec_…).
    #[arg(long, env = "STRIPE_WEBHOOK_SECRET", hide_env_values = true, global = true)]
    stripe_webhook_secret: Option<String>,
    #[arg(long, env = "STRIPE_BASE_URL", default_value = "https://api.stripe.com", global = true)]
    stripe_base_url: String,
    /// PayPal REST app client id.
    #[arg(long, env = "PAYPAL_CLIENT_ID", global = true)]
    paypal_client_id: Option<String>,
    #[arg(long, env = "PAYPAL_CLIENT_SECRET", hide_env_values = true, global = true)]
    paypal_client_secret: Option<String>,
    /// The id PayPal gave this site's webhook (verification needs it).
    #[arg(long, env = "PAYPAL_WEBHOOK_ID", global = true)]
    paypal_webhook_id: Option<String>,
    #[arg(long, env = "PAYPAL_BASE_URL", default_value = "https://api-m.paypal.com", global = true)]
    paypal_base_url: String,
    /// Public origin of this site for the providers' return links; default: the request's host.
    #[arg(long, env = "GIGSTREAM_PUBLIC_URL", global = true)]
    public_url: Option<String>,
    /// Days released earnings stay pending before they can be withdrawn.
    #[arg(long, env = "GIGSTREAM_CLEARANCE_DAYS", default_value_t = 14, value_parser = value_parser!(u32).range(0..=365), global = true)]
    clearance_days: u32,
    /// The smallest withdrawal, in cents.
    #[arg(long, env = "GIGSTREAM_WITHDRAWAL_MIN_CENTS", default_value_t = 2_000, value_parser = value_parser!(i64).range(1..=100_000_000), global = true)]
    withdrawal_min_cents: i64,
    /// Minutes a checkout may stay unreported before the reconcile job asks the provider about it.
    #[arg(long, env = "GIGSTREAM_RECONCILE_AFTER_MINUTES", default_value_t = 15, value_parser = value_parser!(u32).range(1..=10_080), global = true)]
    reconcile_after_minutes: u32,
    /// A fixed fee per withdrawal, in cents.
    #[arg(long, env = "GIGSTREAM_WITHDRAWAL_FEE_CENTS", default_value_t = 0, value_parser = value_parser!(i64).range(0..=1_000_000), global = true)]
    withdrawal_fee_cents: i64,
}

/// Outgoing mail (invoices and credit notes to buyers).
#[derive(Args, Clone)]
struct MailArgs {
    /// SMTP relay: smtp://host:25, smtp+starttls://user:pass@host:587 or smtps://user:pass@host:465. Unset: mail is kept in memory, not sent.
    #[arg(long, env = "GIGSTREAM_SMTP_URL", hide_env_values = true, global = true)]
    smtp_url: Option<String>,
    /// The From of GigStream's mail.
    #[arg(long, env = "GIGSTREAM_MAIL_FROM", default_value = "GigStream <billing@gigstream.localhost>", global = true)]
    mail_from: String,
}

/// Google sign-in (OpenID Connect).
#[derive(Args, Clone)]
struct GoogleArgs {
    /// OAuth client id of the Google sign-in app; with the secret, turns on "Continue with Google".
    #[arg(long, env = "GIGSTREAM_GOOGLE_CLIENT_ID")]
    google_client_id: Option<String>,
    /// OAuth client secret of that app (also seals the sign-in cookies).
    #[arg(long, env = "GIGSTREAM_GOOGLE_CLIENT_SECRET", hide_env_values = true)]
    google_client_secret: Option<String>,
    /// The provider's issuer URL (OpenID Connect discovery lives under it).
    #[arg(long, env = "GIGSTREAM_GOOGLE_ISSUER", default_value = "https://accounts.google.com")]
    google_issuer: String,
}

impl GoogleArgs {
    /// Google sign-in for a site reached at `public_url`, when configured.
    fn google(&self, public_url: &str) -> Result<Option<Arc<gigstream_web::google::Google>>, AnyError> {
        match (given(&self.google_client_id), given(&self.google_client_secret)) {
            (Some(id), Some(secret)) => {
                let redirect = format!("{}/auth/google/callback", public_url.trim_end_matches('/'));
                let config = platform_identity::OidcConfig::new(&self.google_issuer, id, secret.clone(), redirect);
                Ok(Some(Arc::new(gigstream_web::google::Google::new(platform_identity::OidcClient::new(config), &secret))))
            }
            (None, None) => Ok(None),
            _ => Err("Google sign-in needs both GIGSTREAM_GOOGLE_CLIENT_ID and GIGSTREAM_GOOGLE_CLIENT_SECRET".into()),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PaymentsArg {
    Fake,
    Live,
}

fn given(v: &Option<String>) -> Option<String> {
    v.clone().filter(|s| !s.trim().is_empty())
}

impl MoneyArgs {
    /// The providers for a server listening on `bind`.
    fn payments(&self, bind: SocketAddr) -> Result<PaymentsConfig, AnyError> {
        let any_key = given(&self.stripe_secret_key).is_some() || given(&self.paypal_client_id).is_some();
        let mode = self.payments.unwrap_or(if any_key { PaymentsArg::Live } else { PaymentsArg::Fake });
        let public_url = given(&self.public_url).map(|u| u.trim_end_matches('/').to_string());
        if mode == PaymentsArg::Fake {
            return Ok(PaymentsConfig { mode: PaymentsMode::Fake { self_url: format!("http://{bind}") }, public_url });
        }
        let stripe = match (given(&self.stripe_secret_key), given(&self.stripe_webhook_secret)) {
            (Some(secret_key), Some(webhook_secret)) => {
                Some(StripeKeys { secret_key, webhook_secret, base_url: self.stripe_base_url.clone() })
            }
            (None, None) => None,
            _ => return Err("Stripe needs both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET".into()),
        };
        let paypal = match (given(&self.paypal_client_id), given(&self.paypal_client_secret), given(&self.paypal_webhook_id)) {
            (Some(client_id), Some(client_secret), Some(webhook_id)) => {
                Some(PayPalKeys { client_id, client_secret, webhook_id, base_url: self.paypal_base_url.clone() })
            }
            (None, None, None) => None,
            _ => return Err("PayPal needs PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET and PAYPAL_WEBHOOK_ID".into()),
        };
        if stripe.is_none() && paypal.is_none() {
            return Err("--payments live needs Stripe or PayPal keys".into());
        }
        Ok(PaymentsConfig { mode: PaymentsMode::Live { stripe, paypal }, public_url })
    }

    fn withdrawals(&self) -> WithdrawalPolicy {
        WithdrawalPolicy { minimum_minor: self.withdrawal_min_cents, fee_minor: self.withdrawal_fee_cents }
    }
}

/// Notification email, web push and unsubscribe links.
#[derive(Args, Clone)]
struct NotifyArgs {
    /// The VAPID private key (32 bytes, base64url) web pushes are signed
    /// with. Unset: one is generated once and kept in <data-dir>/vapid-private.key.
    #[arg(long, env = "GIGSTREAM_VAPID_PRIVATE_KEY", hide_env_values = true, global = true)]
    vapid_private_key: Option<String>,
    /// The contact push services may write to (mailto: or https:).
    #[arg(long, env = "GIGSTREAM_PUSH_CONTACT", default_value = "mailto:no-reply@gigstream.localhost", global = true)]
    push_contact: String,
    /// The secret unsubscribe links are signed with. Unset: one is
    /// generated once and kept in <data-dir>/link-secret.key.
    #[arg(long, env = "GIGSTREAM_LINK_SECRET", hide_env_values = true, global = true)]
    link_secret: Option<String>,
}

/// A secret kept in a file of the data directory, made on first use.
fn kept_secret(data_dir: &std::path::Path, file: &str, make: impl FnOnce() -> String) -> Result<String, AnyError> {
    let path = data_dir.join(file);
    if let Ok(s) = std::fs::read_to_string(&path) {
        if !s.trim().is_empty() {
            return Ok(s.trim().to_string());
        }
    }
    std::fs::create_dir_all(data_dir)?;
    let s = make();
    std::fs::write(&path, &s)?;
    tracing::info!(file = %path.display(), "generated a secret for this installation");
    Ok(s)
}

impl NotifyArgs {
    /// Notifications go out through the same relay and From as the rest
    /// of GigStream's mail (`MailArgs`).
    fn config(
        &self,
        mail: &MailArgs,
        site_url: String,
        data_dir: &std::path::Path,
    ) -> Result<gigstream_web::notify::NotifyConfig, AnyError> {
        let smtp = match given(&mail.smtp_url) {
            Some(url) => Some(platform_mail::SmtpConfig::from_url(&url).map_err(|e| format!("--smtp-url: {e}"))?),
            None => {
                tracing::warn!("GIGSTREAM_SMTP_URL is not set: invoices are stored but their mail is kept in memory, and notification emails are not sent");
                None
            }
        };
        let vapid = match given(&self.vapid_private_key) {
            Some(k) => k,
            None => kept_secret(data_dir, "vapid-private.key", || platform_push::VapidKeys::generate().private_base64())?,
        };
        let vapid = platform_push::VapidKeys::from_base64(&vapid).map_err(|e| format!("--vapid-private-key: {e}"))?;
        let link_secret = match given(&self.link_secret) {
            Some(s) => s,
            None => kept_secret(data_dir, "link-secret.key", || platform_push::VapidKeys::generate().private_base64())?,
        };
        Ok(gigstream_web::notify::NotifyConfig {
            smtp,
            mail_from: mail.mail_from.clone(),
            site_url,
            vapid,
            push_contact: self.push_contact.clone(),
            link_secret: link_secret.into_bytes(),
        })
    }
}

/// GigStream's scheduled jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Job {
    /// Complete and release orders delivered 3 days ago.
    AutoComplete,
    /// Delete sessions expired a day ago and job runs older than a week.
    Housekeeping,
    /// Move earnings past the clearance period from pending to available.
    ClearEarnings,
    /// Send refunds the provider has not confirmed (same idempotency keys).
    Refunds,
    /// Pay approved withdrawals the provider has not confirmed.
    Payouts,
    /// Store and mail invoices and credit notes not yet mailed.
    Invoices,
    /// Ask the providers about checkouts that never reported back.
    Reconcile,
    /// Send notification emails and pushes that are due (retries included).
    Notifications,
    /// Add the search's appended facet deltas into their cells.
    FoldFacets,
    /// Email people whose messages waited unread for 15 minutes (once per conversation).
    MessageReminders,
}

impl platform_jobs::Job for Job {
    fn name(self) -> &'static str {
        match self {
            Job::AutoComplete => "auto-complete",
            Job::Housekeeping => "housekeeping",
            Job::ClearEarnings => "clear-earnings",
            Job::Refunds => "refunds",
            Job::Payouts => "payouts",
            Job::Invoices => "invoices",
            Job::Reconcile => "reconcile",
            Job::Notifications => "notifications",
            Job::FoldFacets => "fold-facets",
            Job::MessageReminders => "message-reminders",
        }
    }
    fn every(self) -> Duration {
        match self {
            Job::AutoComplete => Duration::from_secs(10 * 60),
            Job::Housekeeping => Duration::from_secs(6 * 3600),
            Job::ClearEarnings => Duration::from_secs(3600),
            Job::Refunds | Job::Payouts | Job::Invoices | Job::Reconcile => Duration::from_secs(5 * 60),
            Job::Notifications | Job::FoldFacets | Job::MessageReminders => Duration::from_secs(60),
        }
    }
}

const JOBS: [Job; 10] = [
    Job::AutoComplete,
    Job::Housekeeping,
    Job::ClearEarnings,
    Job::Refunds,
    Job::Payouts,
    Job::Invoices,
    Job::Reconcile,
    Job::Notifications,
    Job::FoldFacets,
    Job::MessageReminders,
];

impl std::str::FromStr for Job {
    type Err = String;
    fn from_str(name: &str) -> Result<Job, String> {
        use platform_jobs::Job as _;
        JOBS.into_iter().find(|j| j.name() == name).ok_or_else(|| format!("unknown job; choose one of: {}", PRODUCT.jobs))
    }
}

fn runner(state: AppState) -> platform_jobs::Runner<Job> {
    Arc::new(move |job, now| -> BoxFuture<'static, gigstream_store::StoreResult<serde_json::Value>> {
        let state = state.clone();
        let db = state.db.clone();
        let web = |e: gigstream_web::AppError| gigstream_store::StoreError::Rule(e.to_string());
        Box::pin(async move {
            Ok(match job {
                Job::AutoComplete => serde_json::json!({ "completed": gigstream_web::notify::auto_complete(&state, now).await? }),
                Job::Housekeeping => {
                    let sessions = accounts::sessions().purge_expired(&db, now - chrono::Duration::days(1)).await?;
                    let runs = platform_jobs::runs::purge(&db, now - chrono::Duration::days(7)).await?;
                    let typing = gigstream_store::messages::purge_typing(&db, now - chrono::Duration::days(1)).await?;
                    let presence = gigstream_store::presence::purge_events(&db, now - chrono::Duration::days(1)).await?;
                    serde_json::json!({ "sessions": sessions, "job_runs": runs, "typing_signals": typing, "presence_changes": presence })
                }
                Job::ClearEarnings => {
                    // The clearance period in force: the back office's setting over the flag.
                    let days = gigstream_web::settings::current(&state).await.map_err(web)?.clearance_days;
                    serde_json::json!({ "cleared": gigstream_store::wallet::clear_due(&db, now, days).await? })
                }
                Job::Refunds => serde_json::json!({ "confirmed": gigstream_web::payments::send_refunds(&state, None).await.map_err(web)? }),
                Job::Payouts => {
                    let mut paid = 0;
                    for w in
                        gigstream_store::wallet::withdrawals(&db, Some(gigstream_domain::wallet::WithdrawalStatus::Approved), None, 200)
                            .await?
                    {
                        let status = gigstream_web::payments::pay_out(&state, w.id).await.map_err(web)?;
                        paid += usize::from(status == gigstream_domain::wallet::WithdrawalStatus::Paid);
                    }
                    serde_json::json!({ "paid": paid })
                }
                Job::FoldFacets => serde_json::json!({ "folded": gigstream_store::search::fold_facets(&db).await? }),
                Job::Invoices => serde_json::json!({ "mailed": gigstream_web::invoices::deliver_pending(&state).await.map_err(web)? }),
                Job::Reconcile => {
                    serde_json::to_value(gigstream_web::payments::reconcile(&state, now).await.map_err(web)?).unwrap_or_default()
                }
                Job::Notifications => serde_json::json!(gigstream_web::notify::deliver_due(&state).await?),
                Job::MessageReminders => serde_json::json!(gigstream_web::notify::remind_unread(&state, now).await?),
            })
        })
    })
}

#[tokio::main]
async fn main() {
    let cli: Cli = cli::parse::<Cli, ServeArgs>(&PRODUCT);
    cli::run(cli.common.log_format, run(cli)).await;
}

fn print_logins(logins: &[seed::DemoLogin]) {
    println!("\nDemo logins (password for all: {}):", seed::DEMO_PASSWORD);
    for l in logins {
        println!("  {:<8} {}", l.role, l.login);
    }
    println!();
}

fn fees(args: &ServeArgs) -> Result<FeePolicy, AnyError> {
    let bps = |p: f64, what: &str| -> Result<u32, AnyError> {
        if !(0.0..=100.0).contains(&p) {
            return Err(format!("{what} must be between 0 and 100 percent").into());
        }
        Ok((p * 100.0).round() as u32)
    };
    Ok(FeePolicy {
        platform_fee_bps: bps(args.platform_fee_percent, "--platform-fee-percent")?,
        buyer_fee_bps: bps(args.buyer_fee_percent, "--buyer-fee-percent")?,
        buyer_fee_min_minor: args.buyer_fee_min_cents.max(0),
    })
}

async fn run(mut cli: Cli) -> Result<(), AnyError> {
    let db = cli.common.open(&PRODUCT, gigstream_store::connect, gigstream_store::migrate).await?;
    let command = cli.command.take().unwrap_or(Command::Serve(cli.serve.clone()));
    match command {
        Command::Migrate => println!("migrations applied ({:?})", db.backend()),
        Command::SeedDemo => {
            let logins = seed::seed_demo(&db).await?;
            if logins.is_empty() {
                println!("the store already has accounts; nothing loaded");
            } else {
                print_logins(&logins);
            }
        }
        Command::CreateAdmin(CreateAdmin { username, email, name }) => create_admin(&db, &username, &email, &name).await?,
        Command::Check => {
            let report = gigstream_store::invariants::check(&db).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if !report.is_clean() {
                std::process::exit(1);
            }
        }
        Command::Job { name } => {
            use platform_jobs::Job as _;
            let config = web_config(&cli.serve, &cli.money, &cli.mail, &cli.notify, &cli.common.data_dir)?;
            let state = AppState::new(db.clone(), config);
            let counts = platform_jobs::run_once(&db, name, &cli::job_node(), &runner(state)).await?;
            println!("{} {counts}", name.name());
        }
        Command::Serve(args) => {
            let public = given(&cli.money.public_url).unwrap_or_else(|| format!("http://{}", args.bind));
            let google = cli.google.google(&public)?;
            serve(db, args, &cli.money, &cli.mail, &cli.notify, google, &cli.common.data_dir).await?
        }
        Command::More(none) => match none {},
    }
    Ok(())
}

async fn create_admin(db: &Db, username: &str, email: &str, name: &str) -> Result<(), AnyError> {
    let password = cli::admin_password(&PRODUCT, email)?;
    let form = gigstream_web::forms::SignUp {
        email: email.into(),
        username: username.into(),
        display_name: name.into(),
        password: password.clone(),
    };
    let (email, username, name) = gigstream_web::forms::check_sign_up(&form).map_err(|e| e.to_string())?;
    let hash = platform_accounts::password::hash(password, platform_accounts::password::Cost::Production).await?;
    let a = accounts::create(
        db,
        &NewAccount { email: &email, username: &username, display_name: &name, password_hash: &hash, is_admin: true },
        chrono::Utc::now(),
    )
    .await?;
    println!("created admin {} ({})", a.username, a.id);
    Ok(())
}

fn web_config(
    args: &ServeArgs,
    money: &MoneyArgs,
    mail: &MailArgs,
    notify: &NotifyArgs,
    data_dir: &std::path::Path,
) -> Result<WebConfig, AnyError> {
    let site_url = given(&money.public_url).map(|u| u.trim_end_matches('/').to_string()).unwrap_or_else(|| format!("http://{}", args.bind));
    Ok(WebConfig {
        notify: notify.config(mail, site_url, data_dir)?,
        secure_cookies: args.https,
        hsts: args.https,
        trust_proxy: args.trust_proxy,
        https_redirect: args.https_redirect,
        message_per_minute: args.message_rate_per_minute,
        auth_per_minute: args.auth_rate_per_minute,
        api_per_minute: args.api_rate_per_minute,
        media_dir: args.media_dir.clone().unwrap_or_else(|| data_dir.join("media")),
        fees: fees(args)?,
        clamd: args.clamd.clone(),
        payments: money.payments(args.bind)?,
        clearance_days: money.clearance_days,
        withdrawals: money.withdrawals(),
        mail_from: mail.mail_from.clone(),
        reconcile_after_minutes: money.reconcile_after_minutes,
        metrics_token: args.metrics_token.clone().filter(|t| !t.is_empty()),
        errors: gigstream_web::reporting::Reporter::new(args.sentry_dsn.as_deref(), &args.sentry_environment)?,
        ..WebConfig::default()
    })
}

async fn serve(
    db: Db,
    args: ServeArgs,
    money: &MoneyArgs,
    mail: &MailArgs,
    notify: &NotifyArgs,
    google: Option<Arc<gigstream_web::google::Google>>,
    data_dir: &std::path::Path,
) -> Result<(), AnyError> {
    let embedded_and_empty = async { Ok::<_, AnyError>(db.backend() == Backend::Sqlite && !accounts::any(&db).await?) };
    let should_seed = args.seed_demo.should_seed(embedded_and_empty).await?;
    if should_seed {
        let logins = seed::seed_demo(&db).await?;
        if !logins.is_empty() {
            print_logins(&logins);
        }
    }
    let config = web_config(&args, money, mail, notify, data_dir)?;
    tracing::info!(payments = ?config.payments, "payment providers");
    let mut state = AppState::new(db.clone(), config);
    state.metrics = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder().ok();
    state.google = google;
    tracing::info!(google = state.google.is_some(), "sign-in providers");
    gigstream_web::routes::resume_videos(state.clone()).await;
    let limits = state.limits.clone();
    platform_web::ratelimit::spawn_pruner(vec![Arc::new(move || limits.prune())]);
    let node = cli::node_name(None);
    platform_jobs::spawn_scheduler(db.clone(), node, JOBS.to_vec(), runner(state.clone()), Arc::new(|| {}));
    // Sockets are accepted once the outbox tailer has read its heads, so an
    // event committed after a client connects "from now" is delivered live.
    state.realtime.started().await;
    let app = gigstream_web::app(state);
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    let base = format!("http://{}", args.bind);
    tracing::info!(address = %base, backend = ?db.backend(), "gigstream listening");
    println!("GigStream is running at {base}");
    gigstream_web::server::serve(listener, app, Default::default(), platform_web::process::shutdown_signal()).await?;
    db.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_come_from_percentages() {
        let cli = Cli::try_parse_from(["gigstream", "--platform-fee-percent", "12.5", "--buyer-fee-percent", "0"]).unwrap();
        let f = fees(&cli.serve).unwrap();
        assert_eq!((f.platform_fee_bps, f.buyer_fee_bps, f.buyer_fee_min_minor), (1250, 0, 100));
        let cli = Cli::try_parse_from(["gigstream", "--platform-fee-percent", "120"]).unwrap();
        assert!(fees(&cli.serve).is_err());
        assert_eq!(cli.serve.bind.port(), 8082);
    }

    #[test]
    fn payments_come_from_the_environment_of_flags() {
        let bind: SocketAddr = "127.0.0.1:8082".parse().unwrap();
        let cli = Cli::try_parse_from(["gigstream"]).unwrap();
        assert!(
            matches!(cli.money.payments(bind).unwrap().mode, PaymentsMode::Fake { ref self_url } if self_url == "http://127.0.0.1:8082")
        );
        let cli = Cli::try_parse_from(["gigstream", "--stripe-secret-key", "sk_x", "--stripe-webhook-secret", "whsec_y"]).unwrap();
        match cli.money.payments(bind).unwrap().mode {
            PaymentsMode::Live { stripe: Some(s), paypal: None } => assert_eq!(s.base_url, "https://api.stripe.com"),
            _ => panic!("live Stripe only"),
        }
        let cli = Cli::try_parse_from(["gigstream", "--stripe-secret-key", "sk_x"]).unwrap();
        assert!(cli.money.payments(bind).unwrap_err().to_string().contains("STRIPE_WEBHOOK_SECRET"));
        let cli = Cli::try_parse_from(["gigstream", "--payments", "live", "--paypal-client-id", "id"]).unwrap();
        assert!(cli.money.payments(bind).unwrap_err().to_string().contains("PAYPAL_WEBHOOK_ID"));
        assert!(Cli::try_parse_from(["gigstream", "--clearance-days", "400"]).is_err());
        let cli = Cli::try_parse_from(["gigstream", "--withdrawal-min-cents", "500", "--withdrawal-fee-cents", "25"]).unwrap();
        assert_eq!(cli.money.withdrawals(), WithdrawalPolicy { minimum_minor: 500, fee_minor: 25 });
    }

    #[test]
    fn jobs_are_named() {
        assert_eq!("clear-earnings".parse::<Job>().unwrap(), Job::ClearEarnings);
        assert_eq!("auto-complete".parse::<Job>().unwrap(), Job::AutoComplete);
        assert!("nope".parse::<Job>().is_err());
        assert!(matches!(
            Cli::try_parse_from(["gigstream", "job", "housekeeping"]).unwrap().command,
            Some(Command::Job { name: Job::Housekeeping })
        ));
    }
}
