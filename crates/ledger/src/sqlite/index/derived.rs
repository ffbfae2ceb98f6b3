//! Everything a query needs beyond the chain table is derived data, kept off the durable
//! append path and out of the ledger file (index_file.rs): the free-text index, the
//! decision-key index (entries `(key, seq)`) and the posting lists of the other filtered
//! columns (postings.rs). A batch commits (and its callers are
//! answered) having written only the chain table and its sequential `ts` index; the indexer
//! then indexes the committed records in steps, on its own connection and thread
//! (`index_state.indexed_seq` says how far it got). Big steps are what make this pay: one step
//! writes each index page it touches once for thousands of records, where per-batch indexing
//! rewrote it for every few dozen.
//!
//! A step's index entries and position move in one transaction, so a crash at any point
//! leaves them consistent and the next indexer picks up exactly where the last one stopped.
//! Records are read back from the `decisions` table, so catching up after a crash and keeping
//! up under load are the same code. Queries cover the records not indexed yet by scanning
//! that tail (read.rs); free-text search indexes it first (sqlite/mod.rs).

use std::path::Path;

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, TransactionBehavior};

use super::postings;
use crate::record::search_text;

/// Decision keys are random, so a step's entries land on random pages of their index. In one
/// table, once it outgrew a step, a step dirtied (and the WAL and checkpoints then copied) about
/// a page per entry, a cost that grew with the ledger: 7 µs of the indexer per record at 400k
/// records against 2.5 µs at 200k. So this index has two parts, a two-level LSM tree: steps
/// insert `(value, seq)` entries into the young table, which stays small (by default at most
/// [`KEY_MERGE_EVERY`] entries, a few hundred pages, so a step rewrites few of them), and once
/// it holds that many, one merge moves it into the old table in key order, writing each old
/// page about once per that many records.
/// Queries read the view [`KEY_INDEX`] over both.
pub const KEY_PARTS: [&str; 2] = ["decision_keys_young", "decision_keys_old"];
pub const KEY_INDEX: &str = "by_decision_key";
pub const KEY_MERGE_EVERY: u64 = 1 << 17;

/// How far the indexes have got and how far the chain goes: `(indexed_seq, head_seq)`.
pub fn positions(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.prepare_cached(
        "SELECT i.indexed_seq, c.head_seq FROM index_state i, chain_state c WHERE i.id = 1 AND c.id = 1",
    )?
    .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
}

/// Index up to `max` committed records that are not indexed yet, in one transaction, merge
/// the decision keys once `key_merge_every` records were indexed since the last merge, and
/// compact the posting blocks when due ([`merge_or_compact_when_due`]).
/// Returns the new `(indexed_seq, head_seq)`.
///
/// The free-text and key indexes are each filled by one `INSERT … SELECT` over the step's
/// records, inside SQLite; the posting lists by one block per value. One statement per index
/// matters most for the free-text index: FTS5 writes its pending
/// terms to disk at every statement boundary (each statement opens a savepoint), so
/// row-at-a-time inserts wrote a tiny segment per record and then spent the step merging them.
pub fn index_pending(
    conn: &mut Connection,
    max: usize,
    key_merge_every: u64,
) -> rusqlite::Result<(i64, i64)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (from, head) = positions(&tx)?;
    // Seqs are dense except for a pruned prefix, so a step may cover fewer than `max`
    // records but always moves on.
    let to = head.min(from.saturating_add(i64::try_from(max).unwrap_or(i64::MAX)));
    if from < to {
        tx.prepare_cached(&format!(
            "INSERT INTO decisions_fts (rowid, body) SELECT seq, {SEARCH_TEXT}({SEARCHED}) \
             FROM decisions WHERE seq > ?1 AND seq <= ?2"
        ))?
        .execute((from, to))?;
        tx.prepare_cached(&format!(
            "INSERT INTO {young} (value, seq) SELECT decision_key, seq FROM decisions \
             WHERE seq > ?1 AND seq <= ?2",
            young = KEY_PARTS[0]
        ))?
        .execute((from, to))?;
        postings::index_step(&tx, from, to)?;
        tx.prepare_cached("UPDATE index_state SET indexed_seq = ?1 WHERE id = 1")?
            .execute([to])?;
        merge_or_compact_when_due(&tx, from, to, key_merge_every)?;
    }
    tx.commit()?;
    Ok((to.max(from), head))
}

/// Posting blocks are compacted this many times between two key merges, each time those of the
/// last window of `key_merge_every / COMPACTIONS_PER_MERGE` records (4,096 by default). Under a
/// light load a step indexes a record or two (the indexer runs soon after each quiet commit),
/// so without this a posting index would keep a row per record until the next merge, which
/// such a load may take months to reach.
const COMPACTIONS_PER_MERGE: i64 = 32;

/// Once `every` records were indexed since the last merge, move the young decision keys into
/// the old table and compact the posting blocks of all the records since that merge; otherwise,
/// when a step `(from, to]` smaller than a compaction window ended one, compact the posting
/// blocks of that window (a step as big as a window already wrote blocks as big).
/// Seqs are dense, and a fresh index file and a prune start `keys_merged_seq` past the records
/// gone, so `to - keys_merged_seq` is how many keys the young table holds. It is read in key
/// order, so the old one is written front to back.
fn merge_or_compact_when_due(
    tx: &Connection,
    from: i64,
    to: i64,
    every: u64,
) -> rusqlite::Result<()> {
    let merged: i64 = tx
        .prepare_cached("SELECT keys_merged_seq FROM index_state WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    let every = i64::try_from(every).unwrap_or(i64::MAX);
    if to.saturating_sub(merged) < every {
        let window = (every / COMPACTIONS_PER_MERGE).max(1);
        if to - from < window && from / window != to / window {
            postings::compact(tx, (to / window * window - window).max(merged))?;
        }
        return Ok(());
    }
    let [young, old] = KEY_PARTS;
    tx.prepare_cached(&format!(
        "INSERT INTO {old} (value, seq) SELECT value, seq FROM {young}"
    ))?
    .execute([])?;
    tx.prepare_cached(&format!("DELETE FROM {young}"))?
        .execute([])?;
    postings::compact(tx, merged)?;
    tx.prepare_cached("UPDATE index_state SET keys_merged_seq = ?1 WHERE id = 1")?
        .execute([to])?;
    Ok(())
}

/// The SQL function that gives the free-text index a record's text ([`search_text`] of the
/// columns [`SEARCHED`] names); registered on every connection that indexes.
const SEARCH_TEXT: &str = "proctor_search_text";
const SEARCHED: &str = "decision_id, correlation_id, tenant_id, capability_id, \
    matched_rule_id, worker, deny_code, deny_message";

pub fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        SEARCH_TEXT,
        -1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            // A column that is not text (only a damaged record has one) is left out.
            let columns = (0..ctx.len()).map(|i| ctx.get_raw(i).as_str_or_null().ok().flatten());
            Ok(search_text(columns))
        },
    )
}

/// Retention pruned the ledger's oldest records (`ledger.checkpoints` says through which seq):
/// drop their index entries (queries join entries to records, so they were already unseen)
/// and move `indexed_seq` past them. Runs after every prune and at every open, so a crash
/// between the prune and this leaves nothing behind.
pub fn forget_pruned(conn: &Connection) -> rusqlite::Result<()> {
    let (through, forgotten): (i64, i64) = conn.query_row(
        "SELECT (SELECT coalesce(max(through_seq), 0) FROM ledger.checkpoints), pruned_seq \
         FROM main.index_state WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if through <= forgotten {
        return Ok(());
    }
    let mut sql =
        format!("BEGIN IMMEDIATE; DELETE FROM main.decisions_fts WHERE rowid <= {through};");
    for table in KEY_PARTS {
        sql.push_str(&format!("DELETE FROM main.{table} WHERE seq <= {through};"));
    }
    sql.push_str(&postings::forget_sql("main", through));
    sql.push_str(&format!(
        "UPDATE main.index_state SET pruned_seq = {through}, \
         indexed_seq = max(indexed_seq, {through}), \
         keys_merged_seq = max(keys_merged_seq, {through}) WHERE id = 1; COMMIT;"
    ));
    conn.execute_batch(&sql).inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    })
}

/// The filter indexes are tables, which SQLite's `integrity_check` cannot hold against the
/// records: check each both ways (entries whose record differs or is gone, and indexed
/// records without their entry). One line per index that is off, naming the index file
/// `index` and its cure; empty when all agree.
pub fn check_filter_indexes(conn: &Connection, index: &Path) -> rusqlite::Result<Vec<String>> {
    let (wrong, missing): (u64, u64) = conn.query_row(
        &format!(
            "SELECT \
               (SELECT count(*) FROM {KEY_INDEX} x LEFT JOIN decisions d ON d.seq = x.seq \
                 WHERE d.decision_key IS NOT x.value), \
               (SELECT count(*) FROM decisions d \
                 WHERE d.seq <= (SELECT indexed_seq FROM index_state) \
                   AND NOT EXISTS (SELECT 1 FROM {KEY_INDEX} x \
                                   WHERE x.value = d.decision_key AND x.seq = d.seq))"
        ),
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut counts = vec![(KEY_INDEX, wrong, missing)];
    counts.extend(postings::check(conn)?);
    Ok(counts
        .into_iter()
        .filter(|(_, wrong, missing)| wrong + missing > 0)
        .map(|(table, wrong, missing)| {
            format!(
                "filter index {table} in {}: {wrong} entries do not match their records, \
                 {missing} indexed records have no entry (derived data: delete that file and \
                 the next writable open rebuilds it)",
                index.display()
            )
        })
        .collect())
}
