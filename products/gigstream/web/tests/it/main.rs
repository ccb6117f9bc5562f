//! GigStream's router, in process, each test on its own fresh database on
//! every store under test.

mod admin;
mod flow;
mod money;
mod support;
