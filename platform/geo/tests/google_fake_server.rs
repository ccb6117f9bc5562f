//! GoogleGeocoder against a local stand-in for the Geocoding API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use platform_geo::{GeoError, Geocoder, GoogleGeocoder, Resolution};
use serde_json::{json, Value};

const KEY: &str = "test-key-123";

type Seen = Arc<Mutex<Vec<HashMap<String, String>>>>;

/// Answers like Google does: HTTP 200 with the outcome in `status`.
async fn geocode(State(seen): State<Seen>, Query(params): Query<HashMap<String, String>>) -> Json<Value> {
    seen.lock().unwrap().push(params.clone());
    if params.get("key").map(String::as_str) != Some(KEY) {
        return Json(json!({
            "error_message": "The provided API key is invalid. ",
            "results": [],
            "status": "REQUEST_DENIED"
        }));
    }
    match params.get("address").map(String::as_str) {
        Some("Nairobi, Kenya") | Some("Nairobi") => Json(nairobi()),
        Some("Paris") => Json(json!({ "results": [paris_fr(), paris_tx()], "status": "OK" })),
        _ => Json(json!({ "results": [], "status": "ZERO_RESULTS" })),
    }
}

fn nairobi() -> Value {
    json!({
        "results": [{
            "address_components": [
                { "long_name": "Nairobi", "short_name": "Nairobi", "types": ["locality", "political"] },
                { "long_name": "Nairobi County", "short_name": "Nairobi County",
                  "types": ["administrative_area_level_1", "political"] },
                { "long_name": "Kenya", "short_name": "KE", "types": ["country", "political"] }
            ],
            "formatted_address": "Nairobi, Kenya",
            "geometry": {
                "bounds": {
                    "northeast": { "lat": -1.1606113, "lng": 37.1038878 },
                    "southwest": { "lat": -1.4448822, "lng": 36.6509322 }
                },
                "location": { "lat": -1.2920659, "lng": 36.8219462 },
                "location_type": "APPROXIMATE",
                "viewport": {
                    "northeast": { "lat": -1.1606113, "lng": 37.1038878 },
                    "southwest": { "lat": -1.4448822, "lng": 36.6509322 }
                }
            },
            "place_id": "ChIJp0lN2HIRLxgRTJKXslQCz_c",
            "types": ["locality", "political"]
        }],
        "status": "OK"
    })
}

fn paris_fr() -> Value {
    json!({
        "address_components": [
            { "long_name": "Paris", "short_name": "Paris", "types": ["locality", "political"] },
            { "long_name": "Île-de-France", "short_name": "IDF", "types": ["administrative_area_level_1", "political"] },
            { "long_name": "France", "short_name": "FR", "types": ["country", "political"] }
        ],
        "formatted_address": "Paris, France",
        "geometry": { "location": { "lat": 48.856614, "lng": 2.3522219 }, "location_type": "APPROXIMATE" },
        "place_id": "ChIJD7fiBh9u5kcRYJSMaMOCCwQ",
        "types": ["locality", "political"]
    })
}

fn paris_tx() -> Value {
    json!({
        "address_components": [
            { "long_name": "Paris", "short_name": "Paris", "types": ["locality", "political"] },
            { "long_name": "Texas", "short_name": "TX", "types": ["administrative_area_level_1", "political"] },
            { "long_name": "United States", "short_name": "US", "types": ["country", "political"] }
        ],
        "formatted_address": "Paris, TX, USA",
        "geometry": { "location": { "lat": 33.6609389, "lng": -95.55551299999999 }, "location_type": "APPROXIMATE" },
        "place_id": "ChIJmysnFgZYSoYRSfPXL5k-8Ew",
        "types": ["locality", "political"]
    })
}

/// Starts the fake API on an ephemeral loopback port; the server task ends
/// with the test's runtime.
async fn fake_google() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new().route("/maps/api/geocode/json", get(geocode)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn ok_response_resolves_and_sends_key_and_address() {
    let (base_url, seen) = fake_google().await;
    let google = GoogleGeocoder::new(KEY).with_base_url(&base_url);
    assert_eq!(google.service_name(), "google");

    let resolution = google.resolve("Nairobi, Kenya", None).await.unwrap();
    let Resolution::Found(place) = resolution else { panic!("expected Found, got {resolution:?}") };
    assert_eq!(place.display(), "Nairobi, Kenya");
    assert_eq!(place.country_code, "KE");
    assert!((place.latitude + 1.2920659).abs() < 1e-9 && (place.longitude - 36.8219462).abs() < 1e-9);

    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].get("key").map(String::as_str), Some(KEY));
    // Decoded by the server, so this also proves the comma/space were encoded.
    assert_eq!(requests[0].get("address").map(String::as_str), Some("Nairobi, Kenya"));
}

#[tokio::test]
async fn ok_response_checks_coordinates() {
    let (base_url, _) = fake_google().await;
    let google = GoogleGeocoder::new(KEY).with_base_url(&base_url);

    let near = google.resolve("Nairobi", Some((-1.03326, 37.06933))).await.unwrap();
    assert!(matches!(near, Resolution::Found(_)), "{near:?}");
    match google.resolve("Nairobi", Some((-4.05466, 39.66359))).await.unwrap() {
        Resolution::Mismatch { place, distance_km } => {
            assert_eq!(place.name, "Nairobi");
            assert!((distance_km - 440.0).abs() < 15.0, "{distance_km}");
        }
        other => panic!("expected Mismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn zero_results_is_not_found() {
    let (base_url, seen) = fake_google().await;
    let google = GoogleGeocoder::new(KEY).with_base_url(&base_url);
    assert_eq!(google.resolve("xqzzv qwrtp", None).await.unwrap(), Resolution::NotFound);
    assert!(google.suggest("xqzzv", 5).await.unwrap().is_empty());
    // Blank input is answered locally, without a request.
    assert_eq!(google.resolve("   ", None).await.unwrap(), Resolution::NotFound);
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn request_denied_is_a_service_error_without_the_key() {
    let (base_url, seen) = fake_google().await;
    let google = GoogleGeocoder::new("wrong-key-456").with_base_url(&base_url);

    let err = google.resolve("Nairobi", None).await.unwrap_err();
    let GeoError::Service(message) = &err else { panic!("expected Service, got {err:?}") };
    assert!(message.starts_with("REQUEST_DENIED"), "{message}");
    assert!(message.contains("API key is invalid"), "{message}");
    assert!(!err.to_string().contains("wrong-key-456"));
    assert_eq!(seen.lock().unwrap()[0].get("key").map(String::as_str), Some("wrong-key-456"));
}

#[tokio::test]
async fn suggest_returns_up_to_limit_results_in_order() {
    let (base_url, _) = fake_google().await;
    let google = GoogleGeocoder::new(KEY).with_base_url(&base_url);

    let both = google.suggest("Paris", 5).await.unwrap();
    let names: Vec<String> = both.iter().map(|p| p.display()).collect();
    assert_eq!(names, ["Paris, France", "Paris, United States"]);
    assert_eq!(google.suggest("Paris", 1).await.unwrap().len(), 1);
    assert!(google.suggest("Paris", 0).await.unwrap().is_empty());
}

#[tokio::test]
async fn unreachable_server_is_a_transport_error_without_the_key() {
    // Bind then drop to get a loopback port that refuses connections.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let google = GoogleGeocoder::new("secret-789").with_base_url(format!("http://127.0.0.1:{port}"));
    let err = google.resolve("Nairobi", None).await.unwrap_err();
    assert!(matches!(err, GeoError::Transport(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("secret-789"), "{err:?}");
}
