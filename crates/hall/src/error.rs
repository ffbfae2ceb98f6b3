//! The hall's error type. Each variant has a stable code (a WCP deny code where one exists) that the
//! HTTP API and the CLI show to callers.

use std::path::{Path, PathBuf};

/// The code of a decision withheld because the ledger could not record it (fail closed).
pub const LEDGER_UNAVAILABLE: &str = "DENY_LEDGER_UNAVAILABLE";

#[derive(Debug, thiserror::Error)]
pub enum HallError {
    #[error("configuration error: {0}")]
    Config(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The WCP parser rejected a RouteInput (SPEC.md §1.14): no decision is made.
    #[error("invalid route input: {0}")]
    InvalidRouteInput(String),
    #[error("invalid worker record: {0}")]
    InvalidRecord(String),
    /// Enrollment `artifact_hash` does not match the record (SPEC.md §4.1).
    #[error("artifact_hash mismatch: record was tampered")]
    EnrollTampered,
    /// The decision could not be made durable, so it is not returned (fail closed).
    #[error("ledger unavailable: {0}")]
    LedgerUnavailable(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid path: {0}")]
    InvalidPath(String),
    #[error("no signing key for namespace {0}")]
    NoNamespaceKey(String),
    #[error("attestation error: {0}")]
    Attest(String),
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    #[error("invalid settings: {0}")]
    InvalidSettings(String),
    /// The request is valid but the thing it acts on has moved on (an approval already decided).
    #[error("conflict: {0}")]
    Conflict(String),
}

impl HallError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        HallError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Stable machine-readable code (docs/API.md).
    pub fn code(&self) -> &'static str {
        match self {
            HallError::Config(_) => "CONFIG",
            HallError::Io { .. } => "IO",
            HallError::InvalidRouteInput(_) => "INVALID_ROUTE_INPUT",
            HallError::InvalidRecord(_) => "INVALID_RECORD",
            HallError::EnrollTampered => "DENY_WORKER_TAMPERED",
            HallError::LedgerUnavailable(_) => LEDGER_UNAVAILABLE,
            HallError::NotFound(_) => "NOT_FOUND",
            HallError::InvalidPath(_) => "INVALID_PATH",
            HallError::NoNamespaceKey(_) => "NO_NAMESPACE_KEY",
            HallError::Attest(_) => "ATTEST_ERROR",
            HallError::InvalidQuery(_) => "INVALID_QUERY",
            HallError::InvalidSettings(_) => "INVALID_BODY",
            HallError::Conflict(_) => "CONFLICT",
        }
    }
}
