//! City lookup: where a person or a listing is.
//!
//! Members type where they live as free text ("Nairobi", "paris, us"); this
//! crate turns that text into a canonical [`Place`] and, when the browser
//! supplied coordinates, checks that the two agree. Two interchangeable
//! backends implement [`Geocoder`]:
//!
//! * [`OfflineGazetteer`] — a GeoNames extract compiled into the binary
//!   (see `data/README.md`). No network, no keys, deterministic; the default.
//! * [`GoogleGeocoder`] — Google's Geocoding API, for deployments that hold a
//!   key and want street-level coverage.

mod distance;
mod error;
mod gazetteer;
mod google;
mod normalize;
mod place;
mod query;

use async_trait::async_trait;

pub use distance::haversine_km;
pub use error::GeoError;
pub use gazetteer::OfflineGazetteer;
pub use google::GoogleGeocoder;
pub use normalize::normalize;
pub use place::{Place, Resolution, MATCH_RADIUS_KM};

/// A source of places. Object safe so the app can hold a `Box<dyn Geocoder>`
/// and pick the backend from configuration.
#[async_trait]
pub trait Geocoder: Send + Sync {
    /// Short stable identifier for logs and metrics ("offline", "google").
    fn service_name(&self) -> &'static str;

    /// Resolves free text to a place. When `coords` (latitude, longitude) are
    /// given, a match farther than [`MATCH_RADIUS_KM`] is reported as
    /// [`Resolution::Mismatch`] instead of [`Resolution::Found`].
    async fn resolve(&self, text: &str, coords: Option<(f64, f64)>) -> Result<Resolution, GeoError>;

    /// Up to `limit` places whose name starts with `prefix`, most relevant first.
    async fn suggest(&self, prefix: &str, limit: usize) -> Result<Vec<Place>, GeoError>;
}
