//! Scheduled jobs for every product. A product lists its jobs as an enum
//! implementing [`Job`] and runs each with one function of the database and
//! the time; this crate runs them:
//!
//! - in-process on one elected leader ([`spawn_scheduler`]; the leader holds
//!   a PostgreSQL session advisory lock on a dedicated connection, and
//!   another node takes over within 15 s when it dies; SQLite runs one
//!   process, always the leader);
//! - from the command line, `<product> job <name>` ([`run_once`]), for
//!   external cron.
//!
//! Every run that did something is recorded in `job_runs` ([`runs`]); each
//! product's migrations create that table (`seq`, `job`, `node`,
//! `started_at`, `finished_at`, `counts` JSON, `error`).

pub mod leader;
pub mod runs;
mod scheduler;

pub use scheduler::{run_once, spawn_every, spawn_scheduler, Changed, Job, Runner};
