//! VIP over HTTP, each test on its own fresh database: the tiers, buying
//! and renewing (bad input named on its field, 402 with the numbers, stale
//! prices and repeated keys refused), the badge next to the name, the page,
//! VIP-only gifts, the shield against room admins and the entry notice.

use crate::status::{id_of, scene};
use crate::support::{backends, TestApp};
use axum::http::StatusCode;
use chrono::Utc;
use rooms_store::economy;
use rooms_store::gifts::{self, NewGift};
use serde_json::json;

#[tokio::test]
async fn vip_is_bought_renewed_and_shown_next_to_the_name() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut s = scene(&app, 50).await;
        let tiers = s.fan.get("/api/v1/vip").await.json();
        assert_eq!(tiers["tiers"].as_array().unwrap().len(), 7, "{b:?}");
        assert_eq!(tiers["tiers"][0]["price"], 1_000, "{b:?}");
        assert_eq!(tiers["tiers"][3]["unlocks"].as_array().unwrap().len(), 5, "{b:?}: VIP 4 with the tiers below");
        // Bad input names its field.
        for (path, body, field) in [
            ("/api/v1/vip/abc/purchase", json!({"price": 1000, "idempotency_key": "k"}), "tier"),
            ("/api/v1/vip/9/purchase", json!({"price": 1000, "idempotency_key": "k"}), "tier"),
            ("/api/v1/vip/0/purchase", json!({"price": 1000, "idempotency_key": "k"}), "tier"),
            ("/api/v1/vip/1/purchase", json!({"idempotency_key": "k"}), "price"),
            ("/api/v1/vip/1/purchase", json!({"price": 1000}), "idempotency_key"),
            ("/api/v1/vip/1/purchase", json!({"price": 1000, "idempotency_key": ""}), "idempotency_key"),
        ] {
            let r = s.fan.post(path, body.clone()).await;
            assert_eq!(
                (r.status, r.json()["fields"][0]["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
                "{b:?} {path} {body}: {}",
                r.body
            );
            assert!(!r.json()["fields"][0]["message"].as_str().unwrap_or_default().is_empty(), "{b:?}: a readable message");
        }
        // Too few coins: 402 with required and available; nothing written.
        let buy = "/api/v1/vip/1/purchase";
        let r = s.fan.post(buy, json!({"price": 1000, "idempotency_key": "k1"})).await;
        assert_eq!(
            (r.status, r.json()["required"].as_i64(), r.json()["available"].as_i64()),
            (StatusCode::PAYMENT_REQUIRED, Some(1_000), Some(0)),
            "{b:?}: {}",
            r.body
        );
        assert_eq!(s.fan.get("/api/v1/me/vip").await.json()["vip"], serde_json::Value::Null);
        economy::grant(&app.db, s.fan_id, 25_000, "fund", None, Utc::now()).await.unwrap();
        let r = s.fan.post(buy, json!({"price": 999, "idempotency_key": "k1"})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "price_changed".to_string()), "{b:?}: {}", r.body);
        let r = s.fan.post(buy, json!({"price": 1000, "idempotency_key": "k1"})).await;
        assert_eq!((r.status, r.json()["purchase"]["kind"].as_str()), (StatusCode::CREATED, Some("new")), "{b:?}: {}", r.body);
        let r = s.fan.post(buy, json!({"price": 1000, "idempotency_key": "k1"})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "duplicate_purchase".to_string()), "{b:?}");
        assert_eq!(s.fan.get("/api/v1/coins").await.json()["coins"], 24_000, "{b:?}: charged once");
        let me = s.fan.get("/api/v1/me/vip").await.json();
        assert_eq!((me["vip"]["tier"].as_i64(), me["purchases"].as_array().unwrap().len()), (Some(1), 1), "{b:?}: {me}");
        // The badge, through the API and on the room page.
        let v = s.owner.get(&format!("/api/v1/badges?accounts={}", s.fan_id)).await.json();
        assert_eq!((v["badges"][0]["vip"].as_i64(), v["badges"][0]["vip_name"].as_str()), (Some(1), Some("VIP 1")), "{b:?}");
        let page = s.owner.get(&format!("/rooms/{}", s.room)).await.body;
        assert!(page.contains(r#"<span class="vip-chip" title="VIP 1">VIP 1</span>"#), "{b:?}");
        // The page renews (stacking) and upgrades; a lower tier is then refused.
        let p = s.fan.get("/vip").await;
        assert!(p.body.contains("VIP 1</span> until") && p.body.contains("Renew"), "{b:?}");
        let r = s.fan.form("/vip/1/buy", &[("price", "1000"), ("key", "page-1")]).await;
        assert_eq!(r.location(), "/vip?notice=renewal", "{b:?}: {}", r.body);
        let until: chrono::DateTime<Utc> = s.fan.get("/api/v1/me/vip").await.json()["vip"]["expires_at"].as_str().unwrap().parse().unwrap();
        assert!(until > Utc::now() + chrono::Duration::days(59), "{b:?}: about 60 days, {until}");
        let r = s.fan.form("/vip/4/buy", &[("price", "20000"), ("key", "page-2")]).await;
        assert_eq!(r.location(), "/vip?notice=upgrade", "{b:?}: {}", r.body);
        let r = s.fan.post(buy, json!({"price": 1000, "idempotency_key": "k2"})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "higher_tier_held".to_string()), "{b:?}: {}", r.body);
        assert!(r.json()["message"].as_str().unwrap().contains("You hold VIP 4 until"), "{b:?}");
        let r = s.fan.form("/vip/x/buy", &[("price", "1"), ("key", "page-3")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}");
        // Signed out: refused.
        let r = app.client().get("/api/v1/me/vip").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{b:?}");
        assert!(rooms_web::jobs::Job::from_name("vip").is_some());
        assert!(rooms_store::check::run(&app.db).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn vip_privileges_apply_in_the_room() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut s = scene(&app, 50).await;
        let room = s.room;
        // The star becomes a room admin; the fan a seated VIP 5.
        let r = s.owner.post(&format!("/api/v1/rooms/{room}/actions/appoint_admin"), json!({"account": s.star_id})).await;
        assert!(r.status.is_success(), "{b:?}: {}", r.body);
        let vip_only = NewGift {
            code: "crown",
            name: "Crown",
            category: "vip",
            rarity: "epic",
            price: 100,
            wealth_pct: 100,
            charm_pct: 100,
            animation: "crown.svg",
            sort: 0,
            min_vip: 5,
        };
        let crown = gifts::create_gift(&app.db, &vip_only).await.unwrap().to_string();
        economy::grant(&app.db, s.fan_id, 60_000, "fund", None, Utc::now()).await.unwrap();
        let send = |key: &str| json!({"gift_id": crown, "to": s.star_id, "quantity": 1, "idempotency_key": key});
        let r = s.fan.post(&format!("/api/v1/rooms/{room}/gifts"), send("g1")).await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "vip_required".to_string()), "{b:?}: {}", r.body);
        assert!(r.json()["message"].as_str().unwrap().contains("VIP 5"), "{b:?}");
        assert_eq!(s.fan.get("/api/v1/coins").await.json()["coins"], 60_000, "{b:?}: nothing charged");
        let r = s.fan.post("/api/v1/vip/5/purchase", json!({"price": 50000, "idempotency_key": "v5"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        let r = s.fan.post(&format!("/api/v1/rooms/{room}/gifts"), send("g2")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        // Re-entering, the VIP is announced.
        assert!(s.fan.post(&format!("/api/v1/rooms/{room}/leave"), json!({})).await.status.is_success());
        assert!(s.fan.post(&format!("/api/v1/rooms/{room}/join"), json!({})).await.status.is_success());
        let evs = rooms_store::events::room_since(&app.db, room, 0, 500).await.unwrap();
        let notice = evs.iter().rev().find(|e| e.kind == "entry_notice").map(|e| e.data());
        assert_eq!(notice.as_ref().and_then(|d| d["vip"].as_i64()), Some(5), "{b:?}: {notice:?}");
        // On a seat: the room admin can neither mute nor kick; the owner can.
        assert!(s.fan.post(&format!("/api/v1/rooms/{room}/actions/take_seat"), json!({})).await.status.is_success());
        let fan = s.fan_id;
        let star = &mut s.star;
        for action in ["mute", "remove_from_seat", "kick", "block"] {
            let r = star.post(&format!("/api/v1/rooms/{room}/actions/{action}"), json!({"account": fan})).await;
            assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "vip_protected".to_string()), "{b:?} {action}: {}", r.body);
            assert!(r.json()["message"].as_str().unwrap().contains("room owner"), "{b:?}");
        }
        let r = s.owner.post(&format!("/api/v1/rooms/{room}/actions/mute"), json!({"account": fan})).await;
        assert!(r.status.is_success(), "{b:?}: {}", r.body);
        // The owner's own tier adds seats to the owner's room.
        let owner_id = id_of(&mut s.owner).await;
        economy::grant(&app.db, owner_id, 3_000, "fund-owner", None, Utc::now()).await.unwrap();
        let r = s.owner.post("/api/v1/vip/2/purchase", json!({"price": 3000, "idempotency_key": "o2"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        let room_now = rooms_store::rooms::get(&app.db, room).await.unwrap().unwrap();
        assert_eq!(room_now.seats(), room_now.seat_count + 1, "{b:?}");
        assert!(rooms_store::check::run(&app.db).await.unwrap().is_empty());
    }
}
