//! Registration, validation, login per account kind, sessions.

use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_domain::AdminRole;
use fantooo_store::{on_pool, users};
use serde_json::json;

fn field_error(r: &Resp, field: &str) -> String {
    let v = r.json();
    v["fields"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .find(|f| f["field"] == field)
        .map(|f| f["message"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no error for {field}: {}", r.body))
}

#[tokio::test]
async fn api_signup_creates_user_and_token_works() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut c = app.client();
        let r = c.json(Method::POST, "/api/auth/signup", json!({
            "username": "Wanjiku_7", "location": "nairobi, kenya", "gender": "female", "looking_for": "male", "age": 30, "password": PASSWORD, "accept_terms": true,
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend:?}: {}", r.body);
        let v = r.json();
        assert_eq!(v["user"]["username"], "wanjiku_7");
        assert_eq!(v["user"]["email"], "wanjiku_7@fantooo.com");
        assert_eq!(v["user"]["location"], "Nairobi, Kenya");
        assert_eq!(v["user"]["credits"], 0);
        c.bearer = Some(v["token"].as_str().unwrap().into());
        let me = c.api_get("/api/me").await;
        assert_eq!(me.status, StatusCode::OK);
        assert_eq!(me.json()["user"]["username"], "wanjiku_7");
        // Age and location compliance rows were written with the user.
        let (age_rows, loc_rows): (i64, i64) = on_pool!(&app.db, p => (
            sqlx::query_scalar("SELECT COUNT(*) FROM age_verification_log WHERE is_compliant AND stated_age = 30").fetch_one(p).await.unwrap(),
            sqlx::query_scalar("SELECT COUNT(*) FROM location_validation_log WHERE is_valid").fetch_one(p).await.unwrap(),
        ));
        assert_eq!((age_rows, loc_rows), (1, 1), "{backend:?}");
        // Logout revokes the bearer token.
        assert_eq!(c.json(Method::POST, "/api/auth/logout", json!({})).await.status, StatusCode::NO_CONTENT);
        assert_eq!(c.api_get("/api/me").await.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn every_signup_rule_is_enforced_with_named_fields() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        api_user(&app, "taken_name").await;
        let cases: Vec<(serde_json::Value, &str, &str)> = vec![
            (json!({"username": "ab"}), "username", "at least 3"),
            (json!({"username": "9lives"}), "username", "start with a letter"),
            (json!({"username": "bad name"}), "username", "only letters"),
            (json!({"username": "taken_name"}), "username", "taken"),
            (json!({"password": "short1!"}), "password", "at least 8"),
            (json!({"password": "nouppercase1!"}), "password", "uppercase"),
            (json!({"password": "NOLOWERCASE1!"}), "password", "lowercase"),
            (json!({"password": "NoDigits!!"}), "password", "digit"),
            (json!({"password": "NoSymbols12"}), "password", "symbol"),
            (json!({"age": 17}), "age", "at least 18"),
            (json!({"age": 101}), "age", "between 18 and 100"),
            (json!({"age": "abc"}), "age", "number"),
            (json!({"gender": "robot"}), "gender", "gender"),
            (json!({"looking_for": ""}), "looking_for", "looking for"),
            (json!({"location": "Qwxzzyville"}), "location", "couldn't find"),
            (json!({"location": "Nairobi", "latitude": 48.85, "longitude": 2.35}), "location", "km from"),
            (json!({"location": "Nairobi", "latitude": 95.0, "longitude": 2.35}), "location", "out of range"),
        ];
        for (patch, field, needle) in cases {
            let mut body = signup_body("fresh_user");
            for (k, v) in patch.as_object().unwrap() {
                body[k] = v.clone();
            }
            let mut c = app.client();
            let r = c.json(Method::POST, "/api/auth/signup", body).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend:?} {patch}: {}", r.body);
            let msg = field_error(&r, field);
            assert!(msg.to_lowercase().contains(&needle.to_lowercase()), "{backend:?} {patch}: {msg}");
        }
        // Nothing was half-written: only the first user exists.
        let n: i64 = on_pool!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM real_users").fetch_one(p).await.unwrap());
        assert_eq!(n, 1, "{backend:?}");
        // Both refused ages were logged as non-compliant attempts.
        let log = users::age_log(&app.db, 10).await.unwrap();
        let refused: Vec<i64> = log.iter().filter(|e| !e.is_compliant).map(|e| e.stated_age).collect();
        assert!(refused.contains(&17) && refused.contains(&101), "{backend:?}: {refused:?}");
        // Malformed JSON is a clear 400, not a crash.
        let mut c = app.client();
        let r = c.send(Method::POST, "/api/auth/signup", Some("application/json"), b"{not json".to_vec(), &[]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json()["error"], "bad_request");
    }
}

#[tokio::test]
async fn html_get_started_registers_refuses_minors_and_signs_in() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut c = app.client();
        let page = c.get("/get-started").await;
        assert_eq!(page.status, StatusCode::OK);
        // Laid out as shown: only the open step is in the page's flow
        // before any script runs; without script a stylesheet shows all.
        assert_eq!(open_steps(&page.body), vec![1], "{}", page.body);
        assert!(page.body.contains(r#"<noscript><link rel="stylesheet" href="/assets/nojs.css"></noscript>"#));
        let mut fields = vec![
            ("username", "kamau"),
            ("location", "Mombasa"),
            ("gender", "male"),
            ("looking_for", "female"),
            ("age", "16"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
            ("accept_terms", "on"),
        ];
        let r = c.post_form("/get-started", &fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("You must be at least 18 years old to join"), "{}", r.body);
        assert!(r.body.contains("value=\"kamau\""), "entered values are kept");
        assert_eq!(open_steps(&r.body), vec![2], "the step with the error opens");
        assert!(r.body.contains(r#"data-step-label="1" class="done""#) && r.body.contains(r#"data-step-label="2" class="active""#));
        fields[4] = ("age", "26");
        let r = c.post_form("/get-started", &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/discover");
        let me = c.get("/me").await;
        assert_eq!(me.status, StatusCode::OK);
        assert!(me.body.contains("kamau@fantooo.com"));
        assert!(me.body.contains("Mombasa, Kenya"));
    }
}

/// The sign-up steps a page renders without `hidden`.
fn open_steps(body: &str) -> Vec<u8> {
    (1..=3).filter(|n| body.contains(&format!(r#"data-step="{n}" >"#))).collect()
}

#[tokio::test]
async fn username_availability_and_location_suggestions() {
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    api_user(&app, "neema").await;
    let mut c = app.client();
    let r = c.api_get("/api/auth/username-available?username=Neema").await.json();
    assert_eq!(r["available"], false);
    let r = c.api_get("/api/auth/username-available?username=neema2").await.json();
    assert_eq!(r["available"], true);
    let r = c.api_get("/api/auth/username-available?username=x").await.json();
    assert_eq!(r["available"], false);
    assert!(r["error"].as_str().unwrap().contains("at least 3"));
    let r = c.api_get("/api/locations/suggest?q=nairo").await.json();
    assert_eq!(r["places"][0]["label"], "Nairobi, Kenya");
}

#[tokio::test]
async fn each_login_page_admits_only_its_kind() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        api_user(&app, "mercy").await;
        let mut admin = admin_client(&app, "boss@fantooo.com", AdminRole::Admin).await;
        let mut op = operator_client(&app, "op1@fantooo.com").await;
        assert_eq!(admin.get("/admin").await.status, StatusCode::OK);
        assert_eq!(op.get("/operator/waiting").await.status, StatusCode::OK);

        let mut c = app.client();
        // A user's credentials do not open the staff doors, and vice versa.
        for (page, login) in [
            ("/admin-login", "mercy"),
            ("/op-login", "mercy"),
            ("/login", "boss@fantooo.com"),
            ("/op-login", "boss@fantooo.com"),
            ("/admin-login", "op1@fantooo.com"),
        ] {
            let r = c.post_form(page, &[("login", login), ("password", PASSWORD)]).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{backend:?} {page} {login}");
            assert!(r.body.contains("Incorrect login or password"));
        }
        let r = c.post_form("/login", &[("login", "mercy"), ("password", "Wrong!pass1")]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let r = c.post_form("/login", &[("login", "Mercy"), ("password", PASSWORD)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location(), "/discover");
        assert_eq!(c.get("/discover").await.status, StatusCode::OK);
        // Role separation after login: a user cannot open staff areas.
        assert_eq!(c.get("/admin").await.status, StatusCode::FORBIDDEN);
        assert_eq!(c.get("/operator/waiting").await.status, StatusCode::FORBIDDEN);
        // Logout ends the session server-side.
        let cookie = c.cookies.get("fantooo_session").cloned().unwrap();
        let r = c.post_form("/logout", &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        c.cookies.insert("fantooo_session".into(), cookie);
        let r = c.get("/me").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "a revoked cookie no longer works");
        assert!(r.location().starts_with("/login"));

        // The API login takes a kind too.
        let mut api = app.client();
        let r =
            api.json(Method::POST, "/api/auth/login", json!({"login": "op1@fantooo.com", "password": PASSWORD, "kind": "operator"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = api.json(Method::POST, "/api/auth/login", json!({"login": "op1@fantooo.com", "password": PASSWORD})).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.json()["error"], "login_failed");
    }
}

#[tokio::test]
async fn user_text_is_escaped_everywhere() {
    let app = TestApp::new(fantooo_store::Backend::Sqlite).await;
    let mut c = app.client();
    let mut body = signup_body("escaper");
    body["display_name"] = json!("<script>alert(1)</script>");
    let r = c.json(Method::POST, "/api/auth/signup", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mut page = app.client();
    page.post_form("/login", &[("login", "escaper"), ("password", PASSWORD)]).await;
    let me = page.get("/me").await;
    assert!(!me.body.contains("<script>alert(1)</script>"));
    assert!(me.body.contains("&#60;script&#62;") || me.body.contains("&lt;script&gt;"), "{}", me.body);
}

/// Each sign-up step can be checked on its own before the form moves on:
/// only that step's fields are judged, and nothing is created.
#[tokio::test]
async fn signup_steps_are_checked_one_at_a_time() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        api_user(&app, "taken_one").await;
        let mut c = app.client();
        let check = "/api/auth/signup/check";

        // Step 1: the name only (the empty later fields are not judged).
        let r = c.json(Method::POST, check, json!({ "step": 1, "username": "TAKEN_one" })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend:?}: {}", r.body);
        assert_eq!(field_error(&r, "username"), "That username is taken");
        assert_eq!(r.json()["fields"].as_array().unwrap().len(), 1, "{}", r.body);
        let r = c.json(Method::POST, check, json!({ "step": 1, "username": "x" })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        field_error(&r, "username");
        let r = c.json(Method::POST, check, json!({ "step": 1, "username": "new_name" })).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

        // Step 2: under-age is refused and logged; a good step passes.
        let about =
            json!({ "step": 2, "username": "new_name", "location": "Nairobi", "gender": "female", "looking_for": "male", "age": "17" });
        let r = c.json(Method::POST, check, about).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(field_error(&r, "age").contains("18"));
        let log = users::age_log(&app.db, 10).await.unwrap();
        assert!(
            log.iter().any(|e| !e.is_compliant && e.stated_age == 17 && e.attempted_username.as_deref() == Some("new_name")),
            "{log:?}"
        );
        let r = c
            .json(Method::POST, check, json!({ "step": 2, "location": "Nairobi", "gender": "female", "looking_for": "male", "age": 30 }))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

        // Step 3: weak and mismatched passwords.
        let r = c.json(Method::POST, check, json!({ "step": 3, "password": "password1", "password_confirm": "password2" })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        field_error(&r, "password");
        field_error(&r, "password_confirm");

        // A step that does not exist is named.
        let r = c.json(Method::POST, check, json!({ "step": 4 })).await;
        assert!(r.status.is_client_error(), "{}", r.body);
        assert!(r.body.contains("step"), "{}", r.body);

        assert!(!users::username_taken(&app.db, "new_name").await.unwrap(), "checking creates nothing");
    }
}

/// Sign-up needs the Terms of Service and Privacy Policy accepted; the
/// moment of acceptance is kept with the account.
#[tokio::test]
async fn signup_requires_accepting_the_terms_and_records_when() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut body = signup_body("careful");
        body.as_object_mut().unwrap().remove("accept_terms");
        let r = app.client().json(Method::POST, "/api/auth/signup", body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(field_error(&r, "accept_terms").contains("Terms of Service"));
        body["accept_terms"] = json!(false);
        assert_eq!(app.client().json(Method::POST, "/api/auth/signup", body.clone()).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        // The page form: the box unticked is named, ticked passes.
        let mut page = app.client();
        page.get("/get-started").await;
        let mut fields = vec![
            ("username", "careful"),
            ("location", "Nairobi"),
            ("gender", "male"),
            ("looking_for", "female"),
            ("age", "30"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ];
        let r = page.post_form("/get-started", &fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("data-error=\"accept_terms\""), "{}", r.body);
        fields.push(("accept_terms", "on"));
        let r = page.post_form("/get-started", &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let accepted: Option<i64> = on_pool!(&app.db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM real_users WHERE username = 'careful' AND terms_accepted_at IS NOT NULL").fetch_optional(p).await.unwrap());
        assert_eq!(accepted, Some(1));
    }
}

/// The account page's own actions: a password change checks the current
/// one and signs other devices out; the data export holds every chat and
/// message in public words; deletion needs the password and DELETE, then
/// applies the same GDPR rules as staff deletion.
#[tokio::test]
async fn users_change_password_export_their_data_and_delete_their_account() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (mut api, uid, chat) = crate::chat::user_with_chat(&app, "selfserve").await;
        crate::chat::grant(&app.db, uid, 5).await;
        crate::chat::say(&mut api, chat, "my secret words").await;
        let mut page = app.client();
        page.get("/login").await;
        let r = page.post_form("/login", &[("login", "selfserve"), ("password", PASSWORD)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        page.get("/me").await;

        // Password: wrong current, weak new, then a good change; the other
        // (bearer) session is signed out, this one stays.
        let r = page
            .post_form("/me/password", &[("current_password", "nope"), ("new_password", "weak"), ("new_password_confirm", "weak")])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains(r#"data-error="current_password""#) && r.body.contains(r#"data-error="new_password""#), "{}", r.body);
        const NEW: &str = "Fresh-Pass-2024!";
        let r =
            page.post_form("/me/password", &[("current_password", PASSWORD), ("new_password", NEW), ("new_password_confirm", NEW)]).await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/me?password=changed"), "{backend:?}: {}", r.body);
        assert!(page.get("/me?password=changed").await.body.contains("Password changed"));
        assert_eq!(api.api_get("/api/me").await.status, StatusCode::UNAUTHORIZED, "{backend:?}: the other session is gone");
        let r = app.client().json(Method::POST, "/api/auth/login", json!({ "login": "selfserve", "password": NEW })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let mut api = app.client();
        api.bearer = Some(r.json()["token"].as_str().unwrap().to_string());
        let r = api.json(Method::PUT, "/api/me/password", json!({ "current_password": "wrong", "new_password": "Another-Pass-1!" })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_error(&r, "current_password"), "That is not your current password");

        // Export: the chat and its messages, in the words users know.
        let r = page.get("/me/export").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.headers.get("content-disposition").unwrap().to_str().unwrap().contains("attachment"));
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["account"]["username"], "selfserve");
        let msgs = v["chats"][0]["messages"].as_array().unwrap();
        assert!(msgs.iter().any(|m| m["content"] == "my secret words" && m["sender_type"] == "user"), "{backend:?}: {msgs:?}");
        for word in ["fictional", "operator", "\"real\""] {
            assert!(!r.body.contains(word), "{backend:?}: export mentions {word}");
        }
        assert!(!v["credit_history"].as_array().unwrap().is_empty());

        // Delete: wrong password and missing confirmation are named; then it goes.
        let r = page.post_form("/me/delete", &[("password", "nope"), ("confirm", "delete")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains(r#"data-error="password""#) && r.body.contains(r#"data-error="confirm""#));
        assert!(users::username_taken(&app.db, "selfserve").await.unwrap(), "nothing happened yet");
        let r = page.post_form("/me/delete", &[("password", NEW), ("confirm", "DELETE")]).await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/?deleted=1"), "{backend:?}: {}", r.body);
        assert!(r.headers.get_all("set-cookie").iter().any(|c| c.to_str().unwrap().contains("Max-Age=0")), "cookie cleared");
        let rec = fantooo_store::user_admin::deletion_record(&app.db, uid).await.unwrap().expect("archived");
        assert_eq!(rec.unused_credits, Some(5));
        let history = fantooo_store::messages::history(&app.db, chat, None, 10).await.unwrap();
        assert!(history.iter().all(|m| m.content != "my secret words"), "{backend:?}: words anonymised");
        let refunds = fantooo_store::refunds::recent(&app.db, 10).await.unwrap();
        let own = refunds.iter().find(|r| r.user_id == uid).expect("refund recorded");
        assert_eq!((own.processed_by, own.amount.get()), (None, 5), "{backend:?}");
        assert_eq!(page.get("/me").await.status, StatusCode::SEE_OTHER, "signed out");
        let r = app.client().json(Method::POST, "/api/auth/login", json!({ "login": "selfserve", "password": NEW })).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
}
