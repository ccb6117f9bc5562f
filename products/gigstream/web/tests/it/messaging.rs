//! Messaging and reviews through the JSON API and the pages: inquiries from
//! a gig, the order's thread, attachments checked and scanned, unread
//! counts and read receipts, search; reviews after completion.

use crate::support::{backends, TestApp};
use crate::uploads::{gig, post_multipart};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use platform_media::scan::fake::eicar;
use serde_json::json;

fn png() -> &'static [u8] {
    include_bytes!("../../assets/test.png")
}

#[tokio::test]
async fn buyer_and_seller_message_with_files_unread_counts_and_search() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let seller = app.sign_up("maker").await;
        let buyer = app.sign_up("asker").await;
        let stranger = app.sign_up("lurker").await;
        let id = gig(&app, &seller).await;

        // An inquiry from the gig; empty text names its field; one's own gig is refused.
        let (s, v) = app.call(Method::POST, "/api/v1/conversations", Some(&buyer), Some(json!({ "gig": id, "body": "  " }))).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("body")), "{v}");
        let (s, v) = app.call(Method::POST, "/api/v1/conversations", Some(&seller), Some(json!({ "gig": id, "body": "me" }))).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("gig")), "{v}");
        let (s, v) =
            app.call(Method::POST, "/api/v1/conversations", Some(&buyer), Some(json!({ "gig": "no-such-gig", "body": "hi" }))).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("gig")), "{v}");
        let body = json!({ "gig": "i-will-design-a-logo-for-your-shop", "body": "Do you make animated logos?" });
        let (s, v) = app.call(Method::POST, "/api/v1/conversations", Some(&buyer), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let conv = v["conversation"]["id"].as_str().unwrap().to_string();
        assert_eq!(v["message"]["sender_name"], "asker");

        // The seller sees one unread; a stranger sees nothing of it.
        let (_, v) = app.call(Method::GET, "/api/v1/conversations", Some(&seller), None).await;
        assert_eq!((v["unread_total"].as_i64(), v["conversations"][0]["unread"].as_i64()), (Some(1), Some(1)), "{v}");
        let (s, _) = app.call(Method::GET, &format!("/api/v1/conversations/{conv}"), Some(&stranger), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) =
            app.call(Method::POST, &format!("/api/v1/conversations/{conv}/messages"), Some(&stranger), Some(json!({ "body": "x" }))).await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // The seller answers with a picture (multipart); a retry with the same client id is stored once.
        let path = format!("/api/v1/conversations/{conv}/messages");
        let parts: [(&str, Option<&str>, &[u8]); 3] =
            [("body", None, b"Yes, here is one"), ("client_id", None, b"try-1"), ("attachment", Some("sample.png"), png())];
        let (s, v, _) = post_multipart(&app, &path, &seller, &parts).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let url = v["message"]["attachments"][0]["url"].as_str().unwrap().to_string();
        assert_eq!(v["message"]["attachments"][0]["content_type"], "image/png");
        let (s, again, _) = post_multipart(&app, &path, &seller, &parts).await;
        assert_eq!((s, &again["message"]["id"]), (StatusCode::OK, &v["message"]["id"]));
        // A file of another type, and an infected one, are refused on the field.
        let (s, v, _) = post_multipart(&app, &path, &seller, &[("attachment", Some("a.txt"), b"just text")]).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("attachment")), "{v}");
        assert!(
            v["fields"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("Attachment must be a JPEG, PNG, WebP, GIF, PDF, MP4, WebM or QuickTime file"),
            "{v}"
        );
        let (s, v, _) =
            post_multipart(&app, &path, &seller, &[("body", None, b"see attached"), ("attachment", Some("x.pdf"), &eicar())]).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("attachment")), "{v}");

        // The file is the parties' only.
        let get = |token: &str| Request::get(&url).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap();
        let (s, h, _) = app.raw(get(&buyer)).await;
        assert_eq!((s, h[header::CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, "image/png"));
        assert_eq!(app.raw(get(&stranger)).await.0, StatusCode::NOT_FOUND);

        // The buyer has one unread (the seller's reply); reading clears it and the receipt shows.
        let (_, v) = app.call(Method::GET, "/api/v1/conversations", Some(&buyer), None).await;
        assert_eq!(v["unread_total"], 1, "{v}");
        let (s, v) = app.call(Method::POST, &format!("/api/v1/conversations/{conv}/read"), Some(&buyer), Some(json!({}))).await;
        assert_eq!((s, v["unread_total"].as_i64()), (StatusCode::OK, Some(0)), "{v}");
        let (_, v) = app.call(Method::GET, &format!("/api/v1/conversations/{conv}"), Some(&seller), None).await;
        let last = v["messages"].as_array().unwrap().last().unwrap()["seq"].as_i64().unwrap();
        assert_eq!(v["other_read_upto"].as_i64(), Some(last), "{v}");
        assert_eq!(v["messages"].as_array().unwrap().len(), 2);

        // Search in one's own conversations.
        let (_, v) = app.call(Method::GET, "/api/v1/messages/search?q=ANIMATED", Some(&seller), None).await;
        assert_eq!(v["hits"].as_array().map(Vec::len), Some(1), "{v}");
        let (_, v) = app.call(Method::GET, "/api/v1/messages/search?q=animated", Some(&stranger), None).await;
        assert_eq!(v["hits"].as_array().map(Vec::len), Some(0));
        let (s, v) = app.call(Method::GET, "/api/v1/messages/search?q=a", Some(&seller), None).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("q")));

        // Pages: the inbox lists it with the search box; the thread shows both messages.
        let page = |p: &str, t: &str| Request::get(p).header(header::AUTHORIZATION, format!("Bearer {t}")).body(Body::empty()).unwrap();
        let (s, _, html) = app.raw(page("/messages?q=animated", &seller)).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("1 message found") && html.contains("Do you make animated logos?"), "{html}");
        let (s, _, html) = app.raw(page(&format!("/messages/{conv}"), &seller)).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("Yes, here is one") && html.contains(&url) && html.contains("· Seen</span>"), "{html}");
        assert_eq!(app.raw(page(&format!("/messages/{conv}"), &stranger)).await.0, StatusCode::NOT_FOUND);
    }
}

/// Places, pays, starts, delivers and accepts an order of `gig` by `buyer`.
async fn completed_order(app: &TestApp, gig: &str, buyer: &str, seller: &str) -> String {
    let order = app.paid_order(buyer, gig).await;
    let step = |a: &str| format!("/api/v1/orders/{order}/{a}");
    assert_eq!(app.call(Method::POST, &step("requirements"), Some(buyer), Some(json!({ "answers": [] }))).await.0, StatusCode::OK);
    assert_eq!(app.call(Method::POST, &step("deliver"), Some(seller), Some(json!({ "message": "Done" }))).await.0, StatusCode::OK);
    order
}

#[tokio::test]
async fn reviews_after_completion_one_per_side_with_a_reply_and_a_summary() {
    for backend in backends() {
        let (app, _) = TestApp::served(backend).await;
        let seller = app.sign_up("rated").await;
        let buyer = app.sign_up("rater").await;
        let id = gig(&app, &seller).await;
        let order = completed_order(&app, &id, &buyer, &seller).await;
        let reviews = format!("/api/v1/orders/{order}/reviews");

        // Delivered but not accepted: closed, in words.
        let full = json!({ "overall": 4, "communication": 5, "as_described": 4, "recommend": true, "comment": "Quick and clear" });
        let (s, v) = app.call(Method::POST, &reviews, Some(&buyer), Some(full.clone())).await;
        assert_eq!((s, v["message"].as_str()), (StatusCode::CONFLICT, Some("Reviews open once the order is completed.")), "{v}");
        assert_eq!(app.call(Method::POST, &format!("/api/v1/orders/{order}/accept"), Some(&buyer), None).await.0, StatusCode::OK);

        // Each bad field is named.
        let (s, v) = app.call(Method::POST, &reviews, Some(&buyer), Some(json!({ "overall": 9 }))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = v["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["overall", "communication", "as_described", "recommend"]);
        let (s, v) = app.call(Method::POST, &reviews, Some(&buyer), Some(full.clone())).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let review = v["review"]["id"].as_str().unwrap().to_string();
        let (s, _) = app
            .call(
                Method::POST,
                &reviews,
                Some(&buyer),
                Some(json!({ "overall": 5, "communication": 5, "as_described": 5, "recommend": true })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "an edit within the window");
        let (s, _) = app.call(Method::POST, &reviews, Some(&seller), Some(json!({ "overall": 5, "comment": "Clear brief" }))).await;
        assert_eq!(s, StatusCode::CREATED);
        let (_, v) = app.call(Method::GET, &reviews, Some(&buyer), None).await;
        assert_eq!(v["reviews"].as_array().map(Vec::len), Some(2));

        // One reply by the seller.
        let reply = format!("/api/v1/reviews/{review}/reply");
        assert_eq!(app.call(Method::POST, &reply, Some(&buyer), Some(json!({ "reply": "me" }))).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.call(Method::POST, &reply, Some(&seller), Some(json!({ "reply": "Thanks!" }))).await.0, StatusCode::OK);
        assert_eq!(app.call(Method::POST, &reply, Some(&seller), Some(json!({ "reply": "Again" }))).await.0, StatusCode::CONFLICT);

        // Summaries on the gig and the profile, in the API and on the pages.
        let (_, v) = app.call(Method::GET, "/api/v1/gigs/i-will-design-a-logo-for-your-shop/reviews", None, None).await;
        assert_eq!(
            (v["rating_x100"].as_i64(), v["rating_count"].as_i64(), v["analytics"]["distribution"][0]["count"].as_i64()),
            (Some(500), Some(1), Some(1))
        );
        let (_, v) = app.call(Method::GET, "/api/v1/users/rated/reviews", None, None).await;
        assert_eq!((v["analytics"]["average_x100"].as_i64(), v["analytics"]["recommend_percent"].as_i64()), (Some(500), Some(100)));
        let (_, _, html) = app.raw(Request::get("/gigs/i-will-design-a-logo-for-your-shop").body(Body::empty()).unwrap()).await;
        assert!(html.contains("★ 5.0") && html.contains("1 review") && html.contains("Thanks!"), "{html}");
        let (_, _, html) = app.raw(Request::get("/u/rated").body(Body::empty()).unwrap()).await;
        assert!(html.contains("100% would recommend"), "{html}");
        let insights =
            Request::get("/dashboard/reviews").header(header::AUTHORIZATION, format!("Bearer {seller}")).body(Body::empty()).unwrap();
        let (s, _, html) = app.raw(insights).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("Graphics &#38; Design") && html.contains("would recommend"), "{html}");

        // The review page's form names a missing rating.
        let form = Request::post(format!("/orders/{order}/review"))
            .header(header::AUTHORIZATION, format!("Bearer {buyer}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("overall=4&comment=ok"))
            .unwrap();
        let (s, _, html) = app.raw(form).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("Rate the communication."), "{html}");
    }
}

#[tokio::test]
async fn each_order_has_one_thread_of_its_own_for_its_two_parties() {
    for backend in backends() {
        let (app, _) = TestApp::served(backend).await;
        let seller = app.sign_up("maker").await;
        let buyer = app.sign_up("asker").await;
        let stranger = app.sign_up("nosy").await;
        let gig_id = gig(&app, &seller).await;
        // An inquiry first: the order's thread is another conversation.
        let (s, v) = app.call(Method::POST, "/api/v1/conversations", Some(&buyer), Some(json!({ "gig": gig_id, "body": "Hi" }))).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let inquiry = v["conversation"]["id"].as_str().unwrap().to_string();
        let first = app.paid_order(&buyer, &gig_id).await;
        let second = app.paid_order(&buyer, &gig_id).await;
        let thread = |order: &str, token: &str| {
            let (app, path, token) = (&app, format!("/api/v1/orders/{order}/conversation"), token.to_string());
            async move { app.call(Method::GET, &path, Some(&token), None).await }
        };
        let (s, v) = thread(&first, &buyer).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let conv = v["conversation"]["id"].as_str().unwrap().to_string();
        assert_eq!(
            (v["conversation"]["kind"].as_str(), v["conversation"]["order_id"].as_str()),
            (Some("order"), Some(first.as_str())),
            "{v}"
        );
        assert_ne!(conv, inquiry);
        // The same thread for the seller and on every later visit; another order has its own.
        assert_eq!(thread(&first, &seller).await.1["conversation"]["id"], conv.as_str());
        assert_eq!(thread(&first, &buyer).await.1["conversation"]["id"], conv.as_str());
        let other = thread(&second, &buyer).await.1["conversation"]["id"].as_str().unwrap().to_string();
        assert_ne!(other, conv);
        assert_eq!(thread(&first, &stranger).await.0, StatusCode::NOT_FOUND);
        // A message in it reaches the other party, whose inbox names it an order's.
        let path = format!("/api/v1/conversations/{conv}/messages");
        let (s, _) = app.call(Method::POST, &path, Some(&seller), Some(json!({ "body": "Thanks for the order!" }))).await;
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(app.call(Method::POST, &path, Some(&stranger), Some(json!({ "body": "x" }))).await.0, StatusCode::NOT_FOUND);
        let (_, v) = app.call(Method::GET, "/api/v1/conversations", Some(&buyer), None).await;
        let line = v["conversations"].as_array().unwrap().iter().find(|c| c["id"] == conv.as_str()).expect("in the inbox").clone();
        assert_eq!((line["unread"].as_i64(), line["order_id"].as_str()), (Some(1), Some(first.as_str())), "{line}");
        // The order's page link leads to the thread.
        let req = Request::get(format!("/orders/{first}/messages"))
            .header(header::AUTHORIZATION, format!("Bearer {buyer}"))
            .body(Body::empty())
            .unwrap();
        let (s, h, _) = app.raw(req).await;
        assert!(s.is_redirection(), "{s}");
        assert_eq!(h[header::LOCATION], format!("/messages/{conv}"));
    }
}
