//! Every upload passes the virus scanner before it is stored: EICAR is
//! refused on its field, recorded as a security event and never stored; a
//! scanner that does not answer refuses uploads with a clear 503.

use crate::support::{backends, TestApp};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use gigstream_store::security;
use platform_media::scan::fake::eicar;
use serde_json::{json, Value};

fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let parts: Vec<platform_testkit::form::Part> = parts
        .iter()
        .map(|(name, file, bytes)| platform_testkit::form::Part { name, file: file.map(|f| (f, "application/octet-stream")), bytes })
        .collect();
    platform_testkit::multipart(&parts)
}

pub async fn post_multipart(app: &TestApp, path: &str, token: &str, parts: &[(&str, Option<&str>, &[u8])]) -> (StatusCode, Value, String) {
    let (ct, body) = multipart(parts);
    let req = Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, ct)
        .header(header::ACCEPT, "application/json")
        .body(Body::from(body))
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.router.clone(), req).await.unwrap();
    let status = resp.status();
    let retry = resp.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null), retry)
}

/// Files under the media directory (an infected upload leaves none).
fn stored_files(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        n += if p.is_dir() { stored_files(&p) } else { 1 };
    }
    n
}

/// A gig owned by `seller`; returns its id.
pub async fn gig(app: &TestApp, seller: &str) -> String {
    let body = json!({
        "title": "I will design a logo for your shop",
        "category": "graphics-design",
        "description": "<p>Clean vector logos, drawn by hand for small shops.</p>",
        "packages": [{ "tier": "basic", "name": "Starter", "price": "50", "delivery_days": 3, "revisions": 1, "items": ["Logo"] }],
    });
    let (s, v) = app.call(Method::POST, "/api/v1/gigs", Some(seller), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["gig"]["id"].as_str().unwrap().to_string()
}

fn png() -> &'static [u8] {
    include_bytes!("../../assets/test.png")
}

#[tokio::test]
async fn eicar_is_refused_logged_and_never_stored() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let seller = app.sign_up("scanned").await;
        let id = gig(&app, &seller).await;
        let path = format!("/api/v1/gigs/id/{id}/images");

        // The bare test file, and the test file hidden after a real picture.
        let mut disguised = png().to_vec();
        disguised.extend(eicar());
        for (name, bytes) in [("eicar.com", eicar()), ("holiday.png", disguised)] {
            let (s, v, _) = post_multipart(&app, &path, &seller, &[("image", Some(name), &bytes)]).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {v}");
            assert_eq!(v["fields"][0]["field"], "image", "{v}");
            let message = v["fields"][0]["message"].as_str().unwrap();
            assert!(message.starts_with("Picture was refused: the virus scanner found "), "{message}");
            assert!(message.to_lowercase().contains("eicar") && message.ends_with("Nothing was stored."), "{message}");
        }
        assert_eq!(stored_files(app.media.path()), 0, "{backend:?}: an infected file reached the media store");
        let (_, v) = app.call(Method::GET, "/api/v1/gigs/i-will-design-a-logo-for-your-shop", None, None).await;
        assert_eq!(v["images"].as_array().map(Vec::len), Some(0), "{v}");

        // Both attempts are security events naming the account, the file and the signature.
        let events = security::recent(&app.db, Some(security::Kind::InfectedUpload), 10).await.unwrap();
        assert_eq!(events.len(), 2, "{backend:?}");
        let (_, me) = app.call(Method::GET, "/api/v1/me", Some(&seller), None).await;
        for (e, name) in events.iter().zip(["holiday.png", "eicar.com"]) {
            assert_eq!(e.account_id.map(|a| a.to_string()).as_deref(), me["account"]["id"].as_str());
            assert_eq!((e.detail.field.as_str(), e.detail.file_name.as_str()), ("image", name));
            assert!(e.detail.signature.to_lowercase().contains("eicar"), "{:?}", e.detail);
        }

        // A clean picture passes the same scanner and is stored.
        let (s, v, _) = post_multipart(&app, &path, &seller, &[("image", Some("logo.png"), png())]).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(stored_files(app.media.path()), 1);
    }
}

#[tokio::test]
async fn an_infected_delivery_leaves_the_order_as_it_was() {
    for backend in backends() {
        let (app, _) = TestApp::served(backend).await;
        let seller = app.sign_up("deliverer").await;
        let buyer = app.sign_up("waiter").await;
        let id = gig(&app, &seller).await;
        let order = app.paid_order(&buyer, &id).await;
        let (s, _) =
            app.call(Method::POST, &format!("/api/v1/orders/{order}/requirements"), Some(&buyer), Some(json!({ "answers": [] }))).await;
        assert_eq!(s, StatusCode::OK);

        let parts: [(&str, Option<&str>, &[u8]); 3] =
            [("message", None, b"Here it is"), ("files", Some("logo.png"), png()), ("files", Some("readme.pdf"), &eicar())];
        let (s, v, _) = post_multipart(&app, &format!("/api/v1/orders/{order}/deliver"), &seller, &parts).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("files")), "{v}");
        let (_, v) = app.call(Method::GET, &format!("/api/v1/orders/{order}"), Some(&buyer), None).await;
        assert_eq!(v["order"]["status"], "in_progress");
        assert_eq!(v["deliveries"].as_array().map(Vec::len), Some(0));
        assert_eq!(security::recent(&app.db, None, 10).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn with_the_scanner_stopped_uploads_are_refused_with_a_clear_message() {
    // An address where nothing listens: the daemon is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    for backend in backends() {
        let app = TestApp::with_config(backend, |c| c.clamd = platform_media::ClamdAddr::Tcp(format!("127.0.0.1:{port}"))).await;
        let seller = app.sign_up("paused").await;
        let id = gig(&app, &seller).await;
        let (s, v, retry) =
            post_multipart(&app, &format!("/api/v1/gigs/id/{id}/images"), &seller, &[("image", Some("logo.png"), png())]).await;
        assert_eq!((s, v["error"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("dependency_unavailable")), "{v}");
        assert!(v["message"].as_str().unwrap().starts_with("Uploads are paused: the virus scanner is not answering"), "{v}");
        assert_eq!(retry, "60");
        assert_eq!(stored_files(app.media.path()), 0);

        // A browser gets the same words on an error page.
        let (ct, body) = multipart(&[("image", Some("logo.png"), png())]);
        let (_, v) = app.call(Method::GET, "/api/v1/me", Some(&seller), None).await;
        assert!(v["account"]["id"].is_string());
        let req = Request::post(format!("/gigs/id/{id}/images"))
            .header(header::AUTHORIZATION, format!("Bearer {seller}"))
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap();
        let (s, _, html) = app.raw(req).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        assert!(html.contains("the virus scanner is not answering"), "{html}");
    }
}
