//! The `proctor` CLI's integration tests, one test binary (`cargo test -p proctor --test integration`),
//! one module per former `tests/<name>.rs` file: `cargo test -p proctor --test integration <name>::`
//! runs one of them. One binary links once, where one per file linked the crate and its
//! dependencies once per file (issue 19, "A faster CI").

mod attest_cli;
mod hall_cli;
mod hardening;
mod ledger_cli;
mod mcp_cli;
mod readme_workflow;
mod route_cli;
mod route_db;
mod sign_in_link;
// Shared with the `fleet_cli` test binary.
#[path = "../support/mod.rs"]
mod support;
mod tamper;
