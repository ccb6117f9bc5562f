//! Logos through the API: stored at 512×512 from the centre, whatever the
//! upload's size; things that are not pictures refused on the field.

use crate::support::{backends, multipart, TestApp};
use axum::http::{Method, StatusCode};
use image::ImageFormat;
use rooms_web::media::sample_picture;
use serde_json::json;

#[tokio::test]
async fn a_logo_is_stored_at_512_by_512() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut c = app.client();
        c.sign_up("lola@example.com", "lola").await;
        let room = c.post("/api/v1/rooms", json!({"name": "Lola's"})).await.json();
        let id = room["room"]["id"].as_str().unwrap().to_string();

        let (ct, body) = multipart("logo", "wide.jpg", "image/jpeg", &sample_picture(1200, 700, ImageFormat::Jpeg));
        let r = c.send(Method::POST, &format!("/api/v1/rooms/{id}/logo"), Some(&ct), body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let url = r.json()["room"]["logo_url"].as_str().unwrap().to_string();
        assert!(url.ends_with(".jpg"), "{url}");
        let got = c.get(&url).await;
        assert_eq!(got.headers["content-type"], "image/jpeg");
        let img = image::load_from_memory(got.body_bytes()).unwrap();
        assert_eq!((img.width(), img.height()), (512, 512));

        // Text dressed as a PNG, and a PNG header with nothing behind it.
        for (name, bytes) in [("fake.png", b"hello, not a picture".to_vec()), ("broken.png", platform_media::samples::png(600, 600))] {
            let (ct, body) = multipart("logo", name, "image/png", &bytes);
            let r = c.send(Method::POST, &format!("/api/v1/rooms/{id}/logo"), Some(&ct), body).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
            assert_eq!(r.json()["fields"][0]["field"], "logo", "{name}");
        }
        let still = c.get(&format!("/api/v1/rooms/{id}")).await.json();
        assert_eq!(still["state"]["room"]["logo_url"].as_str(), Some(url.as_str()), "a refused upload changes nothing");
    }
}
