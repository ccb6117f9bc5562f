//! GigStream's router, in process, each test on its own fresh database on
//! every store under test.

mod admin;
mod backoffice;
mod browser;
mod browser_flow;
mod dashboards;
mod flow;
mod google;
mod invoices;
mod messaging;
mod money;
mod notifications;
mod reconcile;
mod security;
mod support;
mod uploads;
mod videos;
