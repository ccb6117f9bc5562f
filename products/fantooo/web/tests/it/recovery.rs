//! A way back in: a verified recovery email and single-use, expiring,
//! hashed, rate-limited password-reset links that never reveal whether an
//! account exists; and the user's own photo, shown to the other side.

use crate::backoffice::{multipart, png};
use crate::chat::user_with_chat;
use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_store::on_pool;
use serde_json::json;

const NEW: &str = "N3w!passphrase";

/// The link to `path` in the last mail sent to `to`.
fn link_in(app: &TestApp, to: &str, path: &str) -> String {
    let mails = app.mail.sent_to(to);
    let mail = mails.last().unwrap_or_else(|| panic!("no mail to {to}"));
    let text = mail.text.clone();
    text.split_whitespace().find(|w| w.contains(path)).unwrap_or_else(|| panic!("no {path} link in {text}")).to_string()
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_string()
}

async fn verified_user(app: &TestApp, name: &str, email: &str) -> Client {
    let mut c = api_user(app, name).await;
    let r = c.json(Method::PUT, "/api/me/recovery-email", json!({ "recovery_email": email })).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let link = link_in(app, email, "/recovery-email/verify");
    let path = &link[link.find("/recovery-email").unwrap()..];
    let r = app.client().get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    c
}

async fn forgot(app: &TestApp, login: &str) -> Resp {
    app.client().json(Method::POST, "/api/auth/forgot-password", json!({ "login": login })).await
}

async fn login_status(app: &TestApp, name: &str, password: &str) -> StatusCode {
    app.client().json(Method::POST, "/api/auth/login", json!({ "login": name, "password": password })).await.status
}

#[tokio::test]
async fn a_recovery_email_is_verified_by_its_link_before_it_counts() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut c = api_user(&app, "rosa").await;
        // Bad addresses are refused, naming the field; the generated one too.
        for bad in ["not-an-email", "rosa@fantooo.com", "Rosa@FANTOOO.com"] {
            let r = c.json(Method::PUT, "/api/me/recovery-email", json!({ "recovery_email": bad })).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", r.body);
            assert_eq!(r.json()["fields"][0]["field"], "recovery_email");
        }
        assert!(app.mail.sent().is_empty());

        let r = c.json(Method::PUT, "/api/me/recovery-email", json!({ "recovery_email": "Rosa.Home@Example.org" })).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        let me = c.api_get("/api/me").await.json();
        assert_eq!(me["user"]["recovery_email"], "rosa.home@example.org");
        assert!(me["user"]["recovery_email_verified_at"].is_null());
        // Not verified yet: no reset link is sent to it.
        assert_eq!(forgot(&app, "rosa").await.status, StatusCode::ACCEPTED);
        assert_eq!(app.mail.sent().len(), 1, "only the verification mail");

        let link = link_in(&app, "rosa.home@example.org", "/recovery-email/verify");
        let token = token_of(&link);
        // Only the hash of the token is stored.
        let stored: i64 = on_pool!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM one_time_tokens WHERE token_hash = $1")
            .bind(&token).fetch_one(p).await.unwrap());
        assert_eq!(stored, 0, "the token itself is not at rest");
        let page = app.client().get(&format!("/recovery-email/verify?token={token}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Recovery email confirmed"));
        assert!(!c.api_get("/api/me").await.json()["user"]["recovery_email_verified_at"].is_null());
        // Once only.
        assert_eq!(app.client().get(&format!("/recovery-email/verify?token={token}")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.client().get("/recovery-email/verify?token=nonsense").await.status, StatusCode::NOT_FOUND);

        // A new address replaces it, unverified; the old link family is dead.
        c.json(Method::PUT, "/api/me/recovery-email", json!({ "recovery_email": "rosa@work.example" })).await;
        let me = c.api_get("/api/me").await.json();
        assert!(me["user"]["recovery_email_verified_at"].is_null());
        // An expired link does not verify.
        let t2 = token_of(&link_in(&app, "rosa@work.example", "/recovery-email/verify"));
        exec(&app.db, "UPDATE one_time_tokens SET expires_at = created_at").await;
        assert_eq!(app.client().get(&format!("/recovery-email/verify?token={t2}")).await.status, StatusCode::NOT_FOUND);
        // Removing it works too.
        assert_eq!(c.send(Method::DELETE, "/api/me/recovery-email", None, vec![], &[]).await.status, StatusCode::NO_CONTENT);
        assert!(c.api_get("/api/me").await.json()["user"]["recovery_email"].is_null());
    }
}

#[tokio::test]
async fn a_reset_link_works_once_within_the_hour_and_signs_out_everywhere() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut old_session = verified_user(&app, "tomas", "tomas@example.org").await;
        let sent_before = app.mail.sent().len();

        // Unknown names and addresses get the very same answer, and no mail.
        let unknown = forgot(&app, "nobody_here").await;
        let known = forgot(&app, "tomas").await;
        assert_eq!(unknown.status, known.status);
        assert_eq!(unknown.body, known.body);
        assert_eq!(app.mail.sent().len(), sent_before + 1, "one mail, for the real account");
        let link = link_in(&app, "tomas@example.org", "/reset-password");
        assert!(link.starts_with("http"), "an absolute link: {link}");
        let token = token_of(&link);

        // The page shows the form; a weak password is refused, the link kept.
        let page = app.client().get(&format!("/reset-password?token={token}")).await;
        assert_eq!(page.status, StatusCode::OK);
        let r = app.client().json(Method::POST, "/api/auth/reset-password", json!({ "token": token, "new_password": "weak" })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["fields"][0]["field"], "new_password");

        let r = app.client().json(Method::POST, "/api/auth/reset-password", json!({ "token": token, "new_password": NEW })).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        assert_eq!(login_status(&app, "tomas", PASSWORD).await, StatusCode::UNAUTHORIZED);
        assert_eq!(login_status(&app, "tomas", NEW).await, StatusCode::OK);
        assert_eq!(old_session.api_get("/api/me").await.status, StatusCode::UNAUTHORIZED, "every old session ended");

        // Single use.
        let again =
            app.client().json(Method::POST, "/api/auth/reset-password", json!({ "token": token, "new_password": "An0ther!pass" })).await;
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(again.json()["fields"][0]["field"], "token");
        assert_eq!(app.client().get(&format!("/reset-password?token={token}")).await.status, StatusCode::NOT_FOUND);

        // By the recovery email (any case), and an expired link is refused.
        assert_eq!(forgot(&app, "TOMAS@example.org").await.status, StatusCode::ACCEPTED);
        let t2 = token_of(&link_in(&app, "tomas@example.org", "/reset-password"));
        assert_ne!(t2, token);
        exec(&app.db, "UPDATE one_time_tokens SET expires_at = created_at WHERE purpose = 'reset_password'").await;
        let r = app.client().json(Method::POST, "/api/auth/reset-password", json!({ "token": t2, "new_password": "An0ther!pass" })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(login_status(&app, "tomas", NEW).await, StatusCode::OK, "unchanged");
    }
}

#[tokio::test]
async fn reset_links_are_rate_limited_without_saying_so() {
    for b in backends() {
        let app = TestApp::new(b).await;
        verified_user(&app, "hana", "hana@example.org").await;
        let mut answers = vec![];
        for _ in 0..5 {
            answers.push(forgot(&app, "hana").await);
        }
        assert!(answers.iter().all(|r| r.status == StatusCode::ACCEPTED && r.body == answers[0].body));
        let resets = app.mail.sent_to("hana@example.org").into_iter().filter(|m| m.subject.contains("Reset")).count();
        assert_eq!(resets, fantooo_store::recovery::RESETS_PER_HOUR as usize);
        // Only the newest link works.
        let newest = token_of(&link_in(&app, "hana@example.org", "/reset-password"));
        let live: i64 = on_pool!(&app.db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM one_time_tokens WHERE purpose = 'reset_password' AND used_at IS NULL").fetch_one(p).await.unwrap());
        assert_eq!(live, 1);
        assert!(fantooo_store::recovery::reset_usable(&app.db, &newest, chrono::Utc::now()).await.unwrap());
    }
}

#[tokio::test]
async fn the_forgot_and_reset_pages_work_without_script() {
    for b in backends() {
        let app = TestApp::new(b).await;
        verified_user(&app, "ines", "ines@example.org").await;
        let mut c = app.client();
        let login = c.get("/login").await;
        assert!(login.body.contains(r#"href="/forgot-password""#));
        let page = c.get("/forgot-password").await;
        assert_eq!(page.status, StatusCode::OK);
        let r = c.post_form("/forgot-password", &[("login", "")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = c.post_form("/forgot-password", &[("login", "ines")]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("data-sent"));
        let token = token_of(&link_in(&app, "ines@example.org", "/reset-password"));
        let r = c.post_form("/reset-password", &[("token", &token), ("new_password", NEW), ("new_password_confirm", "different")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains(r#"data-error="new_password_confirm""#));
        let r = c.post_form("/reset-password", &[("token", &token), ("new_password", NEW), ("new_password_confirm", NEW)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/me?password=reset");
        let me = c.get("/me?password=reset").await;
        assert_eq!(me.status, StatusCode::OK, "signed in by the reset");
        assert!(me.body.contains("Your new password is set"));
    }
}

#[tokio::test]
async fn an_own_photo_is_checked_from_its_bytes_and_shown_to_the_other_side() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut user, _uid, chat) = user_with_chat(&app, "photog").await;
        // Not a picture (whatever its name says): refused, naming the field.
        let (ct, body) = multipart(&[("file", Some("me.png"), b"<svg xmlns='http://www.w3.org/2000/svg'/>")]);
        let r = user.send(Method::PUT, "/api/me/photo", Some(&ct), body, &[]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["fields"][0]["field"], "file");
        assert_eq!(media_files(&app), 0);

        let (ct, body) = multipart(&[("file", Some("me.txt"), &png(120, 120))]);
        let r = user.send(Method::PUT, "/api/me/photo", Some(&ct), body, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let first = r.json()["profile_picture"].as_str().unwrap().to_string();
        assert!(first.starts_with("/media/"));
        assert_eq!(user.api_get(&first).await.status, StatusCode::OK);

        // Staff answering as the profile see it in the chat.
        let mut admin = admin_client(&app, "photo-admin@fantooo.com", fantooo_domain::AdminRole::Admin).await;
        let page = admin.get(&format!("/chat/{chat}")).await;
        assert!(
            page.body.contains(&format!(r#"src="{first}" alt="" width="44" height="44" data-user-photo"#)),
            "the user's photo in the chat head"
        );

        // A new photo replaces the old one, whose file goes.
        let (ct, body) = multipart(&[("file", Some("b.png"), &png(90, 90))]);
        let second =
            user.send(Method::PUT, "/api/me/photo", Some(&ct), body, &[]).await.json()["profile_picture"].as_str().unwrap().to_string();
        assert_ne!(second, first);
        assert_eq!(media_files(&app), 1);
        assert_eq!(user.send(Method::DELETE, "/api/me/photo", None, vec![], &[]).await.status, StatusCode::NO_CONTENT);
        assert_eq!(media_files(&app), 0);
        assert!(user.api_get("/api/me").await.json()["user"]["profile_picture"].is_null());
        assert!(!admin.get(&format!("/chat/{chat}")).await.body.contains("data-user-photo"));
    }
}

/// Fantooo's schema as it stood before migration 21 (its recovery links in
/// their own table): its own migrations before 21 and the platform's audit.
fn before_21() -> platform_db::Migrations {
    fn early(m: &'static sqlx::migrate::Migrator) -> &'static sqlx::migrate::Migrator {
        let kept = m.migrations.iter().filter(|x| x.version < 21 || x.version == 130).cloned().collect();
        Box::leak(Box::new(sqlx::migrate::Migrator { migrations: std::borrow::Cow::Owned(kept), ..sqlx::migrate::Migrator::DEFAULT }))
    }
    platform_db::Migrations { sqlite: early(fantooo_store::MIGRATIONS.sqlite), postgres: early(fantooo_store::MIGRATIONS.postgres) }
}

#[tokio::test]
async fn links_mailed_before_the_move_to_the_platform_tokens_still_work_once() {
    use fantooo_domain::ids::{AccountId, UserId};
    for backend in backends() {
        let t = platform_db::testing::fresh_db(backend, &before_21(), "fantooo_before_platform_tokens_template").await;
        let db = &t.db;
        let now = chrono::Utc::now();
        let (account, user) = (AccountId::new(), UserId::new());
        let (reset, used) = ("a".repeat(64), "b".repeat(64));
        on_pool!(db, p => {
            sqlx::query("INSERT INTO accounts (id, kind, login, password_hash, is_active, created_at) VALUES ($1, 'user', 'ann', 'old', TRUE, $2)")
                .bind(account).bind(now).execute(p).await.unwrap();
            sqlx::query("INSERT INTO real_users (id, account_id, username, display_name, email, age, gender, looking_for, location, created_at, updated_at)
                         VALUES ($1, $2, 'ann', 'Ann', 'ann@example.com', 30, 'female', 'male', 'Nairobi', $3, $3)")
                .bind(user).bind(account).bind(now).execute(p).await.unwrap();
            for (token, used_at) in [(&reset, None), (&used, Some(now))] {
                sqlx::query("INSERT INTO recovery_tokens (token_hash, purpose, user_id, email, created_at, expires_at, used_at)
                             VALUES ($1, 'reset_password', $2, 'ann@example.com', $3, $4, $5)")
                    .bind(platform_accounts::hash_token(token)).bind(user).bind(now).bind(now + chrono::Duration::hours(1)).bind(used_at)
                    .execute(p).await.unwrap();
            }
        });

        db.migrate(&fantooo_store::MIGRATIONS).await.unwrap();

        assert!(fantooo_store::recovery::reset_usable(db, &reset, now).await.unwrap(), "{backend:?}");
        assert!(!fantooo_store::recovery::reset_usable(db, &used, now).await.unwrap(), "a used link stays used");
        assert_eq!(fantooo_store::recovery::reset_password(db, &reset, "new-hash", now).await.unwrap(), account);
        assert!(fantooo_store::recovery::reset_password(db, &reset, "other", now).await.is_err(), "once");
        let hash: String = on_pool!(db, p => sqlx::query_scalar("SELECT password_hash FROM accounts WHERE id = $1").bind(account).fetch_one(p).await.unwrap());
        assert_eq!(hash, "new-hash");
    }
}
