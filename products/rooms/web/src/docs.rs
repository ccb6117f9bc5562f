//! The OpenAPI 3 document of Rooms' JSON API, derived from the same
//! registration that builds the router: every API route is added with
//! `utoipa_axum`'s `routes!` on an [`OpenApiRouter`], which registers the
//! handler with axum and its `#[utoipa::path]` description in the document
//! in one step. [`api`] collects each module's API routes; the router uses
//! them (`crate::routes`) and [`document`] reads the same list.
//!
//! Adding a route: annotate the handler with
//! `#[utoipa::path(post, path = "/api/v1/…", tag = "…", request_body = T,
//! responses(…), security(…))]` and register it in its module's `api()` with
//! `.routes(routes!(handler))` (not `.route(…)`). The test
//! `tests/it/docs.rs` fails for a route under `/api` the document lacks,
//! and for a JSON success answer without a body schema: open its
//! description with the body's shape, "`{field, other: {inner}}`" (see
//! [`shape_of`]), or give it `body = T`.
//!
//! Served at `/api/docs/openapi.json`, and readable at `/api/docs` (a page
//! rendered here from the document: no script, nothing from elsewhere).

use crate::AppState;
use askama::Template;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use std::sync::OnceLock;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr, Required};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The error body of every refusal (`platform_web::error::ErrorBody`):
/// a stable code, a readable message, the fields at fault, and for
/// `insufficient_*` what was needed and what the balance holds.
#[derive(Serialize, ToSchema)]
pub struct ErrorDoc {
    /// Stable code: `validation`, `not_found`, `unauthenticated`,
    /// `forbidden`, `rate_limited`, `insufficient_coins`, `room_full`, …
    pub error: String,
    /// What went wrong, in words a person can act on.
    pub message: String,
    /// For `validation`: each field at fault (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldDoc>,
    /// For `insufficient_*`: what the action needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<i64>,
    /// For `insufficient_*`: what the balance holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<i64>,
}

/// One field at fault.
#[derive(Serialize, ToSchema)]
pub struct FieldDoc {
    pub field: String,
    pub message: String,
}

/// Names of the two ways to sign in, as security schemes.
pub const BEARER: &str = "bearer";
pub const SESSION: &str = "session";

/// Every JSON API route of Rooms, each with its description. The router
/// (`crate::routes`) and the document ([`document`]) both come from here.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(crate::api::api())
        .merge(crate::signin::api())
        .merge(crate::decor::api())
        .merge(crate::economy::api::api())
        .merge(crate::economy::resellers::api())
        .merge(crate::status::api())
        .merge(crate::admin::api())
        .merge(crate::exchanges::api())
        .merge(crate::agencies::api())
        .routes(routes!(crate::realtime::socket::upgrade))
        .routes(routes!(crate::realtime::boards::upgrade))
        .routes(routes!(openapi_json))
        .routes(routes!(docs_page))
}

/// The document, built once.
pub fn document() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(|| finish(api().into_openapi()))
}

/// Title, security schemes, the error schema, and the refusals every
/// operation may answer (bad input, rate limit; sign-in and permission for
/// those that need a credential) where the operation does not say more.
fn finish(mut doc: OpenApi) -> OpenApi {
    doc.info.title = "Rooms API".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.description = Some(
        "Rooms' JSON API. Apps sign in with `POST /api/v1/auth/signin` and send `Authorization: Bearer <access_token>`; \
         the web pages use the `rooms_session` cookie, and their non-GET requests carry `X-CSRF-Token` (or send JSON). \
         Every refusal is an `Error` body with a stable `error` code; input errors are `validation` with each field named. \
         Versioning: the path carries the major version (`/api/v1`); fields are only added within a version."
            .into(),
    );
    let comps = doc.components.get_or_insert_with(Default::default);
    comps.security_schemes.insert(
        BEARER.into(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("A signed access token from sign-in or refresh (15 minutes)"))
                .build(),
        )),
    );
    comps.security_schemes.insert(
        SESSION.into(),
        RefOr::T(SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            crate::auth::SESSION_COOKIE,
            "The web session cookie; non-GET requests also need `X-CSRF-Token` unless their body is JSON",
        )))),
    );
    comps.schemas.insert("Error".into(), <ErrorDoc as utoipa::PartialSchema>::schema());
    comps.schemas.insert("FieldError".into(), <FieldDoc as utoipa::PartialSchema>::schema());
    for item in doc.paths.paths.values_mut() {
        for op in operations(item) {
            let signed = op.security.as_ref().is_some_and(|s| !s.is_empty() && !is_anonymous(s));
            let mut standard = vec![
                ("400", "Malformed request (bad JSON, wrong type)"),
                ("422", "Invalid input: `validation` with each field named"),
                ("429", "Too many requests (`rate_limited`)"),
                ("500", "Internal error"),
            ];
            if signed {
                standard.push(("401", "Not signed in, or the token has expired (`unauthenticated`)"));
                standard.push(("403", "Signed in but not allowed (`forbidden`, or a refusal code)"));
            }
            for (status, description) in standard {
                if !op.responses.responses.contains_key(status) {
                    op.responses.responses.insert(status.into(), RefOr::T(error_response(description)));
                }
            }
            // Success answers described by their shape get it as their schema.
            shape_successes(op);
            // Error statuses the operation names without a body get the error body.
            for (status, resp) in op.responses.responses.iter_mut() {
                if let (true, RefOr::T(r)) = (status.starts_with('4') || status.starts_with('5'), resp) {
                    if r.content.is_empty() {
                        *r = error_response(&r.description);
                    }
                }
            }
        }
    }
    doc
}

/// Gives each JSON success answer its body schema, read from the shape its
/// description opens with: "`{coins, diamonds}`", nested
/// "`{tokens: {access_token, …}}`", lists "`{rows: [{id, name}]}`", a value
/// or null "`{vip: {tier} | null}`", choices "`kind: new|renewal`" (`…`
/// is skipped; objects stay open to fields added later). An answer that repeats another (the same
/// idempotency key again) gets that one's schema. 204, 101 and answers
/// declaring another content type are left as they are.
fn shape_successes(op: &mut utoipa::openapi::path::Operation) {
    let mut first: Option<RefOr<utoipa::openapi::schema::Schema>> = None;
    let mut unshaped = vec![];
    for (status, resp) in op.responses.responses.iter_mut() {
        let RefOr::T(r) = resp else { continue };
        if !status.starts_with('2') || status == "204" {
            continue;
        }
        if let Some(c) = r.content.values().find_map(|c| match c {
            RefOr::T(c) => c.schema.clone(),
            RefOr::Ref(_) => None,
        }) {
            first.get_or_insert(c);
            continue;
        }
        if !r.content.is_empty() {
            continue;
        }
        match shape_of(&r.description) {
            Some(schema) => {
                first.get_or_insert(schema.clone());
                r.content.insert("application/json".into(), RefOr::T(utoipa::openapi::ContentBuilder::new().schema(Some(schema)).build()));
            }
            None => unshaped.push(status.clone()),
        }
    }
    if let Some(schema) = first {
        for status in unshaped {
            if let Some(RefOr::T(r)) = op.responses.responses.get_mut(&status) {
                r.content.insert(
                    "application/json".into(),
                    RefOr::T(utoipa::openapi::ContentBuilder::new().schema(Some(schema.clone())).build()),
                );
            }
        }
    }
}

/// The schema of the first "`{…}`" in a description.
pub fn shape_of(description: &str) -> Option<RefOr<utoipa::openapi::schema::Schema>> {
    let start = description.find("`{")? + 1;
    let end = start + description[start..].find('`')?;
    let mut p = Shape { s: &description.as_bytes()[start..end], i: 0 };
    let schema = p.value()?;
    Some(RefOr::T(schema))
}

/// A small reader of the shape notation of [`shape_of`].
struct Shape<'a> {
    s: &'a [u8],
    i: usize,
}

impl Shape<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// A value: an object, a list, or words up to the next `,` `}` `]`;
    /// each may be followed by `| null`.
    fn value(&mut self) -> Option<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
        self.ws();
        let schema = match self.peek()? {
            b'{' => {
                self.i += 1;
                let mut obj = ObjectBuilder::new().schema_type(Type::Object);
                loop {
                    self.ws();
                    match self.peek()? {
                        b'}' => {
                            self.i += 1;
                            break;
                        }
                        b',' => self.i += 1,
                        _ if self.s[self.i..].starts_with("…".as_bytes()) || self.s[self.i..].starts_with(b"...") => {
                            self.i += if self.s[self.i] == b'.' { 3 } else { "…".len() };
                        }
                        c if c.is_ascii_alphanumeric() || c == b'_' => {
                            let from = self.i;
                            while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
                                self.i += 1;
                            }
                            let name = std::str::from_utf8(&self.s[from..self.i]).ok()?.to_string();
                            self.ws();
                            let field = if self.peek() == Some(b':') {
                                self.i += 1;
                                self.value()?
                            } else {
                                Schema::Object(ObjectBuilder::new().schema_type(SchemaType::AnyValue).build())
                            };
                            obj = obj.property(name.clone(), field).required(name);
                        }
                        _ => return None,
                    }
                }
                Schema::Object(obj.build())
            }
            b'[' => {
                self.i += 1;
                // `[item]` a list; `[a, b]` a pair (each place its own).
                let mut items = vec![self.value()?];
                loop {
                    self.ws();
                    match self.peek()? {
                        b']' => break,
                        b',' => {
                            self.i += 1;
                            items.push(self.value()?);
                        }
                        _ => return None,
                    }
                }
                self.i += 1;
                let b = if items.len() == 1 {
                    ArrayBuilder::new().items(RefOr::T(items.remove(0)))
                } else {
                    ArrayBuilder::new().prefix_items(items).items(utoipa::openapi::schema::ArrayItems::False)
                };
                Schema::Array(b.build())
            }
            _ => {
                let from = self.i;
                let mut depth = 0usize;
                while let Some(c) = self.peek() {
                    match c {
                        b'(' => depth += 1,
                        b')' => depth = depth.saturating_sub(1),
                        b',' | b'}' | b']' if depth == 0 => break,
                        _ => {}
                    }
                    self.i += 1;
                }
                let words = std::str::from_utf8(&self.s[from..self.i]).ok()?.trim().to_string();
                let choices: Vec<&str> = words.split('|').collect();
                let mut b = ObjectBuilder::new().schema_type(SchemaType::AnyValue);
                if choices.len() > 1 && choices.iter().all(|w| !w.is_empty() && w.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')) {
                    b = b.schema_type(Type::String).enum_values(Some(choices));
                } else {
                    b = b.description(Some(words));
                }
                return Some(Schema::Object(b.build()));
            }
        };
        self.ws();
        if self.s[self.i..].starts_with(b"| null") {
            self.i += "| null".len();
            return Some(Schema::OneOf(
                utoipa::openapi::schema::OneOfBuilder::new()
                    .item(schema)
                    .item(utoipa::openapi::schema::ObjectBuilder::new().schema_type(Type::Null))
                    .build(),
            ));
        }
        Some(schema)
    }
}

/// The JSON operations whose success answers have no body schema, as
/// `METHOD path status` (or `METHOD path` when no success is described).
/// JSON operations are all but the WebSocket upgrades (101), answers
/// without a body (204), answers declaring another content type, and
/// provider callbacks under `/api/webhooks/` (their body is empty).
pub fn unshaped_successes(doc: &OpenApi) -> Vec<String> {
    let mut out = vec![];
    for (path, item) in &doc.paths.paths {
        if path.starts_with("/api/webhooks/") {
            continue;
        }
        let mut item = item.clone();
        for (method, op) in methods(&item).into_iter().zip(operations(&mut item)) {
            let successes: Vec<_> = op.responses.responses.iter().filter(|(s, _)| s.starts_with('2') || s.as_str() == "101").collect();
            if successes.is_empty() {
                out.push(format!("{method} {path}"));
            }
            for (status, r) in successes {
                if status == "101" || status == "204" {
                    continue;
                }
                let RefOr::T(r) = r else { continue };
                let json = r.content.iter().find(|(ct, _)| ct.contains("json"));
                let other = r.content.keys().any(|ct| !ct.contains("json"));
                let has_schema = json.is_some_and(|(_, c)| matches!(c, RefOr::T(c) if c.schema.is_some()) || matches!(c, RefOr::Ref(_)));
                let raw_document = path == "/api/docs/openapi.json";
                if !has_schema && !other && !raw_document {
                    out.push(format!("{method} {path} {status}"));
                }
            }
        }
    }
    out
}

/// `security(())`: anyone (the empty requirement).
fn is_anonymous(s: &[utoipa::openapi::security::SecurityRequirement]) -> bool {
    s.iter().all(|r| serde_json::to_value(r).map(|v| v.as_object().is_some_and(|o| o.is_empty())).unwrap_or(false))
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    utoipa::openapi::ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::ContentBuilder::new().schema(Some(utoipa::openapi::Ref::from_schema_name("Error"))).build(),
        )
        .build()
}

/// The operations of a path item, whatever their method.
pub fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<&mut utoipa::openapi::path::Operation> {
    [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.options, &mut item.head, &mut item.patch, &mut item.trace]
        .into_iter()
        .filter_map(Option::as_mut)
        .collect()
}

/// The methods a path item documents, upper case.
pub fn methods(item: &utoipa::openapi::PathItem) -> Vec<&'static str> {
    [
        ("GET", item.get.is_some()),
        ("PUT", item.put.is_some()),
        ("POST", item.post.is_some()),
        ("DELETE", item.delete.is_some()),
        ("PATCH", item.patch.is_some()),
        ("OPTIONS", item.options.is_some()),
        ("HEAD", item.head.is_some()),
    ]
    .into_iter()
    .filter_map(|(m, on)| on.then_some(m))
    .collect()
}

/// The document as JSON.
#[utoipa::path(get, path = "/api/docs/openapi.json", tag = "docs", security(()),
    responses((status = 200, description = "This OpenAPI 3 document", content_type = "application/json")))]
pub async fn openapi_json() -> Response {
    let body = document().to_json().unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The document as a readable page.
#[utoipa::path(get, path = "/api/docs", tag = "docs", security(()),
    responses((status = 200, description = "The API reference as an HTML page", content_type = "text/html")))]
pub async fn docs_page() -> Response {
    let page = DocsPage::from(document());
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => crate::error::AppError::Internal(e.to_string()).into_response(),
    }
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct DocsPage {
    title: String,
    version: String,
    description: String,
    tags: Vec<TagSection>,
    schemas: Vec<SchemaLine>,
}

struct TagSection {
    name: String,
    operations: Vec<OpLine>,
}

struct OpLine {
    method: String,
    path: String,
    anchor: String,
    summary: String,
    description: String,
    auth: String,
    params: Vec<String>,
    body: Option<String>,
    responses: Vec<(String, String)>,
}

struct SchemaLine {
    name: String,
    json: String,
}

/// A schema reference or inline schema in a line of text.
fn schema_text(s: &RefOr<utoipa::openapi::schema::Schema>) -> String {
    match s {
        RefOr::Ref(r) => r.ref_location.rsplit('/').next().unwrap_or_default().to_string(),
        RefOr::T(t) => shape_text(t),
    }
}

/// An inline schema in the notation of [`shape_of`]: `{coins, rows: [{id}]}`.
fn shape_text(s: &utoipa::openapi::schema::Schema) -> String {
    use utoipa::openapi::schema::{ArrayItems, Schema};
    match s {
        Schema::Object(o) if !o.properties.is_empty() => {
            let fields: Vec<String> = o
                .properties
                .iter()
                .map(|(name, v)| match v {
                    RefOr::T(Schema::Object(inner)) if inner.properties.is_empty() => match &inner.enum_values {
                        Some(e) => format!("{name}: {}", e.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join("|")),
                        None => name.clone(),
                    },
                    other => format!("{name}: {}", schema_text(other)),
                })
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        Schema::Array(a) => match &a.items {
            ArrayItems::RefOrSchema(item) => format!("[{}]", schema_text(item)),
            ArrayItems::False => "[]".into(),
        },
        Schema::OneOf(o) => o
            .items
            .iter()
            .map(|i| match i {
                RefOr::T(Schema::Object(n)) if n.properties.is_empty() && n.description.is_none() => "null".to_string(),
                other => schema_text(other),
            })
            .collect::<Vec<_>>()
            .join(" | "),
        Schema::Object(o) => o.description.clone().unwrap_or_else(|| serde_json::to_string(s).unwrap_or_default()),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn content_schema(c: &RefOr<utoipa::openapi::Content>) -> String {
    match c {
        RefOr::T(c) => c.schema.as_ref().map(schema_text).unwrap_or_default(),
        RefOr::Ref(r) => r.ref_location.clone(),
    }
}

impl From<&OpenApi> for DocsPage {
    fn from(doc: &OpenApi) -> Self {
        let mut by_tag: std::collections::BTreeMap<String, Vec<OpLine>> = Default::default();
        for (path, item) in &doc.paths.paths {
            let mut item = item.clone();
            let ms = methods(&item);
            for (method, op) in ms.into_iter().zip(operations(&mut item)) {
                let tag = op.tags.as_ref().and_then(|t| t.first().cloned()).unwrap_or_else(|| "other".into());
                let auth = match &op.security {
                    Some(s) if !s.is_empty() && !is_anonymous(s) => "Signed in (bearer token or session cookie)".to_string(),
                    _ => "Anyone".to_string(),
                };
                let params = op
                    .parameters
                    .iter()
                    .flatten()
                    .filter_map(|p| match p {
                        RefOr::T(p) => Some(p),
                        RefOr::Ref(_) => None,
                    })
                    .map(|p| {
                        let req = if matches!(p.required, Required::True) { "required" } else { "optional" };
                        let at =
                            serde_json::to_value(&p.parameter_in).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
                        format!("{} ({at}, {req}){}", p.name, p.description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())
                    })
                    .collect();
                let body = op.request_body.as_ref().and_then(|b| match b {
                    RefOr::T(b) => Some(b),
                    RefOr::Ref(_) => None,
                });
                let body =
                    body.map(|b| b.content.iter().map(|(ct, c)| format!("{ct}: {}", content_schema(c))).collect::<Vec<_>>().join("; "));
                let responses = op
                    .responses
                    .responses
                    .iter()
                    .map(|(status, r)| {
                        let text = match r {
                            RefOr::T(r) => {
                                let schema = r.content.values().map(content_schema).find(|s| !s.is_empty());
                                format!("{}{}", r.description, schema.map(|s| format!(" → {s}")).unwrap_or_default())
                            }
                            RefOr::Ref(r) => r.ref_location.clone(),
                        };
                        (status.clone(), text)
                    })
                    .collect();
                by_tag.entry(tag).or_default().push(OpLine {
                    anchor: format!("{method}-{path}").replace(['/', '{', '}', '.'], "_"),
                    method: method.to_string(),
                    path: path.clone(),
                    summary: op.summary.clone().unwrap_or_default(),
                    description: op.description.clone().unwrap_or_default(),
                    auth,
                    params,
                    body,
                    responses,
                });
            }
        }
        let schemas = doc
            .components
            .iter()
            .flat_map(|c| c.schemas.iter())
            .map(|(name, s)| SchemaLine { name: name.clone(), json: serde_json::to_string_pretty(s).unwrap_or_default() })
            .collect();
        DocsPage {
            title: doc.info.title.clone(),
            version: doc.info.version.clone(),
            description: doc.info.description.clone().unwrap_or_default(),
            tags: by_tag.into_iter().map(|(name, operations)| TagSection { name, operations }).collect(),
            schemas,
        }
    }
}

/// The page's stylesheet (a page route, outside the API).
pub fn pages() -> axum::Router<AppState> {
    axum::Router::new().route(
        "/assets/api-docs.css",
        axum::routing::get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../assets/api-docs.css")) }),
    )
}
