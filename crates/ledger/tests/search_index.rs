//! The free-text index is maintained after commit (docs/ledger.md, "Free text"): records that
//! were committed but not yet indexed when a process stopped become searchable once a writer
//! opens the file again, and closing a ledger leaves nothing unindexed.

mod common;

use std::time::{Duration, Instant};

use ledger::{Filter, Ledger, LedgerBackend, NewRecord, OpenOptions, PageRequest, SqliteBackend};

fn decision_ids(range: std::ops::Range<u64>) -> (Vec<NewRecord>, Vec<String>) {
    let records: Vec<NewRecord> = range
        .map(|i| NewRecord::from_json(common::decision(i)).unwrap())
        .collect();
    let ids = records
        .iter()
        .map(|r| r.fields.decision_id.clone())
        .collect();
    (records, ids)
}

fn found(backend: &dyn LedgerBackend, id: &str) -> usize {
    let filter = Filter {
        text: Some(id.to_string()),
        ..Filter::default()
    };
    backend
        .page(&PageRequest::first(filter, 10))
        .unwrap()
        .records
        .len()
}

#[test]
fn records_committed_but_not_indexed_become_searchable_when_a_writer_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    let (records, ids) = decision_ids(0..300);
    {
        // Appending straight to the backend commits without indexing: the state a process
        // killed right after a commit leaves behind.
        let backend = SqliteBackend::open(&path, OpenOptions::default()).unwrap();
        for r in backend.append_batch(&records).unwrap() {
            r.unwrap();
        }
        assert_eq!(backend.lag(), 300);
    }
    let reader = SqliteBackend::open(&path, OpenOptions::read_only()).unwrap();
    assert_eq!(found(&reader, &ids[7]), 0, "not indexed yet");
    assert!(reader.verify(&mut |_| {}).unwrap().is_intact());

    // A writer catches up on its own while idle.
    let ledger = Ledger::open(&path).unwrap();
    let start = Instant::now();
    while ledger.backend().lag() > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "index never caught up"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let reader = SqliteBackend::open(&path, OpenOptions::read_only()).unwrap();
    for id in &ids {
        assert_eq!(found(&reader, id), 1, "{id}");
    }
}

#[test]
fn a_writable_handle_searches_every_committed_record() {
    let dir = tempfile::tempdir().unwrap();
    let backend = SqliteBackend::open(dir.path().join("l.db"), OpenOptions::default()).unwrap();
    let (records, ids) = decision_ids(0..50);
    backend.append_batch(&records).unwrap();
    assert_eq!(found(&backend, &ids[49]), 1);
    assert_eq!(backend.lag(), 0);
}

#[test]
fn closing_a_ledger_leaves_nothing_unindexed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    let ledger = Ledger::open(&path).unwrap();
    let (_, ids) = decision_ids(0..200);
    let pending: Vec<_> = (0..200)
        .map(|i| ledger.submit(common::decision(i)).unwrap())
        .collect();
    for p in pending {
        p.blocking_recv().unwrap().unwrap();
    }
    ledger.close();
    let reader = SqliteBackend::open(&path, OpenOptions::read_only()).unwrap();
    assert_eq!(found(&reader, &ids[0]), 1);
    assert_eq!(found(&reader, &ids[199]), 1);
}
