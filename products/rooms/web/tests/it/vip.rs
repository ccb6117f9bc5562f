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
        let vip_only =
            NewGift { category: "vip", rarity: "epic", animation: "crown.svg", min_vip: 5, ..NewGift::plain("crown", "Crown", 100) };
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

#[tokio::test]
async fn vip_is_given_through_the_api_and_the_page_with_a_confirmation() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut s = scene(&app, 50).await;
        let (_, star_number) = crate::economy::id_of(&mut s.star).await;
        let (owner_id, owner_number) = crate::economy::id_of(&mut s.owner).await;
        let (_, fan_number) = crate::economy::id_of(&mut s.fan).await;
        let give = "/api/v1/vip/1/gift";
        // Bad input names its field; nothing is written.
        for (path, body, field) in [
            ("/api/v1/vip/9/gift", json!({"recipient": star_number, "price": 1000, "idempotency_key": "k"}), "tier"),
            (give, json!({"price": 1000, "idempotency_key": "k"}), "recipient"),
            (give, json!({"recipient": 99_999_999_999_i64, "price": 1000, "idempotency_key": "k"}), "recipient"),
            (give, json!({"recipient": "nobody", "price": 1000, "idempotency_key": "k"}), "recipient"),
            (give, json!({"recipient": fan_number, "price": 1000, "idempotency_key": "k"}), "recipient"),
            (give, json!({"recipient": star_number, "idempotency_key": "k"}), "price"),
            (give, json!({"recipient": star_number, "price": 1000}), "idempotency_key"),
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
        let r = s.fan.post(give, json!({"recipient": star_number, "price": 1000, "idempotency_key": "k1"})).await;
        assert_eq!((r.status, r.json()["required"].as_i64()), (StatusCode::PAYMENT_REQUIRED, Some(1_000)), "{b:?}: {}", r.body);
        economy::grant(&app.db, s.fan_id, 25_000, "fund", None, Utc::now()).await.unwrap();
        // By public number: given, the giver pays once, the recipient holds it and is told.
        let r = s.fan.post(give, json!({"recipient": star_number, "price": 1000, "idempotency_key": "k1"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        assert_eq!(
            (r.json()["purchase"]["balance"].as_i64(), r.json()["to"]["id"].as_str()),
            (Some(24_000), Some(s.star_id.to_string().as_str()))
        );
        let r = s.fan.post(give, json!({"recipient": star_number, "price": 1000, "idempotency_key": "k1"})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "duplicate_purchase".to_string()), "{b:?}");
        assert_eq!(s.fan.get("/api/v1/coins").await.json()["coins"], 24_000, "{b:?}: charged once");
        assert_eq!(s.star.get("/api/v1/coins").await.json()["coins"], 0, "{b:?}");
        let star_vip = s.star.get("/api/v1/me/vip").await.json();
        assert_eq!(star_vip["vip"]["tier"], 1, "{b:?}: {star_vip}");
        assert_eq!(star_vip["purchases"][0]["given_by"], s.fan_id.to_string(), "{b:?}: {star_vip}");
        let told = rooms_store::events::user_since(&app.db, s.star_id, 0, 100).await.unwrap();
        assert!(told.iter().any(|e| e.kind == "vip_gift" && e.data()["from"]["id"] == s.fan_id.to_string()), "{b:?}");
        // By account id, a higher tier held: 409 with a readable message, nothing charged.
        economy::grant(&app.db, s.star_id, 20_000, "fund-star", None, Utc::now()).await.unwrap();
        assert_eq!(
            s.star.post("/api/v1/vip/4/purchase", json!({"price": 20000, "idempotency_key": "s4"})).await.status,
            StatusCode::CREATED
        );
        let r = s.fan.post(give, json!({"recipient": s.star_id.to_string(), "price": 1000, "idempotency_key": "k2"})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "recipient_higher_tier".to_string()), "{b:?}: {}", r.body);
        assert!(r.json()["message"].as_str().unwrap().contains("They hold VIP 4 until"), "{b:?}");
        assert_eq!(s.fan.get("/api/v1/coins").await.json()["coins"], 24_000, "{b:?}");
        // The page: the form, the confirmation with the price, then given.
        let p = s.fan.get("/vip").await;
        assert!(p.body.contains(r#"id="give-vip""#) && p.body.contains(r#"action="/vip/give""#), "{b:?}");
        let number = owner_number.to_string();
        let confirm = s.fan.form("/vip/give", &[("tier", "2"), ("recipient", &number)]).await;
        assert_eq!(confirm.status, StatusCode::OK, "{b:?}: {}", confirm.body);
        assert!(confirm.body.contains("owner Person") && confirm.body.contains("3000</b> coins"), "{b:?}: {}", confirm.body);
        assert_eq!(rooms_store::vip::tier_of(&app.db, owner_id, Utc::now()).await.unwrap(), 0, "{b:?}: nothing given before confirming");
        let key = confirm.body.split(r#"name="key" value=""#).nth(1).and_then(|t| t.split('"').next()).unwrap().to_string();
        let done =
            s.fan.form("/vip/give", &[("tier", "2"), ("recipient", &number), ("price", "3000"), ("key", &key), ("confirm", "yes")]).await;
        assert_eq!(done.location(), "/vip?notice=given", "{b:?}: {}", done.body);
        let again =
            s.fan.form("/vip/give", &[("tier", "2"), ("recipient", &number), ("price", "3000"), ("key", &key), ("confirm", "yes")]).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{b:?}: the confirmation posted twice gives once");
        assert_eq!(rooms_store::vip::tier_of(&app.db, owner_id, Utc::now()).await.unwrap(), 2, "{b:?}");
        assert_eq!(s.fan.get("/api/v1/coins").await.json()["coins"], 21_000, "{b:?}");
        assert!(s.fan.get("/vip?notice=given").await.body.contains("VIP given"), "{b:?}");
        assert!(rooms_store::check::run(&app.db).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn when_a_tier_ends_its_seats_go_and_whoever_sat_there_is_muted_in_voice() {
    use rooms_web::voice::VoiceChange;
    for b in backends() {
        let told = std::sync::Arc::new(crate::voice::Told::default());
        let app = TestApp::with_voice(b, told.clone()).await;
        let mut s = scene(&app, 50).await;
        let room = s.room;
        let owner_id = id_of(&mut s.owner).await;
        // The owner's VIP 2 adds a sixth seat (the scene's room has five); the fan sits on it.
        economy::grant(&app.db, owner_id, 3_000, "fund-owner", None, Utc::now()).await.unwrap();
        let r = s.owner.post("/api/v1/vip/2/purchase", json!({"price": 3000, "idempotency_key": "o2"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        let extra = rooms_store::rooms::get(&app.db, room).await.unwrap().unwrap().seats();
        let r = s.fan.post(&format!("/api/v1/rooms/{room}/actions/take_seat"), json!({"seat": extra})).await;
        assert!(r.status.is_success(), "{b:?}: {}", r.body);
        told.0.lock().unwrap().clear();
        // The job, after the tier's end.
        let run = rooms_web::jobs::runner(app.db.clone(), told.clone(), Default::default());
        let out = run(rooms_web::jobs::Job::Vip, Utc::now() + chrono::Duration::days(31)).await.unwrap();
        assert_eq!((out["expired"].as_u64(), out["unseated"].as_u64()), (Some(1), Some(1)), "{b:?}: {out}");
        assert_eq!(*told.0.lock().unwrap(), [VoiceChange::Unseated { room, account: s.fan_id }], "{b:?}: muted in voice");
        let st = rooms_store::presence::state(&app.db, room).await.unwrap();
        assert_eq!(st.seats.len() as i64, extra - 1, "{b:?}");
        assert!(!st.seats.iter().any(|x| x.occupant_id == Some(s.fan_id)), "{b:?}: off the seat");
        assert!(st.seats.iter().any(|x| x.occupant_id == Some(s.star_id)), "{b:?}: the star keeps an ordinary seat");
        assert!(rooms_store::presence::is_present(&app.db, room, s.fan_id).await.unwrap(), "{b:?}: still in the room");
        assert!(rooms_store::check::run(&app.db).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn fewer_seats_take_the_people_on_removed_seats_out_of_voice() {
    use rooms_web::voice::VoiceChange;
    for b in backends() {
        let told = std::sync::Arc::new(crate::voice::Told::default());
        let app = TestApp::with_voice(b, told.clone()).await;
        let mut s = scene(&app, 50).await;
        let room = s.room;
        // The fan sits on the last of the room's five seats; the owner keeps three.
        let r = s.fan.post(&format!("/api/v1/rooms/{room}/actions/take_seat"), json!({"seat": 5})).await;
        assert!(r.status.is_success(), "{b:?}: {}", r.body);
        told.0.lock().unwrap().clear();
        let body = json!({"seat_count": 3}).to_string().into_bytes();
        let r = s.owner.send(axum::http::Method::PATCH, &format!("/api/v1/rooms/{room}"), Some("application/json"), body).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
        assert_eq!(r.json()["room"]["seat_count"], 3, "{b:?}");
        assert_eq!(*told.0.lock().unwrap(), [VoiceChange::Unseated { room, account: s.fan_id }], "{b:?}: muted in voice");
        let st = rooms_store::presence::state(&app.db, room).await.unwrap();
        assert!(!st.seats.iter().any(|x| x.occupant_id == Some(s.fan_id)), "{b:?}: off the seat");
        assert!(st.seats.iter().any(|x| x.occupant_id == Some(s.star_id)), "{b:?}: the star's seat stays");
    }
}
