//! Hostile input: oversized and malformed bodies, wrong content types,
//! broken uploads, deep nesting, NUL bytes and bad escapes are refused with
//! a 4xx (never a 500), and the server keeps serving afterwards. Random
//! bodies are thrown at the JSON and form endpoints.

use crate::chat::{make_profile, user_with_chat};
use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_domain::AdminRole;
use fantooo_store::Backend;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::json;

const OVER_LIMIT: usize = 13 * 1024 * 1024;

/// A 4xx whose JSON body explains itself.
fn assert_refused(r: &Resp, status: StatusCode, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.body.chars().take(300).collect::<String>());
    let body = r.json();
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: no readable message in {body}");
}

async fn still_serving(app: &TestApp) {
    assert_eq!(app.client().get("/api/health").await.status, StatusCode::OK, "the server stopped answering");
}

fn picture(w: u32, h: u32, padding: usize) -> Vec<u8> {
    let mut b = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b.resize(b.len() + padding, 0);
    b
}

fn upload(field: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "HostileBoundary";
    let mut body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"p.png\"\r\nContent-Type: image/png\r\n\r\n")
            .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (mut user, _, chat) = user_with_chat(&app, "bulky").await;
    let huge_json = format!("{{\"content\":\"{}\"}}", "a".repeat(OVER_LIMIT)).into_bytes();
    let r = app.client().send(Method::POST, "/api/auth/signup", Some("application/json"), huge_json.clone(), &[]).await;
    assert_refused(&r, StatusCode::PAYLOAD_TOO_LARGE, "signup");
    assert_eq!(r.json()["error"], "payload_too_large");
    let r = user.send(Method::POST, &format!("/api/chats/{chat}/messages"), Some("application/json"), huge_json, &[]).await;
    assert_refused(&r, StatusCode::PAYLOAD_TOO_LARGE, "message");

    // Forms are read by the CSRF check first, which stops far earlier.
    let form = format!("login=x&password={}", "a".repeat(OVER_LIMIT)).into_bytes();
    let r = app.client().send(Method::POST, "/login", Some("application/x-www-form-urlencoded"), form, &[]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);

    let mut admin = admin_client(&app, "big@fantooo.com", AdminRole::Admin).await;
    let token = admin.csrf.clone().unwrap();
    let import = serde_json::to_vec(&json!({ "data": "x".repeat(OVER_LIMIT) })).unwrap();
    let r = admin.send(Method::POST, "/api/admin/profiles/import", Some("application/json"), import, &[("x-csrf-token", &token)]).await;
    assert_refused(&r, StatusCode::PAYLOAD_TOO_LARGE, "import");
    still_serving(&app).await;
}

#[tokio::test]
async fn malformed_json_is_400_with_a_readable_message() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (mut user, _, chat) = user_with_chat(&app, "garbled").await;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", b"{\"content\": \"hi".to_vec()),
        ("invalid UTF-8", b"{\"content\": \"\xff\xfe\xc3\x28\", \"login\": \"\xff\"}".to_vec()),
        ("lone surrogate escape", br#"{"content": "\ud800", "login": "\udfff"}"#.to_vec()),
        ("not an object", b"[1,2,3]".to_vec()),
        ("wrong type", br#"{"content": {"nested": true}, "login": 5}"#.to_vec()),
        ("empty", vec![]),
        ("deeply nested", deep.into_bytes()),
        ("trailing garbage", br#"{"content": "hi"} {"#.to_vec()),
    ];
    for (what, body) in bodies {
        for (client, path) in [(&mut user, format!("/api/chats/{chat}/messages")), (&mut app.client(), "/api/auth/login".to_string())] {
            let r = client.send(Method::POST, &path, Some("application/json"), body.clone(), &[]).await;
            assert_refused(&r, StatusCode::BAD_REQUEST, &format!("{what} to {path}"));
        }
    }
    still_serving(&app).await;
}

#[tokio::test]
async fn wrong_content_types_are_refused() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (mut user, _, chat) = user_with_chat(&app, "mislabelled").await;
    let body = br#"{"content":"hi"}"#.to_vec();
    for ct in [
        None,
        Some("text/plain"),
        Some("application/xml"),
        Some("multipart/form-data"),
        Some("multipart/form-data; boundary="),
        Some("application/x-www-form-urlencoded"),
    ] {
        for path in ["/api/chats".to_string(), "/api/auth/login".to_string(), format!("/api/chats/{chat}/messages")] {
            let r = user.send(Method::POST, &path, ct, body.clone(), &[]).await;
            assert!(r.status.is_client_error(), "{ct:?} to {path}: {} {}", r.status, r.body);
        }
    }
    still_serving(&app).await;
}

/// Uploads under `field`: each with the status it must get, or `None`
/// where any 4xx with a message will do (broken multipart framing).
fn upload_cases(field: &str) -> Vec<(&'static str, String, Vec<u8>, Option<StatusCode>)> {
    let framed = |what, bytes: &[u8], status| {
        let (ct, body) = upload(field, bytes);
        (what, ct, body, Some(status))
    };
    let broken = |what, body: String| (what, "multipart/form-data; boundary=B".to_string(), body.into_bytes(), None);
    vec![
        framed("a 6 MB picture", &picture(64, 64, 6 * 1024 * 1024), StatusCode::UNPROCESSABLE_ENTITY),
        framed("a 13 MiB picture", &picture(64, 64, OVER_LIMIT), StatusCode::PAYLOAD_TOO_LARGE),
        framed("not a picture", b"MZ\x90\x00 definitely an executable", StatusCode::UNPROCESSABLE_ENTITY),
        framed("a header that lies about its size", &picture(u32::MAX, 1, 0), StatusCode::UNPROCESSABLE_ENTITY),
        broken("no closing boundary", format!("--B\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\nabc")),
        broken("another boundary", String::from_utf8(upload(field, b"x").1).unwrap()),
        broken("headers without end", format!("--B\r\nContent-Disposition: form-data; name=\"{}\"", "n".repeat(100_000))),
    ]
}

#[tokio::test]
async fn huge_and_malformed_uploads_are_refused() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (mut user, _, chat) = user_with_chat(&app, "uploader").await;
    let path = format!("/api/chats/{chat}/messages");
    for (what, ct, body, status) in upload_cases("file") {
        let r = user.send(Method::POST, &path, Some(&ct), body, &[]).await;
        match status {
            Some(status) => assert_refused(&r, status, what),
            None => assert!(
                r.status.is_client_error() && !r.json()["message"].as_str().unwrap_or("").is_empty(),
                "{what}: {} {}",
                r.status,
                r.body
            ),
        }
    }

    // The back office's picture upload and multipart profile creation.
    let profile = make_profile(&app.db, "Zawadi", false).await;
    let mut admin = admin_client(&app, "pics@fantooo.com", AdminRole::Admin).await;
    let token = admin.csrf.clone().unwrap();
    for admin_path in [format!("/api/admin/profiles/{profile}/pictures"), "/api/admin/profiles".to_string()] {
        let field = if admin_path.ends_with("/pictures") { "file" } else { "pictures" };
        for (what, ct, body, status) in upload_cases(field) {
            let r = admin.send(Method::POST, &admin_path, Some(&ct), body, &[("x-csrf-token", &token)]).await;
            match status {
                Some(status) => assert_refused(&r, status, &format!("{what} to {admin_path}")),
                None => assert!(r.status.is_client_error(), "{what} to {admin_path}: {} {}", r.status, r.body),
            }
        }
    }
    let r = admin.api_get(&format!("/api/admin/profiles/{profile}")).await.json();
    assert_eq!(r["profile"]["profile_pictures"].as_array().unwrap().len(), 3, "nothing was added");
    still_serving(&app).await;
}

#[tokio::test]
async fn long_strings_nul_bytes_and_bad_escapes_are_4xx_on_every_store() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (mut user, _, chat) = user_with_chat(&app, "nully").await;
        let long = "é".repeat(1_000_000);
        // Just under the longest URI the http crate accepts (64 KiB); the
        // socket tests send longer ones.
        let long_escaped = "%C3%A9".repeat(10_000);
        let queries = [
            "/api/profiles?q=%00".to_string(),
            "/api/profiles?location=a%00b".into(),
            "/api/profiles?q=%zz&limit=%".into(),
            "/api/profiles?q=%C3%28%FF".into(),
            "/api/profiles?cursor=%00%00".into(),
            format!("/api/profiles?q={long_escaped}"),
            "/api/auth/username-available?username=%00abc".into(),
            "/api/auth/username-available?username=%FF%FE".into(),
            format!("/api/chats/{chat}/messages?before=%00&limit=1e99"),
            "/api/locations/suggest?q=%00%00".into(),
            "/discover?gender=%00&min_age=%zz".into(),
        ];
        for q in &queries {
            let r = user.get(q).await;
            assert!(r.status.is_success() || r.status.is_client_error(), "{backend:?} {}: {} {}", &q[..q.len().min(80)], r.status, r.body);
        }
        let bodies = [
            json!({ "content": "hi\u{0}there" }),
            json!({ "content": long }),
            json!({ "content": "\u{0}" }),
            json!({ "content": "ok", "client_id": "a\u{0}b" }),
        ];
        for b in bodies {
            let r = user.json(Method::POST, &format!("/api/chats/{chat}/messages"), b.clone()).await;
            assert!(
                r.status.is_client_error(),
                "{backend:?} {}: {} {}",
                b.to_string().chars().take(60).collect::<String>(),
                r.status,
                r.body
            );
        }
        let r = user.json(Method::PATCH, "/api/me", json!({ "display_name": "Nul\u{0}", "bio": "a\u{0}b" })).await;
        assert!(r.status.is_client_error(), "{backend:?} profile: {} {}", r.status, r.body);
        let r = app.client().json(Method::POST, "/api/auth/login", json!({ "login": "a\u{0}b", "password": "x\u{0}" })).await;
        assert!(r.status.is_client_error(), "{backend:?} login: {} {}", r.status, r.body);
        let r = app.client().json(Method::POST, "/api/auth/signup", json!({ "username": "nul\u{0}", "password": PASSWORD, "location": "Nai\u{0}robi", "age": 25, "gender": "male", "looking_for": "female" })).await;
        assert!(r.status.is_client_error(), "{backend:?} signup: {} {}", r.status, r.body);
        let mut page = app.client();
        let r = page.post_form("/login", &[("login", "a\u{0}b"), ("password", "%zz")]).await;
        assert!(r.status.is_client_error() || r.status.is_success(), "{backend:?} login form: {}", r.status);
        let r = page
            .send(
                Method::POST,
                "/login",
                Some("application/x-www-form-urlencoded"),
                b"login=%zz%&password=%FF%00&csrf_token=%".to_vec(),
                &[],
            )
            .await;
        assert!(r.status.is_client_error(), "{backend:?} broken form: {}", r.status);
        still_serving(&app).await;
    }
}

/// JSON values of any shape, keyed mostly by field names the API knows.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        "\\PC{0,30}".prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    let key = prop_oneof![
        "username|password|login|kind|content|client_id|profile_id|rating|display_name|bio|package_id|reference|data|dry_run",
        "age|gender|looking_for|location|name|email|event|free_messages_per_chat|base_credits|peak_start_hour|limit",
        "\\PC{0,10}",
    ];
    leaf.prop_recursive(4, 40, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(key.clone(), inner, 0..8).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Bodies: JSON values, raw bytes, and text that is almost JSON or a form.
fn body() -> impl Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    prop_oneof![
        3 => json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => proptest::collection::vec(any::<u8>(), 0..300),
        1 => "[{}\\[\\]\",:0-9a-z\\\\ %&=+]{0,80}".prop_map(String::into_bytes),
    ]
}

#[tokio::test]
async fn random_bodies_never_cause_a_server_error() {
    let app = TestApp::with_config(Backend::Sqlite, |c| c.messages_per_minute = 100_000).await;
    let (mut user, _, chat) = user_with_chat(&app, "fuzzed").await;
    let mut admin = admin_client(&app, "fuzz@fantooo.com", AdminRole::SuperAdmin).await;
    let admin_token = admin.csrf.clone().unwrap();
    let mut anonymous = app.client();
    anonymous.get("/login").await;
    let anon_token = anonymous.csrf.clone().unwrap();
    let profile = make_profile(&app.db, "Fuzzy", false).await;

    let user_json = [
        (Method::POST, "/api/chats".to_string()),
        (Method::POST, format!("/api/chats/{chat}/messages")),
        (Method::PATCH, "/api/me".into()),
        (Method::PUT, format!("/api/chats/{chat}/rating")),
        (Method::POST, "/api/payments/initialize".into()),
        (Method::POST, "/api/payments/verify".into()),
        (Method::POST, "/api/rewards/achievements".into()),
    ];
    let admin_json = [
        (Method::POST, "/api/admin/profiles/import".to_string()),
        (Method::PUT, "/api/admin/settings/pricing".into()),
        (Method::POST, "/api/admin/profiles".into()),
        (Method::PUT, format!("/api/admin/profiles/{profile}")),
        (Method::PUT, "/api/admin/settings/operations".into()),
        (Method::POST, "/api/admin/packages".into()),
    ];
    let anonymous_json = ["/api/auth/signup", "/api/auth/login", "/api/webhooks/paystack", "/api/setup"];
    let forms = ["/login", "/get-started", "/admin-login", "/op-login"];

    let mut runner = TestRunner::deterministic();
    let strategy = body();
    let mut next = || strategy.new_tree(&mut runner).expect("a body").current();
    for round in 0..40 {
        let mut outcomes = vec![];
        for (method, path) in &user_json {
            outcomes.push((path.clone(), user.send(method.clone(), path, Some("application/json"), next(), &[]).await));
        }
        for (method, path) in &admin_json {
            outcomes.push((
                path.clone(),
                admin.send(method.clone(), path, Some("application/json"), next(), &[("x-csrf-token", &admin_token)]).await,
            ));
        }
        for path in anonymous_json {
            outcomes.push((path.to_string(), app.client().send(Method::POST, path, Some("application/json"), next(), &[]).await));
        }
        for path in forms {
            // Random fields with a valid token, so the handler itself is reached.
            let mut body = next();
            body.extend_from_slice(format!("&csrf_token={anon_token}").as_bytes());
            outcomes
                .push((path.to_string(), anonymous.send(Method::POST, path, Some("application/x-www-form-urlencoded"), body, &[]).await));
        }
        for (path, r) in outcomes {
            assert!(r.status.as_u16() < 500, "round {round}, {path}: {} {}", r.status, r.body.chars().take(300).collect::<String>());
        }
    }
    still_serving(&app).await;
}
