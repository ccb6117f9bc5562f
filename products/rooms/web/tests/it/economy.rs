//! The economy over HTTP, each test on its own fresh database: buying
//! coins through the (fake) Paystack — verify and signed webhooks credit
//! once —, transfers with confirmation, gifts with 402 and idempotency
//! keys, leaderboards, and the pages.

use crate::support::{backends, Client, TestApp};
use axum::http::StatusCode;
use chrono::Utc;
use platform_payments::fake::{Behaviour, CheckoutBase, FakePaystack};
use rooms_domain::ids::{AccountId, RoomId};
use rooms_store::economy::{self, NewPackage};
use rooms_store::gifts;
use rooms_web::economy::Economy;
use serde_json::{json, Value};
use std::sync::Arc;

/// A fake Paystack on its own loopback port.
pub async fn fake_paystack() -> (FakePaystack, String, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let secret = FakePaystack::random_secret();
    let fake = FakePaystack::new(secret.clone(), CheckoutBase::Fixed(base.clone()));
    let router = fake.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (fake, secret, base)
}

pub async fn id_of(c: &mut Client) -> (AccountId, i64) {
    let me = c.get("/api/v1/me").await.json();
    (me["account"]["id"].as_str().unwrap().parse().unwrap(), me["account"]["public_number"].as_i64().unwrap())
}

#[tokio::test]
async fn coins_are_bought_through_the_provider_and_credited_once() {
    for b in backends() {
        let (fake, secret, base) = fake_paystack().await;
        fake.set_behaviour(Behaviour { send_webhooks: false, ..Behaviour::default() });
        let app = TestApp::with_state(b, |s| s.economy = Arc::new(Economy::at(&secret, &base))).await;
        let p = economy::create_package(
            &app.db,
            &NewPackage {
                name: "Kenya",
                coins: 1_700,
                bonus_coins: 100,
                price_minor: 13_000,
                currency: "KES",
                countries: &["KE"],
                sort: 0,
            },
            Utc::now(),
        )
        .await
        .unwrap();
        let ng = economy::create_package(
            &app.db,
            &NewPackage {
                name: "Nigeria",
                coins: 1_700,
                bonus_coins: 0,
                price_minor: 150_000,
                currency: "NGN",
                countries: &["NG"],
                sort: 1,
            },
            Utc::now(),
        )
        .await
        .unwrap();
        let mut c = app.client();
        c.sign_up("buyer@example.com", "buyer").await;
        let listed = c.get("/api/v1/coins/packages").await.json();
        assert_eq!(listed["packages"].as_array().unwrap().len(), 1, "{b:?}: only Kenya's package for a KE account");
        let r = c.post("/api/v1/coins/purchases", json!({"package_id": ng})).await;
        assert_eq!(
            (r.status, r.json()["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("package_id")),
            "{}",
            r.body
        );
        let r = c.post("/api/v1/coins/purchases", json!({"package_id": p})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        let v = r.json();
        let reference = v["reference"].as_str().unwrap().to_string();
        assert!(v["authorization_url"].as_str().unwrap().starts_with(&base), "{v}");
        // Not paid yet: verify leaves it pending.
        let r = c.post(&format!("/api/v1/coins/purchases/{reference}/verify"), json!({})).await;
        assert_eq!(r.json()["purchase"]["status"], "pending", "{}", r.body);
        fake.pay(&reference).await;
        let r = c.post(&format!("/api/v1/coins/purchases/{reference}/verify"), json!({})).await;
        assert_eq!(
            (r.json()["purchase"]["status"].as_str(), r.json()["balance"]["coins"].as_i64()),
            (Some("credited"), Some(1_800)),
            "{}",
            r.body
        );
        // The webhook arrives late, many times: 200 each, nothing more credited.
        let body = fake.event_body(&reference, "charge.success").unwrap();
        let sig = fake.sign(&body);
        let addr = crate::socket::serve(&app).await;
        let http = reqwest::Client::new();
        let hook = |sig: String| {
            http.post(format!("http://{addr}/api/webhooks/paystack"))
                .header("x-paystack-signature", sig)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
        };
        for _ in 0..5 {
            assert_eq!(hook(sig.clone()).await.unwrap().status().as_u16(), 200);
        }
        assert_eq!(hook("00".into()).await.unwrap().status().as_u16(), 401);
        assert_eq!(c.get("/api/v1/coins").await.json()["coins"], 1_800, "{b:?}");
        let hist = c.get("/api/v1/coins/history").await.json();
        assert_eq!(hist["entries"].as_array().unwrap().len(), 1);
        assert_eq!(hist["entries"][0]["reason"], "purchase");
        let page = c.get("/coins").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("1800") && page.body.contains("KES 130.00"), "{b:?}");
        assert!(rooms_store::check::run(&app.db).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_webhook_that_beats_the_buyer_back_credits_once() {
    for b in backends() {
        let (fake, secret, base) = fake_paystack().await;
        let app = TestApp::with_state(b, |s| s.economy = Arc::new(Economy::at(&secret, &base))).await;
        let addr = crate::socket::serve(&app).await;
        fake.set_webhook_url(format!("http://{addr}/api/webhooks/paystack"));
        fake.set_behaviour(Behaviour { webhook_copies: 10, ..Behaviour::default() });
        let p = economy::create_package(
            &app.db,
            &NewPackage { name: "Any", coins: 500, bonus_coins: 0, price_minor: 99, currency: "USD", countries: &[], sort: 0 },
            Utc::now(),
        )
        .await
        .unwrap();
        let mut c = app.client();
        c.sign_up("hook@example.com", "hooked").await;
        let reference = c.post("/api/v1/coins/purchases", json!({"package_id": p})).await.json()["reference"].as_str().unwrap().to_string();
        let statuses = fake.pay(&reference).await;
        assert_eq!(statuses, vec![200; 10], "{b:?}");
        // The buyer comes back through the page: already credited.
        let r = c.get(&format!("/coins/return?reference={reference}")).await;
        assert_eq!(r.location(), "/coins?notice=credited", "{b:?}");
        assert_eq!(c.get("/api/v1/coins").await.json()["coins"], 500, "{b:?}");
        let row = economy::purchase(&app.db, &reference).await.unwrap();
        assert_eq!(row.reports, 11, "{b:?}: ten webhooks and the return counted");
    }
}

pub struct Room {
    pub id: RoomId,
    pub owner: Client,
    pub fan: Client,
    pub star: Client,
    pub star_id: AccountId,
    pub gift: String,
}

/// The shared scene ([`crate::support::scene`]) with a 50-coin heart.
pub async fn room_with_gift(app: &TestApp) -> Room {
    let s = crate::support::scene(app, 50).await;
    Room { id: s.room, owner: s.owner, fan: s.fan, star: s.star, star_id: s.star_id, gift: s.gift }
}

#[tokio::test]
async fn gifts_over_the_api_charge_once_and_refuse_without_coins() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut r = room_with_gift(&app).await;
        let (fan_id, _) = id_of(&mut r.fan).await;
        let catalogue = r.fan.get("/api/v1/gifts").await.json();
        assert_eq!(catalogue["gifts"][0]["animation"], "heart");
        let path = format!("/api/v1/rooms/{}/gifts", r.id);
        // No coins: 402 with what it needs and what there is; nothing written.
        let resp = r.fan.post(&path, json!({"gift_id": r.gift, "to": r.star_id, "quantity": 2})).await;
        assert_eq!(resp.status, StatusCode::PAYMENT_REQUIRED, "{b:?}: {}", resp.body);
        let v = resp.json();
        assert_eq!(
            (v["required"].as_i64(), v["available"].as_i64(), v["error"].as_str()),
            (Some(100), Some(0), Some("insufficient_coins"))
        );
        assert!(gifts::history(&app.db, gifts::HistoryOf::Room(r.id), None, 10).await.unwrap().is_empty());
        economy::grant(&app.db, fan_id, 120, "t", None, Utc::now()).await.unwrap();
        // The same request three times with its key: one gift, one debit.
        let body = json!({"gift_id": r.gift, "to": "all", "quantity": 2, "idempotency_key": "click-1"});
        let first = r.fan.post(&path, body.clone()).await;
        assert_eq!(first.status, StatusCode::CREATED, "{b:?}: {}", first.body);
        for _ in 0..2 {
            let again = r.fan.post(&path, body.clone()).await;
            assert_eq!(again.status, StatusCode::OK, "{}", again.body);
            assert_eq!(again.json()["sends"][0]["id"], first.json()["sends"][0]["id"]);
        }
        assert_eq!(r.fan.get("/api/v1/coins").await.json()["coins"], 20, "{b:?}");
        assert_eq!(r.star.get("/api/v1/coins").await.json()["coins"], 70, "{b:?}: 70 % of 100");
        assert_eq!(r.owner.get("/api/v1/coins").await.json()["coins"], 5);
        let resp = r.fan.post(&path, json!({"gift_id": r.gift, "to": fan_id})).await;
        assert_eq!(resp.code(), "not_to_self");
        let resp = r.fan.post(&path, json!({"gift_id": r.gift, "to": [], "quantity": 1})).await;
        assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
        // History and boards.
        let mine = r.star.get("/api/v1/me/gifts?dir=received").await.json();
        assert_eq!(mine["gifts"].as_array().unwrap().len(), 1);
        let board = r.star.get("/api/v1/leaderboards/charm?period=daily").await.json();
        assert_eq!((board["rows"][0]["amount"].as_i64(), board["me"]["rank"].as_i64()), (Some(100), Some(1)), "{board}");
        let rooms_board = r.fan.get("/api/v1/leaderboards/rooms?period=all").await.json();
        assert_eq!(rooms_board["rows"][0]["name"], "Gift Room");
        assert_eq!(r.fan.get("/api/v1/leaderboards/nope").await.status, StatusCode::NOT_FOUND);
        assert_eq!(r.fan.get("/api/v1/leaderboards/wealth?period=yearly").await.status, StatusCode::UNPROCESSABLE_ENTITY);
        let page = r.fan.get("/leaderboards?board=wealth&period=daily").await;
        assert!(page.body.contains("fan Person"), "{b:?}");
        // The room page carries the gift panel and seat holders' ids.
        let room_page = r.fan.get(&format!("/rooms/{}", r.id)).await;
        assert!(room_page.body.contains("id=\"gifts\"") && room_page.body.contains(&format!("data-account=\"{}\"", r.star_id)));
        assert!(rooms_store::check::run(&app.db).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn coin_transfers_need_confirmation() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut a = app.client();
        a.sign_up("a@example.com", "alice").await;
        let (a_id, _) = id_of(&mut a).await;
        let mut c = app.client();
        c.sign_up("c@example.com", "carol").await;
        let (_, c_number) = id_of(&mut c).await;
        economy::grant(&app.db, a_id, 500, "t", None, Utc::now()).await.unwrap();
        let r = a.post("/api/v1/coins/transfers", json!({"to": c_number, "amount": 200})).await;
        assert_eq!((r.status, r.json()["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("confirm")), "{b:?}");
        let body = json!({"to": c_number, "amount": 200, "confirm": true, "idempotency_key": "x1"});
        assert_eq!(a.post("/api/v1/coins/transfers", body.clone()).await.status, StatusCode::CREATED);
        assert_eq!(a.post("/api/v1/coins/transfers", body).await.status, StatusCode::OK);
        let r = a.post("/api/v1/coins/transfers", json!({"to": c_number, "amount": 301, "confirm": true})).await;
        assert_eq!(
            (r.status, r.json()["required"].as_i64(), r.json()["available"].as_i64()),
            (StatusCode::PAYMENT_REQUIRED, Some(301), Some(300))
        );
        assert_eq!(c.get("/api/v1/coins").await.json()["coins"], 200, "{b:?}");
        let r = a.post("/api/v1/coins/transfers", json!({"to": 1, "amount": 1, "confirm": true})).await;
        assert_eq!(r.json()["fields"][0]["field"], "to");
        let _: Value = c.get("/api/v1/coins/history").await.json();
    }
}

#[tokio::test]
async fn a_batch_of_gifts_is_one_frame_and_a_resumed_socket_gets_it_once() {
    use crate::socket::{connect, events_until_pong, next_of, send, serve};
    for b in backends() {
        let app = TestApp::new(b).await;
        let addr = serve(&app).await;
        let mut r = room_with_gift(&app).await;
        let (fan_id, _) = id_of(&mut r.fan).await;
        let mut fan2 = app.client();
        fan2.sign_up("fan2@example.com", "fan2").await;
        let (fan2_id, _) = id_of(&mut fan2).await;
        assert!(fan2.post(&format!("/api/v1/rooms/{}/join", r.id), json!({})).await.status.is_success());
        for a in [fan_id, fan2_id] {
            economy::grant(&app.db, a, 1_000, &format!("fund-{a}"), None, Utc::now()).await.unwrap();
        }
        // The owner reads the room up to a chat line, then goes away.
        let chat = format!("/api/v1/rooms/{}/chat", r.id);
        assert_eq!(r.owner.post(&chat, json!({"body": "before"})).await.status, StatusCode::CREATED);
        let mut ws = connect(addr, &r.owner).await;
        send(&mut ws, json!({"t": "subscribe", "room_id": r.id, "after": 0})).await;
        next_of(&mut ws, "subscribed").await;
        let history = events_until_pong(&mut ws).await;
        let last = history.last().unwrap();
        assert_eq!(last["data"]["body"], "before", "{b:?}");
        let last = last["seq"].as_i64().unwrap();
        ws.close(None).await.unwrap();

        // Three gifts from two senders accepted in one batch, then a chat line.
        let gift = r.gift.parse().unwrap();
        let reqs: Vec<gifts::GiftRequest> = [(fan_id, "a1"), (fan2_id, "b1"), (fan_id, "a2")]
            .into_iter()
            .map(|(a, k)| gifts::GiftRequest {
                sender: a,
                room: r.id,
                gift,
                recipients: gifts::Recipients::Seated(vec![r.star_id]),
                quantity: 1,
                combo: 1,
                key: k.into(),
            })
            .collect();
        let sends: Vec<_> = reqs.iter().map(|q| q.as_send()).collect();
        let answers = gifts::accept_many(&app.db, &sends, &gifts::Settings::default(), Utc::now()).await.unwrap();
        assert!(answers.iter().all(|a| a.is_ok()), "{b:?}: {answers:?}");
        assert_eq!(r.owner.post(&chat, json!({"body": "after"})).await.status, StatusCode::CREATED);

        // Resumed mid-stream: the batch's one frame once, with its three gifts in order, then the chat.
        let mut ws = connect(addr, &r.owner).await;
        send(&mut ws, json!({"t": "subscribe", "room_id": r.id, "after": last})).await;
        next_of(&mut ws, "subscribed").await;
        let missed = events_until_pong(&mut ws).await;
        let kinds: Vec<&str> = missed.iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["gifts", "chat"], "{b:?}: {missed:?}");
        let listed: Vec<&str> = missed[0]["data"]["gifts"].as_array().unwrap().iter().map(|g| g["sender_name"].as_str().unwrap()).collect();
        assert_eq!(listed.len(), 3, "{b:?}: {listed:?}");
        assert_eq!(listed[0], listed[2], "{b:?}: the fan's two gifts around fan2's");
        assert_ne!(listed[0], listed[1], "{b:?}");
        assert_eq!(missed[0]["data"]["gifts"][0]["animation"], "heart");
        assert_eq!(missed[0]["data"]["gifts"][0]["to"][0]["account"], r.star_id.to_string());
        // Live afterwards: the next chat line only, nothing twice.
        assert_eq!(r.owner.post(&chat, json!({"body": "live"})).await.status, StatusCode::CREATED);
        let live = next_of(&mut ws, "event").await;
        assert_eq!((live["kind"].as_str(), live["data"]["body"].as_str()), (Some("chat"), Some("live")), "{b:?}: {live}");
        let more = events_until_pong(&mut ws).await;
        assert!(more.is_empty(), "{b:?}: {more:?}");
    }
}

#[tokio::test]
async fn the_gift_batcher_uses_the_settings_each_request_brings() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut r = room_with_gift(&app).await;
        let (fan_id, _) = id_of(&mut r.fan).await;
        economy::grant(&app.db, fan_id, 1_000, "fund", None, Utc::now()).await.unwrap();
        let accepts = rooms_web::economy::accepts::GiftAccepts::default();
        let gift = r.gift.parse().unwrap();
        let request = |k: &str| gifts::GiftRequest {
            sender: fan_id,
            room: r.id,
            gift,
            recipients: gifts::Recipients::Seated(vec![r.star_id]),
            quantity: 2,
            combo: 1,
            key: k.into(),
        };
        let first = accepts.accept(&app.db, &gifts::Settings::default(), request("s1")).await.unwrap();
        assert_eq!(first.sends[0].owner_share, 5, "{b:?}: 5 % of 100");
        // The rates change (as an admin's change would reach the node's settings).
        let mut changed = gifts::Settings::default();
        changed.rates.owner_pct = 10;
        let second = accepts.accept(&app.db, &changed, request("s2")).await.unwrap();
        assert_eq!(second.sends[0].owner_share, 10, "{b:?}: the batcher saw the new rate");
        let third = accepts.accept(&app.db, &gifts::Settings::default(), request("s3")).await.unwrap();
        assert_eq!(third.sends[0].owner_share, 5, "{b:?}: and the next change too");
    }
}

#[tokio::test]
async fn a_gift_is_answered_and_framed_with_its_shares_credited() {
    use crate::socket::{connect, next_of, send, serve};
    // Only PostgreSQL can hold one wallet's row while the rest of the store
    // goes on (SQLite has one write lock for everything).
    for b in backends().into_iter().filter(|b| *b == platform_db::Backend::Postgres) {
        // No poll to fall back on: only a wake-up delivers in time.
        let app = TestApp::with(b, |c| c.realtime_poll = std::time::Duration::from_secs(60)).await;
        let addr = serve(&app).await;
        let mut r = room_with_gift(&app).await;
        let (owner_id, _) = id_of(&mut r.owner).await;
        let (fan_id, _) = id_of(&mut r.fan).await;
        economy::grant(&app.db, fan_id, 1_000, "fund-fan", None, Utc::now()).await.unwrap();
        // The owner's coin wallet exists, and a transaction holds its row:
        // the gift's batch, which pays the owner's share, waits on it.
        economy::grant(&app.db, owner_id, 1, "fund-owner", None, Utc::now()).await.unwrap();
        let platform_db::Db::Postgres(pool) = &app.db else { unreachable!() };
        let mut hold = pool.begin().await.unwrap();
        let held: Vec<(String,)> = sqlx::query_as(
            "SELECT CAST(id AS TEXT) FROM wallets WHERE owner_kind = 'account' AND owner_id = $1 AND unit = 'coins' FOR UPDATE",
        )
        .bind(owner_id.to_string())
        .fetch_all(&mut *hold)
        .await
        .unwrap();
        assert_eq!(held.len(), 1, "the owner's coin wallet");

        let mut ws = connect(addr, &r.owner).await;
        send(&mut ws, json!({"t": "subscribe", "room_id": r.id})).await;
        next_of(&mut ws, "subscribed").await;
        let path = format!("/api/v1/rooms/{}/gifts", r.id);
        let body = json!({"gift_id": r.gift, "to": r.star_id});
        let mut fan = r.fan;
        let request = tokio::spawn(async move { fan.post(&path, body).await });

        // The batch pays the shares before it writes its frame, in one
        // transaction: while the owner's wallet is held, neither the frame
        // nor the answer comes.
        let early = tokio::time::timeout(std::time::Duration::from_millis(500), next_of(&mut ws, "event")).await;
        assert!(early.is_err(), "no frame before the shares: {early:?}");
        assert!(!request.is_finished(), "the answer waits for the shares");
        hold.rollback().await.unwrap();
        let frame = tokio::time::timeout(std::time::Duration::from_secs(3), next_of(&mut ws, "event")).await.expect("the gift frame, live");
        assert_eq!(frame["kind"], "gifts", "{frame}");
        let answer = request.await.unwrap();
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        // Credited when answered, by the batch itself: nothing waits for
        // the credit writer.
        let owner_share = answer.json()["sends"][0]["owner_share"].as_i64().unwrap();
        assert!(owner_share > 0, "{}", answer.body);
        assert_eq!(economy::balances(&app.db, owner_id).await.unwrap().coins, 1 + owner_share);
        assert_eq!(rooms_store::gifts::uncredited_before(&app.db, Utc::now()).await.unwrap(), 0);
        assert!(rooms_store::check::run(&app.db).await.unwrap().is_empty());
    }
}
