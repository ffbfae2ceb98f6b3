//! The outcome of verifying a package: valid, or the first failed check with a code
//! (the reference's `ATTEST_*` codes plus Proctor's), a sentence saying what is wrong and
//! what to do, and machine-readable details. Serializes to JSON for the hall API and UI.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// Why a package failed verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerdictCode {
    /// Reference: `manifest.json` absent or not JSON.
    #[serde(rename = "ATTEST_MANIFEST_MISSING")]
    ManifestMissing,
    /// Proctor: the manifest is JSON but not an `awp.v1` object.
    #[serde(rename = "ATTEST_MANIFEST_INVALID")]
    ManifestInvalid,
    /// Reference: worker id or species differs from the expected ones.
    #[serde(rename = "ATTEST_MANIFEST_ID_MISMATCH")]
    ManifestIdMismatch,
    /// Proctor: the worker id is not under `org.<name>.` / `x.<name>.` (the reference raises).
    #[serde(rename = "ATTEST_NAMESPACE_INVALID")]
    NamespaceInvalid,
    /// Proctor: the package cannot be hashed safely (symlink escape, FIFO, changing file ...).
    #[serde(rename = "ATTEST_PACKAGE_UNREADABLE")]
    PackageUnreadable,
    /// Reference: the files are not the ones that were signed.
    #[serde(rename = "ATTEST_HASH_MISMATCH")]
    HashMismatch,
    /// Proctor: this exact package hash is revoked.
    #[serde(rename = "ATTEST_PACKAGE_REVOKED")]
    PackageRevoked,
    /// Reference: no signature, or (HMAC) no secret to check it with.
    #[serde(rename = "ATTEST_SIGNATURE_MISSING")]
    SignatureMissing,
    /// Proctor: `manifest.sig` names a namespace other than the worker's.
    #[serde(rename = "ATTEST_NAMESPACE_MISMATCH")]
    NamespaceMismatch,
    /// Proctor: the signing key is revoked.
    #[serde(rename = "ATTEST_KEY_REVOKED")]
    KeyRevoked,
    /// Proctor: no key at all is trusted for the worker's namespace.
    #[serde(rename = "ATTEST_NAMESPACE_UNTRUSTED")]
    NamespaceUntrusted,
    /// Proctor: the namespace has trusted keys, but not the one that signed.
    #[serde(rename = "ATTEST_KEY_UNTRUSTED")]
    KeyUntrusted,
    /// Reference: the signature does not match the manifest.
    #[serde(rename = "ATTEST_SIG_INVALID")]
    SigInvalid,
}

impl VerdictCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ManifestMissing => "ATTEST_MANIFEST_MISSING",
            Self::ManifestInvalid => "ATTEST_MANIFEST_INVALID",
            Self::ManifestIdMismatch => "ATTEST_MANIFEST_ID_MISMATCH",
            Self::NamespaceInvalid => "ATTEST_NAMESPACE_INVALID",
            Self::PackageUnreadable => "ATTEST_PACKAGE_UNREADABLE",
            Self::HashMismatch => "ATTEST_HASH_MISMATCH",
            Self::PackageRevoked => "ATTEST_PACKAGE_REVOKED",
            Self::SignatureMissing => "ATTEST_SIGNATURE_MISSING",
            Self::NamespaceMismatch => "ATTEST_NAMESPACE_MISMATCH",
            Self::KeyRevoked => "ATTEST_KEY_REVOKED",
            Self::NamespaceUntrusted => "ATTEST_NAMESPACE_UNTRUSTED",
            Self::KeyUntrusted => "ATTEST_KEY_UNTRUSTED",
            Self::SigInvalid => "ATTEST_SIG_INVALID",
        }
    }

    /// What the operator should do about it.
    pub fn advice(self) -> &'static str {
        match self {
            Self::ManifestMissing => "Sign the package with `proctor attest sign` before enrolling it.",
            Self::ManifestInvalid => "Re-sign the package with `proctor attest sign` to write an awp.v1 manifest.",
            Self::ManifestIdMismatch => "Check that this is the right package, or re-sign it for this worker.",
            Self::NamespaceInvalid => "Re-sign the package with a worker id under org.<name>. or x.<name>.",
            Self::PackageUnreadable => "Fix or remove the entry named above, then verify again.",
            Self::HashMismatch => {
                "Files were changed, added or removed after signing: restore the signed package, or review the change and re-sign."
            }
            Self::PackageRevoked => "Do not run this package; ship a new version and sign it.",
            Self::SignatureMissing => {
                "Sign the package with `proctor attest sign`, or pass the shared secret to check a reference HMAC manifest."
            }
            Self::NamespaceMismatch => "A namespace may only sign its own workers: re-sign with the worker's namespace key.",
            Self::KeyRevoked => "Ask the publisher to re-sign the package with a current key.",
            Self::NamespaceUntrusted => {
                "If you trust this publisher, import their public key with `proctor keys import`, then verify again."
            }
            Self::KeyUntrusted => {
                "If this is a legitimate new key of the publisher, import it with `proctor keys import`; otherwise reject the package."
            }
            Self::SigInvalid => {
                "The manifest was edited after signing, or the signature belongs to another package: re-sign the package."
            }
        }
    }
}

impl fmt::Display for VerdictCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of a verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub valid: bool,
    /// `None` exactly when `valid`.
    pub code: Option<VerdictCode>,
    /// A sentence for people: what is wrong and what to do (or what was verified).
    pub message: String,
    /// Machine-readable facts (the reference's `meta`, plus signer details).
    pub details: Map<String, Value>,
}

impl Verdict {
    pub fn valid(message: String, details: Map<String, Value>) -> Self {
        Self {
            valid: true,
            code: None,
            message,
            details,
        }
    }

    /// A failed verdict; `what` says what is wrong, the code's advice is appended.
    pub fn fail(code: VerdictCode, what: impl Into<String>, details: Map<String, Value>) -> Self {
        Self {
            valid: false,
            code: Some(code),
            message: format!("{} {}", what.into(), code.advice()),
            details,
        }
    }
}
