//! Attestation on demand: the desktop's Attest screen (hash, verify, sign a package directory by
//! hand) and `POST /v1/workers/{id}/verify`. Keys and the trust store live in attest's config
//! dir (`$PROCTOR_CONFIG_DIR`, else the user's config dir + `proctor`), shared with
//! `proctor attest` / `proctor keys`.

use crate::alerts::{AlertKind, NewAlert};
use crate::error::HallError;
use crate::hall::Hall;
use attest::{Verdict, VerdictCode};
use chrono::{SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathRequest {
    pub path: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// Overrides the package directory named by the worker's record.
    pub package_dir: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestVerifyRequest {
    pub path: PathBuf,
    pub worker_id: String,
    pub worker_species_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestSignRequest {
    pub path: PathBuf,
    pub worker_id: String,
    pub worker_species_id: String,
    pub worker_version: String,
    #[serde(default)]
    pub build_source: Option<BuildSourceName>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildSourceName {
    Local,
    Ci,
    Agent,
}

fn check_dir(path: &Path) -> Result<(), HallError> {
    if !path.is_absolute() {
        return Err(HallError::InvalidPath(format!(
            "{}: use an absolute path",
            path.display()
        )));
    }
    if !path.is_dir() {
        return Err(HallError::InvalidPath(format!(
            "{}: not a directory",
            path.display()
        )));
    }
    Ok(())
}

fn attest_dir() -> Result<PathBuf, HallError> {
    attest::keys::config_dir(None).map_err(|e| HallError::Attest(e.to_string()))
}

/// Package hashes on request run at most this many at a time (each already uses every core).
const CONCURRENT_HASHING: usize = 2;
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CONCURRENT_HASHING);

/// Hashing and signing read whole trees: keep them off the async workers, and bounded. A request
/// waits for a free slot; when its client leaves or its time limit passes (`api::deadline`), the
/// request is dropped, and with it its place in the queue or, once running, the work itself: `f`
/// gets a flag that is set then, which the hashing checks between chunks.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce(&AtomicBool) -> T + Send + 'static,
) -> Result<T, HallError> {
    let slot = HASHING
        .acquire()
        .await
        .map_err(|e| HallError::Attest(format!("attestation queue closed: {e}")))?;
    let cancel = Arc::new(AtomicBool::new(false));
    let _stop_when_dropped = StopOnDrop(Arc::clone(&cancel));
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        f(&cancel)
    })
    .await
    .map_err(|e| HallError::Attest(format!("attestation task failed: {e}")))
}

/// Sets its flag when dropped: with the request's future, so also when it completed (harmless).
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn hash_options(cancel: &AtomicBool) -> attest::HashOptions<'_> {
    attest::HashOptions {
        cancel: Some(cancel),
        ..Default::default()
    }
}

fn verify_dir(
    dir: PathBuf,
    worker_id: Option<String>,
    species: Option<String>,
    cancel: &AtomicBool,
) -> Result<Verdict, HallError> {
    let trust_path = attest_dir()?.join(attest::trust::TRUST_FILE);
    let trust = attest::TrustStore::load_or_default(&trust_path)
        .map_err(|e| HallError::Attest(e.to_string()))?;
    let mut options = attest::VerifyOptions::new(&trust);
    options.expected_worker_id = worker_id.as_deref();
    options.expected_species = species.as_deref();
    options.hash = hash_options(cancel);
    Ok(attest::verify_package(&dir, &options))
}

/// One word for the UI: did someone change the code, is it simply unsigned, or otherwise bad.
fn verdict_word(v: &Verdict) -> &'static str {
    match v.code {
        None => "valid",
        Some(VerdictCode::HashMismatch) => "tampered",
        Some(VerdictCode::ManifestMissing | VerdictCode::SignatureMissing) => "unsigned",
        Some(_) => "invalid",
    }
}

fn verdict_json(v: &Verdict) -> Value {
    json!({
        "ok": v.valid, "verdict": verdict_word(v), "code": v.code.map(|c| c.as_str()),
        "message": v.message, "details": v.details,
        "checked_at": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
    })
}

/// What the package's `manifest.json` says now (`null` without a readable one), so the Attest
/// screen can pre-fill the version and ask before signing over a manifest the package no longer
/// matches.
fn current_manifest(dir: &Path) -> Value {
    let Ok(bytes) = std::fs::read(dir.join(attest::manifest::MANIFEST_FILE)) else {
        return Value::Null;
    };
    let Ok(manifest) = attest::Manifest::parse(&bytes) else {
        return Value::Null;
    };
    let field = |k| manifest.field(k);
    json!({"worker_id": field("worker_id"), "worker_species_id": field("worker_species_id"),
           "worker_version": field("worker_version"), "package_hash": field("package_hash"),
           "attested_at_utc": field("attested_at_utc")})
}

impl Hall {
    pub async fn attest_hash(&self, req: PathRequest) -> Result<Value, HallError> {
        check_dir(&req.path)?;
        let manifest = current_manifest(&req.path);
        let signed_hash = manifest["package_hash"].as_str().map(str::to_owned);
        let path = req.path.clone();
        let (digest, changes) = blocking(move |cancel| {
            let digest = attest::package_hash_with(&path, hash_options(cancel), None)?;
            // The package no longer matches its manifest: which files, against the signed list.
            let changes = signed_hash
                .filter(|signed| *signed != digest.hash)
                .map(|_| attest::route_check::changes_since_signing(&path));
            Ok::<_, attest::AttestError>((digest, changes))
        })
        .await?
        .map_err(|e| HallError::InvalidPath(e.to_string()))?;
        let (changes, changes_unknown) = match changes {
            None => (Value::Null, Value::Null),
            Some(Ok(files)) => (json!(files), Value::Null),
            Some(Err(why)) => (Value::Null, json!(why)),
        };
        Ok(json!({
            "path": req.path, "package_hash": digest.hash, "files": digest.files, "manifest": manifest,
            "changes": changes, "changes_unknown": changes_unknown,
        }))
    }

    pub async fn attest_verify(&self, req: AttestVerifyRequest) -> Result<Value, HallError> {
        check_dir(&req.path)?;
        let verdict = blocking(move |cancel| {
            verify_dir(
                req.path,
                Some(req.worker_id),
                Some(req.worker_species_id),
                cancel,
            )
        })
        .await??;
        Ok(verdict_json(&verdict))
    }

    pub async fn attest_sign(&self, req: AttestSignRequest) -> Result<Value, HallError> {
        check_dir(&req.path)?;
        let namespace = attest::Namespace::of_worker(&req.worker_id)
            .map_err(|e| HallError::InvalidRecord(e.to_string()))?;
        let store = attest::KeyStore::new(&attest_dir()?);
        let key = store
            .load(&namespace)
            .map_err(|e| HallError::NoNamespaceKey(format!("{namespace}: {e}")))?;
        let signed = blocking(move |cancel| {
            let request = attest::SignRequest {
                worker_id: &req.worker_id,
                worker_species_id: &req.worker_species_id,
                worker_version: &req.worker_version,
                build_source: match req.build_source.unwrap_or(BuildSourceName::Local) {
                    BuildSourceName::Local => attest::BuildSource::Local,
                    BuildSourceName::Ci => attest::BuildSource::Ci,
                    BuildSourceName::Agent => attest::BuildSource::Agent,
                },
                hmac_secret: None,
                hash: hash_options(cancel),
                progress: None,
                now: Utc::now(),
            };
            attest::sign_package(&req.path, &key, &request).map(|s| (s, key.key_id()))
        })
        .await?
        .map_err(|e| HallError::InvalidRecord(e.to_string()))?;
        let (signed, key_id) = signed;
        let manifest: Value =
            serde_json::from_str(&signed.manifest.to_file_text()).unwrap_or(Value::Null);
        Ok(json!({"manifest": manifest, "package_hash": signed.package_hash, "key_id": key_id}))
    }

    /// Verify an enrolled worker's package; a tampered package raises a `tamper` alert.
    pub async fn verify_worker(
        &self,
        worker_id: &str,
        req: VerifyRequest,
    ) -> Result<Value, HallError> {
        let worker = self
            .workers()
            .into_iter()
            .find(|w| w.worker_id == worker_id)
            .ok_or_else(|| HallError::NotFound(format!("worker {worker_id} is not enrolled")))?;
        let dir = match req.package_dir {
            Some(dir) => dir,
            None => self.package_dir_of(&worker.record).ok_or_else(|| {
                HallError::InvalidPath(format!(
                    "worker {worker_id} has no attestation.package_dir or attestation.source_file; pass package_dir"
                ))
            })?,
        };
        check_dir(&dir)?;
        let (id, species) = (worker.worker_id.clone(), worker.worker_species_id.clone());
        let verdict =
            blocking(move |cancel| verify_dir(dir, Some(id), Some(species), cancel)).await??;
        if verdict.code == Some(VerdictCode::HashMismatch) {
            self.raise(NewAlert::new(
                AlertKind::Tamper,
                worker_id,
                format!(
                    "worker {worker_id}: package does not match its signed manifest: {}",
                    verdict.message
                ),
            ));
        }
        let mut out = verdict_json(&verdict);
        out["worker_id"] = json!(worker_id);
        Ok(out)
    }

    /// The package dir a record points at (relative paths are relative to the registry dir).
    fn package_dir_of(&self, record: &Value) -> Option<PathBuf> {
        let base = self.config().registry_dir;
        let dir = record
            .pointer("/attestation/package_dir")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let file = record
            .pointer("/attestation/source_file")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        match (dir, file) {
            (Some(d), _) => Some(base.join(d)),
            (None, Some(f)) => base.join(f).parent().map(Path::to_path_buf),
            _ => None,
        }
    }
}
