//! Standing over HTTP, each test on its own fresh database: level ladders
//! as data (staff change them; bad steps are refused on their field),
//! levels and badges from gifts, the privileges they unlock, and the pages
//! that show them.

use crate::support::{backends, Client, TestApp};
pub use crate::support::{id_of, scene};
use axum::http::{Method, StatusCode};
use chrono::Utc;
use rooms_store::economy;
use serde_json::{json, Value};

pub async fn put(c: &mut Client, path: &str, body: Value) -> crate::support::Resp {
    c.send(Method::PUT, path, Some("application/json"), body.to_string().into_bytes()).await
}

pub async fn staff(app: &TestApp) -> Client {
    let mut s = app.client();
    s.sign_up("boss@example.com", "boss").await;
    platform_db::on_pool!(&app.db, p => { sqlx::query("UPDATE accounts SET role = 'super_admin' WHERE handle = 'boss'").execute(p).await.unwrap(); });
    app.settled().await;
    s
}

#[tokio::test]
async fn levels_are_data_and_unlock_badges_and_entry_notices() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut s = scene(&app, 50).await;
        let ladders = s.fan.get("/api/v1/levels").await.json();
        assert_eq!(ladders["ladders"]["wealth"]["steps"][1]["xp"], 10_856, "{b:?}");
        assert_eq!(ladders["ladders"]["room"]["steps"][1]["xp"], 500_001);
        // Staff only; bad steps refused on their field, nothing written.
        let path = "/api/v1/admin/levels/wealth/2";
        let r = put(&mut s.fan, path, json!({"xp": 40, "badge": "Bronze"})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b:?}: {}", r.body);
        let mut boss = staff(&app).await;
        for (body, field) in [
            (json!({"xp": 40, "badge": "Bronze", "privileges": ["flying"]}), "privileges"),
            (json!({"xp": 0, "badge": "Bronze"}), "xp"),
            (json!({"xp": -1, "badge": "Bronze"}), "xp"),
            (json!({"xp": 40, "badge": " "}), "badge"),
        ] {
            let r = put(&mut boss, path, body.clone()).await;
            assert_eq!(
                (r.status, r.json()["fields"][0]["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
                "{b:?} {body}: {}",
                r.body
            );
        }
        assert_eq!(put(&mut boss, "/api/v1/admin/levels/karma/2", json!({"xp": 40, "badge": "B"})).await.status, StatusCode::NOT_FOUND);
        assert_eq!(s.fan.get("/api/v1/levels").await.json()["ladders"]["wealth"]["steps"][1]["xp"], 10_856, "{b:?}: unchanged");
        let r = put(&mut boss, path, json!({"xp": 40, "badge": "Bronze", "privileges": ["entry_notice", "coloured_name"]})).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
        // One gift of 50 coins: the fan's wealth reaches level 2.
        economy::grant(&app.db, s.fan_id, 1_000, "fund", None, Utc::now()).await.unwrap();
        let mine = s.fan.get("/api/v1/me/levels").await.json();
        assert_eq!((mine["wealth"]["level"].as_i64(), mine["privileges"].as_array().map(Vec::len)), (Some(1), Some(0)), "{b:?}: {mine}");
        let r = s
            .fan
            .post(&format!("/api/v1/rooms/{}/gifts", s.room), json!({"gift_id": s.gift, "to": s.star_id, "idempotency_key": "g1"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let mine = s.fan.get("/api/v1/me/levels").await.json();
        assert_eq!((mine["wealth"]["level"].as_i64(), mine["wealth"]["badge"].as_str()), (Some(2), Some("Bronze")), "{b:?}: {mine}");
        assert_eq!(mine["privileges"], json!(["coloured_name", "entry_notice"]));
        assert_eq!(mine["reached"][0]["level"], 2);
        let up = rooms_store::events::user_since(&app.db, s.fan_id, 0, 100).await.unwrap();
        assert_eq!(up.iter().filter(|e| e.kind == "level_up").count(), 1, "{b:?}");
        // Badges of several people at once; bad lists refused on the field.
        let v = s.owner.get(&format!("/api/v1/badges?accounts={},{}", s.fan_id, s.star_id)).await.json();
        assert_eq!((v["badges"][0]["wealth"].as_i64(), v["badges"][0]["coloured"].as_bool()), (Some(2), Some(true)), "{v}");
        assert_eq!((v["badges"][1]["wealth"].as_i64(), v["badges"][1]["charm"].as_i64()), (Some(1), Some(1)));
        for q in ["", "?accounts=", "?accounts=nope"] {
            let r = s.owner.get(&format!("/api/v1/badges{q}")).await;
            assert_eq!((r.status, r.json()["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("accounts")), "{q}");
        }
        assert_eq!(s.owner.get(&format!("/api/v1/rooms/{}/level", s.room)).await.json()["level"]["xp"], 50);
        // Entering again is announced to the room (the fan's level allows it).
        assert!(s.fan.post(&format!("/api/v1/rooms/{}/leave", s.room), json!({})).await.status.is_success());
        assert!(s.fan.post(&format!("/api/v1/rooms/{}/join", s.room), json!({})).await.status.is_success());
        let events = rooms_store::events::room_since(&app.db, s.room, 0, 1000).await.unwrap();
        let notices: Vec<Value> = events.iter().filter(|e| e.kind == "entry_notice").map(|e| e.data()).collect();
        assert_eq!(notices.len(), 1, "{b:?}: {notices:?}");
        assert_eq!((notices[0]["name"].as_str(), notices[0]["badge"].as_str()), (Some("fan Person"), Some("Bronze")));
        // The pages show the badges.
        let page = s.owner.get(&format!("/rooms/{}", s.room)).await.body;
        assert!(page.contains(&format!("data-badges=\"{}\"", s.fan_id)) && page.contains("class=\"coloured\""), "{b:?}");
        assert!(page.contains("Room level 1 · Cozy"), "{b:?}");
        let levels = s.fan.get("/levels").await;
        assert_eq!(levels.status, StatusCode::OK);
        assert!(levels.body.contains("Bronze") && levels.body.contains("rooms announce you when you enter"), "{b:?}");
        let profile = s.owner.get(&format!("/u/{}", s.fan.get("/api/v1/me").await.json()["account"]["public_number"])).await.body;
        assert!(profile.contains("W2"), "{b:?}");
        assert!(rooms_store::check::run(&app.db).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn frames_are_bought_worn_and_shown_on_the_avatar() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut s = scene(&app, 50).await;
        let list = s.fan.get("/api/v1/frames").await.json();
        let frames = list["frames"].as_array().unwrap();
        assert_eq!(frames.len(), 4, "{b:?}");
        let gold = frames.iter().find(|f| f["code"] == "gold").unwrap()["id"].as_str().unwrap().to_string();
        let royal = frames.iter().find(|f| f["code"] == "royal").unwrap()["id"].as_str().unwrap().to_string();
        let buy = format!("/api/v1/frames/{gold}/purchase");
        // Bad input names its field.
        for (body, field) in [
            (json!({"idempotency_key": "k"}), "price"),
            (json!({"price": 500}), "idempotency_key"),
            (json!({"price": 500, "idempotency_key": ""}), "idempotency_key"),
        ] {
            let r = s.fan.post(&buy, body.clone()).await;
            assert_eq!(
                (r.status, r.json()["fields"][0]["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
                "{b:?} {body}: {}",
                r.body
            );
        }
        // Too few coins: 402 with required and available; nothing written.
        let r = s.fan.post(&buy, json!({"price": 500, "idempotency_key": "k1"})).await;
        assert_eq!(
            (r.status, r.json()["required"].as_i64(), r.json()["available"].as_i64()),
            (StatusCode::PAYMENT_REQUIRED, Some(500), Some(0)),
            "{b:?}: {}",
            r.body
        );
        assert_eq!(s.fan.get("/api/v1/me/frames").await.json()["frames"], json!([]));
        economy::grant(&app.db, s.fan_id, 1_000, "fund", None, Utc::now()).await.unwrap();
        let r = s.fan.post(&buy, json!({"price": 400, "idempotency_key": "k1"})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "price_changed".to_string()), "{b:?}: {}", r.body);
        let r = s.fan.post(&format!("/api/v1/frames/{royal}/purchase"), json!({"price": 8000, "idempotency_key": "k1"})).await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "level_required".to_string()), "{b:?}: {}", r.body);
        let r = s.fan.post(&buy, json!({"price": 500, "idempotency_key": "k1"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        assert_eq!(r.json()["purchase"]["balance"], 500);
        let r = s.fan.post(&buy, json!({"price": 500, "idempotency_key": "k1"})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "duplicate_purchase".to_string()), "{b:?}");
        assert_eq!(s.fan.get("/api/v1/coins").await.json()["coins"], 500, "{b:?}: charged once");
        // Wear it: shown on the avatar wherever the fan appears.
        let r = s.fan.post("/api/v1/me/frames/wear", json!({"frame_id": royal})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "not_owned".to_string()), "{b:?}");
        let r = s.fan.post("/api/v1/me/frames/wear", json!({"frame_id": gold})).await;
        assert_eq!((r.status, r.json()["frames"][0]["worn"].as_bool()), (StatusCode::OK, Some(true)), "{b:?}: {}", r.body);
        let v = s.owner.get(&format!("/api/v1/badges?accounts={}", s.fan_id)).await.json();
        assert_eq!(v["badges"][0]["frame"], "gold", "{b:?}");
        let page = s.owner.get(&format!("/rooms/{}", s.room)).await.body;
        assert!(page.contains("av frame-gold"), "{b:?}");
        // The page buys (stacking time) and takes the frame off.
        let frames_page = s.fan.get("/frames").await;
        assert!(frames_page.body.contains("Gold ring") && frames_page.body.contains("worn"), "{b:?}");
        let r = s.fan.form(&format!("/frames/{gold}/buy"), &[("price", "500"), ("key", "page-1")]).await;
        assert_eq!(r.location(), "/frames?notice=bought", "{b:?}: {}", r.body);
        let mine = s.fan.get("/api/v1/me/frames").await.json();
        let until: chrono::DateTime<Utc> = mine["frames"][0]["expires_at"].as_str().unwrap().parse().unwrap();
        assert!(until > Utc::now() + chrono::Duration::days(59), "{b:?}: stacked to about 60 days, {until}");
        let r = s.fan.form("/frames/wear", &[("frame", "")]).await;
        assert_eq!(r.location(), "/frames?notice=off");
        let r = s.fan.form("/frames/wear", &[("frame", "nope")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}");
        assert_eq!(s.owner.get(&format!("/api/v1/badges?accounts={}", s.fan_id)).await.json()["badges"][0]["frame"], Value::Null);
        assert!(rooms_web::jobs::Job::from_name("frames").is_some());
        assert!(rooms_store::check::run(&app.db).await.unwrap().is_empty());
    }
}
