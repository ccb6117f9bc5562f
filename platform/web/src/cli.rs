//! The command line every product binary shares: the global flags (the
//! database, the data directory, the pool size, the log format), the
//! subcommands (`serve`, `migrate`, `seed-demo`, `create-admin`, `check`,
//! `job <name>`, and any the product adds), `serve`'s flags also accepted
//! without the subcommand, the demo-seeding mode, and the admin password
//! read from the environment or stdin. A product declares only its own
//! bits: its `serve` flags, its `create-admin` flags, its job names, extra
//! subcommands, and its variables' prefix ([`Product`]).
//!
//! ```ignore
//! #[derive(clap::Parser)]
//! #[command(name = "rooms", version, about = "Rooms live voice rooms server")]
//! struct Cli {
//!     #[command(flatten)]
//!     common: cli::Common,
//!     #[command(flatten)]
//!     serve: ServeArgs,
//!     #[command(subcommand)]
//!     command: Option<cli::Command<ServeArgs, CreateAdmin, JobName>>,
//! }
//! let cli: Cli = cli::parse::<Cli, ServeArgs>(&PRODUCT);
//! ```

use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Subcommand, ValueEnum};
use platform_db::Db;
use std::future::Future;
use std::path::PathBuf;
use std::str::FromStr;

/// What differs between products in the shared flags.
#[derive(Debug, Clone, Copy)]
pub struct Product {
    /// The prefix of its variables: `FANTOOO` reads `FANTOOO_DATA_DIR`, …
    pub env_prefix: &'static str,
    /// Where the embedded database lives by default.
    pub data_dir: &'static str,
    /// The embedded database's file name in the data directory.
    pub db_file: &'static str,
    /// What `seed-demo` loads, and what `check` checks (help texts).
    pub seed_demo_about: &'static str,
    pub check_about: &'static str,
    /// The job names `job` takes, for its help (e.g. `sweep, housekeeping`).
    pub jobs: &'static str,
}

/// Flags every subcommand takes. Their variables are named after the
/// product ([`Product::env_prefix`]) when parsed through [`parse`].
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// PostgreSQL URL (postgres://…). Without it, an embedded SQLite file in --data-dir is used.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Directory for the embedded database and other local files.
    #[arg(long, global = true, default_value = "data")]
    pub data_dir: PathBuf,
    /// Maximum database connections of this process.
    #[arg(long, global = true, default_value_t = 20)]
    pub db_max_connections: u32,
    /// Log output format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

impl Common {
    /// The database to open: `--database-url`, else the embedded file.
    pub fn database_url(&self, product: &Product) -> std::io::Result<String> {
        platform_db::url_or_embedded(self.database_url.as_deref(), &self.data_dir, product.db_file)
    }

    /// Opens the product's database ([`Common::database_url`], at most
    /// `--db-max-connections`) through its store's `connect`, and brings
    /// the schema up to date with its `migrate`; every subcommand starts
    /// here.
    ///
    /// ```ignore
    /// let db = cli.common.open(&PRODUCT, rooms_store::connect, rooms_store::migrate).await?;
    /// ```
    pub async fn open<E1, E2>(
        &self,
        product: &Product,
        connect: impl AsyncFnOnce(&str, u32) -> Result<Db, E1>,
        migrate: impl AsyncFnOnce(&Db) -> Result<(), E2>,
    ) -> Result<Db, AnyError>
    where
        E1: Into<AnyError>,
        E2: Into<AnyError>,
    {
        let db = connect(&self.database_url(product)?, self.db_max_connections).await.map_err(Into::into)?;
        migrate(&db).await.map_err(Into::into)?;
        Ok(db)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// When `serve` loads demo data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeedMode {
    /// Only into an empty embedded store (never production PostgreSQL).
    Auto,
    Always,
    Never,
}

impl SeedMode {
    /// Whether to seed; `embedded_and_empty` (whether the store is an
    /// embedded one with no data yet) is asked only in `auto`.
    pub async fn should_seed<E>(self, embedded_and_empty: impl Future<Output = Result<bool, E>>) -> Result<bool, E> {
        match self {
            SeedMode::Always => Ok(true),
            SeedMode::Never => Ok(false),
            SeedMode::Auto => embedded_and_empty.await,
        }
    }
}

/// The subcommands of every product: `S` its serve flags, `A` its
/// create-admin flags, `J` a job name (parsed with `FromStr`, whose error
/// lists the names), `X` its own further subcommands ([`NoMore`] if none).
#[derive(Debug, Subcommand)]
pub enum Command<S, A, J, X = NoMore>
where
    S: Args,
    A: Args,
    J: FromStr<Err = String> + Clone + Send + Sync + 'static,
    X: Subcommand,
{
    /// Run the web server (the default).
    Serve(S),
    /// Apply database migrations and exit.
    Migrate,
    /// Load demo data into an empty store.
    SeedDemo,
    /// Create an admin; the password comes from <PRODUCT>_ADMIN_PASSWORD or stdin.
    CreateAdmin(A),
    /// Check the data's invariants; exits 1 on any violation.
    Check,
    /// Run one scheduled job now (for external cron).
    Job {
        #[arg(value_parser = job_name::<J>)]
        name: J,
    },
    #[command(flatten)]
    More(X),
}

fn job_name<J: FromStr<Err = String>>(name: &str) -> Result<J, String> {
    name.parse()
}

/// The flags every staff account starts from; a product's `create-admin`
/// flattens them beside its own (`#[command(flatten)] staff: Staff`).
#[derive(Debug, Clone, Args)]
pub struct Staff {
    /// The staff member's display name.
    #[arg(long)]
    pub name: String,
    /// The email the staff member signs in with.
    #[arg(long)]
    pub email: String,
}

/// No product-specific subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum NoMore {}

/// Parses the command line of a product whose `serve` flags are `S`: the
/// shared flags read the product's variables, and `serve` flags given
/// before another subcommand (which would be silently ignored) are refused.
pub fn parse<C: CommandFactory + FromArgMatches, S: Args>(product: &Product) -> C {
    let mut command = command::<C>(product);
    let matches = command.clone().get_matches();
    if let Err(e) = refuse_misplaced_serve_flags::<S>(&matches) {
        command.error(clap::error::ErrorKind::ArgumentConflict, e).exit();
    }
    C::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut command.clone()).exit())
}

/// [`parse`] on given arguments, for tests; errors instead of exiting.
pub fn try_parse_from<C: CommandFactory + FromArgMatches, S: Args>(product: &Product, args: &[&str]) -> Result<C, String> {
    let matches = command::<C>(product).try_get_matches_from(args).map_err(|e| e.to_string())?;
    refuse_misplaced_serve_flags::<S>(&matches)?;
    C::from_arg_matches(&matches).map_err(|e| e.to_string())
}

/// The product's command with the shared flags' variables and help set.
fn command<C: CommandFactory>(product: &Product) -> clap::Command {
    // Names built at run time must outlive the command; it is built once
    // per process, so leaking them is bounded.
    let var = |name: &str| -> &'static str { Box::leak(format!("{}_{name}", product.env_prefix).into_boxed_str()) };
    let admin_password = var("ADMIN_PASSWORD");
    C::command()
        .mut_arg("data_dir", |a| a.env(var("DATA_DIR")).default_value(product.data_dir))
        .mut_arg("db_max_connections", |a| a.env(var("DB_MAX_CONNECTIONS")))
        .mut_arg("log_format", |a| a.env(var("LOG_FORMAT")))
        // Help lines end without a full stop, as clap's own do.
        .mut_subcommand("seed-demo", |c| c.about(product.seed_demo_about.trim_end_matches('.')))
        .mut_subcommand("check", |c| c.about(product.check_about.trim_end_matches('.')))
        .mut_subcommand("job", |c| {
            let about: &'static str =
                Box::leak(format!("Run one scheduled job now (for external cron): {}", product.jobs).into_boxed_str());
            c.about(about)
        })
        .mut_subcommand("create-admin", |c| {
            let about: &'static str =
                Box::leak(format!("Create an admin; the password comes from {admin_password} or stdin").into_boxed_str());
            c.about(about)
        })
}

/// The `serve` flags (`S`) given on the command line with a subcommand
/// other than `serve`.
fn refuse_misplaced_serve_flags<S: Args>(matches: &clap::ArgMatches) -> Result<(), String> {
    let Some((name, _)) = matches.subcommand() else { return Ok(()) };
    if name == "serve" {
        return Ok(());
    }
    let serve_flags = S::augment_args(clap::Command::new("serve"));
    let given: Vec<String> = serve_flags
        .get_arguments()
        .filter(|a| {
            matches.try_get_raw(a.get_id().as_str()).is_ok() && matches.value_source(a.get_id().as_str()) == Some(ValueSource::CommandLine)
        })
        .map(|a| format!("--{}", a.get_long().unwrap_or(a.get_id().as_str())))
        .collect();
    if given.is_empty() {
        Ok(())
    } else {
        Err(format!("{} only apply to serving; use them without a subcommand or after `serve`, not with `{name}`", given.join(", ")))
    }
}

/// The new admin's password: the variable `<PRODUCT>_ADMIN_PASSWORD`, else
/// one line of stdin (prompted on stderr).
pub fn admin_password(product: &Product, login: &str) -> std::io::Result<String> {
    if let Ok(p) = std::env::var(format!("{}_ADMIN_PASSWORD", product.env_prefix)) {
        return Ok(p);
    }
    eprint!("Password for {login}: ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// The error of a command's run.
pub type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// Sets up logging in `format`, runs the command, and on failure logs the
/// error, prints it and exits with status 1.
pub async fn run<F: Future<Output = Result<(), AnyError>>>(format: LogFormat, run: F) {
    crate::process::init_logging(format == LogFormat::Json);
    if let Err(e) = run.await {
        tracing::error!(error = %e, "fatal");
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// The node name of a command-line job run, in `job_runs`.
pub fn job_node() -> String {
    format!("cli-{}", std::process::id())
}

/// This server's node name: the configured one, else `node-<pid>`.
pub fn node_name(configured: Option<String>) -> String {
    configured.filter(|n| !n.is_empty()).unwrap_or_else(|| format!("node-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::net::SocketAddr;

    const P: Product = Product {
        env_prefix: "SAMPLE",
        data_dir: "data/sample",
        db_file: "sample.db",
        seed_demo_about: "Load sample rows.",
        check_about: "Check sample sums.",
        jobs: "sweep, housekeeping",
    };

    /// `open` hands the product's `connect` the embedded file in the data
    /// directory and the pool size, then runs its `migrate` on that store;
    /// a failing step is the command's error.
    #[tokio::test]
    async fn open_connects_to_the_embedded_store_and_migrates_it() {
        let dir = tempfile::tempdir().unwrap();
        let common = Common { database_url: None, data_dir: dir.path().join("data"), db_max_connections: 3, log_format: LogFormat::Pretty };
        let seen = std::sync::Mutex::new(None);
        let db = common
            .open(
                &P,
                async |url: &str, max: u32| {
                    *seen.lock().unwrap() = Some((url.to_string(), max));
                    Db::connect_as(url, max, "sample").await
                },
                async |db: &Db| {
                    platform_db::on_pool!(db, p => sqlx::query("CREATE TABLE sample (id INTEGER)").execute(p).await.map(|_| ()))
                },
            )
            .await
            .unwrap();
        let (url, max) = seen.lock().unwrap().clone().unwrap();
        assert_eq!(max, 3);
        assert!(url.ends_with("sample.db") && url.contains("data"), "{url}");
        assert!(dir.path().join("data/sample.db").exists());
        let n: i64 = platform_db::on_pool!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM sample").fetch_one(p).await).unwrap();
        assert_eq!(n, 0, "migrated");

        let connect = async |url: &str, max: u32| Db::connect_as(url, max, "sample").await;
        let failing = common.open(&P, connect, async |_: &Db| Err::<(), _>("no schema")).await;
        assert_eq!(failing.unwrap_err().to_string(), "no schema");
    }

    #[derive(Debug, Clone, Args)]
    struct Serve {
        #[arg(long, default_value = "127.0.0.1:8000")]
        bind: SocketAddr,
        #[arg(long)]
        https: bool,
    }

    #[derive(Debug, Clone, Args)]
    struct CreateAdmin {
        #[arg(long)]
        email: String,
    }

    #[derive(Debug, Clone, PartialEq)]
    struct JobName(&'static str);

    impl FromStr for JobName {
        type Err = String;
        fn from_str(s: &str) -> Result<Self, String> {
            ["sweep", "housekeeping"]
                .into_iter()
                .find(|n| *n == s)
                .map(JobName)
                .ok_or("unknown job; choose one of: sweep, housekeeping".into())
        }
    }

    #[derive(Debug, Subcommand)]
    enum More {
        /// Bring something back.
        Restore { name: String },
    }

    #[derive(Debug, Parser)]
    #[command(name = "sample")]
    struct Cli {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        serve: Serve,
        #[command(subcommand)]
        command: Option<Command<Serve, CreateAdmin, JobName, More>>,
    }

    fn parse(args: &[&str]) -> Result<Cli, String> {
        try_parse_from::<Cli, Serve>(&P, args)
    }

    #[test]
    fn every_subcommand_and_the_shared_flags() {
        let cli = parse(&["sample"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.common.data_dir, PathBuf::from("data/sample"), "the product's default");
        assert_eq!((cli.common.db_max_connections, cli.common.log_format), (20, LogFormat::Pretty));
        let cli = parse(&["sample", "migrate", "--database-url", "postgres://h/db"]).unwrap();
        assert_eq!(cli.common.database_url(&P).unwrap(), "postgres://h/db");

        let cli = parse(&["sample", "--bind", "127.0.0.1:9", "--https", "--log-format", "json"]).unwrap();
        assert_eq!((cli.serve.bind.port(), cli.serve.https, cli.common.log_format), (9, true, LogFormat::Json));
        let cli = parse(&["sample", "serve", "--bind", "127.0.0.1:7"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Serve(Serve { bind, .. })) if bind.port() == 7));
        assert!(matches!(parse(&["sample", "migrate"]).unwrap().command, Some(Command::Migrate)));
        assert!(matches!(parse(&["sample", "seed-demo"]).unwrap().command, Some(Command::SeedDemo)));
        assert!(
            matches!(parse(&["sample", "check", "--data-dir", "/tmp/x"]).unwrap(), Cli { command: Some(Command::Check), common: Common { ref data_dir, .. }, .. } if data_dir == &PathBuf::from("/tmp/x"))
        );
        let cli = parse(&["sample", "create-admin", "--email", "a@b.c"]).unwrap();
        assert!(matches!(cli.command, Some(Command::CreateAdmin(CreateAdmin { ref email })) if email == "a@b.c"));
        assert!(matches!(parse(&["sample", "job", "sweep"]).unwrap().command, Some(Command::Job { name: JobName("sweep") })));
        let e = parse(&["sample", "job", "nope"]).unwrap_err();
        assert!(e.contains("unknown job; choose one of: sweep, housekeeping"), "{e}");
        assert!(
            matches!(parse(&["sample", "restore", "m1"]).unwrap().command, Some(Command::More(More::Restore { ref name })) if name == "m1")
        );
    }

    #[test]
    fn serve_flags_with_another_subcommand_are_refused() {
        let e = parse(&["sample", "--bind", "127.0.0.1:1", "--https", "migrate"]).unwrap_err();
        assert!(e.contains("--bind, --https only apply to serving") && e.contains("`migrate`"), "{e}");
        assert!(parse(&["sample", "--log-format", "json", "migrate"]).is_ok(), "shared flags go anywhere");
    }

    #[test]
    fn variables_and_help_name_the_product() {
        let mut c = command::<Cli>(&P);
        let help = c.render_long_help().to_string();
        assert!(
            help.contains("SAMPLE_DATA_DIR") && help.contains("SAMPLE_LOG_FORMAT") && help.contains("SAMPLE_DB_MAX_CONNECTIONS"),
            "{help}"
        );
        let c = command::<Cli>(&P);
        let about = |name: &str| c.find_subcommand(name).and_then(|s| s.get_about()).map(|a| a.to_string());
        assert_eq!(about("seed-demo").as_deref(), Some("Load sample rows"));
        assert_eq!(about("check").as_deref(), Some("Check sample sums"));
        assert_eq!(about("job").as_deref(), Some("Run one scheduled job now (for external cron): sweep, housekeeping"));
        assert_eq!(about("create-admin").as_deref(), Some("Create an admin; the password comes from SAMPLE_ADMIN_PASSWORD or stdin"));
    }

    #[tokio::test]
    async fn seeding_modes() {
        let asked = |v: bool| async move { Ok::<_, ()>(v) };
        let never_asked = || async { Err::<bool, ()>(()) };
        assert_eq!(SeedMode::Always.should_seed(never_asked()).await, Ok(true), "not asked");
        assert_eq!(SeedMode::Never.should_seed(never_asked()).await, Ok(false), "not asked");
        assert_eq!(SeedMode::Auto.should_seed(never_asked()).await, Err(()), "asked");
        assert_eq!((SeedMode::Auto.should_seed(asked(true)).await, SeedMode::Auto.should_seed(asked(false)).await), (Ok(true), Ok(false)));
        assert_eq!(node_name(Some("a".into())), "a");
        assert!(node_name(None).starts_with("node-") && job_node().starts_with("cli-"));
    }
}
