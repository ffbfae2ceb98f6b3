//! Appending one batch: a single IMMEDIATE transaction that reads the chain head, inserts and
//! chains every record and moves the head. Free text is indexed later (fts.rs). Reading the head inside the
//! write lock (instead of caching it) keeps the chain linear even if two processes write.

use rusqlite::{Connection, TransactionBehavior};

use super::codec::Codec;
use crate::backend::Receipt;
use crate::chain::{chain_hash, Hash};
use crate::error::{LedgerError, Result};
use crate::record::NewRecord;

const INSERT: &str = "INSERT INTO decisions (seq, ts, decision_id, correlation_id, tenant_id, \
    capability_id, matched_rule_id, worker, env, data_label, qos_class, denied, deny_code, \
    deny_message, dry_run, artifact_hash, prev_hash, hash, body) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";

pub fn append_batch(
    conn: &mut Connection,
    codec: &Codec,
    batch: &[NewRecord],
) -> rusqlite::Result<Vec<Result<Receipt>>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (mut seq, mut prev) = head(&tx)?;
    let mut receipts = Vec::with_capacity(batch.len());
    {
        let mut insert = tx.prepare_cached(INSERT)?;
        for record in batch {
            let f = &record.fields;
            let next = seq + 1;
            let hash = chain_hash(&prev, record.json.as_bytes());
            let encoded;
            let body = match &record.encoded {
                Some(body) => body,
                None => {
                    encoded = codec.encode(record.json.as_bytes()).map_err(codec_error)?;
                    &encoded
                }
            };
            let inserted = insert.execute(rusqlite::params![
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
                body,
            ]);
            match inserted {
                Ok(_) => {}
                // A failed statement leaves the transaction intact: reject only this record.
                Err(e) if is_unique_violation(&e) => {
                    receipts.push(Err(LedgerError::DuplicateDecision(f.decision_id.clone())));
                    continue;
                }
                Err(e) => return Err(e),
            }
            seq = next;
            prev = hash;
            receipts.push(Ok(Receipt {
                seq,
                hash: hex::encode(hash),
            }));
        }
    }
    tx.execute(
        "UPDATE chain_state SET head_seq = ?1, head_hash = ?2 WHERE id = 1",
        (seq, prev.as_slice()),
    )?;
    tx.commit()?;
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

/// Only the `decision_id` index is UNIQUE, so this is a duplicate decision.
fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

fn codec_error(detail: String) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(detail.into())
}
