//! Headless Chromium for browser tests, through Debian's `chromium` and
//! `chromedriver`. Without them a test is skipped with a message, unless
//! the run requires a browser (`REQUIRE_BROWSER=1`, as the suite sets),
//! where their absence fails it.
//!
//! ```ignore
//! let Some(driver) = browser::chromedriver("the sign-up browser test").await else { return };
//! let profile = tempfile::tempdir().unwrap();
//! let d = browser::chromium(driver.url(), profile.path(), &["--window-size=390,844"]).await;
//! ```

use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use thirtyfour::prelude::*;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The flags every headless session starts with; a test adds its own
/// (window size, fake media devices, …).
pub const HEADLESS: &[&str] = &["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"];

/// A running chromedriver, stopped when dropped.
pub struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    /// Its WebDriver URL (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether Chromium and chromedriver are installed; when they are not and
/// `REQUIRE_BROWSER=1`, panics; otherwise says that `what` is skipped.
pub fn installed(what: &str) -> bool {
    if [CHROMIUM, CHROMEDRIVER].iter().all(|p| Path::new(p).exists()) {
        return true;
    }
    assert!(std::env::var("REQUIRE_BROWSER").as_deref() != Ok("1"), "REQUIRE_BROWSER=1 but chromium/chromedriver are missing");
    eprintln!("skipping {what}: chromium is not installed");
    false
}

/// Starts chromedriver on a free port and waits (up to 10 s) until it
/// listens; `None` when the browser is not installed (see [`installed`]).
pub async fn chromedriver(what: &str) -> Option<Chromedriver> {
    if !installed(what) {
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port();
    let child =
        Command::new(CHROMEDRIVER).arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("chromedriver");
    let driver = Chromedriver { child, url: format!("http://127.0.0.1:{port}") };
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some(driver)
}

/// A headless Chromium session on `driver_url` with its own profile
/// directory, started with [`HEADLESS`] and then `args`.
pub async fn chromium(driver_url: &str, profile: &Path, args: &[&str]) -> WebDriver {
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(CHROMIUM).expect("the chromium binary");
    for arg in HEADLESS.iter().chain(args) {
        caps.add_arg(arg).expect("a chromium flag");
    }
    caps.add_arg(&format!("--user-data-dir={}", profile.display())).expect("the profile flag");
    // The webdriver client's reqwest may be built without a default TLS
    // provider (a crate elsewhere in the build asks for that); ring is the
    // tree's provider. One installed earlier stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
    WebDriver::new(driver_url, caps).await.expect("webdriver session")
}

/// Runs `script` in the page and returns its value; panics (naming the
/// script) when it throws.
pub async fn js(d: &WebDriver, script: &str) -> Value {
    d.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}")).json().clone()
}

/// Waits, up to 10 s, until `script` returns `true`; panics with `what`
/// and the page it was on (address and the start of its text) otherwise.
pub async fn until(d: &WebDriver, script: &str, what: &str) {
    until_else(d, script, what, "return location.href + ' ' + document.body.innerText.slice(0, 300);").await
}

/// [`until`], where a failure reports what `seen` (a script) returns
/// instead of the page's address and text.
pub async fn until_else(d: &WebDriver, script: &str, what: &str, seen: &str) {
    for _ in 0..100 {
        if js(d, script).await.as_bool() == Some(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let at = js(d, seen).await;
    panic!("never: {what} (at {at})");
}

/// Waits, up to 10 s, until the page's path is `path`; returns the URL.
pub async fn wait_for_path(d: &WebDriver, path: &str) -> String {
    for _ in 0..100 {
        let url = d.current_url().await.expect("the current URL");
        if url.path() == path {
            return url.to_string();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never reached {path}; at {}", d.current_url().await.expect("the current URL"));
}

/// Saves a screenshot as `<dir>/<name>.png` for people to look at (a
/// failure to save is reported, not fatal).
pub async fn screenshot(d: &WebDriver, dir: &Path, name: &str) {
    let _ = std::fs::create_dir_all(dir);
    if let Err(e) = d.screenshot(&dir.join(format!("{name}.png"))).await {
        eprintln!("screenshot {name}: {e}");
    }
}

/// The tree's `target/screenshots`, from a crate's manifest directory
/// (`env!("CARGO_MANIFEST_DIR")`), where the screenshots of every product's
/// browser tests are kept.
pub fn screenshots_dir(manifest_dir: &str) -> std::path::PathBuf {
    workspace_root(manifest_dir).join("target/screenshots")
}

/// The tree's root (where `Cargo.lock` is) above a crate's manifest
/// directory; the manifest directory itself outside a workspace.
fn workspace_root(manifest_dir: &str) -> &Path {
    let mut dir = Path::new(manifest_dir);
    while !dir.join("Cargo.lock").exists() {
        match dir.parent() {
            Some(up) => dir = up,
            None => return Path::new(manifest_dir),
        }
    }
    dir
}

/// axe-core, the accessibility engine Lighthouse runs, from the copy that
/// `scripts/install-deps` installs with Lighthouse under `tools/lighthouse`.
/// `None` when it is not installed, unless `REQUIRE_BROWSER=1`, where its
/// absence fails the test.
pub fn axe_source(manifest_dir: &str) -> Option<String> {
    let file = workspace_root(manifest_dir).join("tools/lighthouse/node_modules/axe-core/axe.min.js");
    match std::fs::read_to_string(&file) {
        Ok(src) => Some(src),
        Err(e) => {
            assert!(std::env::var("REQUIRE_BROWSER").as_deref() != Ok("1"), "REQUIRE_BROWSER=1 but {} is missing: {e}", file.display());
            eprintln!("skipping the accessibility check: {} is missing (scripts/install-deps)", file.display());
            None
        }
    }
}

/// Runs axe-core (`source`, from [`axe_source`]) on the page with the
/// WCAG 2 A and AA rules and returns its violations, one line each: the
/// rule, what it says, and the elements it found.
pub async fn axe_violations(d: &WebDriver, source: &str) -> Vec<String> {
    let run = "return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } }).then(function (r) {
        return r.violations.map(function (v) {
          return v.id + ': ' + v.help + ' at ' + v.nodes.map(function (n) {
            return n.target.join(' ') + (n.failureSummary ? ' (' + n.failureSummary.replace(/\\s+/g, ' ') + ')' : '');
          }).join('; ');
        });
      });";
    d.execute(source, vec![]).await.expect("axe-core loads");
    let out = d.execute(run, vec![]).await.expect("axe-core runs").json().clone();
    serde_json::from_value(out).expect("axe-core's violations")
}

/// Runs [`axe_violations`] on every page of `pages` (paths under `base`)
/// in the light and the dark scheme, at phone (390 px) and desktop
/// (1280 px) width, with reduced motion so colours are read at rest rather
/// than mid-fade; returns each violation prefixed with its page, scheme
/// and width. Leaves the session in the light scheme at desktop width.
pub async fn axe_sweep(d: &WebDriver, base: &str, pages: &[String], axe: &str) -> WebDriverResult<Vec<String>> {
    let dev = thirtyfour::extensions::cdp::ChromeDevTools::new(d.handle.clone());
    let mut found = vec![];
    for (scheme, width, height) in [("light", 390, 844), ("dark", 390, 844), ("light", 1280, 900), ("dark", 1280, 900)] {
        let features = serde_json::json!([{ "name": "prefers-color-scheme", "value": scheme }, { "name": "prefers-reduced-motion", "value": "reduce" }]);
        dev.execute_cdp_with_params("Emulation.setEmulatedMedia", serde_json::json!({ "features": features })).await?;
        d.set_window_rect(0, 0, width, height).await?;
        for path in pages {
            d.goto(format!("{base}{path}")).await?;
            for v in axe_violations(d, axe).await {
                found.push(format!("{path} ({scheme}, {width} px): {v}"));
            }
        }
    }
    dev.execute_cdp_with_params("Emulation.setEmulatedMedia", serde_json::json!({ "features": [] })).await?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screenshots_go_to_the_workspace_target() {
        let here = env!("CARGO_MANIFEST_DIR");
        let dir = screenshots_dir(here);
        assert!(dir.ends_with("target/screenshots"));
        assert!(dir.parent().unwrap().parent().unwrap().join("Cargo.lock").exists(), "{}", dir.display());
        assert_ne!(dir, Path::new(here).join("target/screenshots"), "climbs to the workspace root");
    }

    /// A real session: a page's script runs, `until` and `wait_for_path`
    /// see it (skipped without Chromium unless REQUIRE_BROWSER=1).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn drives_a_headless_page() {
        let Some(driver) = chromedriver("the testkit browser test").await else { return };
        let router = axum::Router::new()
            .route("/", axum::routing::get(|| async { axum::response::Html("<script>setTimeout(() => location = '/next', 50)</script>") }))
            .route("/next", axum::routing::get(|| async { axum::response::Html("<p id=x>there</p>") }));
        let base = format!("http://{}", crate::serve(router).await);
        let profile = tempfile::tempdir().unwrap();
        let d = chromium(driver.url(), profile.path(), &["--window-size=1000,700"]).await;
        d.goto(format!("{base}/")).await.unwrap();
        let url = wait_for_path(&d, "/next").await;
        assert_eq!(url, format!("{base}/next"));
        until(&d, "return document.getElementById('x') !== null;", "the next page").await;
        assert_eq!(js(&d, "return document.getElementById('x').textContent;").await, Value::from("there"));
        // The test's own flags are passed on (the default window is 800 wide).
        assert_eq!(js(&d, "return window.outerWidth;").await, Value::from(1000), "the window size flag applies");
        let _ = d.quit().await;
    }

    /// axe-core finds grey text on white that is too faint, and passes the
    /// same text dark enough.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn axe_names_low_contrast_and_passes_enough() {
        let Some(driver) = chromedriver("the testkit accessibility test").await else { return };
        let Some(axe) = axe_source(env!("CARGO_MANIFEST_DIR")) else { return };
        let page = |colour: &'static str| {
            move || async move {
                axum::response::Html(format!(
                    "<!doctype html><html lang=en><head><title>t</title></head><body><main><p id=p style='color:{colour}'>Some words</p></main></body></html>"
                ))
            }
        };
        let router =
            axum::Router::new().route("/faint", axum::routing::get(page("#aaaaaa"))).route("/dark", axum::routing::get(page("#595959")));
        let base = format!("http://{}", crate::serve(router).await);
        let profile = tempfile::tempdir().unwrap();
        let d = chromium(driver.url(), profile.path(), &[]).await;
        d.goto(format!("{base}/faint")).await.unwrap();
        let found = axe_violations(&d, &axe).await;
        assert!(found.len() == 1 && found[0].starts_with("color-contrast: ") && found[0].contains("#p"), "{found:?}");
        d.goto(format!("{base}/dark")).await.unwrap();
        assert_eq!(axe_violations(&d, &axe).await, Vec::<String>::new());
        let _ = d.quit().await;
    }
}
