//! Latency histograms (microseconds) and the report line.

use hdrhistogram::Histogram;
use serde_json::{json, Value};

pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("histogram")
}

/// Records a latency in microseconds (clamped to the histogram's range).
pub fn record(h: &mut Histogram<u64>, micros: i64) {
    let _ = h.record(micros.clamp(1, 600_000_000) as u64);
}

/// One line of the report, printed and returned as JSON (milliseconds).
pub fn report(name: &str, h: &Histogram<u64>) -> Value {
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{name:<44} n={:>8}  p50 {:>8.2} ms  p95 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms",
        h.len(),
        ms(0.5),
        ms(0.95),
        ms(0.99),
        h.max() as f64 / 1000.0
    );
    json!({"name": name, "count": h.len(), "p50_ms": ms(0.5), "p95_ms": ms(0.95), "p99_ms": ms(0.99), "max_ms": h.max() as f64 / 1000.0})
}
