//! Fantooo's side of the platform's error-page layer
//! (`platform_web::error_pages::render`): its error page, and a sign-in
//! page per area. API routes keep the JSON body produced by `AppError`.

use crate::templates::ErrorPage;
use askama::Template;

/// Fantooo's error pages.
#[derive(Clone, Copy)]
pub struct Pages;

impl platform_web::error_pages::ErrorPages for Pages {
    fn render(&self, p: &platform_web::error_pages::ErrorPage<'_>) -> String {
        ErrorPage { page: p }.render().unwrap_or_else(|_| p.message.to_string())
    }

    fn sign_in(&self, path: &str) -> &'static str {
        if path.starts_with("/admin") {
            "/admin-login"
        } else if path.starts_with("/operator") {
            "/op-login"
        } else {
            "/login"
        }
    }
}
