//! Small filesystem helpers shared by the manifest, key and trust stores.

use crate::error::{AttestError, Result};
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` through a sibling temp file and a rename, so readers never see
/// a half-written file. `mode` (unix permission bits, before the umask; default 0o666) is
/// applied at creation.
///
/// The temp file gets a random name and is created exclusively (`O_EXCL`, never following a
/// symlink): package dirs are not ours, and a fixed name planted as a symlink would make us
/// overwrite its target. It is removed if anything fails before the rename.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let prefix = format!(
        ".{}.",
        path.file_name().unwrap_or_default().to_string_lossy()
    );
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(mode.unwrap_or(0o666)));
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|e| AttestError::io(dir, e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| AttestError::io(tmp.path(), e))?;
    tmp.persist(path)
        .map(drop)
        .map_err(|e| AttestError::io(path, e.error))
}
