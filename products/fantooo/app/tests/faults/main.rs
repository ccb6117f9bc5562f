//! Fault tests: real `fantooo serve` processes on loopback PostgreSQL,
//! killed or cut off from their database in the middle of paid-message
//! load, checked afterwards against the database and the invariants.
//!
//! They need PostgreSQL: without TEST_DATABASE_URL they skip with a
//! message, unless REQUIRE_PG=1 (CI), which makes that fatal.
//! Run just these: `cargo nextest run -p fantooo --test faults`.

mod client;
mod cluster;
mod load;
mod node;

mod database_restart;
mod node_killed;
