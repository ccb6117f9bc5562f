//! The machine's stolen time: on a virtual machine the host can run other
//! guests on our CPUs, and every process here (nodes, PostgreSQL, the bench)
//! stops while it does. The chat phase samples `/proc/stat` once a second so
//! its delivery tail can be read against it.

use crate::stats::Row;
use std::collections::BTreeMap;

/// Per-second stolen share of the CPUs, keyed by whole seconds since the
/// sampler started.
#[derive(Default)]
pub struct Steal(std::sync::Mutex<BTreeMap<i64, f64>>);

impl Steal {
    /// Samples every second until `stop`; `start_micros` is the phase's
    /// start on the same clock as the deliveries' times.
    pub async fn sample(self: std::sync::Arc<Self>, start_micros: i64, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) {
        let Some(mut last) = platform_procstat::steal_ticks() else { return };
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.tick().await;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            tick.tick().await;
            let Some(now) = platform_procstat::steal_ticks() else { return };
            let total = now.1.saturating_sub(last.1);
            if total > 0 {
                let share = now.0.saturating_sub(last.0) as f64 / total as f64;
                // The second that just ended.
                let second = (crate::api::now_micros() - start_micros) / 1_000_000 - 1;
                if let Ok(mut m) = self.0.lock() {
                    m.insert(second, share);
                }
            }
            last = now;
        }
    }

    /// The share stolen in the second `at_micros` (since the phase's start)
    /// fell in, if sampled.
    pub fn at(&self, at_micros: i64) -> Option<f64> {
        self.0.lock().ok()?.get(&(at_micros / 1_000_000)).copied()
    }

    /// Mean stolen share over the sampled seconds.
    pub fn mean(&self) -> Option<f64> {
        let m = self.0.lock().ok()?;
        (!m.is_empty()).then(|| m.values().sum::<f64>() / m.len() as f64)
    }
}

/// Which band a second's stolen share is in, for the report.
pub fn band(share: f64) -> &'static str {
    match share {
        s if s < 0.10 => "< 10 %",
        s if s < 0.20 => "10–20 %",
        _ => "≥ 20 %",
    }
}

/// Delivery percentiles by stolen-time band: `samples` are (kind, micros
/// since the phase's start, delivery micros).
pub fn by_band(steal: &Steal, samples: &[(&'static str, i64, i64)], kinds: &[(&str, &str)]) -> Vec<Row> {
    let mut rows = vec![];
    for (kind, name) in kinds {
        for b in ["< 10 %", "10–20 %", "≥ 20 %"] {
            let lat = crate::stats::Latency::default();
            let mut seconds = std::collections::BTreeSet::new();
            for (k, at, took) in samples {
                if k == kind {
                    if let Some(s) = steal.at(*at) {
                        if band(s) == b {
                            lat.record_micros(*took);
                            seconds.insert(at / 1_000_000);
                        }
                    }
                }
            }
            rows.push(lat.summary(&format!("{name}, seconds with {b} stolen"), seconds.len() as f64));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_split_at_ten_and_twenty_percent() {
        assert_eq!(band(0.0), "< 10 %");
        assert_eq!(band(0.099), "< 10 %");
        assert_eq!(band(0.10), "10–20 %");
        assert_eq!(band(0.25), "≥ 20 %");
    }

    #[test]
    fn deliveries_fall_in_the_band_of_their_second() {
        let steal = Steal::default();
        steal.0.lock().unwrap().extend([(0, 0.05), (1, 0.30)]);
        let samples = vec![("u2o", 500_000, 4_000), ("u2o", 1_500_000, 40_000), ("u2o", 9_000_000, 1_000)];
        let rows = by_band(&steal, &samples, &[("u2o", "u → o")]);
        assert_eq!(rows.iter().map(|r| r.count).collect::<Vec<_>>(), vec![1, 0, 1]);
        assert!(rows[2].p99_ms > 39.0 && rows[0].p99_ms < 5.0);
    }
}
