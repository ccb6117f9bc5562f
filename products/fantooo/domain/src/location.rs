//! What to say, and what to offer instead, when a typed place cannot be
//! taken as it is: not found (a typo, usually), or far from where the
//! device says it is.

/// How many corrected places are offered at most.
pub const MAX_SUGGESTIONS: usize = 3;
/// Prefixes tried at most when looking for what a typo meant.
const MAX_PREFIXES: usize = 6;
/// Prefixes shorter than this match too much to mean anything.
const MIN_PREFIX: usize = 3;

/// What to ask the place index for when `typed` is not found, best first:
/// the place part (before a comma), its first word, then ever shorter
/// prefixes of it (a typo is usually near the end), never shorter than
/// three characters. No duplicates; empty when nothing is worth asking.
pub fn correction_queries(typed: &str) -> Vec<String> {
    let place = typed.split(',').next().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: Vec<String> = Vec::new();
    let mut push = |q: String| {
        if q.chars().count() >= MIN_PREFIX && !out.iter().any(|o| o.eq_ignore_ascii_case(&q)) {
            out.push(q);
        }
    };
    push(place.clone());
    if let Some(first) = place.split(' ').next() {
        push(first.to_string());
    }
    let chars: Vec<char> = place.chars().collect();
    for n in (MIN_PREFIX..chars.len()).rev().take(MAX_PREFIXES) {
        push(chars[..n].iter().collect::<String>().trim_end().to_string());
    }
    out
}

/// "Did you mean A, B or C?" for the places offered, or a plain request
/// to choose from the list when there are none.
pub fn not_found_message(typed: &str, offered: &[String]) -> String {
    let typed = typed.trim();
    match offered {
        [] => format!("We couldn't find \u{201c}{typed}\u{201d}; check the spelling or choose a city from the suggestions"),
        [one] => format!("We couldn't find \u{201c}{typed}\u{201d}. Did you mean {one}?"),
        [rest @ .., last] => format!("We couldn't find \u{201c}{typed}\u{201d}. Did you mean {} or {last}?", rest.join(", ")),
    }
}

/// The typed place is real but far from the device's position: offer the
/// typed place itself (the position is then not used).
pub fn mismatch_message(place: &str, distance_km: f64) -> String {
    format!(
        "{place} is {distance_km:.0} km from where your device says you are. Choose {place} to use it anyway, or pick the city you are in."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_go_from_the_whole_name_to_short_prefixes() {
        let table: &[(&str, &[&str])] = &[
            ("Nairobbi", &["Nairobbi", "Nairobb", "Nairob", "Nairo", "Nair", "Nai"]),
            ("  Mombasaa , Kenya", &["Mombasaa", "Mombasa", "Mombas", "Momba", "Momb", "Mom"]),
            ("Dar es Salaam", &["Dar es Salaam", "Dar", "Dar es Salaa", "Dar es Sala", "Dar es Sal", "Dar es Sa", "Dar es S", "Dar es"]),
            ("ab", &[]),
            ("", &[]),
        ];
        for (typed, want) in table {
            let got = correction_queries(typed);
            assert_eq!(got, want.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{typed:?}");
        }
        assert!(correction_queries(&"x".repeat(100)).len() <= 1 + 1 + MAX_PREFIXES);
    }

    #[test]
    fn messages_offer_the_corrections() {
        assert_eq!(not_found_message("Nairobbi", &["Nairobi, Kenya".into()]), "We couldn't find “Nairobbi”. Did you mean Nairobi, Kenya?");
        assert_eq!(
            not_found_message("Lond", &["London, United Kingdom".into(), "Londrina, Brazil".into(), "London, Canada".into()]),
            "We couldn't find “Lond”. Did you mean London, United Kingdom, Londrina, Brazil or London, Canada?"
        );
        assert!(not_found_message("Qqq", &[]).contains("check the spelling"));
        assert!(mismatch_message("Mombasa, Kenya", 441.6).starts_with("Mombasa, Kenya is 442 km"));
    }
}
