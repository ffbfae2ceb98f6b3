//! The hall's integration tests, one test binary (`cargo test -p hall --test integration`),
//! one module per former `tests/<name>.rs` file: `cargo test -p hall --test integration <name>::`
//! runs one of them. One binary links once, where one per file linked the crate and its
//! dependencies once per file (issue 19, "A faster CI").
//!
//! Not here: `tests/attestation.rs` and `tests/openapi.rs` set process-wide environment
//! variables (`PROCTOR_CONFIG_DIR` through `common::setup_keys`, `HOME`), which would leak
//! into the tests of this binary running beside them; each keeps its own process.

// Shared with the standalone test files, benches and examples, so it stays at tests/common/.
#[path = "../common/mod.rs"]
mod common;

mod alert_states;
mod alerts_health;
mod anchor;
mod api_auth;
mod api_malformed;
mod decisions_explorer;
mod e2e;
mod hardening_fs;
mod hardening_http;
mod hot_reload;
mod incident_queries;
mod mcp_gateway;
mod metrics;
mod otel;
mod route_attestation;
mod sign_in;
mod startup;
mod ui_queries;
