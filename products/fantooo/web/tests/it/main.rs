//! Integration tests: one binary, the router called in-process, a fresh
//! database per test on SQLite and (when TEST_DATABASE_URL is set) PostgreSQL.

mod support;

mod accounts;
mod admin;
mod backoffice;
mod browser_backoffice;
mod browser;
mod browser_chat;
mod browser_operator;
mod chat;
mod hostile;
mod hostile_sockets;
mod invariants;
mod operations;
mod operator;
mod realtime;
mod discover;
mod outage;
mod slow_socket;
mod payments;
mod browser_payments;
mod security;
