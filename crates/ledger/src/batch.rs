//! The records one group commit made durable together, shared by all their receipts
//! ([`crate::Receipt::batch`]), so that a batch can be signed once instead of once per record
//! (docs/ledger.md, "Signed receipts").
//!
//! The writer only lists the batch's (seq, hash, decision id): no hashing on its thread. The
//! Merkle tree over the records ([`Batch::tree`]) and the signature of its root
//! ([`Batch::seal`]) are made once, by the first receipt holder that needs them; bulk appends
//! that need no proof never pay for them.

use std::sync::OnceLock;

use crate::merkle::{leaf_hash, Hash, Tree};

/// One record of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRecord {
    pub seq: i64,
    /// The record's chain hash.
    pub hash: Hash,
    pub decision_id: String,
}

impl BatchRecord {
    /// The record's Merkle leaf: SHA-256(0x00 ‖ seq as 8 bytes big-endian ‖ chain hash (32
    /// bytes) ‖ decision id (UTF-8)). Fixed-size fields first, so no two records share bytes.
    pub fn leaf(seq: i64, hash: &Hash, decision_id: &str) -> Hash {
        leaf_hash(&[&seq.to_be_bytes(), hash, decision_id.as_bytes()])
    }
}

/// Records with consecutive seqs, in seq order, committed and made durable together.
#[derive(Debug)]
pub struct Batch {
    records: Vec<BatchRecord>,
    tree: OnceLock<Tree>,
    seal: OnceLock<String>,
}

/// The records and nothing else: the tree and the seal follow from them.
impl PartialEq for Batch {
    fn eq(&self, other: &Self) -> bool {
        self.records == other.records
    }
}

impl Eq for Batch {}

impl Batch {
    /// `None` unless there are records and their seqs follow each other (a chain's always do;
    /// the leaf of seq `s` is at index `s - first seq`).
    pub fn new(records: Vec<BatchRecord>) -> Option<Batch> {
        let first = records.first()?.seq;
        let consecutive = records
            .iter()
            .zip(first..)
            .all(|(record, seq)| record.seq == seq);
        consecutive.then(|| Batch {
            records,
            tree: OnceLock::new(),
            seal: OnceLock::new(),
        })
    }

    pub fn first_seq(&self) -> i64 {
        self.records[0].seq
    }

    pub fn size(&self) -> u64 {
        self.records.len() as u64
    }

    pub fn records(&self) -> &[BatchRecord] {
        &self.records
    }

    /// The Merkle tree of the records' leaves ([`BatchRecord::leaf`]), in seq order: built on
    /// first use, once.
    pub fn tree(&self) -> &Tree {
        self.tree.get_or_init(|| {
            Tree::new(
                self.records
                    .iter()
                    .map(|r| BatchRecord::leaf(r.seq, &r.hash, &r.decision_id))
                    .collect(),
            )
        })
    }

    /// The audit path of the record at `seq` (`None` if the batch does not hold it).
    pub fn inclusion_proof(&self, seq: i64) -> Option<Vec<Hash>> {
        let index = u64::try_from(seq.checked_sub(self.first_seq())?).ok()?;
        self.tree().audit_path(index)
    }

    /// What the ledger's user puts on the whole batch (the hall: its signature of the batch's
    /// root), made by `make` the first time it is asked for; concurrent callers wait for that
    /// one and get the same.
    pub fn seal(&self, make: impl FnOnce(&Batch) -> String) -> &str {
        self.seal.get_or_init(|| make(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::root_from_path;

    fn record(seq: i64) -> BatchRecord {
        BatchRecord {
            seq,
            hash: [seq as u8; 32],
            decision_id: format!("d-{seq}"),
        }
    }

    #[test]
    fn a_batch_is_consecutive_records() {
        assert!(Batch::new(Vec::new()).is_none());
        assert!(Batch::new(vec![record(3), record(5)]).is_none());
        assert!(Batch::new(vec![record(4), record(3)]).is_none());
        let batch = Batch::new((7..12).map(record).collect()).unwrap();
        assert_eq!((batch.first_seq(), batch.size()), (7, 5));
    }

    #[test]
    fn every_record_proves_its_place_under_the_root() {
        for size in [1, 2, 3, 7, 8, 33] {
            let batch = Batch::new((10..10 + size).map(record).collect()).unwrap();
            let root = batch.tree().root();
            for r in batch.records() {
                let proof = batch.inclusion_proof(r.seq).unwrap();
                let leaf = BatchRecord::leaf(r.seq, &r.hash, &r.decision_id);
                let index = (r.seq - 10) as u64;
                assert_eq!(root_from_path(index, size as u64, leaf, &proof), Ok(root));
                // The leaf binds all three: another seq, hash or id leads elsewhere.
                for other in [
                    BatchRecord::leaf(r.seq + 1, &r.hash, &r.decision_id),
                    BatchRecord::leaf(r.seq, &[0xee; 32], &r.decision_id),
                    BatchRecord::leaf(r.seq, &r.hash, "d-x"),
                ] {
                    assert_ne!(root_from_path(index, size as u64, other, &proof), Ok(root));
                }
            }
            assert_eq!(batch.inclusion_proof(9), None);
            assert_eq!(batch.inclusion_proof(10 + size), None);
        }
    }

    #[test]
    fn the_seal_is_made_once() {
        let batch = Batch::new((1..4).map(record).collect()).unwrap();
        let mut made = 0;
        for _ in 0..3 {
            let seal = batch.seal(|b| {
                made += 1;
                hex::encode(b.tree().root())
            });
            assert_eq!(seal, hex::encode(batch.tree().root()));
        }
        assert_eq!(made, 1);
    }
}
