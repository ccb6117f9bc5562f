//! Gig descriptions are rich text a seller writes in HTML; what is stored
//! and shown is that HTML cleaned by `ammonia` to a small allow-list of
//! formatting tags. No script, event handler, style or `javascript:` URL
//! survives; links open safely.

use std::collections::HashSet;

/// The longest description, in bytes of the cleaned HTML.
pub const MAX_BYTES: usize = 20_000;

/// `html` with everything but simple formatting removed.
pub fn sanitize(html: &str) -> String {
    let tags: HashSet<&str> =
        ["p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li", "h3", "h4", "blockquote", "a", "code", "pre"].into_iter().collect();
    ammonia::Builder::default()
        .tags(tags)
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("nofollow noopener noreferrer"))
        .clean(html)
        .to_string()
}

/// The words of cleaned HTML as plain text (for search and previews).
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = out.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Classic XSS vectors: after cleaning, nothing executable is left.
    #[test]
    fn no_script_survives() {
        let vectors = [
            "<script>alert(1)</script>",
            "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
            "<img src=x onerror=alert(1)>",
            "<svg/onload=alert(1)>",
            "<a href=\"javascript:alert(1)\">click</a>",
            "<a href=\"JaVaScRiPt:alert(1)\">click</a>",
            "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<p style=\"background:url(javascript:alert(1))\">x</p>",
            "<body onload=alert(1)>",
            "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
            "<<script>script>alert(1)<</script>/script>",
            "<div><p onclick=\"alert(1)\">hi</p></div>",
            "<object data=\"data:text/html,<script>alert(1)</script>\"></object>",
            "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
            "<form action=\"https://evil.example\"><input name=x></form>",
            "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
            "<details open ontoggle=alert(1)>",
            "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
        ];
        for v in vectors {
            let clean = sanitize(v).to_lowercase();
            for bad in [
                "<script",
                "onerror",
                "onload",
                "onclick",
                "ontoggle",
                "javascript:",
                "<iframe",
                "<svg",
                "<object",
                "style=",
                "<form",
                "<meta",
                "data:",
            ] {
                assert!(!clean.contains(bad), "{v:?} left {bad:?} in {clean:?}");
            }
        }
    }

    #[test]
    fn formatting_and_safe_links_stay() {
        let clean = sanitize(
            "<h3>What you get</h3><p><b>Bold</b> and <em>soft</em></p><ul><li>One</li></ul><a href=\"https://ok.example\">site</a>",
        );
        assert!(clean.contains("<h3>What you get</h3>"));
        assert!(clean.contains("<b>Bold</b>"));
        assert!(clean.contains("<li>One</li>"));
        assert!(clean.contains("href=\"https://ok.example\""));
        assert!(clean.contains("rel=\"nofollow noopener noreferrer\""));
    }

    #[test]
    fn plain_text_keeps_the_words() {
        assert_eq!(plain_text("<p>Logo &amp; brand</p><ul><li>three concepts</li></ul>"), "Logo & brand three concepts");
    }
}
