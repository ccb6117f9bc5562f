//! The back office: the permission matrix over every admin route, message
//! edits and their history (hidden from users), GDPR deletion, ban
//! circumvention, bulk import with bad rows, analytics and settings.

use crate::chat::{grant, make_profile, say, user_with_chat};
use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_domain::ids::ChatId;
use fantooo_domain::AdminRole;
use fantooo_store::{chats, ledger, on_pool, Db};
use serde_json::{json, Value};

/// A JSON call from a cookie-signed-in admin (the session's CSRF token in the header).
pub async fn admin_json(c: &mut Client, method: Method, path: &str, body: Value) -> Resp {
    let token = c.csrf.clone().expect("page visited");
    c.send(method, path, Some("application/json"), serde_json::to_vec(&body).unwrap(), &[("x-csrf-token", &token)]).await
}

const ANY: Option<&str> = None;

/// Every back-office route and the permission it needs (None: any admin).
/// `{id}` is replaced by an id that does not exist.
const ROUTES: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/admin", ANY),
    ("GET", "/api/admin/dashboard", ANY),
    ("POST", "/admin/notifications/read", ANY),
    ("GET", "/api/admin/notifications", ANY),
    ("POST", "/api/admin/notifications/read", ANY),
    ("POST", "/admin/notifications/{id}/read", ANY),
    ("POST", "/api/admin/notifications/{id}/read", ANY),
    ("GET", "/admin/audit", Some("manage_admins")),
    ("GET", "/api/admin/audit", Some("manage_admins")),
    ("GET", "/admin/users", Some("manage_users")),
    ("GET", "/api/admin/users", Some("manage_users")),
    ("GET", "/admin/users/reviews", Some("manage_users")),
    ("GET", "/api/admin/users/reviews", Some("manage_users")),
    ("POST", "/admin/users/reviews/{id}/allow", Some("manage_users")),
    ("POST", "/api/admin/users/reviews/{id}/allow", Some("manage_users")),
    ("POST", "/admin/users/reviews/{id}/ban", Some("manage_users")),
    ("POST", "/api/admin/users/reviews/{id}/ban", Some("manage_users")),
    ("GET", "/admin/users/{id}", Some("manage_users")),
    ("GET", "/api/admin/users/{id}", Some("manage_users")),
    ("POST", "/admin/users/{id}/ban", Some("manage_users")),
    ("POST", "/api/admin/users/{id}/ban", Some("manage_users")),
    ("POST", "/admin/users/{id}/unban", Some("manage_users")),
    ("POST", "/api/admin/users/{id}/unban", Some("manage_users")),
    ("POST", "/admin/users/{id}/delete", Some("delete_data")),
    ("POST", "/api/admin/users/{id}/delete", Some("delete_data")),
    ("POST", "/admin/users/{id}/credits", Some("manage_payments")),
    ("POST", "/api/admin/users/{id}/credits", Some("manage_payments")),
    ("POST", "/admin/users/{id}/refund", Some("manage_payments")),
    ("POST", "/api/admin/users/{id}/refund", Some("manage_payments")),
    ("GET", "/admin/profiles", Some("manage_fictional_profiles")),
    ("POST", "/admin/profiles", Some("manage_fictional_profiles")),
    ("GET", "/api/admin/profiles", Some("manage_fictional_profiles")),
    ("POST", "/api/admin/profiles", Some("manage_fictional_profiles")),
    ("POST", "/admin/profiles/import", Some("manage_fictional_profiles")),
    ("POST", "/api/admin/profiles/import", Some("manage_fictional_profiles")),
    ("GET", "/admin/profiles/{id}", Some("manage_fictional_profiles")),
    ("POST", "/admin/profiles/{id}", Some("manage_fictional_profiles")),
    ("GET", "/api/admin/profiles/{id}", Some("manage_fictional_profiles")),
    ("PUT", "/api/admin/profiles/{id}", Some("manage_fictional_profiles")),
    ("POST", "/admin/profiles/{id}/guidance", Some("manage_fictional_profiles")),
    ("POST", "/api/admin/profiles/{id}/guidance", Some("manage_fictional_profiles")),
    ("POST", "/admin/profiles/{id}/featured", Some("manage_fictional_profiles")),
    ("POST", "/api/admin/profiles/{id}/featured", Some("manage_fictional_profiles")),
    ("POST", "/admin/profiles/{id}/active", Some("manage_fictional_profiles")),
    ("POST", "/api/admin/profiles/{id}/active", Some("manage_fictional_profiles")),
    ("POST", "/admin/profiles/{id}/pictures", Some("manage_fictional_profiles")),
    ("POST", "/api/admin/profiles/{id}/pictures", Some("manage_fictional_profiles")),
    ("POST", "/admin/profiles/{id}/pictures/order", Some("manage_fictional_profiles")),
    ("POST", "/api/admin/profiles/{id}/pictures/order", Some("manage_fictional_profiles")),
    ("POST", "/admin/profiles/{id}/pictures/flag", Some("manage_fictional_profiles")),
    ("POST", "/api/admin/profiles/{id}/pictures/flag", Some("manage_fictional_profiles")),
    ("POST", "/admin/profiles/{id}/delete", Some("manage_fictional_profiles")),
    ("POST", "/api/admin/profiles/{id}/delete", Some("manage_fictional_profiles")),
    ("GET", "/admin/operators", Some("manage_operators")),
    ("POST", "/admin/operators", Some("manage_operators")),
    ("GET", "/api/admin/operators", Some("manage_operators")),
    ("POST", "/api/admin/operators", Some("manage_operators")),
    ("GET", "/api/admin/operators/performance", Some("manage_operators")),
    ("GET", "/admin/operators/{id}", Some("manage_operators")),
    ("POST", "/admin/operators/{id}", Some("manage_operators")),
    ("GET", "/api/admin/operators/{id}", Some("manage_operators")),
    ("PUT", "/api/admin/operators/{id}", Some("manage_operators")),
    ("POST", "/admin/operators/{id}/suspend", Some("manage_operators")),
    ("POST", "/api/admin/operators/{id}/suspend", Some("manage_operators")),
    ("POST", "/admin/operators/{id}/reactivate", Some("manage_operators")),
    ("POST", "/api/admin/operators/{id}/reactivate", Some("manage_operators")),
    ("POST", "/admin/operators/{id}/delete", Some("manage_operators")),
    ("POST", "/api/admin/operators/{id}/delete", Some("manage_operators")),
    ("GET", "/admin/chats", Some("manage_chats")),
    ("GET", "/api/admin/chats", Some("manage_chats")),
    ("GET", "/admin/chats/live", Some("manage_chats")),
    ("GET", "/api/admin/chats/live", Some("manage_chats")),
    ("GET", "/admin/chats/{id}", Some("manage_chats")),
    ("GET", "/api/admin/chats/{id}", Some("manage_chats")),
    ("POST", "/admin/chats/{id}/send", Some("manage_chats")),
    ("POST", "/api/admin/chats/{id}/send", Some("manage_chats")),
    ("POST", "/admin/chats/{id}/messages/{id}/edit", Some("manage_chats")),
    ("POST", "/api/admin/chats/{id}/messages/{id}/edit", Some("manage_chats")),
    ("POST", "/admin/chats/{id}/messages/{id}/redact", Some("manage_chats")),
    ("POST", "/api/admin/chats/{id}/messages/{id}/redact", Some("manage_chats")),
    ("POST", "/admin/chats/{id}/reassign", Some("manage_chats")),
    ("POST", "/api/admin/chats/{id}/reassign", Some("manage_chats")),
    ("POST", "/admin/chats/{id}/close", Some("manage_chats")),
    ("POST", "/api/admin/chats/{id}/close", Some("manage_chats")),
    ("POST", "/admin/chats/{id}/block-user", Some("manage_chats")),
    ("POST", "/api/admin/chats/{id}/block-user", Some("manage_chats")),
    ("POST", "/admin/chats/{id}/notes", Some("manage_chats")),
    ("POST", "/api/admin/chats/{id}/notes", Some("manage_chats")),
    ("GET", "/admin/payments", Some("manage_payments")),
    ("GET", "/api/admin/payments", Some("manage_payments")),
    ("GET", "/admin/stats", Some("view_analytics")),
    ("GET", "/api/admin/stats", Some("view_analytics")),
    ("GET", "/admin/stats/export.csv", Some("view_analytics")),
    ("GET", "/api/admin/stats/export.csv", Some("view_analytics")),
    ("POST", "/admin/stats/refresh", Some("view_analytics")),
    ("POST", "/api/admin/stats/refresh", Some("view_analytics")),
    ("GET", "/admin/admins", Some("manage_admins")),
    ("POST", "/admin/admins", Some("manage_admins")),
    ("GET", "/api/admin/admins", Some("manage_admins")),
    ("POST", "/api/admin/admins", Some("manage_admins")),
    ("POST", "/admin/admins/{id}", Some("manage_admins")),
    ("PUT", "/api/admin/admins/{id}", Some("manage_admins")),
    ("POST", "/admin/admins/{id}/deactivate", Some("manage_admins")),
    ("POST", "/api/admin/admins/{id}/deactivate", Some("manage_admins")),
    ("GET", "/admin/settings", Some("system_settings")),
    ("POST", "/admin/settings", Some("system_settings")),
    ("GET", "/api/admin/settings", Some("system_settings")),
    ("POST", "/admin/settings/operations", Some("system_settings")),
    ("PUT", "/api/admin/settings/operations", Some("system_settings")),
    ("POST", "/admin/settings/circumvention", Some("system_settings")),
    ("PUT", "/api/admin/settings/circumvention", Some("system_settings")),
    ("POST", "/admin/settings/email-domain", Some("system_settings")),
    ("PUT", "/api/admin/settings/email-domain", Some("system_settings")),
    ("POST", "/admin/settings/legal/terms", Some("system_settings")),
    ("PUT", "/api/admin/settings/legal/privacy", Some("system_settings")),
    ("GET", "/api/admin/settings/pricing", Some("system_settings")),
    ("PUT", "/api/admin/settings/pricing", Some("system_settings")),
];

/// The table above must name every admin route the code registers.
#[test]
fn the_matrix_covers_every_registered_admin_route() {
    let sources = [
        include_str!("../../src/routes/admin.rs"),
        include_str!("../../src/routes/api.rs"),
        include_str!("../../src/routes/admin/dashboard.rs"),
        include_str!("../../src/routes/admin/users.rs"),
        include_str!("../../src/routes/admin/profiles.rs"),
        include_str!("../../src/routes/admin/operators.rs"),
        include_str!("../../src/routes/admin/chats.rs"),
        include_str!("../../src/routes/admin/stats_page.rs"),
        include_str!("../../src/routes/admin/admins.rs"),
        include_str!("../../src/routes/admin/settings_page.rs"),
        include_str!("../../src/routes/admin/reviews.rs"),
    ];
    let normalise = |p: &str| {
        let mut out = String::new();
        let mut in_param = false;
        for c in p.chars() {
            match c {
                '{' => {
                    in_param = true;
                    out.push_str("{id}")
                }
                '}' => in_param = false,
                c if !in_param => out.push(c),
                _ => {}
            }
        }
        out
    };
    let mut registered = vec![];
    for src in sources {
        for part in src.split(".route(\"").skip(1) {
            let path = part.split('"').next().unwrap();
            if path.starts_with("/admin/") || path == "/admin" || path.starts_with("/api/admin") {
                registered.push(normalise(path));
            }
        }
    }
    assert!(registered.len() > 60, "found {} routes", registered.len());
    for path in registered {
        let covered = ROUTES.iter().any(|(_, p, _)| {
            normalise(p) == path
                || (path.ends_with("/{id}/{id}")
                    && p.ends_with("/{id}/deactivate")
                    && path.starts_with(&normalise(p)[..normalise(p).len() - "/{id}/deactivate".len()]))
        });
        assert!(covered, "route {path} is not in the permission matrix");
    }
}

fn allowed(role: AdminRole, perm: Option<&str>) -> bool {
    let Some(p) = perm else { return true };
    let perms = fantooo_domain::Permissions::for_role(role);
    perms.has(p.parse().unwrap())
}

async fn call(c: &mut Client, method: &str, path: &str) -> Resp {
    let m: Method = method.parse().unwrap();
    let api = path.starts_with("/api/");
    match (m.clone(), api) {
        (Method::GET, true) => c.api_get(path).await,
        (Method::GET, false) => c.get(path).await,
        (_, false) => {
            // Page forms post with the page's CSRF token.
            let body = format!("csrf_token={}", c.csrf.clone().unwrap_or_default());
            c.send(m, path, Some("application/x-www-form-urlencoded"), body.into_bytes(), &[]).await
        }
        (_, true) => {
            let token = c.csrf.clone().unwrap_or_default();
            c.send(m, path, Some("application/json"), b"{}".to_vec(), &[("x-csrf-token", &token)]).await
        }
    }
}

#[tokio::test]
async fn every_admin_route_checks_permissions_for_every_role() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let roles = [AdminRole::SuperAdmin, AdminRole::Admin, AdminRole::Moderator];
        let mut admins = vec![];
        for (i, r) in roles.iter().enumerate() {
            admins.push((*r, admin_client(&app, &format!("role{i}@fantooo.com"), *r).await));
        }
        let mut operator = operator_client(&app, "op@fantooo.com").await;
        let mut user = api_user(&app, "matrixuser").await;
        let mut anonymous = app.client();
        anonymous.get("/login").await;
        let missing = uuid::Uuid::now_v7().to_string();
        for (method, pattern, perm) in ROUTES {
            let path = pattern.replace("{id}", &missing);
            for (role, c) in admins.iter_mut() {
                let r = call(c, method, &path).await;
                if allowed(*role, *perm) {
                    assert!(
                        r.status != StatusCode::FORBIDDEN && r.status != StatusCode::UNAUTHORIZED && !r.status.is_server_error(),
                        "{backend:?} {role:?} {method} {path}: {} {}",
                        r.status,
                        &r.body[..r.body.len().min(300)]
                    );
                } else {
                    assert_eq!(
                        r.status,
                        StatusCode::FORBIDDEN,
                        "{backend:?} {role:?} {method} {path}: {}",
                        &r.body[..r.body.len().min(300)]
                    );
                }
            }
            let r = call(&mut operator, method, &path).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{backend:?} operator {method} {path}");
            let r = call(&mut user, method, &path).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{backend:?} user {method} {path}");
            let r = call(&mut anonymous, method, &path).await;
            let to_login = r.status == StatusCode::SEE_OTHER && r.location().starts_with("/admin-login");
            assert!(r.status == StatusCode::UNAUTHORIZED || to_login, "{backend:?} anonymous {method} {path}: {}", r.status);
        }
    }
}

async fn profile_message(app: &TestApp, admin: &mut Client, chat: ChatId, text: &str) -> String {
    let r = admin_json(admin, Method::POST, &format!("/api/admin/chats/{chat}/send"), json!({ "content": text })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let _ = app;
    r.json()["message"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn edits_keep_the_original_and_history_and_users_never_see_them() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (mut user, _, chat) = user_with_chat(&app, "editee").await;
        assert_eq!(say(&mut user, chat, "hi there").await.status, StatusCode::CREATED);
        let mut admin = admin_client(&app, "mod@fantooo.com", AdminRole::Moderator).await;
        let msg = profile_message(&app, &mut admin, chat, "Helo, how are yu?").await;
        let edit = format!("/api/admin/chats/{chat}/messages/{msg}/edit");

        // No reason, no edit.
        let r = admin_json(&mut admin, Method::POST, &edit, json!({ "content": "Hello, how are you?" })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend:?}: {}", r.body);
        // The page form without a reason goes back with the message and changes nothing.
        let r = admin
            .post_form(&format!("/admin/chats/{chat}/messages/{msg}/edit"), &[("content", "Hello, how are you?"), ("reason", "")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(r.location().contains("error="), "{}", r.location());

        let r = admin_json(&mut admin, Method::POST, &edit, json!({ "content": "Hello, how are you?", "reason": "typos" })).await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.body);
        let r = admin
            .post_form(&format!("/admin/chats/{chat}/messages/{msg}/edit"), &[("content", "Hello! How are you?"), ("reason", "tone")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(r.location().contains("notice="), "{}", r.location());

        // Admins see the flag, the count, the original and both steps.
        let i = admin.api_get(&format!("/api/admin/chats/{chat}")).await.json();
        let m = i["messages"].as_array().unwrap().iter().find(|m| m["id"] == msg.as_str()).unwrap().clone();
        assert_eq!(m["content"], "Hello! How are you?");
        assert_eq!(m["is_edited"], true);
        assert_eq!(m["edit_count"], 2);
        assert_eq!(m["original_content"], "Helo, how are yu?");
        assert_eq!(m["admin_name"], "Admin mod@fantooo.com");
        let edits = i["edits"].as_array().unwrap();
        assert_eq!(edits.len(), 2, "{backend:?}");
        assert_eq!(edits[0]["original_content"], "Hello, how are you?");
        assert_eq!(edits[0]["new_content"], "Hello! How are you?");
        assert_eq!(edits[0]["edit_reason"], "tone");
        assert_eq!(edits[1]["edit_reason"], "typos");
        let page = admin.get(&format!("/admin/chats/{chat}")).await;
        assert!(page.body.contains("edited ×2"), "inspector shows the edit");

        // The audit log has before and after.
        let log: i64 = on_pool!(&app.db, p => sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM audit_entries WHERE action = 'message_edited' AND subject_id = $1").bind(&msg).fetch_one(p).await.unwrap());
        assert_eq!(log, 2);

        // The user sees the current text only, with no trace of editing.
        let hist = user.api_get(&format!("/api/chats/{chat}/messages")).await;
        assert!(hist.body.contains("Hello! How are you?"));
        for hidden in ["is_edited", "edit_count", "original_content", "Helo, how are yu?", "edited_by"] {
            assert!(!hist.body.contains(hidden), "{backend:?}: user history reveals {hidden}");
        }
        let chat_page = {
            let mut c = app.client();
            c.post_form("/login", &[("login", "editee"), ("password", PASSWORD)]).await;
            c.get(&format!("/chat/{chat}")).await
        };
        assert!(chat_page.body.contains("Hello! How are you?"));
        assert!(!chat_page.body.contains("edited") && !chat_page.body.contains("Helo, how are yu?"));
    }
}

async fn deleted_count(db: &Db, user: &str) -> (i64, i64, bool) {
    on_pool!(db, p => {
        let (credits, cents): (i64, i64) = sqlx::query_as("SELECT unused_credits, refund_amount_cents FROM deleted_users WHERE original_user_id = (SELECT id FROM real_users WHERE id = $1)")
            .bind(user.parse::<fantooo_domain::ids::UserId>().unwrap()).fetch_one(p).await.unwrap();
        let pending: bool = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM credit_refunds WHERE user_id = $1 AND reason = 'account_deletion' AND status = 'pending'")
            .bind(user.parse::<fantooo_domain::ids::UserId>().unwrap()).fetch_one(p).await.unwrap() == 1;
        (credits, cents, pending)
    })
}

#[tokio::test]
async fn gdpr_deletion_anonymises_closes_archives_and_refunds() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (mut user, uid, chat) = user_with_chat(&app, "leaver").await;
        say(&mut user, chat, "my secret words").await;
        grant(&app.db, uid, 7).await;
        let mut moderator = admin_client(&app, "m@fantooo.com", AdminRole::Moderator).await;
        profile_message(&app, &mut moderator, chat, "profile reply stays").await;
        let path = format!("/api/admin/users/{uid}/delete");
        // Moderators and admins may not delete data.
        assert_eq!(
            admin_json(&mut moderator, Method::POST, &path, json!({ "confirm": "DELETE leaver" })).await.status,
            StatusCode::FORBIDDEN
        );
        let mut plain = admin_client(&app, "a@fantooo.com", AdminRole::Admin).await;
        assert_eq!(admin_json(&mut plain, Method::POST, &path, json!({ "confirm": "DELETE leaver" })).await.status, StatusCode::FORBIDDEN);

        let mut root = admin_client(&app, "root@fantooo.com", AdminRole::SuperAdmin).await;
        let r = admin_json(&mut root, Method::POST, &path, json!({ "confirm": "delete leaver" })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "the confirmation must match exactly");
        assert_eq!(ledger::balance(&app.db, uid).await.unwrap().get(), 7, "nothing happened");

        let r = admin_json(&mut root, Method::POST, &path, json!({ "confirm": "DELETE leaver", "reason": "asked by email" })).await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.body);
        let d = r.json()["deletion"].clone();
        assert_eq!(d["unused_credits"], 7);
        assert_eq!(d["refund_amount_cents"], 7000, "10 KES per credit");
        assert_eq!(d["chats_closed"], 1);

        let contents: Vec<(String, String)> = on_pool!(&app.db, p => sqlx::query_as("SELECT sender_type, content FROM messages WHERE chat_id = $1 ORDER BY seq")
            .bind(chat).fetch_all(p).await.unwrap());
        assert!(contents.iter().filter(|(s, _)| s == "real").all(|(_, c)| c == "[Message from deleted user]"), "{contents:?}");
        assert!(contents.iter().any(|(s, c)| s == "fictional" && c == "profile reply stays"));
        let row = chats::by_id(&app.db, chat).await.unwrap();
        assert_eq!(row.status, fantooo_domain::chat::ChatStatus::Closed);
        assert_eq!(deleted_count(&app.db, &uid.to_string()).await, (7, 7000, true));
        assert_eq!(ledger::balance(&app.db, uid).await.unwrap().get(), 0);
        crate::chat::assert_books_balance(&app.db).await;
        // The login is gone: the old token and the password no longer work.
        assert_eq!(user.api_get("/api/me").await.status, StatusCode::UNAUTHORIZED);
        let r = app.client().json(Method::POST, "/api/auth/login", json!({ "login": "leaver", "password": PASSWORD })).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        // Irreversible: a second deletion finds nobody.
        let r = admin_json(&mut root, Method::POST, &path, json!({ "confirm": "DELETE leaver" })).await;
        assert_ne!(r.status, StatusCode::OK);
        let detail = root.api_get(&format!("/api/admin/users/{uid}")).await.json();
        assert!(detail["deleted_at"].is_string());
        assert_eq!(detail["deletion"]["refund_amount_cents"], 7000);
    }
}

/// Every stored copy of a deleted user's words goes in the same deletion:
/// earlier versions kept by edits, and the audit log's before/after values
/// (edited text, ban and unban, notes naming them, the deletion itself).
#[tokio::test]
async fn gdpr_deletion_leaves_no_words_in_edit_history_or_audit_values() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (mut user, uid, chat) = user_with_chat(&app, "quillfeather").await;
        let r = say(&mut user, chat, "my secret words").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let msg = r.json()["message"]["id"].as_str().unwrap().to_string();
        let mut root = admin_client(&app, "root@fantooo.com", AdminRole::SuperAdmin).await;
        // A user's words are redacted (never edited): the original stays in
        // the history and the audit log until the deletion.
        let redact = format!("/api/admin/chats/{chat}/messages/{msg}/redact");
        let r = admin_json(&mut root, Method::POST, &redact, json!({ "reason": "phone number" })).await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.body);
        let r = admin_json(
            &mut root,
            Method::POST,
            &format!("/api/admin/chats/{chat}/notes"),
            json!({ "admin_notes": "quillfeather is rude" }),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = admin_json(&mut root, Method::POST, &format!("/api/admin/users/{uid}/ban"), json!({ "reason": "spam" })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = admin_json(&mut root, Method::POST, &format!("/api/admin/users/{uid}/unban"), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);

        let r = admin_json(&mut root, Method::POST, &format!("/api/admin/users/{uid}/delete"), json!({ "confirm": "DELETE quillfeather" }))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.body);

        let history: Vec<(String, String)> = on_pool!(&app.db, p => sqlx::query_as("SELECT original_content, new_content FROM message_edit_history")
            .fetch_all(p).await.unwrap());
        assert_eq!(history.len(), 1);
        let audit: Vec<(String, Option<String>, Option<String>)> = on_pool!(&app.db, p => sqlx::query_as(
            "SELECT action, CAST(before_value AS TEXT), CAST(after_value AS TEXT) FROM audit_entries ORDER BY seq")
            .fetch_all(p).await.unwrap());
        assert!(audit.iter().any(|(a, _, _)| a == "message_redacted"), "{audit:?}");
        assert!(audit.iter().any(|(a, _, _)| a == "user_deleted"), "{audit:?}");
        let everything = format!("{history:?} {audit:?}");
        for words in ["secret words", "hidden phrase", "quillfeather"] {
            assert!(!everything.contains(words), "{backend:?}: {words:?} is still stored: {everything}");
        }
    }
}

/// A suspension blocks sign-in, pages, the API and sends until its end,
/// and nothing after it: the end is put in the past rather than waited for.
#[tokio::test]
async fn an_ended_suspension_no_longer_blocks_sign_in_pages_api_or_sends() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (mut user, uid, chat) = user_with_chat(&app, "suspendee").await;
        let mut admin = admin_client(&app, "mod@fantooo.com", AdminRole::Moderator).await;
        let until = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%d").to_string();
        let r =
            admin_json(&mut admin, Method::POST, &format!("/api/admin/users/{uid}/ban"), json!({ "reason": "cool off", "until": until }))
                .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let login = json!({ "login": "suspendee", "password": PASSWORD });
        assert_ne!(app.client().json(Method::POST, "/api/auth/login", login.clone()).await.status, StatusCode::OK, "{backend:?}: in force");

        // The suspension ends (its end moved to a minute ago).
        let ended = chrono::Utc::now() - chrono::Duration::minutes(1);
        on_pool!(&app.db, p => {
            sqlx::query("UPDATE real_users SET banned_until = $1 WHERE id = $2").bind(ended).bind(uid).execute(p).await.unwrap();
            sqlx::query("UPDATE banned_users_tracking SET banned_until = $1 WHERE user_id = $2").bind(ended).bind(uid).execute(p).await.unwrap();
        });
        let r = user.json(Method::POST, "/api/auth/login", login.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.body);
        user.bearer = Some(r.json()["token"].as_str().expect("a token").to_string());
        let r = user.api_get("/api/me").await;
        assert_eq!(r.status, StatusCode::OK, "{backend:?}: {}", r.body);
        let r = say(&mut user, chat, "back again").await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend:?}: {}", r.body);
        let mut page = app.client();
        let r = page.post_form("/login", &[("login", "suspendee"), ("password", PASSWORD)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(page.get(&format!("/chat/{chat}")).await.status, StatusCode::OK, "{backend:?}");
    }
}

/// The audit log narrows by an entity type alone, by an id alone, or both.
#[tokio::test]
async fn the_audit_log_filters_by_entity_type_alone() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (_user, uid, chat) = user_with_chat(&app, "audited").await;
        let mut root = admin_client(&app, "root@fantooo.com", AdminRole::SuperAdmin).await;
        let r = admin_json(&mut root, Method::POST, &format!("/api/admin/users/{uid}/ban"), json!({ "reason": "spam" })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = admin_json(&mut root, Method::POST, &format!("/api/admin/chats/{chat}/notes"), json!({ "admin_notes": "watch" })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let types = |v: &Value| -> Vec<String> {
            v["actions"].as_array().unwrap().iter().map(|a| a["entity_type"].as_str().unwrap_or("").to_string()).collect()
        };
        let all = root.api_get("/api/admin/audit").await.json();
        assert!(types(&all).contains(&"chat".to_string()) && types(&all).contains(&"user".to_string()), "{all}");
        let users = root.api_get("/api/admin/audit?entity_type=user").await.json();
        assert!(!types(&users).is_empty() && types(&users).iter().all(|t| t == "user"), "{backend:?}: {users}");
        let by_id = root.api_get(&format!("/api/admin/audit?entity_id={chat}")).await.json();
        assert_eq!(types(&by_id), vec!["chat".to_string()], "{backend:?}: {by_id}");
        let both = root.api_get(&format!("/api/admin/audit?entity_type=user&entity_id={uid}")).await.json();
        assert_eq!(types(&both), vec!["user".to_string()]);
    }
}

#[tokio::test]
async fn banned_users_addresses_and_devices_cannot_register_or_sign_in_again() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        // The "block outright" setting (the default flags for review: see circumvention.rs).
        fantooo_store::settings::set(&app.db, "ban_circumvention", &fantooo_domain::account::CircumventionPolicy::Block, None)
            .await
            .unwrap();
        let device = "device0123456789abcdef";
        let mut spammer = app.client();
        spammer.ip = "203.0.113.7".into();
        let body = serde_json::to_vec(&signup_body("spammer")).unwrap();
        let r = spammer.send(Method::POST, "/api/auth/signup", Some("application/json"), body, &[("x-device-fingerprint", device)]).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let uid = r.json()["user"]["id"].as_str().unwrap().to_string();
        // Someone else already signed up from another address.
        let mut neighbour = app.client();
        neighbour.ip = "198.51.100.20".into();
        assert_eq!(neighbour.json(Method::POST, "/api/auth/signup", signup_body("neighbour")).await.status, StatusCode::CREATED);

        let mut admin = admin_client(&app, "mod@fantooo.com", AdminRole::Moderator).await;
        let r = admin_json(&mut admin, Method::POST, &format!("/api/admin/users/{uid}/ban"), json!({ "reason": "spam" })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // The banned account itself is out.
        let r = app.client().json(Method::POST, "/api/auth/login", json!({ "login": "spammer", "password": PASSWORD })).await;
        assert_ne!(r.status, StatusCode::OK);

        // Same address, new name: refused.
        let mut again = app.client();
        again.ip = "203.0.113.7".into();
        let r = again.json(Method::POST, "/api/auth/signup", signup_body("spammer2")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{backend:?}: {}", r.body);
        // New address, same device: refused.
        let mut other = app.client();
        other.ip = "192.0.2.55".into();
        let body = serde_json::to_vec(&signup_body("spammer3")).unwrap();
        let r = other.send(Method::POST, "/api/auth/signup", Some("application/json"), body, &[("x-device-fingerprint", device)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        // Signing in to another account from the banned address: refused.
        let r = again.json(Method::POST, "/api/auth/login", json!({ "login": "neighbour", "password": PASSWORD })).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        // The page sign-up path is guarded too.
        let mut page = app.client();
        page.ip = "203.0.113.7".into();
        let r = page
            .post_form(
                "/get-started",
                &[
                    ("username", "spammer4"),
                    ("location", "Nairobi"),
                    ("gender", "male"),
                    ("looking_for", "female"),
                    ("age", "30"),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                    ("accept_terms", "on"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        for name in ["spammer2", "spammer3", "spammer4"] {
            assert!(!fantooo_store::users::username_taken(&app.db, name).await.unwrap(), "{name} was created");
        }
        // A clean address and device still work.
        let mut clean = app.client();
        clean.ip = "192.0.2.99".into();
        assert_eq!(clean.json(Method::POST, "/api/auth/signup", signup_body("honest")).await.status, StatusCode::CREATED);

        let detail = admin.api_get(&format!("/api/admin/users/{uid}")).await.json();
        let ban = &detail["bans"][0];
        assert_eq!(ban["circumvention_attempts"], 4, "{backend:?}: {ban}");
        assert!(ban["ip_addresses"].as_array().unwrap().iter().any(|i| i == "203.0.113.7"));
        assert!(ban["device_fingerprints"].as_array().unwrap().iter().any(|d| d == device));
        let (events, alerts): (i64, i64) = on_pool!(&app.db, p => sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM security_events WHERE kind = 'ban_circumvention'), (SELECT COUNT(*) FROM admin_notices WHERE kind = 'security_alert')")
            .fetch_one(p).await.unwrap());
        assert_eq!((events, alerts), (4, 4));

        // Lifting the ban lifts the block.
        assert_eq!(admin_json(&mut admin, Method::POST, &format!("/api/admin/users/{uid}/unban"), json!({})).await.status, StatusCode::OK);
        assert_eq!(again.json(Method::POST, "/api/auth/signup", signup_body("returning")).await.status, StatusCode::CREATED);
    }
}

#[tokio::test]
async fn bulk_import_creates_good_rows_and_reports_bad_ones() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut admin = admin_client(&app, "a@fantooo.com", AdminRole::Admin).await;
        let csv = "name,age,gender,location,bio,profile_pictures,interests\n\
                   Amani,26,female,Nairobi,\"Loves music, dancing\",/media/a.png|/media/b.png|/media/c.png,music|art\n\
                   Too Young,17,female,Mombasa,Hi,/media/a.png|/media/b.png,\n\
                   Zuri,30,robot,Kisumu,Hello,/media/a.png|/media/b.png|/media/c.png,\n";
        let r = admin_json(&mut admin, Method::POST, "/api/admin/profiles/import", json!({ "data": csv, "dry_run": true })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["created"], 0, "a dry run creates nothing");
        let r = admin_json(&mut admin, Method::POST, "/api/admin/profiles/import", json!({ "data": csv })).await;
        let report = r.json();
        assert_eq!((report["created"].as_i64(), report["failed"].as_i64()), (Some(1), Some(2)), "{backend:?}: {report}");
        let rows = report["rows"].as_array().unwrap();
        assert!(rows[0]["created"].is_string());
        let errs = |i: usize| rows[i]["errors"].as_array().unwrap().iter().map(|e| e.as_str().unwrap().to_string()).collect::<Vec<_>>();
        assert!(errs(1).iter().any(|e| e.starts_with("age:")), "{:?}", errs(1));
        assert!(errs(1).iter().any(|e| e.starts_with("profile_pictures:")), "{:?}", errs(1));
        assert!(errs(2).iter().any(|e| e.starts_with("gender:")), "{:?}", errs(2));
        let list = admin.api_get("/api/admin/profiles").await.json();
        let names: Vec<&str> = list["profiles"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["Amani"]);
        assert_eq!(list["profiles"][0]["interests"], json!(["music", "art"]));
        // The page shows the same report.
        let page = admin.post_form("/admin/profiles/import", &[("data", csv), ("dry_run", "true")]).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("0 created, 2 with errors, 3 rows"), "{}", page.body);
        // Malformed input names the problem.
        let r = admin_json(&mut admin, Method::POST, "/api/admin/profiles/import", json!({ "data": "name,age\n\"open" })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

pub use platform_media::samples::png;

pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let parts: Vec<platform_testkit::form::Part> = parts
        .iter()
        .map(|(name, file, bytes)| platform_testkit::form::Part { name, file: file.map(|f| (f, "application/octet-stream")), bytes })
        .collect();
    platform_testkit::multipart(&parts)
}

/// A profile create that fails after its pictures were stored leaves
/// neither the profile nor the pictures (the store is broken on purpose).
#[tokio::test]
async fn a_failed_profile_create_leaves_no_uploads() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut admin = admin_client(&app, "a@fantooo.com", AdminRole::Admin).await;
        let token = admin.csrf.clone().unwrap();
        let (a, b, c) = (png(64, 64), png(80, 80), png(100, 120));
        let fields: Vec<(&str, Option<&str>, &[u8])> = vec![
            ("name", None, b"Nia"),
            ("age", None, b"25"),
            ("gender", None, b"female"),
            ("location", None, b"Nairobi"),
            ("bio", None, b"Hi"),
            ("pictures", Some("a.png"), &a),
            ("pictures", Some("b.png"), &b),
            ("pictures", Some("c.png"), &c),
        ];
        exec(&app.db, "DROP TABLE profile_media_validation").await;
        let (ct, body) = multipart(&fields);
        let r = admin.send(Method::POST, "/api/admin/profiles", Some(&ct), body, &[("x-csrf-token", &token)]).await;
        assert!(r.status.is_server_error(), "{backend:?}: {} {}", r.status, r.body);
        assert_eq!(media_files(&app), 0, "{backend:?}: the uploads of a failed create were left behind");
        let profiles: i64 = on_pool!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM fictional_users").fetch_one(p).await.unwrap());
        assert_eq!(profiles, 0, "{backend:?}: the profile is not half-created");
    }
}

#[tokio::test]
async fn profiles_with_uploaded_pictures_reorder_flag_feature_and_delete() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut admin = admin_client(&app, "a@fantooo.com", AdminRole::Admin).await;
        let token = admin.csrf.clone().unwrap();
        let (a, b, c, small) = (png(64, 64), png(80, 80), png(100, 120), png(8, 8));
        let fields: Vec<(&str, Option<&str>, &[u8])> = vec![
            ("name", None, b"Nia"),
            ("age", None, b"25"),
            ("gender", None, b"female"),
            ("location", None, b"Nairobi"),
            ("bio", None, b"Hi"),
            ("pictures", Some("a.png"), &a),
            ("pictures", Some("b.png"), &b),
        ];
        // Two pictures are too few; a tiny one is refused by dimension.
        let (ct, body) = multipart(&fields);
        let r = admin.send(Method::POST, "/api/admin/profiles", Some(&ct), body, &[("x-csrf-token", &token)]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let mut with_small = fields.clone();
        with_small.push(("pictures", Some("s.png"), &small));
        let (ct, body) = multipart(&with_small);
        let r = admin.send(Method::POST, "/api/admin/profiles", Some(&ct), body, &[("x-csrf-token", &token)]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let mut ok = fields.clone();
        ok.push(("pictures", Some("c.png"), &c));
        let (ct, body) = multipart(&ok);
        let r = admin.send(Method::POST, "/api/admin/profiles", Some(&ct), body, &[("x-csrf-token", &token)]).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend:?}: {}", r.body);
        let p = r.json()["profile"].clone();
        let id = p["id"].as_str().unwrap().to_string();
        let pics: Vec<String> = p["profile_pictures"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        assert_eq!(pics.len(), 3);
        assert_eq!(admin.get(&pics[0]).await.status, StatusCode::OK, "stored and served");

        let base = format!("/api/admin/profiles/{id}");
        let r = admin_json(&mut admin, Method::POST, &format!("{base}/pictures/order"), json!({ "url": pics[2], "action": "first" })).await;
        assert_eq!(r.json()["pictures"][0], pics[2].as_str());
        let r =
            admin_json(&mut admin, Method::POST, &format!("{base}/pictures/order"), json!({ "url": pics[0], "action": "remove" })).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "3 is the minimum: {}", r.body);
        let r = admin_json(
            &mut admin,
            Method::POST,
            &format!("{base}/pictures/flag"),
            json!({ "url": pics[1], "flagged": true, "reason": "blurry" }),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let d = admin.api_get(&base).await.json();
        assert!(d["pictures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["media_url"] == pics[1].as_str() && p["is_flagged"] == true && p["dimensions"] == "80x80"));

        let until = (chrono::Utc::now() + chrono::Duration::days(3)).format("%Y-%m-%d").to_string();
        let r = admin_json(&mut admin, Method::POST, &format!("{base}/featured"), json!({ "featured": true, "until": until })).await;
        assert_eq!(r.status, StatusCode::OK);
        let r = admin_json(
            &mut admin,
            Method::POST,
            &format!("{base}/guidance"),
            json!({ "personality_guidelines": "Warm", "response_templates": ["Hey!", "How was your day?"] }),
        )
        .await;
        assert_eq!(r.json()["response_templates"], json!(["Hey!", "How was your day?"]));

        // A user chats with her; the delete names the open chat count.
        let mut u = api_user(&app, "fan").await;
        let r = u.json(Method::POST, "/api/chats", json!({ "profile_id": id })).await;
        let chat: ChatId = r.json()["chat"]["id"].as_str().unwrap().parse().unwrap();
        say(&mut u, chat, "hello").await;
        let d = admin.api_get(&base).await.json();
        assert_eq!(d["profile"]["active_chats"], 1);
        assert_eq!(d["metrics"]["messages"], 1);
        let r = admin_json(&mut admin, Method::POST, &format!("{base}/delete"), json!({ "confirm_active_chats": "0" })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("1 open chats"), "{}", r.body);
        let r = admin_json(&mut admin, Method::POST, &format!("{base}/delete"), json!({ "confirm_active_chats": 1 })).await;
        assert_eq!(r.json()["chats_closed"], 1, "{}", r.body);
        assert_eq!(chats::by_id(&app.db, chat).await.unwrap().status, fantooo_domain::chat::ChatStatus::Closed);
        let audit = admin.api_get("/api/admin/audit").await;
        assert_eq!(audit.status, StatusCode::FORBIDDEN, "plain admins do not read the audit log");
    }
}

#[tokio::test]
async fn operators_are_edited_suspended_reactivated_and_not_deleted_while_busy() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (mut user, _, chat) = user_with_chat(&app, "waiting").await;
        say(&mut user, chat, "anyone?").await;
        operator_client(&app, "busy@fantooo.com").await;
        let op = fantooo_store::operators::list(&app.db).await.unwrap()[0].id;
        assert!(crate::chat::assign_to(&app.db, chat, op).await);
        let mut admin = admin_client(&app, "a@fantooo.com", AdminRole::Admin).await;
        let base = format!("/api/admin/operators/{op}");
        let r = admin_json(
            &mut admin,
            Method::PUT,
            &base,
            json!({ "specializations": "romantic, playful", "max_concurrent_chats": 8, "quality_threshold": 70 }),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["operator"]["specializations"], json!(["romantic", "playful"]));
        assert_eq!(
            admin_json(&mut admin, Method::PUT, &base, json!({ "max_concurrent_chats": 0 })).await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let r = admin_json(&mut admin, Method::POST, &format!("{base}/delete"), json!({})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "busy operators are not deleted: {}", r.body);
        let r = admin_json(&mut admin, Method::POST, &format!("{base}/suspend"), json!({ "reason": "complaints" })).await;
        assert_eq!(r.json()["chats_requeued"], 1, "{}", r.body);
        assert_eq!(fantooo_store::queue::len(&app.db).await.unwrap(), 1);
        let perf = admin.api_get("/api/admin/operators/performance?sort=quality").await.json();
        assert_eq!(perf["operators"][0]["is_suspended"], true);
        assert_eq!(admin_json(&mut admin, Method::POST, &format!("{base}/reactivate"), json!({})).await.status, StatusCode::OK);
        let d = admin.api_get(&base).await.json();
        let kinds: Vec<&str> = d["activity"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"suspended") && kinds.contains(&"reactivated") && kinds.contains(&"reassigned"), "{kinds:?}");
        assert_eq!(admin_json(&mut admin, Method::POST, &format!("{base}/delete"), json!({})).await.status, StatusCode::OK);
        // The chat's history shows the assignment and the manual take-away.
        let i = admin.api_get(&format!("/api/admin/chats/{chat}")).await.json();
        let steps: Vec<&str> = i["assignments"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
        assert_eq!(steps, vec!["assigned", "reassigned"], "{backend:?}");
    }
}

#[tokio::test]
async fn analytics_aggregate_daily_and_export_csv() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        crate::chat::flat_pricing(&app.db).await;
        let (mut user, uid, chat) = user_with_chat(&app, "counted").await;
        for n in 0..4 {
            if n == 3 {
                grant(&app.db, uid, 5).await;
            }
            say(&mut user, chat, &format!("m{n}")).await;
        }
        let mut admin = admin_client(&app, "a@fantooo.com", AdminRole::Admin).await;
        let r = fantooo_jobs::run(&app.db, fantooo_jobs::Job::DailyStats, chrono::Utc::now()).await.unwrap();
        assert!(r["days"].as_u64().unwrap() >= 1);
        let s = admin.api_get("/api/admin/stats").await.json();
        assert_eq!(s["summary"]["messages"], 4, "{backend:?}: {s}");
        assert_eq!(s["summary"]["new_users"], 1);
        assert_eq!(s["summary"]["first_chatting_users"], 1);
        assert_eq!(s["summary"]["first_paid_users"], 1);
        assert_eq!(s["summary"]["conversion_percent"], 100.0);
        assert_eq!(s["days"].as_array().unwrap().len(), 30);
        let page = admin.get("/admin/stats").await;
        assert!(page.body.matches("<svg class=\"chart\"").count() >= 6);
        let csv = admin.get("/admin/stats/export.csv").await;
        assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
        let today = chrono::Utc::now().date_naive().to_string();
        let line = csv.body.lines().find(|l| l.starts_with(&today)).expect("today's row");
        assert!(line.starts_with(&format!("{today},1,1,1,4,4,1,1,")), "{line}");
        let bad = admin.api_get("/api/admin/stats?from=2026-02-01&to=2026-01-01").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let dash = admin.api_get("/api/admin/dashboard").await.json();
        assert_eq!(dash["health"]["database_ok"], true);
        assert!(dash["health"]["jobs"].as_array().is_some());
    }
}

#[tokio::test]
async fn settings_changes_are_validated_and_audited() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut root = admin_client(&app, "root@fantooo.com", AdminRole::SuperAdmin).await;
        let r = admin_json(
            &mut root,
            Method::PUT,
            "/api/admin/settings/operations",
            json!({ "idle_warning_secs": 200, "idle_reassign_secs": 100 }),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = admin_json(
            &mut root,
            Method::PUT,
            "/api/admin/settings/operations",
            json!({ "idle_warning_secs": 120, "idle_reassign_secs": 240, "default_quality_threshold": 55 }),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(fantooo_store::operations::config(&app.db).await.unwrap().idle_reassign_secs, 240);
        let r = admin_json(&mut root, Method::PUT, "/api/admin/settings/email-domain", json!({ "email_domain": "not a domain" })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            admin_json(&mut root, Method::PUT, "/api/admin/settings/email-domain", json!({ "email_domain": "Chat.Example.com" }))
                .await
                .status,
            StatusCode::OK
        );
        let r = app.client().json(Method::POST, "/api/auth/signup", signup_body("newbie")).await;
        assert_eq!(r.json()["user"]["email"], "newbie@chat.example.com");
        let log = root.api_get("/api/admin/audit").await.json();
        let ops = log["actions"].as_array().unwrap().iter().find(|a| a["entity_id"] == "operations").unwrap();
        assert_eq!(ops["after_value"]["idle_reassign_secs"], 240);
        assert_eq!(ops["before_value"], Value::Null);
        // Admin permissions: a moderator given analytics can open it.
        let mut m = admin_client(&app, "m@fantooo.com", AdminRole::Moderator).await;
        assert_eq!(m.get("/admin/stats").await.status, StatusCode::FORBIDDEN);
        let mid = fantooo_store::admins::list(&app.db).await.unwrap().into_iter().find(|a| a.email == "m@fantooo.com").unwrap().id;
        let r = admin_json(
            &mut root,
            Method::PUT,
            &format!("/api/admin/admins/{mid}"),
            json!({ "manage_chats": true, "manage_users": true, "view_analytics": true }),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(m.get("/admin/stats").await.status, StatusCode::OK);
        let mine =
            root.api_get(&format!("/api/admin/audit?admin={}", fantooo_store::admins::list(&app.db).await.unwrap()[0].id)).await.json();
        assert!(mine["actions"].as_array().unwrap().iter().any(|a| a["action"] == "admin_permissions_changed"));
        let _ = make_profile;
    }
}

/// The Terms of Service and Privacy Policy: shipped texts until an admin
/// with the settings permission publishes new ones (audited), public pages
/// and JSON, linked from every page's footer.
#[tokio::test]
async fn legal_pages_are_public_and_edited_by_settings_admins() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut visitor = app.client();
        let landing = visitor.get("/").await;
        assert!(landing.body.contains("href=\"/terms\"") && landing.body.contains("href=\"/privacy\""), "footer links");
        let terms = visitor.get("/terms").await;
        assert_eq!(terms.status, StatusCode::OK);
        assert!(terms.body.contains("<h1>Terms of Service</h1>") && terms.body.contains("<h2>Credits and payment</h2>"), "{}", terms.body);
        let privacy = visitor.api_get("/api/legal/privacy").await;
        assert_eq!(privacy.json()["title"], "Privacy Policy");
        assert_eq!(privacy.json()["updated_at"], Value::Null);
        assert_eq!(visitor.api_get("/api/legal/cookies").await.status, StatusCode::NOT_FOUND);

        // A moderator may not edit; bad text is named; good text is published.
        let mut moderator = admin_client(&app, "m@fantooo.com", AdminRole::Moderator).await;
        let body = json!({ "text": "## New\nFresh terms" });
        assert_eq!(
            admin_json(&mut moderator, Method::PUT, "/api/admin/settings/legal/terms", body.clone()).await.status,
            StatusCode::FORBIDDEN
        );
        let mut root = admin_client(&app, "root@fantooo.com", AdminRole::SuperAdmin).await;
        let r = admin_json(&mut root, Method::PUT, "/api/admin/settings/legal/terms", json!({ "text": "  " })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["fields"][0]["field"], "text");
        let r = admin_json(
            &mut root,
            Method::PUT,
            "/api/admin/settings/legal/terms",
            json!({ "text": "## New rules\n- <b>be kind</b>\n\nThat is all." }),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let page = visitor.get("/terms").await.body;
        assert!(page.contains("<h2>New rules</h2>") && page.contains("<li>&#60;b&#62;be kind&#60;/b&#62;</li>"), "escaped: {page}");
        assert!(page.contains("Last changed"));
        assert!(!page.contains("Credits and payment"));
        // The page form posts the same way and the settings page shows the text.
        let settings_page = root.get("/admin/settings").await;
        assert!(settings_page.body.contains("be kind"));
        let r = root.post_form("/admin/settings/legal/privacy", &[("text", "Privacy in brief")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(visitor.api_get("/api/legal/privacy").await.json()["text"], "Privacy in brief");
        // Audited with before and after.
        let log = root.api_get("/api/admin/audit").await.json();
        let entry = log["actions"].as_array().unwrap().iter().find(|a| a["entity_id"] == "legal_terms").expect("audited");
        assert_eq!(entry["before_value"], Value::Null);
        assert!(entry["after_value"]["text"].as_str().unwrap().starts_with("## New rules"));
    }
}
