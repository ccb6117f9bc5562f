//! The SQL statements one request makes, counted from sqlx's own statement
//! log (`platform_testkit::statements`: every statement of the process, so
//! this binary holds one test): a
//! repeated gift request with a bearer access token reads no account row
//! (each node keeps its bearers' accounts, `rooms_web::auth::BearerCache`),
//! a node with that cache off reads it once, a cookie session's request
//! reads it once in the session lookup; and a blocked or
//! signed-out-everywhere credential is refused on every node within the
//! cache's bound, at once on the node that made the change.

#[allow(dead_code)]
#[path = "it/support.rs"]
mod support;

use axum::http::StatusCode;
use chrono::Utc;
use rooms_store::economy;
use rooms_web::auth::BOUND;
use serde_json::json;
use support::{backends, scene, Client, Scene, TestApp, PASSWORD};

use platform_testkit::statements::{everything, take};

/// Statements that read the caller's own account row or its credentials'
/// time (a gift's frame reads its people's display names apart).
fn account_reads(statements: &[String]) -> usize {
    statements.iter().filter(|s| s.contains("credentials_after") || (s.contains("accounts") && s.contains("needs_profile"))).count()
}

/// Statements of a lone gift request that pays an owner's and a
/// receiver's share: the batch's key look-up, its one read, the sends'
/// insert, the counters, the levels' read, the credit batch's row, the
/// share wallets' look-up, the ledger's lock read, update and entries, the
/// room frame, the balances' read and the user events (the bearer's account
/// comes from this node's cache). Was 23 with the separate credit batch.
const LONE_GIFT: usize = 13;

/// Statements of an accept batch, whatever its number of gifts: the lone
/// gift's. Was 13 for the batch and 10 for its credit batch.
const BATCH: usize = 13;

/// The statements a request made itself, without those of this process's
/// background tasks (the sign-in version read, the event tailers, the
/// realtime notifier's `pg_notify`, which runs after a commit on its own
/// schedule) and without the transaction's `COMMIT` (logged on PostgreSQL
/// only).
fn gift_path(all: Vec<String>) -> Vec<String> {
    all.into_iter()
        .filter(|s| {
            !s.contains("account_sign_in_version")
                && !s.contains("FROM room_events")
                && !s.contains("FROM user_events")
                && !s.contains("pg_notify")
                && s != "COMMIT"
        })
        .collect()
}

/// Waits out the bound from `committed` (when a change behind the nodes'
/// backs returned): from then on every node must refuse what it changed.
async fn past_bound(committed: std::time::Instant) {
    tokio::time::sleep_until((committed + BOUND).into()).await;
}

/// A client of `node` holding `of`'s bearer token.
fn holder(node: &TestApp, of: &Client) -> Client {
    let mut c = node.client();
    c.bearer = of.bearer.clone();
    c
}

#[tokio::test]
async fn a_repeated_bearer_request_reads_no_account_and_refused_credentials_are_refused_within_the_bound() {
    everything();
    for b in backends() {
        let app = TestApp::new(b).await;
        let Scene { room, star_id, mut fan, fan_id, gift, .. } = scene(&app, 1).await;
        rooms_store::economy::grant(&app.db, fan_id, 100, "t", None, Utc::now()).await.unwrap();
        let path = format!("/api/v1/rooms/{room}/gifts");
        let cache = app.bearer_cache.clone().expect("the bearer cache is on");
        // A gift whose split pays every share (the 1-coin one pays the
        // platform alone), made before the catalogue is cached; and every
        // escrow, treasury and issuer shard opened, so no count below
        // depends on which shards a key or a batch id picks.
        let rose_gift = rooms_store::gifts::create_gift(
            &app.db,
            &rooms_store::gifts::NewGift { sort: 1, ..rooms_store::gifts::NewGift::plain("rose", "Rose", 100) },
        )
        .await
        .unwrap();
        let mut shards = std::collections::BTreeSet::new();
        for i in 0..2000 {
            let k = format!("shard-{i}");
            for name in [economy::escrow_shard(&k), economy::treasury_shard(&k), economy::issuer_shard(&k)] {
                if shards.insert(name.clone()) {
                    economy::system(&app.db, &name).await.unwrap();
                }
            }
        }
        // A first gift warms the wallets, the shards and this node's copy
        // of the fan's account; the second is counted.
        app.settled().await;
        let first = fan.post(&path, json!({"gift_id": gift, "to": star_id, "idempotency_key": "warm"})).await;
        assert_eq!(first.status, StatusCode::CREATED, "{b:?}: {}", first.body);

        app.settled().await;
        let hits = cache.hits();
        take();
        let sent = fan.post(&path, json!({"gift_id": gift, "to": star_id, "idempotency_key": "counted"})).await;
        let statements = take();
        assert_eq!(sent.status, StatusCode::CREATED, "{b:?}: {}", sent.body);
        println!("{b:?}: a bearer gift request made {} statements:\n  {}", statements.len(), statements.join("\n  "));
        assert_eq!(account_reads(&statements), 0, "{b:?}: the bearer's account comes from this node's cache: {statements:#?}");
        assert_eq!(cache.hits(), hits + 1, "{b:?}");
        // The catalogue and the level ladders come from this node's copies
        // (their versions ride on the batch's key look-up).
        let cached = statements.iter().filter(|s| s.contains("FROM gifts") || s.contains("FROM level_steps")).count();
        assert_eq!(cached, 0, "{b:?}: no catalogue or ladder read while they stay the same: {statements:#?}");

        // A lone gift that pays an owner's and a receiver's share: accepted
        // and credited in one transaction (the credit writer is not woken).
        rooms_store::economy::grant(&app.db, fan_id, 400, "t-rose", None, Utc::now()).await.unwrap();
        let rose = json!({"gift_id": rose_gift, "to": star_id, "idempotency_key": "rose-warm"});
        assert_eq!(fan.post(&path, rose).await.status, StatusCode::CREATED, "{b:?}");
        app.settled().await;
        take();
        let sent = fan.post(&path, json!({"gift_id": rose_gift, "to": star_id, "idempotency_key": "rose"})).await;
        let statements = gift_path(take());
        assert_eq!(sent.status, StatusCode::CREATED, "{b:?}: {}", sent.body);
        println!("{b:?}: a lone paying gift made {} statements:\n  {}", statements.len(), statements.join("\n  "));
        assert_eq!(statements.len(), LONE_GIFT, "{b:?}: statements of a lone gift: {statements:#?}");
        assert!(!statements.iter().any(|s| s.contains("UPDATE gift_sends")), "{b:?}: no gift row is updated after its insert");
        // A batch of two paying gifts (two keys) makes the same statements.
        let (k1, k2) = ("rose-b1".to_string(), "rose-b2".to_string());
        let reqs: Vec<rooms_store::gifts::GiftRequest> = [k1, k2]
            .into_iter()
            .map(|key| rooms_store::gifts::GiftRequest {
                sender: fan_id,
                room,
                gift: rose_gift,
                recipients: rooms_store::gifts::Recipients::Seated(vec![star_id]),
                quantity: 1,
                combo: 1,
                key,
            })
            .collect();
        let sends: Vec<_> = reqs.iter().map(|r| r.as_send()).collect();
        take();
        let answers = rooms_store::gifts::accept_many(&app.db, &sends, &Default::default(), Utc::now()).await.unwrap();
        let statements = gift_path(take());
        assert!(answers.iter().all(|a| a.as_ref().is_ok_and(|x| x.credited && !x.duplicate)), "{b:?}: {answers:?}");
        println!("{b:?}: a batch of two paying gifts made {} statements:\n  {}", statements.len(), statements.join("\n  "));
        assert_eq!(statements.len(), BATCH, "{b:?}: statements of a batch: {statements:#?}");
        assert_eq!(rooms_store::gifts::credit_pending(&app.db, Utc::now()).await.unwrap(), 0, "{b:?}: nothing left to credit");

        // A node with the cache off reads the account in the bearer check,
        // once, and the request uses that row.
        let off = app.second_node(|c| c.bearer_cache = false).await;
        assert!(off.bearer_cache.is_none());
        let mut fan_off = holder(&off, &fan);
        take();
        let sent = fan_off.post(&path, json!({"gift_id": gift, "to": star_id, "idempotency_key": "uncached"})).await;
        let statements = take();
        assert_eq!(sent.status, StatusCode::CREATED, "{b:?}: {}", sent.body);
        assert_eq!(account_reads(&statements), 1, "{b:?}: the bearer check's read serves the whole request: {statements:#?}");

        // A cookie session's request: the session lookup brings the account.
        let mut web = app.client();
        let page = web.get("/signin").await.body;
        let i = page.find("name=\"csrf_token\" value=\"").expect("a sign-in form") + 25;
        let csrf = page[i..i + 64].to_string();
        let r = web.form("/signin", &[("csrf_token", &csrf), ("login", "fan@example.com"), ("password", PASSWORD), ("next", "/")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b:?}: {}", r.body);
        assert!(web.cookies.contains_key("rooms_session"));
        take();
        let coins = web.get("/api/v1/coins").await;
        let statements = take();
        assert_eq!(coins.status, StatusCode::OK, "{b:?}: {}", coins.body);
        assert_eq!(coins.json()["coins"], 97, "{b:?}");
        assert_eq!(account_reads(&statements), 1, "{b:?}: the session lookup's join serves the request: {statements:#?}");

        // A second node with its own cache serves the fan from it too.
        let other = app.second_node(|_| {}).await;
        let other_cache = other.bearer_cache.clone().expect("the bearer cache is on");
        let mut fan_other = holder(&other, &fan);
        other.settled().await;
        assert_eq!(fan_other.get("/api/v1/coins").await.status, StatusCode::OK, "{b:?}");
        other.settled().await;
        let hits = other_cache.hits();
        assert_eq!(fan_other.get("/api/v1/coins").await.status, StatusCode::OK, "{b:?}");
        assert_eq!(other_cache.hits(), hits + 1, "{b:?}: the other node served the fan from its cache");

        // A status other than active, written behind both nodes' backs, is
        // refused on both within the bound, bearer and cookie alike.
        let status = |s: &'static str| {
            let db = app.db.clone();
            async move {
                platform_db::on_pool!(&db, p => {
                    sqlx::query("UPDATE accounts SET status = $1 WHERE id = $2").bind(s).bind(fan_id).execute(p).await.unwrap();
                });
                std::time::Instant::now()
            }
        };
        past_bound(status("suspended").await).await;
        let refused = fan.post(&path, json!({"gift_id": gift, "to": star_id, "idempotency_key": "blocked"})).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{b:?}: {}", refused.body);
        let refused = fan_other.post(&path, json!({"gift_id": gift, "to": star_id, "idempotency_key": "blocked-other"})).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{b:?}: the other node within the bound: {}", refused.body);
        assert_eq!(web.get("/api/v1/coins").await.status, StatusCode::UNAUTHORIZED, "{b:?}");
        past_bound(status("active").await).await;
        assert_eq!(web.get("/api/v1/coins").await.status, StatusCode::OK, "{b:?}");
        assert_eq!(fan.get("/api/v1/coins").await.status, StatusCode::OK, "{b:?}");
        assert_eq!(fan_other.get("/api/v1/coins").await.status, StatusCode::OK, "{b:?}");

        // Signed out everywhere through this node (tokens are issued to the
        // second): refused here at once, on the other node within the bound.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        other.settled().await;
        assert_eq!(fan_other.get("/api/v1/coins").await.status, StatusCode::OK, "{b:?}");
        let mut signing_out = holder(&app, &fan);
        let r = signing_out.post("/api/v1/auth/signout", json!({})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{b:?}: {}", r.body);
        let committed = std::time::Instant::now();
        let refused = fan.post(&path, json!({"gift_id": gift, "to": star_id, "idempotency_key": "signed-out"})).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{b:?}: at once on the node that signed out: {}", refused.body);
        assert_eq!(web.get("/api/v1/coins").await.status, StatusCode::UNAUTHORIZED, "{b:?}");
        past_bound(committed).await;
        let refused = fan_other.post(&path, json!({"gift_id": gift, "to": star_id, "idempotency_key": "signed-out-other"})).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{b:?}: the other node within the bound: {}", refused.body);
        assert_eq!(rooms_store::economy::balances(&app.db, fan_id).await.unwrap().coins, 97, "{b:?}: nothing refused was charged");
    }
}
