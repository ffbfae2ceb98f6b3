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
