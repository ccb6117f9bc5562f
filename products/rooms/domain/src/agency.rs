//! Agencies (requirement 6): what an agency's name may be, the states an
//! agency and an application to join one go through, the member limit, and
//! the periods the dashboard reports earnings for. Pure rules; the store
//! applies them in one transaction each.

use crate::account::Country;
use crate::progress::Period;
use platform_kernel::{FieldError, FieldErrors};

/// An agency's name: 1 to 20 characters, fixed after creation (6.1).
pub const MAX_NAME: usize = 20;
/// Members an agency takes unless staff raise it (6.6).
pub const DEFAULT_MEMBER_LIMIT: i64 = 50;
/// Agency search needs at least this many characters (6.1).
pub const MIN_SEARCH: usize = 3;
/// The most members staff may allow one agency.
pub const MAX_MEMBER_LIMIT: i64 = 10_000;

platform_kernel::text_enum! {
    /// Where an agency is: staff approve (`active`) or reject a new one, and
    /// may suspend and reactivate it. Only an active agency takes members,
    /// and only its members' gifts earn it its share (6.2).
    pub enum AgencyStatus { Pending => "pending", Active => "active", Suspended => "suspended", Rejected => "rejected" }
}

platform_kernel::text_enum! {
    /// An application to join: only `pending` moves, and only once.
    pub enum ApplicationStatus { Pending => "pending", Accepted => "accepted", Rejected => "rejected", Withdrawn => "withdrawn" }
}

/// A new agency's name and country, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAgency {
    pub name: String,
    pub country: Country,
}

/// Checks a new agency's name (trimmed, 1–20 characters, no control
/// characters) and country, naming every bad field.
pub fn check_new(name: &str, country: &str) -> Result<NewAgency, FieldErrors> {
    let mut errs = FieldErrors::default();
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 {
        errs.add("name", "Give your agency a name");
    } else if chars > MAX_NAME {
        errs.add("name", format!("An agency name has at most {MAX_NAME} characters"));
    } else if name.chars().any(char::is_control) {
        errs.add("name", "The name may not contain control characters");
    }
    let country = Country::parse(country);
    if let Err(e) = &country {
        errs.add(e.field, e.message.clone());
    }
    match (errs.0.is_empty(), country) {
        (true, Ok(country)) => Ok(NewAgency { name: name.to_string(), country }),
        _ => Err(errs),
    }
}

/// The words of a search, when there are enough of them to search (6.1).
pub fn search_words(q: &str) -> Result<String, FieldError> {
    let q = q.trim();
    if q.chars().count() < MIN_SEARCH {
        return Err(FieldError::new("q", format!("Type at least {MIN_SEARCH} characters to search agencies")));
    }
    Ok(q.to_lowercase())
}

/// A member limit staff set: 1 to [`MAX_MEMBER_LIMIT`], and never below the
/// members the agency has now.
pub fn check_member_limit(limit: i64, members: i64) -> Result<i64, FieldError> {
    if !(1..=MAX_MEMBER_LIMIT).contains(&limit) {
        return Err(FieldError::new("member_limit", format!("Choose a limit from 1 to {MAX_MEMBER_LIMIT}")));
    }
    if limit < members {
        return Err(FieldError::new("member_limit", format!("The agency has {members} members; remove some before lowering the limit")));
    }
    Ok(limit)
}

/// Whether an agency with `members` of `limit` can take one more.
pub fn has_room(members: i64, limit: i64) -> bool {
    members < limit
}

/// The status staff may move an agency to from `from`: approve or reject a
/// pending one, suspend an active one, reactivate a suspended one.
pub fn staff_move(from: AgencyStatus, to: AgencyStatus) -> bool {
    use AgencyStatus as S;
    matches!((from, to), (S::Pending, S::Active) | (S::Pending, S::Rejected) | (S::Active, S::Suspended) | (S::Suspended, S::Active))
}

/// The dashboard's earnings periods: day, week or month.
pub fn dashboard_period(p: &str) -> Result<Period, FieldError> {
    match p.trim() {
        "" | "month" => Ok(Period::Monthly),
        "week" => Ok(Period::Weekly),
        "day" => Ok(Period::Daily),
        _ => Err(FieldError::new("period", "Choose day, week or month")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_countries() {
        let ok = check_new("  Star Agency ", "ng").unwrap();
        assert_eq!((ok.name.as_str(), ok.country.as_str()), ("Star Agency", "NG"));
        assert!(check_new(&"x".repeat(20), "KE").is_ok());
        assert!(check_new(&"é".repeat(20), "KE").is_ok(), "characters, not bytes");
        for (name, country, fields) in [
            ("", "NG", vec!["name"]),
            (&*"x".repeat(21), "NG", vec!["name"]),
            ("a\u{7}b", "NG", vec!["name"]),
            ("Stars", "XX", vec!["country"]),
            ("", "", vec!["name", "country"]),
        ] {
            let e = check_new(name, country).unwrap_err();
            assert_eq!(e.0.iter().map(|f| f.field).collect::<Vec<_>>(), fields, "{name:?} {country:?}");
        }
    }

    #[test]
    fn search_needs_three_characters() {
        assert_eq!(search_words(" StA ").unwrap(), "sta");
        assert_eq!(search_words("ab").unwrap_err().field, "q");
        assert_eq!(search_words("  ab  ").unwrap_err().field, "q");
    }

    #[test]
    fn member_limits() {
        assert_eq!(check_member_limit(50, 10), Ok(50));
        assert_eq!(check_member_limit(10, 10), Ok(10));
        assert!(check_member_limit(9, 10).is_err());
        assert!(check_member_limit(0, 0).is_err());
        assert!(check_member_limit(MAX_MEMBER_LIMIT + 1, 0).is_err());
        assert!(has_room(49, 50));
        assert!(!has_room(50, 50));
        assert!(!has_room(51, 50));
    }

    #[test]
    fn staff_moves() {
        use AgencyStatus as S;
        let all = [S::Pending, S::Active, S::Suspended, S::Rejected];
        let allowed: Vec<(S, S)> = all.iter().flat_map(|a| all.iter().map(move |b| (*a, *b))).filter(|(a, b)| staff_move(*a, *b)).collect();
        assert_eq!(allowed, vec![(S::Pending, S::Active), (S::Pending, S::Rejected), (S::Active, S::Suspended), (S::Suspended, S::Active)]);
    }

    #[test]
    fn periods() {
        assert_eq!(dashboard_period("").unwrap(), Period::Monthly);
        assert_eq!(dashboard_period("day").unwrap(), Period::Daily);
        assert_eq!(dashboard_period("week").unwrap(), Period::Weekly);
        assert_eq!(dashboard_period("year").unwrap_err().field, "period");
    }
}
