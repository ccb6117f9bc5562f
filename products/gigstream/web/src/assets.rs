//! Static assets compiled into the binary.

const CSS: &str = include_str!("../assets/gigstream.css");
const JS: &str = include_str!("../assets/gigstream.js");
const MESSAGES_CSS: &str = include_str!("../assets/messages.css");
const MESSAGES_JS: &str = include_str!("../assets/messages.js");
const ADMIN_CSS: &str = include_str!("../assets/admin.css");
const NOTIFICATIONS_JS: &str = include_str!("../assets/notifications.js");
const DASHBOARD_CSS: &str = include_str!("../assets/dashboard.css");
const FAVICON: &str = include_str!("../assets/favicon.svg");

pub fn get(name: &str) -> Option<(&'static str, &'static str)> {
    match name {
        "gigstream.css" => Some((CSS, "text/css; charset=utf-8")),
        "gigstream.js" => Some((JS, "text/javascript; charset=utf-8")),
        "messages.css" => Some((MESSAGES_CSS, "text/css; charset=utf-8")),
        "messages.js" => Some((MESSAGES_JS, "text/javascript; charset=utf-8")),
        "admin.css" => Some((ADMIN_CSS, "text/css; charset=utf-8")),
        "notifications.js" => Some((NOTIFICATIONS_JS, "text/javascript; charset=utf-8")),
        "dashboard.css" => Some((DASHBOARD_CSS, "text/css; charset=utf-8")),
        "favicon.svg" => Some((FAVICON, "image/svg+xml")),
        _ => None,
    }
}
