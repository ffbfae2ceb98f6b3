//! The ledger's error type. Every failure names the file (when there is one) and what is wrong,
//! so a person can act on it without reading code.

use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

/// Everything that can go wrong in the ledger. `Clone`, so that every caller of a failed
/// group commit gets the failure itself.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LedgerError {
    #[error("{}: no ledger database found", path.display())]
    NotFound { path: PathBuf },

    #[error("{}: not a Proctor ledger (the file is not an SQLite database)", path.display())]
    NotADatabase { path: PathBuf },

    #[error("{}: not a Proctor ledger (it is a directory; a ledger is a file)", path.display())]
    IsADirectory { path: PathBuf },

    #[error("{}: the ledger database is corrupt: {detail}", path.display())]
    Corrupt { path: PathBuf, detail: String },

    #[error("{}: not a Proctor ledger (SQLite database without the ledger schema)", path.display())]
    ForeignDatabase { path: PathBuf },

    #[error(
        "{}: ledger schema version {found} is newer than this build supports ({supported}); \
         use a newer proctor",
        path.display()
    )]
    FutureSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error("{}: the ledger is read-only (file, directory or filesystem not writable)", path.display())]
    ReadOnly { path: PathBuf },

    #[error("{}: the ledger is locked by another process (timed out waiting)", path.display())]
    Locked { path: PathBuf },

    #[error("{}: the disk (or the ledger's size limit) is full", path.display())]
    DiskFull { path: PathBuf },

    #[error("{}: {detail}", path.display())]
    Database { path: PathBuf, detail: String },

    #[error("invalid decision record: {0}")]
    BadRecord(String),

    #[error("decision {0} is already in the ledger")]
    DuplicateDecision(String),

    #[error("invalid cursor {0:?}: pass back a cursor exactly as a previous page returned it")]
    BadCursor(String),

    #[error("invalid query: {0}")]
    BadQuery(String),

    /// The writer could not commit; the decision is NOT recorded. Callers must fail closed.
    #[error("the decision could not be recorded: {0}")]
    WriteFailed(String),

    #[error("the ledger is closed")]
    Closed,

    #[error("this ledger was opened read-only")]
    OpenedReadOnly,

    #[error("export failed: {0}")]
    Export(String),

    #[error("refusing to prune: the chain is broken ({0}); investigate with `proctor verify-log`")]
    ChainBroken(String),
}

impl LedgerError {
    /// A stable machine-readable code for API bodies and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "LEDGER_NOT_FOUND",
            Self::NotADatabase { .. }
            | Self::IsADirectory { .. }
            | Self::ForeignDatabase { .. } => "LEDGER_NOT_A_LEDGER",
            Self::Corrupt { .. } => "LEDGER_CORRUPT",
            Self::FutureSchema { .. } => "LEDGER_FUTURE_SCHEMA",
            Self::ReadOnly { .. } | Self::OpenedReadOnly => "LEDGER_READ_ONLY",
            Self::Locked { .. } => "LEDGER_LOCKED",
            Self::DiskFull { .. } => "LEDGER_DISK_FULL",
            Self::Database { .. } => "LEDGER_DATABASE_ERROR",
            Self::BadRecord(_) => "LEDGER_BAD_RECORD",
            Self::DuplicateDecision(_) => "LEDGER_DUPLICATE_DECISION",
            Self::BadCursor(_) => "LEDGER_BAD_CURSOR",
            Self::BadQuery(_) => "LEDGER_BAD_QUERY",
            Self::WriteFailed(_) => "LEDGER_WRITE_FAILED",
            Self::Closed => "LEDGER_CLOSED",
            Self::Export(_) => "LEDGER_EXPORT_FAILED",
            Self::ChainBroken(_) => "LEDGER_CHAIN_BROKEN",
        }
    }

    /// True for problems with the caller's input (as opposed to the store).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Self::BadRecord(_)
                | Self::BadCursor(_)
                | Self::BadQuery(_)
                | Self::DuplicateDecision(_)
        )
    }

    /// Classify an SQLite error for the file at `path`.
    pub(crate) fn sqlite(path: &Path, err: rusqlite::Error) -> Self {
        let path = path.to_path_buf();
        if let rusqlite::Error::SqliteFailure(ffi, msg) = &err {
            let detail = msg.clone().unwrap_or_else(|| ffi.to_string());
            return match ffi.code {
                ErrorCode::NotADatabase => Self::NotADatabase { path },
                ErrorCode::DatabaseCorrupt => Self::Corrupt { path, detail },
                ErrorCode::ReadOnly => Self::ReadOnly { path },
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Self::Locked { path },
                ErrorCode::DiskFull => Self::DiskFull { path },
                ErrorCode::CannotOpen if !path.exists() => Self::NotFound { path },
                _ => Self::Database { path, detail },
            };
        }
        Self::Database {
            path,
            detail: err.to_string(),
        }
    }
}

pub type Result<T, E = LedgerError> = std::result::Result<T, E>;
