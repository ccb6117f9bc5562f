//! The account flows shared by the HTML pages and the JSON API, so both
//! paths validate, log and write exactly the same way.

use crate::auth::hash_password;
use crate::error::{AppError, AppResult};
use crate::AppState;
use fantooo_domain::ids::{AccountId, AdminId};
use fantooo_domain::{validation as v, AccountKind, AdminRole, FieldErrors, Gender, LookingFor, Permissions};
use fantooo_store::accounts::{self, NewSession, Via, SESSIONS};
use fantooo_store::{admins, audit, operators, users, StoreError};
use platform_accounts::SessionSpec;
use platform_geo::Resolution;
use serde::Deserialize;
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SignupInput {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub location: String,
    #[serde(default, deserialize_with = "opt_f64")]
    pub latitude: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub longitude: Option<f64>,
    #[serde(default)]
    pub gender: String,
    #[serde(default)]
    pub looking_for: String,
    #[serde(default, deserialize_with = "opt_i64")]
    pub age: Option<i64>,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_confirm: Option<String>,
    /// The Terms of Service and Privacy Policy were accepted (`true`, or a
    /// checked box's "on"/"yes").
    #[serde(default, deserialize_with = "flag")]
    pub accept_terms: bool,
}

/// A yes/no from JSON (`true`) or a form (`on`, `yes`, `true`, `1`).
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum F {
        B(bool),
        S(String),
    }
    Ok(match Option::<F>::deserialize(d)? {
        None => false,
        Some(F::B(b)) => b,
        Some(F::S(s)) => matches!(s.trim().to_ascii_lowercase().as_str(), "on" | "yes" | "true" | "1"),
    })
}

/// Accepts numbers or numeric strings (HTML forms send strings; empty = none).
fn opt_f64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        F(f64),
        S(String),
    }
    Ok(match Option::<N>::deserialize(d)? {
        None => None,
        Some(N::F(f)) => Some(f),
        Some(N::S(s)) if s.trim().is_empty() => None,
        Some(N::S(s)) => Some(s.trim().parse().map_err(|_| serde::de::Error::custom("not a number"))?),
    })
}

fn opt_i64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        I(i64),
        S(String),
    }
    Ok(match Option::<N>::deserialize(d)? {
        None => None,
        Some(N::I(i)) => Some(i),
        Some(N::S(s)) if s.trim().is_empty() => None,
        // A non-number becomes an impossible age so validation names the field.
        Some(N::S(s)) => Some(s.trim().parse().unwrap_or(i64::MIN)),
    })
}

/// The three steps of the sign-up form. Each is checked on its own as the
/// user moves on (`check_signup_step`), and all together on submit, by the
/// same code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u8")]
pub enum SignupStep {
    /// Username.
    Name = 1,
    /// City, gender, who they look for, age.
    About = 2,
    /// Password and its confirmation.
    Password = 3,
}

impl TryFrom<u8> for SignupStep {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        match n {
            1 => Ok(SignupStep::Name),
            2 => Ok(SignupStep::About),
            3 => Ok(SignupStep::Password),
            _ => Err(format!("step must be 1, 2 or 3, not {n}")),
        }
    }
}

/// What the checked steps produced; a part is `None` when its step was not
/// checked or its field was refused.
#[derive(Default)]
struct CheckedSignup {
    username: Option<String>,
    display_name: Option<String>,
    gender: Option<Gender>,
    looking_for: Option<LookingFor>,
    age: Option<i64>,
    place: Option<platform_geo::Place>,
    coords: Option<(f64, f64)>,
}

/// Runs the checks of the given steps, collecting every field error.
/// Refused ages and unresolvable places are logged whichever way they
/// arrive.
async fn check_signup(state: &AppState, input: &SignupInput, ip: &str, steps: &[SignupStep]) -> AppResult<(CheckedSignup, FieldErrors)> {
    let mut errs = FieldErrors::new();
    let mut out = CheckedSignup::default();
    if steps.contains(&SignupStep::Name) {
        out.username = errs.check(v::username(&input.username));
        out.display_name = match input.display_name.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(n) => errs.check(v::display_name("display_name", n)),
            None => out.username.clone(),
        };
        if let Some(u) = &out.username {
            if users::username_taken(&state.db, u).await? {
                errs.add("username", "That username is taken");
            }
        }
    }
    if steps.contains(&SignupStep::About) {
        out.gender = input.gender.parse::<Gender>().map_err(|_| errs.add("gender", "Choose your gender")).ok();
        out.looking_for =
            input.looking_for.parse::<LookingFor>().map_err(|_| errs.add("looking_for", "Choose who you are looking for")).ok();
        out.age = check_age(state, input, ip, &mut errs).await?;
        let (coords, place) = check_place(state, input, &mut errs).await?;
        out.coords = coords;
        out.place = place;
    }
    if steps.contains(&SignupStep::Password) {
        if let Err(e) = v::password(&input.password) {
            errs.add(e.field, e.message);
        }
        if let Some(c) = &input.password_confirm {
            if c != &input.password {
                errs.add("password_confirm", "Passwords do not match");
            }
        }
        if !input.accept_terms {
            errs.add("accept_terms", "Accept the Terms of Service and Privacy Policy to continue");
        }
    }
    Ok((out, errs))
}

async fn check_age(state: &AppState, input: &SignupInput, ip: &str, errs: &mut FieldErrors) -> AppResult<Option<i64>> {
    let a = match input.age {
        None => {
            errs.add("age", "Enter your age");
            return Ok(None);
        }
        Some(i64::MIN) => {
            errs.add("age", "Enter your age as a number");
            return Ok(None);
        }
        Some(a) => a,
    };
    let checked = i32::try_from(a).map_err(|_| ()).and_then(|a| {
        v::age(a).map_err(|e| {
            errs.add(e.field, e.message);
        })
    });
    if checked.is_ok() {
        return Ok(Some(a));
    }
    if errs.for_field("age").is_none() {
        errs.add("age", "Please enter an age between 18 and 100");
    }
    // Legal compliance: every refused age attempt is recorded.
    users::log_refused_age(&state.db, input.username.trim(), a.clamp(-1, 1000), Some(ip)).await?;
    Ok(None)
}

async fn check_place(
    state: &AppState,
    input: &SignupInput,
    errs: &mut FieldErrors,
) -> AppResult<(Option<(f64, f64)>, Option<platform_geo::Place>)> {
    let coords = errs.check(v::coordinates(input.latitude, input.longitude)).flatten();
    let location_text = input.location.trim();
    if location_text.is_empty() {
        errs.add("location", "Enter your city");
        return Ok((coords, None));
    }
    if location_text.chars().count() > 100 {
        errs.add("location", "Location must be at most 100 characters");
        return Ok((coords, None));
    }
    let service = state.geocoder.service_name();
    let place = match state.geocoder.resolve(location_text, coords).await {
        Ok(Resolution::Found(p)) => Some(p),
        Ok(Resolution::NotFound) => {
            let offered = location_suggestions(state, location_text).await;
            let names: Vec<String> = offered.iter().map(|p| p.display()).collect();
            errs.add("location", fantooo_domain::location::not_found_message(location_text, &names));
            let first = offered.first().map(correction);
            users::log_invalid_location(&state.db, location_text, input.latitude, input.longitude, "not found", service, first.as_ref())
                .await?;
            None
        }
        Ok(Resolution::Mismatch { place: p, distance_km }) => {
            errs.add("location", fantooo_domain::location::mismatch_message(&p.display(), distance_km));
            let error = format!("coordinates mismatch: {distance_km:.0} km");
            users::log_invalid_location(&state.db, location_text, input.latitude, input.longitude, &error, service, Some(&correction(&p)))
                .await?;
            None
        }
        Err(e) => {
            // An outage of the geocoder: logged where staff look, and
            // counted, besides the user being asked to try again.
            tracing::error!(error = %e, service, "geocoder failed; location not checked");
            metrics::counter!("fantooo_geocoding_failures_total", "service" => service).increment(1);
            let error = format!("geocoder unavailable: {e}");
            users::log_invalid_location(&state.db, location_text, input.latitude, input.longitude, &error, service, None).await?;
            errs.add("location", "Location check is unavailable right now; try again shortly");
            None
        }
    };
    Ok((coords, place))
}

fn correction(p: &platform_geo::Place) -> users::Correction {
    users::Correction { location: p.display(), latitude: p.latitude, longitude: p.longitude }
}

/// Places to offer instead of `typed`: the place it names when it names
/// one (a mismatch with the device position), else the best matches of
/// ever shorter forms of it (a typo). Empty when the geocoder fails.
pub async fn location_suggestions(state: &AppState, typed: &str) -> Vec<platform_geo::Place> {
    use fantooo_domain::location::{correction_queries, MAX_SUGGESTIONS};
    match state.geocoder.resolve(typed, None).await {
        Ok(Resolution::Found(p)) => return vec![p],
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "geocoder failed while looking for corrections");
            return vec![];
        }
    }
    let mut offered: Vec<platform_geo::Place> = Vec::new();
    for query in correction_queries(typed) {
        match state.geocoder.suggest(&query, MAX_SUGGESTIONS).await {
            Ok(places) => {
                for p in places {
                    if offered.len() < MAX_SUGGESTIONS && !offered.iter().any(|o| o.display() == p.display()) {
                        offered.push(p);
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "geocoder failed while looking for corrections");
                break;
            }
        }
        if !offered.is_empty() {
            break;
        }
    }
    offered
}

/// Checks one step of the sign-up form before the user moves on; the same
/// rules as the final submit, limited to that step's fields.
pub async fn check_signup_step(state: &AppState, input: &SignupInput, ip: &str, step: SignupStep) -> AppResult<()> {
    let (_, errs) = check_signup(state, input, ip, &[step]).await?;
    errs.into_result()?;
    Ok(())
}

/// Validates and registers a real user; refused ages are logged. `review`
/// flags the account for review (a sign-up matching a ban).
pub async fn register(state: &AppState, input: &SignupInput, ip: &str, review: Option<users::ReviewFlag>) -> AppResult<users::User> {
    let (checked, errs) = check_signup(state, input, ip, &[SignupStep::Name, SignupStep::About, SignupStep::Password]).await?;
    errs.clone().into_result()?;
    let CheckedSignup { username, display_name, gender, looking_for, age, place, coords } = checked;
    let (username, display_name, gender, looking_for, age, place) = match (username, display_name, gender, looking_for, age, place) {
        (Some(a), Some(b), Some(c), Some(d), Some(e), Some(f)) => (a, b, c, d, e, f),
        _ => return Err(AppError::Validation(errs)),
    };
    let location_text = input.location.trim();
    state.limits.check_auth_account(&username)?;
    let canonical = place.display();
    let domain = crate::routes::admin::email_domain(state).await?;
    let new = users::NewUser {
        email: format!("{username}@{domain}"),
        username,
        display_name,
        age,
        gender,
        looking_for,
        location: canonical.clone(),
        latitude: coords.map(|c| c.0).or(Some(place.latitude)),
        longitude: coords.map(|c| c.1).or(Some(place.longitude)),
        corrected_location: (canonical != location_text).then_some(canonical),
        geocoding_service: state.geocoder.service_name().to_string(),
        ip: Some(ip.to_string()),
        accepted_terms: true,
        review,
    };
    let hash = hash_password(input.password.clone(), state.config.fast_password_hashing).await?;
    users::create(&state.db, &new, &hash).await.map_err(|e| match e {
        StoreError::Conflict(_) => AppError::field("username", "That username is taken"),
        other => other.into(),
    })
}

/// Checks credentials for one kind of account and opens a session.
pub async fn login(
    state: &AppState,
    kind: AccountKind,
    login: &str,
    password: &str,
    via: Via,
    ip: &str,
    user_agent: Option<&str>,
) -> AppResult<NewSession> {
    let login = login.trim().to_lowercase();
    if login.is_empty() || password.is_empty() {
        return Err(AppError::field("login", "Enter your login and password"));
    }
    state.limits.check_auth_account(&login)?;
    let record = accounts::find_login(&state.db, kind, &login).await?;
    let ok = platform_accounts::password::verify(password.to_string(), record.as_ref().map(|r| r.password_hash.clone())).await;
    let record = match record {
        Some(r) if ok && r.is_active => r,
        // One message for every failure so logins cannot be probed.
        _ => {
            metrics::counter!("fantooo_login_failures_total", "kind" => kind.as_str()).increment(1);
            return Err(AppError::LoginFailed);
        }
    };
    let now = chrono::Utc::now();
    match kind {
        AccountKind::User => {
            let user = users::by_account(&state.db, record.id).await?;
            if user.banned_at(now) {
                return Err(AppError::BadRequest("This account is suspended".into()));
            }
        }
        AccountKind::Operator => {
            let op = operators::by_account(&state.db, record.id).await?;
            operators::record_login(&state.db, op.id, now).await?;
        }
        AccountKind::Admin => {
            let admin = admins::by_account(&state.db, record.id).await?;
            if !admin.is_active {
                return Err(AppError::LoginFailed);
            }
            admins::record_login(&state.db, admin.id, now).await?;
        }
    }
    accounts::record_login(&state.db, record.id, now).await?;
    open_session(state, record.id, kind, via, ip, user_agent).await
}

/// Opens a session for an account that has just proved who it is (by
/// signing in or by registering).
pub async fn open_session(
    state: &AppState,
    account: AccountId,
    kind: AccountKind,
    via: Via,
    ip: &str,
    user_agent: Option<&str>,
) -> AppResult<NewSession> {
    let ttl = chrono::Duration::from_std(state.config.session_ttl).unwrap_or(chrono::Duration::days(30));
    let spec = SessionSpec { account, kind, via, ttl, ip: Some(ip), user_agent };
    Ok(SESSIONS.create(&state.db, spec, chrono::Utc::now()).await?)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StaffInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub setup_token: Option<String>,
    #[serde(default)]
    pub specializations: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub max_concurrent_chats: Option<i64>,
}

/// Checks name, email and password, recording problems in `errs`; returns
/// the normalised name and email when both are valid.
fn validate_staff(input: &StaffInput, errs: &mut FieldErrors) -> Option<(String, String)> {
    let name = errs.check(v::display_name("name", &input.name));
    let email = errs.check(v::email(&input.email));
    errs.check(v::password(&input.password));
    name.zip(email)
}

/// Creates the first super admin; refused once any admin exists.
pub async fn setup_first_admin(state: &AppState, input: &StaffInput) -> AppResult<admins::Admin> {
    if admins::any_exist(&state.db).await? {
        return Err(AppError::NotFound);
    }
    let expected = state.config.admin_setup_token.as_deref().unwrap_or("");
    let given = input.setup_token.as_deref().unwrap_or("");
    if expected.is_empty() || !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(AppError::field("token", "The setup token is not correct"));
    }
    let mut errs = FieldErrors::new();
    let (Some((name, email)), true) = (validate_staff(input, &mut errs), errs.is_empty()) else {
        return Err(AppError::Validation(errs));
    };
    let hash = hash_password(input.password.clone(), state.config.fast_password_hashing).await?;
    let new = admins::NewAdmin { name, email, role: AdminRole::SuperAdmin, permissions: Permissions::for_role(AdminRole::SuperAdmin) };
    let admin = admins::create(&state.db, &new, &hash, None, true).await.map_err(|e| match e {
        StoreError::Conflict(_) => AppError::NotFound,
        other => other.into(),
    })?;
    audit::admin_action(&state.db, Some(admin.id), "setup_first_admin", Some(("admin", admin.id.to_string())), None, None, None).await?;
    Ok(admin)
}

/// A super admin (manage_admins) creates another admin.
pub async fn create_admin(state: &AppState, by: AdminId, input: &StaffInput, ip: &str) -> AppResult<admins::Admin> {
    let mut errs = FieldErrors::new();
    let staff = validate_staff(input, &mut errs);
    let role = input
        .role
        .as_deref()
        .unwrap_or("admin")
        .parse::<AdminRole>()
        .map_err(|_| errs.add("role", "Role must be super_admin, admin or moderator"))
        .ok();
    let (Some((name, email)), Some(role), true) = (staff, role, errs.is_empty()) else {
        return Err(AppError::Validation(errs));
    };
    let hash = hash_password(input.password.clone(), state.config.fast_password_hashing).await?;
    let new = admins::NewAdmin { name, email, role, permissions: Permissions::for_role(role) };
    let admin = admins::create(&state.db, &new, &hash, Some(by), false).await.map_err(|e| match e {
        StoreError::Conflict(_) => AppError::field("email", "An admin with that email already exists"),
        other => other.into(),
    })?;
    audit::admin_action(
        &state.db,
        Some(by),
        "admin_created",
        Some(("admin", admin.id.to_string())),
        None,
        Some(serde_json::json!({"email": admin.email, "role": admin.role})),
        Some(ip),
    )
    .await?;
    Ok(admin)
}

/// An admin with manage_operators creates an operator account.
pub async fn create_operator(state: &AppState, by: AdminId, input: &StaffInput, ip: &str) -> AppResult<operators::Operator> {
    let mut errs = FieldErrors::new();
    let staff = validate_staff(input, &mut errs);
    let max = input.max_concurrent_chats.unwrap_or(5);
    if !(1..=50).contains(&max) {
        errs.add("max_concurrent_chats", "Between 1 and 50 chats");
    }
    let (Some((name, email)), true) = (staff, errs.is_empty()) else {
        return Err(AppError::Validation(errs));
    };
    let specializations: Vec<String> =
        input.specializations.as_deref().unwrap_or("").split(',').map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()).collect();
    let hash = hash_password(input.password.clone(), state.config.fast_password_hashing).await?;
    let new = operators::NewOperator {
        name,
        email,
        specializations,
        languages: vec!["en".into()],
        skill_level: "junior".into(),
        max_concurrent_chats: max,
    };
    let op = operators::create(&state.db, &new, &hash, Some(by)).await.map_err(|e| match e {
        StoreError::Conflict(_) => AppError::field("email", "An operator with that email already exists"),
        other => other.into(),
    })?;
    audit::admin_action(
        &state.db,
        Some(by),
        "operator_created",
        Some(("operator", op.id.to_string())),
        None,
        Some(serde_json::json!({"email": op.email})),
        Some(ip),
    )
    .await?;
    Ok(op)
}

/// Changes an admin's active state / deletes, with audit; the store and the
/// schema trigger both refuse to remove the last active super admin.
pub async fn change_admin(state: &AppState, by: AdminId, target: AdminId, action: &str, ip: &str) -> AppResult<()> {
    let before = admins::by_id(&state.db, target).await?;
    match action {
        "deactivate" => admins::set_active(&state.db, target, false).await?,
        "activate" => admins::set_active(&state.db, target, true).await?,
        "delete" => admins::delete(&state.db, target).await?,
        _ => return Err(AppError::NotFound),
    }
    audit::admin_action(
        &state.db,
        Some(by),
        &format!("admin_{action}"),
        Some(("admin", target.to_string())),
        Some(serde_json::json!({"is_active": before.is_active, "role": before.role})),
        None,
        Some(ip),
    )
    .await?;
    Ok(())
}
