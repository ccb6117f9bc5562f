//! In-process router tests, each on its own fresh database, on every store
//! under test.

mod api;
mod browser;
#[path = "../../../voice/tests/support/browser.rs"]
mod chrome;
mod economy;
mod pages;
mod socket;
mod support;
mod voice;
