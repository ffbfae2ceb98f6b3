//! Streams the decisions table through the chain [`Walker`], after checking the retention
//! checkpoints, then (linked_chain.rs) the linked records. One forward scan on the rowid per
//! chain, O(1) memory; the random-access lookups of [`ChainLookup`] run only once a bad link
//! has been found.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension};

use super::codec::Codec;

use super::linked_chain;
use super::schema::chain_state;
use crate::chain::{
    checkpoint_hash, decision_column_mismatch, Chain, ChainLookup, ChainRow, Checkpoint, Finding,
    Hash, Problem, Progress, VerifyReport, Walker,
};
use crate::record::lookup_key;
use crate::sqlite::index::read::fields;

const PROGRESS_EVERY: u64 = 10_000;

/// Verify the chain, optionally only up to `through_seq` (used before pruning a prefix).
pub fn verify(
    conn: &Connection,
    codec: &Codec,
    through_seq: Option<i64>,
    progress: &mut dyn FnMut(Progress),
) -> rusqlite::Result<VerifyReport> {
    // One read transaction: a consistent snapshot even while the hall keeps appending.
    let snapshot = conn.unchecked_transaction()?;
    let linked_total = linked_chain::pending(&snapshot)?;
    let mut decisions_total = 0;
    let mut report = walk(&snapshot, codec, through_seq, &mut |p| {
        decisions_total = p.total;
        progress(Progress {
            done: p.done,
            total: p.total + linked_total,
        })
    })?;
    // The links are checked against the decisions, which must be sound first.
    if report.finding.is_some() || through_seq.is_some() {
        return Ok(report);
    }
    let pruned_through = report.checkpoint.as_ref().map_or(0, |c| c.through_seq);
    let decisions_done = report.records_checked;
    let linked = linked_chain::walk(&snapshot, pruned_through, None, &mut |done| {
        progress(Progress {
            done: decisions_done + done,
            total: decisions_total + linked_total,
        })
    })?;
    report.linked_records = linked.checked;
    report.linked_last_seq = linked.last_seq;
    report.linked_checkpoint = linked.checkpoint;
    report.linked_to_pruned = linked.to_pruned;
    report.finding = linked.finding;
    Ok(report)
}

pub(super) fn walk(
    conn: &Connection,
    codec: &Codec,
    through_seq: Option<i64>,
    progress: &mut dyn FnMut(Progress),
) -> rusqlite::Result<VerifyReport> {
    let (genesis, head_seq, head_hash) = chain_state(conn)?;
    let genesis = to_hash(&genesis);
    let (checkpoint, bad_checkpoint) = checkpoints(conn, Chain::Decisions, &genesis)?;
    let mut report = VerifyReport {
        records_checked: 0,
        last_seq: 0,
        checkpoint: checkpoint.clone(),
        linked_records: 0,
        linked_last_seq: 0,
        linked_checkpoint: None,
        linked_to_pruned: 0,
        finding: bad_checkpoint,
    };
    if report.finding.is_some() {
        return Ok(report);
    }
    let (start_seq, start_hash) = checkpoint
        .as_ref()
        .map_or((0, genesis), |c| (c.through_seq, c.through_hash));
    let end = through_seq.unwrap_or(head_seq);
    let total = (end - start_seq).max(0) as u64;
    let mut walker = Walker::new(Chain::Decisions, start_seq, start_hash);
    let mut lookup = SqlLookup {
        conn,
        table: "decisions",
    };
    let mut stmt = conn.prepare(
        "SELECT d.seq, d.prev_hash, d.hash, d.body, d.ts, d.decision_id, d.correlation_id, \
         d.tenant_id, d.capability_id, d.matched_rule_id, d.worker, d.env, d.data_label, \
         d.qos_class, d.denied, d.deny_code, d.deny_message, d.dry_run, d.artifact_hash, d.decision_key \
         FROM decisions d WHERE d.seq > ?1 AND d.seq <= ?2 ORDER BY d.seq",
    )?;
    // Rows past the head are forged appends: scan them too so `finish` can say so.
    let scan_end = if through_seq.is_some() { end } else { i64::MAX };
    let mut rows = stmt.query((start_seq, scan_end))?;
    let mut reported = 0;
    loop {
        let row = match rows.next() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                report.finding = Some(corrupt_at(Chain::Decisions, walker.last_seq() + 1, &e));
                break;
            }
        };
        let finding = match read_row(row, codec) {
            Ok((seq, prev_hash, hash, json, fields, decision_key)) => {
                let stale_key =
                    (decision_key != lookup_key(&fields.decision_id)).then_some("decision_key");
                let row = ChainRow {
                    seq,
                    prev_hash: &prev_hash,
                    hash: &hash,
                    mismatched_column: decision_column_mismatch(&json, &fields).or(stale_key),
                    outside_link: None,
                    json: &json,
                };
                walker.step(&row, &mut lookup)
            }
            Err(e) => Some(corrupt_at(Chain::Decisions, walker.last_seq() + 1, &e)),
        };
        if finding.is_some() {
            report.finding = finding;
            break;
        }
        if walker.checked() >= reported + PROGRESS_EVERY {
            reported = walker.checked();
            progress(Progress {
                done: reported,
                total,
            });
        }
    }
    if report.finding.is_none() && through_seq.is_none() {
        report.finding = walker.finish(head_seq, &to_hash(&head_hash));
    }
    progress(Progress {
        done: walker.checked(),
        total,
    });
    report.records_checked = walker.checked();
    report.last_seq = walker.last_seq();
    Ok(report)
}

type RowParts = (
    i64,
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    crate::record::DecisionFields,
    i64,
);

fn read_row(row: &rusqlite::Row<'_>, codec: &Codec) -> rusqlite::Result<RowParts> {
    // A body that no longer decodes is an edit of that record: hash its raw bytes instead,
    // which can never match, so the walker names it (after checking for gaps first).
    let json = match row.get_ref(3)? {
        ValueRef::Text(b) | ValueRef::Blob(b) => codec
            .decode(b)
            .map_or_else(|_| b.to_vec(), String::into_bytes),
        _ => Vec::new(),
    };
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        json,
        fields(row, 4)?,
        row.get(19)?,
    ))
}

pub(super) fn corrupt_at(chain: Chain, seq: i64, e: &rusqlite::Error) -> Finding {
    Finding {
        chain,
        seq,
        problem: Problem::Corrupt {
            detail: e.to_string(),
        },
    }
}

pub(super) fn to_hash(bytes: &[u8]) -> Hash {
    // A wrong-length stored hash can never match a computed one: use a value that won't.
    Hash::try_from(bytes).unwrap_or([0xff; 32])
}

/// The latest checkpoint of `chain`, after checking its checkpoint chain from its genesis.
pub(super) fn checkpoints(
    conn: &Connection,
    chain: Chain,
    genesis: &Hash,
) -> rusqlite::Result<(Option<Checkpoint>, Option<Finding>)> {
    let table = match chain {
        Chain::Decisions => "checkpoints",
        Chain::Linked => "linked_checkpoints",
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT through_seq, through_hash, pruned_total, hash FROM {table} ORDER BY id"
    ))?;
    let mut rows = stmt.query([])?;
    let mut prev = *genesis;
    let mut latest = None;
    while let Some(row) = rows.next()? {
        let cp = Checkpoint {
            through_seq: row.get(0)?,
            through_hash: to_hash(&row.get::<_, Vec<u8>>(1)?),
            pruned_total: row.get(2)?,
            hash: to_hash(&row.get::<_, Vec<u8>>(3)?),
        };
        if checkpoint_hash(&prev, cp.through_seq, &cp.through_hash, cp.pruned_total) != cp.hash {
            let finding = Finding {
                chain,
                seq: cp.through_seq,
                problem: Problem::BadCheckpoint,
            };
            return Ok((Some(cp), Some(finding)));
        }
        prev = cp.hash;
        latest = Some(cp);
    }
    Ok((latest, None))
}

/// The walker's diagnosis lookups in one chain's table (`decisions` or `linked_records`).
pub(super) struct SqlLookup<'c> {
    pub conn: &'c Connection,
    pub table: &'static str,
}

impl ChainLookup for SqlLookup<'_> {
    fn seq_with_hash(&mut self, hash: &[u8]) -> Result<Option<i64>, String> {
        let sql = format!("SELECT seq FROM {} WHERE hash = ?1", self.table);
        self.conn
            .query_row(&sql, [hash], |r| r.get(0))
            .optional()
            .map_err(|e| e.to_string())
    }

    fn prev_hash_of(&mut self, seq: i64) -> Result<Option<Vec<u8>>, String> {
        let sql = format!("SELECT prev_hash FROM {} WHERE seq = ?1", self.table);
        self.conn
            .query_row(&sql, [seq], |r| r.get(0))
            .optional()
            .map_err(|e| e.to_string())
    }
}
