//! The running Proctor hall: what `proctor serve` runs headless and the desktop app embeds.
//!
//! - [`config`]: the data dir (`config.toml`, API token, registry dir, rules file, ledger),
//!   created on first start.
//! - [`live`] + [`watch`]: the worker registry and rules, loaded from disk, hot-reloaded
//!   (debounced) and swapped atomically; bad files are rejected and the last good version stays.
//! - [`health`]: worker health from heartbeats (healthy / degraded / stale / offline).
//! - [`Hall`]: the one entry point. [`Hall::route`] parses, decides (crate `wcp`), records
//!   durably (crate `ledger`, group commit), publishes an event and returns the decision with
//!   its [`EvidenceReceipt`]. If the ledger cannot record, it fails closed.
//! - [`events`]: the bounded broadcast bus; [`alerts`]: alert kinds and the deny-rate detector.
//! - `route_attest`: signed packages enforced at route time (trust store, alerts, verdicts).
//! - [`mcp`]: the MCP gateway: downstream servers, `tools/call` as WCP decisions, approvals.
//! - [`api`] + [`server`]: the loopback HTTP API (docs/API.md) with SSE and the web UI.
//! - [`fleet_view`]: the same UI and read-only API over the fleet's central PostgreSQL.

pub mod alerts;
pub mod anchor;
pub mod api;
mod attest_ops;
pub mod config;
pub mod enroll_hash;
pub mod error;
pub mod events;
pub mod fleet;
pub mod fleet_view;
mod hall;
pub mod health;
pub mod live;
pub mod lock;
pub mod mcp;
pub mod metrics;
pub mod otel;
pub mod permissions;
pub mod queries;
mod receipt;
mod record;
mod route_attest;
pub mod server;
pub mod sign_in;
pub mod tls;
mod unwritable;
mod watch;

pub use config::Config;
pub use error::HallError;
pub use hall::{serialize_decision, Enrolled, Hall, WorkerView, MAX_INPUT_ID_LEN};
pub use queries::DecisionQuery;
pub use receipt::{
    answer, EvidenceReceipt, ReceiptSignature, Routed, SignedBatch, Withheld, RECEIPT_FORMAT,
    RECEIPT_FORMAT_V1,
};
pub use record::decision_record;
