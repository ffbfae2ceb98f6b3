//! Route-time worker attestation sources (SPEC.md §2 step 12, §3.6) as an injected trait.
//! The real implementation (package hashing) lives in the `attest` crate; [`MapHashes`] is the
//! in-memory double used by tests and conformance scenarios.

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
