//! Attestation by hand (the desktop's Attest screen): hash a package directory.

use crate::error::HallError;
use crate::hall::{Hall, PathRequest};
use serde_json::{json, Value};
use std::path::Path;

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

impl Hall {
    pub async fn attest_hash(&self, req: PathRequest) -> Result<Value, HallError> {
        check_dir(&req.path)?;
        let path = req.path.clone();
        let digest = tokio::task::spawn_blocking(move || {
            attest::package_hash_with(&path, attest::HashOptions::default(), None)
        })
        .await
        .map_err(|e| HallError::Attest(format!("hash task failed: {e}")))?
        .map_err(|e| HallError::InvalidPath(e.to_string()))?;
        Ok(json!({"path": req.path, "package_hash": digest.hash, "files": digest.files}))
    }
}
