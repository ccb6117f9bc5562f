//! Places that cannot be taken as typed: corrected suggestions for a typo
//! or a disagreeing device position, every failure logged, an outage of
//! the geocoder included.

use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_store::users;
use serde_json::json;
use std::sync::Arc;

fn signup(name: &str, location: &str, coords: Option<(f64, f64)>) -> serde_json::Value {
    let mut body = signup_body(name);
    body["location"] = json!(location);
    if let Some((lat, lon)) = coords {
        body["latitude"] = json!(lat);
        body["longitude"] = json!(lon);
    }
    body
}

fn location_error(r: &Resp) -> String {
    let v = r.json();
    v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "location")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_misspelt_city_gets_corrected_suggestions_and_is_logged() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let r = app.client().json(Method::POST, "/api/auth/signup", signup("typo_user", "Nairobbi", None)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let msg = location_error(&r);
        assert!(msg.contains("Did you mean") && msg.contains("Nairobi, Kenya"), "{msg}");
        let log = users::location_log(&app.db, 5).await.unwrap();
        assert_eq!(log[0].location_text, "Nairobbi");
        assert_eq!(log[0].validation_error.as_deref(), Some("not found"));
        assert_eq!(log[0].corrected_location.as_deref(), Some("Nairobi, Kenya"));

        // The form offers them as one-click choices.
        let mut c = app.client();
        c.get("/get-started").await;
        let fields = [
            ("username", "typo_form"),
            ("location", "Mombasaa"),
            ("gender", "male"),
            ("looking_for", "female"),
            ("age", "30"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
            ("accept_terms", "on"),
        ];
        let page = c.post_form("/get-started", &fields).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.contains(r#"data-pick-location="Mombasa, Kenya""#), "{}", page.body);
        // Choosing it goes through.
        let mut fixed = fields;
        fixed[1] = ("location", "Mombasa, Kenya");
        assert_eq!(c.post_form("/get-started", &fixed).await.status, StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn a_city_far_from_the_device_offers_itself_and_is_logged() {
    for b in backends() {
        let app = TestApp::new(b).await;
        // Nairobi typed, Mombasa's position reported.
        let r = app.client().json(Method::POST, "/api/auth/signup", signup("far_user", "Nairobi", Some((-4.05466, 39.66359)))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let msg = location_error(&r);
        assert!(msg.contains("Choose Nairobi, Kenya to use it anyway") && msg.contains(" km "), "{msg}");
        let log = users::location_log(&app.db, 5).await.unwrap();
        assert!(log[0].validation_error.as_deref().unwrap().starts_with("coordinates mismatch: 4"), "{:?}", log[0]);
        assert_eq!(log[0].corrected_location.as_deref(), Some("Nairobi, Kenya"));
        // Without the position, the same city is accepted.
        assert_eq!(
            app.client().json(Method::POST, "/api/auth/signup", signup("far_user", "Nairobi", None)).await.status,
            StatusCode::CREATED
        );
    }
}

#[tokio::test]
async fn a_geocoder_outage_is_logged_and_answered_politely() {
    // A Google geocoder whose server is gone.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    for b in backends() {
        let geocoder = platform_geo::GoogleGeocoder::new("test-key").with_base_url(format!("http://{closed}"));
        let app = TestApp::with_geocoder(b, Arc::new(geocoder)).await;
        let r = app.client().json(Method::POST, "/api/auth/signup", signup("outage_user", "Nairobi", None)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(location_error(&r).contains("unavailable right now"));
        assert!(!users::username_taken(&app.db, "outage_user").await.unwrap(), "nothing created");
        let log = users::location_log(&app.db, 5).await.unwrap();
        assert_eq!(log[0].geocoding_service, "google");
        assert!(log[0].validation_error.as_deref().unwrap().starts_with("geocoder unavailable"), "{:?}", log[0]);
        assert!(!log[0].validation_error.as_deref().unwrap().contains("test-key"), "the key is never logged");
        // The autocomplete says the service is down instead of failing.
        let r = app.client().api_get("/api/locations/suggest?q=Nair").await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    }
}
