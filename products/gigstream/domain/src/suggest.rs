//! "Did you mean": the known search term closest to a misspelt word, by
//! trigram similarity (the share of three-letter pieces two words have in
//! common, as PostgreSQL's pg_trgm counts it), computed here so both stores
//! behave the same.

use std::collections::HashSet;

/// The trigrams of a word, padded as pg_trgm does ("  w", " wo", …, "d ").
pub fn trigrams(word: &str) -> HashSet<String> {
    let padded: Vec<char> = format!("  {} ", word.to_lowercase()).chars().collect();
    padded.windows(3).map(|w| w.iter().collect()).collect()
}

/// Shared trigrams over all trigrams of both words, 0.0 to 1.0.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (ta, tb) = (trigrams(a), trigrams(b));
    let shared = ta.intersection(&tb).count();
    let all = ta.union(&tb).count();
    if all == 0 {
        0.0
    } else {
        shared as f64 / all as f64
    }
}

/// The lowest similarity worth suggesting.
pub const THRESHOLD: f64 = 0.3;

/// A letter without its diacritic, for the Latin letters people type
/// (FTS5's `remove_diacritics 2` does the same to its tokens and queries).
fn fold(c: char) -> char {
    const FROM: &str = "àáâãäåāăąçćĉċčďđèéêëēĕėęěĝğġģĥħìíîïĩīĭįıĵķĺļľŀłñńņňòóôõöøōŏőŕŗřśŝşšţťŧùúûüũūŭůűųŵýÿŷźżž";
    const TO: &str = "aaaaaaaaacccccddeeeeeeeeegggghhiiiiiiiiijklllllnnnnooooooooorrrsssstttuuuuuuuuuuwyyyzzz";
    FROM.chars().position(|f| f == c).and_then(|i| TO.chars().nth(i)).unwrap_or(c)
}

/// The terms of a text as the embedded store's full-text index makes them
/// (FTS5 unicode61 with diacritics removed): runs of letters and digits,
/// lowercased, diacritics removed. Used to keep `gig_words` on SQLite,
/// which cannot tokenize in a trigger, and for a query's words there.
pub fn index_terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().flat_map(char::to_lowercase).map(fold).collect())
        .collect()
}

/// The query's words lowercased, letters and digits only.
pub fn words(query: &str) -> Vec<String> {
    query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).take(8).collect()
}

/// The query with each word that is no known term replaced by the most
/// similar known term (ties: the more common term, then the first), or
/// `None` when nothing changes. `terms` are known words with their counts.
pub fn did_you_mean(query: &str, terms: &[(String, i64)]) -> Option<String> {
    let known: HashSet<&str> = terms.iter().map(|(t, _)| t.as_str()).collect();
    let mut changed = false;
    let mut out = vec![];
    for w in words(query) {
        if known.contains(w.as_str()) || w.chars().count() < 3 {
            out.push(w);
            continue;
        }
        let best = terms
            .iter()
            .map(|(t, n)| (similarity(&w, t), *n, t))
            .filter(|(s, _, _)| *s >= THRESHOLD)
            .max_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(b.2.cmp(a.2)));
        match best {
            Some((_, _, t)) => {
                changed = true;
                out.push(t.clone());
            }
            None => out.push(w),
        }
    }
    changed.then(|| out.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_terms_are_lowercased_words_without_diacritics() {
        for (text, terms) in [
            ("I will design a Logo", &["i", "will", "design", "a", "logo"][..]),
            ("Café-crème, 24h!", &["cafe", "creme", "24h"]),
            ("  ", &[]),
            ("Żółć ŁÓDŹ naïve", &["zolc", "lodz", "naive"]),
        ] {
            assert_eq!(index_terms(text), terms, "{text}");
        }
    }

    fn terms() -> Vec<(String, i64)> {
        [("logo", 12), ("design", 20), ("wordpress", 5), ("website", 9), ("illustration", 3), ("video", 7), ("editing", 4)]
            .iter()
            .map(|(t, n)| (t.to_string(), *n))
            .collect()
    }

    #[test]
    fn similarity_is_symmetric_and_bounded() {
        assert_eq!(similarity("logo", "logo"), 1.0);
        assert_eq!(similarity("abc", "xyz"), 0.0);
        assert_eq!(similarity("desing", "design"), similarity("design", "desing"));
        assert!(similarity("desing", "design") > THRESHOLD);
    }

    #[test]
    fn misspelt_words_are_corrected() {
        let cases: &[(&str, Option<&str>)] = &[
            ("logo desing", Some("logo design")),
            ("wordpres", Some("wordpress")),
            ("vidoe editting", Some("video editing")),
            ("logo design", None),
            ("zzzzqqq", None),
            ("a", None),
            ("Ilustration!", Some("illustration")),
        ];
        for (q, want) in cases {
            assert_eq!(did_you_mean(q, &terms()).as_deref(), *want, "{q:?}");
        }
    }
}
