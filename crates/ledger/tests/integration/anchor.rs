//! What the hall's signed checkpoints and receipts read from the ledger: its head, and the
//! chain hash at a seq (held, pruned by retention, or missing).

use crate::common;

use chrono::DateTime;
use ledger::{HashAt, Ledger, LedgerBackend, OpenOptions, SqliteBackend};

fn ledger_with(dir: &tempfile::TempDir, n: u64) -> (Ledger, Vec<ledger::Receipt>) {
    let ledger = Ledger::open(dir.path().join("l.db")).unwrap();
    // A head is a place in the chain: the batch an append came with is not part of it.
    let receipts = (0..n)
        .map(|i| ledger::Receipt {
            batch: None,
            ..ledger.append_blocking(common::decision(i)).unwrap()
        })
        .collect();
    (ledger, receipts)
}

#[test]
fn an_empty_ledger_is_anchored_at_its_genesis() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, _) = ledger_with(&dir, 0);
    let head = ledger.backend().head().unwrap();
    assert_eq!(head.seq, 0);
    assert_eq!(
        ledger.backend().hash_at(0).unwrap(),
        HashAt::Held(head.hash.clone())
    );
    // Another ledger has another genesis: an empty file cannot stand in for this one.
    let other = tempfile::tempdir().unwrap();
    let (other, _) = ledger_with(&other, 0);
    assert_ne!(other.backend().head().unwrap().hash, head.hash);
}

#[test]
fn head_and_hashes_are_the_receipts() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, receipts) = ledger_with(&dir, 5);
    let b = ledger.backend();
    assert_eq!(&b.head().unwrap(), receipts.last().unwrap());
    for r in &receipts {
        assert_eq!(b.hash_at(r.seq).unwrap(), HashAt::Held(r.hash.clone()));
    }
    assert_eq!(b.hash_at(6).unwrap(), HashAt::Missing);
    drop(ledger);
    // The same answers read-only, as `verify-log` and `receipt verify` open it.
    let ro = SqliteBackend::open(dir.path().join("l.db"), OpenOptions::read_only()).unwrap();
    assert_eq!(&ro.head().unwrap(), receipts.last().unwrap());
    assert_eq!(
        ro.hash_at(3).unwrap(),
        HashAt::Held(receipts[2].hash.clone())
    );
}

#[test]
fn pruned_records_are_named_and_the_last_pruned_keeps_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, receipts) = ledger_with(&dir, 10);
    let b = ledger.backend();
    // decision(i) is at 2026-01-01T00:00:00Z + i seconds: this prunes seqs 1..=4.
    let cutoff = DateTime::from_timestamp(1_767_225_600 + 4, 0).unwrap();
    assert_eq!(b.prune_before(cutoff).unwrap().through_seq, Some(4));
    assert_eq!(b.hash_at(2).unwrap(), HashAt::Pruned);
    assert_eq!(
        b.hash_at(4).unwrap(),
        HashAt::Held(receipts[3].hash.clone())
    );
    assert_eq!(
        b.hash_at(5).unwrap(),
        HashAt::Held(receipts[4].hash.clone())
    );
    assert_eq!(&b.head().unwrap(), receipts.last().unwrap());
}
