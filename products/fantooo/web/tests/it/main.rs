//! Integration tests: one binary, the router called in-process, a fresh
//! database per test on SQLite and (when TEST_DATABASE_URL is set) PostgreSQL.

mod support;

mod accounts;
mod admin;
mod asserted;
mod audit_log;
mod backoffice;
mod browser;
mod browser_a11y;
mod browser_backoffice;
mod browser_chat;
mod browser_operator;
mod browser_payments;
mod browser_staff;
mod browser_user;
mod chat;
mod circumvention;
mod discover;
mod hostile;
mod hostile_sockets;
mod invariants;
mod location;
mod notices;
mod operations;
mod operator;
mod outage;
mod partitions;
mod payments;
mod profile_safety;
mod realtime;
mod recovery;
mod security;
mod send_path;
mod session_cache;
mod slow_socket;
mod staff;
