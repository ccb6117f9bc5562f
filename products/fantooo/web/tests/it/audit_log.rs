//! Fantooo's audit log and admin notices on the platform's tables: the
//! migration that moved the old ones, and the log page on the platform's
//! back-office shell (filters, keyset pages, changes field by field).

use crate::support::*;
use axum::http::StatusCode;
use chrono::{Duration, TimeZone, Utc};
use fantooo_domain::ids::{AccountId, AdminId};
use fantooo_domain::AdminRole;
use fantooo_store::on_pool;
use platform_audit::{Filter, Position, Reader};
use serde_json::json;
use sqlx::migrate::Migrator;
use sqlx::types::Json;
use std::borrow::Cow;

/// Fantooo's schema as it stood before migration 14.
fn before_14() -> platform_db::Migrations {
    fn early(m: &'static Migrator) -> &'static Migrator {
        let kept = m.migrations.iter().filter(|x| x.version < 14).cloned().collect();
        Box::leak(Box::new(Migrator { migrations: Cow::Owned(kept), ..Migrator::DEFAULT }))
    }
    platform_db::Migrations { sqlite: early(fantooo_store::MIGRATIONS.sqlite), postgres: early(fantooo_store::MIGRATIONS.postgres) }
}

#[tokio::test]
async fn migration_14_moves_the_old_log_and_notifications_onto_the_platform() {
    for backend in backends() {
        let t = platform_db::testing::fresh_db(backend, &before_14(), "fantooo_before_audit_move_template").await;
        let db = &t.db;
        let at = |h: u32| Utc.with_ymd_and_hms(2026, 5, 1, h, 0, 0).unwrap();
        let (ann, bo) = (AdminId::new(), AdminId::new());
        for (admin, name) in [(ann, "Ann"), (bo, "Bo")] {
            let account = AccountId::new();
            on_pool!(db, p => {
                sqlx::query("INSERT INTO accounts (id, kind, login, password_hash, is_active, created_at) VALUES ($1, 'admin', $2, 'x', TRUE, $3)")
                    .bind(account).bind(name).bind(at(0)).execute(p).await.unwrap();
                sqlx::query("INSERT INTO admins (id, account_id, name, email, role, permissions, created_at, updated_at) VALUES ($1, $2, $3, $4, 'admin', $5, $6, $6)")
                    .bind(admin).bind(account).bind(name).bind(format!("{name}@example.com")).bind(Json(json!({}))).bind(at(0))
                    .execute(p).await.unwrap();
            });
        }
        // Payment alerts were written with a plain UUID (a blob on SQLite),
        // the others with Fantooo's id type (text).
        let (n_read, n_unread) = (uuid::Uuid::now_v7(), fantooo_domain::ids::NotificationId::new());
        on_pool!(db, p => {
            sqlx::query("INSERT INTO admin_activity_log (admin_id, action, entity_type, entity_id, before_value, after_value, ip_address, created_at)
                         VALUES ($1, 'user_banned', 'user', 'u1', $2, $3, '10.0.0.1', $4)")
                .bind(ann).bind(Json(json!({ "status": "active" }))).bind(Json(json!({ "status": "banned" }))).bind(at(1))
                .execute(p).await.unwrap();
            sqlx::query("INSERT INTO admin_activity_log (admin_id, action, entity_type, entity_id, created_at) VALUES (NULL, 'admin_created_cli', 'admin', $1, $2)")
                .bind(ann.to_string()).bind(at(2)).execute(p).await.unwrap();
            sqlx::query("INSERT INTO admin_notifications (id, type, message, metadata, priority, is_read, read_by, read_at, created_at)
                         VALUES ($1, 'chat_escalation', 'Chat escalated: stuck', $2, 'high', TRUE, $3, $4, $5)")
                .bind(n_read).bind(Json(json!({ "chat_id": "c1" }))).bind(ann).bind(at(4)).bind(at(3)).execute(p).await.unwrap();
            sqlx::query("INSERT INTO admin_notifications (id, type, message, priority, created_at) VALUES ($1, 'security_alert', 'Blocked a sign-up', 'high', $2)")
                .bind(n_unread).bind(at(5)).execute(p).await.unwrap();
        });

        db.migrate(&fantooo_store::MIGRATIONS).await.unwrap();

        let log = platform_audit::list(db, &Filter::default(), Position::Newest, 10).await.unwrap().entries;
        assert_eq!(log.len(), 2, "{backend:?}");
        let (cli, ban) = (&log[0], &log[1]);
        assert!(ban.seq < cli.seq, "the order is kept");
        assert_eq!((ban.actor_kind.as_str(), ban.actor_id.clone(), ban.action.as_str()), ("admin", Some(ann.to_string()), "user_banned"));
        assert_eq!(
            (ban.subject_kind.as_deref(), ban.subject_id.as_deref(), ban.ip.as_deref()),
            (Some("user"), Some("u1"), Some("10.0.0.1"))
        );
        assert_eq!(ban.before_value.as_ref().map(|j| j.0.clone()), Some(json!({ "status": "active" })));
        assert_eq!((ban.at, ban.reason.as_deref()), (at(1), None));
        assert_eq!((cli.actor_kind.as_str(), cli.actor_id.as_deref(), cli.at), ("system", None, at(2)), "no admin: the system");
        let shown = fantooo_store::audit::recent_admin_actions(db, 10).await.unwrap();
        assert_eq!(shown[1].admin_name.as_deref(), Some("Ann"));
        assert_eq!(shown[1].changes.iter().map(ToString::to_string).collect::<Vec<_>>(), vec!["status: active → banned"]);

        // The one shared read flag became a read for every admin.
        for admin in [ann, bo] {
            let id = admin.to_string();
            let reader = Reader { id: &id, role: Some("admin") };
            let notices = platform_audit::notices(db, reader, false, None, 10).await.unwrap();
            let by_id = |n: String| notices.iter().find(|x| x.id.to_string() == n).unwrap_or_else(|| panic!("{n}: {notices:?}")).clone();
            let (read, unread) = (by_id(n_read.to_string()), by_id(n_unread.to_string()));
            assert_eq!(
                (read.kind.as_str(), read.title.as_str(), read.body.as_str(), read.read),
                ("chat_escalation", "Chat escalated", "Chat escalated: stuck", true)
            );
            assert_eq!((unread.title.as_str(), unread.read, unread.created_at), ("Security alert", false, at(5)), "{backend:?}");
            assert_eq!(platform_audit::unread_count(db, reader).await.unwrap(), 1);
        }
        // The old tables are gone.
        for table in ["admin_activity_log", "admin_notifications"] {
            let gone: Result<i64, _> = on_pool!(db, p => sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(p).await);
            assert!(gone.is_err(), "{table} still exists on {backend:?}");
        }
    }
}

#[tokio::test]
async fn the_log_page_filters_pages_and_shows_changes_on_the_shell() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let mut root = admin_client(&app, "root@fantooo.com", AdminRole::SuperAdmin).await;
        let me = fantooo_store::admins::list(&app.db).await.unwrap().into_iter().find(|a| a.email == "root@fantooo.com").unwrap();
        // 55 entries: more than one page of 50.
        for i in 0..55 {
            let (before, after) = (json!({ "status": "active", "credits": i }), json!({ "status": "banned", "credits": i }));
            fantooo_store::audit::admin_action(
                &app.db,
                Some(me.id),
                "user_banned",
                Some(("user", format!("u{i}"))),
                Some(before),
                Some(after),
                None,
            )
            .await
            .unwrap();
        }

        let first = root.get("/admin/audit").await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        let html = &first.body;
        assert!(html.contains("href=\"/admin/assets/backoffice.css\"") && html.contains("class=\"bo\""), "the platform's shell");
        assert!(html.contains("<a href=\"/admin/audit\" aria-current=\"page\">Audit log</a>"), "Fantooo's navigation, current page marked");
        assert_eq!(html.matches("<tr data-key=\"user_banned\">").count(), 50, "a page of 50");
        assert!(html.contains("status: active → banned") && !html.contains("credits: "), "changed fields only: {html}");
        assert!(html.contains("u54") && !html.contains(">user u4<"), "newest first");
        let older = href_of(html, "rel=\"next\"");
        let second = root.get(&older).await;
        assert_eq!(second.body.matches("<tr data-key=\"user_banned\">").count(), 5, "the rest");
        assert!(second.body.contains("user u0") && !second.body.contains("user u54"));
        let newer = href_of(&second.body, "rel=\"prev\"");
        assert_eq!(root.get(&newer).await.body.matches("user u54").count(), 1, "back to the first page");

        // Filters: entity id alone, a day range, an admin; the pager keeps them.
        let one = root.get("/admin/audit?entity_id=u7").await.body;
        assert_eq!(one.matches("<tr data-key=").count(), 1, "{one}");
        // The day the entries were written (UTC), whatever the clock says now.
        let today = fantooo_store::audit::recent_admin_actions(&app.db, 1).await.unwrap()[0].created_at.date_naive();
        let none = root.get(&format!("/admin/audit?until={}", today - Duration::days(1))).await.body;
        assert!(none.contains("Nothing recorded for these filters."), "{none}");
        let all_today = root.get(&format!("/admin/audit?from={today}&until={today}&admin={}", me.id)).await.body;
        assert_eq!(all_today.matches("<tr data-key=").count(), 50);
        let older = href_of(&all_today, "rel=\"next\"");
        assert!(older.contains(&format!("from={today}")) && older.contains(&format!("admin={}", me.id)), "{older}");

        // The API: the same rows, cursors, and bad input named.
        let api = root.api_get("/api/admin/audit?entity_type=user").await.json();
        assert_eq!(api["actions"].as_array().unwrap().len(), 55, "{backend:?}");
        assert_eq!(api["actions"][0]["changes"][0], json!({ "field": "status", "old": "active", "new": "banned" }));
        assert!(api["older"].is_null() && api["newer"].is_null());
        let bad = root.api_get("/api/admin/audit?from=yesterday").await;
        assert_eq!((bad.status, bad.json()["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("from")));
        let bad = root.api_get("/api/admin/audit?before=junk").await;
        assert_eq!((bad.status, bad.json()["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("before")));
        let backwards = root.api_get(&format!("/api/admin/audit?from={today}&until={}", today - Duration::days(2))).await;
        assert_eq!(backwards.json()["fields"][0]["field"], "until");
        let css = root.get("/admin/assets/backoffice.css").await;
        assert!(css.status == StatusCode::OK && css.body.contains(".bo-table"));
    }
}

/// The `href` of the first link carrying `marker` (HTML-unescaped).
fn href_of(html: &str, marker: &str) -> String {
    let at = html.find(marker).unwrap_or_else(|| panic!("no {marker} link: {html}"));
    let tag_start = html[..at].rfind("<a").unwrap();
    let tag = &html[tag_start..];
    let href = tag.split("href=\"").nth(1).unwrap().split('"').next().unwrap();
    href.replace("&#38;", "&").replace("&amp;", "&")
}
