//! Error reporting: with a DSN, a panicking handler and an internal error
//! each reach a Sentry-compatible endpoint (a local fake on loopback that
//! keeps each envelope) as an event with the request's method and path,
//! the error's detail, and nothing of the client's secrets.

use crate::support::{backends, TestApp};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use gigstream_web::reporting::{report, Reporter};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;

type Seen = Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>;

/// A Sentry-compatible endpoint on loopback: keeps each envelope posted
/// to `/api/{project}/envelope/`. Returns its DSN and what it received.
async fn fake_sentry() -> (String, Seen) {
    let seen: Seen = Arc::default();
    async fn envelope(
        State(seen): State<Seen>,
        axum::extract::Path(project): axum::extract::Path<String>,
        h: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        seen.lock().unwrap().push((project, h, body));
        StatusCode::OK
    }
    let app = Router::new().route("/api/{project}/envelope/", post(envelope)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://publickey@{addr}/42"), seen)
}

/// The event items of every envelope received (an envelope is JSON lines:
/// its header, then each item's header and payload).
fn events(seen: &Seen) -> Vec<Value> {
    let mut out = vec![];
    for (project, h, body) in seen.lock().unwrap().iter() {
        assert_eq!(project, "42");
        let auth = h.get("x-sentry-auth").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        assert!(auth.contains("sentry_key=publickey"), "{auth}");
        let text = String::from_utf8_lossy(body);
        let lines: Vec<Value> = text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect();
        for pair in lines[1..].windows(2) {
            if pair[0]["type"] == "event" {
                out.push(pair[1].clone());
            }
        }
    }
    out
}

async fn wait_for_events(reporter: &Reporter, seen: &Seen, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        reporter.flush(Duration::from_secs(5));
        let got = events(seen);
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    events(seen)
}

async fn boom() -> &'static str {
    panic!("kaboom: the ledger disagrees")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_answers_500_and_is_reported() {
    let (dsn, seen) = fake_sentry().await;
    let reporter = Reporter::new(Some(&dsn), "test").unwrap();
    let app = Router::new()
        .route("/boom/{n}", get(boom))
        .route("/fine", get(|| async { "ok" }))
        .layer(axum::middleware::from_fn_with_state(reporter.clone(), report));
    let resp = app.clone().oneshot(Request::get("/fine").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let req = Request::get("/boom/7?token=s3cret").header("x-request-id", "req-123").body(Body::empty()).unwrap();
    let resp = app.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let got = wait_for_events(&reporter, &seen, 1).await;
    assert_eq!(got.len(), 1, "only the panic is reported: {got:?}");
    let e = &got[0];
    assert_eq!(e["level"], "fatal");
    assert_eq!(e["exception"]["values"][0]["type"], "panic");
    assert_eq!(e["exception"]["values"][0]["value"], "kaboom: the ledger disagrees");
    assert_eq!(e["request"]["method"], "GET");
    assert_eq!(e["request"]["url"], "http://gigstream/boom/7");
    assert_eq!(e["tags"]["request_id"], "req-123");
    assert_eq!(e["environment"], "test");
    assert!(e["release"].as_str().unwrap().starts_with("gigstream@"), "{e}");
    assert!(!e.to_string().contains("s3cret"), "no query string: {e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_error_of_the_app_is_reported_with_its_detail() {
    for backend in backends() {
        let (dsn, seen) = fake_sentry().await;
        let reporter = Reporter::new(Some(&dsn), "test").unwrap();
        let r = reporter.clone();
        let app = TestApp::with_config(backend, move |c| c.errors = r).await;
        let token = app.sign_up("unlucky").await;
        // A refused request is no error to report.
        let (s, _) = app.call(Method::GET, "/api/v1/notifications?before=soon", Some(&token), None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        // The store loses a table under the app: the next read is an internal error.
        platform_db::on_pool!(&app.db, p => {
            sqlx::query("ALTER TABLE notifications RENAME TO notifications_gone").execute(p).await.unwrap();
        });
        let req = Request::get("/api/v1/notifications")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::ACCEPT, "application/json")
            .body(Body::empty())
            .unwrap();
        let (s, _, body) = app.raw(req).await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            !body.contains("notifications_gone") && !body.to_lowercase().contains("no such table"),
            "the client sees no detail: {body}"
        );

        let got = wait_for_events(&reporter, &seen, 1).await;
        assert_eq!(got.len(), 1, "{backend:?}: {got:?}");
        let e = &got[0];
        // "error" is the protocol's default level, left out of the event.
        assert_eq!(e["level"].as_str().unwrap_or("error"), "error", "{e}");
        assert_eq!(e["exception"]["values"][0]["type"], "InternalError");
        let detail = e["exception"]["values"][0]["value"].as_str().unwrap();
        assert!(detail.contains("notifications"), "{backend:?}: {detail}");
        assert_eq!(
            (e["request"]["method"].as_str(), e["request"]["url"].as_str()),
            (Some("GET"), Some("http://gigstream/api/v1/notifications"))
        );
        assert!(!e.to_string().contains(&token), "the bearer token is not sent");
    }
}

#[test]
fn no_dsn_no_reporting_and_a_bad_dsn_is_refused() {
    assert!(!Reporter::new(None, "x").unwrap().enabled());
    assert!(!Reporter::new(Some("  "), "x").unwrap().enabled());
    assert!(Reporter::new(Some("not a dsn"), "x").is_err());
}
