//! The SQL statements one request makes, counted from sqlx's own statement
//! log (a process-wide subscriber, so this binary holds one test): a gift
//! request with a bearer access token and a cookie session's request each
//! read their account once, in the credential's own lookup, and a blocked
//! or signed-out-everywhere credential is still refused.

#[allow(dead_code)]
#[path = "it/support.rs"]
mod support;

use axum::http::StatusCode;
use chrono::Utc;
use serde_json::json;
use std::sync::{Arc, Mutex, OnceLock};
use support::{backends, scene, Scene, TestApp, PASSWORD};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// Every statement sqlx ran since the last [`take`].
fn log() -> &'static Arc<Mutex<Vec<String>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<String>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(vec![]));
        let subscriber = tracing_subscriber::registry().with(Statements(log.clone()));
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        log
    })
}

fn take() -> Vec<String> {
    std::mem::take(&mut *log().lock().unwrap())
}

struct Statements(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        #[derive(Default)]
        struct Sql {
            summary: String,
            full: String,
        }
        impl Visit for Sql {
            fn record_str(&mut self, field: &Field, value: &str) {
                match field.name() {
                    "summary" => self.summary = value.to_string(),
                    "db.statement" => self.full = value.trim().to_string(),
                    _ => {}
                }
            }
            fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
        }
        let mut sql = Sql::default();
        event.record(&mut sql);
        self.0.lock().unwrap().push(if sql.full.is_empty() { sql.summary } else { sql.full });
    }
}

/// Statements that read the caller's own account row or its credentials'
/// time (a gift's frame reads its people's display names apart).
fn account_reads(statements: &[String]) -> usize {
    statements.iter().filter(|s| s.contains("credentials_after") || (s.contains("accounts") && s.contains("needs_profile"))).count()
}

#[tokio::test]
async fn a_request_reads_its_account_once_and_refused_credentials_stay_refused() {
    log();
    for b in backends() {
        let app = TestApp::new(b).await;
        let Scene { room, star_id, mut fan, fan_id, gift, .. } = scene(&app, 1).await;
        rooms_store::economy::grant(&app.db, fan_id, 100, "t", None, Utc::now()).await.unwrap();
        let path = format!("/api/v1/rooms/{room}/gifts");
        // A first gift warms the wallets and shards; the second is counted.
        let first = fan.post(&path, json!({"gift_id": gift, "to": star_id, "idempotency_key": "warm"})).await;
        assert_eq!(first.status, StatusCode::CREATED, "{b:?}: {}", first.body);

        take();
        let sent = fan.post(&path, json!({"gift_id": gift, "to": star_id, "idempotency_key": "counted"})).await;
        let statements = take();
        assert_eq!(sent.status, StatusCode::CREATED, "{b:?}: {}", sent.body);
        println!("{b:?}: a bearer gift request made {} statements:\n  {}", statements.len(), statements.join("\n  "));
        assert_eq!(account_reads(&statements), 1, "{b:?}: the bearer check's read serves the whole request: {statements:#?}");
        // The catalogue and the level ladders come from this node's copies
        // (their versions ride on the batch's key look-up).
        let cached = statements.iter().filter(|s| s.contains("FROM gifts") || s.contains("FROM level_steps")).count();
        assert_eq!(cached, 0, "{b:?}: no catalogue or ladder read while they stay the same: {statements:#?}");

        // A cookie session's request: the session lookup brings the account.
        let mut web = app.client();
        let page = web.get("/signin").await.body;
        let i = page.find("name=\"csrf_token\" value=\"").expect("a sign-in form") + 25;
        let csrf = page[i..i + 64].to_string();
        let r = web.form("/signin", &[("csrf_token", &csrf), ("login", "fan@example.com"), ("password", PASSWORD), ("next", "/")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b:?}: {}", r.body);
        assert!(web.cookies.contains_key("rooms_session"));
        take();
        let coins = web.get("/api/v1/coins").await;
        let statements = take();
        assert_eq!(coins.status, StatusCode::OK, "{b:?}: {}", coins.body);
        assert_eq!(coins.json()["coins"], 98, "{b:?}");
        assert_eq!(account_reads(&statements), 1, "{b:?}: the session lookup's join serves the request: {statements:#?}");

        // A status other than active, read in the credential's own lookup,
        // refuses the bearer token and the cookie session alike.
        let status = |s: &'static str| {
            let db = app.db.clone();
            async move {
                platform_db::on_pool!(&db, p => {
                    sqlx::query("UPDATE accounts SET status = $1 WHERE id = $2").bind(s).bind(fan_id).execute(p).await.unwrap();
                });
            }
        };
        status("suspended").await;
        let refused = fan.post(&path, json!({"gift_id": gift, "to": star_id, "idempotency_key": "blocked"})).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{b:?}: {}", refused.body);
        assert_eq!(web.get("/api/v1/coins").await.status, StatusCode::UNAUTHORIZED, "{b:?}");
        status("active").await;
        assert_eq!(web.get("/api/v1/coins").await.status, StatusCode::OK, "{b:?}");
        // Signed out everywhere: tokens issued before it and the session are refused.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        rooms_store::accounts::revoke_all_credentials(&app.db, fan_id, Utc::now()).await.unwrap();
        let refused = fan.post(&path, json!({"gift_id": gift, "to": star_id, "idempotency_key": "signed-out"})).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{b:?}: {}", refused.body);
        assert_eq!(web.get("/api/v1/coins").await.status, StatusCode::UNAUTHORIZED, "{b:?}");
        assert_eq!(rooms_store::economy::balances(&app.db, fan_id).await.unwrap().coins, 98, "{b:?}: nothing refused was charged");
    }
}
