//! The live registry and rules: loaded from disk, swapped in atomically, never half-applied.
//!
//! Routing reads one [`Snapshot`] (an `ArcSwap` load: no lock). A reload builds a complete new
//! snapshot and swaps it in; a file that does not parse or validate is rejected with an alert and
//! the last good version stays in force:
//! - rules: the whole file is one unit; a broken file keeps the previous rule set;
//! - registry: each `*.json` file is one unit; a broken file keeps that file's last good record
//!   (or nothing, if it never loaded);
//! - a missing registry dir means "no workers" (fail closed: nothing is routable), with an alert.

use crate::alerts::{AlertKind, NewAlert};
use crate::events::{RegistryEvent, Source};
use arc_swap::ArcSwap;
use chrono::Utc;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One worker record and the file it came from.
#[derive(Debug, Clone)]
pub struct WorkerEntry {
    pub worker_id: String,
    pub worker_species_id: String,
    pub file: String,
    pub record: Value,
}

/// Everything routing needs, consistent with itself.
pub struct Snapshot {
    pub rules: Arc<wcp::RuleSet>,
    /// Workers in registry order (sorted file names, SPEC.md §1.7).
    pub workers: Arc<Vec<WorkerEntry>>,
    pub registry: Arc<wcp::Registry>,
    /// Route-time attestation hashes of this registry's workers (SPEC.md §2 step 12).
    pub hashes: Arc<attest::LiveHashes>,
    /// The router over exactly these rules and this registry.
    pub router: wcp::Router,
}

/// What the router gets besides rules and registry (fixed for the hall's lifetime).
#[derive(Clone)]
pub struct RouterSettings {
    pub hall_config: Option<wcp::HallConfig>,
    /// Package/file hashes, reused across registry reloads while the files are unchanged.
    pub hash_cache: Arc<attest::HashCache>,
    pub gate: Option<Arc<dyn wcp::PolicyGate>>,
    /// Signed-package verdicts (`None` when `[attestation] enforce_signed = false`), shared by
    /// every registry reload.
    pub signed: Option<Arc<attest::SignedPackages>>,
}

impl RouterSettings {
    /// The route-time attestation sources of a registry (SPEC.md §2 step 12).
    fn live_hashes(&self, registry: &wcp::Registry, registry_dir: &Path) -> attest::LiveHashes {
        let hashes =
            attest::LiveHashes::from_registry(registry, registry_dir, self.hash_cache.clone());
        match &self.signed {
            Some(signed) => hashes.with_signed_packages(signed.clone()),
            None => hashes,
        }
    }
}

impl Snapshot {
    fn new(
        rules: Arc<wcp::RuleSet>,
        workers: Arc<Vec<WorkerEntry>>,
        registry: Arc<wcp::Registry>,
        hashes: Arc<attest::LiveHashes>,
        s: &RouterSettings,
    ) -> Self {
        // The registry is also the privilege policy: the reference stub over its envelopes and
        // the configured egress allowlists (SPEC.md §1.8). Hashes are only consulted when the
        // HallConfig asks for attestation.
        let mut router = wcp::Router::new(rules.clone(), registry.clone())
            .with_hall_config(s.hall_config.clone())
            .with_privilege_policy(registry.clone())
            .with_worker_hashes(hashes.clone());
        if let Some(gate) = &s.gate {
            router = router.with_policy_gate(gate.clone());
        }
        Snapshot {
            rules,
            workers,
            registry,
            hashes,
            router,
        }
    }
}

/// The outcome of one reload, for events and alerts.
pub struct Reloaded {
    pub event: RegistryEvent,
    pub alerts: Vec<NewAlert>,
}

pub struct Live {
    rules_file: PathBuf,
    registry_dir: PathBuf,
    current: ArcSwap<Snapshot>,
    /// Last good record per registry file name.
    files: Mutex<BTreeMap<String, WorkerEntry>>,
    registry_extra: RegistryExtra,
    settings: RouterSettings,
}

/// Operator settings that shape the registry (config.toml).
#[derive(Debug, Clone, Default)]
pub struct RegistryExtra {
    pub controls_present_extra: Vec<String>,
    pub egress_allowlist: BTreeMap<wcp::Env, Vec<String>>,
}

impl Live {
    /// Load both sources. Problems are reported as alerts, never as a failure to start.
    pub fn load(
        rules_file: &Path,
        registry_dir: &Path,
        extra: RegistryExtra,
        settings: RouterSettings,
    ) -> (Live, Vec<Reloaded>) {
        let registry = build_registry(&[], &extra);
        let hashes = settings.live_hashes(&registry, registry_dir);
        let empty = Snapshot::new(
            Arc::new(wcp::RuleSet::compile(Vec::new())),
            Arc::new(Vec::new()),
            Arc::new(registry),
            Arc::new(hashes),
            &settings,
        );
        let live = Live {
            rules_file: rules_file.to_path_buf(),
            registry_dir: registry_dir.to_path_buf(),
            current: ArcSwap::from_pointee(empty),
            files: Mutex::new(BTreeMap::new()),
            registry_extra: extra,
            settings,
        };
        let outcomes = vec![live.reload_rules(), live.reload_registry()];
        (live, outcomes)
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    pub fn rules_file(&self) -> &Path {
        &self.rules_file
    }

    pub fn registry_dir(&self) -> &Path {
        &self.registry_dir
    }

    /// Route-time hash cache, shared by every registry reload.
    pub fn hash_cache(&self) -> &attest::HashCache {
        &self.settings.hash_cache
    }

    pub fn reload_rules(&self) -> Reloaded {
        let result = crate::permissions::refuse_world_writable(&self.rules_file)
            .and_then(|()| fs::read_to_string(&self.rules_file).map_err(|e| e.to_string()))
            .and_then(|text| text.parse::<wcp::RuleSet>().map_err(|e| e.to_string()));
        let file = self.rules_file.display().to_string();
        match result {
            Ok(rules) => {
                let n = rules.rules().len();
                let rules = Arc::new(rules);
                self.current.rcu(|cur| {
                    Snapshot::new(
                        rules.clone(),
                        cur.workers.clone(),
                        cur.registry.clone(),
                        cur.hashes.clone(),
                        &self.settings,
                    )
                });
                tracing::info!(rules = n, file = %file, "rules loaded");
                let workers = self.snapshot().workers.len();
                Reloaded {
                    event: event(
                        Source::Rules,
                        true,
                        workers,
                        n,
                        format!("loaded {n} rules from {file}"),
                    ),
                    alerts: Vec::new(),
                }
            }
            Err(err) => {
                let snap = self.snapshot();
                let kept = snap.rules.rules().len();
                let message = format!(
                    "rules file {file} rejected: {err}; keeping the last good rules ({kept} rules)"
                );
                tracing::warn!(file = %file, error = %err, "rules file rejected");
                Reloaded {
                    event: event(
                        Source::Rules,
                        false,
                        snap.workers.len(),
                        kept,
                        message.clone(),
                    ),
                    alerts: vec![NewAlert::new(AlertKind::RulesRejected, file, message)],
                }
            }
        }
    }

    pub fn reload_registry(&self) -> Reloaded {
        let dir = self.registry_dir.display().to_string();
        let mut alerts = Vec::new();
        let mut files = self.files.lock().expect("registry files lock");
        if let Err(err) = crate::permissions::refuse_world_writable(&self.registry_dir) {
            // Anyone may have dropped records in: none is read, the last good ones stay.
            drop(files);
            let snap = self.snapshot();
            let message = format!(
                "registry dir {dir} rejected: {err}; keeping the last good registry ({} workers)",
                snap.workers.len()
            );
            tracing::warn!(dir = %dir, error = %err, "registry dir rejected");
            return Reloaded {
                event: event(
                    Source::Registry,
                    false,
                    snap.workers.len(),
                    snap.rules.rules().len(),
                    message.clone(),
                ),
                alerts: vec![NewAlert::new(AlertKind::RegistryRejected, dir, message)],
            };
        }
        let listing = list_json_files(&self.registry_dir);
        let message = match listing {
            Err(err) => {
                files.clear();
                let message = format!("registry dir {dir} is unreadable or missing ({err}): no worker is available until it is back");
                tracing::warn!(dir = %dir, error = %err, "registry dir missing");
                alerts.push(NewAlert::new(
                    AlertKind::RegistryMissing,
                    dir.clone(),
                    message.clone(),
                ));
                message
            }
            Ok(names) => {
                files.retain(|name, _| names.contains(name));
                for name in &names {
                    let path = self.registry_dir.join(name);
                    match read_record(&path) {
                        Ok(entry) => {
                            files.insert(
                                name.clone(),
                                WorkerEntry {
                                    file: name.clone(),
                                    ..entry
                                },
                            );
                        }
                        Err(err) => {
                            let kept = if files.contains_key(name) {
                                "keeping its last good version"
                            } else {
                                "not loaded"
                            };
                            let message =
                                format!("registry file {} rejected: {err}; {kept}", path.display());
                            tracing::warn!(file = %path.display(), error = %err, "registry file rejected");
                            alerts.push(NewAlert::new(
                                AlertKind::RegistryRejected,
                                path.display().to_string(),
                                message,
                            ));
                        }
                    }
                }
                format!("loaded {} worker records from {dir}", files.len())
            }
        };
        let workers: Vec<WorkerEntry> = files.values().cloned().collect();
        let registry = build_registry(&workers, &self.registry_extra);
        let hashes = Arc::new(self.settings.live_hashes(&registry, &self.registry_dir));
        let registry = Arc::new(registry);
        let workers = Arc::new(workers);
        self.current.rcu(|cur| {
            Snapshot::new(
                cur.rules.clone(),
                workers.clone(),
                registry.clone(),
                hashes.clone(),
                &self.settings,
            )
        });
        drop(files);
        let rules = self.snapshot().rules.rules().len();
        Reloaded {
            event: event(
                Source::Registry,
                alerts.is_empty(),
                workers.len(),
                rules,
                message,
            ),
            alerts,
        }
    }
}

fn event(source: Source, ok: bool, workers: usize, rules: usize, message: String) -> RegistryEvent {
    RegistryEvent {
        source,
        ok,
        workers,
        rules,
        at: Utc::now(),
        message,
    }
}

/// `*.json` file names in `dir`, sorted; dot-files (editor and atomic-write temporaries) skipped.
fn list_json_files(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") && !name.starts_with('.') && entry.file_type()?.is_file() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

fn read_record(path: &Path) -> Result<WorkerEntry, String> {
    crate::permissions::refuse_world_writable(path)?;
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    let record: Value = serde_json::from_str(&text).map_err(|e| format!("not valid JSON: {e}"))?;
    validate_record(&record)
}

/// The checks every enrolled record passes (API enrollment and files dropped in the dir).
pub fn validate_record(record: &Value) -> Result<WorkerEntry, String> {
    let obj = record
        .as_object()
        .ok_or("a worker record must be a JSON object")?;
    // Ids are taken as written (the router reads the record as written): blank is missing.
    let text = |key: &str| -> Result<String, String> {
        match obj.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            Some(Value::String(_)) | None | Some(Value::Null) => Err(format!("{key} is required")),
            Some(_) => Err(format!("{key} must be a string")),
        }
    };
    let worker_id = text("worker_id")?;
    check_worker_id(&worker_id)?;
    let worker_species_id = text("worker_species_id")?;
    match obj.get("capabilities") {
        Some(Value::Array(caps)) if !caps.is_empty() && caps.iter().all(Value::is_string) => {}
        Some(Value::Array(caps)) if !caps.is_empty() => {
            return Err("capabilities must be strings".into())
        }
        _ => return Err("capabilities must be a non-empty list".into()),
    }
    crate::mcp::McpSpec::from_record(obj)?;
    // The router's own checks (field types, control ids): a record it would refuse never lands.
    wcp::Registry::new()
        .enroll(record)
        .map_err(|e| e.to_string())?;
    Ok(WorkerEntry {
        worker_id,
        worker_species_id,
        file: String::new(),
        record: record.clone(),
    })
}

/// Longest worker id: `<id>.json` must fit the usual 255-byte limit on a file name.
pub const MAX_WORKER_ID_LEN: usize = 250;

/// A worker id becomes a file name (`<id>.json`): keep it to one safe path component.
pub fn check_worker_id(id: &str) -> Result<(), String> {
    if id.len() > MAX_WORKER_ID_LEN {
        return Err(format!(
            "worker_id is {} bytes; the limit is {MAX_WORKER_ID_LEN} (it names the file <worker_id>.json)",
            id.len()
        ));
    }
    if id.trim() != id {
        return Err("worker_id must not start or end with whitespace".into());
    }
    if id.starts_with('.') || id.contains(['/', '\\']) || id.chars().any(char::is_control) {
        return Err(
            "worker_id must not start with '.' or contain '/', '\\' or control characters".into(),
        );
    }
    Ok(())
}

/// Build the routing registry from records in registry order. Records were validated (including
/// by `wcp::Registry::enroll`) when their file was read, so enrolling cannot fail here.
fn build_registry(workers: &[WorkerEntry], extra: &RegistryExtra) -> wcp::Registry {
    let mut registry = wcp::Registry::new();
    for w in workers {
        if let Err(e) = registry.enroll(&w.record) {
            tracing::error!(file = %w.file, error = %e, "validated record failed to enroll");
        }
    }
    registry.add_controls_present(extra.controls_present_extra.iter().cloned());
    for (env, dests) in &extra.egress_allowlist {
        registry.set_egress_allowlist(*env, dests.clone());
    }
    registry
}
