//! Linked records in SQLite: appending a batch in one transaction on the writer's connection
//! (durable once the caller's WAL flush returns, sqlite/mod.rs) and listing them through their
//! indexes. The chain walk and retention are in linked_chain.rs.

use rusqlite::types::{Type, Value};
use rusqlite::{params_from_iter, Connection, OptionalExtension, TransactionBehavior};

use super::schema::linked_head;
use crate::chain::{chain_hash, Hash};
use crate::error::{LedgerError, Result};
use crate::linked::{
    stored_time, LinkedColumns, LinkedFilter, LinkedRecord, NewLinkedRecord, MAX_LINKED_BYTES,
};
use crate::record::lookup_key;
use crate::sqlite::index::derived::{self, KEY_INDEX};
use crate::sqlite::index::read::ReadError;
use crate::sqlite::index::tail::TailKeys;

const INSERT: &str = "INSERT INTO linked_records (seq, ts, kind, decision_id, decision_key, \
    decision_seq, correlation_id, correlation_key, server, tool, prev_hash, hash, json) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

/// Append `batch` in order in one IMMEDIATE transaction: the linked head is read inside the
/// write lock (so two processes keep one linear chain, as for decisions), every record is
/// linked to its decision and chained, and the head moves once. A record that fails its
/// checks gets its error and is not written; the others are.
pub fn append(
    conn: &mut Connection,
    tail: &mut TailKeys,
    batch: &[NewLinkedRecord],
) -> rusqlite::Result<Vec<Result<LinkedRecord>>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Decisions not yet in the key index are found through the writer's tail keys, which
    // must cover the chain as it is now (another process may have appended).
    let (indexed, head) = derived::positions(&tx)?;
    tail.sync(&tx, indexed, head)?;
    tail.indexed_through(indexed);
    let (first, prev) = linked_head(&tx)?;
    let mut prev = Hash::try_from(prev.as_slice()).map_err(|_| {
        rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            Some("linked chain head hash is not 32 bytes".into()),
        )
    })?;
    let mut seq = first;
    let mut results = Vec::with_capacity(batch.len());
    {
        let mut insert = tx.prepare_cached(INSERT)?;
        for record in batch {
            let mut linked = match link(&tx, tail, record, seq + 1)? {
                Ok(linked) => linked,
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            let json = linked.chained_json();
            if json.len() > MAX_LINKED_BYTES {
                results.push(Err(LedgerError::BadRecord(format!(
                    "linked record for decision {:?} is {} bytes of JSON, more than {MAX_LINKED_BYTES}",
                    record.decision_id,
                    json.len()
                ))));
                continue;
            }
            let hash = chain_hash(&prev, json.as_bytes());
            let c = LinkedColumns::of(&linked);
            insert.execute(rusqlite::params![
                linked.seq,
                c.ts,
                c.kind,
                c.decision_id,
                c.decision_key,
                c.decision_seq,
                c.correlation_id,
                c.correlation_key,
                c.server,
                c.tool,
                prev.as_slice(),
                hash.as_slice(),
                json,
            ])?;
            linked.hash = hex::encode(hash);
            seq = linked.seq;
            prev = hash;
            results.push(Ok(linked));
        }
    }
    if seq != first {
        tx.prepare_cached(
            "UPDATE linked_chain_state SET head_seq = ?1, head_hash = ?2 WHERE id = 1",
        )?
        .execute((seq, prev.as_slice()))?;
    }
    tx.commit()?;
    Ok(results)
}

/// `record` checked and linked to its decision, as the linked record `seq` (hash not yet set).
fn link(
    conn: &Connection,
    tail: &TailKeys,
    record: &NewLinkedRecord,
    seq: i64,
) -> rusqlite::Result<Result<LinkedRecord>> {
    if let Err(e) = record.check() {
        return Ok(Err(e));
    }
    let Some((decision_seq, decision_hash)) = find_decision(conn, tail, &record.decision_id)?
    else {
        return Ok(Err(LedgerError::BadRecord(format!(
            "linked record ({}) names decision {:?}, which is not in the ledger",
            record.kind, record.decision_id
        ))));
    };
    let mut record = record.clone();
    record.at = stored_time(record.at);
    Ok(Ok(LinkedRecord {
        seq,
        hash: String::new(),
        decision_seq,
        decision_hash: hex::encode(decision_hash),
        record,
    }))
}

/// The `(seq, hash)` of decision `id`: first among the records not yet indexed (the writer's
/// tail keys; a linked record usually follows its decision closely), then through the key
/// index. Both compare the id itself, since keys can collide.
fn find_decision(
    conn: &Connection,
    tail: &TailKeys,
    id: &str,
) -> rusqlite::Result<Option<(i64, Vec<u8>)>> {
    let key = lookup_key(id);
    let mut by_seq =
        conn.prepare_cached("SELECT decision_id, hash FROM decisions WHERE seq = ?1")?;
    for seq in tail.seqs_with(key) {
        let row: Option<(String, Vec<u8>)> = by_seq
            .query_row([seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((_, hash)) = row.filter(|(found, _)| found == id) {
            return Ok(Some((seq, hash)));
        }
    }
    conn.prepare_cached(&format!(
        "SELECT d.seq, d.hash FROM {KEY_INDEX} x JOIN decisions d ON d.seq = x.seq \
         WHERE x.value = ?1 AND d.decision_id = ?2"
    ))?
    .query_row((key, id), |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()
}

/// One page of linked records. The most selective filter present drives the walk through
/// its index (named with `INDEXED BY`, so a lost index fails loudly instead of scanning):
/// decision, correlation, server and tool, server, tool, kind; the others are checked on
/// each row. Every index ends in `seq`, so neither order needs a sort.
pub fn list(conn: &Connection, filter: &LinkedFilter) -> Result<Vec<LinkedRecord>, ReadError> {
    let (sql, params) = select(filter)?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(params.iter()), |r| {
        let seq: i64 = r.get(0)?;
        let hash: Vec<u8> = r.get(1)?;
        let json: String = r.get(2)?;
        LinkedRecord::from_chained(seq, hex::encode(hash), &json).map_err(|detail| {
            let detail =
                format!("linked record {seq} cannot be read ({detail}); run `proctor verify-log`");
            rusqlite::Error::FromSqlConversionFailure(2, Type::Text, detail.into())
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The statement [`list`] runs for `filter`, and its parameters.
fn select(filter: &LinkedFilter) -> Result<(String, Vec<Value>)> {
    let limit = filter.page_size()?;
    let mut clauses: Vec<&str> = vec!["1"];
    let mut params: Vec<Value> = Vec::new();
    let mut driver: Option<&str> = None;
    let text = |v: &String| Value::Text(v.clone());
    if let Some(id) = &filter.decision_id {
        clauses.extend(["decision_key = ?", "decision_id = ?"]);
        params.extend([Value::Integer(lookup_key(id)), text(id)]);
        driver = driver.or(Some("linked_decision"));
    }
    if let Some(id) = &filter.correlation_id {
        clauses.extend(["correlation_key = ?", "correlation_id = ?"]);
        params.extend([Value::Integer(lookup_key(id)), text(id)]);
        driver = driver.or(Some("linked_correlation"));
    }
    let by_server = match (&filter.server, &filter.tool) {
        (Some(_), Some(_)) => Some("linked_server_tool"),
        (Some(_), None) => Some("linked_server"),
        (None, Some(_)) => Some("linked_tool"),
        (None, None) => None,
    };
    if let Some(server) = &filter.server {
        clauses.push("server = ?");
        params.push(text(server));
    }
    if let Some(tool) = &filter.tool {
        clauses.push("tool = ?");
        params.push(text(tool));
    }
    driver = driver.or(by_server);
    if let Some(kind) = &filter.kind {
        clauses.push("kind = ?");
        params.push(text(kind));
        driver = driver.or(Some("linked_kind"));
    }
    if let Some(before) = filter.before_seq {
        clauses.push("seq < ?");
        params.push(Value::Integer(before));
    }
    if let Some(after) = filter.after_seq {
        clauses.push("seq > ?");
        params.push(Value::Integer(after));
    }
    let from = match driver {
        Some(index) => format!("linked_records INDEXED BY {index}"),
        None => "linked_records".to_string(),
    };
    let order = if filter.oldest_first() { "ASC" } else { "DESC" };
    // The limit is a parameter, so pages of any size share one cached statement.
    let sql = format!(
        "SELECT seq, hash, json FROM {from} WHERE {} ORDER BY seq {order} LIMIT ?",
        clauses.join(" AND ")
    );
    params.push(Value::Integer(limit as i64));
    Ok((sql, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every filter `list` can run walks one index, keyset bound included, with no sort and
    /// no scan of the table: what keeps pages fast on millions of records.
    #[test]
    fn every_filter_walks_an_index_without_a_sort() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db");
        drop(crate::SqliteBackend::open(&path, crate::OpenOptions::default()).unwrap());
        let conn = Connection::open(&path).unwrap();
        let some = |s: &str| Some(s.to_string());
        let cases = [
            (LinkedFilter::decision("d"), "linked_decision"),
            (
                LinkedFilter {
                    decision_id: some("d"),
                    kind: some("approval"),
                    server: some("s"),
                    after_seq: Some(3),
                    ..LinkedFilter::default()
                },
                "linked_decision",
            ),
            (
                LinkedFilter {
                    correlation_id: some("c"),
                    kind: some("mcp_call"),
                    ..LinkedFilter::default()
                },
                "linked_correlation",
            ),
            (
                LinkedFilter {
                    correlation_id: some("c"),
                    order: Some(crate::LinkedOrder::NewestFirst),
                    before_seq: Some(9),
                    ..LinkedFilter::default()
                },
                "linked_correlation",
            ),
            (
                LinkedFilter {
                    server: some("s"),
                    tool: some("t"),
                    kind: some("mcp_call"),
                    before_seq: Some(9),
                    ..LinkedFilter::default()
                },
                "linked_server_tool",
            ),
            (
                LinkedFilter {
                    server: some("s"),
                    before_seq: Some(9),
                    ..LinkedFilter::default()
                },
                "linked_server",
            ),
            (
                LinkedFilter {
                    tool: some("t"),
                    ..LinkedFilter::default()
                },
                "linked_tool",
            ),
            (
                LinkedFilter {
                    kind: some("approval"),
                    before_seq: Some(9),
                    ..LinkedFilter::default()
                },
                "linked_kind",
            ),
        ];
        for (filter, index) in cases {
            let (sql, params) = select(&filter).unwrap();
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map(params_from_iter(params.iter()), |r| r.get(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert_eq!(plan.len(), 1, "{filter:?}: {plan:?}");
            assert!(
                plan[0].starts_with(&format!("SEARCH linked_records USING INDEX {index} ")),
                "{filter:?}: {plan:?}"
            );
            let bounded = filter.before_seq.is_some() || filter.after_seq.is_some();
            assert_eq!(plan[0].contains("rowid"), bounded, "{filter:?}: {plan:?}");
        }
    }
}
