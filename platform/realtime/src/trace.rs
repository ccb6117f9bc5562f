//! The delivery trace: with `REALTIME_TRACE=1`, one stderr line per step
//! of an outbox row's way to the sockets (`rtrace PID STEP …`, times in
//! microseconds since the Unix epoch), to split a delivery's time between
//! the commit, the wake-up, the outbox read, the hub and the socket write.
//! Off, each step costs one load of a cached flag.

use std::sync::LazyLock;

static ON: LazyLock<bool> = LazyLock::new(|| std::env::var("REALTIME_TRACE").is_ok_and(|v| v == "1"));

/// Whether the trace is on (read from the environment once).
pub fn on() -> bool {
    *ON
}

/// Microseconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// Writes one step (only when [`on`]).
pub fn step(step: &str, fields: std::fmt::Arguments<'_>) {
    if on() {
        eprintln!("rtrace {} {step} {fields}", std::process::id());
    }
}
