//! The filter and free-text indexes are maintained after commit (docs/ledger.md, "Indexes
//! after commit"): records committed but not yet indexed are still found by every filter, by
//! id and by trace (the tail scan), even through a read-only handle and across processes;
//! ids stay unique across the tail; records left unindexed when a process stopped become
//! searchable once a writer opens the file again; closing a ledger leaves nothing unindexed.

use crate::common;

use std::time::{Duration, Instant};

use ledger::{
    Filter, Ledger, LedgerBackend, LedgerError, NewRecord, OpenOptions, PageRequest, SqliteBackend,
    StatsRequest,
};

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
    while ledger.unindexed() > 0 {
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

/// Every filter answer over `backend`, for comparing two states of the same records.
fn answers(backend: &dyn LedgerBackend, records: &[NewRecord]) -> Vec<String> {
    let mut out = Vec::new();
    for r in records.iter().step_by(7) {
        let f = &r.fields;
        let filters = [
            Filter {
                tenant_id: Some(f.tenant_id.clone()),
                capability_id: Some(f.capability_id.clone()),
                ..Filter::default()
            },
            Filter {
                worker: f.worker.clone(),
                since: Some(ledger::micros_to_time(f.ts_micros - 5_000_000)),
                ..Filter::default()
            },
            Filter {
                rule_id: Some(f.matched_rule_id.clone()),
                denied: Some(f.denied),
                ..Filter::default()
            },
            Filter {
                deny_code: f.deny_code.clone(),
                ..Filter::default()
            },
        ];
        for filter in filters {
            let page = backend
                .page(&PageRequest::first(filter.clone(), 20))
                .unwrap();
            let seqs: Vec<i64> = page.records.iter().map(|d| d.seq).collect();
            let stats = backend
                .stats(&StatsRequest {
                    filter,
                    bucket_seconds: 60,
                    top: 5,
                })
                .unwrap();
            out.push(format!(
                "{seqs:?} {:?}",
                (stats.total, stats.denied, stats.workers)
            ));
        }
        let got = backend.get(&f.decision_id).unwrap().expect("found by id");
        let trace = backend.trace(&f.correlation_id).unwrap();
        out.push(format!(
            "{} {:?}",
            got.seq,
            trace.iter().map(|d| d.seq).collect::<Vec<_>>()
        ));
    }
    out
}

/// A writer on `path` holding `records`: indexed up to each of `indexed` in turn (one catch-up
/// per step), the rest left in the unindexed tail.
fn writer_with(path: &std::path::Path, records: &[NewRecord], indexed: &[usize]) -> SqliteBackend {
    let writer = SqliteBackend::open(path, OpenOptions::default()).unwrap();
    let mut from = 0;
    for &to in indexed {
        writer.append_batch(&records[from..to]).unwrap();
        writer.catch_up(usize::MAX).unwrap();
        from = to;
    }
    writer.append_batch(&records[from..]).unwrap();
    writer
}

#[test]
fn unindexed_records_are_found_by_every_filter_as_they_are_once_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    let (records, _) = decision_ids(0..400);
    // Half indexed, half in the tail.
    let writer = writer_with(&path, &records, &[200]);
    assert_eq!(writer.lag(), 200);
    // A read-only handle (another process, e.g. the CLI beside a running hall) included.
    let reader = SqliteBackend::open(&path, OpenOptions::read_only()).unwrap();
    let before = answers(&reader, &records);
    assert_eq!(before, answers(&writer, &records));
    assert!(
        before.iter().all(|a| !a.starts_with("[]")),
        "every filter finds something"
    );

    writer.catch_up(usize::MAX).unwrap();
    assert_eq!(writer.lag(), 0);
    assert_eq!(
        answers(&reader, &records),
        before,
        "same answers once indexed"
    );
}

#[test]
fn ids_stay_unique_across_the_tail_and_across_writers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    let (records, _) = decision_ids(0..6);
    let is_duplicate =
        |r: &ledger::Result<ledger::Receipt>| matches!(r, Err(LedgerError::DuplicateDecision(_)));
    let a = SqliteBackend::open(&path, OpenOptions::default()).unwrap();
    let b = SqliteBackend::open(&path, OpenOptions::default()).unwrap();
    // In one batch, and in the writer's own tail.
    let got = a
        .append_batch(&[records[0].clone(), records[0].clone()])
        .unwrap();
    assert!(got[0].is_ok() && is_duplicate(&got[1]));
    assert!(is_duplicate(&a.append_batch(&records[..1]).unwrap()[0]));
    // In another writer's tail: b never saw a's appends.
    assert!(is_duplicate(&b.append_batch(&records[..1]).unwrap()[0]));
    assert!(b.append_batch(&records[1..2]).unwrap()[0].is_ok());
    assert!(is_duplicate(&a.append_batch(&records[1..2]).unwrap()[0]));
    // Indexed by one writer, probed by the other.
    a.catch_up(usize::MAX).unwrap();
    assert!(is_duplicate(&b.append_batch(&records[..2]).unwrap()[1]));
    assert!(a
        .append_batch(&records[2..6])
        .unwrap()
        .iter()
        .all(|r| r.is_ok()));
    assert!(a.verify(&mut |_| {}).unwrap().is_intact());
    assert_eq!(
        b.page(&PageRequest::first(Filter::default(), 50))
            .unwrap()
            .records
            .len(),
        6
    );
}

#[test]
fn correlation_ids_are_matched_exactly_through_the_free_text_index() {
    // The free-text index finds candidates by words (case-folded, split at punctuation); the
    // exact column decides. Ids with no word in them at all are found by a scan.
    let dir = tempfile::tempdir().unwrap();
    let backend = SqliteBackend::open(dir.path().join("l.db"), OpenOptions::default()).unwrap();
    let ids = ["Req:ABC/1", "req:abc/1", "req abc 1", "::", "//"];
    let records: Vec<NewRecord> = (0..10)
        .map(|i| {
            let json = common::decision_with(i, 1_767_225_600 + i as i64, ids[i as usize % 5]);
            NewRecord::from_json(json).unwrap()
        })
        .collect();
    backend.append_batch(&records[..5]).unwrap();
    backend.catch_up(usize::MAX).unwrap();
    backend.append_batch(&records[5..]).unwrap(); // the second five stay in the tail
    for (i, id) in ids.iter().enumerate() {
        let trace: Vec<i64> = backend.trace(id).unwrap().iter().map(|d| d.seq).collect();
        assert_eq!(trace, vec![i as i64 + 1, i as i64 + 6], "{id}");
        let filter = Filter {
            correlation_id: Some(id.to_string()),
            ..Filter::default()
        };
        let page: Vec<i64> = backend
            .page(&PageRequest::first(filter, 10))
            .unwrap()
            .records
            .iter()
            .map(|d| d.seq)
            .collect();
        assert_eq!(page, vec![i as i64 + 6, i as i64 + 1], "{id}");
    }
}

/// What `decisions_per_worker` must answer: the records counted one by one.
fn counted(records: &[NewRecord]) -> Vec<(String, u64)> {
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for r in records {
        if let Some(w) = &r.fields.worker {
            *counts.entry(w.clone()).or_default() += 1;
        }
    }
    let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}

fn per_worker(backend: &dyn LedgerBackend) -> Vec<(String, u64)> {
    let counts = backend.decisions_per_worker().unwrap();
    counts.into_iter().map(|c| (c.key, c.count)).collect()
}

#[test]
fn decisions_per_worker_counts_the_index_the_tail_and_leaves_out_pruned_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    let (records, _) = decision_ids(0..600);
    // Indexed in two steps (so a worker has several blocks), then a tail.
    let writer = writer_with(&path, &records, &[150, 400]);
    assert_eq!(writer.lag(), 200);
    let expected = counted(&records);
    assert!(expected.len() > 3, "several workers: {expected:?}");
    assert_eq!(per_worker(&writer), expected);
    let reader = SqliteBackend::open(&path, OpenOptions::read_only()).unwrap();
    assert_eq!(per_worker(&reader), expected, "a read-only handle agrees");

    // Retention cuts inside the first blocks: their pruned seqs are no longer counted.
    let cutoff = ledger::micros_to_time(records[100].fields.ts_micros);
    assert_eq!(writer.prune_before(cutoff).unwrap().through_seq, Some(100));
    assert_eq!(per_worker(&writer), counted(&records[100..]));
    writer.catch_up(usize::MAX).unwrap();
    assert_eq!(per_worker(&writer), counted(&records[100..]), "all indexed");
}
