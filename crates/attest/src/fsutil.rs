//! Small filesystem helpers shared by the manifest, key and trust stores.

use crate::error::{AttestError, Result};
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` through a sibling temp file and a rename, so readers never see
/// a half-written file. `mode` (unix permission bits) is applied at creation.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&tmp).map_err(|e| AttestError::io(&tmp, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| AttestError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| AttestError::io(path, e))
}
