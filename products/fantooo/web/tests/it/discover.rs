//! Discover (filters, order, keyset pages), favourites, the profile page,
//! and what a user may never see of a profile.

use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_domain::ids::ProfileId;
use fantooo_domain::Gender;
use fantooo_store::profiles::{self, NewProfile};
use fantooo_store::{on_pool, Backend};
use serde_json::{json, Value};
use std::collections::HashSet;

fn new_profile(name: &str, age: i64, gender: Gender, location: &str) -> NewProfile {
    let slug = name.to_lowercase().replace(' ', "-");
    NewProfile {
        name: name.into(),
        age,
        gender,
        location: location.into(),
        bio: format!("Hi, I am {name}."),
        personality_traits: vec!["warm".into()],
        interests: vec!["music".into()],
        occupation: Some("Baker".into()),
        profile_pictures: (1..=3).map(|n| format!("/media/generated/{slug}-{n}.svg")).collect(),
        response_style: None,
        response_templates: vec![],
        personality_guidelines: None,
        is_featured: false,
        featured_until: None,
        tags: vec![],
        category: None,
        popularity_score: 0,
    }
}

async fn add(app: &TestApp, p: NewProfile) -> ProfileId {
    profiles::create(&app.db, &p, None).await.unwrap()
}

async fn hide(app: &TestApp, id: ProfileId, how: &str) {
    let sql = match how {
        "inactive" => "UPDATE fictional_users SET is_active = FALSE WHERE id = $1",
        _ => "UPDATE fictional_users SET deleted_at = updated_at WHERE id = $1",
    };
    on_pool!(&app.db, p => { sqlx::query(sql).bind(id).execute(p).await.unwrap(); });
}

/// A bearer API client for a user looking for `looking_for`.
async fn api_user_for(app: &TestApp, username: &str, looking_for: &str) -> Client {
    let mut c = app.client();
    let mut body = signup_body(username);
    body["looking_for"] = json!(looking_for);
    let r = c.json(Method::POST, "/api/auth/signup", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    c.bearer = Some(r.json()["token"].as_str().unwrap().to_string());
    c
}

/// A signed-in browser client (cookie session) for a user looking for `looking_for`.
async fn page_user_for(app: &TestApp, username: &str, looking_for: &str) -> Client {
    api_user_for(app, username, looking_for).await;
    let mut c = app.client();
    let r = c.post_form("/login", &[("login", username), ("password", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Picks up the session's CSRF token for later forms.
    c.get("/me").await;
    c
}

fn names(v: &Value) -> Vec<String> {
    v["profiles"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
}

async fn search(c: &mut Client, query: &str) -> Vec<String> {
    let r = c.api_get(&format!("/api/profiles?{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
    let mut n = names(&r.json());
    n.sort();
    n
}

fn field_of(r: &Resp) -> String {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let v = r.json();
    assert_eq!(v["error"], "validation");
    v["fields"][0]["field"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn discover_follows_looking_for_and_every_filter() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut amara = new_profile("Amara", 24, Gender::Female, "Nairobi, Kenya");
        amara.tags = vec!["Dancing".into(), "fashion".into()];
        add(&app, amara).await;
        let mut wanjiru = new_profile("Wanjiru", 27, Gender::Female, "Mombasa, Kenya");
        wanjiru.bio = "I can talk about CORAL reefs for hours.".into();
        add(&app, wanjiru).await;
        add(&app, new_profile("Zuri", 22, Gender::Female, "Kisumu, Kenya")).await;
        let mut percent = new_profile("Pili", 30, Gender::Female, "Arusha, Tanzania");
        percent.bio = "100% honest, snake_case fan".into();
        add(&app, percent).await;
        add(&app, new_profile("Brian", 28, Gender::Male, "Nairobi, Kenya")).await;
        add(&app, new_profile("Alex", 25, Gender::Other, "Cape Town, South Africa")).await;
        let inactive = add(&app, new_profile("Quiet", 25, Gender::Female, "Nairobi, Kenya")).await;
        hide(&app, inactive, "inactive").await;
        let deleted = add(&app, new_profile("Gone", 25, Gender::Female, "Nairobi, Kenya")).await;
        hide(&app, deleted, "deleted").await;

        let mut her = api_user_for(&app, "seeks_women", "female").await;
        let mut any = api_user_for(&app, "seeks_all", "both").await;
        let mut him = api_user_for(&app, "seeks_men", "male").await;
        assert_eq!(search(&mut her, "").await, ["Amara", "Pili", "Wanjiru", "Zuri"], "{backend:?}");
        assert_eq!(search(&mut him, "").await, ["Brian"]);
        assert_eq!(search(&mut any, "").await, ["Alex", "Amara", "Brian", "Pili", "Wanjiru", "Zuri"]);

        // Gender only within what the user looks for.
        assert_eq!(search(&mut any, "gender=other").await, ["Alex"]);
        assert_eq!(search(&mut her, "gender=female").await.len(), 4);
        assert_eq!(field_of(&her.api_get("/api/profiles?gender=male").await), "gender");
        // Ages are inclusive bounds.
        assert_eq!(search(&mut her, "min_age=24&max_age=27").await, ["Amara", "Wanjiru"]);
        assert_eq!(search(&mut her, "min_age=28").await, ["Pili"]);
        assert_eq!(search(&mut her, "max_age=22").await, ["Zuri"]);
        // Location: case-insensitive substring.
        assert_eq!(search(&mut any, "location=NAIROBI").await, ["Amara", "Brian"]);
        assert_eq!(search(&mut her, "location=kenya&max_age=23").await, ["Zuri"]);
        // Text search over name, bio and tags, case-insensitive.
        assert_eq!(search(&mut her, "q=dancing").await, ["Amara"]);
        assert_eq!(search(&mut her, "q=coral").await, ["Wanjiru"]);
        assert_eq!(search(&mut her, "q=ZUR").await, ["Zuri"]);
        assert!(search(&mut her, "q=nobody-like-this").await.is_empty());
        // LIKE wildcards in the input match literally.
        assert_eq!(search(&mut her, "q=%25").await, ["Pili"]);
        assert_eq!(search(&mut her, "q=e_c").await, ["Pili"]);
        assert_eq!(search(&mut her, "q=a_a").await, Vec::<String>::new());

        // The page applies the same filters and keeps them in the form.
        let mut page = page_user_for(&app, "page_woman", "female").await;
        let r = page.get("/discover?location=mombasa&q=reef").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Wanjiru") && !r.body.contains("Amara"), "{}", r.body);
        assert!(r.body.contains("value=\"mombasa\"") && r.body.contains("value=\"reef\""));
        let r = page.get("/discover?location=atlantis").await;
        assert!(r.body.contains("No profiles match these filters"));
        assert!(r.body.contains("href=\"/discover\""), "clear-filters link");
    }
}

#[tokio::test]
async fn featured_first_then_popularity_and_keyset_pages_have_no_gaps_or_repeats() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut expected = vec![];
        for i in 0..30 {
            let mut p = new_profile(&format!("Member {i:02}"), 20 + i % 30, Gender::Female, "Nairobi, Kenya");
            p.is_featured = i % 7 == 0;
            // Few distinct scores, so ties must be broken by id.
            p.popularity_score = [500, 300, 300, 100][i as usize % 4];
            let (f, s) = (p.is_featured, p.popularity_score);
            let id = add(&app, p).await;
            expected.push((f, s, id));
        }
        expected.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)));
        let expected: Vec<String> = expected.into_iter().map(|(_, _, id)| id.to_string()).collect();

        let mut c = api_user_for(&app, "walker", "female").await;
        let mut seen = vec![];
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/profiles?limit=7&cursor={c}"),
                None => "/api/profiles?limit=7".into(),
            };
            let v = c.api_get(&path).await.json();
            let list = v["profiles"].as_array().unwrap();
            assert!(list.len() <= 7);
            seen.extend(list.iter().map(|p| p["id"].as_str().unwrap().to_string()));
            pages += 1;
            match v["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        assert_eq!(pages, 5, "{backend:?}");
        assert_eq!(seen, expected, "{backend:?}: every profile once, featured first, then popularity, then newest id");
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 30);
        let first = c.api_get("/api/profiles").await.json();
        assert_eq!(first["profiles"].as_array().unwrap().len(), 24, "default page size");
        assert_eq!(first["profiles"][0]["is_featured"], true);

        // Without a script, "More profiles" walks the same order, filters kept.
        let mut page = page_user_for(&app, "page_walker", "female").await;
        let r = page.get("/discover?location=nairobi").await;
        assert_eq!(r.body.matches("class=\"profile-card card\"").count(), 24);
        let start = r.body.find("data-more").expect("a More profiles link");
        let href_at = r.body[..start].rfind("href=\"").unwrap() + 6;
        let href = r.body[href_at..].split('"').next().unwrap().replace("&#38;", "&");
        assert!(href.starts_with("/discover?location=nairobi&cursor="), "{href}");
        assert!(r.body.contains("data-api=\"/api/profiles?location=nairobi&#38;limit=24\""), "the script fetches with the same filters");
        let r = page.get(&href).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body.matches("class=\"profile-card card\"").count(), 6);
        assert!(!r.body.contains("data-more"));
        for id in &expected[24..] {
            assert!(r.body.contains(&format!("/profile/{id}")), "{backend:?}");
        }
    }
}

#[tokio::test]
async fn bad_input_is_422_naming_the_field() {
    let app = TestApp::new(Backend::Sqlite).await;
    add(&app, new_profile("Amara", 24, Gender::Female, "Nairobi, Kenya")).await;
    let mut c = api_user_for(&app, "validator", "female").await;
    for (query, field) in [
        ("min_age=abc", "min_age"),
        ("max_age=12", "max_age"),
        ("min_age=40&max_age=30", "min_age"),
        ("cursor=garbage", "cursor"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=many", "limit"),
        ("gender=robot", "gender"),
        ("gender=male", "gender"),
    ] {
        assert_eq!(field_of(&c.api_get(&format!("/api/profiles?{query}")).await), field, "{query}");
    }
    // Several problems are reported together.
    let v = c.api_get("/api/profiles?min_age=x&limit=500").await.json();
    let fields: Vec<&str> = v["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["min_age", "limit"]);

    // The page shows the error in the form and keeps what was typed.
    let mut page = page_user_for(&app, "page_validator", "female").await;
    let r = page.get("/discover?min_age=abc&location=Nairobi").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Age must be a whole number"), "{}", r.body);
    assert!(r.body.contains("value=\"abc\"") && r.body.contains("value=\"Nairobi\""));
    assert!(r.body.contains("<form method=\"get\" action=\"/discover\""));
    let r = page.get("/discover?cursor=nonsense").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("no longer valid"));
}

#[tokio::test]
async fn favourites_are_idempotent_counted_and_listed() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let amara = add(&app, new_profile("Amara", 24, Gender::Female, "Nairobi, Kenya")).await;
        let zuri = add(&app, new_profile("Zuri", 22, Gender::Female, "Kisumu, Kenya")).await;
        let gone = add(&app, new_profile("Gone", 25, Gender::Female, "Nairobi, Kenya")).await;
        hide(&app, gone, "deleted").await;
        let mut c = api_user_for(&app, "fan", "female").await;
        let count = |v: &Value| v["favorite_count"].as_i64().unwrap();

        let v = c.json(Method::PUT, &format!("/api/favorites/{amara}"), json!({})).await.json();
        assert_eq!((v["is_favorite"].as_bool(), count(&v)), (Some(true), 1), "{backend:?}");
        let v = c.json(Method::PUT, &format!("/api/favorites/{amara}"), json!({})).await.json();
        assert_eq!(count(&v), 1, "adding twice counts once");
        let v = c.json(Method::PUT, &format!("/api/favorites/{zuri}"), json!({})).await.json();
        assert_eq!(count(&v), 2);
        assert_eq!(names(&c.api_get("/api/favorites").await.json()), ["Zuri", "Amara"], "newest first");
        let d = c.api_get("/api/profiles").await.json();
        assert!(d["profiles"].as_array().unwrap().iter().all(|p| p["is_favorite"] == true));
        assert_eq!(c.api_get(&format!("/api/profiles/{zuri}")).await.json()["profile"]["is_favorite"], true);

        let v = c.json(Method::DELETE, &format!("/api/favorites/{amara}"), json!({})).await.json();
        assert_eq!((v["is_favorite"].as_bool(), count(&v)), (Some(false), 1));
        let r = c.json(Method::DELETE, &format!("/api/favorites/{amara}"), json!({})).await;
        assert_eq!((r.status, count(&r.json())), (StatusCode::OK, 1), "removing twice is harmless");
        assert_eq!(names(&c.api_get("/api/favorites").await.json()), ["Zuri"]);

        // Unknown, deleted and malformed ids are 404 for both verbs.
        for id in [ProfileId::new().to_string(), gone.to_string(), "not-an-id".into()] {
            for m in [Method::PUT, Method::DELETE] {
                let r = c.json(m.clone(), &format!("/api/favorites/{id}"), json!({})).await;
                assert_eq!(r.status, StatusCode::NOT_FOUND, "{backend:?} {m} {id}");
                assert_eq!(r.json()["error"], "not_found");
            }
        }
        let stored: i64 = on_pool!(&app.db, p => sqlx::query_scalar("SELECT favorite_count FROM real_users WHERE username = 'fan'").fetch_one(p).await.unwrap());
        assert_eq!(stored, 1);

        // The pages: form actions redirect back; the heart's form flips.
        let mut page = page_user_for(&app, "page_fan", "female").await;
        let r = page.get("/favorites").await;
        assert!(r.body.contains("No favourites yet"), "{}", r.body);
        let r = page.post_form(&format!("/favorites/{amara}"), &[("next", "/discover?q=am")]).await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/discover?q=am"));
        let r = page.post_form(&format!("/favorites/{amara}"), &[("next", "//evil.example")]).await;
        assert_eq!(r.location(), "/discover", "only same-site paths are followed");
        let r = page.get("/favorites").await;
        assert!(r.body.contains("Amara") && !r.body.contains("Zuri"));
        assert!(r.body.contains(&format!("action=\"/favorites/{amara}/delete\"")));
        assert!(r.body.contains("aria-pressed=\"true\""));
        let r = page.get("/discover").await;
        assert!(r.body.contains(&format!("action=\"/favorites/{zuri}\"")), "not yet a favourite");
        let r = page.post_form(&format!("/favorites/{amara}/delete"), &[("next", "/favorites")]).await;
        assert_eq!(r.location(), "/favorites");
        assert!(page.get("/favorites").await.body.contains("No favourites yet"));
        assert_eq!(page.post_form(&format!("/favorites/{gone}"), &[]).await.status, StatusCode::NOT_FOUND);
        // Forms need the CSRF token; the script's fetch sends it as a header.
        let r = page.post_form_raw(&format!("/favorites/{zuri}"), &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = page.send(Method::PUT, &format!("/api/favorites/{zuri}"), None, vec![], &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let token = page.csrf.clone().unwrap();
        let r = page
            .send(Method::PUT, &format!("/api/favorites/{zuri}"), None, vec![], &[("x-csrf-token", &token), ("accept", "application/json")])
            .await;
        assert_eq!((r.status, r.json()["favorite_count"].as_i64()), (StatusCode::OK, Some(1)));
    }
}

#[tokio::test]
async fn profile_page_shows_the_profile_and_hidden_ones_are_404() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut p = new_profile("Wanjiru", 27, Gender::Female, "Mombasa, Kenya");
        p.occupation = Some("Marine biologist".into());
        p.bio = "Ocean lover.".into();
        p.interests = vec!["ocean".into(), "books".into()];
        p.personality_traits = vec!["calm".into(), "curious".into()];
        p.profile_pictures = (1..=4).map(|n| format!("/media/generated/wanjiru-{n}.svg")).collect();
        p.is_featured = true;
        let id = add(&app, p).await;
        let mut page = page_user_for(&app, "viewer", "female").await;
        let r = page.get(&format!("/profile/{id}")).await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}");
        for text in [
            "Wanjiru, 27",
            "Mombasa, Kenya",
            "Marine biologist",
            "Ocean lover.",
            "ocean",
            "books",
            "calm",
            "curious",
            "Featured",
            "data-carousel",
            "/assets/discover.js",
        ] {
            assert!(r.body.contains(text), "{backend:?} missing {text}");
        }
        assert_eq!(r.body.matches("class=\"carousel-slide\"").count(), 4);
        let token = page.csrf.clone().unwrap();
        let message_form = format!("<form method=\"post\" action=\"/chats\" class=\"js-debounce\"><input type=\"hidden\" name=\"csrf_token\" value=\"{token}\"><input type=\"hidden\" name=\"profile_id\" value=\"{id}\"><button");
        assert!(r.body.contains(&message_form), "{}", r.body);
        assert!(r.body.contains("Message Wanjiru</button>"));

        let mut api = api_user_for(&app, "viewer_api", "female").await;
        let v = api.api_get(&format!("/api/profiles/{id}")).await.json();
        assert_eq!(v["profile"]["name"], "Wanjiru");
        assert_eq!(v["profile"]["profile_pictures"].as_array().unwrap().len(), 4);
        assert_eq!(v["profile"]["is_favorite"], false);

        let inactive = add(&app, new_profile("Quiet", 25, Gender::Female, "Nairobi, Kenya")).await;
        hide(&app, inactive, "inactive").await;
        let deleted = add(&app, new_profile("Gone", 25, Gender::Female, "Nairobi, Kenya")).await;
        hide(&app, deleted, "deleted").await;
        for bad in [ProfileId::new().to_string(), inactive.to_string(), deleted.to_string(), "nope".into()] {
            let r = page.get(&format!("/profile/{bad}")).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{backend:?} {bad}");
            assert!(r.body.contains("Page not found"));
            assert_eq!(api.api_get(&format!("/api/profiles/{bad}")).await.status, StatusCode::NOT_FOUND);
        }
    }
}

#[tokio::test]
async fn staff_only_fields_never_reach_users() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut p = new_profile("Amara", 24, Gender::Female, "Nairobi, Kenya");
        p.personality_guidelines = Some("GUIDE-7f3a keep it short".into());
        p.response_templates = vec!["TEMPLATE-91bc hello there".into()];
        p.response_style = Some("romantic".into());
        p.category = Some("CATEGORY-55e1".into());
        let id = add(&app, p).await;
        on_pool!(&app.db, p => {
            sqlx::query("UPDATE fictional_users SET operator_notes = 'NOTE-c0de likes jazz' WHERE id = $1").bind(id).execute(p).await.unwrap();
        });
        let mut api = api_user_for(&app, "curious", "female").await;
        api.json(Method::PUT, &format!("/api/favorites/{id}"), json!({})).await;
        let mut page = page_user_for(&app, "curious_page", "female").await;
        page.post_form(&format!("/favorites/{id}"), &[]).await;
        let mut bodies = vec![];
        for path in ["/discover".to_string(), format!("/profile/{id}"), "/favorites".into()] {
            let r = page.get(&path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}");
            assert!(r.body.contains("Amara"), "{path}");
            bodies.push((path, r.body));
        }
        for path in ["/api/profiles".to_string(), format!("/api/profiles/{id}"), "/api/favorites".into()] {
            let r = api.api_get(&path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}");
            assert!(r.body.contains("Amara"), "{path}");
            let v = r.json();
            let obj = if v["profile"].is_object() { &v["profile"] } else { &v["profiles"][0] };
            for key in ["personality_guidelines", "response_templates", "operator_notes", "response_style", "category"] {
                assert!(obj.get(key).is_none(), "{path} has {key}");
            }
            bodies.push((path, r.body));
        }
        for (path, body) in &bodies {
            for secret in ["GUIDE-7f3a", "TEMPLATE-91bc", "NOTE-c0de", "CATEGORY-55e1", "romantic"] {
                assert!(!body.contains(secret), "{backend:?} {path} leaks {secret}");
            }
            let lower = body.to_lowercase();
            for word in ["operator", "admin", "fictional", "managed", "guideline"] {
                assert!(!lower.contains(word), "{backend:?} {path} mentions {word}");
            }
        }
    }
}

#[tokio::test]
async fn only_signed_in_users_get_in() {
    let app = TestApp::new(Backend::Sqlite).await;
    let id = add(&app, new_profile("Amara", 24, Gender::Female, "Nairobi, Kenya")).await;
    let mut anon = app.client();
    for path in ["/discover".to_string(), format!("/profile/{id}"), "/favorites".into()] {
        let r = anon.get(&path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert!(r.location().starts_with("/login?next=%2F"), "{path}: {}", r.location());
    }
    for path in ["/api/profiles".to_string(), format!("/api/profiles/{id}"), "/api/favorites".into()] {
        assert_eq!(anon.api_get(&path).await.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let r = anon.send(Method::PUT, &format!("/api/favorites/{id}"), Some("application/json"), b"{}".to_vec(), &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = anon.post_form(&format!("/favorites/{id}"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/login"));
    // Staff accounts are not users.
    let mut op = operator_client(&app, "op@fantooo.com").await;
    assert_eq!(op.get("/discover").await.status, StatusCode::FORBIDDEN);
    assert_eq!(op.api_get("/api/profiles").await.status, StatusCode::FORBIDDEN);
    // The page script is served like the others.
    let r = anon.get("/assets/discover.js").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hearts_scroll_and_photos_work_in_chromium() {
    use crate::browser::{browser, serve, start_driver, wait_for_path};
    use std::time::Duration;
    use thirtyfour::prelude::*;

    let Some((_driver, driver_url)) = start_driver().await else { return };
    let app = TestApp::new(Backend::Sqlite).await;
    let mut ids = vec![];
    for i in 0..30 {
        let mut p = new_profile(&format!("Member {i:02}"), 25, Gender::Female, "Nairobi, Kenya");
        p.popularity_score = 100 - i;
        ids.push(add(&app, p).await);
    }
    api_user_for(&app, "scroller", "female").await;
    let user = fantooo_store::users::list(&app.db, Some("scroller"), None, 1).await.unwrap().remove(0);
    let base = serve(&app).await;
    let profile_dir = tempfile::tempdir().unwrap();
    let d = browser(&driver_url, profile_dir.path()).await;
    let cards = |d: &WebDriver| {
        let d = d.clone();
        async move { d.find_all(By::Css("[data-infinite] .profile-card")).await.map(|v| v.len()) }
    };
    let result = async {
        d.goto(format!("{base}/login")).await?;
        d.find(By::Id("login")).await?.send_keys("scroller").await?;
        d.find(By::Id("password")).await?.send_keys(PASSWORD).await?;
        d.find(By::Id("login-submit")).await?.click().await?;
        wait_for_path(&d, "/discover").await;
        assert_eq!(cards(&d).await?, 24);

        // The heart toggles in place: no navigation, saved on the server.
        d.execute("window.stayedOnPage = true;", vec![]).await?;
        let heart = d.find(By::Css(format!("form[data-fav='{}'] button", ids[0]))).await?;
        heart.click().await?;
        let mut saved = false;
        for _ in 0..50 {
            if heart.attr("aria-pressed").await?.as_deref() == Some("true") {
                saved = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(saved, "heart never turned on");
        let flag = d.execute("return window.stayedOnPage === true;", vec![]).await?;
        assert_eq!(flag.json(), &json!(true), "the page did not reload");
        assert!(fantooo_store::favorites::is_favorite(&app.db, user.id, ids[0]).await.unwrap());

        // Scrolling to the end fetches the remaining six with the same filters.
        for _ in 0..50 {
            d.execute("window.scrollTo(0, document.body.scrollHeight);", vec![]).await?;
            if cards(&d).await? == 30 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(cards(&d).await?, 30);
        assert!(d.find_all(By::Css("[data-more]")).await?.is_empty(), "the More link goes away at the end");
        let last = d.find(By::Css(format!("form[data-fav='{}'] button", ids[29]))).await?;
        last.scroll_into_view().await?;
        last.click().await?;
        for _ in 0..50 {
            if fantooo_store::favorites::is_favorite(&app.db, user.id, ids[29]).await.unwrap() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(fantooo_store::favorites::is_favorite(&app.db, user.id, ids[29]).await.unwrap(), "hearts on appended cards work");

        // Photo buttons appear with the script and step through the photos.
        d.goto(format!("{base}/profile/{}", ids[0])).await?;
        let next = d.find(By::Css("[data-carousel-next]")).await?;
        assert!(next.is_displayed().await?);
        next.click().await?;
        let mut moved = false;
        for _ in 0..50 {
            let left = d.execute("return document.querySelector('.carousel-track').scrollLeft;", vec![]).await?;
            if left.json().as_f64().unwrap_or(0.0) > 0.0 {
                moved = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(moved, "the next button scrolls the photos");
        Ok::<_, WebDriverError>(())
    }
    .await;
    let _ = d.quit().await;
    result.expect("browser flow");
}
