//! Static assets compiled into the binary, and generated portrait images.

use platform_web::static_files::{StaticFiles, CSS, JS, SVG};
use sha2::{Digest, Sha256};

const APP_CSS: &str = include_str!("../assets/app.css");
const NOJS_CSS: &str = include_str!("../assets/nojs.css");
const APP_JS: &str = include_str!("../assets/app.js");
const ADMIN_JS: &str = include_str!("../assets/admin.js");
const CHAT_JS: &str = include_str!("../assets/chat.js");
const OPERATOR_JS: &str = include_str!("../assets/operator.js");
const CREDITS_JS: &str = include_str!("../assets/credits.js");
const DISCOVER_JS: &str = include_str!("../assets/discover.js");
const NOTICES_JS: &str = include_str!("../assets/notices.js");
const FAVICON_SVG: &str = include_str!("../assets/favicon.svg");

/// The stylesheets, scripts and icon, gzip'd once and served with an `ETag`
/// (see `platform_web::static_files`).
pub static FILES: std::sync::LazyLock<StaticFiles> = std::sync::LazyLock::new(|| {
    StaticFiles::new(
        "public, max-age=300",
        &[
            ("app.css", APP_CSS.as_bytes(), CSS),
            ("nojs.css", NOJS_CSS.as_bytes(), CSS),
            ("app.js", APP_JS.as_bytes(), JS),
            ("admin.js", ADMIN_JS.as_bytes(), JS),
            ("chat.js", CHAT_JS.as_bytes(), JS),
            ("operator.js", OPERATOR_JS.as_bytes(), JS),
            ("credits.js", CREDITS_JS.as_bytes(), JS),
            ("discover.js", DISCOVER_JS.as_bytes(), JS),
            ("notices.js", NOTICES_JS.as_bytes(), JS),
            ("favicon.svg", FAVICON_SVG.as_bytes(), SVG),
        ],
    )
});

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

/// Poses of one person across their photos: shift, tilt and zoom of the
/// figure (x, y, degrees, scale).
const POSES: &[(i32, i32, i32, f32)] = &[(0, 0, 0, 1.0), (-28, 12, -7, 1.06), (30, 4, 6, 0.96), (0, 34, 0, 1.18), (-12, -6, 3, 0.9)];

/// A deterministic illustrated portrait. `seed` is `<person>-<n>`: the
/// person part fixes who it is (skin, hair, hair style, eyes, clothes), so
/// every photo of a profile shows the same person; `n` picks the photo's
/// pose, backdrop and expression. Without a `-<n>` suffix the whole seed
/// names the person.
pub fn portrait_svg(seed: &str) -> String {
    let (person, photo) = match seed.rsplit_once('-') {
        Some((p, n)) if !p.is_empty() && n.parse::<u32>().is_ok() => (p, n.parse::<usize>().unwrap_or(0)),
        _ => (seed, 0),
    };
    let who = Sha256::digest(person.as_bytes());
    let shot = Sha256::digest(seed.as_bytes());
    let pick = |h: &[u8], i: usize, n: usize| h[i] as usize % n;
    let skin = SKIN[pick(&who, 0, SKIN.len())];
    let hair = HAIR[pick(&who, 1, HAIR.len())];
    let top = TOP[pick(&who, 3, TOP.len())];
    let long_hair = who[4] % 2 == 0;
    let eye_gap = 20 + (who[7] % 6) as i32;
    // The backdrop changes from photo to photo, never twice in a row.
    let first = pick(&who, 2, BACKDROP.len());
    let (bg1, bg2) = BACKDROP[(first + photo.saturating_sub(1)) % BACKDROP.len()];
    let angle = shot[5] % 90;
    let smile = 6 + (shot[6] % 6) as i32;
    let (dx, dy, tilt, zoom) = POSES[photo.saturating_sub(1) % POSES.len()];
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
<g data-person="{person}" data-skin="{skin}" data-hair="{hair}" transform="translate({dx} {dy}) rotate({tilt} 160 200) translate(160 400) scale({zoom}) translate(-160 -400)">
{hair_shape}
<rect x="140" y="210" width="40" height="40" fill="{skin}"/>
<ellipse cx="160" cy="160" rx="58" ry="70" fill="{skin}"/>
<path d="M102 150 Q110 92 160 90 Q210 92 218 150 Q196 118 160 116 Q124 118 102 150 Z" fill="{hair}"/>
<ellipse cx="{el}" cy="162" rx="6" ry="7" fill="#212121"/><ellipse cx="{er}" cy="162" rx="6" ry="7" fill="#212121"/>
<path d="M142 {my} Q160 {mc} 178 {my}" stroke="#8e2443" stroke-width="4" fill="none" stroke-linecap="round"/>
<path d="M60 400 Q70 262 160 248 Q250 262 260 400 Z" fill="{top}"/>
</g>
</svg>"##,
        el = 160 - eye_gap,
        er = 160 + eye_gap,
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

    /// The person drawn: the attributes of the figure group.
    fn person(svg: &str) -> &str {
        let start = svg.find("<g data-person").expect("figure");
        let end = svg[start..].find(" transform=").expect("transform") + start;
        &svg[start..end]
    }

    fn backdrop(svg: &str) -> &str {
        let start = svg.find("<stop").expect("backdrop");
        let end = svg.find("</linearGradient>").expect("gradient end");
        &svg[start..end]
    }

    #[test]
    fn every_photo_of_a_profile_shows_the_same_person() {
        for slug in ["amara", "zuri", "lena", "kofi"] {
            let photos: Vec<String> = (1..=4).map(|n| portrait_svg(&format!("{slug}-{n}"))).collect();
            for p in &photos[1..] {
                assert_eq!(person(p), person(&photos[0]), "{slug}: one person in every photo");
            }
            // …in different shots: no two photos share pose and backdrop.
            for (i, a) in photos.iter().enumerate() {
                for b in &photos[i + 1..] {
                    assert_ne!(a, b);
                    assert_ne!(backdrop(a), backdrop(b), "{slug}: each photo has its own backdrop");
                }
            }
        }
        // Different profiles are different people.
        let people: std::collections::HashSet<String> = ["amara", "zuri", "lena", "kofi", "maya", "nia"]
            .iter()
            .map(|s| person(&portrait_svg(&format!("{s}-1"))).replace(s, ""))
            .collect();
        assert!(people.len() >= 4, "{people:?}");
    }
}
