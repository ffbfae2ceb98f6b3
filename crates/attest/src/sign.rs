//! Signing a package in one step (hash, manifest, Ed25519 signature, files written), shared
//! by the CLI, the hall API and the desktop so none of them re-implements the sequence.

use crate::error::{AttestError, Result};
use crate::hash::{file_records, records_hash, HashOptions, ProgressFn};
use crate::keys::NamespaceKey;
use crate::manifest::{BuildSource, Manifest, NewManifest};
use crate::namespace::Namespace;
use crate::signature::{ManifestSignature, MAX_LISTED_FILES};
use crate::walk::list_package;
use chrono::{DateTime, Utc};
use std::path::Path;

/// What to state in the manifest, and how to hash.
pub struct SignRequest<'a> {
    pub worker_id: &'a str,
    pub worker_species_id: &'a str,
    pub worker_version: &'a str,
    pub build_source: BuildSource,
    /// Also add the reference's HMAC field (for verifiers that only know HMAC).
    pub hmac_secret: Option<&'a [u8]>,
    pub hash: HashOptions<'a>,
    pub progress: Option<ProgressFn<'a>>,
    /// `built_at_utc` / `attested_at_utc` (a parameter so tests are deterministic).
    pub now: DateTime<Utc>,
}

/// What was written into the package.
#[derive(Debug, Clone)]
pub struct SignedPackage {
    pub package_hash: String,
    pub manifest: Manifest,
    pub signature: ManifestSignature,
}

/// Hashes the package in `dir`, writes `manifest.json` and `manifest.sig` signed by `key`.
///
/// Fails before hashing (and writes nothing) when the worker id is not in the key's namespace
/// or a manifest field is invalid.
pub fn sign_package(
    dir: &Path,
    key: &NamespaceKey,
    request: &SignRequest<'_>,
) -> Result<SignedPackage> {
    let namespace = Namespace::of_worker(request.worker_id)?;
    if &namespace != key.namespace() {
        return Err(AttestError::InvalidWorkerId {
            worker_id: request.worker_id.to_owned(),
            reason: format!(
                "it lives in namespace {namespace}, not in {} (the signing key's)",
                key.namespace()
            ),
        });
    }
    // Validate every field with a placeholder hash first: a typo must not cost a long hash.
    Manifest::build(&fields(request, EMPTY_PACKAGE_HASH))?;
    let records = file_records(&list_package(dir)?, request.hash, request.progress)?;
    let package_hash = records_hash(&records);
    let mut manifest = Manifest::build(&fields(request, &package_hash))?;
    if let Some(secret) = request.hmac_secret {
        manifest.set_hmac_signature(secret);
    }
    let mut signature = ManifestSignature::sign(&manifest, key)?;
    signature.files = (records.len() <= MAX_LISTED_FILES).then_some(records);
    manifest.write_into(dir)?;
    signature.write_into(dir)?;
    tracing::info!(worker_id = request.worker_id, key_id = %key.key_id(), "signed package");
    Ok(SignedPackage {
        package_hash,
        manifest,
        signature,
    })
}

/// The hash of an empty package: a well-formed stand-in while validating fields.
const EMPTY_PACKAGE_HASH: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn fields<'a>(request: &SignRequest<'a>, package_hash: &'a str) -> NewManifest<'a> {
    NewManifest {
        worker_id: request.worker_id,
        worker_species_id: request.worker_species_id,
        worker_version: request.worker_version,
        package_hash,
        build_source: request.build_source,
        built_at: request.now,
    }
}
