//! Retention: drop the oldest records (a prefix of the chain) and keep a chained checkpoint of
//! the last pruned record, so `verify` still proves everything that remains. The prefix is
//! verified first: pruning must never hide tampering. The linked records of pruned decisions
//! go with them, as far as they form a prefix of the linked chain (linked_chain.rs).

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::codec::Codec;
use super::linked_chain;
use super::schema::chain_state;
use super::verify::walk;
use crate::backend::PruneReport;
use crate::chain::{checkpoint_hash, Hash};
use crate::error::LedgerError;

pub enum PruneError {
    Sqlite(rusqlite::Error),
    Broken(String),
}

impl From<rusqlite::Error> for PruneError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

impl PruneError {
    pub fn into_ledger(self, path: &Path) -> LedgerError {
        match self {
            Self::Sqlite(e) => LedgerError::sqlite(path, e),
            Self::Broken(finding) => LedgerError::ChainBroken(finding),
        }
    }
}

pub fn prune_before(
    conn: &mut Connection,
    codec: &Codec,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<PruneReport, PruneError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let cutoff_ts = cutoff.timestamp_micros();
    let (genesis, head_seq, _) = chain_state(&tx)?;
    // The prefix ends just before the oldest record that must be kept.
    let first_kept: Option<i64> = tx.query_row(
        "SELECT min(seq) FROM decisions WHERE ts >= ?1",
        [cutoff_ts],
        |r| r.get(0),
    )?;
    let through = first_kept.map_or(head_seq, |s| s - 1);
    let last_cp: Option<(i64, Vec<u8>, i64)> = tx
        .query_row(
            "SELECT through_seq, hash, pruned_total FROM checkpoints ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (already, prev_cp_hash, pruned_before) = last_cp.unwrap_or((0, genesis, 0));
    let mut report = PruneReport {
        pruned: 0,
        through_seq: None,
        linked_pruned: 0,
        linked_through_seq: None,
    };
    let prune_decisions = through > already;
    if prune_decisions {
        let walked = walk(&tx, codec, Some(through), &mut |_| {})?;
        if let Some(finding) = walked.finding {
            return Err(PruneError::Broken(finding.to_string()));
        }
    }
    // Before the decisions go: the linked prefix's links are checked against them.
    let linked = linked_chain::prune(&tx, already, through.max(already), now.timestamp_micros())?;
    report.linked_pruned = linked.pruned;
    report.linked_through_seq = linked.through_seq;
    if prune_decisions {
        let through_hash: Vec<u8> = tx.query_row(
            "SELECT hash FROM decisions WHERE seq = ?1",
            [through],
            |r| r.get(0),
        )?;
        let pruned = tx.execute("DELETE FROM decisions WHERE seq <= ?1", [through])? as u64;
        // Their index entries go next, in the index file (derived::forget_pruned).
        let pruned_total = pruned_before + pruned as i64;
        let prev = Hash::try_from(prev_cp_hash.as_slice()).unwrap_or([0; 32]);
        let through_hash_arr = Hash::try_from(through_hash.as_slice()).unwrap_or([0; 32]);
        let hash = checkpoint_hash(&prev, through, &through_hash_arr, pruned_total);
        tx.execute(
            "INSERT INTO checkpoints (created_at, cutoff_ts, through_seq, through_hash, pruned_total, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            (now.timestamp_micros(), cutoff_ts, through, through_hash, pruned_total, hash.as_slice()),
        )?;
        report.pruned = pruned;
        report.through_seq = Some(through);
    }
    tx.commit()?;
    if report.pruned > 0 || report.linked_pruned > 0 {
        tracing::info!(
            pruned = report.pruned,
            through_seq = report.through_seq,
            linked_pruned = report.linked_pruned,
            "ledger retention pruned old decisions"
        );
    }
    Ok(report)
}
