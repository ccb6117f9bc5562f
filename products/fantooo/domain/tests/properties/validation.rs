//! Input validation: arbitrary text never panics, and whatever a rule
//! accepts it accepts again unchanged (so stored values re-validate).

use fantooo_domain::chat::{message_text, MAX_TEXT_CHARS};
use fantooo_domain::validation::{age, coordinates, display_name, email, password, username, MAX_AGE, MIN_AGE};
use proptest::prelude::*;

/// Arbitrary Unicode (controls, NULs, surrogate-free code points) mixed
/// with text shaped like the real thing, so both branches get exercised.
fn text(plausible: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), plausible, "[ \t\u{0}\u{feff}\u{202e}]{0,3}\\PC{0,40}[ \n]{0,3}"]
}

proptest! {
    #[test]
    fn usernames(raw in text("[ ]?[A-Za-z][A-Za-z0-9_]{1,22}[ ]?")) {
        if let Ok(u) = username(&raw) {
            prop_assert!((3..=20).contains(&u.len()));
            prop_assert!(u.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
            prop_assert_eq!(username(&u).ok(), Some(u.clone()));
        }
    }

    #[test]
    fn passwords(raw in text("[A-Za-z0-9!?#@ ]{6,20}")) {
        if password(&raw).is_ok() {
            prop_assert!((8..=128).contains(&raw.chars().count()));
        }
    }

    #[test]
    fn emails(raw in text(" ?[A-Za-z0-9._+-]{1,12}@[A-Za-z0-9-]{1,10}\\.[A-Za-z.]{1,8} ?")) {
        if let Ok(e) = email(&raw) {
            prop_assert!(e.len() <= 254 && e.contains('@') && !e.contains(char::is_whitespace));
            prop_assert_eq!(email(&e).ok(), Some(e.clone()));
        }
    }

    #[test]
    fn names(raw in text("[ ]?[A-Za-zé ]{1,55}")) {
        if let Ok(n) = display_name("name", &raw) {
            prop_assert!((1..=50).contains(&n.chars().count()));
            prop_assert_eq!(display_name("name", &n).ok(), Some(n.clone()));
        }
    }

    #[test]
    fn ages(a in any::<i32>()) {
        prop_assert_eq!(age(a).is_ok(), (MIN_AGE..=MAX_AGE).contains(&a));
    }

    #[test]
    fn coordinates_accept_only_finite_in_range_pairs(lat in proptest::option::of(any::<f64>()), lon in proptest::option::of(prop_oneof![any::<f64>(), -180.0..=180.0f64])) {
        if let Ok(Some((la, lo))) = coordinates(lat, lon) {
            prop_assert!(la.is_finite() && lo.is_finite() && la.abs() <= 90.0 && lo.abs() <= 180.0);
            prop_assert_eq!(coordinates(Some(la), Some(lo)).ok(), Some(Some((la, lo))));
        }
    }

    #[test]
    fn message_texts(raw in prop_oneof![text("\\PC{1,50}"), "x{990,1010}", " {0,3}é{995,1005} {0,3}"]) {
        if let Ok(t) = message_text(&raw) {
            prop_assert!((1..=MAX_TEXT_CHARS).contains(&t.chars().count()));
            prop_assert!(!t.contains(char::from(0)), "a NUL was accepted");
            prop_assert_eq!(message_text(&t).ok(), Some(t.clone()));
        }
    }
}
