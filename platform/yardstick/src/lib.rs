//! The machine's yardsticks, measured by a benchmark in the same run as
//! its load, so its figures can be read against what the machine did that
//! day:
//!
//! - [`pgbench`]: PostgreSQL's own `pgbench` (the built-in TPC-B-like
//!   script) on the same server — a rate stated as a ratio of it means the
//!   same on a faster or slower database host.
//! - [`cpu`]: a fixed unit of CPU work (JSON written and read back) on one
//!   thread — the speed of one core for the kind of work a server does.
//!   The host under this machine is shared: the same build has cost twice
//!   the CPU per request on one night as on another.

pub mod cpu;
pub mod pgbench;

/// What a yardstick's failure says.
pub type Fail = Box<dyn std::error::Error + Send + Sync>;
