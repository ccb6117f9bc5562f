use crate::GeoError;

/// Mean Earth radius (IUGG), in kilometres.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance in kilometres between two `(latitude, longitude)`
/// points in degrees. The spherical model is off by < 0.5 %, far below the
/// 100 km tolerance it is used for.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    // min() guards asin against rounding just above 1 for antipodal points.
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// Rejects coordinates a browser could not have produced, so that a bogus
/// value is reported as such rather than as a far-away mismatch.
pub(crate) fn check_coords(coords: Option<(f64, f64)>) -> Result<(), GeoError> {
    match coords {
        Some((lat, lon)) if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) => {
            Err(GeoError::InvalidInput(format!("coordinates out of range: {lat}, {lon}")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAIROBI: (f64, f64) = (-1.28333, 36.81667);
    const MOMBASA: (f64, f64) = (-4.05466, 39.66359);

    #[test]
    fn nairobi_to_mombasa_is_about_440_km() {
        let d = haversine_km(NAIROBI, MOMBASA);
        assert!((d - 440.0).abs() < 10.0, "got {d}");
    }

    #[test]
    fn distance_is_symmetric_and_zero_on_self() {
        assert_eq!(haversine_km(NAIROBI, NAIROBI), 0.0);
        assert!((haversine_km(NAIROBI, MOMBASA) - haversine_km(MOMBASA, NAIROBI)).abs() < 1e-9);
    }

    #[test]
    fn antipodes_are_half_the_circumference() {
        let d = haversine_km((0.0, 0.0), (0.0, 180.0));
        assert!((d - std::f64::consts::PI * EARTH_RADIUS_KM).abs() < 1e-6);
    }

    #[test]
    fn rejects_out_of_range_and_nan_coords() {
        assert!(check_coords(None).is_ok());
        assert!(check_coords(Some((-1.0, 36.0))).is_ok());
        assert!(check_coords(Some((91.0, 0.0))).is_err());
        assert!(check_coords(Some((0.0, -181.0))).is_err());
        assert!(check_coords(Some((f64::NAN, 0.0))).is_err());
    }
}
