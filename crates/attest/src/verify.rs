//! Package verification (SPEC.md §3.4, extended for Ed25519 namespaces). First failure wins:
//!
//! 1. `manifest.json` exists and is a JSON object → `ATTEST_MANIFEST_MISSING`
//! 2. `schema_version` is `awp.v1` → `ATTEST_MANIFEST_INVALID`
//! 3. worker id / species equal the expected ones (when given) → `ATTEST_MANIFEST_ID_MISMATCH`
//! 4. the worker id lives in an `org.`/`x.` namespace → `ATTEST_NAMESPACE_INVALID`
//! 5. the package can be hashed safely → `ATTEST_PACKAGE_UNREADABLE`
//! 6. `package_hash` equals the recomputed hash → `ATTEST_HASH_MISMATCH`
//! 7. the package hash is not revoked → `ATTEST_PACKAGE_REVOKED`
//! 8. signature: `manifest.sig` (Ed25519) if present, else the reference HMAC field with a
//!    caller-supplied secret → `ATTEST_SIGNATURE_MISSING`, then for Ed25519
//!    `ATTEST_NAMESPACE_MISMATCH`, `ATTEST_KEY_REVOKED`, `ATTEST_NAMESPACE_UNTRUSTED`,
//!    `ATTEST_KEY_UNTRUSTED`, and finally `ATTEST_SIG_INVALID`.

use crate::error::AttestError;
use crate::hash::{package_hash_with, HashOptions, ProgressFn};
use crate::manifest::{
    trust_statement, utc_seconds, Manifest, HMAC_FIELD, MANIFEST_FILE, SCHEMA_VERSION,
};
use crate::namespace::Namespace;
use crate::signature::{ManifestSignature, SIG_FILE};
use crate::trust::TrustStore;
use crate::verdict::{Verdict, VerdictCode};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::path::Path;

/// What a verification checks against.
pub struct VerifyOptions<'a> {
    /// When set, the manifest must be for this worker id / species.
    pub expected_worker_id: Option<&'a str>,
    pub expected_species: Option<&'a str>,
    pub trust: &'a TrustStore,
    /// The reference's shared HMAC secret, to accept reference-signed manifests.
    pub hmac_secret: Option<&'a [u8]>,
    pub hash: HashOptions<'a>,
    pub progress: Option<ProgressFn<'a>>,
    /// "Now", for `verified_at_utc` (a parameter so tests are deterministic).
    pub now: DateTime<Utc>,
}

impl<'a> VerifyOptions<'a> {
    /// Checks against `trust` only, with defaults for everything else.
    pub fn new(trust: &'a TrustStore) -> Self {
        Self {
            expected_worker_id: None,
            expected_species: None,
            trust,
            hmac_secret: None,
            hash: HashOptions::default(),
            progress: None,
            now: Utc::now(),
        }
    }
}

/// Verifies the package in `dir` (its `manifest.json` and `manifest.sig`).
pub fn verify_package(dir: &Path, options: &VerifyOptions<'_>) -> Verdict {
    let manifest_path = dir.join(MANIFEST_FILE);
    let manifest = match read_attestation_file(&manifest_path) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            let what = format!("{}: no manifest.", manifest_path.display());
            return Verdict::fail(VerdictCode::ManifestMissing, what, Map::new());
        }
        Err(e) => {
            let what = format!(
                "{}: cannot read the manifest ({e}).",
                manifest_path.display()
            );
            return Verdict::fail(
                VerdictCode::ManifestMissing,
                what,
                details([("error", json!(e.to_string()))]),
            );
        }
    };
    let signature = match read_attestation_file(&dir.join(SIG_FILE)) {
        Ok(signature) => signature,
        Err(e) => {
            let what = format!(
                "{}: cannot read the signature ({e}).",
                dir.join(SIG_FILE).display()
            );
            return Verdict::fail(
                VerdictCode::SigInvalid,
                what,
                details([("error", json!(e.to_string()))]),
            );
        }
    };
    let hash = || package_hash_with(dir, options.hash, options.progress).map(|d| d.hash);
    evaluate(&manifest, signature.as_deref(), hash, options)
}

/// Manifests and signatures are small JSON files; anything bigger is not one of ours.
const MAX_ATTESTATION_FILE: u64 = 1 << 20;

/// Reads `manifest.json` / `manifest.sig`: `None` when absent. Only a regular file of at most
/// 1 MiB is read: a FIFO would block the verifier forever and a symlink could point anywhere.
pub(crate) fn read_attestation_file(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::{Error, ErrorKind, Read};
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !meta.is_file() {
        return Err(Error::other(
            "not a regular file (symlinks are not followed here)",
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_ATTESTATION_FILE + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_ATTESTATION_FILE {
        return Err(Error::other("larger than 1 MiB"));
    }
    Ok(Some(bytes))
}

/// Verifies manifest and signature bytes against an already computed package hash (e.g. one
/// the hall cached).
pub fn verify_manifest(
    manifest: &[u8],
    signature: Option<&[u8]>,
    package_hash: &str,
    options: &VerifyOptions<'_>,
) -> Verdict {
    evaluate(manifest, signature, || Ok(package_hash.to_owned()), options)
}

fn evaluate(
    manifest: &[u8],
    signature: Option<&[u8]>,
    package_hash: impl FnOnce() -> Result<String, AttestError>,
    options: &VerifyOptions<'_>,
) -> Verdict {
    match run_checks(manifest, signature, package_hash, options) {
        Ok(verdict) | Err(verdict) => verdict,
    }
}

/// The checks in order; `Err` carries the first failure.
fn run_checks(
    manifest_bytes: &[u8],
    signature: Option<&[u8]>,
    package_hash: impl FnOnce() -> Result<String, AttestError>,
    options: &VerifyOptions<'_>,
) -> Result<Verdict, Verdict> {
    use VerdictCode::*;
    let manifest = Manifest::parse(manifest_bytes).map_err(|e| {
        Verdict::fail(
            ManifestMissing,
            format!("{e}."),
            details([("error", json!(e))]),
        )
    })?;
    let schema = manifest.field("schema_version").unwrap_or_default();
    if schema != SCHEMA_VERSION {
        let what = format!("The manifest's schema_version is {schema:?}, not {SCHEMA_VERSION:?}.");
        return Err(Verdict::fail(
            ManifestInvalid,
            what,
            details([("manifest_schema", json!(schema))]),
        ));
    }
    let worker_id = manifest.field("worker_id").unwrap_or_default();
    let species = manifest.field("worker_species_id").unwrap_or_default();
    check_identity(worker_id, species, options)?;
    let namespace = Namespace::of_worker(worker_id).map_err(|e| {
        Verdict::fail(
            NamespaceInvalid,
            format!("{e}."),
            details([("worker_id", json!(worker_id))]),
        )
    })?;

    let computed = package_hash().map_err(|e| {
        Verdict::fail(
            PackageUnreadable,
            format!("The package cannot be hashed: {e}."),
            Map::new(),
        )
    })?;
    let stated = manifest.field("package_hash").unwrap_or_default();
    if stated.is_empty() || stated != computed {
        let what = "The package's files do not match the hash in its manifest.";
        let facts = details([
            ("expected_hash", json!(stated)),
            ("computed_hash", json!(computed)),
        ]);
        return Err(Verdict::fail(HashMismatch, what, facts));
    }
    if options.trust.is_package_revoked(&computed) {
        let what = format!("Package {computed} is on the revocation list.");
        return Err(Verdict::fail(
            PackageRevoked,
            what,
            details([("package_hash", json!(computed))]),
        ));
    }

    let signer = match signature {
        Some(bytes) => check_ed25519(&manifest, bytes, &namespace, options.trust)?,
        None => check_hmac(&manifest, options.hmac_secret)?,
    };

    let attested_at = manifest.field("attested_at_utc").unwrap_or("unknown");
    let mut facts = details([
        ("package_hash", json!(computed)),
        ("manifest_schema", json!(schema)),
        ("attested_at_utc", json!(attested_at)),
        ("verified_at_utc", json!(utc_seconds(options.now))),
        (
            "trust_statement",
            json!(trust_statement(&namespace, attested_at, &computed)),
        ),
        ("worker_id", json!(worker_id)),
        ("worker_species_id", json!(species)),
        ("worker_version", json!(manifest.field("worker_version"))),
        ("namespace", json!(namespace.as_str())),
    ]);
    facts.extend(signer);
    let message = format!(
        "Package of {worker_id} ({species}) is intact and signed for namespace {namespace}."
    );
    Ok(Verdict::valid(message, facts))
}

fn check_identity(
    worker_id: &str,
    species: &str,
    options: &VerifyOptions<'_>,
) -> Result<(), Verdict> {
    let id_ok = options
        .expected_worker_id
        .is_none_or(|expected| expected == worker_id);
    let species_ok = options
        .expected_species
        .is_none_or(|expected| expected == species);
    if id_ok && species_ok {
        return Ok(());
    }
    let what = format!(
        "The manifest is for worker {worker_id:?} ({species:?}), not the expected {:?} ({:?}).",
        options.expected_worker_id.unwrap_or(worker_id),
        options.expected_species.unwrap_or(species)
    );
    let facts = details([
        ("manifest_worker_id", json!(worker_id)),
        ("expected_worker_id", json!(options.expected_worker_id)),
        ("manifest_worker_species_id", json!(species)),
        (
            "expected_worker_species_id",
            json!(options.expected_species),
        ),
    ]);
    Err(Verdict::fail(VerdictCode::ManifestIdMismatch, what, facts))
}

fn check_ed25519(
    manifest: &Manifest,
    signature: &[u8],
    namespace: &Namespace,
    trust: &TrustStore,
) -> Result<Map<String, Value>, Verdict> {
    use VerdictCode::*;
    let sig = ManifestSignature::parse(signature).map_err(|e| {
        Verdict::fail(
            SigInvalid,
            format!("{e}."),
            details([("scheme", json!("ed25519"))]),
        )
    })?;
    let facts = || {
        details([
            ("signed_by_namespace", json!(sig.namespace.as_str())),
            ("key_id", json!(sig.key_id)),
        ])
    };
    if &sig.namespace != namespace {
        let what = format!(
            "manifest.sig was made by namespace {}, but the worker belongs to namespace {namespace}.",
            sig.namespace
        );
        return Err(Verdict::fail(NamespaceMismatch, what, facts()));
    }
    if trust.is_key_revoked(&sig.key_id) {
        return Err(Verdict::fail(
            KeyRevoked,
            format!("Signing key {} is revoked.", sig.key_id),
            facts(),
        ));
    }
    let mut trusted = trust.keys_for(namespace).peekable();
    if trusted.peek().is_none() {
        let what = format!("No key is trusted for namespace {namespace}.");
        return Err(Verdict::fail(NamespaceUntrusted, what, facts()));
    }
    let Some(key) = trusted.find(|k| k.key_id == sig.key_id) else {
        let what = format!(
            "Signing key {} is not one of the keys trusted for namespace {namespace}.",
            sig.key_id
        );
        return Err(Verdict::fail(KeyUntrusted, what, facts()));
    };
    // Keys are validated when the trust store is loaded; a failure here is still a refusal.
    let valid = key
        .verifying_key()
        .is_ok_and(|vk| sig.verifies(manifest, &vk));
    if !valid {
        let what = format!(
            "The Ed25519 signature by key {} does not match this manifest.",
            sig.key_id
        );
        return Err(Verdict::fail(SigInvalid, what, facts()));
    }
    let mut out = facts();
    out.insert("scheme".into(), json!("ed25519"));
    Ok(out)
}

fn check_hmac(manifest: &Manifest, secret: Option<&[u8]>) -> Result<Map<String, Value>, Verdict> {
    let signature = manifest.field(HMAC_FIELD).unwrap_or_default();
    let secret = secret.filter(|s| !s.is_empty());
    let Some(secret) = secret.filter(|_| !signature.is_empty()) else {
        let what = if signature.is_empty() {
            "The package has no manifest.sig and its manifest has no HMAC signature."
        } else {
            "The manifest carries a reference HMAC signature, but no HMAC secret was supplied."
        };
        let facts = details([
            ("signature_present", json!(!signature.is_empty())),
            ("secret_supplied", json!(secret.is_some())),
        ]);
        return Err(Verdict::fail(VerdictCode::SignatureMissing, what, facts));
    };
    if !crate::hmac_sig::verify(secret, &manifest.signed_bytes(), signature) {
        let what = "The HMAC signature does not match this manifest under the supplied secret.";
        return Err(Verdict::fail(
            VerdictCode::SigInvalid,
            what,
            details([("scheme", json!("hmac-sha256"))]),
        ));
    }
    Ok(details([("scheme", json!("hmac-sha256"))]))
}

fn details<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
