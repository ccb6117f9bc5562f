use super::*;
use crate::normalize;

const MOMBASA: (f64, f64) = (-4.05466, 39.66359);
const THIKA: (f64, f64) = (-1.03326, 37.06933);
const PARIS_TX: (f64, f64) = (33.66, -95.55);

fn gaz() -> OfflineGazetteer {
    OfflineGazetteer::new()
}

fn found(text: &str) -> Place {
    match gaz().lookup(text, None).unwrap() {
        Resolution::Found(place) => place,
        other => panic!("{text:?}: expected Found, got {other:?}"),
    }
}

#[test]
fn resolves_spelling_variants_of_one_city() {
    for text in ["Nairobi", "nairobi, kenya", "Nairobi, KE", "  NAIROBI ", "Nairobi, Kenya", "nairobi,ken", "Nairobi Kenya"] {
        let place = found(text);
        assert_eq!((place.name.as_str(), place.country_code.as_str()), ("Nairobi", "KE"), "{text:?}");
        assert_eq!(place.display(), "Nairobi, Kenya");
    }
}

#[test]
fn matching_ignores_diacritics_both_ways() {
    assert_eq!(found("Sao Paulo").name, "São Paulo");
    assert_eq!(found("são paulo, brazil").country, "Brazil");
    assert_eq!(found("Zurich").name, "Zürich");
    assert_eq!(found("KRAKOW").name, "Kraków");
    assert_eq!(found("Xian").name, "Xi’an");
}

#[test]
fn homonyms_pick_most_populous_unless_qualified() {
    assert_eq!(found("Paris").country_code, "FR");
    assert_eq!(found("Paris, France").country_code, "FR");
    assert_eq!(found("Paris, US").country_code, "US");
    assert_eq!(found("paris, usa").country_code, "US");
    assert_eq!(found("Paris, TX").country_code, "US");
    assert_eq!(found("London").country_code, "GB");
    assert_eq!(found("London, Canada").country_code, "CA");
    assert_eq!(found("london, uk").country_code, "GB");
}

#[test]
fn region_codes_qualify_per_city() {
    // IL is also Israel and TN Tunisia; the state code still wins because
    // no Springfield is in those countries.
    let il = found("Springfield, IL");
    assert!((il.latitude - 39.80172).abs() < 1e-6, "{il:?}");
    let tn = found("Springfield, TN");
    assert!((tn.latitude - 36.50921).abs() < 1e-6, "{tn:?}");
    // A middle part narrows without being required.
    let ma = found("Springfield, MA, USA");
    assert!((ma.latitude - 42.10148).abs() < 1e-6, "{ma:?}");
    assert_eq!(found("Springfield, Hampden County, USA").population, found("Springfield").population);
}

#[test]
fn nonsense_and_contradictions_are_not_found() {
    for text in ["xqzzv qwrtp", "", "   ", ",", "Nairobi, France", "Paris, Kenya", "Kenya", &"Nairobi ".repeat(100)] {
        assert_eq!(gaz().lookup(text, None).unwrap(), Resolution::NotFound, "{text:?}");
    }
}

#[test]
fn coordinates_confirm_or_contradict() {
    assert!(matches!(gaz().lookup("Nairobi", Some(THIKA)).unwrap(), Resolution::Found(_)));
    match gaz().lookup("Nairobi", Some(MOMBASA)).unwrap() {
        Resolution::Mismatch { place, distance_km } => {
            assert_eq!(place.name, "Nairobi");
            assert!((distance_km - 440.0).abs() < 15.0, "{distance_km}");
        }
        other => panic!("expected Mismatch, got {other:?}"),
    }
    assert_eq!(gaz().lookup("xqzzv", Some(MOMBASA)).unwrap(), Resolution::NotFound);
    assert!(matches!(gaz().lookup("Nairobi", Some((95.0, 0.0))), Err(GeoError::InvalidInput(_))));
}

#[test]
fn coordinates_pick_the_nearby_homonym() {
    match gaz().lookup("Paris", Some(PARIS_TX)).unwrap() {
        Resolution::Found(place) => assert_eq!(place.country_code, "US"),
        other => panic!("expected Found, got {other:?}"),
    }
    // Far from every Paris: report the most populous one.
    match gaz().lookup("Paris", Some(MOMBASA)).unwrap() {
        Resolution::Mismatch { place, .. } => assert_eq!(place.country_code, "FR"),
        other => panic!("expected Mismatch, got {other:?}"),
    }
}

#[test]
fn suggest_ranks_by_population_and_respects_limit() {
    let places = gaz().complete("nai", 5);
    assert_eq!(places.len(), 5);
    assert_eq!(places[0].display(), "Nairobi, Kenya");
    assert!(places.iter().all(|p| normalize(&p.name).starts_with("nai")));
    assert!(places.windows(2).all(|w| w[0].population >= w[1].population));

    assert_eq!(gaz().complete("nai", 1).len(), 1);
    assert!(gaz().complete("nai", 0).is_empty());
    assert!(gaz().complete("", 5).is_empty());
    assert!(gaz().complete("xqzzv", 5).is_empty());
    assert_eq!(gaz().complete("  NAIROBI, Ke", 3)[0].name, "Nairobi");
    assert_eq!(gaz().complete("sao pa", 1)[0].name, "São Paulo");
    assert_eq!(gaz().complete("New Y", 1)[0].name, "New York City");
}

#[test]
fn suggest_does_not_repeat_a_city() {
    let places = gaz().complete("s", 200);
    assert_eq!(places.len(), 200);
    for (i, a) in places.iter().enumerate() {
        assert!(!places[i + 1..].contains(a), "{a:?} repeated");
    }
}

#[tokio::test]
async fn works_through_the_trait_object() {
    let geocoder: Box<dyn Geocoder> = Box::new(OfflineGazetteer::new());
    assert_eq!(geocoder.service_name(), "offline");
    let resolution = geocoder.resolve("Nairobi, KE", None).await.unwrap();
    assert_eq!(resolution.place().map(Place::display).as_deref(), Some("Nairobi, Kenya"));
    assert_eq!(geocoder.suggest("nai", 3).await.unwrap().len(), 3);
}
