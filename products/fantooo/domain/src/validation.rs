//! Input rules for accounts, as pure functions returning named-field errors.

pub use platform_kernel::{FieldError, FieldErrors, UnknownVariant};

fn err(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError { field, message: message.into() }
}

pub const MIN_AGE: i32 = 18;
pub const MAX_AGE: i32 = 100;

/// Usernames are 3–20 characters of lowercase letters, digits and
/// underscores, starting with a letter; they also form the email local part.
pub fn username(raw: &str) -> Result<String, FieldError> {
    let u = raw.trim().to_lowercase();
    if u.len() < 3 {
        return Err(err("username", "Username must be at least 3 characters"));
    }
    if u.len() > 20 {
        return Err(err("username", "Username must be at most 20 characters"));
    }
    if !u.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(err("username", "Username must start with a letter"));
    }
    if !u.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(err("username", "Username may contain only letters, digits and underscores"));
    }
    Ok(u)
}

/// At least 8 characters with an uppercase letter, a lowercase letter, a
/// digit and a symbol; at most 128 so hashing cost stays bounded.
pub fn password(p: &str) -> Result<(), FieldError> {
    let f = "password";
    if p.chars().count() < 8 {
        return Err(err(f, "Password must be at least 8 characters"));
    }
    if p.chars().count() > 128 {
        return Err(err(f, "Password must be at most 128 characters"));
    }
    if !p.chars().any(|c| c.is_uppercase()) {
        return Err(err(f, "Password needs an uppercase letter"));
    }
    if !p.chars().any(|c| c.is_lowercase()) {
        return Err(err(f, "Password needs a lowercase letter"));
    }
    if !p.chars().any(|c| c.is_ascii_digit()) {
        return Err(err(f, "Password needs a digit"));
    }
    if !p.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace()) {
        return Err(err(f, "Password needs a symbol such as ! ? # or @"));
    }
    Ok(())
}

/// Age must be 18–100; under-18 gets its own message (and is logged by the caller).
pub fn age(a: i32) -> Result<i32, FieldError> {
    if a < MIN_AGE {
        return Err(err("age", "You must be at least 18 years old to join"));
    }
    if a > MAX_AGE {
        return Err(err("age", "Please enter an age between 18 and 100"));
    }
    Ok(a)
}

/// A display or profile name: trimmed, 1–50 characters, no control characters.
pub fn display_name(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let n = raw.trim();
    if n.is_empty() {
        return Err(err(field, "Name is required"));
    }
    if n.chars().count() > 50 {
        return Err(err(field, "Name must be at most 50 characters"));
    }
    if n.chars().any(|c| c.is_control()) {
        return Err(err(field, "Name contains invalid characters"));
    }
    Ok(n.to_string())
}

/// An email address for staff accounts: one `@`, a dotted domain, no spaces.
pub fn email(raw: &str) -> Result<String, FieldError> {
    let e = raw.trim().to_lowercase();
    let ok = e.len() <= 254
        && !e.contains(char::is_whitespace)
        && matches!(e.split_once('@'), Some((l, d)) if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.') && !d.contains('@'));
    if ok {
        Ok(e)
    } else {
        Err(err("email", "Enter a valid email address"))
    }
}

/// Latitude and longitude, if given, must both be present and in range.
pub fn coordinates(lat: Option<f64>, lon: Option<f64>) -> Result<Option<(f64, f64)>, FieldError> {
    match (lat, lon) {
        (None, None) => Ok(None),
        (Some(la), Some(lo)) if (-90.0..=90.0).contains(&la) && (-180.0..=180.0).contains(&lo) => Ok(Some((la, lo))),
        (Some(_), Some(_)) => Err(err("location", "Coordinates are out of range")),
        _ => Err(err("location", "Both latitude and longitude are needed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(username("  Alice_1 ").unwrap(), "alice_1");
        for bad in ["ab", "1abc", "has space", "x".repeat(21).as_str(), "dash-ed", "ünï"] {
            assert!(username(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn passwords_need_every_class() {
        assert!(password("Str0ng!pw").is_ok());
        assert_eq!(password("S0!a").unwrap_err().message, "Password must be at least 8 characters");
        assert!(password("alllower1!").unwrap_err().message.contains("uppercase"));
        assert!(password("ALLUPPER1!").unwrap_err().message.contains("lowercase"));
        assert!(password("NoDigits!!").unwrap_err().message.contains("digit"));
        assert!(password("NoSymbol12").unwrap_err().message.contains("symbol"));
        assert!(password(&format!("Aa1!{}", "x".repeat(200))).is_err());
    }

    #[test]
    fn ages() {
        assert!(age(17).unwrap_err().message.contains("at least 18"));
        assert_eq!(age(18).unwrap(), 18);
        assert_eq!(age(100).unwrap(), 100);
        assert!(age(101).is_err());
    }

    #[test]
    fn emails_and_names() {
        assert_eq!(email(" Ops@Fantooo.com ").unwrap(), "ops@fantooo.com");
        for bad in ["nope", "a@b", "a b@c.com", "@x.com", "a@.com", "a@x.com."] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert!(display_name("name", "  ").is_err());
        assert!(display_name("name", "bad\u{0007}").is_err());
        assert_eq!(display_name("name", " Amara ").unwrap(), "Amara");
    }

    #[test]
    fn coordinates_need_both_in_range() {
        assert_eq!(coordinates(None, None).unwrap(), None);
        assert!(coordinates(Some(1.0), None).is_err());
        assert!(coordinates(Some(91.0), Some(0.0)).is_err());
        assert_eq!(coordinates(Some(-1.29), Some(36.82)).unwrap(), Some((-1.29, 36.82)));
    }

    #[test]
    fn field_errors_collect() {
        let mut e = FieldErrors::new();
        assert_eq!(e.check(age(30)), Some(30));
        assert_eq!(e.check(age(12)), None);
        assert_eq!(e.for_field("age"), Some("You must be at least 18 years old to join"));
        assert!(e.into_result().is_err());
    }
}
