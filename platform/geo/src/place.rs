use serde::{Deserialize, Serialize};

use crate::haversine_km;

/// How far (km) a typed place may be from the device's reported position
/// before we call it a mismatch. Generous on purpose: metro areas are large
/// and browser geolocation is often IP-based and coarse.
pub const MATCH_RADIUS_KM: f64 = 100.0;

/// A canonical place, as shown on a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub name: String,
    /// ISO 3166-1 alpha-2, upper case ("KE").
    pub country_code: String,
    /// English country name ("Kenya").
    pub country: String,
    pub latitude: f64,
    pub longitude: f64,
    /// 0 when the backend does not know it (Google).
    pub population: u64,
}

impl Place {
    /// Human form used in the UI: "Nairobi, Kenya".
    pub fn display(&self) -> String {
        if self.country.is_empty() {
            self.name.clone()
        } else {
            format!("{}, {}", self.name, self.country)
        }
    }

    pub fn coords(&self) -> (f64, f64) {
        (self.latitude, self.longitude)
    }
}

/// Outcome of [`crate::Geocoder::resolve`].
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// The text names this place (and it agrees with the coordinates, if any).
    Found(Place),
    /// The text names `place`, but the coordinates are `distance_km` away.
    Mismatch { place: Place, distance_km: f64 },
    /// Nothing matches the text.
    NotFound,
}

impl Resolution {
    /// Found or Mismatch for `place` depending on its distance to `coords`.
    pub(crate) fn judge(place: Place, coords: Option<(f64, f64)>) -> Self {
        match coords {
            Some(c) => {
                let distance_km = haversine_km(c, place.coords());
                if distance_km <= MATCH_RADIUS_KM {
                    Resolution::Found(place)
                } else {
                    Resolution::Mismatch { place, distance_km }
                }
            }
            None => Resolution::Found(place),
        }
    }

    /// The place the text named, whether or not the coordinates agreed.
    pub fn place(&self) -> Option<&Place> {
        match self {
            Resolution::Found(place) | Resolution::Mismatch { place, .. } => Some(place),
            Resolution::NotFound => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nairobi() -> Place {
        Place {
            name: "Nairobi".into(),
            country_code: "KE".into(),
            country: "Kenya".into(),
            latitude: -1.28333,
            longitude: 36.81667,
            population: 4_397_073,
        }
    }

    #[test]
    fn display_joins_name_and_country() {
        assert_eq!(nairobi().display(), "Nairobi, Kenya");
        let bare = Place { country: String::new(), ..nairobi() };
        assert_eq!(bare.display(), "Nairobi");
    }

    #[test]
    fn judge_uses_the_radius() {
        assert_eq!(Resolution::judge(nairobi(), None), Resolution::Found(nairobi()));
        // Thika is ~40 km away, Mombasa ~440 km.
        assert!(matches!(Resolution::judge(nairobi(), Some((-1.033, 37.069))), Resolution::Found(_)));
        match Resolution::judge(nairobi(), Some((-4.05466, 39.66359))) {
            Resolution::Mismatch { place, distance_km } => {
                assert_eq!(place.name, "Nairobi");
                assert!(distance_km > 400.0);
            }
            other => panic!("expected mismatch, got {other:?}"),
        }
    }
}
