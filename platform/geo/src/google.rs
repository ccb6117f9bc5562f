//! Google Geocoding API backend.
//!
//! Reference: <https://developers.google.com/maps/documentation/geocoding/requests-geocoding>

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use crate::distance::check_coords;
use crate::{GeoError, Geocoder, Place, Resolution};

/// A hung upstream must not hold a profile save hostage.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Geocoder backed by Google's Geocoding API.
///
/// `Debug` is implemented by hand so the API key never reaches a log line.
#[derive(Clone)]
pub struct GoogleGeocoder {
    base_url: String,
    api_key: String,
    client: reqwest::Client,
}

impl GoogleGeocoder {
    pub const DEFAULT_BASE_URL: &'static str = "https://maps.googleapis.com";

    pub fn new(api_key: impl Into<String>) -> Self {
        // Builder failure means the TLS backend could not initialise; the
        // default client would hit the same problem on first use and report
        // it as a transport error, which is the right place for it.
        let client = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().unwrap_or_default();
        Self { base_url: Self::DEFAULT_BASE_URL.to_owned(), api_key: api_key.into(), client }
    }

    /// Points the geocoder elsewhere (a proxy, or a fake server in tests).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Shares a client (connection pool, custom timeouts) with the caller.
    pub fn with_client(mut self, client: reqwest::Client) -> Self {
        self.client = client;
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// All results for `address`, in Google's order. ZERO_RESULTS is `Ok(vec![])`.
    async fn geocode(&self, address: &str) -> Result<Vec<Place>, GeoError> {
        let endpoint = format!("{}/maps/api/geocode/json", self.base_url);
        let url = reqwest::Url::parse_with_params(&endpoint, [("address", address), ("key", self.api_key.as_str())])
            .map_err(|e| GeoError::InvalidInput(format!("bad geocoder base URL {:?}: {e}", self.base_url)))?;

        let response = self.client.get(url).send().await.map_err(GeoError::transport)?;
        let http_status = response.status();
        if !http_status.is_success() {
            return Err(GeoError::Service(format!("HTTP {http_status}")));
        }
        let body: ApiResponse = response.json().await.map_err(|e| {
            if e.is_decode() {
                GeoError::InvalidResponse(e.without_url().to_string())
            } else {
                GeoError::transport(e)
            }
        })?;
        tracing::debug!(status = %body.status, results = body.results.len(), "google geocode");

        match body.status.as_str() {
            "OK" => Ok(body.results.into_iter().map(ApiResult::into_place).collect()),
            "ZERO_RESULTS" => Ok(Vec::new()),
            status => Err(GeoError::Service(match body.error_message {
                Some(message) => format!("{status}: {message}"),
                None => status.to_owned(),
            })),
        }
    }
}

impl fmt::Debug for GoogleGeocoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoogleGeocoder").field("base_url", &self.base_url).field("api_key", &"<redacted>").finish_non_exhaustive()
    }
}

#[async_trait]
impl Geocoder for GoogleGeocoder {
    fn service_name(&self) -> &'static str {
        "google"
    }

    async fn resolve(&self, text: &str, coords: Option<(f64, f64)>) -> Result<Resolution, GeoError> {
        check_coords(coords)?;
        // Don't spend quota on blank input.
        if text.trim().is_empty() {
            return Ok(Resolution::NotFound);
        }
        Ok(match self.geocode(text.trim()).await?.into_iter().next() {
            Some(place) => Resolution::judge(place, coords),
            None => Resolution::NotFound,
        })
    }

    /// The Geocoding API has no autocomplete; a geocode of the prefix is the
    /// closest it offers (typically one to a few results).
    async fn suggest(&self, prefix: &str, limit: usize) -> Result<Vec<Place>, GeoError> {
        if limit == 0 || prefix.trim().is_empty() {
            return Ok(Vec::new());
        }
        let mut places = self.geocode(prefix.trim()).await?;
        places.truncate(limit);
        Ok(places)
    }
}

// The subset of the response we read; unknown fields are ignored.

#[derive(Deserialize)]
struct ApiResponse {
    status: String,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    results: Vec<ApiResult>,
}

#[derive(Deserialize)]
struct ApiResult {
    #[serde(default)]
    formatted_address: String,
    geometry: Geometry,
    #[serde(default)]
    address_components: Vec<Component>,
}

#[derive(Deserialize)]
struct Geometry {
    location: LatLng,
}

#[derive(Deserialize)]
struct LatLng {
    lat: f64,
    lng: f64,
}

#[derive(Deserialize)]
struct Component {
    long_name: String,
    short_name: String,
    #[serde(default)]
    types: Vec<String>,
}

impl ApiResult {
    fn component(&self, kind: &str) -> Option<&Component> {
        self.address_components.iter().find(|c| c.types.iter().any(|t| t == kind))
    }

    fn into_place(self) -> Place {
        // Profiles show a city, so prefer the locality over the full address
        // ("Nairobi" rather than "Kenyatta Avenue, Nairobi, Kenya").
        let name = ["locality", "postal_town", "administrative_area_level_1", "country"]
            .iter()
            .find_map(|kind| self.component(kind))
            .map(|c| c.long_name.clone())
            .unwrap_or_else(|| self.formatted_address.split(',').next().unwrap_or_default().trim().to_owned());
        let (country_code, country) = match self.component("country") {
            Some(c) => (c.short_name.clone(), c.long_name.clone()),
            None => (String::new(), String::new()),
        };
        Place { name, country_code, country, latitude: self.geometry.location.lat, longitude: self.geometry.location.lng, population: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_key() {
        let geocoder = GoogleGeocoder::new("super-secret-key").with_base_url("http://127.0.0.1:9/");
        let debug = format!("{geocoder:?}");
        assert!(!debug.contains("super-secret-key"), "{debug}");
        assert!(debug.contains("<redacted>"));
        assert_eq!(geocoder.base_url(), "http://127.0.0.1:9");
    }

    #[test]
    fn place_prefers_locality_and_reads_country() {
        let result: ApiResult = serde_json::from_value(serde_json::json!({
            "formatted_address": "Kenyatta Ave, Nairobi, Kenya",
            "geometry": { "location": { "lat": -1.2864, "lng": 36.8172 } },
            "address_components": [
                { "long_name": "Kenyatta Avenue", "short_name": "Kenyatta Ave", "types": ["route"] },
                { "long_name": "Nairobi", "short_name": "Nairobi", "types": ["locality", "political"] },
                { "long_name": "Kenya", "short_name": "KE", "types": ["country", "political"] }
            ]
        }))
        .unwrap();
        let place = result.into_place();
        assert_eq!(place.display(), "Nairobi, Kenya");
        assert_eq!(place.country_code, "KE");
    }

    #[test]
    fn place_falls_back_to_formatted_address() {
        let result: ApiResult = serde_json::from_value(serde_json::json!({
            "formatted_address": "Somewhere Remote, Nowhere",
            "geometry": { "location": { "lat": 1.0, "lng": 2.0 } }
        }))
        .unwrap();
        let place = result.into_place();
        assert_eq!(place.name, "Somewhere Remote");
        assert_eq!(place.display(), "Somewhere Remote");
    }
}
