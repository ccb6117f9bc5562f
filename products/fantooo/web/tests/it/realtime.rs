//! Realtime over real sockets: live delivery, receipts, typing, balance,
//! resume without gaps or duplicates, access checks, and two nodes sharing
//! one PostgreSQL.

use crate::chat::{flat_pricing, grant, say, user_with_chat};
use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_domain::ids::ChatId;
use fantooo_store::Backend;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn connect(addr: SocketAddr, token: &str) -> Ws {
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("websocket connect");
    ws
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Frame::Text(v.to_string().into())).await.unwrap();
}

/// The next frame of type `t`, skipping others; panics after `within`.
pub(crate) async fn next_of(ws: &mut Ws, t: &str, within: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no `{t}` within {within:?}"))
            .expect("socket open")
            .expect("frame");
        if let Frame::Text(text) = frame {
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["t"] == t {
                return v;
            }
        }
    }
}

/// Frames of type `t` arriving within `window` (to prove absence or count).
async fn all_of(ws: &mut Ws, t: &str, window: Duration) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + window;
    let mut got = vec![];
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, ws.next()).await {
        if let Frame::Text(text) = frame {
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["t"] == t {
                got.push(v);
            }
        }
    }
    got
}

async fn subscribe(ws: &mut Ws, chat: ChatId, after: Option<i64>) {
    send(ws, json!({ "t": "subscribe", "chat_id": chat, "after": after })).await;
    let ack = next_of(ws, "subscribed", Duration::from_secs(5)).await;
    assert_eq!(ack["chat_id"], chat.to_string());
}

/// An operator assigned to the chat, signed in with a bearer token.
pub(crate) async fn assigned_operator(app: &TestApp, chat: ChatId) -> Client {
    operator_client(app, "live-op@fantooo.com").await;
    let op_id = fantooo_store::operators::list(&app.db).await.unwrap()[0].id;
    assert!(crate::chat::assign_to(&app.db, chat, op_id).await);
    let r = app
        .client()
        .json(Method::POST, "/api/auth/login", json!({ "login": "live-op@fantooo.com", "password": PASSWORD, "kind": "operator" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut bearer = app.client();
    bearer.bearer = Some(r.json()["token"].as_str().unwrap().to_string());
    bearer
}

const SOON: Duration = Duration::from_secs(3);

#[tokio::test]
async fn messages_typing_and_receipts_flow_live_between_the_two_sides() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let addr = app.serve().await;
        let (mut user, _, chat) = user_with_chat(&app, "liveuser").await;
        let mut op = assigned_operator(&app, chat).await;
        let mut user_ws = connect(addr, &user.token()).await;
        let mut op_ws = connect(addr, &op.token()).await;
        subscribe(&mut user_ws, chat, Some(0)).await;
        subscribe(&mut op_ws, chat, Some(0)).await;

        assert_eq!(say(&mut user, chat, "hi there").await.status, StatusCode::CREATED);
        let got = next_of(&mut op_ws, "message", SOON).await;
        assert_eq!(got["message"]["content"], "hi there", "{b:?}");
        assert_eq!(got["message"]["sender_type"], "real");
        let seq = got["message"]["seq"].as_i64().unwrap();
        // The operator's socket received it, so the user sees "delivered".
        let receipt = next_of(&mut user_ws, "receipt", SOON).await;
        assert_eq!(
            (receipt["status"].as_str(), receipt["side"].as_str(), receipt["upto"].as_i64()),
            (Some("delivered"), Some("user"), Some(seq))
        );

        send(&mut op_ws, json!({ "t": "typing", "chat_id": chat })).await;
        let typing = next_of(&mut user_ws, "typing", SOON).await;
        assert_eq!(typing["side"], "profile");
        assert!(all_of(&mut op_ws, "typing", Duration::from_millis(400)).await.is_empty(), "own typing is not echoed");

        let r = say(&mut op, chat, "hello, you").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let reply = next_of(&mut user_ws, "message", SOON).await;
        assert_eq!(reply["message"]["content"], "hello, you");
        assert!(reply["message"].get("handled_by_operator_id").is_none(), "who answered is never sent to users");
        let reply_seq = reply["message"]["seq"].as_i64().unwrap();

        send(&mut op_ws, json!({ "t": "read", "chat_id": chat, "upto": seq })).await;
        let read = next_of(&mut user_ws, "receipt", SOON).await;
        assert_eq!((read["status"].as_str(), read["upto"].as_i64()), (Some("read"), Some(seq)), "{b:?}");
        let hist = user.api_get(&format!("/api/chats/{chat}/messages")).await.json();
        let mine = hist["messages"].as_array().unwrap().iter().find(|m| m["seq"] == seq).unwrap().clone();
        assert_eq!(mine["status"], "read");
        assert!(mine["read_at"].is_string());
        assert!(reply_seq > seq);
    }
}

#[tokio::test]
async fn paid_sends_push_the_new_balance_to_every_tab_of_the_user() {
    let app = TestApp::new(Backend::Sqlite).await;
    flat_pricing(&app.db).await;
    let addr = app.serve().await;
    let (mut user, uid, chat) = user_with_chat(&app, "balancer").await;
    let mut other_tab = connect(addr, &user.token()).await;
    for n in 0..3 {
        say(&mut user, chat, &format!("free {n}")).await;
    }
    grant(&app.db, uid, 4).await;
    assert_eq!(next_of(&mut other_tab, "balance", SOON).await["credits"], 4);
    say(&mut user, chat, "paid").await;
    assert_eq!(next_of(&mut other_tab, "balance", SOON).await["credits"], 3);
}

#[tokio::test]
async fn a_reconnecting_client_resumes_without_gaps_or_duplicates() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let addr = app.serve().await;
        let (mut user, uid, chat) = user_with_chat(&app, "resumer").await;
        grant(&app.db, uid, 50).await;
        let mut op = assigned_operator(&app, chat).await;
        let mut ws = connect(addr, &user.token()).await;
        subscribe(&mut ws, chat, Some(0)).await;
        say(&mut op, chat, "one").await;
        let first = next_of(&mut ws, "message", SOON).await;
        let last_seen = first["message"]["seq"].as_i64().unwrap();
        drop(ws);

        for text in ["two", "three", "four"] {
            say(&mut op, chat, text).await;
        }
        say(&mut user, chat, "five").await;

        let mut ws = connect(addr, &user.token()).await;
        subscribe(&mut ws, chat, Some(last_seen)).await;
        say(&mut op, chat, "six").await;
        let got = all_of(&mut ws, "message", Duration::from_millis(1500)).await;
        let texts: Vec<&str> = got.iter().map(|m| m["message"]["content"].as_str().unwrap()).collect();
        assert_eq!(texts, vec!["two", "three", "four", "five", "six"], "{b:?}");
        let seqs: Vec<i64> = got.iter().map(|m| m["message"]["seq"].as_i64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");
    }
}

#[tokio::test]
async fn sockets_only_join_chats_they_may_read() {
    let app = TestApp::new(Backend::Sqlite).await;
    let addr = app.serve().await;
    let (_owner, _, chat) = user_with_chat(&app, "private").await;
    let stranger = api_user(&app, "peeker").await;
    let mut ws = connect(addr, &stranger.token()).await;
    send(&mut ws, json!({ "t": "subscribe", "chat_id": chat, "after": 0 })).await;
    let err = next_of(&mut ws, "error", SOON).await;
    assert_eq!(err["code"], "forbidden");
    send(&mut ws, json!({ "t": "typing", "chat_id": chat })).await;
    assert_eq!(next_of(&mut ws, "error", SOON).await["code"], "not_subscribed");
    send(&mut ws, json!({ "t": "nonsense" })).await;
    assert_eq!(next_of(&mut ws, "error", SOON).await["code"], "bad_request");
    send(&mut ws, json!({ "t": "ping" })).await;
    next_of(&mut ws, "pong", SOON).await;

    // Anonymous and cross-site upgrades are refused before the handshake.
    let anon = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await;
    assert!(anon.is_err());
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {}", stranger.token()).parse().unwrap());
    req.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_err(), "cross-site upgrade refused");
}

#[tokio::test]
async fn a_message_posted_on_one_node_reaches_a_socket_on_another() {
    if !backends().contains(&Backend::Postgres) {
        eprintln!("skipping two-node test: no PostgreSQL");
        return;
    }
    let node_a = TestApp::new(Backend::Postgres).await;
    let node_b = node_a.second_node().await;
    let addr_b = node_b.serve().await;
    let (mut user, _, chat) = user_with_chat(&node_a, "twonodes").await;
    let mut op = assigned_operator(&node_a, chat).await;
    let mut ws = connect(addr_b, &user.token()).await;
    subscribe(&mut ws, chat, Some(0)).await;
    for n in 0..5 {
        let sent_at = tokio::time::Instant::now();
        assert_eq!(say(&mut op, chat, &format!("across {n}")).await.status, StatusCode::CREATED);
        let got = next_of(&mut ws, "message", Duration::from_secs(1)).await;
        assert_eq!(got["message"]["content"], format!("across {n}"));
        assert!(sent_at.elapsed() < Duration::from_secs(1));
    }
    // And the other way: a user's send on node A shows up on node B's socket.
    assert_eq!(say(&mut user, chat, "from a").await.status, StatusCode::CREATED);
    assert_eq!(next_of(&mut ws, "message", Duration::from_secs(1)).await["message"]["content"], "from a");
}

#[tokio::test]
async fn the_heartbeat_keeps_presence_fresh() {
    let app = TestApp::new(Backend::Sqlite).await;
    let addr = app.serve().await;
    let (user, uid, _) = user_with_chat(&app, "present").await;
    let before = fantooo_store::users::by_id(&app.db, uid).await.unwrap().last_active_at.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut ws = connect(addr, &user.token()).await;
    send(&mut ws, json!({ "t": "ping" })).await;
    next_of(&mut ws, "pong", SOON).await;
    let after = fantooo_store::users::by_id(&app.db, uid).await.unwrap().last_active_at.unwrap();
    assert!(after > before, "{before} → {after}");
}

#[tokio::test]
async fn edits_reach_open_chats_and_admins_see_activity() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let addr = app.serve().await;
        let (mut user, _, chat) = user_with_chat(&app, "edited").await;
        let mut user_ws = connect(addr, &user.token()).await;
        subscribe(&mut user_ws, chat, Some(0)).await;
        let admin = admin_client(&app, "live-admin@fantooo.com", fantooo_domain::AdminRole::Admin).await;
        let admin_token = admin.cookies.get("fantooo_session").unwrap().clone();
        let mut admin_ws = connect(addr, &admin_token).await;
        send(&mut admin_ws, json!({ "t": "ping" })).await;
        next_of(&mut admin_ws, "pong", SOON).await;

        let r = say(&mut user, chat, "helo").await;
        let id: fantooo_domain::ids::MessageId = r.json()["message"]["id"].as_str().unwrap().parse().unwrap();
        let seq = r.json()["message"]["seq"].as_i64().unwrap();
        let note = next_of(&mut admin_ws, "chat_activity", SOON).await;
        assert_eq!(note["chat_id"], chat.to_string(), "{b:?}");
        assert_eq!(note["sender"], "real");

        let admin_id =
            fantooo_store::admins::list(&app.db).await.unwrap().into_iter().find(|a| a.email == "live-admin@fantooo.com").unwrap().id;
        // A profile's words are edited: users see the new text, never that
        // it was edited.
        let body = fantooo_store::messages::Body {
            content: "helo!".into(),
            content_type: fantooo_domain::chat::ContentType::Text,
            media_url: None,
            client_id: None,
        };
        let sent = fantooo_store::messages::send_as_profile(&app.db, chat, fantooo_store::messages::ProfileVoice::Admin(admin_id), &body)
            .await
            .unwrap();
        fantooo_store::chat_admin::edit_message(&app.db, chat, sent.message.id, "hello!", "typo", admin_id, None).await.unwrap();
        // The route wakes the tailer; here the store is called directly, so the
        // periodic poll delivers it.
        let edit = next_of(&mut user_ws, "edited", SOON).await;
        assert_eq!((edit["seq"].as_i64(), edit["content"].as_str()), (Some(sent.message.seq), Some("hello!")), "{b:?}");
        assert!(edit.get("is_edited").is_none() && edit.get("reason").is_none(), "users never learn that a message was edited");
        assert_eq!(edit["moderated"], false, "{b:?}");
        // A user's own words are only redacted, and the user is told.
        assert!(fantooo_store::chat_admin::edit_message(&app.db, chat, id, "hello", "typo", admin_id, None).await.is_err());
        fantooo_store::chat_admin::redact_message(&app.db, chat, id, "rules", admin_id, None).await.unwrap();
        let redacted = next_of(&mut user_ws, "edited", SOON).await;
        assert_eq!(redacted["seq"].as_i64(), Some(seq), "{b:?}");
        assert_eq!(
            (redacted["content"].as_str(), redacted["moderated"].as_bool()),
            (Some(fantooo_domain::chat::REDACTED_TEXT), Some(true)),
            "{b:?}"
        );
    }
}

#[tokio::test]
async fn a_late_commit_behind_many_abandoned_sequence_numbers_is_still_delivered() {
    if !backends().contains(&Backend::Postgres) {
        eprintln!("skipping sequence-hole test: no PostgreSQL");
        return;
    }
    let app = TestApp::new(Backend::Postgres).await;
    let addr = app.serve().await;
    let (user, _, chat) = user_with_chat(&app, "latecommit").await;
    let (_, _, other) = user_with_chat(&app, "elsewhere").await;
    let mut ws = connect(addr, &user.token()).await;
    subscribe(&mut ws, chat, None).await;
    let fantooo_store::Db::Postgres(pool) = &app.db else { unreachable!() };
    let insert =
        "INSERT INTO messages (id, chat_id, sender_type, content, content_type, is_free_message, credits_charged, status, created_at)
                  SELECT gen_random_uuid(), $1, 'fictional', $2, 'text', TRUE, 0, 'sent', now() FROM generate_series(1, $3)";
    // 600 sequence numbers taken and abandoned (rolled-back inserts)...
    let mut abandoned = pool.begin().await.unwrap();
    sqlx::query(insert).bind(other).bind("abandoned").bind(600i32).execute(&mut *abandoned).await.unwrap();
    abandoned.rollback().await.unwrap();
    // ...then a slow writer takes the next one, in the watched chat...
    let mut slow = pool.begin().await.unwrap();
    sqlx::query(insert).bind(chat).bind("late but committed").bind(1i32).execute(&mut *slow).await.unwrap();
    // ...and a later one commits first, elsewhere: the tailer moves past
    // 601 holes, of which only the newest will ever be filled.
    sqlx::query(insert).bind(other).bind("first").bind(1i32).execute(pool).await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    slow.commit().await.unwrap();
    let got = next_of(&mut ws, "message", Duration::from_secs(3)).await;
    assert_eq!(got["message"]["content"], "late but committed");
}

/// A chat that changes hands leaves the old operator's open socket at once:
/// taken by an admin or handed back, the socket is told it is out, gets no
/// more of the chat, and its read receipts are refused.
#[tokio::test]
async fn an_operator_socket_loses_a_chat_that_changes_hands() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let addr = app.serve().await;
        let (mut user, _, chat) = user_with_chat(&app, "handsuser").await;
        let mut op = assigned_operator(&app, chat).await;
        let op_id = fantooo_store::operators::list(&app.db).await.unwrap()[0].id;
        let mut op_ws = connect(addr, &op.token()).await;
        subscribe(&mut op_ws, chat, Some(0)).await;
        assert_eq!(say(&mut user, chat, "first").await.status, StatusCode::CREATED);
        next_of(&mut op_ws, "message", SOON).await;

        // An admin takes the chat away.
        let mut admin = admin_client(&app, "hands@fantooo.com", fantooo_domain::AdminRole::Admin).await;
        let r = crate::backoffice::admin_json(&mut admin, Method::POST, &format!("/api/admin/chats/{chat}/reassign"), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
        let out = next_of(&mut op_ws, "unsubscribed", SOON).await;
        assert_eq!(out["chat_id"], chat.to_string(), "{b:?}");
        let r = say(&mut user, chat, "who reads this").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let seq = r.json()["message"]["seq"].as_i64().unwrap();
        assert!(
            all_of(&mut op_ws, "message", Duration::from_millis(800)).await.is_empty(),
            "{b:?}: the old operator still receives the chat"
        );
        send(&mut op_ws, json!({ "t": "read", "chat_id": chat, "upto": seq })).await;
        assert_eq!(next_of(&mut op_ws, "error", SOON).await["code"], "not_subscribed");
        let read: i64 = fantooo_store::on_pool!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE chat_id = $1 AND status = 'read'")
            .bind(chat).fetch_one(p).await.unwrap());
        assert_eq!(read, 0, "{b:?}: no read receipt from someone who lost the chat");

        // Given back to the operator, who answers and hands it back.
        assert!(crate::chat::assign_to(&app.db, chat, op_id).await);
        subscribe(&mut op_ws, chat, None).await;
        assert_eq!(say(&mut op, chat, "all yours again").await.status, StatusCode::CREATED);
        let r = op.json(Method::POST, &format!("/api/operator/chats/{chat}/release"), json!({})).await;
        assert!(r.status.is_success(), "{b:?}: {}", r.body);
        next_of(&mut op_ws, "unsubscribed", SOON).await;
        assert_eq!(say(&mut user, chat, "anyone?").await.status, StatusCode::CREATED);
        assert!(all_of(&mut op_ws, "message", Duration::from_millis(800)).await.is_empty(), "{b:?}: released chats stop arriving");
    }
}

/// The words of staff-side names in a payload (`fictional`, `real`,
/// `operator`), as whole words of keys or values.
fn staff_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .map(str::to_ascii_lowercase)
        .filter(|w| matches!(w.as_str(), "fictional" | "real" | "operator" | "operators"))
        .collect()
}

/// Users read `user` and `profile`: nothing they receive over the API or
/// the socket names the stored sides or the staff behind a profile.
#[tokio::test]
async fn user_payloads_use_only_the_public_vocabulary() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let addr = app.serve().await;
        let (mut user, _, chat) = user_with_chat(&app, "wordsuser").await;
        let mut op = assigned_operator(&app, chat).await;
        let mut op_ws = connect(addr, &op.token()).await;
        subscribe(&mut op_ws, chat, Some(0)).await;
        let mut payloads = vec![];
        let r = say(&mut user, chat, "hello there").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let seq = r.json()["message"]["seq"].as_i64().unwrap();
        assert_eq!(r.json()["message"]["sender_type"], "user", "{b:?}");
        payloads.push(r.body);

        let mut user_ws = connect(addr, &user.token()).await;
        send(&mut user_ws, json!({ "t": "subscribe", "chat_id": chat, "after": 0 })).await;
        let mut frames = vec![];
        let ack = next_of(&mut user_ws, "subscribed", SOON).await;
        assert_eq!(ack["side"], "user", "{b:?}");
        frames.push(ack.to_string());
        assert_eq!(say(&mut op, chat, "hi back").await.status, StatusCode::CREATED);
        send(&mut op_ws, json!({ "t": "typing", "chat_id": chat })).await;
        send(&mut op_ws, json!({ "t": "read", "chat_id": chat, "upto": seq })).await;
        let deadline = tokio::time::Instant::now() + Duration::from_millis(1500);
        while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, user_ws.next()).await {
            if let Frame::Text(text) = frame {
                frames.push(text.to_string());
            }
        }
        let kinds: Vec<String> =
            frames.iter().map(|f| serde_json::from_str::<Value>(f).unwrap()["t"].as_str().unwrap_or("").to_string()).collect();
        for t in ["message", "typing", "receipt"] {
            assert!(kinds.iter().any(|k| k == t), "{b:?}: no `{t}` among {kinds:?}");
        }
        for path in ["/api/chats".to_string(), format!("/api/chats/{chat}"), format!("/api/chats/{chat}/messages"), "/api/me".to_string()] {
            let r = user.api_get(&path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
            payloads.push(r.body);
        }
        let profile = user.api_get(&format!("/api/chats/{chat}")).await.json()["chat"]["profile_id"].clone();
        let r = user.json(Method::POST, "/api/chats", json!({ "profile_id": profile })).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: reopening finds the chat by its profile_id: {}", r.body);
        payloads.push(r.body);
        for text in frames.iter().chain(&payloads) {
            assert!(staff_words(text).is_empty(), "{b:?}: {:?} in {text}", staff_words(text));
        }
        // Staff keep the stored names.
        let r = op.api_get(&format!("/api/chats/{chat}/messages")).await;
        assert!(!staff_words(&r.body).is_empty());
    }
}
