//! Privilege-envelope policy (SPEC.md §1.8, §2 step 13) as an injected trait.
//! [`crate::Registry`] implements the reference stub; a hall may supply its own policy.

use crate::model::{DataLabel, Env};

/// Outcome of a privilege check; `reason` is reported in `DENY_PRIVILEGE_ENVELOPE_VIOLATED`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivilegeVerdict {
    pub allowed: bool,
    pub reason: String,
}

/// The envelope lookup or the policy failed; the router denies with `DENY_INTERNAL_ERROR`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("privilege check failed: {0}")]
pub struct PrivilegeError(pub String);

impl PrivilegeError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Looks up the selected species' envelope and judges it for the request's env and label.
pub trait PrivilegePolicy: Send + Sync {
    fn check(
        &self,
        species: &str,
        env: Env,
        data_label: DataLabel,
    ) -> Result<PrivilegeVerdict, PrivilegeError>;
}
