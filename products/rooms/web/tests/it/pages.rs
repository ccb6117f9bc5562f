use crate::support::{backends, TestApp, PASSWORD};
use axum::http::{Method, StatusCode};

pub fn csrf_of(html: &str) -> String {
    let i = html.find("name=\"csrf_token\" value=\"").expect("a form with a CSRF token") + 25;
    html[i..i + 64].to_string()
}

#[tokio::test]
async fn sign_up_open_a_room_and_moderate_through_the_pages() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut c = app.client();
        let page = c.get("/signup").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = csrf_of(&page.body);
        // Without the CSRF token: refused.
        let forged = c.form("/signup", &[("login", "x@example.com")]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        let bad = c
            .form(
                "/signup",
                &[
                    ("csrf_token", &csrf),
                    ("login", "pat@example.com"),
                    ("password", PASSWORD),
                    ("full_name", "Pat"),
                    ("handle", "pat"),
                    ("birth_date", "2012-01-01"),
                    ("country", "KE"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("at least 18 years old"), "{}", bad.body);
        let ok = c
            .form(
                "/signup",
                &[
                    ("csrf_token", &csrf),
                    ("login", "pat@example.com"),
                    ("password", PASSWORD),
                    ("full_name", "Pat Doe"),
                    ("handle", "pat"),
                    ("birth_date", "1992-01-01"),
                    ("country", "KE"),
                ],
            )
            .await;
        assert_eq!((ok.status, ok.location()), (StatusCode::SEE_OTHER, "/"), "{}", ok.body);
        let home = c.get("/").await;
        assert!(home.body.contains("Pat Doe") && home.body.contains("Open a room"));
        let csrf = csrf_of(&home.body);

        let boundary = "XyZ";
        let body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nPat's Place\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"seat_count\"\r\n\r\n3\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"x.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>\r\n--{boundary}--\r\n");
        let ct = format!("multipart/form-data; boundary={boundary}");
        let svg = c.send(Method::POST, &format!("/rooms/new?csrf_token={csrf}"), Some(&ct), body.clone().into_bytes()).await;
        assert_eq!(svg.status, StatusCode::UNPROCESSABLE_ENTITY, "SVG logos are refused: {}", svg.body);
        let no_logo = body.replace("<svg xmlns=\"http://www.w3.org/2000/svg\"/>", "");
        let made = c.send(Method::POST, &format!("/rooms/new?csrf_token={csrf}"), Some(&ct), no_logo.into_bytes()).await;
        assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
        let room_url = made.location().to_string();
        let room = c.get(&room_url).await;
        assert_eq!(room.status, StatusCode::OK);
        assert!(
            room.body.contains("Pat&#x27;s Place") || room.body.contains("Pat&#39;s Place"),
            "{}",
            &room.body[..400.min(room.body.len())]
        );
        assert_eq!(room.body.matches("<span class=\"no\">").count(), 3);
        assert!(room.body.contains("data-confirm=\"Close this room"), "destructive actions ask first");

        // A second person joins by page and takes a seat; the owner kicks.
        let mut g = app.client();
        let p = g.get("/signup").await;
        let gc = csrf_of(&p.body);
        g.form(
            "/signup",
            &[
                ("csrf_token", &gc),
                ("login", "+254744000001"),
                ("password", PASSWORD),
                ("full_name", "Gil Guest"),
                ("handle", "gil"),
                ("birth_date", "1992-01-01"),
                ("country", "KE"),
            ],
        )
        .await;
        let gc = csrf_of(&g.get(&room_url).await.body);
        assert_eq!(g.form(&format!("{room_url}/join"), &[("csrf_token", &gc)]).await.status, StatusCode::SEE_OTHER);
        // Visitors may not speak in this room (the default).
        let seat = g.form(&format!("{room_url}/act"), &[("csrf_token", &gc), ("action", "take_seat")]).await;
        assert_eq!(seat.status, StatusCode::FORBIDDEN);
        assert!(seat.body.contains("Visitors may not speak"), "{}", seat.body);
        assert_eq!(g.form(&format!("{room_url}/chat"), &[("csrf_token", &gc), ("body", "hello all")]).await.status, StatusCode::SEE_OTHER);
        let owner_view = c.get(&room_url).await.body;
        assert!(
            owner_view.contains("hello all") && owner_view.contains("Gil Guest") && owner_view.contains("Kick Gil Guest"),
            "moderation buttons for lower ranks"
        );
        let gid = {
            let i = owner_view.find("name=\"account\" value=\"").unwrap() + 22;
            owner_view[i..i + 36].to_string()
        };
        assert_eq!(
            c.form(&format!("{room_url}/act"), &[("csrf_token", &csrf), ("action", "kick"), ("account", &gid)]).await.status,
            StatusCode::SEE_OTHER
        );
        let back = g.form(&format!("{room_url}/join"), &[("csrf_token", &gc)]).await;
        assert_eq!(back.status, StatusCode::FORBIDDEN, "{b:?}");
        assert!(back.body.contains("you may come back in 10 min"), "{}", back.body);

        // Signed-out pages send people to sign in.
        let anon = app.client().get("/messages").await;
        assert_eq!((anon.status, anon.location()), (StatusCode::SEE_OTHER, "/signin?next=%2Fmessages"));
    }
}

#[tokio::test]
async fn settings_staff_pages_and_reset_codes() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut owner = app.client();
        let o = owner.sign_up("olu@example.com", "olu").await;
        let _ = o;
        owner.bearer = None;
        // Sign in on the web.
        let csrf = csrf_of(&owner.get("/signin").await.body);
        let r = owner
            .form("/signin", &[("csrf_token", &csrf), ("login", "olu@example.com"), ("password", PASSWORD), ("next", "/rooms/new")])
            .await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/rooms/new"));
        let csrf = csrf_of(&owner.get("/rooms/new").await.body);
        let body = "--B\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nSettings Room\r\n--B--\r\n";
        let made = owner
            .send(Method::POST, &format!("/rooms/new?csrf_token={csrf}"), Some("multipart/form-data; boundary=B"), body.as_bytes().to_vec())
            .await;
        let url = made.location().to_string();
        let page = owner.get(&url).await.body;
        assert!(page.contains("Room settings"), "the owner sees the settings form");
        assert!(page.contains("<title>Settings Room · Rooms</title>"), "the title is the room's name alone");
        assert_eq!(page.matches("Room settings").count(), 1, "the settings form appears once");
        let saved = owner
            .form(
                &format!("{url}/settings"),
                &[
                    ("csrf_token", &csrf),
                    ("name", "Settings Room"),
                    ("announcement", "Be kind"),
                    ("seat_count", "2"),
                    ("visitors_text", "on"),
                    ("private", "on"),
                    ("password", "letmein"),
                ],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let page = owner.get(&url).await.body;
        assert!(page.contains("Be kind"));
        assert_eq!(page.matches("<span class=\"no\">").count(), 2);
        let too_many =
            owner.form(&format!("{url}/settings"), &[("csrf_token", &csrf), ("name", "Settings Room"), ("seat_count", "20")]).await;
        assert_eq!(too_many.status, StatusCode::UNPROCESSABLE_ENTITY);

        // A visitor sees no settings; the private room wants its password.
        let mut v = app.client();
        v.sign_up("+254755000001", "vera").await;
        let room = url.trim_start_matches("/rooms/");
        let wrong = v.post(&format!("/api/v1/rooms/{room}/join"), serde_json::json!({"password": "nope"})).await;
        assert_eq!(wrong.code(), "wrong_room_password", "{b:?}");
        v.bearer = None;
        assert!(!v.get(&url).await.body.contains("Room settings"));

        // Staff: the page is for staff only; a reset code works once.
        assert_eq!(owner.get("/admin").await.status, StatusCode::FORBIDDEN);
        platform_db::on_pool!(&app.db, p => { sqlx::query("UPDATE accounts SET role = 'admin' WHERE handle = 'olu'").execute(p).await.unwrap(); });
        app.settled().await;
        let admin = owner.get("/admin?q=vera").await;
        assert_eq!(admin.status, StatusCode::OK);
        assert!(admin.body.contains("@vera") && admin.body.contains("Settings Room"));
        let i = admin.body.find("/admin/users/").unwrap() + 13;
        let vid = admin.body[i..i + 36].to_string();
        let issued = owner.form(&format!("/admin/users/{vid}/reset-token"), &[("csrf_token", &csrf)]).await;
        let i = issued.body.find("<code>").expect("the code is shown") + 6;
        let code = issued.body[i..i + 64].to_string();
        let mut anon = app.client();
        let ac = csrf_of(&anon.get("/reset").await.body);
        let ok = anon.form("/reset/confirm", &[("csrf_token", &ac), ("token", &code), ("password", "Fr3sh!pw")]).await;
        assert_eq!((ok.status, ok.location()), (StatusCode::SEE_OTHER, "/signin"));
        let again = anon.form("/reset/confirm", &[("csrf_token", &ac), ("token", &code), ("password", "Fr3sh!pw")]).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        let audit = owner.get("/admin").await.body;
        assert!(audit.contains("reset_token_issued") && audit.contains("password_reset"), "{b:?}");
        let same = anon.form("/reset", &[("csrf_token", &ac), ("login", "nobody@example.com")]).await.body;
        let known = anon.form("/reset", &[("csrf_token", &ac), ("login", "olu@example.com")]).await.body;
        assert_eq!(same, known, "answers never reveal accounts");
    }
}

#[tokio::test]
async fn stylesheets_and_scripts_go_gzipped_and_revalidate_with_a_304() {
    let app = crate::support::TestApp::new(rooms_store::Backend::Sqlite).await;
    for path in [
        "/assets/rooms.css",
        "/assets/rooms.js",
        "/assets/voice.js",
        "/assets/gifts.css",
        "/assets/gifts.js",
        "/assets/status.css",
        "/assets/status.js",
    ] {
        let body = platform_testkit::static_files::assert_compressed_and_revalidated(app.router.clone(), path).await;
        assert!(!body.is_empty(), "{path}");
    }
    // The generated stylesheet keeps its own route beside the files.
    let mut c = app.client();
    c.sign_up("css@example.com", "css").await;
    assert_eq!(c.get("/assets/themes.css").await.status, axum::http::StatusCode::OK);
    assert_eq!(c.get("/assets/nothing.css").await.status, axum::http::StatusCode::NOT_FOUND);
}
