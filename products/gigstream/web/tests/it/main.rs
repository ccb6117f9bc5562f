//! GigStream's router, in process, each test on its own fresh database on
//! every store under test.

mod admin;
mod admin_pages;
mod backoffice;
mod browser;
mod browser_a11y;
mod browser_flow;
mod browser_presence;
mod dashboards;
mod errors;
mod flow;
mod google;
mod invoices;
mod messaging;
mod money;
mod notifications;
mod page_quality;
mod presence;
mod reconcile;
mod reminders;
mod security;
mod support;
mod uploads;
mod videos;
