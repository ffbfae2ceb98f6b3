//! Route-time attestation through the real wcp router: registered hash from the registry
//! record, current hash from the package on disk, cached until the package changes.

use crate::support;

use attest::{package_hash, HashCache, HashOptions, LiveHashes, LiveSource};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use support::{rules_and_registry, temp_tree, write_tree};
use wcp::{DenyCode, HallConfig, Router, WorkerHashes};

const SPECIES: &str = "wrk.doc.summarizer";

fn router_for(registry_dir: &Path, record: serde_json::Value, cache: Arc<HashCache>) -> Router {
    let (rules, registry) = rules_and_registry(SPECIES, &record);
    let hashes = LiveHashes::from_registry(&registry, registry_dir, cache);
    let hall = HallConfig {
        require_worker_attestation: true,
        ..HallConfig::default()
    };
    Router::new(Arc::new(rules), Arc::new(registry))
        .with_hall_config(Some(hall))
        .with_worker_hashes(Arc::new(hashes))
}

fn route(router: &Router) -> Option<DenyCode> {
    let input = wcp::parse_route_input_str(
        r#"{"capability_id": "cap.doc.summarize", "tenant_id": "t", "correlation_id": "c-1",
            "env": "dev", "data_label": "PUBLIC", "tenant_risk": "low", "qos_class": "P2", "request": {}}"#,
    )
    .unwrap();
    router.decide(&input).deny_code()
}

fn record(attestation: serde_json::Value) -> serde_json::Value {
    json!({"worker_id": "org.example.summarizer.i-1", "worker_species_id": SPECIES,
           "capabilities": ["cap.doc.summarize"], "attestation": attestation})
}

#[test]
fn package_dir_is_checked_at_route_time_and_tampering_is_denied() {
    let registry_dir = tempfile::tempdir().unwrap();
    let pkg = registry_dir.path().join("pkg");
    write_tree(
        &pkg,
        &[("main.py", b"print(1)\n"), ("lib/a.py", b"A = 1\n")],
    );
    let signed = package_hash(&pkg).unwrap();
    let cache = Arc::new(HashCache::default());
    let router = router_for(
        registry_dir.path(),
        record(json!({"code_hash": signed, "package_dir": "pkg"})),
        cache,
    );

    assert_eq!(route(&router), None, "untouched package routes");
    std::fs::write(pkg.join("lib/a.py"), b"A = 2\n").unwrap();
    assert_eq!(
        route(&router),
        Some(DenyCode::WorkerTampered),
        "edited package is denied"
    );
    std::fs::write(pkg.join("lib/a.py"), b"A = 1\n").unwrap();
    assert_eq!(route(&router), None, "restored package routes again");
    std::fs::write(pkg.join("new.py"), b"").unwrap();
    assert_eq!(
        route(&router),
        Some(DenyCode::WorkerTampered),
        "added file is denied"
    );
    std::fs::remove_dir_all(&pkg).unwrap();
    assert_eq!(
        route(&router),
        Some(DenyCode::WorkerHashUnavailable),
        "missing package"
    );
}

#[cfg(unix)]
#[test]
fn an_unsafe_package_makes_the_hash_unavailable() {
    let registry_dir = tempfile::tempdir().unwrap();
    let pkg = registry_dir.path().join("pkg");
    write_tree(&pkg, &[("main.py", b"x")]);
    let signed = package_hash(&pkg).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", pkg.join("p")).unwrap();
    let router = router_for(
        registry_dir.path(),
        record(json!({"code_hash": signed, "package_dir": "pkg"})),
        Arc::default(),
    );
    assert_eq!(route(&router), Some(DenyCode::WorkerHashUnavailable));
}

#[test]
fn package_dir_without_code_hash_is_never_snapshotted() {
    let registry_dir = tempfile::tempdir().unwrap();
    write_tree(&registry_dir.path().join("pkg"), &[("main.py", b"x")]);
    let router = router_for(
        registry_dir.path(),
        record(json!({"package_dir": "pkg"})),
        Arc::default(),
    );
    assert_eq!(route(&router), Some(DenyCode::WorkerAttestationMissing));
}

#[test]
fn source_file_follows_the_reference_snapshot_then_rehash() {
    let registry_dir = temp_tree(&[("worker.py", b"def run(): pass\n")]);
    let router = router_for(
        registry_dir.path(),
        record(json!({"source_file": "worker.py"})),
        Arc::default(),
    );
    assert_eq!(route(&router), None, "snapshot taken at enrollment matches");
    std::fs::write(
        registry_dir.path().join("worker.py"),
        b"def run(): evil()\n",
    )
    .unwrap();
    assert_eq!(route(&router), Some(DenyCode::WorkerTampered));
}

#[test]
fn a_reload_after_tampering_keeps_the_enrollment_snapshot() {
    let registry_dir = tempfile::tempdir().unwrap();
    let file = registry_dir.path().join("worker.py");
    write_tree(registry_dir.path(), &[("worker.py", b"def run(): pass\n")]);
    let cache = Arc::new(HashCache::default());
    let enrolled = record(json!({"source_file": "worker.py"}));
    let router = router_for(registry_dir.path(), enrolled.clone(), cache.clone());
    assert_eq!(route(&router), None);

    std::fs::write(&file, b"def run(): evil()\n").unwrap();
    // A registry reload shares the cache and must not take the tampered file as registered.
    let reloaded = router_for(registry_dir.path(), enrolled.clone(), cache.clone());
    assert_eq!(route(&reloaded), Some(DenyCode::WorkerTampered));

    // Re-enrolling the species is what accepts the new code.
    cache.forget_enrollment(SPECIES);
    let reenrolled = router_for(registry_dir.path(), enrolled, cache);
    assert_eq!(route(&reenrolled), None);
}

#[test]
fn source_file_hash_is_plain_sha256() {
    let dir = temp_tree(&[("w.py", b"abc")]);
    let hash = HashCache::default()
        .current_hash(&LiveSource::SourceFile(dir.path().join("w.py")))
        .unwrap();
    assert_eq!(
        hash,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn cache_is_keyed_on_size_and_mtime() {
    let dir = temp_tree(&[("a.txt", b"one")]);
    let file = dir.path().join("a.txt");
    let source = LiveSource::PackageDir(dir.path().to_path_buf());
    let cache = HashCache::new(HashOptions {
        threads: 1,
        ..Default::default()
    });
    let first = cache.current_hash(&source).unwrap();
    assert_eq!(first, package_hash(dir.path()).unwrap());

    // Same size, mtime put back: the cache answers without reading (documented limit).
    let mtime = std::fs::metadata(&file).unwrap().modified().unwrap();
    std::fs::write(&file, b"two").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    assert_eq!(cache.current_hash(&source).unwrap(), first);

    // A real edit moves the mtime: re-hashed.
    let later = mtime + std::time::Duration::from_secs(1);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert_eq!(
        cache.current_hash(&source).unwrap(),
        package_hash(dir.path()).unwrap()
    );
    assert_ne!(cache.current_hash(&source).unwrap(), first);
}

#[test]
fn unknown_species_has_no_hashes() {
    let hashes = LiveHashes::new(Default::default(), Default::default(), Arc::default());
    assert_eq!(hashes.registered_hash("wrk.none").unwrap(), None);
    assert_eq!(hashes.current_hash("wrk.none").unwrap(), None);
}

#[test]
fn warm_hashes_every_source_and_names_the_failures() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(&dir.path().join("good"), &[("a.py", b"a")]);
    let sources = [
        (
            "wrk.good".to_owned(),
            LiveSource::PackageDir(dir.path().join("good")),
        ),
        (
            "wrk.gone".to_owned(),
            LiveSource::PackageDir(dir.path().join("gone")),
        ),
    ];
    let hashes = LiveHashes::new(
        Default::default(),
        sources.into_iter().collect(),
        Arc::default(),
    );
    let failures = hashes.warm();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].0, "wrk.gone");
    assert!(failures[0].1.to_string().contains("gone"));
    assert_eq!(
        hashes.current_hash("wrk.good").unwrap(),
        Some(package_hash(&dir.path().join("good")).unwrap())
    );
}
