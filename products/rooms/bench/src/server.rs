//! The `rooms serve` process a benchmark runs against, and the HTTP calls
//! every benchmark makes (sign-up, JSON posts, a staff account).

use crate::Fail;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const PASSWORD: &str = "Bench!pass1";

/// Which server: one started here (on PostgreSQL or an embedded SQLite
/// file), or one already running.
#[derive(clap::Args, Debug, Clone)]
pub struct ServerArgs {
    /// PostgreSQL for the started server (default: an embedded SQLite file in a temporary directory).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// The `rooms` binary (default: next to this one).
    #[arg(long)]
    pub rooms_bin: Option<PathBuf>,
    /// An already running server instead of starting one.
    #[arg(long)]
    pub target: Option<String>,
}

impl ServerArgs {
    fn bin(&self) -> PathBuf {
        self.rooms_bin.clone().unwrap_or_else(|| std::env::current_exe().expect("exe").with_file_name("rooms"))
    }

    /// `rooms <args>` on the same database as the started server.
    pub fn rooms(&self, dir: &Path) -> Command {
        let mut cmd = Command::new(self.bin());
        cmd.arg("--data-dir").arg(dir).env("RUST_LOG", "warn").env_remove("JANUS_URL");
        match &self.database_url {
            Some(url) => cmd.env("DATABASE_URL", url),
            None => cmd.env_remove("DATABASE_URL"),
        };
        cmd
    }
}

pub struct Server(Option<Child>);

impl Server {
    /// The started server's process id (none for `--target`).
    pub fn pid(&self) -> Option<u32> {
        self.0.as_ref().map(Child::id)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn now_micros() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

#[derive(Clone)]
pub struct Person {
    pub id: String,
    pub token: String,
}

pub async fn post(http: &reqwest::Client, url: &str, token: Option<&str>, body: Value) -> Result<(u16, Value), Fail> {
    let mut r = http.post(url).json(&body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let resp = r.send().await?;
    let status = resp.status().as_u16();
    let v = resp.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, v))
}

/// [`post`] for a sender's loop: the answer is read whole, but parsed only
/// when it is not a success (`Value::Null` otherwise).
pub async fn post_unread(http: &reqwest::Client, url: &str, token: &str, body: &Value) -> Result<(u16, Value), Fail> {
    let resp = http.post(url).json(body).bearer_auth(token).send().await?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await?;
    let v = if (200..300).contains(&status) { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
    Ok((status, v))
}

pub async fn get(http: &reqwest::Client, url: &str, token: Option<&str>) -> Result<(u16, Value), Fail> {
    let mut r = http.get(url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let resp = r.send().await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json::<Value>().await.unwrap_or(Value::Null)))
}

pub async fn sign_up(http: &reqwest::Client, base: &str, run: &str, i: usize) -> Result<Person, Fail> {
    let handle = format!("b{run}{i}");
    let body = json!({"login": format!("{handle}@bench.test"), "password": PASSWORD, "full_name": format!("Bench {i}"),
                      "handle": handle, "birth_date": "1990-04-01", "country": "KE"});
    let (status, v) = post(http, &format!("{base}/api/v1/auth/signup"), None, body).await?;
    if status != 201 {
        return Err(format!("sign-up {i}: {status} {v}").into());
    }
    Ok(Person {
        id: v["account"]["id"].as_str().unwrap_or_default().to_string(),
        token: v["tokens"]["access_token"].as_str().unwrap_or_default().to_string(),
    })
}

/// Signs up `n` people, `parallel` at a time.
pub async fn sign_up_many(http: &reqwest::Client, base: &str, run: &str, n: usize, parallel: usize) -> Result<Vec<Person>, Fail> {
    let mut people = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let batch: Vec<_> = (i..(i + parallel).min(n)).map(|k| sign_up(http, base, run, k)).collect();
        for p in futures_util::future::join_all(batch).await {
            people.push(p?);
        }
        i += parallel;
    }
    Ok(people)
}

pub async fn start_server(args: &ServerArgs, dir: &Path) -> Result<(Server, String), Fail> {
    if let Some(t) = &args.target {
        return Ok((Server(None), t.trim_end_matches('/').to_string()));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut cmd = args.rooms(dir);
    cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("ROOMS_SEED_DEMO", "never")
        .env("ROOMS_AUTH_RATE_PER_MINUTE", "1000000")
        .env("ROOMS_API_RATE_PER_MINUTE", "100000000")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", args.bin().display()))?;
    let server = Server(Some(child));
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..600 {
        if http.get(format!("{base}/api/health")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok((server, base));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{base} did not become healthy").into())
}

/// A staff account made with `rooms create-admin`, signed in through the API.
pub async fn staff(args: &ServerArgs, dir: &Path, http: &reqwest::Client, base: &str, run: &str) -> Result<Person, Fail> {
    let email = format!("staff{run}@bench.test");
    let out = args
        .rooms(dir)
        .args(["create-admin", "--name", "Bench Staff", "--email", &email, "--handle", &format!("staff{run}")])
        .env("ROOMS_ADMIN_PASSWORD", PASSWORD)
        .output()?;
    if !out.status.success() {
        return Err(format!("create-admin: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let (status, v) = post(http, &format!("{base}/api/v1/auth/signin"), None, json!({"login": email, "password": PASSWORD})).await?;
    if status != 200 {
        return Err(format!("staff sign-in: {status} {v}").into());
    }
    let token = v["tokens"]["access_token"].as_str().unwrap_or_default().to_string();
    let (_, me) = get(http, &format!("{base}/api/v1/me"), Some(&token)).await?;
    Ok(Person { id: me["account"]["id"].as_str().unwrap_or_default().to_string(), token })
}

/// `rooms check` on the server's database: the problems it lists (empty: clean).
pub fn check(args: &ServerArgs, dir: &Path) -> Result<Value, Fail> {
    // Its answer is the JSON on stdout (the log writes to stderr).
    let out = args.rooms(dir).arg("check").output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).map_err(|e| format!("rooms check said {text} ({e}); {}", String::from_utf8_lossy(&out.stderr)).into())
}
