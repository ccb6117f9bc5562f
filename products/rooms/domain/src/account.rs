//! Account input (requirement 1.1), parsed once into types that cannot hold
//! a bad value. Each parser names its field and says what is wrong in words
//! a person can act on.

use chrono::{Datelike, NaiveDate};
use platform_kernel::FieldError;
use serde::Serialize;
use std::fmt;

fn err(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError::new(field, message)
}

fn no_control(field: &'static str, s: &str) -> Result<(), FieldError> {
    if s.chars().any(char::is_control) {
        return Err(err(field, "must not contain control characters"));
    }
    Ok(())
}

/// A person's full (and display) name: 3–50 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FullName(String);

impl FullName {
    pub fn parse(field: &'static str, raw: &str) -> Result<FullName, FieldError> {
        let s = raw.trim();
        no_control(field, s)?;
        match s.chars().count() {
            0..=2 => Err(err(field, "Name must be at least 3 characters")),
            3..=50 => Ok(FullName(s.to_string())),
            _ => Err(err(field, "Name must be at most 50 characters")),
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A unique handle: 3–20 letters, digits, `_` or `.`, starting with a
/// letter; kept in lower case, so uniqueness is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Handle(String);

impl Handle {
    pub fn parse(raw: &str) -> Result<Handle, FieldError> {
        let f = "handle";
        let h = raw.trim().trim_start_matches('@').to_lowercase();
        let len = h.chars().count();
        if len < 3 {
            return Err(err(f, "Handle must be at least 3 characters"));
        }
        if len > 20 {
            return Err(err(f, "Handle must be at most 20 characters"));
        }
        if !h.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(err(f, "Handle must start with a letter"));
        }
        if !h.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.') {
            return Err(err(f, "Handle may contain only letters, digits, _ and ."));
        }
        Ok(Handle(h))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 form: `+`, then 8–15 digits, the first not 0.
/// Spaces, dashes, dots and brackets people type are dropped; a leading
/// `00` is read as `+`.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Phone, FieldError> {
        let f = "phone";
        let compact: String = raw.trim().chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
        let digits = if let Some(rest) = compact.strip_prefix('+') {
            rest
        } else if let Some(rest) = compact.strip_prefix("00") {
            rest
        } else {
            return Err(err(f, "Phone number must start with + and the country code"));
        };
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(err(f, "Phone number may contain only digits after +"));
        }
        if digits.starts_with('0') {
            return Err(err(f, "A country code never starts with 0"));
        }
        if !(8..=15).contains(&digits.len()) {
            return Err(err(f, "Phone number must have 8 to 15 digits"));
        }
        Ok(Phone(format!("+{digits}")))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Phone {
    /// Phones are personal data: logs see only the last two digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone(+…{})", &self.0[self.0.len() - 2..])
    }
}

/// An email address, kept in lower case: one `@`, a non-empty local part and
/// a dotted domain, at most 254 characters, no spaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, FieldError> {
        let f = "email";
        let e = raw.trim().to_lowercase();
        let ok = e.len() <= 254
            && !e.chars().any(|c| c.is_whitespace() || c.is_control())
            && e.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && !domain.contains('@') && domain.contains('.') && domain.split('.').all(|label| !label.is_empty())
            });
        if ok {
            Ok(Email(e))
        } else {
            Err(err(f, "Enter a valid email address"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a person signs in with: a phone number (starts with `+`, `00` or a
/// digit) or an email address (has an `@`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    Phone(Phone),
    Email(Email),
}

impl Login {
    pub fn parse(raw: &str) -> Result<Login, FieldError> {
        if raw.contains('@') {
            Email::parse(raw).map(Login::Email).map_err(|e| err("login", e.message))
        } else {
            Phone::parse(raw).map(Login::Phone).map_err(|e| err("login", e.message))
        }
    }

    /// The key rate limits count attempts under.
    pub fn key(&self) -> &str {
        match self {
            Login::Phone(p) => p.as_str(),
            Login::Email(e) => e.as_str(),
        }
    }
}

/// ISO 3166-1 alpha-2 codes.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI \
GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI \
LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF \
PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL \
TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// An ISO 3166 two-letter country code, in upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Country([u8; 2]);

impl Country {
    pub fn parse(raw: &str) -> Result<Country, FieldError> {
        let c = raw.trim().to_ascii_uppercase();
        if c.len() == 2 && COUNTRIES.split(' ').any(|k| k == c) {
            let b = c.as_bytes();
            Ok(Country([b[0], b[1]]))
        } else {
            Err(err("country", "Choose a country (two-letter ISO code such as NG or KE)"))
        }
    }
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ascii")
    }
}

/// A birth date showing the person is at least 18 on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AdultBirthDate(NaiveDate);

/// The youngest age that may sign up.
pub const MIN_AGE: i32 = 18;

impl AdultBirthDate {
    /// Parses `YYYY-MM-DD`; refuses dates in the future, before 1900, and
    /// people younger than [`MIN_AGE`] on `today`.
    pub fn parse(raw: &str, today: NaiveDate) -> Result<AdultBirthDate, FieldError> {
        let f = "birth_date";
        let d = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| err(f, "Enter your birth date as YYYY-MM-DD"))?;
        if d > today || d.year() < 1900 {
            return Err(err(f, "Enter your real birth date"));
        }
        if age_on(d, today) < MIN_AGE {
            return Err(err(f, "You must be at least 18 years old"));
        }
        Ok(AdultBirthDate(d))
    }
    pub fn date(&self) -> NaiveDate {
        self.0
    }
}

/// Whole years from `born` to `today` (a birthday counts on its day; 29
/// February birthdays count on 1 March in other years).
pub fn age_on(born: NaiveDate, today: NaiveDate) -> i32 {
    let mut years = today.year() - born.year();
    if (today.month(), today.day()) < (born.month(), born.day()) {
        years -= 1;
    }
    years
}

/// A new password (requirement 1.1): 6–20 characters with an upper-case
/// letter, a lower-case letter, a digit and a symbol. Not `Debug`-printable.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Password, FieldError> {
        let f = "password";
        let len = raw.chars().count();
        if len < 6 {
            return Err(err(f, "Password must be at least 6 characters"));
        }
        if len > 20 {
            return Err(err(f, "Password must be at most 20 characters"));
        }
        if !raw.chars().any(char::is_uppercase) {
            return Err(err(f, "Password needs an upper-case letter"));
        }
        if !raw.chars().any(char::is_lowercase) {
            return Err(err(f, "Password needs a lower-case letter"));
        }
        if !raw.chars().any(|c| c.is_ascii_digit()) {
            return Err(err(f, "Password needs a digit"));
        }
        if !raw.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace()) {
            return Err(err(f, "Password needs a symbol such as ! ? # or @"));
        }
        Ok(Password(raw.to_string()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// The profile's "signature": at most 150 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bio(String);

impl Bio {
    pub fn parse(raw: &str) -> Result<Bio, FieldError> {
        let s = raw.trim();
        if s.chars().count() > 150 {
            return Err(err("bio", "Signature must be at most 150 characters"));
        }
        if s.chars().any(|c| c.is_control() && c != '\n') {
            return Err(err("bio", "must not contain control characters"));
        }
        Ok(Bio(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

platform_kernel::text_enum! {
    pub enum Gender { Unspecified => "unspecified", Female => "female", Male => "male", Other => "other" }
}

platform_kernel::text_enum! {
    /// Platform roles (room roles are [`crate::room::RoomRole`]).
    pub enum PlatformRole { User => "user", Reseller => "reseller", Manager => "manager", Admin => "admin", SuperAdmin => "super_admin" }
}

impl PlatformRole {
    pub fn is_staff(self) -> bool {
        matches!(self, PlatformRole::Admin | PlatformRole::SuperAdmin)
    }
}

platform_kernel::text_enum! {
    /// Whether an account may sign in: suspended and banned accounts are
    /// refused with their reason.
    pub enum AccountStatus { Active => "active", Suspended => "suspended", Banned => "banned" }
}

platform_kernel::text_enum! {
    /// Where a password reset token came from: an emailed link (15 min) or
    /// staff, for phone-only accounts (24 h).
    pub enum ResetChannel { Email => "email", Staff => "staff" }
}

impl ResetChannel {
    pub fn lifetime(self) -> std::time::Duration {
        match self {
            ResetChannel::Email => crate::limits::RESET_TOKEN_EMAIL,
            ResetChannel::Staff => crate::limits::RESET_TOKEN_STAFF,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn names() {
        for (raw, ok) in [
            ("Al", false),
            ("Ada", true),
            ("  Ada  ", true),
            (&"x".repeat(50) as &str, true),
            (&"x".repeat(51), false),
            ("Ad\u{7}a", false),
        ] {
            assert_eq!(FullName::parse("full_name", raw).is_ok(), ok, "{raw:?}");
        }
        assert_eq!(FullName::parse("full_name", "  Ada L ").unwrap().as_str(), "Ada L");
        assert_eq!(FullName::parse("display_name", "A").unwrap_err().field, "display_name");
    }

    #[test]
    fn handles() {
        let cases = [
            ("ada", Some("ada")),
            ("@Ada_Lovelace", Some("ada_lovelace")),
            ("a.b1", Some("a.b1")),
            ("ab", None),
            ("1ada", None),
            ("ada!", None),
            ("ada lovelace", None),
            ("abcdefghijklmnopqrstu", None),
        ];
        for (raw, want) in cases {
            assert_eq!(Handle::parse(raw).ok().map(|h| h.0), want.map(str::to_string), "{raw:?}");
        }
    }

    #[test]
    fn phones_are_e164() {
        let cases = [
            ("+254 712 345 678", Some("+254712345678")),
            ("0044 (20) 7946-0958", Some("+442079460958")),
            ("+1.415.555.2671", Some("+14155552671")),
            ("0712345678", None),
            ("+0123456789", None),
            ("+1234567", None),
            ("+1234567890123456", None),
            ("+2547a2345678", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(Phone::parse(raw).ok().map(|p| p.0), want.map(str::to_string), "{raw:?}");
        }
        assert_eq!(format!("{:?}", Phone::parse("+254712345678").unwrap()), "Phone(+…78)");
    }

    #[test]
    fn emails_and_logins() {
        for (raw, ok) in [
            ("Ada@Example.com", true),
            ("a@b.co", true),
            ("a@b", false),
            ("@b.co", false),
            ("a b@c.de", false),
            ("a@@b.co", false),
            ("a@b..co", false),
        ] {
            assert_eq!(Email::parse(raw).is_ok(), ok, "{raw:?}");
        }
        assert_eq!(Login::parse("Ada@Example.com").unwrap(), Login::Email(Email("ada@example.com".into())));
        assert_eq!(Login::parse("+254712345678").unwrap().key(), "+254712345678");
        assert_eq!(Login::parse("hello").unwrap_err().field, "login");
    }

    #[test]
    fn countries() {
        for (raw, want) in [("ng", Some("NG")), (" KE ", Some("KE")), ("XX", None), ("NGA", None), ("", None)] {
            assert_eq!(Country::parse(raw).ok().map(|c| c.as_str().to_string()), want.map(str::to_string), "{raw:?}");
        }
        assert_eq!(COUNTRIES.split(' ').count(), 249);
    }

    #[test]
    fn adults_only() {
        let today = day("2026-06-15");
        let cases = [
            ("2008-06-15", true),  // 18 today
            ("2008-06-16", false), // 18 tomorrow
            ("1990-01-01", true),
            ("2026-06-16", false), // future
            ("1899-12-31", false),
            ("15/06/2000", false),
        ];
        for (raw, ok) in cases {
            assert_eq!(AdultBirthDate::parse(raw, today).is_ok(), ok, "{raw}");
        }
        assert_eq!(age_on(day("2008-02-29"), day("2026-02-28")), 17);
        assert_eq!(age_on(day("2008-02-29"), day("2026-03-01")), 18);
    }

    #[test]
    fn passwords() {
        let cases = [
            ("Ab1!xy", None),
            ("Ab1!x", Some("at least 6")),
            ("Ab1!xyzAb1!xyzAb1!xyz", Some("at most 20")),
            ("ab1!xy", Some("upper-case")),
            ("AB1!XY", Some("lower-case")),
            ("Abc!xy", Some("digit")),
            ("Abc1xy", Some("symbol")),
        ];
        for (raw, want) in cases {
            match (Password::parse(raw), want) {
                (Ok(_), None) => {}
                (Err(e), Some(w)) => assert!(e.message.contains(w), "{raw}: {}", e.message),
                (r, w) => panic!("{raw}: {:?} vs {w:?}", r.map(|_| ())),
            }
        }
        assert_eq!(format!("{:?}", Password::parse("Ab1!xy").unwrap()), "Password(…)");
    }

    #[test]
    fn bios_and_reset_lifetimes() {
        assert!(Bio::parse(&"x".repeat(150)).is_ok());
        assert!(Bio::parse(&"x".repeat(151)).is_err());
        assert_eq!(ResetChannel::Email.lifetime().as_secs(), 15 * 60);
        assert_eq!(ResetChannel::Staff.lifetime().as_secs(), 24 * 3600);
        assert!(PlatformRole::SuperAdmin.is_staff() && !PlatformRole::Reseller.is_staff());
    }
}
