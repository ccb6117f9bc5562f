//! Small server-side SVG charts: one series of values as bars, plain
//! ([`bars`]) or named for screen readers ([`described_bars`]). Only
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

/// A bar chart for people and screen readers alike.
pub struct Described<'a> {
    /// Unique on the page: the chart's `<title>` and `<desc>` ids start with it.
    pub id: &'a str,
    pub title: &'a str,
    /// A sentence saying what the chart shows and its highest value.
    pub desc: &'a str,
    pub labels: &'a [String],
    pub values: &'a [f64],
    /// Each value as the page writes it ("$12.50"), for the bars' tooltips.
    pub texts: &'a [String],
}

/// `chart` as bars in `currentColor`, named by its `<title>` and `<desc>`
/// (`aria-labelledby`); the first, middle and last labels are written under
/// the bars. The page should also give the numbers as a table.
pub fn described_bars(chart: &Described) -> String {
    const W: f64 = 640.0;
    const H: f64 = 180.0;
    const PAD: f64 = 28.0;
    let values = chart.values;
    let max = values.iter().cloned().fold(0.0_f64, f64::max);
    let n = values.len().max(1) as f64;
    let slot = (W - 2.0 * PAD) / n;
    let bar = (slot * 0.75).max(1.0);
    let id = escape(chart.id);
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        escape(chart.title),
        escape(chart.desc)
    );
    out.push_str(&format!("<line x1=\"{PAD}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"#999\"/>", y = H - PAD, x2 = W - PAD));
    for (i, v) in values.iter().enumerate() {
        let h = if max > 0.0 { (H - 2.0 * PAD) * v / max } else { 0.0 };
        let x = PAD + i as f64 * slot + (slot - bar) / 2.0;
        let label = chart.labels.get(i).map(|l| escape(l)).unwrap_or_default();
        let text = chart.texts.get(i).map(|t| escape(t)).unwrap_or_else(|| fmt(*v));
        out.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" fill=\"currentColor\"><title>{label}: {text}</title></rect>",
            H - PAD - h
        ));
    }
    let top = values.iter().position(|v| *v == max && max > 0.0).and_then(|i| chart.texts.get(i)).map(|t| escape(t));
    if let Some(top) = top {
        out.push_str(&format!("<text x=\"{PAD}\" y=\"16\" font-size=\"13\" fill=\"#444\">highest {top}</text>"));
    }
    let count = chart.labels.len();
    let marks: Vec<(usize, &str)> = match count {
        0 => vec![],
        1 => vec![(0, "start")],
        _ => vec![(0, "start"), (count / 2, "middle"), (count - 1, "end")],
    };
    for (i, anchor) in marks {
        let x = match anchor {
            "start" => PAD,
            "end" => W - PAD,
            _ => PAD + (i as f64 + 0.5) * slot,
        };
        out.push_str(&format!(
            "<text x=\"{x:.1}\" y=\"{}\" font-size=\"13\" fill=\"#444\" text-anchor=\"{anchor}\">{}</text>",
            H - 8.0,
            escape(&chart.labels[i])
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

    #[test]
    fn described_bars_name_themselves_and_each_bar() {
        let labels: Vec<String> = ["2026-09", "2026-10", "2026-11"].map(String::from).into();
        let texts: Vec<String> = ["$0.00", "$10.00", "$5.00"].map(String::from).into();
        let svg = super::described_bars(&super::Described {
            id: "month",
            title: "Earnings <per month>",
            desc: "Three months; highest $10.00 in 2026-10.",
            labels: &labels,
            values: &[0.0, 10.0, 5.0],
            texts: &texts,
        });
        assert!(svg.contains("aria-labelledby=\"month-title month-desc\""), "{svg}");
        assert!(svg.contains("<title id=\"month-title\">Earnings &lt;per month&gt;</title>"), "{svg}");
        assert!(svg.contains("<desc id=\"month-desc\">Three months; highest $10.00 in 2026-10.</desc>"));
        assert_eq!(svg.matches("<rect").count(), 3);
        // The largest value fills the plot's height (180 - 2 × 28), half of it half.
        assert!(svg.contains("height=\"124.0\" fill=\"currentColor\"><title>2026-10: $10.00</title>"), "{svg}");
        assert!(svg.contains("height=\"62.0\" fill=\"currentColor\"><title>2026-11: $5.00</title>"), "{svg}");
        assert!(svg.contains("highest $10.00"));
        for l in &labels {
            assert!(svg.contains(&format!(">{l}</text>")), "{l} written under the bars");
        }
        let empty = super::described_bars(&super::Described { id: "e", title: "t", desc: "d", labels: &[], values: &[], texts: &[] });
        assert!(!empty.contains("<rect") && !empty.contains("highest"));
    }
}
