//! Property tests: the pure rules hold for every input, not just the
//! examples in the unit tests, and never panic on hostile values.

mod operations;
mod pricing;
mod validation;
