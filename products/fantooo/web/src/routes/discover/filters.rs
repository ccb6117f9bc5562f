//! Discover query parameters: read leniently from the query string (so a bad
//! value becomes a named field error rather than a bare 400), then checked
//! against the signed-in user's preference.

use fantooo_domain::validation::{MAX_AGE, MIN_AGE};
use fantooo_domain::{FieldError, FieldErrors, Gender, LookingFor};
use fantooo_store::profiles::{ProfileCursor, ProfileFilter};

pub const PAGE_SIZE: i64 = 24;
pub const MAX_LIMIT: i64 = 100;
const MAX_TEXT: usize = 100;

/// The raw parameters, exactly as sent; also echoed back into the form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscoverQuery {
    pub gender: String,
    pub min_age: String,
    pub max_age: String,
    pub location: String,
    pub q: String,
    pub cursor: String,
    pub limit: String,
}

impl DiscoverQuery {
    /// Reads a query string; unknown keys are ignored and a repeated key
    /// keeps its last value.
    pub fn parse(raw: Option<&str>) -> DiscoverQuery {
        let pairs: Vec<(String, String)> = raw.and_then(|r| serde_urlencoded::from_str(r).ok()).unwrap_or_default();
        let mut q = DiscoverQuery::default();
        for (k, v) in pairs {
            let slot = match k.as_str() {
                "gender" => &mut q.gender,
                "min_age" => &mut q.min_age,
                "max_age" => &mut q.max_age,
                "location" => &mut q.location,
                "q" => &mut q.q,
                "cursor" => &mut q.cursor,
                "limit" => &mut q.limit,
                _ => continue,
            };
            *slot = v;
        }
        q
    }

    /// The filter part as a query string (no cursor, no limit), for links
    /// to further pages and for the script that fetches them.
    pub fn filter_query(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("q", &self.q),
            ("gender", &self.gender),
            ("min_age", &self.min_age),
            ("max_age", &self.max_age),
            ("location", &self.location),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.trim()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }

    pub fn has_filters(&self) -> bool {
        !self.filter_query().is_empty()
    }
}

/// A checked request for one page of profiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub filter: ProfileFilter,
    pub after: Option<ProfileCursor>,
    pub limit: i64,
}

/// The genders a person looking for `lf` may see, in display order.
pub fn allowed_genders(lf: LookingFor) -> Vec<Gender> {
    [Gender::Female, Gender::Male, Gender::Other].into_iter().filter(|g| lf.matches(*g)).collect()
}

fn age(field: &'static str, raw: &str) -> Result<Option<i64>, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let n: i64 = raw.parse().map_err(|_| FieldError { field, message: "Age must be a whole number".into() })?;
    if !(i64::from(MIN_AGE)..=i64::from(MAX_AGE)).contains(&n) {
        return Err(FieldError { field, message: format!("Age must be between {MIN_AGE} and {MAX_AGE}") });
    }
    Ok(Some(n))
}

fn text(field: &'static str, label: &str, raw: &str) -> Result<Option<String>, FieldError> {
    let t = raw.trim();
    if t.chars().count() > MAX_TEXT {
        return Err(FieldError { field, message: format!("{label} must be at most {MAX_TEXT} characters") });
    }
    Ok((!t.is_empty()).then(|| t.to_string()))
}

/// Checks every parameter and reports all problems at once.
pub fn validate(q: &DiscoverQuery, looking_for: LookingFor) -> Result<Search, FieldErrors> {
    let mut errs = FieldErrors::new();
    let allowed = allowed_genders(looking_for);
    let genders = match q.gender.trim() {
        "" => allowed,
        g => match g.parse::<Gender>() {
            Ok(g) if looking_for.matches(g) => vec![g],
            Ok(_) => {
                errs.add("gender", "Pick one of the people you're looking for");
                vec![]
            }
            Err(_) => {
                errs.add("gender", "Pick one of the listed options");
                vec![]
            }
        },
    };
    let min_age = errs.check(age("min_age", &q.min_age)).flatten();
    let max_age = errs.check(age("max_age", &q.max_age)).flatten();
    if let (Some(lo), Some(hi)) = (min_age, max_age) {
        if lo > hi {
            errs.add("min_age", "Minimum age can't be above the maximum age");
        }
    }
    let location = errs.check(text("location", "Location", &q.location)).flatten();
    let search = errs.check(text("q", "Search", &q.q)).flatten();
    let after = match q.cursor.trim() {
        "" => None,
        c => {
            let decoded = ProfileCursor::decode(c);
            if decoded.is_none() {
                errs.add("cursor", "This page link is no longer valid; start again from the first page");
            }
            decoded
        }
    };
    let limit = match q.limit.trim() {
        "" => PAGE_SIZE,
        l => match l.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                errs.add("limit", format!("Limit must be a whole number from 1 to {MAX_LIMIT}"));
                PAGE_SIZE
            }
        },
    };
    errs.into_result()?;
    Ok(Search { filter: ProfileFilter { genders, min_age, max_age, location, text: search }, after, limit })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fantooo_domain::ids::ProfileId;

    fn query(s: &str) -> DiscoverQuery {
        DiscoverQuery::parse(Some(s))
    }
    fn fields(r: Result<Search, FieldErrors>) -> Vec<&'static str> {
        r.unwrap_err().0.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn parses_leniently_and_keeps_the_last_value() {
        let q = query("gender=female&min_age=20&junk=1&q=a%20b&q=yoga");
        assert_eq!((q.gender.as_str(), q.min_age.as_str(), q.q.as_str()), ("female", "20", "yoga"));
        assert_eq!(DiscoverQuery::parse(None), DiscoverQuery::default());
        assert_eq!(query("q=yoga+fan&location=&cursor=abc&limit=5").filter_query(), "q=yoga+fan");
        assert!(!query("cursor=abc").has_filters());
    }

    #[test]
    fn defaults_follow_looking_for() {
        let s = validate(&DiscoverQuery::default(), LookingFor::Female).unwrap();
        assert_eq!(s.filter.genders, vec![Gender::Female]);
        assert_eq!((s.limit, s.after), (PAGE_SIZE, None));
        let s = validate(&DiscoverQuery::default(), LookingFor::Both).unwrap();
        assert_eq!(s.filter.genders.len(), 3);
        let s = validate(&query("gender=other"), LookingFor::Both).unwrap();
        assert_eq!(s.filter.genders, vec![Gender::Other]);
    }

    #[test]
    fn gender_must_be_one_looked_for() {
        assert_eq!(fields(validate(&query("gender=male"), LookingFor::Female)), ["gender"]);
        assert_eq!(fields(validate(&query("gender=robot"), LookingFor::Both)), ["gender"]);
    }

    #[test]
    fn ages_are_numbers_in_range_and_ordered() {
        let s = validate(&query("min_age=25&max_age=30"), LookingFor::Both).unwrap();
        assert_eq!((s.filter.min_age, s.filter.max_age), (Some(25), Some(30)));
        assert_eq!(fields(validate(&query("min_age=abc"), LookingFor::Both)), ["min_age"]);
        assert_eq!(fields(validate(&query("max_age=17"), LookingFor::Both)), ["max_age"]);
        assert_eq!(fields(validate(&query("min_age=40&max_age=30"), LookingFor::Both)), ["min_age"]);
        assert_eq!(
            fields(validate(&query("min_age=x&max_age=101&limit=0&cursor=zz"), LookingFor::Both)),
            ["min_age", "max_age", "cursor", "limit"]
        );
    }

    #[test]
    fn cursor_and_limit() {
        let c = ProfileCursor { is_featured: false, popularity_score: 7, id: ProfileId::new() };
        let s = validate(&query(&format!("cursor={}&limit=100", c.encode())), LookingFor::Both).unwrap();
        assert_eq!((s.after, s.limit), (Some(c), 100));
        for bad in ["limit=0", "limit=101", "limit=ten", "limit=-1"] {
            assert_eq!(fields(validate(&query(bad), LookingFor::Both)), ["limit"], "{bad}");
        }
        assert_eq!(fields(validate(&query("cursor=not-a-cursor"), LookingFor::Both)), ["cursor"]);
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        let s = validate(&query("q=%20Yoga%20&location=%20%20"), LookingFor::Both).unwrap();
        assert_eq!((s.filter.text.as_deref(), s.filter.location), (Some("Yoga"), None));
        let long = "x".repeat(101);
        assert_eq!(fields(validate(&query(&format!("q={long}&location={long}")), LookingFor::Both)), ["location", "q"]);
    }
}

/// Hostile query strings and cursors: always a `Search` or field errors,
/// never a panic, and a page link we issued always decodes again.
#[cfg(test)]
mod properties {
    use super::*;
    use fantooo_domain::ids::ProfileId;
    use proptest::prelude::*;

    fn looking_for() -> impl Strategy<Value = LookingFor> {
        proptest::sample::select(vec![LookingFor::Female, LookingFor::Male, LookingFor::Both])
    }

    /// Query strings built from real keys, broken escapes and raw bytes.
    fn query_string() -> impl Strategy<Value = String> {
        let key = prop_oneof!["gender|min_age|max_age|location|q|cursor|limit", "\\PC{0,8}"];
        let value =
            prop_oneof!["\\PC{0,120}", "%[0-9A-Fa-f]?", "%[C-F][0-9A-F]%[0-7][0-9A-F]", "[0-9a-f]{48,52}", "-?[0-9]{1,25}", "x{95,105}"];
        let pair = (key, value).prop_map(|(k, v)| format!("{k}={v}"));
        prop_oneof![any::<String>(), proptest::collection::vec(pair, 0..8).prop_map(|p| p.join("&"))]
    }

    proptest! {
        #[test]
        fn any_query_gives_a_search_or_field_errors(raw in query_string(), lf in looking_for()) {
            let q = DiscoverQuery::parse(Some(&raw));
            match validate(&q, lf) {
                Ok(s) => {
                    prop_assert!((1..=MAX_LIMIT).contains(&s.limit));
                    prop_assert!(s.filter.genders.iter().all(|g| lf.matches(*g)));
                    prop_assert!(s.filter.text.iter().chain(&s.filter.location).all(|t| t.chars().count() <= MAX_TEXT));
                    if let (Some(lo), Some(hi)) = (s.filter.min_age, s.filter.max_age) { prop_assert!(lo <= hi); }
                }
                Err(e) => prop_assert!(!e.is_empty()),
            }
            // The echoed filter query is itself a valid query string.
            let again = DiscoverQuery::parse(Some(&q.filter_query()));
            prop_assert_eq!(again.filter_query(), q.filter_query());
        }

        #[test]
        fn cursors_round_trip(featured in any::<bool>(), score in any::<i64>(), id in any::<u128>()) {
            let c = ProfileCursor { is_featured: featured, popularity_score: score, id: ProfileId(uuid::Uuid::from_u128(id)) };
            prop_assert_eq!(ProfileCursor::decode(&c.encode()), Some(c));
        }

        #[test]
        fn any_cursor_text_decodes_only_to_what_encodes_back(raw in prop_oneof![any::<String>(), "[0-9a-fA-F]{50}", "0[01][0-9a-f]{48}", "[0-9a-fé]{49}"]) {
            if let Some(c) = ProfileCursor::decode(&raw) {
                prop_assert_eq!(c.encode(), raw.to_ascii_lowercase());
            }
        }
    }
}
