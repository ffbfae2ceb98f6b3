//! One module per top-level subcommand.

mod anchor;
pub mod approvals;
pub mod attest;
pub mod client;
pub mod common;
pub mod conformance;
pub mod decisions;
pub mod enroll;
pub mod fleet;
pub mod hall_key;
pub mod heartbeat;
pub mod keys;
pub mod ledger_reset;
pub mod mcp;
mod mcp_bridge;
mod mcp_direct;
pub mod mcp_import;
pub mod receipt;
pub mod route;
mod route_lines;
mod route_sink;
pub mod rules;
pub mod serve;
pub mod trace;
pub mod verify_log;
pub mod workers;
pub mod workers_check;
