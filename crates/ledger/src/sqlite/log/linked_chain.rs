//! The linked-record chain: walking it (verify, and before retention prunes a prefix of it)
//! and pruning it. The same [`Walker`] as the decision chain checks order, hashes and links
//! between records; on top, each record's link is held against the decision it names.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension};

use super::retention::PruneError;
use super::schema::{chain_state, linked_head};
use super::verify::{checkpoints, corrupt_at, to_hash, SqlLookup};
use crate::chain::{checkpoint_hash, Chain, ChainRow, Checkpoint, Finding, Hash, Problem, Walker};
use crate::linked::{linked_genesis, LinkedColumns, LinkedRecord};

const PROGRESS_EVERY: u64 = 10_000;

/// What a walk of the linked chain found.
pub(super) struct LinkedWalk {
    pub checked: u64,
    pub last_seq: i64,
    pub checkpoint: Option<Checkpoint>,
    /// Records whose decision was pruned (their link cannot be checked any more).
    pub to_pruned: u64,
    pub finding: Option<Finding>,
}

/// How many linked records a full walk will check (for progress).
pub(super) fn pending(conn: &Connection) -> rusqlite::Result<u64> {
    let (head_seq, _) = linked_head(conn)?;
    let after: Option<i64> = conn
        .query_row(
            "SELECT through_seq FROM linked_checkpoints ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok((head_seq - after.unwrap_or(0)).max(0) as u64)
}

/// The linked chain's genesis: derived from the decision chain's (linked.rs).
fn genesis(conn: &Connection) -> rusqlite::Result<Hash> {
    let (decisions_genesis, _, _) = chain_state(conn)?;
    Ok(linked_genesis(&decisions_genesis))
}

/// Walk the linked chain from its latest checkpoint, up to `through_seq` (a prefix about to
/// be pruned) or else to its head, which must then match. Links to decisions at or before
/// `decisions_pruned_through` (the decision chain's checkpoint) are counted as pruned; every
/// other link must name a decision with the linked id and chain hash.
pub(super) fn walk(
    conn: &Connection,
    decisions_pruned_through: i64,
    through_seq: Option<i64>,
    progress: &mut dyn FnMut(u64),
) -> rusqlite::Result<LinkedWalk> {
    let genesis = genesis(conn)?;
    let (checkpoint, bad_checkpoint) = checkpoints(conn, Chain::Linked, &genesis)?;
    let mut report = LinkedWalk {
        checked: 0,
        last_seq: 0,
        checkpoint: checkpoint.clone(),
        to_pruned: 0,
        finding: bad_checkpoint,
    };
    if report.finding.is_some() {
        return Ok(report);
    }
    let (start_seq, start_hash) = checkpoint
        .as_ref()
        .map_or((0, genesis), |c| (c.through_seq, c.through_hash));
    let (head_seq, head_hash) = linked_head(conn)?;
    let mut walker = Walker::new(Chain::Linked, start_seq, start_hash);
    let mut lookup = SqlLookup {
        conn,
        table: "linked_records",
    };
    let mut decision = conn.prepare("SELECT decision_id, hash FROM decisions WHERE seq = ?1")?;
    let mut stmt = conn.prepare(
        "SELECT seq, prev_hash, hash, json, ts, kind, decision_id, decision_key, decision_seq, \
         correlation_id, correlation_key, server, tool \
         FROM linked_records WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
    )?;
    // Rows past the head are forged appends: scan them too so `finish` can say so.
    let scan_end = through_seq.unwrap_or(i64::MAX);
    let mut rows = stmt.query((start_seq, scan_end))?;
    let mut reported = 0;
    loop {
        let row = match rows.next() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                report.finding = Some(corrupt_at(Chain::Linked, walker.last_seq() + 1, &e));
                break;
            }
        };
        let stepped = read_row(row)
            .map_err(|e| corrupt_at(Chain::Linked, walker.last_seq() + 1, &e))
            .and_then(|stored| {
                step(
                    &mut walker,
                    &mut lookup,
                    &mut decision,
                    &stored,
                    decisions_pruned_through,
                )
            });
        let finding = match stepped {
            Ok(Link::Intact) => None,
            Ok(Link::Pruned) => {
                report.to_pruned += 1;
                None
            }
            Err(finding) => Some(finding),
        };
        if finding.is_some() {
            report.finding = finding;
            break;
        }
        if walker.checked() >= reported + PROGRESS_EVERY {
            reported = walker.checked();
            progress(reported);
        }
    }
    if report.finding.is_none() && through_seq.is_none() {
        report.finding = walker.finish(head_seq, &to_hash(&head_hash));
    }
    progress(walker.checked());
    report.checked = walker.checked();
    report.last_seq = walker.last_seq();
    Ok(report)
}

/// A linked row as stored.
struct StoredRow {
    seq: i64,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
    json: Vec<u8>,
    columns: LinkedColumns,
}

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRow> {
    let json = match row.get_ref(3)? {
        ValueRef::Text(b) | ValueRef::Blob(b) => b.to_vec(),
        _ => Vec::new(),
    };
    Ok(StoredRow {
        seq: row.get(0)?,
        prev_hash: row.get(1)?,
        hash: row.get(2)?,
        json,
        columns: LinkedColumns {
            ts: row.get(4)?,
            kind: row.get(5)?,
            decision_id: row.get(6)?,
            decision_key: row.get(7)?,
            decision_seq: row.get(8)?,
            correlation_id: row.get(9)?,
            correlation_key: row.get(10)?,
            server: row.get(11)?,
            tool: row.get(12)?,
        },
    })
}

enum Link {
    Intact,
    /// The decision was pruned by retention: the link cannot be checked any more.
    Pruned,
}

/// The walker's checks (order, hash, link to the previous record, columns, then the link to
/// the decision): a decision at or before `pruned_through` was pruned; any other must still
/// have the id and chain hash the record was linked to.
fn step(
    walker: &mut Walker,
    lookup: &mut SqlLookup<'_>,
    decision: &mut rusqlite::Statement<'_>,
    stored: &StoredRow,
    pruned_through: i64,
) -> Result<Link, Finding> {
    let parsed = std::str::from_utf8(&stored.json)
        .ok()
        .and_then(|json| LinkedRecord::from_chained(stored.seq, String::new(), json).ok());
    let (mismatched_column, link) = match &parsed {
        Some(record) => (
            LinkedColumns::of(record).first_difference(&stored.columns),
            check_link(decision, record, pruned_through),
        ),
        None => (Some("json"), Ok(Link::Intact)),
    };
    let row = ChainRow {
        seq: stored.seq,
        prev_hash: &stored.prev_hash,
        hash: &stored.hash,
        json: &stored.json,
        mismatched_column,
        outside_link: link.as_ref().err().cloned(),
    };
    match walker.step(&row, lookup) {
        Some(finding) => Err(finding),
        None => Ok(link.unwrap_or(Link::Intact)),
    }
}

/// Hold a linked record's link against the decision it names.
fn check_link(
    decision: &mut rusqlite::Statement<'_>,
    record: &LinkedRecord,
    pruned_through: i64,
) -> Result<Link, Problem> {
    let decision_seq = record.decision_seq;
    if decision_seq <= pruned_through {
        return Ok(Link::Pruned);
    }
    let found: Option<(String, Vec<u8>)> = decision
        .query_row([decision_seq], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(|e| Problem::Corrupt {
            detail: e.to_string(),
        })?;
    match found {
        None => Err(Problem::DecisionMissing { decision_seq }),
        Some((id, hash))
            if id == record.record.decision_id && hex::encode(&hash) == record.decision_hash =>
        {
            Ok(Link::Intact)
        }
        Some(_) => Err(Problem::DecisionChanged { decision_seq }),
    }
}

/// What pruning the linked chain did: records removed and the last removed seq.
pub(super) struct LinkedPrune {
    pub pruned: u64,
    pub through_seq: Option<i64>,
}

/// Retention for the linked chain, inside the prune's transaction, while the decisions it is
/// about to remove are still there: remove the longest prefix of linked records whose
/// decisions are all at or before `decisions_through` (pruned now or before), after walking
/// that prefix (links included: links to decisions at or before `decisions_pruned_through`,
/// the previous checkpoint, count as pruned), and chain a checkpoint of it.
///
/// Only a prefix keeps the rest verifiable from a checkpoint. A linked record of a pruned
/// decision that follows one of a kept decision stays until the prefix reaches it, at a
/// later prune; meanwhile verify counts it as linked to a pruned decision.
pub(super) fn prune(
    conn: &Connection,
    decisions_pruned_through: i64,
    decisions_through: i64,
    now_micros: i64,
) -> Result<LinkedPrune, PruneError> {
    let none = LinkedPrune {
        pruned: 0,
        through_seq: None,
    };
    let genesis = genesis(conn)?;
    let last: Option<(i64, Vec<u8>, i64)> = conn
        .query_row(
            "SELECT through_seq, hash, pruned_total FROM linked_checkpoints ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (already, prev_cp_hash, pruned_before) = last.unwrap_or_else(|| (0, genesis.to_vec(), 0));
    let (head_seq, _) = linked_head(conn)?;
    // A rowid walk from the checkpoint that stops at the first record to keep: it reads
    // about as many rows as it prunes.
    let first_kept: Option<i64> = conn
        .query_row(
            "SELECT seq FROM linked_records WHERE seq > ?1 AND decision_seq > ?2 ORDER BY seq LIMIT 1",
            (already, decisions_through),
            |r| r.get(0),
        )
        .optional()?;
    let through = first_kept.map_or(head_seq, |s| s - 1);
    if through <= already {
        return Ok(none);
    }
    let walked = walk(conn, decisions_pruned_through, Some(through), &mut |_| {})?;
    if let Some(finding) = walked.finding {
        return Err(PruneError::Broken(finding.to_string()));
    }
    let through_hash: Vec<u8> = conn.query_row(
        "SELECT hash FROM linked_records WHERE seq = ?1",
        [through],
        |r| r.get(0),
    )?;
    let pruned = conn.execute("DELETE FROM linked_records WHERE seq <= ?1", [through])? as u64;
    let pruned_total = pruned_before + pruned as i64;
    let hash = checkpoint_hash(
        &to_hash(&prev_cp_hash),
        through,
        &to_hash(&through_hash),
        pruned_total,
    );
    conn.execute(
        "INSERT INTO linked_checkpoints (created_at, through_seq, through_hash, pruned_total, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        (now_micros, through, through_hash, pruned_total, hash.as_slice()),
    )?;
    Ok(LinkedPrune {
        pruned,
        through_seq: Some(through),
    })
}
