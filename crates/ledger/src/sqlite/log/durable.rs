//! What makes a commit durable. The writer's connection runs with `synchronous = NORMAL`: a
//! commit writes its frames to the write-ahead log and returns without waiting for the disk.
//! [`WalSync::sync`] then flushes the log with `fdatasync`, which is what `FULL` would have done
//! inside the commit. Split in two, the group-commit writer commits the next batch while the
//! previous one reaches the disk, and no caller is acknowledged before its batch's flush.
//!
//! A failed flush may have dropped the log's dirty pages (Linux marks them clean after an I/O
//! error, so a retry could "succeed" without writing them): after one, every later commit and
//! flush fails, until the ledger is reopened and SQLite recovers what the log really holds.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::{LedgerError, Result};

pub struct WalSync {
    /// Opened once, right after the writer's connection opened the log, so it is the file
    /// SQLite writes even if someone renames or replaces the path.
    wal: File,
    path: PathBuf,
    /// Why the first failed flush failed.
    failed: OnceLock<String>,
}

impl WalSync {
    /// The write-ahead log of the ledger at `ledger`, which a writable connection holds open.
    pub fn open(ledger: &Path) -> Result<Self> {
        let [_, path, _] = crate::sqlite::database_files(ledger);
        let wal = File::open(&path).map_err(|e| LedgerError::Database {
            path: ledger.to_path_buf(),
            detail: format!("cannot open the write-ahead log {}: {e}", path.display()),
        })?;
        Ok(Self::new(wal, path))
    }

    fn new(wal: File, path: PathBuf) -> Self {
        Self {
            wal,
            path,
            failed: OnceLock::new(),
        }
    }

    /// Fails once a flush has failed: nothing more may be committed on top of it.
    pub fn check(&self) -> Result<()> {
        match self.failed.get() {
            None => Ok(()),
            Some(reason) => Err(LedgerError::WriteFailed(format!(
                "an earlier flush of the write-ahead log {} failed ({reason}); the ledger \
                 refuses appends until it is reopened",
                self.path.display()
            ))),
        }
    }

    /// Flush everything committed so far to the disk.
    pub fn sync(&self) -> Result<()> {
        self.check()?;
        self.wal.sync_data().map_err(|e| {
            let reason = e.to_string();
            tracing::error!(wal = %self.path.display(), error = %reason, "flushing the ledger's write-ahead log failed");
            let _ = self.failed.set(reason.clone());
            LedgerError::WriteFailed(format!(
                "cannot flush the write-ahead log {} to disk: {reason}",
                self.path.display()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_flush_fails_every_later_flush_and_check() {
        // fdatasync on /dev/null fails (EINVAL) as a failing disk would.
        let sync = WalSync::new(File::open("/dev/null").unwrap(), "/dev/null".into());
        assert!(sync.check().is_ok());
        let first = sync.sync().unwrap_err().to_string();
        assert!(first.contains("cannot flush"), "{first}");
        for later in [sync.sync(), sync.check()] {
            let message = later.unwrap_err().to_string();
            assert!(message.contains("refuses appends"), "{message}");
        }
    }

    #[test]
    fn flushes_a_real_log() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger.db");
        std::fs::write(dir.path().join("ledger.db-wal"), b"frames").unwrap();
        let sync = WalSync::open(&ledger).unwrap();
        sync.sync().unwrap();
        sync.check().unwrap();
    }
}
