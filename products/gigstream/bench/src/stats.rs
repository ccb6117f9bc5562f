//! Latencies in an HDR histogram (microseconds, 3 significant digits), and
//! their summary as a printed line and JSON (milliseconds).

use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::time::Duration;

pub struct Latencies {
    name: &'static str,
    h: Histogram<u64>,
}

impl Latencies {
    pub fn new(name: &'static str) -> Latencies {
        Latencies { name, h: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("histogram bounds") }
    }

    pub fn record(&mut self, d: Duration) {
        self.h.saturating_record(d.as_micros().clamp(1, 3_600_000_000) as u64);
    }

    pub fn add(&mut self, other: &Latencies) {
        self.h.add(&other.h).expect("same bounds");
    }

    pub fn count(&self) -> u64 {
        self.h.len()
    }

    pub fn p99_ms(&self) -> f64 {
        self.at(0.99)
    }

    fn at(&self, q: f64) -> f64 {
        self.h.value_at_quantile(q) as f64 / 1000.0
    }

    /// Prints one line and returns the same figures.
    pub fn summary(&self) -> Value {
        let max = self.h.max() as f64 / 1000.0;
        println!(
            "  {:<34} n={:>7}  p50 {:>8.2} ms  p90 {:>8.2} ms  p99 {:>8.2} ms  p99.9 {:>8.2} ms  max {:>8.2} ms",
            self.name,
            self.count(),
            self.at(0.5),
            self.at(0.9),
            self.at(0.99),
            self.at(0.999),
            max
        );
        json!({ "name": self.name, "count": self.count(), "p50_ms": self.at(0.5), "p90_ms": self.at(0.9),
                "p99_ms": self.at(0.99), "p999_ms": self.at(0.999), "max_ms": max })
    }
}
