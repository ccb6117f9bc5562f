//! GigStream's router, in process, each test on its own fresh database on
//! every store under test.

mod admin;
mod browser;
mod dashboards;
mod flow;
mod messaging;
mod money;
mod support;
mod uploads;
mod videos;
