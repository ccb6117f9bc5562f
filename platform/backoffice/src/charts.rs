//! Small server-side SVG charts: one series of daily values as bars. Only
//! numbers and dates go into the markup, so it is safe to embed as is.

/// A bar chart of `values` labelled by `labels` (first and last shown).
pub fn bars(title: &str, labels: &[String], values: &[f64]) -> String {
    const W: f64 = 640.0;
    const H: f64 = 160.0;
    const PAD: f64 = 24.0;
    let max = values.iter().cloned().fold(0.0_f64, f64::max);
    let n = values.len().max(1) as f64;
    let slot = (W - 2.0 * PAD) / n;
    let bar = (slot * 0.8).max(1.0);
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(title)
    );
    out.push_str(&format!("<line x1=\"{PAD}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"#ccc\"/>", y = H - PAD, x2 = W - PAD));
    for (i, v) in values.iter().enumerate() {
        let h = if max > 0.0 { (H - 2.0 * PAD) * v / max } else { 0.0 };
        let x = PAD + i as f64 * slot + (slot - bar) / 2.0;
        let label = labels.get(i).map(|l| escape(l)).unwrap_or_default();
        out.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" fill=\"#E91E63\"><title>{label}: {}</title></rect>",
            H - PAD - h,
            fmt(*v)
        ));
    }
    out.push_str(&format!("<text x=\"{PAD}\" y=\"14\" font-size=\"11\" fill=\"#666\">max {}</text>", fmt(max)));
    if let (Some(first), Some(last)) = (labels.first(), labels.last()) {
        out.push_str(&format!("<text x=\"{PAD}\" y=\"{}\" font-size=\"11\" fill=\"#666\">{}</text>", H - 6.0, escape(first)));
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#666\" text-anchor=\"end\">{}</text>",
            W - PAD,
            H - 6.0,
            escape(last)
        ));
    }
    out.push_str("</svg>");
    out
}

fn fmt(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn bars_scale_to_the_largest_value_and_escape_labels() {
        let svg = super::bars("Users <b>", &["2026-01-01".into(), "2026-01-02".into()], &[1.0, 2.0]);
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("height=\"112.0\""), "{svg}");
        assert!(svg.contains("Users &lt;b&gt;"));
    }
}
