//! Appending one batch: a single IMMEDIATE transaction that reads the chain head, inserts and
//! chains every record and moves the head. The filter and free-text indexes are filled later
//! (index/derived.rs). Reading the head inside the write lock (instead of caching it) keeps the
//! chain linear even if two processes write.

use std::borrow::Cow;

use rusqlite::{Connection, TransactionBehavior};

use super::codec::Codec;
use crate::backend::Receipt;
use crate::chain::{chain_hash, Hash};
use crate::error::{LedgerError, Result};
use crate::record::{lookup_key, NewRecord, Prepared};
use crate::sqlite::index::tail::TailKeys;

const INSERT: &str = "INSERT INTO decisions (seq, ts, decision_id, correlation_id, tenant_id, \
    capability_id, matched_rule_id, worker, env, data_label, qos_class, denied, deny_code, \
    deny_message, dry_run, artifact_hash, prev_hash, hash, body, decision_key) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)";

/// Decision ids are unique. Indexed records are probed through their `decision_key` index
/// (a 64-bit key of the id, schema migrations 3 and 4); the records after it only
/// when the writer's [`TailKeys`] hold the key. Both compare the id itself, so ids whose keys
/// collide are still told apart. (A separate statement: an `INSERT … SELECT … WHERE NOT
/// EXISTS` on the same table makes SQLite stage every row in a temporary table first.)
const EXISTS_INDEXED: &str = "SELECT 1 FROM by_decision_key x JOIN decisions d ON d.seq = x.seq \
    WHERE x.value = ?1 AND d.decision_id = ?2";
const EXISTS_IN_TAIL: &str = "SELECT 1 FROM decisions NOT INDEXED \
    WHERE seq > ?3 AND decision_key = ?1 AND decision_id = ?2";

/// The per-record work that needs no database: compress the JSON and key the decision id
/// (run on the caller's thread by `GroupCommitHooks::prepare`).
pub fn prepare(codec: &Codec, record: &NewRecord) -> std::result::Result<Prepared, String> {
    Ok(Prepared {
        body: codec.encode(record.json.as_bytes())?,
        decision_key: lookup_key(&record.fields.decision_id),
    })
}

pub fn append_batch(
    conn: &mut Connection,
    tail: &mut TailKeys,
    codec: &Codec,
    batch: &[NewRecord],
) -> rusqlite::Result<Vec<Result<Receipt>>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (mut seq, mut prev) = head(&tx)?;
    let (indexed, _) = crate::sqlite::index::derived::positions(&tx)?;
    tail.sync(&tx, indexed, seq)?;
    tail.indexed_through(indexed);
    let mut receipts = Vec::with_capacity(batch.len());
    {
        let mut insert = tx.prepare_cached(INSERT)?;
        let mut exists_indexed = tx.prepare_cached(EXISTS_INDEXED)?;
        let mut exists_in_tail = tx.prepare_cached(EXISTS_IN_TAIL)?;
        for record in batch {
            let f = &record.fields;
            let next = seq + 1;
            let prepared = match &record.prepared {
                Some(p) => Cow::Borrowed(p),
                None => Cow::Owned(prepare(codec, record).map_err(codec_error)?),
            };
            let key = prepared.decision_key;
            let duplicate = (tail.might_hold(key)
                && exists_in_tail.exists((key, &f.decision_id, indexed))?)
                || exists_indexed.exists((key, &f.decision_id))?;
            if duplicate {
                receipts.push(Err(LedgerError::DuplicateDecision(f.decision_id.clone())));
                continue;
            }
            let hash = chain_hash(&prev, record.json.as_bytes());
            insert.execute(rusqlite::params![
                next,
                f.ts_micros,
                f.decision_id,
                f.correlation_id,
                f.tenant_id,
                f.capability_id,
                f.matched_rule_id,
                f.worker,
                f.env,
                f.data_label,
                f.qos_class,
                f.denied,
                f.deny_code,
                f.deny_message,
                f.dry_run,
                f.artifact_hash,
                prev.as_slice(),
                hash.as_slice(),
                prepared.body,
                prepared.decision_key,
            ])?;
            tail.push(next, key);
            seq = next;
            prev = hash;
            receipts.push(Ok(Receipt {
                seq,
                hash: hex::encode(hash),
                batch: None,
            }));
        }
    }
    tx.prepare_cached("UPDATE chain_state SET head_seq = ?1, head_hash = ?2 WHERE id = 1")?
        .execute((seq, prev.as_slice()))?;
    tx.commit()?;
    tail.committed(seq);
    Ok(receipts)
}

fn head(conn: &Connection) -> rusqlite::Result<(i64, Hash)> {
    let (_, seq, hash) = super::schema::chain_state(conn)?;
    let hash = Hash::try_from(hash.as_slice()).map_err(|_| {
        rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            Some("chain head hash is not 32 bytes".into()),
        )
    })?;
    Ok((seq, hash))
}

fn codec_error(detail: String) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(detail.into())
}
