//! The OpenAPI document against the router's real routes: every route under
//! `/api` (read from the route table itself) is described, every described
//! path and method is routed, and the document is served and readable.

use crate::support::{backends, TestApp};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use rooms_web::{AppState, WebConfig};
use std::collections::BTreeSet;
use tower::ServiceExt;

/// The paths of a router's route table (axum has no listing API; its
/// `Debug` output names each path the router matches).
fn route_paths(router: &axum::Router<AppState>) -> BTreeSet<String> {
    let text = format!("{router:?}");
    let mut out = BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("\"/") {
        let tail = &rest[i + 1..];
        let end = tail.find('"').expect("closing quote");
        out.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

/// A concrete path for a template: each `{param}` becomes `0`.
fn concrete(template: &str) -> String {
    template.split('/').map(|seg| if seg.starts_with('{') { "0" } else { seg }).collect::<Vec<_>>().join("/")
}

const METHODS: [Method; 5] = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];

/// Whether `method path` reaches a handler: not the teapot fallback of an
/// unknown path, not 405 of a path without that method.
async fn routed(app: &axum::Router, method: &Method, path: &str) -> bool {
    let req = Request::builder().method(method.clone()).uri(concrete(path)).body(Body::empty()).unwrap();
    let status = app.clone().oneshot(req).await.unwrap().status();
    status != StatusCode::IM_A_TEAPOT && status != StatusCode::METHOD_NOT_ALLOWED
}

/// The routes under `/api` of `table` that the document does not describe,
/// and the described ones `table` does not route.
async fn compare(table: axum::Router<AppState>, state: AppState) -> (Vec<String>, Vec<String>) {
    let paths = route_paths(&table);
    assert!(paths.contains("/rooms/{id}"), "the route table was read, pages too: {paths:?}");
    let app: axum::Router = table.with_state(state).fallback(|| async { StatusCode::IM_A_TEAPOT });
    let doc = rooms_web::docs::document();
    let api_paths: Vec<&String> = paths.iter().filter(|p| p.starts_with("/api/") || *p == "/api").collect();
    assert!(api_paths.len() >= 60, "the route table was read: {api_paths:?}");
    let mut missing = vec![];
    for path in &api_paths {
        let described = doc.paths.paths.get(path.as_str()).map(rooms_web::docs::methods).unwrap_or_default();
        for m in &METHODS {
            if routed(&app, m, path).await && !described.contains(&m.as_str()) {
                missing.push(format!("{m} {path}"));
            }
        }
    }
    let mut dangling = vec![];
    for (path, item) in &doc.paths.paths {
        for m in rooms_web::docs::methods(item) {
            if !routed(&app, &m.parse().unwrap(), path).await {
                dangling.push(format!("{m} {path}"));
            }
        }
    }
    (missing, dangling)
}

async fn state(backend: rooms_store::Backend) -> (AppState, platform_db::testing::TestDb) {
    let t = platform_db::testing::fresh_db(backend, &rooms_store::MIGRATIONS, "rooms_web_tpl").await;
    let state = AppState::new(t.db.clone(), WebConfig { fast_password_hashing: true, ..WebConfig::default() }, None);
    (state, t)
}

#[tokio::test]
async fn every_api_route_is_described_and_every_description_is_routed() {
    for backend in backends() {
        let (state, _t) = state(backend).await;
        let (missing, dangling) = compare(rooms_web::routes(&state), state).await;
        assert!(missing.is_empty(), "routes the OpenAPI document does not describe: {missing:?}");
        assert!(dangling.is_empty(), "described but not routed: {dangling:?}");
        let unshaped = rooms_web::docs::unshaped_successes(rooms_web::docs::document());
        assert!(unshaped.is_empty(), "routed JSON operations without a 2xx response schema: {unshaped:?}");
    }
}

/// A route added with plain axum `.route(…)` under `/api` is caught, with
/// its method; one added beside a described path's methods too.
#[tokio::test]
async fn an_undocumented_route_is_caught() {
    let backend = backends().into_iter().next().unwrap();
    let (state, _t) = state(backend).await;
    let extra = axum::Router::new()
        .route("/api/v1/undocumented/{id}", axum::routing::put(|| async { "x" }))
        .route("/api/v1/coins", axum::routing::delete(|| async { "x" }));
    let (missing, dangling) = compare(rooms_web::routes(&state).merge(extra), state).await;
    assert_eq!(missing, vec!["DELETE /api/v1/coins".to_string(), "PUT /api/v1/undocumented/{id}".to_string()]);
    assert!(dangling.is_empty());
}

#[test]
fn every_operation_says_who_may_call_it_and_what_it_answers() {
    let doc = rooms_web::docs::document();
    let json = serde_json::to_value(doc).unwrap();
    assert_eq!(json["openapi"].as_str().unwrap().chars().next(), Some('3'));
    assert!(json["components"]["securitySchemes"]["bearer"].is_object());
    assert!(json["components"]["securitySchemes"]["session"].is_object());
    let error = &json["components"]["schemas"]["Error"]["properties"];
    for field in ["error", "message", "fields", "required", "available"] {
        assert!(error[field].is_object(), "Error has {field}");
    }
    for (path, item) in json["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(op["security"].is_array(), "{method} {path} says who may call it");
            assert!(op["tags"].is_array(), "{method} {path} has a tag");
            let statuses: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
            assert!(statuses.iter().any(|s| s.starts_with('2') || s.starts_with('1')), "{method} {path} has a success answer");
            let bad = &op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(bad, "#/components/schemas/Error", "{method} {path} answers bad input with the error body");
        }
    }
    // Bodies are described where JSON comes in.
    assert_eq!(
        json["paths"]["/api/v1/auth/signup"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/SignUp"
    );
    let signup = &json["components"]["schemas"]["SignUp"]["required"];
    assert!(signup.as_array().unwrap().iter().any(|f| f == "handle"), "{signup}");
}

/// Every JSON operation documents the body of its success answer, and
/// every refusal the error body.
#[test]
fn every_json_answer_has_its_schema() {
    let doc = rooms_web::docs::document();
    let unshaped = rooms_web::docs::unshaped_successes(doc);
    assert!(unshaped.is_empty(), "JSON operations without a 2xx response schema: {unshaped:?}");
    let json = serde_json::to_value(doc).unwrap();
    let mut shaped = 0;
    for (path, item) in json["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, r) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        r["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Error",
                        "{method} {path} {status} answers with the error body"
                    );
                } else if status.starts_with('2') && r["content"]["application/json"]["schema"].is_object() {
                    shaped += 1;
                }
            }
        }
    }
    assert!(shaped >= 100, "{shaped} success schemas");
    // Shapes as read from descriptions: nesting, lists, null, choices.
    let signin = &json["paths"]["/api/v1/auth/signin"]["post"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(signin["type"], "object");
    assert_eq!(signin["required"], serde_json::json!(["tokens"]));
    let tokens = &signin["properties"]["tokens"]["required"];
    assert_eq!(tokens, &serde_json::json!(["access_token", "access_expires_at", "refresh_token", "refresh_expires_at"]));
    let mine = &json["paths"]["/api/v1/me/vip"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert!(mine["properties"]["vip"]["oneOf"][1]["type"] == "null", "{mine}");
    assert_eq!(mine["properties"]["purchases"]["type"], "array");
    assert!(mine["properties"]["purchases"]["items"]["required"].as_array().unwrap().iter().any(|f| f == "expires_at"));
    // A repeated answer (the same idempotency key again) has the first's schema.
    let gift = &json["paths"]["/api/v1/rooms/{id}/gifts"]["post"]["responses"];
    assert_eq!(gift["200"]["content"], gift["201"]["content"]);
    assert!(gift["201"]["content"]["application/json"]["schema"]["required"].as_array().unwrap().iter().any(|f| f == "sends"));
}

/// An operation with a success answer and no body schema is caught; one
/// answering 204 is not.
#[test]
fn an_answer_without_a_schema_is_caught() {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};
    use utoipa::openapi::{OpenApiBuilder, ResponseBuilder, ResponsesBuilder};
    let op = |status: &str, description: &str| {
        OperationBuilder::new().response(status, ResponseBuilder::new().description(description).build()).build()
    };
    let doc = OpenApiBuilder::new()
        .paths(
            PathsBuilder::new()
                .path("/api/v1/bare", PathItem::new(HttpMethod::Get, op("200", "The things")))
                .path("/api/v1/shaped", PathItem::new(HttpMethod::Get, op("200", "`{things}`")))
                .path("/api/v1/empty", PathItem::new(HttpMethod::Post, op("204", "Done")))
                .path(
                    "/api/v1/none",
                    PathItem::new(HttpMethod::Delete, OperationBuilder::new().responses(ResponsesBuilder::new()).build()),
                ),
        )
        .build();
    let unshaped = rooms_web::docs::unshaped_successes(&doc);
    assert_eq!(unshaped, vec!["GET /api/v1/bare 200".to_string(), "DELETE /api/v1/none".to_string(), "GET /api/v1/shaped 200".to_string()]);
    // The same document through the document's finishing step: the shaped one gets its schema.
    let shaped = rooms_web::docs::shape_of("`{things: [{id, kind: a|b}], more: {x} | null}` and words").unwrap();
    let v = serde_json::to_value(shaped).unwrap();
    assert_eq!(v["properties"]["things"]["items"]["properties"]["kind"]["enum"], serde_json::json!(["a", "b"]));
    assert_eq!(v["properties"]["more"]["oneOf"][0]["required"], serde_json::json!(["x"]));
    assert!(rooms_web::docs::shape_of("No shape here").is_none());
    let pair = serde_json::to_value(rooms_web::docs::shape_of("`{revenue: [[currency, minor]]}`").unwrap()).unwrap();
    assert_eq!(pair["properties"]["revenue"]["items"]["prefixItems"].as_array().unwrap().len(), 2, "{pair}");
}

/// Real answers carry the fields their schema requires.
#[tokio::test]
async fn real_answers_have_their_documented_fields() {
    let backend = backends().into_iter().next().unwrap();
    let app = TestApp::new(backend).await;
    let mut c = app.client();
    let doc = serde_json::to_value(rooms_web::docs::document()).unwrap();
    for (path, url) in [
        ("/api/v1/gifts", "/api/v1/gifts"),
        ("/api/v1/themes", "/api/v1/themes"),
        ("/api/v1/vip", "/api/v1/vip"),
        ("/api/v1/leaderboards/{board}", "/api/v1/leaderboards/wealth"),
    ] {
        let r = c.get(url).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        let body = r.json();
        let schema = &doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
        for field in schema["required"].as_array().unwrap_or_else(|| panic!("{path}: {schema}")) {
            assert!(body.get(field.as_str().unwrap()).is_some(), "{path} answers {field}: {body}");
        }
    }
}

/// The real error body has the fields the document's `Error` schema names.
#[test]
fn the_error_schema_matches_the_error_body() {
    let body = platform_web::error::AppError::field("amount", "Give a whole number").body();
    let v = serde_json::to_value(body).unwrap();
    let doc = serde_json::to_value(rooms_web::docs::document()).unwrap();
    let props = doc["components"]["schemas"]["Error"]["properties"].as_object().unwrap();
    for key in v.as_object().unwrap().keys() {
        assert!(props.contains_key(key), "Error schema lacks {key}");
    }
    let field = &doc["components"]["schemas"]["FieldError"]["properties"];
    for key in v["fields"][0].as_object().unwrap().keys() {
        assert!(field[key].is_object(), "FieldError lacks {key}");
    }
}

#[tokio::test]
async fn the_document_and_its_page_are_served() {
    let backend = backends().into_iter().next().unwrap();
    let app = TestApp::new(backend).await;
    let mut c = app.client();
    let r = c.get("/api/docs/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("application/json"));
    let served = r.json();
    assert_eq!(served, serde_json::to_value(rooms_web::docs::document()).unwrap());

    let page = c.get("/api/docs").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!page.body.contains("<script"), "no script on the page");
    for (path, item) in served["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let marker = format!("data-method=\"{}\" data-path=\"{path}\"", method.to_uppercase());
            assert!(page.body.contains(&marker), "the page shows {method} {path}");
        }
    }
    assert_eq!(c.get("/assets/api-docs.css").await.status, StatusCode::OK);
    // Response bodies are shown in the shape notation, the error body by name.
    assert!(page.body.contains("{tokens: {access_token, access_expires_at, refresh_token, refresh_expires_at}}"), "shapes on the page");
    assert!(page.body.contains("→ Error"), "the error body on the page");
}
