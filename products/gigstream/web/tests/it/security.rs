//! Security and compliance: CSRF on every form, no inline script, the
//! HTTPS redirect and HSTS, the message rate limit, the legal pages, a
//! person's data export and account deletion.

use crate::backoffice::{browser_session, gig, id_of, page, post_form};
use crate::support::{backends, TestApp, PASSWORD};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;
use std::io::Read;

/// Every `(method, path)` the route tables register for a state-changing
/// method, read from the sources so a new route is covered by itself.
fn changing_routes() -> Vec<(String, String)> {
    let mut files = vec![];
    let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src/routes"))];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut out = vec![];
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for chunk in text.split(".route(\"").skip(1) {
            let (path, rest) = chunk.split_once('"').unwrap();
            let call = &rest[..rest.find(")\n").unwrap_or(rest.len().min(200))];
            for m in ["post", "put", "delete", "patch"] {
                if call.contains(&format!("{m}(")) {
                    out.push((m.to_uppercase(), path.to_string()));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A path with its parameters filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            s if s.starts_with('{') && s.contains("action") => "accept".to_string(),
            s if s.starts_with('{') && s.contains("decision") => "approve".to_string(),
            s if s.starts_with('{') && s.contains("status") => "pause".to_string(),
            s if s.starts_with('{') && s.contains("provider") => "stripe".to_string(),
            s if s.starts_with('{') => "0b5e3c52-6d1f-4a57-9b61-3f3c1f0a9e21".to_string(),
            s => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_form_and_api_call_with_a_cookie_session_needs_its_csrf_token() {
    let backend = backends().into_iter().next().unwrap();
    let app = TestApp::new(backend).await;
    app.admin("ops").await;
    let (cookie, csrf) = browser_session(&app, "ops").await;
    let routes = changing_routes();
    assert!(routes.len() >= 40, "the route tables were read: {routes:?}");
    assert!(routes.iter().any(|(m, p)| m == "POST" && p == "/admin/users/{id}/{action}"));
    assert!(routes.iter().any(|(m, p)| m == "PUT" && p == "/api/v1/gigs/id/{id}"));
    let mut checked = 0;
    for (method, path) in &routes {
        // Webhooks are signed by their provider instead.
        if path.starts_with("/api/webhooks/") {
            continue;
        }
        let uri = concrete(path);
        for (content_type, body) in
            [("application/x-www-form-urlencoded", "confirm=yes&reason=whatever"), ("application/json", "{\"confirm\":\"yes\"}")]
        {
            for token in [None, Some("forged-token")] {
                let mut req = Request::builder()
                    .method(Method::from_bytes(method.as_bytes()).unwrap())
                    .uri(&uri)
                    .header(header::COOKIE, &cookie)
                    .header(header::CONTENT_TYPE, content_type);
                if let Some(t) = token {
                    req = req.header("x-csrf-token", t);
                }
                let (s, _, text) = app.raw(req.body(Body::from(body)).unwrap()).await;
                assert_eq!(s, StatusCode::FORBIDDEN, "{method} {uri} ({content_type}, token {token:?}): {text}");
                assert!(text.contains("csrf") || text.contains("security token"), "{method} {uri}: {text}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 160, "{checked}");
    // The same request with the session's token gets through the check.
    let (s, _, _) = post_form(&app, &cookie, "/admin/settings", &format!("csrf_token={csrf}&clearance_days=9")).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
}

/// `<script>` elements without `src`, and `on…=` attributes.
fn inline_script(html: &str) -> Option<String> {
    let lower = html.to_lowercase();
    for (i, _) in lower.match_indices("<script") {
        let tag = &lower[i..lower[i..].find('>').map_or(lower.len(), |e| i + e)];
        if !tag.contains(" src=") {
            return Some(tag.to_string());
        }
    }
    for word in [" onclick=", " onload=", " onerror=", " onsubmit=", " onchange=", " oninput=", " onmouseover=", "javascript:"] {
        if lower.contains(word) {
            return Some(word.to_string());
        }
    }
    None
}

#[tokio::test]
async fn no_page_runs_inline_script_and_the_policy_forbids_it() {
    let backend = backends().into_iter().next().unwrap();
    let app = TestApp::new(backend).await;
    app.admin("ops").await;
    let seller = app.sign_up("writer").await;
    let (_, v) = app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig("I will write a product description"))).await;
    let slug = v["gig"]["slug"].as_str().unwrap().to_string();
    let (admin_cookie, _) = browser_session(&app, "ops").await;
    let (seller_cookie, _) = browser_session(&app, "writer").await;
    let public = ["/", "/search?q=product", "/login", "/signup", "/terms", "/privacy", &format!("/gigs/{slug}"), "/u/writer"];
    let mine = ["/dashboard", "/account", "/wallet", "/messages", "/profile", "/gigs/new", "/dashboard/reviews"];
    let admin = ["/admin/users", "/admin/gigs", "/admin/orders", "/admin/analytics", "/admin/settings", "/admin/audit", "/admin/security"];
    let mut seen = 0;
    for (cookie, paths) in [("", &public[..]), (&seller_cookie as &str, &mine[..]), (&admin_cookie, &admin[..])] {
        for path in paths {
            let mut req = Request::get(*path);
            if !cookie.is_empty() {
                req = req.header(header::COOKIE, cookie);
            }
            let (s, h, body) = app.raw(req.body(Body::empty()).unwrap()).await;
            assert_eq!(s, StatusCode::OK, "{path}");
            assert_eq!(inline_script(&body), None, "{path}");
            let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            let script = csp.split(';').find(|d| d.trim().starts_with("script-src")).expect("script-src");
            assert!(!script.contains("unsafe-inline") && !script.contains("unsafe-eval"), "{csp}");
            seen += 1;
        }
    }
    assert_eq!(seen, public.len() + mine.len() + admin.len());
    // The checker itself finds what it looks for.
    assert!(inline_script("<p><script>alert(1)</script>").is_some());
    assert!(inline_script("<img src=x onerror=alert(1)>").is_some());
    assert!(inline_script("<script src=\"/assets/gigstream.js\" defer></script>").is_none());
}

#[tokio::test]
async fn plain_http_is_redirected_to_https_behind_the_flag() {
    let backend = backends().into_iter().next().unwrap();
    let get = |proto: Option<&str>, path: &str| {
        let mut r = Request::get(path).header(header::HOST, "gigs.example.com");
        if let Some(p) = proto {
            r = r.header("x-forwarded-proto", p);
        }
        r.body(Body::empty()).unwrap()
    };
    let off = TestApp::new(backend).await;
    let (s, h, _) = off.raw(get(Some("https"), "/terms")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(h.get(header::STRICT_TRANSPORT_SECURITY).is_none(), "no HSTS without the flag");
    assert_eq!(off.raw(get(Some("http"), "/terms")).await.0, StatusCode::OK);
    let app = TestApp::with_config(backend, |c| {
        c.https_redirect = true;
        c.trust_proxy = true;
        c.hsts = true;
    })
    .await;
    let (s, h, _) = app.raw(get(Some("http"), "/search?q=logo")).await;
    assert_eq!(s, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(h[header::LOCATION], "https://gigs.example.com/search?q=logo");
    let (s, h, _) = app.raw(get(None, "/")).await;
    assert_eq!((s, h[header::LOCATION].to_str().unwrap()), (StatusCode::PERMANENT_REDIRECT, "https://gigs.example.com/"));
    let (s, h, _) = app.raw(get(Some("https"), "/terms")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(h[header::STRICT_TRANSPORT_SECURITY].to_str().unwrap().contains("max-age="));
    assert_eq!(app.raw(get(Some("http"), "/api/health")).await.0, StatusCode::OK, "load balancers probe over HTTP");
    // Without a trusted proxy the server only sees plain HTTP.
    let direct = TestApp::with_config(backend, |c| c.https_redirect = true).await;
    assert_eq!(direct.raw(get(Some("https"), "/terms")).await.0, StatusCode::PERMANENT_REDIRECT);
}

#[tokio::test]
async fn messages_are_rate_limited_per_account() {
    let backend = backends().into_iter().next().unwrap();
    let app = TestApp::with_config(backend, |c| c.message_per_minute = 2).await;
    let seller = app.sign_up("writer").await;
    let (_, v) = app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig("I will write a product description"))).await;
    let slug = v["gig"]["slug"].as_str().unwrap().to_string();
    let buyer = app.sign_up("shop").await;
    let (s, v) = app.call(Method::POST, "/api/v1/conversations", Some(&buyer), Some(json!({ "gig": slug, "body": "Hello there" }))).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let conv = v["conversation"]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/conversations/{conv}/messages");
    let (s, _) = app.call(Method::POST, &path, Some(&buyer), Some(json!({ "body": "Are you free?" }))).await;
    assert!(s.is_success());
    let (s, v) = app.call(Method::POST, &path, Some(&buyer), Some(json!({ "body": "Third one" }))).await;
    assert_eq!((s, v["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")), "{v}");
    let (s, _) = app.call(Method::POST, &path, Some(&seller), Some(json!({ "body": "Yes I am" }))).await;
    assert!(s.is_success(), "per account: the seller still writes");
}

#[tokio::test]
async fn legal_pages_are_linked_from_the_footer_and_sign_up() {
    let backend = backends().into_iter().next().unwrap();
    let app = TestApp::new(backend).await;
    for (path, title) in [("/terms", "Terms of Service"), ("/privacy", "Privacy")] {
        let (s, _, body) = app.raw(Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains(&format!("<h1>{title}</h1>")));
    }
    let (_, _, body) = app.raw(Request::get("/signup").body(Body::empty()).unwrap()).await;
    assert_eq!(body.matches("href=\"/terms\"").count(), 2, "footer and the sign-up form");
    assert_eq!(body.matches("href=\"/privacy\"").count(), 2);
}

#[tokio::test]
async fn a_person_downloads_their_data_with_their_files() {
    for backend in backends() {
        let (app, _) = TestApp::served(backend).await;
        let seller = app.sign_up("painter").await;
        let (_, v) = app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig("I will paint your portrait"))).await;
        let gig_id = v["gig"]["id"].as_str().unwrap().to_string();
        let png = include_bytes!("../../assets/test.png");
        let boundary = "EXPORTBOUNDARY";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(png);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::post(format!("/api/v1/gigs/id/{gig_id}/images"))
            .header(header::AUTHORIZATION, format!("Bearer {seller}"))
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .unwrap();
        assert_eq!(app.raw(req).await.0, StatusCode::CREATED);
        // A message attachment and a delivered file, both the seller's.
        let buyer = app.sign_up("sitter").await;
        let (s, v) = app.call(Method::POST, "/api/v1/conversations", Some(&buyer), Some(json!({ "gig": gig_id, "body": "Hi" }))).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let conv = v["conversation"]["id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/conversations/{conv}/messages");
        let parts: [(&str, Option<&str>, &[u8]); 2] = [("body", None, b"A sketch"), ("attachment", Some("sketch.png"), png)];
        assert_eq!(crate::uploads::post_multipart(&app, &path, &seller, &parts).await.0, StatusCode::CREATED);
        let order = app.paid_order(&buyer, &gig_id).await;
        let step = |a: &str| format!("/api/v1/orders/{order}/{a}");
        let (s, v) = app.call(Method::POST, &step("requirements"), Some(&buyer), Some(json!({ "answers": ["The blue one"] }))).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let parts: [(&str, Option<&str>, &[u8]); 2] = [("message", None, b"Done"), ("files", Some("portrait.png"), png)];
        assert_eq!(crate::uploads::post_multipart(&app, &step("deliver"), &seller, &parts).await.0, StatusCode::OK);
        let (s, v) = app.call(Method::GET, "/api/v1/me/export", Some(&seller), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            (v["account"]["username"].as_str(), v["gigs"][0]["title"].as_str()),
            (Some("painter"), Some("I will paint your portrait"))
        );
        let (cookie, _) = browser_session(&app, "painter").await;
        let resp = app.raw(Request::get("/account/export").header(header::COOKIE, &cookie).body(Body::empty()).unwrap());
        let (s, h, _) = resp.await;
        assert_eq!((s, h[header::CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, "application/zip"));
        // Read the bytes (raw() returns text), then open the archive.
        let req = Request::get("/account/export").header(header::COOKIE, &cookie).body(Body::empty()).unwrap();
        let resp = tower::ServiceExt::oneshot(app.router.clone(), req).await.unwrap();
        let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let mut data = String::new();
        zip.by_name("data.json").unwrap().read_to_string(&mut data).unwrap();
        let data: serde_json::Value = serde_json::from_str(&data).unwrap();
        assert_eq!(data["account"]["email"], "painter@example.test");
        // The gig picture, the message attachment and the delivered file, each itself.
        let files: Vec<String> = data["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
        let dirs: Vec<&str> = files.iter().map(|f| f.rsplit_once('/').unwrap().0).collect();
        assert_eq!(dirs, ["files/gig-images", "files/message-attachments", "files/deliveries"], "{files:?}");
        for file in &files {
            assert!(file.ends_with(".png"), "{file}");
            let mut stored = vec![];
            zip.by_name(file).unwrap().read_to_end(&mut stored).unwrap();
            assert_eq!(stored, png.to_vec(), "{file}: the file itself");
        }
        assert!(zip.by_name("missing.txt").is_err(), "every file was found");
        assert_eq!(app.call(Method::GET, "/api/v1/me/export", None, None).await.0, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn deleting_an_account_needs_the_password_and_keeps_money_records_anonymised() {
    for backend in backends() {
        let (app, _) = TestApp::served(backend).await;
        let admin = app.admin("ops").await;
        let seller = app.sign_up("writer").await;
        let (_, v) = app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig("I will write a product description"))).await;
        let gig_id = v["gig"]["id"].as_str().unwrap().to_string();
        let buyer = app.sign_up("shop").await;
        let buyer_id = id_of(&app, &buyer).await;
        let (order, _) = app.place(&buyer, &gig_id, "stripe").await;
        let (s, v) = app.call(Method::POST, "/api/v1/me/delete", Some(&buyer), Some(json!({ "password": PASSWORD }))).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("confirm")));
        let (s, v) =
            app.call(Method::POST, "/api/v1/me/delete", Some(&buyer), Some(json!({ "password": "Wrong!pass1", "confirm": "yes" }))).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("password")));
        let (s, v) =
            app.call(Method::POST, "/api/v1/me/delete", Some(&buyer), Some(json!({ "password": PASSWORD, "confirm": "yes" }))).await;
        assert_eq!(s, StatusCode::CONFLICT, "an order is under way: {v}");
        assert!(v["message"].as_str().unwrap().contains("under way"));
        assert_eq!(app.call(Method::GET, "/api/v1/me", Some(&buyer), None).await.0, StatusCode::OK, "nothing was changed");
        let (s, _) = app.call(Method::POST, &format!("/api/v1/orders/{order}/cancel"), Some(&buyer), Some(json!({}))).await;
        assert_eq!(s, StatusCode::OK);
        // Through the page: the password and the confirmation, then gone.
        let (cookie, csrf) = browser_session(&app, "shop").await;
        let (_, body) = page(&app, &cookie, "/account").await;
        assert!(body.contains("kept but anonymised"), "the page explains what is kept");
        let (s, _, body) = post_form(&app, &cookie, "/account/delete", &format!("csrf_token={csrf}&confirm=yes&password=nope")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("That is not your password."));
        let (s, h, _) = post_form(
            &app,
            &cookie,
            "/account/delete",
            &format!("csrf_token={csrf}&confirm=yes&password={}", PASSWORD.replace('!', "%21")),
        )
        .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(h[header::SET_COOKIE].to_str().unwrap().starts_with("gigstream_session=;"));
        assert_eq!(app.call(Method::GET, "/api/v1/me", Some(&buyer), None).await.0, StatusCode::UNAUTHORIZED);
        let (s, _) = app.call(Method::POST, "/api/v1/login", None, Some(json!({ "login": "shop", "password": PASSWORD }))).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        // The order stays, pointing to an anonymous account.
        let (_, v) = app.call(Method::GET, &format!("/api/v1/admin/users/{buyer_id}"), Some(&admin), None).await;
        assert_eq!((v["user"]["standing"].as_str(), v["user"]["display_name"].as_str()), (Some("deleted"), Some("Deleted user")));
        assert!(!v["user"]["email"].as_str().unwrap().contains("shop@"), "{v}");
        let (_, v) = app.call(Method::GET, &format!("/api/v1/orders/{order}"), Some(&seller), None).await;
        assert_eq!(v["order"]["status"], "cancelled", "{v}");
        let (_, v) = app.call(Method::GET, "/api/v1/admin/audit?action=account.delete", Some(&admin), None).await;
        assert_eq!(v["entries"][0]["subject_id"], buyer_id.as_str());
        // The name is free again.
        app.sign_up("shop").await;
    }
}
