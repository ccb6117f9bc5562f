//! Themes (chosen by the owner, the stylesheet generated from the rows)
//! and background music (an uploaded track judged from its bytes, played
//! and stopped for everyone) through the API and the room page.

use crate::support::{backends, multipart, TestApp};
use axum::http::{Method, StatusCode};
use serde_json::json;

async fn kinds_since(app: &TestApp, room: &str) -> Vec<(String, serde_json::Value)> {
    let id: rooms_domain::ids::RoomId = room.parse().unwrap();
    rooms_store::events::room_since(&app.db, id, 0, 100).await.unwrap().into_iter().map(|e| (e.kind.clone(), e.data())).collect()
}

#[tokio::test]
async fn the_owner_chooses_a_theme_everyone_sees() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut owner = app.client();
        owner.sign_up("ola@example.com", "ola").await;
        let room = owner.post("/api/v1/rooms", json!({"name": "Themed"})).await.json()["room"].clone();
        let id = room["id"].as_str().unwrap().to_string();
        assert_eq!(room["theme_id"], "night", "the default theme");

        let themes = owner.get("/api/v1/themes").await.json()["themes"].clone();
        let ids: Vec<&str> = themes.as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["night", "ocean", "sunset", "forest", "plum"]);
        let css = owner.get("/assets/themes.css").await;
        assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
        assert!(css.body.contains(".theme-ocean { background: linear-gradient(180deg, #03264a, #0b6e8a); }"), "{}", css.body);

        let r = owner.post(&format!("/api/v1/rooms/{id}/theme"), json!({"theme": "ocean"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["room"]["theme_id"], "ocean");
        assert!(kinds_since(&app, &id).await.iter().any(|(k, d)| k == "settings" && d["theme"] == "ocean"), "everyone is told");
        let unknown = owner.post(&format!("/api/v1/rooms/{id}/theme"), json!({"theme": "nope"})).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(unknown.json()["fields"][0]["field"], "theme");

        // Someone else, even a room admin, does not choose.
        let mut guest = app.client();
        let g = guest.sign_up("gus@example.com", "gus").await;
        guest.post(&format!("/api/v1/rooms/{id}/join"), json!({})).await;
        owner.post(&format!("/api/v1/rooms/{id}/actions/appoint_admin"), json!({"account": g["account"]["id"]})).await;
        assert_eq!(guest.post(&format!("/api/v1/rooms/{id}/theme"), json!({"theme": "plum"})).await.code(), "owner_only");

        // The page wears it; the owner sees the choices, others do not.
        let page = owner.get(&format!("/rooms/{id}")).await.body;
        assert!(page.contains("class=\"room theme-ocean\"") && page.contains("/assets/themes.css"));
        assert!(page.contains("value=\"sunset\""));
        let guest_page = guest.get(&format!("/rooms/{id}")).await.body;
        assert!(guest_page.contains("class=\"room theme-ocean\"") && !guest_page.contains("value=\"sunset\""));
    }
}

#[tokio::test]
async fn background_music_is_uploaded_played_and_stopped_for_everyone() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut owner = app.client();
        owner.sign_up("dj@example.com", "deejay").await;
        let id = owner.post("/api/v1/rooms", json!({"name": "Tunes"})).await.json()["room"]["id"].as_str().unwrap().to_string();
        let music = format!("/api/v1/rooms/{id}/music");

        assert_eq!(owner.post(&format!("{music}/play"), json!({})).await.code(), "no_track", "nothing to play yet");
        let (ct, body) = multipart("track", "song.mp3", "audio/mpeg", b"<svg xmlns='http://www.w3.org/2000/svg'/>");
        let r = owner.send(Method::POST, &music, Some(&ct), body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["fields"][0]["field"], "track");

        let mp3 = [b"ID3\x04\0\0\0\0\0\0".as_slice(), &[0xFF, 0xFB, 0x90, 0x64], &[0u8; 400]].concat();
        let (ct, body) = multipart("track", "Morning Walk.mp3", "audio/mpeg", &mp3);
        let r = owner.send(Method::POST, &music, Some(&ct), body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let room = r.json()["room"].clone();
        assert_eq!(room["music_title"], "Morning Walk");
        assert!(room["music_started_at"].is_null(), "a new track waits to be played");
        let url = room["music_url"].as_str().unwrap().to_string();
        let file = owner.get(&url).await;
        assert_eq!((file.status, file.headers["content-type"].to_str().unwrap()), (StatusCode::OK, "audio/mpeg"));
        assert_eq!(file.body_bytes(), mp3.as_slice());

        // A listener may not play it.
        let mut guest = app.client();
        guest.sign_up("lis@example.com", "lis").await;
        guest.post(&format!("/api/v1/rooms/{id}/join"), json!({})).await;
        assert_eq!(guest.post(&format!("{music}/play"), json!({})).await.code(), "not_moderator");

        let played = owner.post(&format!("{music}/play"), json!({})).await.json();
        assert!(played["room"]["music_started_at"].is_string());
        let page = guest.get(&format!("/rooms/{id}")).await.body;
        assert!(page.contains("♪ Morning Walk") && page.contains(&format!("data-music=\"{url}|")), "the page plays it from the start time");
        let stopped = owner.post(&format!("{music}/stop"), json!({})).await.json();
        assert!(stopped["room"]["music_started_at"].is_null());
        let music_events: Vec<bool> =
            kinds_since(&app, &id).await.into_iter().filter(|(k, _)| k == "music").map(|(_, d)| d["playing"].as_bool().unwrap()).collect();
        assert_eq!(music_events, [false, true, false], "upload, play, stop: each told to everyone");
        assert!(guest.get(&format!("/rooms/{id}")).await.body.contains("data-music=\"\""));
    }
}
