//! The free-text index is derived data, kept off the durable append path. A batch commits
//! (and its callers are answered) without touching FTS5; afterwards, between batches, the
//! writer indexes the committed records in steps (`fts_state.indexed_seq` says how far it
//! got). The index and that position move in one transaction, so a crash at any point leaves
//! them consistent, and the next writer picks up exactly where the last one stopped. Records
//! are re-read from the `decisions` table, so catching up after a crash and keeping up under
//! load are the same code.

use rusqlite::{Connection, TransactionBehavior};

use crate::record::search_text;

/// How far the index has got and how far the chain goes: `(indexed_seq, head_seq)`.
pub fn positions(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row(
        "SELECT f.indexed_seq, c.head_seq FROM fts_state f, chain_state c WHERE f.id = 1 AND c.id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Index up to `max` committed records that are not indexed yet, in one transaction.
/// Returns the new `(indexed_seq, head_seq)`.
pub fn index_pending(conn: &mut Connection, max: usize) -> rusqlite::Result<(i64, i64)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (mut indexed, head) = positions(&tx)?;
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
        tx.execute(
            "UPDATE fts_state SET indexed_seq = ?1 WHERE id = 1",
            [indexed],
        )?;
    }
    tx.commit()?;
    Ok((indexed, head))
}
