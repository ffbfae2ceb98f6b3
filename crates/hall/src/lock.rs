//! One hall per data dir: an exclusive `flock` on `<data dir>/hall.lock`, held from
//! [`crate::Hall::open`] until the hall closes (or its process dies: the kernel drops the lock
//! with the file descriptor, so a crash never leaves a stale lock behind). The file says who
//! holds it (pid, and the URL once the hall listens), so a second hall can name the first.

use crate::error::HallError;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

pub const LOCK_FILE: &str = "hall.lock";

pub struct DataDirLock {
    file: File,
    path: PathBuf,
}

impl DataDirLock {
    /// Take the data dir's lock, or fail naming the hall that holds it.
    pub fn acquire(data_dir: &Path) -> Result<DataDirLock, HallError> {
        let path = data_dir.join(LOCK_FILE);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(|e| HallError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.split_whitespace().collect::<Vec<_>>().join(" ");
                let holder = if holder.is_empty() {
                    "a hall that is still starting".to_string()
                } else {
                    holder
                };
                return Err(HallError::Config(format!(
                    "another hall is already running on data dir {} ({holder}); stop it first, \
                     or give this one another --data-dir",
                    data_dir.display()
                )));
            }
            Err(TryLockError::Error(e)) => return Err(HallError::io(&path, e)),
        }
        let lock = DataDirLock { file, path };
        lock.describe(None)?;
        Ok(lock)
    }

    /// Record the URL the hall serves, for the next hall's refusal message.
    pub fn set_url(&self, url: &str) -> Result<(), HallError> {
        self.describe(Some(url))
    }

    fn describe(&self, url: Option<&str>) -> Result<(), HallError> {
        let mut text = format!("pid {}", std::process::id());
        if let Some(url) = url {
            text.push_str(&format!(" url {url}"));
        }
        text.push('\n');
        let mut file = &self.file;
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(text.as_bytes()))
            .map_err(|e| HallError::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_first_holder_until_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        first.set_url("http://127.0.0.1:9").unwrap();
        let err = DataDirLock::acquire(dir.path()).err().unwrap().to_string();
        let pid = format!("pid {}", std::process::id());
        assert!(
            err.contains(&pid) && err.contains("url http://127.0.0.1:9"),
            "{err}"
        );
        drop(first);
        DataDirLock::acquire(dir.path()).unwrap();
    }
}
