//! Static assets compiled into the binary.

use platform_web::static_files::{self, StaticFiles};

const CSS: &str = include_str!("../assets/gigstream.css");
const JS: &str = include_str!("../assets/gigstream.js");
const MESSAGES_CSS: &str = include_str!("../assets/messages.css");
const MESSAGES_JS: &str = include_str!("../assets/messages.js");
const ADMIN_CSS: &str = include_str!("../assets/admin.css");
const NOTIFICATIONS_JS: &str = include_str!("../assets/notifications.js");
const DASHBOARD_CSS: &str = include_str!("../assets/dashboard.css");
const FAVICON: &str = include_str!("../assets/favicon.svg");

/// The stylesheets, scripts and icon, gzip'd once and served with an `ETag`
/// (see `platform_web::static_files`).
pub static FILES: std::sync::LazyLock<StaticFiles> = std::sync::LazyLock::new(|| {
    StaticFiles::new(
        "public, max-age=3600",
        &[
            ("gigstream.css", CSS.as_bytes(), static_files::CSS),
            ("gigstream.js", JS.as_bytes(), static_files::JS),
            ("messages.css", MESSAGES_CSS.as_bytes(), static_files::CSS),
            ("messages.js", MESSAGES_JS.as_bytes(), static_files::JS),
            ("admin.css", ADMIN_CSS.as_bytes(), static_files::CSS),
            ("notifications.js", NOTIFICATIONS_JS.as_bytes(), static_files::JS),
            ("dashboard.css", DASHBOARD_CSS.as_bytes(), static_files::CSS),
            ("favicon.svg", FAVICON.as_bytes(), static_files::SVG),
        ],
    )
});
