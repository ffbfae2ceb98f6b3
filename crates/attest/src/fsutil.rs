//! Small filesystem helpers shared by the manifest, key and trust stores, and by the hall's
//! config, registry and rules files.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` through a sibling temp file and a rename, so readers never see
/// a half-written file. `mode` (unix permission bits, before the umask; default 0o666) is
/// applied at creation.
///
/// The temp file gets a random name and is created exclusively (`O_EXCL`, never following a
/// symlink): package dirs are not ours, and a fixed name planted as a symlink would make us
/// overwrite its target. It is removed if anything fails before the rename. Its name starts
/// with a dot (the hall's registry loader and watcher skip it) and does not embed the target's
/// name, which may already be as long as a file name can be.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".proctor-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(mode.unwrap_or(0o666)));
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map(drop).map_err(|e| e.error)
}
