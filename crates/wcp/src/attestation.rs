//! Route-time worker attestation sources (SPEC.md §2 step 12, §3.6) as an injected trait.
//! The real implementation (package hashing) lives in the `attest` crate; [`MapHashes`] is the
//! in-memory double used by tests and conformance scenarios.

use crate::model::DenyCode;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// A hash source failed; the router treats it like a missing hash.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("worker hash lookup failed: {0}")]
pub struct HashError(pub String);

/// Registered (known-good) and current (live) code hash per worker species.
pub trait WorkerHashes: Send + Sync {
    /// Hash recorded at enrollment; `None` if the species has none.
    fn registered_hash(&self, species: &str) -> Result<Option<String>, HashError>;
    /// Hash of the worker's code right now; `None` if it cannot be obtained.
    fn current_hash(&self, species: &str) -> Result<Option<String>, HashError>;
    /// Proctor extension (docs/wcp.md, "Signed packages at route time"): a check of the
    /// species' signed package that step 12 applies whatever `require_worker_attestation`
    /// says. `None` means nothing to enforce for this species, the default, so a source that
    /// does not implement it keeps the reference's behaviour exactly.
    fn enforce_signed(&self, _species: &str) -> Option<Result<(), AttestationRefusal>> {
        None
    }
}

/// Why a species' package may not be routed to: a WCP deny code (step 12's) and the precise
/// reason, which the router puts in the deny reason as message and extra keys.
#[derive(Clone, Debug, PartialEq)]
pub struct AttestationRefusal {
    pub code: DenyCode,
    pub message: String,
    pub extra: Map<String, Value>,
}

/// Fixed maps of hashes. Values are returned as given (not validated), so tests can feed
/// malformed hashes to the router.
#[derive(Clone, Debug, Default)]
pub struct MapHashes {
    pub registered: HashMap<String, String>,
    pub current: HashMap<String, String>,
}

impl WorkerHashes for MapHashes {
    fn registered_hash(&self, species: &str) -> Result<Option<String>, HashError> {
        Ok(self.registered.get(species).cloned())
    }
    fn current_hash(&self, species: &str) -> Result<Option<String>, HashError> {
        Ok(self.current.get(species).cloned())
    }
}
