//! Latency histograms and the report.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::sync::Mutex;
use std::time::Duration;

/// A latency histogram in microseconds, shared by many tasks.
pub struct Latency(Mutex<Histogram<u64>>);

impl Default for Latency {
    fn default() -> Self {
        Latency(Mutex::new(Histogram::new_with_bounds(1, 120_000_000, 3).expect("histogram")))
    }
}

impl Latency {
    pub fn record(&self, d: Duration) {
        self.record_micros(d.as_micros() as i64);
    }
    pub fn record_micros(&self, us: i64) {
        let us = us.clamp(1, 120_000_000) as u64;
        let _ = self.0.lock().expect("histogram").record(us);
    }
    /// The mean of what was recorded, in microseconds.
    pub fn mean_micros(&self) -> f64 {
        self.0.lock().expect("histogram").mean()
    }
    pub fn summary(&self, name: &str, seconds: f64) -> Row {
        let h = self.0.lock().expect("histogram");
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        Row {
            name: name.to_string(),
            count: h.len(),
            per_second: if seconds > 0.0 { h.len() as f64 / seconds } else { 0.0 },
            p50_ms: ms(0.50),
            p95_ms: ms(0.95),
            p99_ms: ms(0.99),
            max_ms: h.max() as f64 / 1000.0,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub name: String,
    pub count: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

pub fn print_table(rows: &[Row]) {
    println!("{:<34} {:>9} {:>10} {:>9} {:>9} {:>9} {:>9}", "measure", "count", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms");
    for r in rows {
        println!(
            "{:<34} {:>9} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            r.name, r.count, r.per_second, r.p50_ms, r.p95_ms, r.p99_ms, r.max_ms
        );
    }
}
