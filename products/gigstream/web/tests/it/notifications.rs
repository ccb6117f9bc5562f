//! Notifications: preferences decide each channel; emails reach a real SMTP
//! server (the platform's sink) with both parts and a working unsubscribe
//! link; pushes reach a local push service that verifies the VAPID
//! signature and decrypts them; the bell's API pages and marks read.

use crate::support::{backends, TestApp};
use crate::uploads::gig;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use gigstream_domain::notifications::Channel;
use platform_mail::testing::SmtpSink;
use platform_push::fake::FakePushService;
use serde_json::{json, Value};

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("{start} not in {text}")) + start.len();
    &text[from..from + text[from..].find(end).unwrap()]
}

/// The channels queued for `account`'s newest notification.
async fn queued(app: &TestApp, account: &str) -> Vec<(Channel, String, i32)> {
    let who = gigstream_store::accounts::by_username(&app.db, account).await.unwrap();
    let newest = gigstream_store::notifications::page(&app.db, who.id, None, 1).await.unwrap();
    gigstream_store::notifications::deliveries_of(&app.db, newest[0].seq).await.unwrap()
}

#[tokio::test]
async fn each_channel_follows_the_preferences_emails_and_pushes_arrive() {
    for backend in backends() {
        let sink = SmtpSink::start().await.unwrap();
        let push = FakePushService::start().await.unwrap();
        let smtp = sink.config();
        let app = TestApp::with_config(backend, move |c| {
            c.notify.smtp = Some(smtp);
            c.notify.site_url = "http://gigstream.test".into();
        })
        .await;
        let seller = app.sign_up("maker").await;
        let buyer = app.sign_up("asker").await;
        gig(&app, &seller).await;

        // The seller's browser subscribes; bad keys are refused on their field.
        let sub = push.subscribe();
        let browser = |auth: &str| json!({ "endpoint": sub.endpoint, "keys": { "p256dh": sub.p256dh, "auth": auth } });
        let (s, v) = app.call(Method::POST, "/api/v1/push/subscriptions", Some(&seller), Some(browser("AAAA"))).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("keys.auth")), "{v}");
        let (s, v) = app.call(Method::POST, "/api/v1/push/subscriptions", Some(&seller), Some(browser(&sub.auth))).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let (_, v) = app.call(Method::GET, "/api/v1/push/key", None, None).await;
        assert_eq!(v["public_key"].as_str(), Some(app.state.config.notify.vapid.public_base64().as_str()));

        // Preferences: a bad entry names its field and nothing is stored.
        let bad = json!({ "preferences": [
            { "event": "new_message", "channel": "email", "enabled": true },
            { "event": "nope", "channel": "push", "enabled": false } ] });
        let (s, v) = app.call(Method::PUT, "/api/v1/me/notification-preferences", Some(&seller), Some(bad)).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("preferences.event")), "{v}");
        let (_, v) = app.call(Method::GET, "/api/v1/me/notification-preferences", Some(&seller), None).await;
        let on = |v: &Value, e: &str, c: &str| {
            v["preferences"].as_array().unwrap().iter().find(|p| p["event"] == e && p["channel"] == c).unwrap()["enabled"]
                .as_bool()
                .unwrap()
        };
        assert!(!on(&v, "new_message", "email"), "per-message email is off by default");
        // The seller wants messages by email, not by push.
        let prefs = json!({ "preferences": [
            { "event": "new_message", "channel": "email", "enabled": true },
            { "event": "new_message", "channel": "push", "enabled": false } ] });
        let (s, v) = app.call(Method::PUT, "/api/v1/me/notification-preferences", Some(&seller), Some(prefs)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(on(&v, "new_message", "email") && !on(&v, "new_message", "push") && on(&v, "delivered", "push"));

        // A message: the bell and an email, no push.
        let body = json!({ "gig": "i-will-design-a-logo-for-your-shop", "body": "Do you make animated logos?" });
        let (s, v) = app.call(Method::POST, "/api/v1/conversations", Some(&buyer), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let conv = v["conversation"]["id"].as_str().unwrap().to_string();
        assert_eq!(queued(&app, "maker").await.iter().map(|d| d.0).collect::<Vec<_>>(), [Channel::Email]);
        let mails = sink.wait_for(1).await;
        assert_eq!(mails.len(), 1);
        let mail = &mails[0];
        assert_eq!(mail.rcpt_to, ["maker@example.test"]);
        assert!(mail.header("Subject").unwrap().contains("New message from asker"), "{:?}", mail.header("Subject"));
        let types: Vec<String> = mail.parts().iter().filter_map(|p| p.header("Content-Type").map(str::to_string)).collect();
        assert!(types.iter().any(|t| t.starts_with("text/plain")) && types.iter().any(|t| t.starts_with("text/html")), "{types:?}");
        let text = mail.text().unwrap();
        assert!(text.contains("Do you make animated logos?") && text.contains(&format!("http://gigstream.test/messages/{conv}")), "{text}");
        let html = mail.parts().iter().find(|p| p.header("Content-Type").is_some_and(|t| t.starts_with("text/html"))).unwrap().text();
        assert!(html.contains("Unsubscribe from these emails"), "{html}");
        let link = between(&text, "Unsubscribe from these emails: http://gigstream.test", "\n").trim().to_string();

        // The buyer has no subscription and no per-message email: the bell only.
        let path = format!("/api/v1/conversations/{conv}/messages");
        let (s, _) = app.call(Method::POST, &path, Some(&seller), Some(json!({ "body": "Yes I do" }))).await;
        assert_eq!(s, StatusCode::CREATED);
        assert!(queued(&app, "asker").await.is_empty());

        // The unsubscribe link works signed out (a form with its CSRF cookie); a forged one is refused.
        let (s, h, page) = app.raw(Request::get(&link).body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        let token = between(&page, r#"name="csrf_token" value=""#, "\"").to_string();
        let t = between(&page, r#"name="t" value=""#, "\"").to_string();
        let cookies: Vec<String> =
            h.get_all(header::SET_COOKIE).iter().map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string()).collect();
        let form = serde_urlencoded::to_string([("csrf_token", token.as_str()), ("t", t.as_str())]).unwrap();
        let post = Request::post("/unsubscribe")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookies.join("; "))
            .body(Body::from(form))
            .unwrap();
        let (s, _, page) = app.raw(post).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(page.contains("no longer get emails about"), "{page}");
        let (s, _, _) = app.raw(Request::get("/unsubscribe?t=x.y").body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

        // Push back on, email now off: the next message is pushed, encrypted for this browser.
        let prefs = json!({ "preferences": [{ "event": "new_message", "channel": "push", "enabled": true }] });
        app.call(Method::PUT, "/api/v1/me/notification-preferences", Some(&seller), Some(prefs)).await;
        let (s, _) = app.call(Method::POST, &path, Some(&buyer), Some(json!({ "body": "Great, how long?" }))).await;
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(queued(&app, "maker").await.iter().map(|d| d.0).collect::<Vec<_>>(), [Channel::Push]);
        let got = push.wait_for(1).await;
        assert_eq!(got.len(), 1, "refused: {:?}", push.refused());
        let payload: Value = serde_json::from_slice(&got[0].payload).unwrap();
        assert_eq!(payload["title"], "New message from asker");
        assert_eq!(payload["body"], "Great, how long?");
        assert_eq!(payload["url"], format!("http://gigstream.test/messages/{conv}"));
        assert_eq!(got[0].vapid_key, app.state.config.notify.vapid.public_base64());
        assert_eq!(sink.received().len(), 1, "no second email");

        // The bell: two unread for the seller, paged, marked read one by one and all at once.
        let (_, v) = app.call(Method::GET, "/api/v1/notifications", Some(&seller), None).await;
        assert_eq!((v["unread"].as_i64(), v["notifications"].as_array().unwrap().len()), (Some(2), 2), "{v}");
        let newest = v["notifications"][0]["seq"].as_i64().unwrap();
        let (_, older) = app.call(Method::GET, &format!("/api/v1/notifications?before={newest}"), Some(&seller), None).await;
        assert_eq!(older["notifications"].as_array().unwrap().len(), 1);
        let (s, v) = app.call(Method::GET, "/api/v1/notifications?before=soon", Some(&seller), None).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("before")));
        let (s, _) = app.call(Method::POST, &format!("/api/v1/notifications/{newest}/read"), Some(&buyer), Some(json!({}))).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "not the buyer's");
        let (_, v) = app.call(Method::POST, &format!("/api/v1/notifications/{newest}/read"), Some(&seller), Some(json!({}))).await;
        assert_eq!(v["unread"], 1);
        let (_, v) = app.call(Method::POST, "/api/v1/notifications/read-all", Some(&seller), Some(json!({}))).await;
        assert_eq!((v["marked"].as_i64(), v["unread"].as_i64()), (Some(1), Some(0)));

        // The browser unsubscribes; pushes stop being queued.
        let (s, _) = app.call(Method::DELETE, "/api/v1/push/subscriptions", Some(&seller), Some(json!({ "endpoint": sub.endpoint }))).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        app.call(Method::POST, &path, Some(&buyer), Some(json!({ "body": "Hello?" }))).await;
        assert!(queued(&app, "maker").await.is_empty());
    }
}

#[tokio::test]
async fn a_gone_subscription_is_forgotten_and_order_events_notify() {
    for backend in backends() {
        let push = FakePushService::start().await.unwrap();
        let (app, _) = TestApp::served(backend).await;
        let seller = app.sign_up("maker").await;
        let buyer = app.sign_up("asker").await;
        let gig_id = gig(&app, &seller).await;
        let sub = push.subscribe();
        let browser = json!({ "endpoint": sub.endpoint, "keys": { "p256dh": sub.p256dh, "auth": sub.auth } });
        app.call(Method::POST, "/api/v1/push/subscriptions", Some(&seller), Some(browser)).await;
        // A paid order tells the seller (new order) and the buyer (payment received).
        let order = app.paid_order(&buyer, &gig_id).await;
        let got = push.wait_for(1).await;
        let payload: Value = serde_json::from_slice(&got[0].payload).unwrap();
        assert_eq!(payload["title"], "New order");
        assert!(payload["url"].as_str().unwrap().ends_with(&format!("/orders/{order}")));
        let (_, v) = app.call(Method::GET, "/api/v1/notifications", Some(&buyer), None).await;
        assert_eq!(v["notifications"][0]["event"], "payment_received", "{v}");
        // The browser's subscription expired: the push service says 410 and it is forgotten.
        push.expire(&sub);
        let done = gigstream_web::notify::deliver_due(&app.state).await.unwrap();
        assert_eq!(done.failed, 0);
        let prefs = json!({ "preferences": [{ "event": "new_message", "channel": "push", "enabled": true }] });
        app.call(Method::PUT, "/api/v1/me/notification-preferences", Some(&seller), Some(prefs)).await;
        let body = json!({ "gig": gig_id, "body": "one more thing" });
        let (s, _) = app.call(Method::POST, "/api/v1/conversations", Some(&buyer), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED);
        // Wait until the delivery settled (the worker or this run), then the subscription is gone.
        let who = gigstream_store::accounts::by_username(&app.db, "maker").await.unwrap();
        for round in 0.. {
            assert!(round < 100_000, "the push delivery never settled");
            gigstream_web::notify::deliver_due(&app.state).await.unwrap();
            let d = queued(&app, "maker").await;
            if d.iter().all(|x| x.1 != "pending") {
                assert_eq!(d[0].1, "skipped", "{d:?}");
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(gigstream_store::notifications::subscriptions(&app.db, who.id).await.unwrap().is_empty());
    }
}

/// The email sentence of each event (both parts carry it), as a person reads it.
const SENTENCES: [(&str, &str); 9] = [
    ("order_placed", "You have a new order."),
    ("payment_received", "We received your payment."),
    ("requirements_submitted", "The buyer answered your questions"),
    ("delivered", "Your seller delivered."),
    ("revision_requested", "The buyer asked for changes to your delivery."),
    ("completed", "The order is complete."),
    ("review_received", "You received a new review."),
    ("new_message", "You have a new message."),
    ("withdrawal_paid", "Your withdrawal was paid out to your account."),
];

#[tokio::test]
async fn every_event_emails_its_party_in_both_parts_unless_turned_off() {
    for backend in backends() {
        let sink = SmtpSink::start().await.unwrap();
        let smtp = sink.config();
        let (app, _) = TestApp::served_with(backend, None, move |c| {
            c.notify.smtp = Some(smtp);
            c.notify.site_url = "http://gigstream.test".into();
        })
        .await;
        let admin = app.admin("ops").await;
        let seller = app.sign_up("maker").await;
        let buyer = app.sign_up("asker").await;
        let gig_id = gig(&app, &seller).await;
        let prefs = json!({ "preferences": [{ "event": "new_message", "channel": "email", "enabled": true }] });
        assert_eq!(app.call(Method::PUT, "/api/v1/me/notification-preferences", Some(&seller), Some(prefs)).await.0, StatusCode::OK);

        // An order from payment to a review, with one revision.
        let order = app.paid_order(&buyer, &gig_id).await;
        let step = |a: &str| format!("/api/v1/orders/{order}/{a}");
        let ok = |r: (StatusCode, Value)| assert!(r.0.is_success(), "{r:?}");
        ok(app.call(Method::POST, &step("requirements"), Some(&buyer), Some(json!({ "answers": [] }))).await);
        ok(app.call(Method::POST, &step("deliver"), Some(&seller), Some(json!({ "message": "First draft" }))).await);
        // The buyer turns off delivery emails: the second delivery reaches the bell only.
        let off = json!({ "preferences": [{ "event": "delivered", "channel": "email", "enabled": false }] });
        ok(app.call(Method::PUT, "/api/v1/me/notification-preferences", Some(&buyer), Some(off)).await);
        ok(app.call(Method::POST, &step("revision"), Some(&buyer), Some(json!({ "note": "Bolder please" }))).await);
        ok(app.call(Method::POST, &step("deliver"), Some(&seller), Some(json!({ "message": "Bolder" }))).await);
        assert!(queued(&app, "asker").await.is_empty(), "no email queued for the second delivery");
        ok(app.call(Method::POST, &step("accept"), Some(&buyer), None).await);
        let review = json!({ "overall": 5, "communication": 5, "as_described": 5, "recommend": true, "comment": "Lovely" });
        ok(app.call(Method::POST, &step("reviews"), Some(&buyer), Some(review)).await);
        let body = json!({ "gig": gig_id, "body": "Could you do a business card too?" });
        ok(app.call(Method::POST, "/api/v1/conversations", Some(&buyer), Some(body)).await);

        // The earnings clear and a withdrawal is paid.
        let days = app.state.config.clearance_days;
        let later = chrono::Utc::now() + chrono::Duration::days(i64::from(days)) + chrono::Duration::minutes(1);
        assert_eq!(gigstream_store::wallet::clear_due(&app.db, later, days).await.unwrap(), 1);
        let ask = json!({ "amount": "30", "method": "stripe", "destination": "acct_1Maker" });
        let (s, v) = app.call(Method::POST, "/api/v1/wallet/withdrawals", Some(&seller), Some(ask)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let w = v["withdrawal"]["id"].as_str().unwrap().to_string();
        let (s, v) = app.call(Method::POST, &format!("/api/v1/admin/withdrawals/{w}/approve"), Some(&admin), None).await;
        assert_eq!((s, v["withdrawal"]["status"].as_str()), (StatusCode::OK, Some("paid")), "{v}");

        // Nine notification emails (the invoice's own mail aside), each to its party, both parts.
        let notification = |m: &platform_mail::testing::Received| m.text().is_some_and(|t| t.contains("Notification settings: "));
        let mut round = 0;
        let mails = loop {
            let mails: Vec<_> = sink.received().into_iter().filter(notification).collect();
            if mails.len() >= 9 || round == 300 {
                break mails;
            }
            round += 1;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        let mut got: Vec<(String, &str)> = vec![];
        for m in &mails {
            let text = m.text().unwrap();
            let html = m
                .parts()
                .iter()
                .find(|p| p.header("Content-Type").is_some_and(|t| t.starts_with("text/html")))
                .map(|p| p.text())
                .unwrap_or_else(|| panic!("no HTML part: {text}"));
            let (event, sentence) =
                SENTENCES.iter().find(|(_, s)| text.contains(s)).unwrap_or_else(|| panic!("no event's words in {text}"));
            assert!(html.contains(sentence), "{event}: the HTML part says what the text says: {html}");
            assert!(text.contains("http://gigstream.test/unsubscribe?t=") && html.contains("Unsubscribe from these emails"), "{event}");
            got.push((m.rcpt_to.join(","), event));
        }
        got.sort();
        let mut want: Vec<(String, &str)> = [
            ("asker", "delivered"),
            ("asker", "payment_received"),
            ("maker", "completed"),
            ("maker", "new_message"),
            ("maker", "order_placed"),
            ("maker", "requirements_submitted"),
            ("maker", "review_received"),
            ("maker", "revision_requested"),
            ("maker", "withdrawal_paid"),
        ]
        .iter()
        .map(|(who, e)| (format!("{who}@example.test"), *e))
        .collect();
        want.sort();
        assert_eq!(got, want, "{backend:?}");

        // The bell has every event, the delivery turned off for email included.
        let (_, v) = app.call(Method::GET, "/api/v1/notifications", Some(&buyer), None).await;
        let events: Vec<&str> = v["notifications"].as_array().unwrap().iter().map(|n| n["event"].as_str().unwrap()).collect();
        assert_eq!(events, ["delivered", "delivered", "payment_received"], "{v}");
    }
}

/// The next `{"t":"notification"}` frame on `ws` (other frames skipped).
async fn next_notification(ws: &mut crate::presence::Ws) -> Value {
    use futures_util::StreamExt;
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next()).await.expect("a frame in time");
        if let tokio_tungstenite::tungstenite::Message::Text(t) = frame.expect("open").unwrap() {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["t"] == "notification" {
                return v["data"].clone();
            }
        }
    }
}

#[tokio::test]
async fn the_bell_hears_of_a_notification_live_on_ones_own_socket_only() {
    for backend in backends() {
        let (app, base) = TestApp::served(backend).await;
        let seller = app.sign_up("maker").await;
        let buyer = app.sign_up("asker").await;
        let gig_id = gig(&app, &seller).await;
        let mut seller_ws = crate::presence::connect(&base, &seller).await;
        let mut buyer_ws = crate::presence::connect(&base, &buyer).await;
        let body = json!({ "gig": gig_id, "body": "Do you draw mascots?" });
        let (s, v) = app.call(Method::POST, "/api/v1/conversations", Some(&buyer), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let conv = v["conversation"]["id"].as_str().unwrap().to_string();
        let n = next_notification(&mut seller_ws).await;
        assert_eq!((n["event"].as_str(), n["title"].as_str()), (Some("new_message"), Some("New message from asker")), "{n}");
        assert_eq!(n["link"], format!("/messages/{conv}"));
        let (_, v) = app.call(Method::GET, "/api/v1/notifications/unread", Some(&seller), None).await;
        assert_eq!(v["unread"], 1, "{v}");
        // The seller's answer reaches the buyer's bell; the buyer never saw the seller's notification.
        let (s, _) =
            app.call(Method::POST, &format!("/api/v1/conversations/{conv}/messages"), Some(&seller), Some(json!({ "body": "Yes!" }))).await;
        assert_eq!(s, StatusCode::CREATED);
        let n = next_notification(&mut buyer_ws).await;
        assert_eq!((n["event"].as_str(), n["title"].as_str()), (Some("new_message"), Some("New message from maker")), "{n}");
        // An event turned off for the bell sends no frame: the next one the buyer hears is a later event.
        let off = json!({ "preferences": [{ "event": "new_message", "channel": "in_app", "enabled": false }] });
        assert_eq!(app.call(Method::PUT, "/api/v1/me/notification-preferences", Some(&buyer), Some(off)).await.0, StatusCode::OK);
        let (s, _) = app
            .call(Method::POST, &format!("/api/v1/conversations/{conv}/messages"), Some(&seller), Some(json!({ "body": "Also..." })))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        app.paid_order(&buyer, &gig_id).await;
        let n = next_notification(&mut buyer_ws).await;
        assert_eq!(n["event"], "payment_received", "{n}");
        let (_, v) = app.call(Method::GET, "/api/v1/notifications/unread", Some(&buyer), None).await;
        assert_eq!(v["unread"], 2, "the message turned off is not on the bell: {v}");
    }
}
