//! One core's speed, as units of a fixed piece of work a second: a list of
//! 64 records written as JSON and read back into a tree, on the calling
//! thread. Allocation, copying, branching and formatting, as in a request's
//! handling; no I/O, no system calls, nothing that depends on the data.

use serde::Serialize;
use std::time::{Duration, Instant};

/// One measurement: units a second over `seconds`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cpu {
    pub unit: &'static str,
    pub seconds: f64,
    pub units_per_second: f64,
}

const UNIT: &str = "64 records to JSON and back";

#[derive(Serialize)]
struct Record {
    id: u64,
    name: String,
    coins: i64,
    tags: Vec<&'static str>,
}

/// Does one unit of work; returns a figure of its result so that the work
/// cannot be left out.
pub fn unit() -> usize {
    let records: Vec<Record> = (0..64u64)
        .map(|i| Record { id: i * 7919, name: format!("person {i}"), coins: (i as i64) * 1_000 - 31, tags: vec!["gift", "room", "seat"] })
        .collect();
    let text = serde_json::to_string(&records).unwrap_or_default();
    let back: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    text.len() + back.as_array().map_or(0, Vec::len)
}

/// Repeats [`unit`] on this thread for about `for_how_long` (blocking).
pub fn measure(for_how_long: Duration) -> Cpu {
    let start = Instant::now();
    let mut done = 0u64;
    let mut sink = 0usize;
    while start.elapsed() < for_how_long || done == 0 {
        for _ in 0..16 {
            sink = sink.wrapping_add(std::hint::black_box(unit()));
        }
        done += 16;
    }
    std::hint::black_box(sink);
    let seconds = start.elapsed().as_secs_f64();
    Cpu { unit: UNIT, seconds, units_per_second: done as f64 / seconds }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_writes_and_reads_back_every_record() {
        // 64 records read back, and text of a size that only all of them make.
        let n = unit();
        let text_len = n - 64;
        assert!(text_len > 64 * 50, "{text_len}");
        assert_eq!(unit(), n, "the same work every time");
    }

    #[test]
    fn a_measurement_counts_whole_units_over_its_time() {
        let c = measure(Duration::from_millis(30));
        assert!(c.seconds >= 0.03, "{c:?}");
        assert!(c.units_per_second > 0.0 && c.units_per_second.is_finite(), "{c:?}");
        assert_eq!(c.unit, UNIT);
    }
}
