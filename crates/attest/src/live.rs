//! Route-time attestation (SPEC.md §2 step 12, §3.6): the registered and current code hash
//! of each worker species, for `wcp::Router::with_worker_hashes`.
//!
//! - Registered hash: the registry record's `attestation.code_hash` (hex64, as the wcp
//!   registry validates it). With only a `source_file` and no `code_hash`, the reference
//!   snapshots the file's hash at enrollment; so do we: the first successful snapshot per
//!   (species, file) is kept in the [`HashCache`] and reused by every later registry reload,
//!   so a file edited after enrollment stays `DENY_WORKER_TAMPERED` across reloads instead of
//!   becoming the new registered hash. Re-enrolling through the hall retakes it
//!   ([`HashCache::forget_enrollment`]). A `package_dir` never gets a
//!   snapshot: it needs an explicit `code_hash` (normally the signed manifest's
//!   `package_hash`), otherwise the router denies with `DENY_WORKER_ATTESTATION_MISSING`.
//! - Current hash: `attestation.package_dir` (Proctor extension: canonical package hash of
//!   that directory) or the reference's `attestation.source_file` (plain SHA-256 of one
//!   file); `package_dir` wins when both are given. Relative paths are resolved against the
//!   registry directory.
//! - Caching: a [`HashCache`] remembers each hash with a fingerprint of what it hashed: the
//!   file's (size, mtime), or for a directory the (path, size, mtime) of every file, taken by
//!   a stat-only walk. A route only re-reads file contents when the fingerprint changed. The
//!   cache outlives registry reloads (share one `Arc<HashCache>`).

use crate::error::{AttestError, Result};
use crate::hash::{file_sha256_listed, hash_listed, regular_file_stamp, HashOptions};
use crate::route_check::{PackageRef, SignedPackages};
use crate::walk::{list_package, Stamp};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use wcp::{AttestationRefusal, HashError, WorkerHashes};

/// Where a species' code lives on disk.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LiveSource {
    /// A package directory, hashed canonically (SPEC.md §3.1).
    PackageDir(PathBuf),
    /// One file, hashed as plain SHA-256 (the reference's `source_file`).
    SourceFile(PathBuf),
}

/// Hashes of package dirs and files, reused while their fingerprint is unchanged.
#[derive(Debug, Default)]
pub struct HashCache {
    entries: Mutex<HashMap<LiveSource, (Fingerprint, String)>>,
    /// Registered `source_file` hashes taken at enrollment, by (species, source).
    enrolled: Mutex<HashMap<(String, LiveSource), String>>,
    options: HashOptions<'static>,
}

/// What was hashed: every file's relative path and stamp (one unnamed entry for a file).
/// Compared by equality: cheaper than digesting it, and collision-free.
type Fingerprint = Vec<(String, Stamp)>;

impl HashCache {
    pub fn new(options: HashOptions<'static>) -> Self {
        Self {
            entries: Mutex::default(),
            enrolled: Mutex::default(),
            options,
        }
    }

    /// The registered hash of a `source_file` species: the snapshot taken when it was first
    /// seen (its enrollment), never a re-read after that, which would launder a tamper.
    pub fn enrollment_snapshot(&self, species: &str, source: &LiveSource) -> Result<String> {
        let key = (species.to_owned(), source.clone());
        if let Some(hash) = lock(&self.enrolled).get(&key) {
            return Ok(hash.clone());
        }
        let hash = self.current_hash(source)?;
        Ok(lock(&self.enrolled).entry(key).or_insert(hash).clone())
    }

    /// Drops a species' enrollment snapshots, so that the next registry load takes a fresh
    /// one: called when the species is (re-)enrolled.
    pub fn forget_enrollment(&self, species: &str) {
        lock(&self.enrolled).retain(|(s, _), _| s != species);
    }

    /// The current hash of `source`, from the cache when nothing changed on disk.
    pub fn current_hash(&self, source: &LiveSource) -> Result<String> {
        match source {
            LiveSource::PackageDir(dir) => {
                let files = list_package(dir)?;
                let fingerprint = files.iter().map(|f| (f.rel.clone(), f.stamp)).collect();
                self.cached_or(source, fingerprint, || {
                    Ok(hash_listed(&files, self.options, None)?.hash)
                })
            }
            LiveSource::SourceFile(path) => {
                let stamp = regular_file_stamp(path)?;
                let fingerprint = vec![(String::new(), stamp)];
                self.cached_or(source, fingerprint, || file_sha256_listed(path, stamp))
            }
        }
    }

    fn cached_or(
        &self,
        source: &LiveSource,
        fingerprint: Fingerprint,
        compute: impl FnOnce() -> Result<String>,
    ) -> Result<String> {
        if let Some((seen, hash)) = lock(&self.entries).get(source) {
            if *seen == fingerprint {
                return Ok(hash.clone());
            }
        }
        // Hash outside the lock: other species keep routing meanwhile.
        let hash = compute()?;
        tracing::debug!(?source, "re-hashed worker code after a change on disk");
        lock(&self.entries).insert(source.clone(), (fingerprint, hash.clone()));
        Ok(hash)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a half-written entry: keep going.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Registered and current hashes per species: implements [`wcp::WorkerHashes`], and with
/// [`LiveHashes::with_signed_packages`] the signed-package check of every packaged worker.
#[derive(Debug, Clone)]
pub struct LiveHashes {
    registered: HashMap<String, String>,
    sources: HashMap<String, LiveSource>,
    cache: Arc<HashCache>,
    /// The packaged workers of each species (every one of them must pass).
    packages: HashMap<String, Vec<PackageRef>>,
    signed: Option<Arc<SignedPackages>>,
}

impl LiveHashes {
    pub fn new(
        registered: HashMap<String, String>,
        sources: HashMap<String, LiveSource>,
        cache: Arc<HashCache>,
    ) -> Self {
        Self {
            registered,
            sources,
            cache,
            packages: HashMap::new(),
            signed: None,
        }
    }

    /// Builds the sources from registry records; relative paths are taken from `base_dir`.
    pub fn from_registry(registry: &wcp::Registry, base_dir: &Path, cache: Arc<HashCache>) -> Self {
        let mut sources = HashMap::new();
        let mut packages: HashMap<String, Vec<PackageRef>> = HashMap::new();
        for (_, record) in registry.records() {
            let Some(species) = record.get("worker_species_id").and_then(|s| s.as_str()) else {
                continue;
            };
            if let Some(pkg) = package_of(record, species, base_dir) {
                packages.entry(species.to_owned()).or_default().push(pkg);
            }
            let package_dir = record
                .pointer("/attestation/package_dir")
                .and_then(|p| p.as_str());
            let source = match (package_dir, registry.source_file(species)) {
                (Some(dir), _) if !dir.is_empty() => LiveSource::PackageDir(base_dir.join(dir)),
                (_, Some(file)) if !file.is_empty() => LiveSource::SourceFile(base_dir.join(file)),
                _ => continue,
            };
            sources.insert(species.to_owned(), source);
        }
        for list in packages.values_mut() {
            list.sort_by(|a, b| a.worker_id.cmp(&b.worker_id));
        }
        let mut registered = registry.registered_hashes().clone();
        for (species, source) in &sources {
            if let (LiveSource::SourceFile(_), false) = (source, registered.contains_key(species)) {
                match cache.enrollment_snapshot(species, source) {
                    Ok(hash) => drop(registered.insert(species.clone(), hash)),
                    Err(e) => {
                        tracing::warn!(%species, error = %e, "cannot snapshot source_file hash")
                    }
                }
            }
        }
        Self {
            registered,
            sources,
            cache,
            packages,
            signed: None,
        }
    }

    /// Enforces signed packages at route time (SPEC.md §2 step 12, Proctor extension).
    pub fn with_signed_packages(mut self, signed: Arc<SignedPackages>) -> Self {
        self.signed = Some(signed);
        self
    }

    /// The signed-package checker, when enforced.
    pub fn signed_packages(&self) -> Option<&SignedPackages> {
        self.signed.as_deref()
    }

    /// The packaged workers this registry has, with their package dirs.
    pub fn packages(&self) -> impl Iterator<Item = &PackageRef> {
        self.packages.values().flatten()
    }

    /// Hashes every source now, so the first route after a (re)load does not pay for it.
    /// Returns the species whose code could not be hashed, with the reason; routing to them
    /// is denied `DENY_WORKER_HASH_UNAVAILABLE` until that is fixed.
    pub fn warm(&self) -> Vec<(String, AttestError)> {
        let mut failures: Vec<_> = self
            .sources
            .iter()
            .filter_map(|(species, source)| {
                self.cache
                    .current_hash(source)
                    .err()
                    .map(|e| (species.clone(), e))
            })
            .collect();
        failures.sort_by(|a, b| a.0.cmp(&b.0));
        failures
    }

    /// The live source of a species, if it has one.
    pub fn source(&self, species: &str) -> Option<&LiveSource> {
        self.sources.get(species)
    }
}

/// The package a record names: `attestation.package_dir`, else the directory holding
/// `attestation.source_file` (where its `manifest.json` lives); relative to `base_dir`.
fn package_of(record: &serde_json::Value, species: &str, base_dir: &Path) -> Option<PackageRef> {
    let text = |pointer: &str| {
        record
            .pointer(pointer)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
    };
    let dir = match (
        text("/attestation/package_dir"),
        text("/attestation/source_file"),
    ) {
        (Some(dir), _) => base_dir.join(dir),
        (None, Some(file)) => base_dir.join(file).parent()?.to_path_buf(),
        (None, None) => return None,
    };
    Some(PackageRef {
        worker_id: text("/worker_id")?.to_owned(),
        species: species.to_owned(),
        dir,
    })
}

impl WorkerHashes for LiveHashes {
    fn registered_hash(&self, species: &str) -> Result<Option<String>, HashError> {
        Ok(self.registered.get(species).cloned())
    }

    fn current_hash(&self, species: &str) -> Result<Option<String>, HashError> {
        let Some(source) = self.sources.get(species) else {
            return Ok(None);
        };
        self.cache
            .current_hash(source)
            .map(Some)
            .map_err(|e: AttestError| {
                tracing::warn!(%species, error = %e, "live hash unavailable");
                HashError(e.to_string())
            })
    }

    fn enforce_signed(&self, species: &str) -> Option<Result<(), AttestationRefusal>> {
        let signed = self.signed.as_ref()?;
        let packages = self.packages.get(species)?;
        for pkg in packages {
            if let Some(refusal) = signed.check(pkg).refusal(pkg) {
                return Some(Err(refusal));
            }
        }
        Some(Ok(()))
    }
}
