//! The embedded city table and its search index.
//!
//! Built once per process, on first use (about 34k cities, a few tens of
//! milliseconds). Strings borrow from the embedded TSV, so the only
//! allocations are the normalised keys.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use crate::normalize;

const CITIES_TSV: &str = include_str!("../../data/cities.tsv");
const COUNTRIES_TSV: &str = include_str!("../../data/countries.tsv");

/// Informal names people type for a country, beyond its ISO codes and the
/// GeoNames English name (all of which are indexed automatically).
const COUNTRY_ALIASES: &[(&str, &str)] = &[
    ("uk", "GB"),
    ("great britain", "GB"),
    ("britain", "GB"),
    ("england", "GB"),
    ("scotland", "GB"),
    ("wales", "GB"),
    ("northern ireland", "GB"),
    ("united states of america", "US"),
    ("america", "US"),
    ("holland", "NL"),
    ("netherlands", "NL"),
    ("czech republic", "CZ"),
    ("cote d ivoire", "CI"),
    ("turkiye", "TR"),
    ("burma", "MM"),
    ("drc", "CD"),
    ("dr congo", "CD"),
    ("congo kinshasa", "CD"),
    ("congo brazzaville", "CG"),
    ("swaziland", "SZ"),
    ("cape verde", "CV"),
    ("macedonia", "MK"),
    ("korea", "KR"),
    ("uae", "AE"),
    ("palestine", "PS"),
];

pub(crate) struct City {
    pub name: &'static str,
    pub country_code: &'static str,
    pub admin1: &'static str,
    pub latitude: f64,
    pub longitude: f64,
    pub population: u64,
}

pub(crate) struct Index {
    /// Ordered by population, descending (the file's order). A city's
    /// position is therefore also its rank: lower id = more populous.
    pub cities: Vec<City>,
    /// (normalised name, city id), sorted. One sorted array serves both
    /// lookups: an exact name is an equal range, a prefix a contiguous range,
    /// each found by binary search. Within a key, ids ascend, i.e. the most
    /// populous homonym comes first.
    keys: Vec<(Box<str>, u32)>,
    country_names: HashMap<&'static str, &'static str>,
    /// Normalised ISO2/ISO3/name/alias -> ISO2.
    country_keys: HashMap<String, &'static str>,
}

impl Index {
    pub fn get() -> &'static Index {
        static INDEX: OnceLock<Index> = OnceLock::new();
        INDEX.get_or_init(Index::build)
    }

    fn build() -> Index {
        let cities: Vec<City> = data_lines(CITIES_TSV).map(parse_city).collect();
        let mut keys = Vec::with_capacity(cities.len() + cities.len() / 8);
        for (id, line) in data_lines(CITIES_TSV).enumerate() {
            let id = u32::try_from(id).expect("city count fits in u32");
            let (name, ascii) = {
                let mut f = line.split('\t');
                (f.next().unwrap_or_default(), f.next().unwrap_or_default())
            };
            let key = normalize(name);
            // The ASCII spelling usually normalises to the same key; index
            // it separately only where the folding rules differ.
            let ascii_key = normalize(ascii);
            if !ascii_key.is_empty() && ascii_key != key {
                keys.push((ascii_key.into_boxed_str(), id));
            }
            if !key.is_empty() {
                keys.push((key.into_boxed_str(), id));
            }
        }
        keys.sort_unstable();

        let mut country_names = HashMap::new();
        let mut country_keys = HashMap::new();
        for line in data_lines(COUNTRIES_TSV) {
            let mut f = line.split('\t');
            let (Some(iso2), Some(iso3), Some(name)) = (f.next(), f.next(), f.next()) else {
                panic!("malformed countries.tsv line: {line:?}");
            };
            country_names.insert(iso2, name);
            for key in [iso2, iso3, name].map(normalize) {
                if !key.is_empty() {
                    country_keys.insert(key, iso2);
                }
            }
        }
        for (alias, iso2) in COUNTRY_ALIASES {
            country_keys.insert(normalize(alias), iso2);
        }

        Index { cities, keys, country_names, country_keys }
    }

    /// Ids of cities whose normalised name is exactly `key`, most populous first.
    pub fn exact(&self, key: &str) -> impl Iterator<Item = u32> + '_ {
        self.key_range(key, |k| k == key).map(|i| self.keys[i].1)
    }

    /// Ids of cities with a name starting with `prefix` (unordered, may
    /// repeat a city that has two keys).
    pub fn with_prefix(&self, prefix: &str) -> impl Iterator<Item = u32> + '_ {
        self.key_range(prefix, |k| k.starts_with(prefix)).map(|i| self.keys[i].1)
    }

    /// Keys matching `pred` form one run starting at the lower bound of `start`.
    fn key_range(&self, start: &str, pred: impl Fn(&str) -> bool) -> Range<usize> {
        let lo = self.keys.partition_point(|(k, _)| &**k < start);
        let len = self.keys[lo..].partition_point(|(k, _)| pred(k));
        lo..lo + len
    }

    /// ISO2 code for a normalised country qualifier ("kenya", "ke", "ken").
    pub fn country_code(&self, key: &str) -> Option<&'static str> {
        self.country_keys.get(key).copied()
    }

    pub fn country_name(&self, iso2: &str) -> Option<&'static str> {
        self.country_names.get(iso2).copied()
    }
}

fn data_lines(tsv: &'static str) -> impl Iterator<Item = &'static str> {
    tsv.lines().filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// The file is generated and compiled in, so a malformed line is a build
/// defect: fail loudly (the index tests run this on every `cargo test`).
fn parse_city(line: &'static str) -> City {
    fn bad<T>(line: &str) -> T {
        panic!("malformed cities.tsv line: {line:?}")
    }
    let f: Vec<&str> = line.split('\t').collect();
    let [name, _ascii, country_code, admin1, lat, lon, population] = f[..] else {
        return bad(line);
    };
    City {
        name,
        country_code,
        admin1,
        latitude: lat.parse().unwrap_or_else(|_| bad(line)),
        longitude: lon.parse().unwrap_or_else(|_| bad(line)),
        population: population.parse().unwrap_or_else(|_| bad(line)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_the_whole_table_in_population_order() {
        let index = Index::get();
        assert!(index.cities.len() > 30_000, "only {} cities", index.cities.len());
        assert!(index.cities.windows(2).all(|w| w[0].population >= w[1].population));
        assert!(index.cities.iter().all(|c| c.population >= 15_000));
        assert!(index.cities.iter().all(|c| index.country_name(c.country_code).is_some()));
    }

    #[test]
    fn country_keys_cover_codes_names_and_aliases() {
        let index = Index::get();
        for key in ["ke", "ken", "kenya", "uk", "usa", "united states", "ivory coast"] {
            assert!(index.country_code(key).is_some(), "{key}");
        }
        assert_eq!(index.country_code("usa"), Some("US"));
        assert_eq!(index.country_name("KE"), Some("Kenya"));
    }

    #[test]
    fn exact_lists_homonyms_most_populous_first() {
        let index = Index::get();
        let paris: Vec<&str> = index.exact("paris").map(|id| index.cities[id as usize].country_code).collect();
        assert_eq!(paris.first(), Some(&"FR"));
        assert!(paris.contains(&"US"));
        assert_eq!(index.exact("parisx").count(), 0);
        // Exact means exact: "pari" is its own town, not a prefix of Paris.
        assert!(index.exact("pari").all(|id| index.cities[id as usize].name == "Pari"));
    }
}
