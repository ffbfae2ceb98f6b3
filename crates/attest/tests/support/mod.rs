//! Helpers shared by the integration tests: building package trees in temp dirs.

#![allow(dead_code)] // each test binary uses a different subset

use base64::Engine;
use std::path::{Path, PathBuf};

/// Writes `files` (relative path → content) under `root`, creating parent directories.
pub fn write_tree(root: &Path, files: &[(&str, &[u8])]) {
    for (rel, content) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

/// A new temp dir holding `files` (see [`write_tree`]).
pub fn temp_tree(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), files);
    dir
}

/// The repository's copy of the WCP vectors.
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

pub struct VectorCase {
    pub name: String,
    pub hash: String,
    pub included: Vec<String>,
    pub files: Vec<(String, Vec<u8>)>,
}

pub fn package_vectors() -> Vec<VectorCase> {
    let text = std::fs::read_to_string(vectors_dir().join("package_hash.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    doc["cases"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, case)| VectorCase {
            name: name.clone(),
            hash: case["hash"].as_str().unwrap().to_owned(),
            included: case["included_paths_in_hash_order"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_owned())
                .collect(),
            files: case["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    let content = b64.decode(f["content_b64"].as_str().unwrap()).unwrap();
                    (f["path"].as_str().unwrap().to_owned(), content)
                })
                .collect(),
        })
        .collect()
}

/// Materializes a vector case (including its `.git` paths) into a fresh temp dir.
pub fn materialize(case: &VectorCase) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(&str, &[u8])> = case
        .files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_slice()))
        .collect();
    write_tree(dir.path(), &files);
    dir
}

/// What the route-time suites route with: one rule sending `cap.doc.summarize` to `species`,
/// and a registry with `record` enrolled.
pub fn rules_and_registry(
    species: &str,
    record: &serde_json::Value,
) -> (wcp::RuleSet, wcp::Registry) {
    let rules = wcp::RuleSet::from_json(&serde_json::json!({"rules": [{
        "rule_id": "r1",
        "match": {"capability_id": "cap.doc.summarize"},
        "decision": {"candidate_workers_ranked": [{"worker_species_id": species}]}
    }]}))
    .unwrap();
    let mut registry = wcp::Registry::new();
    registry.enroll(record).unwrap();
    (rules, registry)
}

/// A new Ed25519 key for `namespace`, in a key store of its own temp config dir.
pub fn new_key(namespace: &str) -> (tempfile::TempDir, attest::NamespaceKey) {
    let config = tempfile::tempdir().unwrap();
    let key = attest::KeyStore::new(config.path())
        .create(&attest::Namespace::parse(namespace).unwrap())
        .unwrap();
    (config, key)
}

/// A request to sign a local build of `worker_id` (of `species`, at `version`) at `now`.
pub fn local_sign_request<'a>(
    worker_id: &'a str,
    species: &'a str,
    version: &'a str,
    now: chrono::DateTime<chrono::Utc>,
) -> attest::SignRequest<'a> {
    attest::SignRequest {
        worker_id,
        worker_species_id: species,
        worker_version: version,
        build_source: attest::BuildSource::Local,
        hmac_secret: None,
        hash: Default::default(),
        progress: None,
        now,
    }
}
