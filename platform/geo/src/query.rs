//! Splitting free text into a place name and qualifiers.

use crate::normalize;

/// Parsed "name, [region, ...] country" text, each part normalised.
#[derive(Debug, PartialEq)]
pub(crate) struct Query {
    pub name: String,
    /// Everything after the first comma, in order, empty parts dropped.
    /// The last one is usually a country ("Kenya", "KE") or, in the US
    /// habit, a state code ("TX").
    pub qualifiers: Vec<String>,
}

/// Longer input is not a place name; refusing it early keeps a hostile
/// client from making us normalise megabytes.
const MAX_LEN: usize = 200;

impl Query {
    pub fn parse(text: &str) -> Option<Query> {
        if text.len() > MAX_LEN {
            return None;
        }
        let mut parts = text.split(',').map(normalize).filter(|p| !p.is_empty());
        let name = parts.next()?;
        Some(Query { name, qualifiers: parts.collect() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_commas() {
        let q = Query::parse(" Paris , Texas, US ").unwrap();
        assert_eq!(q.name, "paris");
        assert_eq!(q.qualifiers, ["texas", "us"]);
        assert_eq!(Query::parse("Nairobi").unwrap().qualifiers, Vec::<String>::new());
        assert_eq!(Query::parse("Nairobi,, ").unwrap().qualifiers, Vec::<String>::new());
    }

    #[test]
    fn rejects_blank_and_huge_input() {
        assert_eq!(Query::parse("  , "), None);
        assert_eq!(Query::parse(&"a".repeat(MAX_LEN + 1)), None);
    }
}
