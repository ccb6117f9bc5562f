//! In-process router tests, each on its own fresh database, on every store
//! under test.

mod agencies;
mod api;
mod backoffice;
mod bearer_cache;
mod browser;
mod browser_a11y;
mod browser_agency;
mod browser_backoffice;
mod browser_gifts;
mod browser_pages;
mod browser_salary;
mod browser_status;
mod browser_vip;
#[path = "../../../voice/tests/support/browser.rs"]
mod chrome;
mod clock;
mod coin_requests;
mod decor;
mod docs;
mod economy;
mod exchanges;
mod live_boards;
mod media;
mod pages;
mod salary;
mod signin;
mod socket;
mod status;
mod support;
mod vip;
mod voice;
