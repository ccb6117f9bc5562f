//! A node that cannot reach its database answers 503 and keeps clients'
//! sessions. (Killed nodes and a restarted PostgreSQL are tested with real
//! processes in crates/app/tests/faults.)

use crate::support::*;
use axum::http::{Method, StatusCode};

#[tokio::test]
async fn without_its_database_a_node_answers_503_and_keeps_the_session() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut user = api_user(&app, "outage").await;
        assert_eq!(user.api_get("/api/me").await.status, StatusCode::OK);
        app.db.close().await;

        // Not 401: a client told it is signed out would drop a valid session.
        let r = user.api_get("/api/me").await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{b:?}: {}", r.body);
        assert_eq!(r.json()["error"], "unavailable");
        assert_eq!(r.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
        let health = app.client().api_get("/api/health").await;
        assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
        let signup = app.client().json(Method::POST, "/api/auth/signup", signup_body("latecomer")).await;
        assert_eq!(signup.status, StatusCode::SERVICE_UNAVAILABLE, "{b:?}: {}", signup.body);
    }
}
