//! Everything a query needs beyond the chain table is derived data, kept off the durable
//! append path: the free-text index and the filter indexes (partial indexes over the rows
//! marked `indexed`, schema migration 4). A batch commits (and its callers are answered)
//! having written only the chain table and its sequential `ts` index; afterwards the writer
//! indexes the committed records in steps (`index_state.indexed_seq` says how far it got).
//! Big steps are what make this pay: one step writes each index page it touches once for
//! thousands of records, where per-batch indexing rewrote it for every few dozen.
//!
//! A step's index entries, flags and position move in one transaction, so a crash at any
//! point leaves them consistent and the next writer picks up exactly where the last one
//! stopped. Records are re-read from the `decisions` table, so catching up after a crash and
//! keeping up under load are the same code. Queries cover the records not indexed yet by
//! scanning that tail (read.rs); free-text search indexes it first (mod.rs).

use rusqlite::{Connection, TransactionBehavior};

use crate::record::search_text;

/// How far the indexes have got and how far the chain goes: `(indexed_seq, head_seq)`.
pub fn positions(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row(
        "SELECT i.indexed_seq, c.head_seq FROM index_state i, chain_state c WHERE i.id = 1 AND c.id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Index up to `max` committed records that are not indexed yet, in one transaction.
/// Returns the new `(indexed_seq, head_seq)`.
pub fn index_pending(conn: &mut Connection, max: usize) -> rusqlite::Result<(i64, i64)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (from, head) = positions(&tx)?;
    let mut indexed = from;
    if indexed < head {
        let mut select = tx.prepare_cached(
            "SELECT seq, decision_id, correlation_id, tenant_id, capability_id, matched_rule_id, \
             worker, deny_code, deny_message FROM decisions WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let mut insert =
            tx.prepare_cached("INSERT INTO decisions_fts (rowid, body) VALUES (?1, ?2)")?;
        let mut rows = select.query((indexed, i64::try_from(max).unwrap_or(i64::MAX)))?;
        let mut count = 0;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let columns = (1..=8).map(|i| row.get_ref(i).ok()?.as_str_or_null().ok()?);
            insert.execute((seq, search_text(columns)))?;
            indexed = seq;
            count += 1;
        }
        // Fewer rows than asked for: everything up to the head is indexed (records pruned
        // before they were indexed leave no rows to index).
        if count < max {
            indexed = head;
        }
        // Marking the rows puts them into every filter index (SQLite maintains the partial
        // indexes), in seq order: each index's new entries for a value land side by side.
        tx.prepare_cached("UPDATE decisions SET indexed = 1 WHERE seq > ?1 AND seq <= ?2")?
            .execute((from, indexed))?;
        tx.prepare_cached("UPDATE index_state SET indexed_seq = ?1 WHERE id = 1")?
            .execute([indexed])?;
    }
    tx.commit()?;
    Ok((indexed, head))
}
