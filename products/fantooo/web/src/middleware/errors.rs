//! Renders errors as friendly HTML pages for browser routes. API routes keep
//! the JSON body produced by `AppError`.

use crate::error::ErrorBody;
use crate::templates::ErrorPage;
use askama::Template;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

pub async fn render_html(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let wants_json = path.starts_with("/api/")
        || path == "/metrics"
        || req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).map(|a| a.starts_with("application/json")).unwrap_or(false);
    let resp = next.run(req).await;
    if wants_json {
        return resp;
    }
    let Some(body) = resp.extensions().get::<ErrorBody>().cloned() else {
        if resp.status() == StatusCode::NOT_FOUND && resp.headers().get(header::CONTENT_TYPE).is_none() {
            return page(StatusCode::NOT_FOUND, "Page not found", "We couldn't find that page.", None);
        }
        return resp;
    };
    let status = resp.status();
    if status == StatusCode::UNAUTHORIZED {
        // A browser that needs to sign in goes to the sign-in page for this area.
        let login = if path.starts_with("/admin") {
            "/admin-login"
        } else if path.starts_with("/operator") {
            "/op-login"
        } else {
            "/login"
        };
        return Redirect::to(&format!("{login}?next={}", urlencode(&path))).into_response();
    }
    let title = match status {
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::TOO_MANY_REQUESTS => "Slow down",
        s if s.is_server_error() => "Something went wrong",
        _ => "Please check your input",
    };
    let retry = resp.headers().get(header::RETRY_AFTER).cloned();
    page(status, title, &body.message, retry)
}

fn page(status: StatusCode, title: &str, message: &str, retry: Option<HeaderValue>) -> Response {
    let html = ErrorPage { title, message, status: status.as_u16() }.render().unwrap_or_else(|_| message.to_string());
    let mut resp = (status, Html(html)).into_response();
    if let Some(r) = retry {
        resp.headers_mut().insert(header::RETRY_AFTER, r);
    }
    resp
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|v| v.trim_start_matches('=').to_string()).unwrap_or_default()
}
