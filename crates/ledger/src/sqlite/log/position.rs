//! Where the chain stands, for what is kept outside the file (the hall's signed checkpoints and
//! receipts): the head, and the hash the chain holds at a given seq.

use rusqlite::{Connection, OptionalExtension};

use super::schema::chain_state;
use crate::backend::{HashAt, Receipt};

/// The last committed record (seq 0 and the genesis when there is none).
pub fn head(conn: &Connection) -> rusqlite::Result<Receipt> {
    let (_, seq, hash) = chain_state(conn)?;
    Ok(Receipt {
        seq,
        hash: hex::encode(hash),
        batch: None,
    })
}

/// The chain hash at `seq`: the record's, the genesis's at 0, or a retention checkpoint's at
/// the last seq it pruned.
pub fn hash_at(conn: &Connection, seq: i64) -> rusqlite::Result<HashAt> {
    // One snapshot: a prune between the two reads must not turn a held record into "missing".
    let tx = conn.unchecked_transaction()?;
    if seq == 0 {
        return Ok(HashAt::Held(hex::encode(chain_state(&tx)?.0)));
    }
    let held: Option<Vec<u8>> = tx
        .query_row("SELECT hash FROM decisions WHERE seq = ?1", [seq], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(hash) = held {
        return Ok(HashAt::Held(hex::encode(hash)));
    }
    let pruned: Option<(i64, Vec<u8>)> = tx
        .query_row(
            "SELECT through_seq, through_hash FROM checkpoints WHERE through_seq >= ?1 \
             ORDER BY through_seq LIMIT 1",
            [seq],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match pruned {
        Some((through, hash)) if through == seq => HashAt::Held(hex::encode(hash)),
        Some(_) => HashAt::Pruned,
        None => HashAt::Missing,
    })
}
