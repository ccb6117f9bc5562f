//! Real-browser flow in headless Chromium (Debian's chromium + chromedriver).

use crate::support::*;
use platform_testkit::browser as chrome;
use std::time::Duration;
use thirtyfour::prelude::*;

pub(crate) use platform_testkit::browser::wait_for_path;
pub(crate) type Driver = chrome::Chromedriver;

/// Starts chromedriver, or returns None when Chromium is not installed and
/// the run does not require it (REQUIRE_BROWSER=1 in CI).
pub(crate) async fn start_driver() -> Option<(Driver, String)> {
    let driver = chrome::chromedriver("browser test").await?;
    let url = driver.url().to_string();
    Some((driver, url))
}

pub(crate) async fn serve(app: &TestApp) -> String {
    format!("http://{}", platform_testkit::serve(app.router.clone()).await)
}

pub(crate) async fn browser(driver_url: &str, profile: &std::path::Path) -> WebDriver {
    let args = ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=390,844"];
    chrome::chromium(driver_url, profile, &args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_refuse_minor_logout_and_login_in_chromium() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    let base = serve(&app).await;
    let profile = tempfile::tempdir().unwrap();
    let d = browser(&driver_url, profile.path()).await;
    let result = async {
        d.goto(format!("{base}/")).await?;
        d.find(By::LinkText("Get started free")).await?.click().await?;
        wait_for_path(&d, "/get-started").await;

        // Step 1: the name, with the live availability check.
        d.find(By::Id("username")).await?.send_keys("zawadi").await?;
        let status = d.find(By::Css("[data-availability-status]")).await?;
        status.wait_until().condition(Box::new(|e: WebElement| Box::pin(async move { Ok(e.text().await?.contains("available")) }))).await?;
        d.find(By::Css("fieldset[data-step='1'] [data-next]")).await?.click().await?;

        // Step 2: city from the suggestions, gender, preference, an under-18 age.
        let loc = d.find(By::Id("location")).await?;
        loc.wait_until().displayed().await?;
        loc.send_keys("Nairo").await?;
        // Moving on at once: the list, answered after the field was left,
        // does not pop up over the next fields.
        d.find(By::Id("age")).await?.click().await?;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let list = d.find(By::Css("[data-suggestions]")).await?;
        assert!(!list.is_displayed().await?, "no suggestions once the field is left");
        // Back in the field, they come; Escape closes them, typing brings them back.
        loc.click().await?;
        list.wait_until().displayed().await?;
        loc.send_keys(Key::Escape).await?;
        list.wait_until().not_displayed().await?;
        loc.send_keys("b").await?;
        list.wait_until().displayed().await?;
        assert_eq!(loc.attr("aria-expanded").await?.as_deref(), Some("true"));
        // The keyboard picks a city: down to the first, Enter takes it
        // without moving on to the next step.
        loc.send_keys(Key::Down).await?;
        assert_eq!(loc.attr("aria-activedescendant").await?.as_deref(), Some("location-suggestions-0"));
        let first = d.find(By::Id("location-suggestions-0")).await?;
        assert_eq!(first.attr("aria-selected").await?.as_deref(), Some("true"));
        loc.send_keys(Key::Enter).await?;
        assert_eq!(loc.value().await?.as_deref(), Some("Nairobi, Kenya"));
        assert!(!list.is_displayed().await?, "the list closes on a pick");
        assert_eq!(loc.attr("aria-expanded").await?.as_deref(), Some("false"));
        assert!(d.find(By::Css("[data-lat]")).await?.value().await?.is_some_and(|v| !v.is_empty()), "the picked city's position is kept");
        assert!(!d.find(By::Id("password")).await?.is_displayed().await?, "Enter on a suggestion stays on step 2");
        // People click the pill label (the radio itself is visually hidden).
        d.find(By::XPath("//label[input[@name='gender' and @value='female']]")).await?.click().await?;
        d.find(By::XPath("//label[input[@name='looking_for' and @value='male']]")).await?.click().await?;
        d.find(By::Id("age")).await?.send_keys("17").await?;
        d.find(By::Css("fieldset[data-step='2'] [data-next]")).await?.click().await?;

        // The age is refused on this step, before the password is asked for.
        let err = d.query(By::Css("fieldset[data-step='2'] [data-error='age']")).first().await?;
        err.wait_until().displayed().await?;
        assert!(err.text().await?.contains("at least 18"));
        assert!(!d.find(By::Id("password")).await?.is_displayed().await?, "still on step 2");

        // Fix the age and finish.
        let age = d.find(By::Id("age")).await?;
        age.clear().await?;
        age.send_keys("24").await?;
        d.find(By::Css("fieldset[data-step='2'] [data-next]")).await?.click().await?;
        let password = d.find(By::Id("password")).await?;
        password.wait_until().displayed().await?;
        password.send_keys(PASSWORD).await?;
        d.find(By::Id("password_confirm")).await?.send_keys(PASSWORD).await?;
        d.find(By::Id("accept_terms")).await?.click().await?;
        d.find(By::Id("create-account")).await?.click().await?;
        wait_for_path(&d, "/discover").await;

        // Log out, then log back in.
        d.find(By::Css("form[action='/logout'] button")).await?.click().await?;
        wait_for_path(&d, "/").await;
        d.goto(format!("{base}/login")).await?;
        d.find(By::Id("login")).await?.send_keys("zawadi").await?;
        d.find(By::Id("password")).await?.send_keys(PASSWORD).await?;
        d.find(By::Id("login-submit")).await?.click().await?;
        wait_for_path(&d, "/discover").await;
        d.goto(format!("{base}/me")).await?;
        let body = d.find(By::Tag("main")).await?.text().await?;
        assert!(body.contains("zawadi@fantooo.com"), "{body}");
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = d.quit().await;
    result.expect("browser flow");
    let log = fantooo_store::users::age_log(&app.db, 10).await.unwrap();
    assert!(log.iter().any(|e| !e.is_compliant && e.stated_age == 17), "refused attempt logged");
}

/// With script turned off the sign-up is one form: every step shows, the
/// step buttons do not, and submitting it creates the account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_script_the_sign_up_is_one_form_that_works() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    let base = serve(&app).await;
    let profile = tempfile::tempdir().unwrap();
    let args = ["--blink-settings=scriptEnabled=false", "--window-size=390,844"];
    let d = chrome::chromium(&driver_url, profile.path(), &args).await;
    let result = async {
        d.goto(format!("{base}/get-started")).await?;
        for id in ["username", "location", "age", "password"] {
            assert!(d.find(By::Id(id)).await?.is_displayed().await?, "{id} shows without script");
        }
        for next in d.find_all(By::Css("[data-next], [data-prev]")).await? {
            assert!(!next.is_displayed().await?, "no step buttons without script");
        }
        d.find(By::Id("username")).await?.send_keys("baraka").await?;
        d.find(By::Id("location")).await?.send_keys("Mombasa").await?;
        d.find(By::XPath("//label[input[@name='gender' and @value='male']]")).await?.click().await?;
        d.find(By::XPath("//label[input[@name='looking_for' and @value='female']]")).await?.click().await?;
        d.find(By::Id("age")).await?.send_keys("31").await?;
        d.find(By::Id("password")).await?.send_keys(PASSWORD).await?;
        d.find(By::Id("password_confirm")).await?.send_keys(PASSWORD).await?;
        d.find(By::Id("accept_terms")).await?.click().await?;
        shot(&d, "signup-without-script-phone").await;
        d.find(By::Id("create-account")).await?.click().await?;
        wait_for_path(&d, "/discover").await;
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = d.quit().await;
    result.expect("sign-up without script");
    assert!(fantooo_store::users::username_taken(&app.db, "baraka").await.unwrap());
}

/// Each sign-up step is checked by the server before the next one opens:
/// a taken username on step 1, an under-age on step 2, a weak password on
/// step 3 — at phone width and at 1280 px, with screenshots kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_steps_are_checked_before_moving_on_at_phone_and_desktop_width() {
    let Some((_driver, driver_url)) = start_driver().await else { return };
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    api_user(&app, "taken_name").await;
    let base = serve(&app).await;
    for (label, width, height) in [("phone", 390, 844), ("desktop", 1280, 900)] {
        let profile = tempfile::tempdir().unwrap();
        let d = browser(&driver_url, profile.path()).await;
        let result = async {
            d.set_window_rect(0, 0, width, height).await?;
            d.goto(format!("{base}/get-started")).await?;
            let next = |step: &'static str| {
                let d = d.clone();
                async move { d.find(By::Css(format!("fieldset[data-step='{step}'] [data-next]"))).await?.click().await }
            };
            let error_on = |step: &'static str, field: &'static str| {
                let d = d.clone();
                async move {
                    let e = d.query(By::Css(format!("fieldset[data-step='{step}'] [data-error='{field}']"))).first().await?;
                    e.wait_until().displayed().await?;
                    e.text().await
                }
            };

            // Step 1: a taken name stops here.
            d.find(By::Id("username")).await?.send_keys("Taken_Name").await?;
            next("1").await?;
            assert!(error_on("1", "username").await?.contains("taken"));
            shot(&d, &format!("signup-taken-{label}")).await;
            let name = d.find(By::Id("username")).await?;
            name.clear().await?;
            name.send_keys(format!("fresh_{label}")).await?;
            next("1").await?;

            // Step 2: under 18 stops here.
            let loc = d.find(By::Id("location")).await?;
            loc.wait_until().displayed().await?;
            loc.send_keys("Nairo").await?;
            let first = d.query(By::Css("[data-suggestions] li button")).first().await?;
            first.wait_until().displayed().await?;
            first.click().await?;
            d.find(By::XPath("//label[input[@name='gender' and @value='male']]")).await?.click().await?;
            d.find(By::XPath("//label[input[@name='looking_for' and @value='female']]")).await?.click().await?;
            d.find(By::Id("age")).await?.send_keys("16").await?;
            next("2").await?;
            assert!(error_on("2", "age").await?.contains("18"));
            shot(&d, &format!("signup-age-{label}")).await;
            let age = d.find(By::Id("age")).await?;
            age.clear().await?;
            age.send_keys("30").await?;
            next("2").await?;

            // Step 3: a weak password is named before anything is created.
            let password = d.find(By::Id("password")).await?;
            password.wait_until().displayed().await?;
            password.send_keys("password1").await?;
            d.find(By::Id("password_confirm")).await?.send_keys("password1").await?;
            d.find(By::Id("create-account")).await?.click().await?;
            assert!(!error_on("3", "password").await?.is_empty());
            assert!(error_on("3", "accept_terms").await?.contains("Terms of Service"));
            assert_eq!(d.current_url().await?.path(), "/get-started");
            shot(&d, &format!("signup-password-{label}")).await;
            password.clear().await?;
            password.send_keys(PASSWORD).await?;
            let confirm = d.find(By::Id("password_confirm")).await?;
            confirm.clear().await?;
            confirm.send_keys(PASSWORD).await?;
            d.find(By::Id("accept_terms")).await?.click().await?;
            d.find(By::Id("create-account")).await?.click().await?;
            wait_for_path(&d, "/discover").await;
            Ok::<_, WebDriverError>(())
        }
        .await;
        let _ = d.quit().await;
        result.unwrap_or_else(|e| panic!("{label}: {e}"));
    }
    let log = fantooo_store::users::age_log(&app.db, 10).await.unwrap();
    assert_eq!(log.iter().filter(|e| !e.is_compliant && e.stated_age == 16).count(), 2, "each refused age is logged once per attempt");
    assert!(fantooo_store::users::username_taken(&app.db, "fresh_phone").await.unwrap());
    assert!(fantooo_store::users::username_taken(&app.db, "fresh_desktop").await.unwrap());
}

/// Saves a screenshot under `target/screenshots/` for people to look at.
pub(crate) async fn shot(d: &WebDriver, name: &str) {
    chrome::screenshot(d, &chrome::screenshots_dir(env!("CARGO_MANIFEST_DIR")), name).await
}
