//! Errors as pages for browsers, JSON for API clients: one layer for every
//! product. Handlers answer with [`AppError`](crate::AppError) (or anything
//! that puts an [`ErrorBody`] in the response's extensions); this layer,
//! outermost among the product's own, leaves API answers as they are and
//! turns the rest into the product's HTML error page, a bare 404 into a
//! "page not found" page, and a 401 into a redirect to the product's
//! sign-in page with `?next=` the page asked for.
//!
//! ```ignore
//! router.layer(axum::middleware::from_fn_with_state(MyPages, platform_web::error_pages::render::<MyPages>))
//! ```

use crate::error::ErrorBody;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

/// What a product tells the error-page layer: its page and its sign-in page.
pub trait ErrorPages: Clone + Send + Sync + 'static {
    /// The product's error page (its own template and look).
    fn render(&self, page: &ErrorPage<'_>) -> String;

    /// Where a browser that must sign in goes from `path` (the product may
    /// have one sign-in page per area).
    fn sign_in(&self, path: &str) -> &'static str;

    /// A page a browser is sent to instead of an error page for this error
    /// code (e.g. a profile step still to finish); none by default.
    fn redirect_for(&self, _code: &str) -> Option<&'static str> {
        None
    }

    /// Paths answered as JSON whatever the client accepts.
    fn json_path(&self, path: &str) -> bool {
        path.starts_with("/api/") || path == "/metrics"
    }
}

/// What one error page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPage<'a> {
    pub status: StatusCode,
    pub title: &'a str,
    pub message: &'a str,
}

/// The page's heading for a status.
pub fn title(status: StatusCode) -> &'static str {
    match status {
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::CONFLICT => "That can't be done now",
        StatusCode::TOO_MANY_REQUESTS => "Slow down",
        s if s.is_server_error() => "Something went wrong",
        _ => "Please check your input",
    }
}

/// The page's text: the error's message, and each field's when several
/// fields were refused (a single one is the message already).
pub fn message(body: &ErrorBody) -> String {
    if body.fields.len() < 2 {
        return body.message.clone();
    }
    let fields: Vec<String> = body.fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect();
    format!("{} — {}", body.message, fields.join(" · "))
}

/// The layer (see the module documentation).
pub async fn render<P: ErrorPages>(State(pages): State<P>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let wants_json = pages.json_path(&path)
        || req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.starts_with("application/json"));
    let resp = next.run(req).await;
    if wants_json {
        return resp;
    }
    let status = resp.status();
    let Some(body) = resp.extensions().get::<ErrorBody>().cloned() else {
        if status == StatusCode::NOT_FOUND && resp.headers().get(header::CONTENT_TYPE).is_none() {
            return page(&pages, status, "We couldn't find that page.");
        }
        return resp;
    };
    if let Some(to) = pages.redirect_for(&body.error) {
        return Redirect::to(to).into_response();
    }
    if status == StatusCode::UNAUTHORIZED && body.error == "unauthenticated" {
        let next = serde_urlencoded::to_string([("next", path.as_str())]).unwrap_or_default();
        return Redirect::to(&format!("{}?{next}", pages.sign_in(&path))).into_response();
    }
    let mut out = page(&pages, status, &message(&body));
    if let Some(r) = resp.headers().get(header::RETRY_AFTER) {
        out.headers_mut().insert(header::RETRY_AFTER, r.clone());
    }
    out
}

fn page<P: ErrorPages>(pages: &P, status: StatusCode, message: &str) -> Response {
    let html = pages.render(&ErrorPage { status, title: title(status), message });
    (status, Html(html)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AppError;
    use axum::body::Body;
    use axum::routing::get;
    use axum::Router;
    use platform_kernel::{FieldError, FieldErrors};
    use tower::ServiceExt;

    #[derive(Clone)]
    struct Pages;

    impl ErrorPages for Pages {
        fn render(&self, p: &ErrorPage<'_>) -> String {
            format!("<h1>{} {}</h1><p>{}</p>", p.status.as_u16(), p.title, p.message)
        }
        fn sign_in(&self, path: &str) -> &'static str {
            if path.starts_with("/admin") {
                "/admin-login"
            } else {
                "/login"
            }
        }
    }

    fn app() -> Router {
        Router::new()
            .route("/page", get(|| async { AppError::Conflict("The room is full".into()) }))
            .route("/api/x", get(|| async { AppError::Conflict("The room is full".into()) }))
            .route("/admin/x", get(|| async { AppError::Unauthenticated }))
            .route("/login-failed", get(|| async { AppError::LoginFailed }))
            .route("/slow", get(|| async { AppError::RateLimited(crate::error::Wait(std::time::Duration::from_secs(7))) }))
            .route(
                "/fields",
                get(|| async {
                    AppError::Validation(FieldErrors(vec![
                        FieldError { field: "name", message: "is empty".into() },
                        FieldError { field: "age", message: "too young".into() },
                    ]))
                }),
            )
            .layer(axum::middleware::from_fn_with_state(Pages, render::<Pages>))
    }

    async fn get_page(uri: &str, accept: Option<&str>) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut req = Request::get(uri);
        if let Some(a) = accept {
            req = req.header(header::ACCEPT, a);
        }
        let resp = app().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 16).await.unwrap();
        (parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn pages_get_the_products_page_and_api_keeps_json() {
        let (s, h, body) = get_page("/page", None).await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert_eq!(body, "<h1>409 That can't be done now</h1><p>The room is full</p>");
        assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
        let (s, _, body) = get_page("/api/x", None).await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(body.starts_with('{') && body.contains("\"error\":\"conflict\""), "{body}");
        let (_, _, body) = get_page("/page", Some("application/json")).await;
        assert!(body.contains("\"message\":\"The room is full\""), "{body}");
    }

    #[tokio::test]
    async fn unknown_pages_and_sign_in() {
        let (s, _, body) = get_page("/nowhere", None).await;
        assert_eq!((s, body.as_str()), (StatusCode::NOT_FOUND, "<h1>404 Page not found</h1><p>We couldn't find that page.</p>"));
        let (s, h, _) = get_page("/admin/x", None).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(h[header::LOCATION], "/admin-login?next=%2Fadmin%2Fx");
        // A wrong password is the sign-in page's own business, not a redirect.
        let (s, _, body) = get_page("/login-failed", None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert!(body.contains("Incorrect login or password"), "{body}");
    }

    #[tokio::test]
    async fn retry_after_and_fields_survive() {
        let (s, h, body) = get_page("/slow", None).await;
        assert_eq!((s, &h[header::RETRY_AFTER]), (StatusCode::TOO_MANY_REQUESTS, &"7".parse::<axum::http::HeaderValue>().unwrap()));
        assert!(body.contains("Slow down"), "{body}");
        let (s, _, body) = get_page("/fields", None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("Some fields need attention — name: is empty · age: too young"), "{body}");
    }
}
