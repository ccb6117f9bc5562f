//! Static assets compiled into the binary, and generated portrait images.

use sha2::{Digest, Sha256};

const APP_CSS: &str = include_str!("../assets/app.css");
const APP_JS: &str = include_str!("../assets/app.js");
const ADMIN_JS: &str = include_str!("../assets/admin.js");
const CHAT_JS: &str = include_str!("../assets/chat.js");
const OPERATOR_JS: &str = include_str!("../assets/operator.js");
const CREDITS_JS: &str = include_str!("../assets/credits.js");
const DISCOVER_JS: &str = include_str!("../assets/discover.js");
const FAVICON_SVG: &str = include_str!("../assets/favicon.svg");

pub fn get(name: &str) -> Option<(&'static str, &'static str)> {
    match name {
        "app.css" => Some((APP_CSS, "text/css; charset=utf-8")),
        "app.js" => Some((APP_JS, "text/javascript; charset=utf-8")),
        "admin.js" => Some((ADMIN_JS, "text/javascript; charset=utf-8")),
        "chat.js" => Some((CHAT_JS, "text/javascript; charset=utf-8")),
        "operator.js" => Some((OPERATOR_JS, "text/javascript; charset=utf-8")),
        "credits.js" => Some((CREDITS_JS, "text/javascript; charset=utf-8")),
        "discover.js" => Some((DISCOVER_JS, "text/javascript; charset=utf-8")),
        "favicon.svg" => Some((FAVICON_SVG, "image/svg+xml")),
        _ => None,
    }
}

const SKIN: &[&str] = &["#8d5524", "#c68642", "#e0ac69", "#f1c27d", "#ffdbac", "#5c3836", "#a1665e"];
const HAIR: &[&str] = &["#090806", "#2c222b", "#71635a", "#b7a69e", "#d6c4c2", "#a56b46", "#533d32", "#e6cea8"];
const BACKDROP: &[(&str, &str)] = &[
    ("#E91E63", "#9C27B0"),
    ("#FF6B9D", "#FFD700"),
    ("#9C27B0", "#2196F3"),
    ("#00BCD4", "#E91E63"),
    ("#C2185B", "#FF9800"),
    ("#1A237E", "#E91E63"),
    ("#FF6B9D", "#00BCD4"),
];
const TOP: &[&str] = &["#ffffff", "#212121", "#E91E63", "#1A237E", "#FFD700", "#4CAF50", "#9C27B0"];

/// A deterministic illustrated portrait for `seed`: the same seed always
/// gives the same picture, different seeds differ in palette and features.
pub fn portrait_svg(seed: &str) -> String {
    let h = Sha256::digest(seed.as_bytes());
    let pick = |i: usize, n: usize| h[i] as usize % n;
    let skin = SKIN[pick(0, SKIN.len())];
    let hair = HAIR[pick(1, HAIR.len())];
    let (bg1, bg2) = BACKDROP[pick(2, BACKDROP.len())];
    let top = TOP[pick(3, TOP.len())];
    let long_hair = h[4] % 2 == 0;
    let angle = h[5] % 90;
    let smile = 6 + (h[6] % 6) as i32;
    let hair_shape = if long_hair {
        format!(r#"<path d="M92 170 Q90 70 160 62 Q230 70 228 170 L236 300 Q160 320 84 300 Z" fill="{hair}"/>"#)
    } else {
        format!(r#"<path d="M100 150 Q100 72 160 68 Q220 72 220 150 Q200 108 160 104 Q120 108 100 150 Z" fill="{hair}"/>"#)
    };
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 400" width="320" height="400" role="img" aria-label="Portrait">
<defs><linearGradient id="g" gradientTransform="rotate({angle})"><stop offset="0" stop-color="{bg1}"/><stop offset="1" stop-color="{bg2}"/></linearGradient></defs>
<rect width="320" height="400" fill="url(#g)"/>
<circle cx="60" cy="70" r="40" fill="#fff" opacity=".12"/><circle cx="270" cy="330" r="60" fill="#fff" opacity=".1"/>
{hair_shape}
<rect x="140" y="210" width="40" height="40" fill="{skin}"/>
<ellipse cx="160" cy="160" rx="58" ry="70" fill="{skin}"/>
<path d="M102 150 Q110 92 160 90 Q210 92 218 150 Q196 118 160 116 Q124 118 102 150 Z" fill="{hair}"/>
<ellipse cx="138" cy="162" rx="6" ry="7" fill="#212121"/><ellipse cx="182" cy="162" rx="6" ry="7" fill="#212121"/>
<path d="M142 {my} Q160 {mc} 178 {my}" stroke="#8e2443" stroke-width="4" fill="none" stroke-linecap="round"/>
<path d="M60 400 Q70 262 160 248 Q250 262 260 400 Z" fill="{top}"/>
</svg>"##,
        my = 194,
        mc = 194 + smile,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn portraits_are_deterministic_and_distinct() {
        assert_eq!(portrait_svg("amara-1"), portrait_svg("amara-1"));
        assert_ne!(portrait_svg("amara-1"), portrait_svg("amara-2"));
        assert!(portrait_svg("x").starts_with("<svg"));
    }
}
