//! Page templates (compile-time checked by askama). Each struct names the
//! data its page needs; `Chrome` carries the role-aware navigation.

use crate::auth::{CsrfToken, CurrentAdmin, CurrentOperator, CurrentUser};
use askama::Template;
use askama_web::WebTemplate;
use fantooo_domain::AccountKind;
use fantooo_store::{packages::Package, profiles::PublicProfile, users::User};

// Signed-in pages build their navigation from the account their extractor
// already loaded, so rendering costs no extra query.
impl CurrentUser {
    pub fn chrome(&self, csrf: &CsrfToken, path: &str) -> Chrome {
        Chrome {
            unread: self.user.unread_replies,
            sound: self.user.sound_on(),
            ..Chrome::signed_in(AccountKind::User, &self.user.display_name, csrf, path)
        }
    }
}

impl CurrentOperator {
    pub fn chrome(&self, csrf: &CsrfToken, path: &str) -> Chrome {
        Chrome::signed_in(AccountKind::Operator, &self.operator.name, csrf, path)
    }
}

impl CurrentAdmin {
    pub fn chrome(&self, csrf: &CsrfToken, path: &str) -> Chrome {
        Chrome::signed_in(AccountKind::Admin, &self.admin.name, csrf, path)
    }
}

impl crate::auth::CurrentViewer {
    pub fn chrome(&self, csrf: &CsrfToken, path: &str) -> Chrome {
        Chrome::signed_in(self.session.kind, &self.name, csrf, path)
    }
}

/// Navigation state shared by every page.
#[derive(Clone, Default)]
pub struct Chrome {
    pub kind: Option<AccountKind>,
    pub name: String,
    pub csrf: String,
    /// The current path, to mark the active nav link.
    pub path: String,
    /// A user's unread replies (the Chats tab's badge and the tab title).
    pub unread: i64,
    /// A user's reply sound is on.
    pub sound: bool,
}

impl Chrome {
    pub fn anonymous(csrf: &str, path: &str) -> Chrome {
        Chrome { kind: None, name: String::new(), csrf: csrf.to_string(), path: path.to_string(), unread: 0, sound: false }
    }
    fn signed_in(kind: AccountKind, name: &str, csrf: &CsrfToken, path: &str) -> Chrome {
        Chrome { kind: Some(kind), name: name.to_string(), csrf: csrf.0.clone(), path: path.to_string(), unread: 0, sound: false }
    }
    pub fn is_user(&self) -> bool {
        self.kind == Some(AccountKind::User)
    }
    pub fn is_operator(&self) -> bool {
        self.kind == Some(AccountKind::Operator)
    }
    pub fn is_admin(&self) -> bool {
        self.kind == Some(AccountKind::Admin)
    }
    pub fn current(&self, prefix: &str) -> &'static str {
        if is_under(&self.path, prefix) {
            "page"
        } else {
            "false"
        }
    }
}

/// Whether `path` is `prefix` or a page below it.
fn is_under(path: &str, prefix: &str) -> bool {
    path == prefix || (prefix != "/" && path.starts_with(prefix) && path[prefix.len()..].starts_with('/'))
}

impl AdminNav {
    /// `aria-current` for one sidebar link: only the link closest to the
    /// page (the longest one it lies under) is current, so the dashboard
    /// (`/admin`) is not marked on every other page too.
    pub fn mark(&self, path: &str, href: &str) -> &'static str {
        let best = self.items.iter().map(|(h, _)| *h).filter(|h| is_under(path, h)).max_by_key(|h| h.len());
        if best == Some(href) {
            "page"
        } else {
            "false"
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    /// The page the platform's error layer asks for (status, title, message).
    pub page: &'a platform_web::error_pages::ErrorPage<'a>,
}

#[derive(Template, WebTemplate)]
#[template(path = "landing.html")]
pub struct Landing {
    pub chrome: Chrome,
    pub profiles: Vec<PublicProfile>,
}

/// Values echoed back into the sign-up form after a failed attempt.
#[derive(Default, Clone, serde::Deserialize)]
pub struct SignupValues {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub latitude: String,
    #[serde(default)]
    pub longitude: String,
    #[serde(default)]
    pub gender: String,
    #[serde(default)]
    pub looking_for: String,
    #[serde(default)]
    pub age: String,
    #[serde(default)]
    pub accept_terms: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "get_started.html")]
pub struct GetStarted {
    pub chrome: Chrome,
    pub values: SignupValues,
    pub errors: fantooo_domain::FieldErrors,
    pub email_domain: String,
    /// Corrected places offered when the typed city was not accepted.
    pub location_suggestions: Vec<String>,
}

impl GetStarted {
    pub fn err(&self, field: &str) -> &str {
        self.errors.for_field(field).unwrap_or("")
    }
    pub fn checked(&self, field: &str, value: &str) -> &'static str {
        let v = match field {
            "gender" => &self.values.gender,
            _ => &self.values.looking_for,
        };
        if v == value {
            "checked"
        } else {
            ""
        }
    }
    /// `hidden` on every step but the one opened first, so the page is
    /// laid out as it will be shown before the script runs (without
    /// script, `nojs.css` shows every step as one form).
    pub fn step_hidden(&self, n: u8) -> &'static str {
        if n == self.first_step() {
            ""
        } else {
            "hidden"
        }
    }
    /// The progress label's class for step `n`.
    pub fn step_state(&self, n: u8) -> &'static str {
        match n.cmp(&self.first_step()) {
            std::cmp::Ordering::Less => "done",
            std::cmp::Ordering::Equal => "active",
            std::cmp::Ordering::Greater => "",
        }
    }
    /// The step to open first: the earliest one with an error.
    pub fn first_step(&self) -> u8 {
        if self.errors.for_field("username").is_some() {
            1
        } else if ["location", "gender", "looking_for", "age"].iter().any(|f| self.errors.for_field(f).is_some()) {
            2
        } else if self.errors.is_empty() {
            1
        } else {
            3
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct Login {
    pub chrome: Chrome,
    pub title: &'static str,
    pub subtitle: &'static str,
    pub action: &'static str,
    pub login_label: &'static str,
    pub login_type: &'static str,
    pub login_value: String,
    pub next: String,
    pub error: String,
    pub show_signup: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "setup.html")]
pub struct Setup {
    pub chrome: Chrome,
    pub name: String,
    pub email: String,
    pub errors: fantooo_domain::FieldErrors,
    pub token_configured: bool,
}

impl Setup {
    pub fn err(&self, field: &str) -> &str {
        self.errors.for_field(field).unwrap_or("")
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "me.html")]
pub struct Me {
    pub chrome: Chrome,
    pub user: User,
    pub saved: bool,
    /// A one-off confirmation ("Password changed").
    pub notice: Option<String>,
    pub errors: fantooo_domain::FieldErrors,
    pub chats: Vec<fantooo_store::chats::ChatSummary>,
    pub ledger: Vec<fantooo_store::ledger::Entry>,
}

impl Me {
    pub fn err(&self, field: &str) -> &str {
        self.errors.for_field(field).unwrap_or("")
    }
}

/// Links of the back-office sidebar the signed-in admin may open.
pub struct AdminNav {
    pub items: Vec<(&'static str, &'static str)>,
    pub admin_name: String,
    pub role: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/payments.html")]
pub struct AdminPayments {
    pub chrome: Chrome,
    pub nav: AdminNav,
    pub transactions: Vec<fantooo_store::stats::TransactionSummary>,
    pub packages: Vec<Package>,
}

/// An operator's response time, the same words on every page.
pub fn response_time(ms: &Option<i64>) -> String {
    fantooo_domain::operations::response_time_text(*ms)
}

/// Formats an optional timestamp for tables.
pub fn when(t: &Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "—".into())
}

#[cfg(test)]
mod tests {
    use super::AdminNav;

    #[test]
    fn the_sidebar_marks_one_page() {
        let nav = AdminNav {
            items: vec![("/admin", "Dashboard"), ("/admin/users", "Users"), ("/admin/chats", "Chats")],
            admin_name: String::new(),
            role: String::new(),
        };
        let marked = |path: &str| nav.items.iter().filter(|(h, _)| nav.mark(path, h) == "page").map(|(h, _)| *h).collect::<Vec<_>>();
        assert_eq!(marked("/admin"), ["/admin"]);
        assert_eq!(marked("/admin/users"), ["/admin/users"]);
        assert_eq!(marked("/admin/users/123"), ["/admin/users"]);
        assert_eq!(marked("/admin/chats/live"), ["/admin/chats"]);
        assert_eq!(marked("/admin/usersx"), ["/admin"]);
        assert!(marked("/operator").is_empty());
    }
}
