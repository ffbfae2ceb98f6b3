//! File modes the hall insists on (docs/hall.md, "Permissions"): a data dir only its owner can
//! enter, and no rules file, registry dir or registry file that every user may write (whoever
//! can write them decides what the hall routes). Elsewhere than Unix these checks pass.

use crate::error::HallError;
use std::path::Path;

/// A data dir that others may read or enter (mode `& 0o077`) is tightened to 0700 when this user
/// owns it (the returned note says so), and refused otherwise: its owner must fix it.
pub fn private_data_dir(dir: &Path) -> Result<Option<String>, HallError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = std::fs::metadata(dir).map_err(|e| HallError::io(dir, e))?;
        let mode = meta.mode() & 0o777;
        if mode & 0o077 == 0 {
            return Ok(None);
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(HallError::Config(format!(
                "{}: the data dir is open to other users (mode {mode:03o}) and belongs to \
                 another user (uid {}); its owner should run `chmod 700 {}`, or use a \
                 --data-dir of your own",
                dir.display(),
                meta.uid(),
                dir.display()
            )));
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| HallError::io(dir, e))?;
        Ok(Some(format!(
            "{}: the data dir was open to other users (mode {mode:03o}); tightened it to 700",
            dir.display()
        )))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(None)
    }
}

/// Refuse a file or dir every user may write, naming it and the fix.
pub fn refuse_world_writable(path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return Ok(()); // a missing file is reported by whoever reads it
        };
        if meta.permissions().mode() & 0o002 != 0 {
            return Err(format!(
                "{} is writable by every user, who could then decide what the hall routes; \
                 run `chmod o-w {}`",
                path.display(),
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Create `dir` (and its parents) readable by all and writable by its owner only, whatever the
/// umask: under umask 0 a plain create is world-writable, which the hall then refuses.
pub fn create_shared_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o755);
    builder.create(dir)
}

/// The mode a rewrite of `path` keeps: its current one, or `default` for a new file.
pub fn kept_mode(path: &Path, default: u32) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            return meta.permissions().mode() & 0o777;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    default
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn an_open_data_dir_of_ours_is_tightened_and_a_private_one_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        chmod(tmp.path(), 0o755);
        let note = private_data_dir(tmp.path()).unwrap().unwrap();
        assert!(note.contains("mode 755") && note.contains("700"), "{note}");
        let mode = std::fs::metadata(tmp.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert_eq!(private_data_dir(tmp.path()).unwrap(), None);
    }

    #[test]
    fn world_writable_is_refused_with_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("rules.json");
        std::fs::write(&file, "{}").unwrap();
        chmod(&file, 0o664);
        refuse_world_writable(&file).unwrap();
        chmod(&file, 0o666);
        let err = refuse_world_writable(&file).unwrap_err();
        assert!(
            err.contains(&format!("chmod o-w {}", file.display())),
            "{err}"
        );
    }
}
