//! Signed packages at route time (docs/attest.md, "Signed packages at route time"): a worker
//! whose record names a package is routed only when the live package hash matches a manifest
//! signed by a trusted, unrevoked key of the worker's namespace.
//!
//! Per route this costs the live hash's stat walk (the [`HashCache`], shared with
//! [`crate::live`]), three `stat`s (`manifest.json`, `manifest.sig`, the trust store) and a map
//! lookup: a package's verdict is kept until its manifest, its signature, its live hash or the
//! trust store's generation changes. A changed trust store is seen by the next route (hot
//! revocation), because its file identity is compared on every check.

use crate::hash::{file_records, records_hash, FileRecord, HashOptions};
use crate::live::{HashCache, LiveSource};
use crate::manifest::{Manifest, MANIFEST_FILE};
use crate::signature::{ManifestSignature, SIG_FILE};
use crate::trust::TrustStore;
use crate::verdict::{Verdict, VerdictCode};
use crate::verify::{read_attestation_file, verify_manifest, VerifyOptions};
use crate::walk::list_package;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use wcp::{AttestationRefusal, DenyCode};

/// A worker whose record names a package: the package checked for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PackageRef {
    pub worker_id: String,
    pub species: String,
    /// The package root: `package_dir`, or the directory holding `source_file`.
    pub dir: PathBuf,
}

/// Why a package may or may not be routed to, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "AttestationReason"))]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Valid,
    /// No manifest, no signature, or not an `awp.v1` manifest.
    Unsigned,
    /// No key is trusted for the namespace, or the signing key is not one of them.
    UntrustedKey,
    RevokedKey,
    RevokedPackage,
    /// The signature's namespace does not cover the worker id.
    NamespaceMismatch,
    /// The manifest names another worker or species than the record.
    IdentityMismatch,
    /// Files differ from the signed hash, or the manifest differs from what was signed.
    Tampered,
    /// The package cannot be hashed, or the trust store cannot be read.
    Unreadable,
}

/// Which files a tampered package changed, as far as the signature's file list tells.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChangedFiles {
    pub changed: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// The route-time verdict on one worker's package, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RouteVerdict {
    pub valid: bool,
    pub reason: Reason,
    /// The `ATTEST_*` code of the failed check (`None` when valid or unreadable).
    pub code: Option<VerdictCode>,
    /// What is wrong and what to do, or what was verified.
    pub message: String,
    pub key_id: Option<String>,
    pub namespace: Option<String>,
    pub worker_version: Option<String>,
    /// The manifest's `built_at_utc` (covered by the signature).
    pub signed_at: Option<String>,
    /// Set for a tampered package whose signature lists its files.
    pub changed_files: Option<ChangedFiles>,
}

impl RouteVerdict {
    fn unreadable(message: String) -> Self {
        Self::failed(Reason::Unreadable, None, message)
    }

    fn failed(reason: Reason, code: Option<VerdictCode>, message: String) -> Self {
        Self {
            valid: false,
            reason,
            code,
            message,
            key_id: None,
            namespace: None,
            worker_version: None,
            signed_at: None,
            changed_files: None,
        }
    }

    fn from_verdict(v: &Verdict, manifest: Option<&Manifest>) -> Self {
        let detail = |key: &str| {
            v.details
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let field = |key: &str| manifest.and_then(|m| m.field(key)).map(str::to_owned);
        Self {
            valid: v.valid,
            reason: v.code.map_or(Reason::Valid, reason_of),
            code: v.code,
            message: v.message.clone(),
            key_id: detail("key_id"),
            namespace: detail("namespace").or_else(|| detail("signed_by_namespace")),
            worker_version: field("worker_version"),
            signed_at: field("built_at_utc"),
            changed_files: None,
        }
    }

    /// The WCP deny this verdict causes at step 12, `None` when valid. Spec codes only:
    /// `DENY_WORKER_TAMPERED` when files or manifest differ from what was signed,
    /// `DENY_WORKER_HASH_UNAVAILABLE` when the package cannot be hashed, otherwise
    /// `DENY_WORKER_ATTESTATION_MISSING` (the reference's code for a revoked or unknown
    /// attestation, SPEC.md §3.6); the precise reason is in the message and extra keys.
    pub fn refusal(&self, pkg: &PackageRef) -> Option<AttestationRefusal> {
        if self.valid {
            return None;
        }
        let code = match self.reason {
            Reason::Tampered => DenyCode::WorkerTampered,
            Reason::Unreadable => DenyCode::WorkerHashUnavailable,
            _ => DenyCode::WorkerAttestationMissing,
        };
        let mut extra = Map::new();
        extra.insert("worker_species_id".into(), json!(pkg.species));
        extra.insert("worker_id".into(), json!(pkg.worker_id));
        extra.insert("attestation_reason".into(), json!(self.reason));
        if let Some(c) = self.code {
            extra.insert("attestation_code".into(), json!(c.as_str()));
        }
        if let Some(files) = &self.changed_files {
            extra.insert("changed_files".into(), json!(files));
        }
        let message = format!(
            "Worker '{}' ({}) refused: its signed package check failed ({}). {}",
            pkg.worker_id,
            pkg.species,
            self.reason.describe(),
            self.message
        );
        Some(AttestationRefusal {
            code,
            message,
            extra,
        })
    }
}

fn reason_of(code: VerdictCode) -> Reason {
    use VerdictCode::*;
    match code {
        ManifestMissing | ManifestInvalid | SignatureMissing => Reason::Unsigned,
        NamespaceUntrusted | KeyUntrusted => Reason::UntrustedKey,
        KeyRevoked => Reason::RevokedKey,
        PackageRevoked => Reason::RevokedPackage,
        NamespaceMismatch | NamespaceInvalid => Reason::NamespaceMismatch,
        ManifestIdMismatch => Reason::IdentityMismatch,
        HashMismatch | SigInvalid => Reason::Tampered,
        PackageUnreadable => Reason::Unreadable,
    }
}

impl Reason {
    /// The reason in words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::Valid => "valid",
            Reason::Unsigned => "unsigned",
            Reason::UntrustedKey => "untrusted key",
            Reason::RevokedKey => "revoked key",
            Reason::RevokedPackage => "revoked package",
            Reason::NamespaceMismatch => "namespace mismatch",
            Reason::IdentityMismatch => "manifest is for another worker",
            Reason::Tampered => "tampered",
            Reason::Unreadable => "unreadable",
        }
    }
}

/// What identifies a file's version without reading it; `None` when it does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FileId {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64, i64, i64),
}

fn file_id(path: &Path) -> Option<FileId> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    Some(FileId {
        len: meta.len(),
        modified: meta.modified().ok(),
        // A rename over the file (every atomic save) changes the inode; ctime catches the rest.
        #[cfg(unix)]
        inode: {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec())
        },
    })
}

/// The trust store file, re-read whenever its identity on disk changes. A missing file
/// trusts nothing; an unreadable or invalid one refuses every package until it is fixed.
#[derive(Debug)]
pub struct TrustSource {
    path: PathBuf,
    state: Mutex<TrustState>,
}

#[derive(Debug)]
struct TrustState {
    seen: Option<Option<FileId>>,
    generation: u64,
    store: Result<Arc<TrustStore>, String>,
}

impl TrustSource {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            state: Mutex::new(TrustState {
                seen: None,
                generation: 0,
                store: Err("not loaded yet".into()),
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The store as it is on disk now, with a generation that changes whenever it was re-read.
    pub fn current(&self) -> (u64, Result<Arc<TrustStore>, String>) {
        let id = file_id(&self.path);
        let mut state = lock(&self.state);
        if state.seen != Some(id) {
            state.store = TrustStore::load_or_default(&self.path)
                .map(Arc::new)
                .map_err(|e| e.to_string());
            state.seen = Some(id);
            state.generation += 1;
        }
        (state.generation, state.store.clone())
    }
}

/// Called with each newly computed verdict that refuses a package whose previous verdict
/// was different (so a hall raises one alert per change, not one per route).
pub type RefusalHook = Box<dyn Fn(&PackageRef, &RouteVerdict) + Send + Sync>;

/// Signed-package verdicts, cached per package. Share one across registry reloads.
pub struct SignedPackages {
    trust: TrustSource,
    cache: Arc<HashCache>,
    verdicts: Mutex<HashMap<PackageRef, Kept>>,
    on_refusal: Option<RefusalHook>,
}

/// The last verdict on a package, with what it was computed from (`None`: not reusable).
type Kept = (Option<CacheKey>, Arc<RouteVerdict>);

/// Everything a package's verdict depends on besides the package's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CacheKey {
    manifest: Option<FileId>,
    signature: Option<FileId>,
    live_hash: String,
    trust_generation: u64,
}

impl std::fmt::Debug for SignedPackages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedPackages")
            .field("trust", &self.trust.path)
            .finish_non_exhaustive()
    }
}

impl SignedPackages {
    /// `cache` is the live-hash cache the router's [`crate::LiveHashes`] use.
    pub fn new(trust: TrustSource, cache: Arc<HashCache>, on_refusal: Option<RefusalHook>) -> Self {
        Self {
            trust,
            cache,
            verdicts: Mutex::default(),
            on_refusal,
        }
    }

    pub fn trust_path(&self) -> &Path {
        self.trust.path()
    }

    /// Changes whenever the trust store on disk changed (re-reads it if so).
    pub fn trust_generation(&self) -> u64 {
        self.trust.current().0
    }

    /// The verdict on `pkg` now (cached while nothing it depends on changed).
    pub fn check(&self, pkg: &PackageRef) -> Arc<RouteVerdict> {
        let (key, trust) = match self.key_of(pkg) {
            Ok(found) => found,
            // Not cached: nothing identifies the failure; it is retried on every check.
            Err(message) => return self.settle(pkg, None, RouteVerdict::unreadable(message)),
        };
        if let Some((Some(seen), verdict)) = lock(&self.verdicts).get(pkg) {
            if *seen == key {
                return verdict.clone();
            }
        }
        let verdict = evaluate(pkg, &key.live_hash, &trust);
        self.settle(pkg, Some(key), verdict)
    }

    /// What the verdict on `pkg` depends on now, with the trust store; `Err` when the trust
    /// store or the package cannot be read.
    fn key_of(&self, pkg: &PackageRef) -> Result<(CacheKey, Arc<TrustStore>), String> {
        let (generation, trust) = self.trust.current();
        let trust = trust
            .map_err(|e| format!("The trust store cannot be used: {e}. Fix or restore it."))?;
        let manifest = file_id(&pkg.dir.join(MANIFEST_FILE));
        // No manifest: unsigned, and nothing to hash (a `source_file`'s directory may be large).
        let live_hash = match manifest {
            None => String::new(),
            Some(_) => self
                .cache
                .current_hash(&LiveSource::PackageDir(pkg.dir.clone()))
                .map_err(|e| format!("The package cannot be hashed: {e}."))?,
        };
        let key = CacheKey {
            manifest,
            signature: file_id(&pkg.dir.join(SIG_FILE)),
            live_hash,
            trust_generation: generation,
        };
        Ok((key, trust))
    }

    /// Keeps the verdict and tells the hook when it newly refuses the package.
    fn settle(
        &self,
        pkg: &PackageRef,
        key: Option<CacheKey>,
        verdict: RouteVerdict,
    ) -> Arc<RouteVerdict> {
        let verdict = Arc::new(verdict);
        let previous = lock(&self.verdicts).insert(pkg.clone(), (key, verdict.clone()));
        let changed = previous.is_none_or(|(_, p)| {
            (p.valid, p.reason, p.code) != (verdict.valid, verdict.reason, verdict.code)
        });
        if changed && !verdict.valid {
            if let Some(hook) = &self.on_refusal {
                hook(pkg, &verdict);
            }
        }
        verdict
    }
}

/// Reads the manifest and signature and verifies them against the live hash.
fn evaluate(pkg: &PackageRef, live_hash: &str, trust: &TrustStore) -> RouteVerdict {
    let manifest_path = pkg.dir.join(MANIFEST_FILE);
    let manifest = match read_attestation_file(&manifest_path) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            let message = format!(
                "{}: no manifest. {}",
                manifest_path.display(),
                VerdictCode::ManifestMissing.advice()
            );
            return RouteVerdict::failed(
                Reason::Unsigned,
                Some(VerdictCode::ManifestMissing),
                message,
            );
        }
        Err(e) => {
            let message = format!(
                "{}: cannot read the manifest ({e}).",
                manifest_path.display()
            );
            return RouteVerdict::failed(
                Reason::Unsigned,
                Some(VerdictCode::ManifestMissing),
                message,
            );
        }
    };
    let sig_path = pkg.dir.join(SIG_FILE);
    let signature = match read_attestation_file(&sig_path) {
        Ok(signature) => signature,
        Err(e) => {
            let message = format!("{}: cannot read the signature ({e}).", sig_path.display());
            return RouteVerdict::failed(Reason::Tampered, Some(VerdictCode::SigInvalid), message);
        }
    };
    let mut options = VerifyOptions::new(trust);
    options.expected_worker_id = Some(&pkg.worker_id);
    options.expected_species = Some(&pkg.species);
    let verdict = verify_manifest(&manifest, signature.as_deref(), live_hash, &options);
    let parsed = Manifest::parse(&manifest).ok();
    let mut out = RouteVerdict::from_verdict(&verdict, parsed.as_ref());
    if verdict.code == Some(VerdictCode::HashMismatch) {
        let listed = signature
            .as_deref()
            .and_then(|s| ManifestSignature::parse(s).ok())
            .and_then(|s| s.files);
        let stated = parsed.as_ref().and_then(|m| m.field("package_hash"));
        match diagnose(&pkg.dir, listed, stated) {
            Ok(files) => {
                out.message = format!("{} {}", describe(&files), out.message);
                out.changed_files = Some(files);
            }
            Err(why) => out.message = format!("{why} {}", out.message),
        }
    }
    out
}

/// Which files of the package in `dir` differ from the file list its signature carries: what
/// re-signing it would sign over (the Attest screen asks first). The list is believed as
/// [`diagnose`] believes it; `Err` says plainly why there is no list to trust.
pub fn changes_since_signing(dir: &Path) -> Result<ChangedFiles, String> {
    let manifest = read_attestation_file(&dir.join(MANIFEST_FILE))
        .ok()
        .flatten()
        .and_then(|bytes| Manifest::parse(&bytes).ok())
        .ok_or("The package has no readable manifest, so there is no signed file list to compare with.")?;
    let listed = read_attestation_file(&dir.join(SIG_FILE))
        .ok()
        .flatten()
        .and_then(|bytes| ManifestSignature::parse(&bytes).ok())
        .and_then(|signature| signature.files);
    diagnose(dir, listed, manifest.field("package_hash"))
}

/// Compares the package on disk with the signature's file list, which is believed only when
/// it hashes to the manifest's (signed) package hash.
fn diagnose(
    dir: &Path,
    listed: Option<Vec<FileRecord>>,
    stated_hash: Option<&str>,
) -> Result<ChangedFiles, String> {
    let listed = listed.ok_or(
        "The signature does not list the package's files, so which ones changed cannot be told.",
    )?;
    if Some(records_hash(&listed).as_str()) != stated_hash {
        return Err("The signature's file list does not match the signed package hash, so which files changed cannot be told.".into());
    }
    let live = list_package(dir)
        .and_then(|files| file_records(&files, HashOptions::default(), None))
        .map_err(|e| format!("Which files changed cannot be told: {e}."))?;
    let signed: HashMap<&str, &FileRecord> = listed.iter().map(|r| (r.path.as_str(), r)).collect();
    let now: HashMap<&str, &FileRecord> = live.iter().map(|r| (r.path.as_str(), r)).collect();
    let paths: BTreeSet<&str> = signed.keys().chain(now.keys()).copied().collect();
    let mut files = ChangedFiles::default();
    for path in paths {
        match (signed.get(path), now.get(path)) {
            (Some(a), Some(b)) if a != b => files.changed.push(path.to_owned()),
            (Some(_), None) => files.removed.push(path.to_owned()),
            (None, Some(_)) => files.added.push(path.to_owned()),
            _ => {}
        }
    }
    Ok(files)
}

fn describe(files: &ChangedFiles) -> String {
    let mut parts = Vec::new();
    for (what, list) in [
        ("changed", &files.changed),
        ("added", &files.added),
        ("removed", &files.removed),
    ] {
        if !list.is_empty() {
            parts.push(format!("{what}: {}", list.join(", ")));
        }
    }
    if parts.is_empty() {
        // Same files and contents: the manifest's hash itself was edited.
        return "No file differs from the signed list; the manifest's package_hash was edited."
            .into();
    }
    format!("Files {}.", parts.join("; "))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str, content: &[u8]) -> FileRecord {
        use sha2::Digest;
        FileRecord {
            path: path.into(),
            size: content.len() as u64,
            sha256: hex::encode(sha2::Sha256::digest(content)),
        }
    }

    #[test]
    fn a_file_list_is_believed_only_when_it_hashes_to_the_signed_hash() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.py"), "new\n").unwrap();
        let signed = vec![record("a.py", b"old\n")];
        let signed_hash = records_hash(&signed);
        let files = diagnose(dir.path(), Some(signed.clone()), Some(&signed_hash)).unwrap();
        assert_eq!(files.changed, ["a.py"]);
        // A list an attacker rewrote to match the tampered files no longer hashes to the signed hash.
        let forged = vec![record("a.py", b"new\n")];
        let why = diagnose(dir.path(), Some(forged), Some(&signed_hash)).unwrap_err();
        assert!(
            why.contains("does not match the signed package hash"),
            "{why}"
        );
        let why = diagnose(dir.path(), None, Some(&signed_hash)).unwrap_err();
        assert!(why.contains("does not list"), "{why}");
    }
}
