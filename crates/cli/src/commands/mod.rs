//! One module per top-level subcommand.

pub mod conformance;
pub mod route;
pub mod rules;
pub mod workers;
