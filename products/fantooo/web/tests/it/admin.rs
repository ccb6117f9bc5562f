//! Admin bootstrap, roles and permissions, last-super-admin protection.

use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_domain::AdminRole;
use fantooo_store::{admins, on_pool};
use serde_json::json;

#[tokio::test]
async fn setup_creates_the_first_super_admin_then_disappears() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut c = app.client();
        assert_eq!(c.get("/setup").await.status, StatusCode::OK);
        assert_eq!(c.api_get("/api/setup").await.json()["setup_required"], true);
        let r = c
            .post_form("/setup", &[("name", "Founder"), ("email", "founder@fantooo.com"), ("password", PASSWORD), ("setup_token", "wrong")])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("The setup token is not correct"));
        assert!(!admins::any_exist(&app.db).await.unwrap());
        let r = c
            .post_form(
                "/setup",
                &[("name", "Founder"), ("email", "founder@fantooo.com"), ("password", "weak"), ("setup_token", SETUP_TOKEN)],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = c
            .post_form(
                "/setup",
                &[("name", "Founder"), ("email", "founder@fantooo.com"), ("password", PASSWORD), ("setup_token", SETUP_TOKEN)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/admin-login");
        let list = admins::list(&app.db).await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].role, AdminRole::SuperAdmin);
        // Gone for good, on both paths.
        assert_eq!(c.get("/setup").await.status, StatusCode::NOT_FOUND);
        assert_eq!(c.api_get("/api/setup").await.status, StatusCode::NOT_FOUND);
        let r = c
            .json(
                Method::POST,
                "/api/setup",
                json!({"name": "Second", "email": "x@fantooo.com", "password": PASSWORD, "setup_token": SETUP_TOKEN}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // The new super admin can sign in.
        let r = c.post_form("/admin-login", &[("login", "founder@fantooo.com"), ("password", PASSWORD)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(c.get("/admin/admins").await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn setup_is_closed_without_a_configured_token() {
    let app = TestApp::with_config(fantooo_store::Backend::Sqlite, |c| c.admin_setup_token = None).await;
    let mut c = app.client();
    let r =
        c.json(Method::POST, "/api/setup", json!({"name": "A", "email": "a@fantooo.com", "password": PASSWORD, "setup_token": ""})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!admins::any_exist(&app.db).await.unwrap());
}

#[tokio::test]
async fn concurrent_setup_creates_exactly_one_admin() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut tasks = vec![];
        for i in 0..8 {
            let mut c = app.client();
            tasks.push(tokio::spawn(async move {
                c.json(Method::POST, "/api/setup", json!({"name": format!("A{i}"), "email": format!("a{i}@fantooo.com"), "password": PASSWORD, "setup_token": SETUP_TOKEN})).await.status
            }));
        }
        let mut created = 0;
        for t in tasks {
            let s = t.await.unwrap();
            if s == StatusCode::CREATED {
                created += 1
            } else {
                assert_eq!(s, StatusCode::NOT_FOUND, "{backend:?}")
            }
        }
        assert_eq!(created, 1, "{backend:?}");
        assert_eq!(admins::list(&app.db).await.unwrap().len(), 1, "{backend:?}");
    }
}

#[tokio::test]
async fn the_last_super_admin_cannot_be_removed() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut root = admin_client(&app, "root@fantooo.com", AdminRole::SuperAdmin).await;
        let root_id = admins::list(&app.db).await.unwrap()[0].id;
        for action in ["deactivate", "delete"] {
            let r = root.post_form(&format!("/admin/admins/{root_id}/{action}"), &[]).await;
            assert_eq!(r.status, StatusCode::CONFLICT, "{backend:?} {action}");
            assert!(r.body.contains("last active super admin"), "{}", r.body);
        }
        // The schema refuses it too, whatever code path tries.
        let err = admins::update_role(&app.db, root_id, AdminRole::Admin, fantooo_domain::Permissions::for_role(AdminRole::Admin))
            .await
            .unwrap_err();
        assert!(err.is_guard(fantooo_web::error::LAST_SUPER_ADMIN), "{backend:?}: {err:?}");
        let direct = on_pool!(&app.db, p => sqlx::query("UPDATE admins SET is_active = FALSE WHERE id = $1").bind(root_id).execute(p).await.map(|_| ()));
        assert!(direct.is_err(), "{backend:?}: trigger must refuse");

        // With a second super admin, one may go, but never both.
        let r = root
            .post_form(
                "/admin/admins",
                &[("name", "Second"), ("email", "second@fantooo.com"), ("role", "super_admin"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let second = admins::list(&app.db).await.unwrap().into_iter().find(|a| a.email == "second@fantooo.com").unwrap();
        let r = root.post_form(&format!("/admin/admins/{}/deactivate", second.id), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(!admins::by_id(&app.db, second.id).await.unwrap().is_active);
        let r = root.post_form(&format!("/admin/admins/{root_id}/deactivate"), &[]).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        // Every change is in the audit log.
        let log = fantooo_store::audit::recent_admin_actions(&app.db, 20).await.unwrap();
        assert!(log.iter().any(|a| a.action == "admin_created"));
        assert!(log.iter().any(|a| a.action == "admin_deactivate"));
    }
}

/// (path, required permission) for every back-office page and API route.
const ROUTES: &[(&str, Option<&str>)] = &[
    ("/admin", None),
    ("/admin/users", Some("manage_users")),
    ("/admin/profiles", Some("manage_fictional_profiles")),
    ("/admin/operators", Some("manage_operators")),
    ("/admin/chats", Some("manage_chats")),
    ("/admin/payments", Some("manage_payments")),
    ("/admin/stats", Some("view_analytics")),
    ("/admin/admins", Some("manage_admins")),
    ("/admin/settings", Some("system_settings")),
    ("/admin/audit", Some("manage_admins")),
    ("/api/admin/users", Some("manage_users")),
    ("/api/admin/profiles", Some("manage_fictional_profiles")),
    ("/api/admin/operators", Some("manage_operators")),
    ("/api/admin/chats", Some("manage_chats")),
    ("/api/admin/payments", Some("manage_payments")),
    ("/api/admin/stats", Some("view_analytics")),
    ("/api/admin/admins", Some("manage_admins")),
    ("/api/admin/settings/pricing", Some("system_settings")),
];

#[tokio::test]
async fn permission_matrix_for_every_role_and_route() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut clients = vec![];
        for role in [AdminRole::SuperAdmin, AdminRole::Admin, AdminRole::Moderator] {
            let c = admin_client(&app, &format!("{role}@fantooo.com"), role).await;
            clients.push((role, c));
        }
        for (role, c) in clients.iter_mut() {
            let perms = fantooo_domain::Permissions::for_role(*role);
            let perm_json = serde_json::to_value(perms).unwrap();
            for (path, perm) in ROUTES {
                let allowed = perm.map(|p| perm_json[p] == true).unwrap_or(true);
                let r = c.get(path).await;
                let expected = if allowed { StatusCode::OK } else { StatusCode::FORBIDDEN };
                assert_eq!(r.status, expected, "{backend:?} {role} GET {path}");
            }
        }
        // Spot-check the spec's role table.
        let (_, moderator) = &mut clients[2];
        assert_eq!(moderator.get("/admin/chats").await.status, StatusCode::OK);
        assert_eq!(moderator.get("/admin/payments").await.status, StatusCode::FORBIDDEN);
        // Users, operators and visitors never get in.
        let mut user = api_user(&app, "outsider").await;
        let mut op = operator_client(&app, "op@fantooo.com").await;
        let mut anon = app.client();
        for (path, _) in ROUTES {
            assert_eq!(user.api_get(path).await.status, StatusCode::FORBIDDEN, "user {path}");
            assert_eq!(op.get(path).await.status, StatusCode::FORBIDDEN, "operator {path}");
            let r = anon.get(path).await;
            if path.starts_with("/api/") {
                assert_eq!(r.status, StatusCode::UNAUTHORIZED, "anon {path}");
            } else {
                assert_eq!(r.status, StatusCode::SEE_OTHER, "anon {path}");
                assert!(r.location().starts_with("/admin-login"));
            }
        }
        // Writes are checked too: an admin cannot create admins or change settings.
        let (_, admin) = &mut clients[1];
        let r =
            admin.post_form("/admin/admins", &[("name", "X"), ("email", "x@fantooo.com"), ("role", "admin"), ("password", PASSWORD)]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = admin.post_form("/admin/settings", &[("free_messages_per_chat", "5")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn admins_and_operators_are_managed_through_pages_and_api() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut root = admin_client(&app, "root@fantooo.com", AdminRole::SuperAdmin).await;
        // HTML: create an operator, with field errors first.
        let r = root
            .post_form(
                "/admin/operators",
                &[("name", "Op"), ("email", "not-an-email"), ("password", PASSWORD), ("max_concurrent_chats", "99")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("Enter a valid email address") && r.body.contains("Between 1 and 50 chats"));
        let r = root
            .post_form(
                "/admin/operators",
                &[
                    ("name", "Joy"),
                    ("email", "joy@fantooo.com"),
                    ("password", PASSWORD),
                    ("specializations", "Flirty, romantic"),
                    ("max_concurrent_chats", "4"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("Operator Joy created"));
        let ops = fantooo_store::operators::list(&app.db).await.unwrap();
        assert_eq!(ops[0].specializations.0, vec!["flirty", "romantic"]);
        assert_eq!(ops[0].max_concurrent_chats, 4);
        // API with a bearer token: create an admin, duplicate email refused.
        let mut api = app.client();
        let r =
            api.json(Method::POST, "/api/auth/login", json!({"login": "root@fantooo.com", "password": PASSWORD, "kind": "admin"})).await;
        api.bearer = Some(r.json()["token"].as_str().unwrap().into());
        let body = json!({"name": "Mod", "email": "mod@fantooo.com", "password": PASSWORD, "role": "moderator"});
        let r = api.json(Method::POST, "/api/admin/admins", body.clone()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.json()["admin"]["role"], "moderator");
        let r = api.json(Method::POST, "/api/admin/admins", body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["fields"][0]["field"], "email");
        let r = api
            .json(
                Method::POST,
                "/api/admin/admins",
                json!({"name": "R", "email": "r@fantooo.com", "password": PASSWORD, "role": "emperor"}),
            )
            .await;
        assert_eq!(r.json()["fields"][0]["field"], "role");
        // Settings are validated and audited with before/after.
        let r = api.json(Method::PUT, "/api/admin/settings/pricing", json!({"peak_start_hour": 25})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["fields"][0]["field"], "peak_start_hour");
        let r = api.json(Method::PUT, "/api/admin/settings/pricing", json!({"peak_start_hour": 19, "free_messages_per_chat": 4})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let page = root.get("/admin/settings").await;
        assert!(page.body.contains("value=\"19\"") && page.body.contains("value=\"4\""));
        let log = fantooo_store::audit::recent_admin_actions(&app.db, 10).await.unwrap();
        let change = log.iter().find(|a| a.action == "setting_changed").expect("audited");
        assert_eq!(change.after_value.as_ref().unwrap().0["peak_start_hour"], 19);
        // User search with pagination.
        for i in 0..3 {
            api_user(&app, &format!("searchme{i}")).await;
        }
        let r = api.api_get("/api/admin/users?q=searchme&limit=2").await.json();
        assert_eq!(r["users"].as_array().unwrap().len(), 2);
        let cursor = r["next_cursor"].as_str().unwrap().to_string();
        let r = api.api_get(&format!("/api/admin/users?q=searchme&limit=2&before={}", urlencode(&cursor))).await.json();
        assert_eq!(r["users"].as_array().unwrap().len(), 1);
        assert!(r["next_cursor"].is_null());
    }
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)]).unwrap().trim_start_matches("v=").to_string()
}
