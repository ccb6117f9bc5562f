//! The store under test and the `gigstream` processes run against it:
//! `migrate` before seeding, `serve` for the load, `check` afterwards.

use crate::Fail;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// A PostgreSQL database given by URL, or an embedded SQLite file in a
/// temporary directory.
pub struct Store {
    /// How the bench itself connects (for seeding).
    pub url: String,
    /// The flags that point `gigstream` at it.
    flags: Vec<String>,
    dir: Option<tempfile::TempDir>,
}

impl Store {
    pub fn new(database_url: Option<&str>) -> Result<Store, Fail> {
        Ok(match database_url {
            Some(url) => Store { url: url.to_string(), flags: vec!["--database-url".into(), url.to_string()], dir: None },
            None => {
                let dir = tempfile::tempdir()?;
                let url = format!("sqlite://{}", dir.path().join("gigstream.db").display());
                Store { url, flags: vec!["--data-dir".into(), dir.path().display().to_string()], dir: Some(dir) }
            }
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.dir.is_some()
    }

    pub fn label(&self) -> &'static str {
        if self.is_sqlite() {
            "sqlite"
        } else {
            "postgres"
        }
    }
}

/// The `gigstream` binary: given, or next to this one.
pub fn binary(given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(|| std::env::current_exe().expect("own path").with_file_name("gigstream"))
}

fn command(bin: &Path, store: &Store, sub: &str, env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.arg(sub).args(&store.flags).env("RUST_LOG", "warn").env("GIGSTREAM_SEED_DEMO", "never").kill_on_drop(true);
    cmd.env_remove("DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// `gigstream migrate`.
pub async fn migrate(bin: &Path, store: &Store) -> Result<(), Fail> {
    run(bin, store, "migrate", &[]).await
}

/// `gigstream job <name>`: one run of a scheduled job, as an operator starts it.
pub async fn job(bin: &Path, store: &Store, name: &str) -> Result<(), Fail> {
    run(bin, store, "job", &[name]).await
}

async fn run(bin: &Path, store: &Store, sub: &str, args: &[&str]) -> Result<(), Fail> {
    let out = command(bin, store, sub, &[]).args(args).output().await.map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!("gigstream {sub} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

/// `gigstream check`: whether it found the books clean, and what it said.
pub async fn check(bin: &Path, store: &Store, env: &[(&str, String)]) -> Result<(bool, String), Fail> {
    let out = command(bin, store, "check", env).output().await?;
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Ok((out.status.success(), said.trim().to_string()))
}

/// A free loopback port (for a server that must be named before it starts).
pub fn free_port() -> Result<u16, Fail> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A running `gigstream serve`, stopped when dropped.
pub struct Server {
    pub base: String,
    child: Child,
}

impl Server {
    /// The CPU seconds (user and system) the server process has used so
    /// far, from `/proc`; `None` where there is no such file.
    pub fn cpu_seconds(&self) -> Option<f64> {
        platform_procstat::cpu_seconds(self.child.id()?)
    }
}

/// Starts `gigstream serve` on `port` with the rate limits opened up (the
/// bench is one address and a few accounts) and waits until it is healthy.
pub async fn serve(bin: &Path, store: &Store, port: u16, env: &[(&str, String)]) -> Result<Server, Fail> {
    let mut cmd = command(bin, store, "serve", env);
    cmd.args(["--bind", &format!("127.0.0.1:{port}")])
        .env("GIGSTREAM_AUTH_RATE_PER_MINUTE", "1000000")
        .env("GIGSTREAM_API_RATE_PER_MINUTE", "100000000")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..600 {
        if http.get(format!("{base}/api/health")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok(Server { base, child });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{base} did not become healthy").into())
}
