//! Notifications written by jobs: the auto-complete job tells both parties
//! as an accepted order does; the unread-message job emails once per
//! conversation after 15 minutes, by the recipient's preferences, once
//! however many runs or nodes look.

use crate::support::{backends, TestApp};
use crate::uploads::gig;
use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use platform_mail::testing::SmtpSink;
use serde_json::{json, Value};

/// The newest notification of the signed-in person.
async fn newest(app: &TestApp, token: &str) -> Value {
    let (s, v) = app.call(Method::GET, "/api/v1/notifications", Some(token), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["notifications"][0].clone()
}

#[tokio::test]
async fn the_auto_complete_job_tells_both_parties() {
    for backend in backends() {
        let (app, _) = TestApp::served(backend).await;
        let seller = app.sign_up("maker").await;
        let buyer = app.sign_up("asker").await;
        let gig_id = gig(&app, &seller).await;
        let order = app.paid_order(&buyer, &gig_id).await;
        let step = |a: &str| format!("/api/v1/orders/{order}/{a}");
        let (s, v) = app.call(Method::POST, &step("requirements"), Some(&buyer), Some(json!({ "answers": [] }))).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = app.call(Method::POST, &step("deliver"), Some(&seller), Some(json!({ "message": "Here it is" }))).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(newest(&app, &buyer).await["event"], "delivered");

        // Not due yet: nothing completes, nobody is told.
        let now = chrono::Utc::now();
        assert_eq!(gigstream_web::notify::auto_complete(&app.state, now + chrono::Duration::days(2)).await.unwrap(), 0);
        assert_eq!(newest(&app, &buyer).await["event"], "delivered");

        // Three days after delivery the job completes it and both sides hear of it.
        assert_eq!(gigstream_web::notify::auto_complete(&app.state, now + chrono::Duration::days(3)).await.unwrap(), 1);
        let (_, v) = app.call(Method::GET, &format!("/api/v1/orders/{order}"), Some(&buyer), None).await;
        assert_eq!(v["order"]["status"], "released", "completed, earnings released: {v}");
        for (who, words) in [(&seller, "your earnings were released"), (&buyer, "completed automatically 3 days after delivery")] {
            let n = newest(&app, who).await;
            assert_eq!((n["event"].as_str(), n["title"].as_str()), (Some("completed"), Some("Order completed")), "{n}");
            assert!(n["body"].as_str().unwrap().contains(words), "{n}");
            assert_eq!(n["link"], format!("/orders/{order}"));
        }
        // A second run finds nothing and tells nobody twice.
        assert_eq!(gigstream_web::notify::auto_complete(&app.state, now + chrono::Duration::days(4)).await.unwrap(), 0);
        let (_, v) = app.call(Method::GET, "/api/v1/notifications", Some(&seller), None).await;
        let completed = v["notifications"].as_array().unwrap().iter().filter(|n| n["event"] == "completed").count();
        assert_eq!(completed, 1, "{v}");
    }
}

#[tokio::test]
async fn messages_unread_for_15_minutes_are_emailed_once_per_conversation() {
    for backend in backends() {
        let sink = SmtpSink::start().await.unwrap();
        let smtp = sink.config();
        let app = TestApp::with_config(backend, move |c| {
            c.notify.smtp = Some(smtp);
            c.notify.site_url = "http://gigstream.test".into();
        })
        .await;
        let seller = app.sign_up("maker").await;
        let buyer = app.sign_up("asker").await;
        gig(&app, &seller).await;
        let remind = |minutes: i64| gigstream_web::notify::remind_unread(&app.state, Utc::now() + Duration::minutes(minutes));
        // The jobs run with a clock up to 40 minutes ahead; deliveries with it.
        let deliver = || gigstream_web::notify::deliver_due_at(&app.state, Utc::now() + Duration::minutes(45));

        let body = json!({ "gig": "i-will-design-a-logo-for-your-shop", "body": "Do you make animated logos?" });
        let (s, v) = app.call(Method::POST, "/api/v1/conversations", Some(&buyer), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let conv = v["conversation"]["id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/conversations/{conv}/messages");
        let (s, _) = app.call(Method::POST, &path, Some(&buyer), Some(json!({ "body": "Or only still ones?" }))).await;
        assert_eq!(s, StatusCode::CREATED);

        // Before 15 minutes nothing is due; no per-message email either (off by default).
        assert_eq!(remind(14).await.unwrap().reminded, 0);
        deliver().await.unwrap();
        assert!(sink.received().is_empty());

        // After 15 minutes: one email for the conversation, both parts, the link to it.
        let done = remind(16).await.unwrap();
        assert_eq!((done.reminded, done.emails), (1, 1));
        deliver().await.unwrap();
        let mails = sink.wait_for(1).await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].rcpt_to, ["maker@example.test"]);
        assert!(mails[0].header("Subject").unwrap().contains("Unread messages from asker"), "{:?}", mails[0].header("Subject"));
        let text = mails[0].text().unwrap();
        assert!(text.contains("sent you 2 messages") && text.contains(&format!("http://gigstream.test/messages/{conv}")), "{text}");
        let types: Vec<String> = mails[0].parts().iter().filter_map(|p| p.header("Content-Type").map(str::to_string)).collect();
        assert!(types.iter().any(|t| t.starts_with("text/html")), "{types:?}");
        // Not in the bell (the message itself is), and not again on later runs.
        let (_, v) = app.call(Method::GET, "/api/v1/notifications", Some(&seller), None).await;
        assert!(v["notifications"].as_array().unwrap().iter().all(|n| n["event"] != "unread_messages"), "{v}");
        assert_eq!(remind(30).await.unwrap().reminded, 0);

        // A new unread message: two nodes run the job at once, one email results.
        app.call(Method::POST, &path, Some(&buyer), Some(json!({ "body": "Hello?" }))).await;
        let (a, b) = tokio::join!(remind(20), remind(20));
        assert_eq!(a.unwrap().reminded + b.unwrap().reminded, 1);
        deliver().await.unwrap();
        let mails = sink.wait_for(2).await;
        assert_eq!(mails.len(), 2);
        assert!(mails[1].text().unwrap().contains("asker wrote to you about"), "{:?}", mails[1].text());

        // Read in time: nothing is sent.
        app.call(Method::POST, &path, Some(&buyer), Some(json!({ "body": "Still there?" }))).await;
        let (s, _) = app.call(Method::POST, &format!("/api/v1/conversations/{conv}/read"), Some(&seller), Some(json!({}))).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(remind(20).await.unwrap().reminded, 0);

        // The seller's own messages never remind the seller; the buyer turned the email off.
        let prefs = json!({ "preferences": [{ "event": "unread_messages", "channel": "email", "enabled": false }] });
        let (s, v) = app.call(Method::PUT, "/api/v1/me/notification-preferences", Some(&buyer), Some(prefs)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        app.call(Method::POST, &path, Some(&seller), Some(json!({ "body": "Yes, animated too." }))).await;
        let done = remind(20).await.unwrap();
        assert_eq!((done.reminded, done.emails), (1, 0));
        deliver().await.unwrap();
        assert_eq!(sink.received().len(), 2, "no email when turned off");
        assert_eq!(remind(40).await.unwrap().reminded, 0);
    }
}
