//! Offline geocoder over the embedded GeoNames extract.

mod index;

use async_trait::async_trait;

use self::index::{City, Index};
use crate::distance::check_coords;
use crate::query::Query;
use crate::{haversine_km, GeoError, Geocoder, Place, Resolution, MATCH_RADIUS_KM};

/// Geocoder backed by the city table compiled into the binary.
///
/// Cheap to construct and copy: every instance shares one lazily built
/// index. Call [`OfflineGazetteer::preload`] at startup to pay the build
/// cost before the first request instead of during it.
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflineGazetteer {
    _private: (),
}

impl OfflineGazetteer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the shared index now, if it isn't built yet.
    pub fn preload(&self) {
        Index::get();
    }

    /// English name for an ISO2 country code ("KE" -> "Kenya").
    pub fn country_name(&self, iso2: &str) -> Option<&'static str> {
        Index::get().country_name(iso2)
    }

    /// Synchronous [`Geocoder::resolve`]; it never blocks on I/O, so sync
    /// callers (form validation) can use it directly.
    pub fn lookup(&self, text: &str, coords: Option<(f64, f64)>) -> Result<Resolution, GeoError> {
        check_coords(coords)?;
        let index = Index::get();
        let candidates = Query::parse(text).map(|q| candidates(index, &q)).unwrap_or_default();
        let Some(&best) = candidates.first() else {
            return Ok(Resolution::NotFound);
        };
        // With coordinates, a less populous homonym that is actually nearby
        // wins: "Paris" typed in Texas means Paris, Texas.
        let near = coords.and_then(|c| {
            candidates.iter().copied().find(|&id| {
                let city = &index.cities[id as usize];
                haversine_km(c, (city.latitude, city.longitude)) <= MATCH_RADIUS_KM
            })
        });
        Ok(Resolution::judge(to_place(index, near.unwrap_or(best)), coords))
    }

    /// Synchronous [`Geocoder::suggest`]: cities whose name starts with the
    /// prefix (before any comma), most populous first.
    pub fn complete(&self, prefix: &str, limit: usize) -> Vec<Place> {
        let index = Index::get();
        let Some(query) = Query::parse(prefix) else {
            return Vec::new();
        };
        if limit == 0 {
            return Vec::new();
        }
        // Ids are population ranks, so "top by population" is "smallest
        // ids". A one-letter prefix spans thousands of keys; keeping only the
        // best `limit` in a small sorted buffer beats collecting and sorting
        // them all, and the binary search also drops cities seen twice.
        let mut ids: Vec<u32> = Vec::with_capacity(limit.min(64));
        for id in index.with_prefix(&query.name) {
            if ids.len() == limit && ids.last().is_some_and(|&worst| id > worst) {
                continue;
            }
            if let Err(pos) = ids.binary_search(&id) {
                ids.insert(pos, id);
                ids.truncate(limit);
            }
        }
        ids.into_iter().map(|id| to_place(index, id)).collect()
    }
}

#[async_trait]
impl Geocoder for OfflineGazetteer {
    fn service_name(&self) -> &'static str {
        "offline"
    }

    async fn resolve(&self, text: &str, coords: Option<(f64, f64)>) -> Result<Resolution, GeoError> {
        self.lookup(text, coords)
    }

    async fn suggest(&self, prefix: &str, limit: usize) -> Result<Vec<Place>, GeoError> {
        Ok(self.complete(prefix, limit))
    }
}

/// City ids the query can mean, most populous first.
fn candidates(index: &Index, query: &Query) -> Vec<u32> {
    let Some((last, middle)) = query.qualifiers.split_last() else {
        let exact: Vec<u32> = index.exact(&query.name).collect();
        return if exact.is_empty() { trailing_country(index, &query.name) } else { exact };
    };
    // The last part must agree: "Nairobi, France" is not Nairobi, Kenya.
    let mut ids: Vec<u32> = index.exact(&query.name).filter(|&id| qualifies(index, id, last)).collect();
    // Middle parts are usually region names, which the table doesn't have;
    // use them to narrow the choice when they do match, never to reject.
    for qualifier in middle {
        let narrowed: Vec<u32> = ids.iter().copied().filter(|&id| qualifies(index, id, qualifier)).collect();
        if !narrowed.is_empty() {
            ids = narrowed;
        }
    }
    ids
}

/// Comma-less "Nairobi Kenya" / "paris us": try the last 1-3 words as the
/// country. Only reached when the whole text is not a city name itself.
fn trailing_country(index: &Index, name: &str) -> Vec<u32> {
    let words: Vec<&str> = name.split(' ').collect();
    for tail_len in 1..=3.min(words.len().saturating_sub(1)) {
        let (head, tail) = words.split_at(words.len() - tail_len);
        let tail = tail.join(" ");
        if index.country_code(&tail).is_none() {
            continue;
        }
        let ids: Vec<u32> = index.exact(&head.join(" ")).filter(|&id| qualifies(index, id, &tail)).collect();
        if !ids.is_empty() {
            return ids;
        }
    }
    Vec::new()
}

/// Whether a normalised qualifier describes the city: its country (code,
/// name or alias) or its first-level region code ("TX" for Texas). Checking
/// per city lets "Springfield, IL" mean Illinois although IL is also Israel.
fn qualifies(index: &Index, id: u32, qualifier: &str) -> bool {
    let city: &City = &index.cities[id as usize];
    index.country_code(qualifier) == Some(city.country_code) || (!city.admin1.is_empty() && city.admin1.eq_ignore_ascii_case(qualifier))
}

fn to_place(index: &Index, id: u32) -> Place {
    let city = &index.cities[id as usize];
    Place {
        name: city.name.to_owned(),
        country_code: city.country_code.to_owned(),
        country: index.country_name(city.country_code).unwrap_or(city.country_code).to_owned(),
        latitude: city.latitude,
        longitude: city.longitude,
        population: city.population,
    }
}

#[cfg(test)]
mod tests;
