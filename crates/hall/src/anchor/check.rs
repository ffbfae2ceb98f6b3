//! The ledger against its latest signed checkpoint: what the hash chain alone cannot see (a
//! cut tail, an emptied, missing or replaced file, acknowledged records lost with the `-wal`).

use std::path::{Path, PathBuf};

use ledger::{HashAt, LedgerBackend};

use super::store::{Foreign, Found};

/// What is missing or foreign, named for the person who has to act on it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AnchorProblem {
    #[error("the ledger file {} is missing, but the checkpoint {} says the hall acknowledged {size} record(s)", ledger.display(), checkpoint.display())]
    LedgerMissing {
        ledger: PathBuf,
        checkpoint: PathBuf,
        size: i64,
    },
    #[error("the ledger file {} is empty (0 bytes), but the checkpoint {} says the hall acknowledged {size} record(s)", ledger.display(), checkpoint.display())]
    LedgerEmpty {
        ledger: PathBuf,
        checkpoint: PathBuf,
        size: i64,
    },
    #[error("records {}..={size} are missing: the ledger ends at seq {head}, but the checkpoint {} (signed {time}) says the hall acknowledged {size} (its tail was cut, or acknowledged records were lost with its -wal file)", head + 1, checkpoint.display())]
    CutTail {
        checkpoint: PathBuf,
        size: i64,
        head: i64,
        time: String,
    },
    #[error("the ledger is not the one the hall signed: at seq {seq} its chain hash is {found}, but the checkpoint {} says {expected} (the file was replaced, or its records rewritten)", checkpoint.display())]
    Replaced {
        checkpoint: PathBuf,
        seq: i64,
        expected: String,
        found: String,
    },
    #[error("the hall key {} is missing, but checkpoints signed by it exist, so they cannot be verified (the key was deleted, or the data dir replaced)", key.display())]
    KeyMissing { key: PathBuf },
    #[error("checkpoint {0}")]
    Foreign(#[from] Foreign),
    #[error("the hall key {} exists but no checkpoint does (looked in {}): the hall's checkpoints were deleted", key.display(), looked.join(", "))]
    CheckpointsMissing { key: PathBuf, looked: Vec<String> },
}

/// Before the ledger is opened (opening creates a missing file, and SQLite takes a 0-byte file
/// for a new database): a checkpoint means the file must exist and hold something.
pub fn check_file(ledger: &Path, latest: &Found) -> Result<(), AnchorProblem> {
    let (checkpoint, size) = (latest.path.clone(), latest.checkpoint.size);
    match std::fs::metadata(ledger) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(AnchorProblem::LedgerMissing {
            ledger: ledger.to_path_buf(),
            checkpoint,
            size,
        }),
        Ok(m) if m.len() == 0 => Err(AnchorProblem::LedgerEmpty {
            ledger: ledger.to_path_buf(),
            checkpoint,
            size,
        }),
        // Anything else is the ledger's to report when it is opened.
        _ => Ok(()),
    }
}

/// The opened ledger holds at least the checkpoint's records, and the same chain: its hash at
/// the checkpoint's size is the signed one. (A checkpoint whose last record retention pruned
/// since can only be checked for length.)
pub fn check_ledger(
    backend: &dyn LedgerBackend,
    latest: &Found,
) -> ledger::Result<Result<(), AnchorProblem>> {
    let cp = &latest.checkpoint;
    let head = backend.head()?;
    if head.seq < cp.size {
        return Ok(Err(AnchorProblem::CutTail {
            checkpoint: latest.path.clone(),
            size: cp.size,
            head: head.seq,
            time: cp.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }));
    }
    let found = match backend.hash_at(cp.size)? {
        HashAt::Held(hash) => hash,
        HashAt::Pruned => return Ok(Ok(())),
        HashAt::Missing => "(no record)".to_string(),
    };
    if found != cp.hash {
        return Ok(Err(AnchorProblem::Replaced {
            checkpoint: latest.path.clone(),
            seq: cp.size,
            expected: cp.hash.clone(),
            found,
        }));
    }
    Ok(Ok(()))
}
