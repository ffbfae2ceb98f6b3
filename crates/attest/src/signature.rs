//! Proctor's Ed25519 manifest signature, stored beside the manifest as `manifest.sig`
//! (already excluded from the package hash, so adding it does not change the hash).
//!
//! ```json
//! {
//!   "algorithm": "ed25519",
//!   "key_id": "<16 hex digits>",
//!   "namespace": "org.example",
//!   "schema": "proctor.sig.v1",
//!   "signature": "<base64 of 64 bytes>"
//! }
//! ```
//! The signed message is [`DOMAIN`] followed by the manifest's signed bytes (the same seven
//! keys the reference HMAC covers, SPEC.md §3.3). The domain prefix keeps a signature over
//! a manifest from being valid for anything else signed with the same key.

use crate::error::{AttestError, Result};
use crate::hash::FileRecord;
use crate::keys::{NamespaceKey, ALGORITHM};
use crate::manifest::Manifest;
use crate::namespace::Namespace;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const SIG_FILE: &str = "manifest.sig";
pub const SIG_SCHEMA: &str = "proctor.sig.v1";
pub const DOMAIN: &[u8] = b"proctor/awp.v1/ed25519\n";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestSignature {
    pub schema: String,
    pub algorithm: String,
    pub namespace: Namespace,
    pub key_id: String,
    pub signature: String,
    /// The signed package's file records (at most [`MAX_LISTED_FILES`]). Not covered by the
    /// signature: they are believed only when they hash to the manifest's signed
    /// `package_hash`, and then tell which files a tampered package changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileRecord>>,
}

/// Beyond this many files the list is left out, so `manifest.sig` stays far below the 1 MiB
/// a verifier reads.
pub const MAX_LISTED_FILES: usize = 4096;

impl ManifestSignature {
    /// Signs `manifest` with `key`; the manifest's worker must live in the key's namespace.
    pub fn sign(manifest: &Manifest, key: &NamespaceKey) -> Result<Self> {
        let worker_id = manifest.field("worker_id").unwrap_or_default();
        let worker_namespace = Namespace::of_worker(worker_id)?;
        if &worker_namespace != key.namespace() {
            return Err(AttestError::InvalidWorkerId {
                worker_id: worker_id.to_owned(),
                reason: format!(
                    "it lives in namespace {worker_namespace}, not in {} (the signing key's)",
                    key.namespace()
                ),
            });
        }
        Ok(Self {
            schema: SIG_SCHEMA.into(),
            algorithm: ALGORITHM.into(),
            namespace: key.namespace().clone(),
            key_id: key.key_id(),
            signature: B64.encode(key.sign(&message(manifest)).to_bytes()),
            files: None,
        })
    }

    /// Parses `manifest.sig` bytes; the error says what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let sig: Self =
            serde_json::from_slice(bytes).map_err(|e| format!("manifest.sig is not valid: {e}"))?;
        if sig.schema != SIG_SCHEMA || sig.algorithm != ALGORITHM {
            return Err(format!(
                "manifest.sig has schema {:?} / algorithm {:?}, expected {SIG_SCHEMA:?} / {ALGORITHM:?}",
                sig.schema, sig.algorithm
            ));
        }
        Ok(sig)
    }

    /// Whether the signature is `key`'s over `manifest` (strict verification: rejects
    /// malleable and small-order encodings).
    pub fn verifies(&self, manifest: &Manifest, key: &VerifyingKey) -> bool {
        let Ok(bytes) = B64.decode(&self.signature) else {
            return false;
        };
        let Ok(signature) = Signature::from_slice(&bytes) else {
            return false;
        };
        key.verify_strict(&message(manifest), &signature).is_ok()
    }

    pub fn to_file_text(&self) -> String {
        serde_json::to_string_pretty(self).expect("a signature always serializes") + "\n"
    }

    pub fn write_into(&self, package_dir: &Path) -> Result<()> {
        let path = package_dir.join(SIG_FILE);
        crate::fsutil::write_atomic(&path, self.to_file_text().as_bytes(), None)
            .map_err(|e| AttestError::io(&path, e))
    }
}

fn message(manifest: &Manifest) -> Vec<u8> {
    [DOMAIN, &manifest.signed_bytes()].concat()
}
