//! Page quality without Lighthouse: every page, signed out and in, has its
//! language, a title, a meta description and the viewport; every form
//! control has a label (wrapping, `for`, or an ARIA name); every image has
//! alt text and its width and height (no layout shift while it loads); no
//! inline script, and the brand colour behind white text and links is dark
//! enough (WCAG AA, 4.5:1). Lighthouse itself runs in
//! scripts/lighthouse-gigstream.

use crate::support::TestApp;
use crate::uploads::{gig, post_multipart};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use gigstream_store::Backend;
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// One start tag: its name and attributes (names lower case, values unescaped enough).
#[derive(Debug)]
struct Tag {
    name: String,
    attrs: HashMap<String, String>,
    closing: bool,
}

/// The tags of `html` in order (comments, text and script bodies skipped).
fn tags(html: &str) -> Vec<Tag> {
    let mut out = vec![];
    let b = html.as_bytes();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        i += off + 1;
        if html[i..].starts_with("!--") {
            i += html[i..].find("-->").map_or(html.len() - i, |e| e + 3);
            continue;
        }
        let closing = html[i..].starts_with('/');
        if closing {
            i += 1;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-') {
            i += 1;
        }
        if i == start {
            continue;
        }
        let name = html[start..i].to_ascii_lowercase();
        let mut attrs = HashMap::new();
        loop {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i >= b.len() || b[i] == b'>' || b[i] == b'/' {
                break;
            }
            let s = i;
            while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'>' {
                i += 1;
            }
            let key = html[s..i].to_ascii_lowercase();
            let mut value = String::new();
            if i < b.len() && b[i] == b'=' {
                i += 1;
                let q = b[i];
                if q == b'"' || q == b'\'' {
                    let e = html[i + 1..].find(q as char).unwrap() + i + 1;
                    value = html[i + 1..e].to_string();
                    i = e + 1;
                } else {
                    let s = i;
                    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                        i += 1;
                    }
                    value = html[s..i].to_string();
                }
            }
            attrs.insert(key, value);
        }
        if name == "script" && !closing {
            if let Some(e) = html[i..].find("</script>") {
                let body = &html[i..i + e];
                let body = body.split_once('>').map_or("", |(_, rest)| rest);
                assert!(body.trim().is_empty(), "inline script: {body}");
            }
        }
        out.push(Tag { name, attrs, closing });
    }
    out
}

/// The start tags named `name`.
fn starts<'a>(all: &'a [Tag], name: &'a str) -> impl Iterator<Item = &'a Tag> + 'a {
    all.iter().filter(move |t| t.name == name && !t.closing)
}

/// What is wrong with one page, as a list of findings (empty: fine).
fn findings(html: &str) -> Vec<String> {
    let mut bad = vec![];
    let all = tags(html);
    match starts(&all, "html").next().and_then(|t| t.attrs.get("lang")) {
        Some(l) if !l.is_empty() => {}
        _ => bad.push("no lang on <html>".into()),
    }
    let title = html.split_once("<title>").and_then(|(_, r)| r.split_once("</title>")).map(|(t, _)| t.trim().to_string());
    if title.as_deref().is_none_or(|t| t.is_empty() || t == "· GigStream") {
        bad.push(format!("title {title:?}"));
    }
    let meta = |name: &str| {
        starts(&all, "meta").find(|t| t.attrs.get("name").map(String::as_str) == Some(name)).and_then(|t| t.attrs.get("content").cloned())
    };
    match meta("description") {
        Some(d) if d.trim().len() >= 50 => {}
        d => bad.push(format!("meta description {d:?}")),
    }
    if !meta("viewport").is_some_and(|v| v.contains("width=device-width")) {
        bad.push("no viewport".into());
    }
    // Without an icon the browser asks for /favicon.ico and logs a 404.
    if !starts(&all, "link").any(|t| t.attrs.get("rel").map(String::as_str) == Some("icon")) {
        bad.push("no icon".into());
    }
    // Labels: by `for`, or by wrapping the control.
    let labelled_ids: HashSet<String> = starts(&all, "label").filter_map(|t| t.attrs.get("for").cloned()).collect();
    let mut in_label = 0;
    for t in &all {
        match (t.name.as_str(), t.closing) {
            ("label", false) => in_label += 1,
            ("label", true) => in_label -= 1,
            ("input" | "select" | "textarea", false) => {
                let kind = t.attrs.get("type").map(String::as_str).unwrap_or("text");
                if matches!(kind, "hidden" | "submit" | "button" | "reset" | "image") {
                    continue;
                }
                let aria = ["aria-label", "aria-labelledby"].iter().any(|a| t.attrs.get(*a).is_some_and(|v| !v.trim().is_empty()));
                let by_for = t.attrs.get("id").is_some_and(|id| labelled_ids.contains(id));
                if in_label == 0 && !aria && !by_for {
                    bad.push(format!("unlabelled <{} name={:?}>", t.name, t.attrs.get("name")));
                }
            }
            ("img", false) => {
                if !t.attrs.contains_key("alt") {
                    bad.push(format!("<img src={:?}> without alt", t.attrs.get("src")));
                }
                for dim in ["width", "height"] {
                    if !t.attrs.get(dim).is_some_and(|v| v.parse::<u32>().is_ok_and(|n| n > 0)) {
                        bad.push(format!("<img src={:?}> without {dim}", t.attrs.get("src")));
                    }
                }
            }
            _ => {}
        }
    }
    bad
}

#[test]
fn the_checker_finds_what_it_looks_for() {
    let good = r#"<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width, initial-scale=1"><title>Logo · GigStream</title>
        <meta name="description" content="A long enough description of this page for search engines."><link rel="icon" href="/i.svg"></head><body>
        <label>Name <input name="a"></label><label for="b">B</label><input id="b" name="b"><input type="hidden" name="c">
        <input aria-label="Search" name="q"><img src="x.png" alt="" width="3" height="2"><script src="/assets/a.js" defer></script></body></html>"#;
    assert_eq!(findings(good), Vec::<String>::new());
    let bad = r#"<html><head><title> · GigStream</title><meta name="description" content="short"></head><body>
        <label>Name</label><input name="a"><img src="x.png"><textarea name="t"></textarea></body></html>"#;
    let got = findings(bad);
    for want in [
        "no lang",
        "title",
        "meta description",
        "viewport",
        "no icon",
        "unlabelled <input",
        "without alt",
        "without width",
        "unlabelled <textarea",
    ] {
        assert!(got.iter().any(|f| f.contains(want)), "{want} not found in {got:?}");
    }
    let inline = std::panic::catch_unwind(|| findings("<html><script>alert(1)</script></html>"));
    assert!(inline.is_err(), "an inline script is refused");
}

/// The contrast ratio of two `#rrggbb` colours (WCAG 2).
fn contrast(a: &str, b: &str) -> f64 {
    let lum = |h: &str| {
        let c: Vec<f64> = (0..3)
            .map(|i| f64::from(u8::from_str_radix(&h[1 + 2 * i..3 + 2 * i], 16).unwrap()) / 255.0)
            .map(|c| if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) })
            .collect();
        0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    };
    let (x, y) = (lum(a), lum(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

#[test]
fn the_brand_colours_read_on_white() {
    assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 0.01);
    assert!(contrast("#0d8a5f", "#ffffff") < 4.5, "the old green was too light");
    let css = include_str!("../../assets/gigstream.css");
    let var = |name: &str| {
        let at = css.find(&format!("{name}: #")).unwrap_or_else(|| panic!("{name}")) + name.len() + 2;
        css[at..at + 7].to_string()
    };
    for (name, bg) in
        [("--brand", "#ffffff"), ("--brand", "#fafafa"), ("--brand-dark", "#ffffff"), ("--muted", "#ffffff"), ("--muted", "#fafafa")]
    {
        let c = var(name);
        assert!(contrast(&c, bg) >= 4.5, "{name} {c} on {bg}: {:.2}", contrast(&c, bg));
    }
}

async fn page(app: &TestApp, token: Option<&str>, path: &str) -> String {
    let mut r = Request::get(path);
    if let Some(t) = token {
        r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let (s, _, html) = app.raw(r.body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::OK, "{path}: {html}");
    html
}

#[tokio::test]
async fn every_page_has_language_title_description_viewport_labels_and_sized_images() {
    let (app, _) = TestApp::served(Backend::Sqlite).await;
    let seller = app.sign_up("sasha").await;
    let buyer = app.sign_up("billie").await;
    let gig_id = gig(&app, &seller).await;
    let png: &[u8] = include_bytes!("../../assets/test.png");
    let (s, v, _) = post_multipart(&app, &format!("/api/v1/gigs/id/{gig_id}/images"), &seller, &[("image", Some("a.png"), png)]).await;
    assert!(s.is_success(), "{s} {v}");
    let order = app.paid_order(&buyer, &gig_id).await;
    let (s, v) = app.call(Method::POST, "/api/v1/conversations", Some(&buyer), Some(json!({ "gig": gig_id, "body": "Hi" }))).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let conv = v["conversation"]["id"].as_str().unwrap().to_string();
    let (s, v, _) =
        post_multipart(&app, &format!("/api/v1/conversations/{conv}/messages"), &seller, &[("attachment", Some("s.png"), png)]).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let slug = "i-will-design-a-logo-for-your-shop";
    let gig_path = format!("/gigs/{slug}");

    let anonymous = ["/", "/search?q=logo", "/search", gig_path.as_str(), "/login", "/signup", "/terms", "/privacy", "/u/sasha"];
    let signed_in = [
        (&buyer, format!("/orders/{order}")),
        (&buyer, "/dashboard/buying".into()),
        (&buyer, "/messages".into()),
        (&buyer, format!("/messages/{conv}")),
        (&buyer, "/notifications".into()),
        (&buyer, "/settings/notifications".into()),
        (&buyer, "/account".into()),
        (&buyer, "/profile".into()),
        (&seller, "/dashboard".into()),
        (&seller, "/dashboard/reviews".into()),
        (&seller, "/wallet".into()),
        (&seller, "/gigs/new".into()),
        (&seller, format!("/gigs/{slug}/edit")),
        (&seller, format!("/orders/{order}")),
        (&seller, format!("/gigs/{slug}")),
    ];
    let mut pages: Vec<(Option<&str>, String)> = anonymous.iter().map(|p| (None, p.to_string())).collect();
    pages.extend(signed_in.into_iter().map(|(t, p)| (Some(t.as_str()), p)));
    let mut failures = vec![];
    let mut images = 0;
    for (token, path) in &pages {
        let html = page(&app, *token, path).await;
        images += html.matches("<img ").count();
        let bad = findings(&html);
        if !bad.is_empty() {
            failures.push(format!("{path}: {bad:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(images >= 3, "the gig picture and the attachment were checked: {images}");
    let icon = Request::get("/assets/favicon.svg").body(Body::empty()).unwrap();
    let (s, h, svg) = app.raw(icon).await;
    assert_eq!((s, h[header::CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, "image/svg+xml"));
    assert!(svg.starts_with("<svg"), "{svg}");
}

#[tokio::test]
async fn stylesheets_and_scripts_go_gzipped_and_revalidate_with_a_304() {
    let app = TestApp::new(Backend::Sqlite).await;
    for path in ["/assets/gigstream.css", "/assets/gigstream.js", "/assets/messages.js"] {
        let body = platform_testkit::static_files::assert_compressed_and_revalidated(app.router.clone(), path).await;
        assert!(!body.is_empty(), "{path}");
    }
}
