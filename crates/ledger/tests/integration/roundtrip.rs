//! Appends through the group-commit writer into a real SQLite file and reads back.

use crate::common;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use ledger::{Filter, Ledger, LedgerBackend, LedgerError, Page, PageRequest, StatsRequest};

fn open(dir: &tempfile::TempDir) -> Ledger {
    Ledger::open(dir.path().join("ledger.db")).unwrap()
}

/// The first page (of `limit`) of a free-text search.
fn text_search(b: &dyn LedgerBackend, text: &str, limit: usize) -> Page {
    b.page(&PageRequest::first(
        Filter {
            text: Some(text.into()),
            ..Filter::default()
        },
        limit,
    ))
    .unwrap()
}

#[test]
fn every_decision_round_trips_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(&dir);
    let inputs: Vec<String> = (0..500).map(common::decision).collect();
    let receipts: Vec<_> = inputs
        .iter()
        .map(|j| ledger.append_blocking(j.as_str()).unwrap())
        .collect();
    assert_eq!(
        receipts.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=500).collect::<Vec<i64>>()
    );
    ledger.close();

    // Reopen from disk: same bytes, same receipts, chain intact.
    let ledger = open(&dir);
    for (json, receipt) in inputs.iter().zip(&receipts) {
        let id = common::id_of(json);
        let stored = ledger.backend().get(&id).unwrap().expect("stored");
        assert_eq!(&stored.json, json);
        assert_eq!(stored.seq, receipt.seq);
        assert_eq!(stored.hash, receipt.hash);
    }
    let mut progress = Vec::new();
    let report = ledger.backend().verify(&mut |p| progress.push(p)).unwrap();
    assert!(report.is_intact(), "{:?}", report.finding);
    assert_eq!(report.records_checked, 500);
    assert_eq!(
        progress.last(),
        Some(&ledger::Progress {
            done: 500,
            total: 500
        })
    );
}

#[test]
fn concurrent_producers_share_batches_and_the_chain_stays_linear() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Arc::new(open(&dir));
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let ledger = Arc::clone(&ledger);
            std::thread::spawn(move || {
                (0..250u64)
                    .map(|i| {
                        ledger
                            .append_blocking(common::decision(t * 1000 + i))
                            .unwrap()
                            .seq
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seqs: Vec<i64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    seqs.sort();
    assert_eq!(seqs, (1..=2000).collect::<Vec<_>>());
    assert!(ledger.backend().verify(&mut |_| {}).unwrap().is_intact());
}

#[test]
fn async_callers_await_their_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(&dir);
    let receipt = futures_lite_block_on(ledger.append(common::decision(7))).unwrap();
    assert_eq!(receipt.seq, 1);
    assert_eq!(receipt.hash.len(), 64);
}

/// A minimal executor: the ack future needs no runtime, which is the point.
fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Thread(std::thread::Thread);
    impl Wake for Thread {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Thread(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

#[test]
fn bad_records_and_duplicates_are_rejected_alone() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(&dir);
    assert!(
        matches!(ledger.append_blocking("{\"nope\":1}"), Err(LedgerError::BadRecord(m)) if m.contains("decision_id"))
    );
    let first = ledger.append_blocking(common::decision(1)).unwrap();
    let dup = ledger.append_blocking(common::decision(1));
    assert!(
        matches!(dup, Err(LedgerError::DuplicateDecision(_))),
        "{dup:?}"
    );
    // The chain continues right after the rejected duplicate.
    let next = ledger.append_blocking(common::decision(2)).unwrap();
    assert_eq!(next.seq, first.seq + 1);
    assert!(ledger.backend().verify(&mut |_| {}).unwrap().is_intact());
}

#[test]
fn trace_stats_and_free_text() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(&dir);
    for i in 0..300 {
        ledger.append_blocking(common::decision(i)).unwrap();
    }
    let b = ledger.backend();
    // decision(i) shares a correlation id with i/3.
    let trace = b.trace("corr-00000010").unwrap();
    assert_eq!(
        trace.iter().map(|d| d.seq).collect::<Vec<_>>(),
        vec![49, 50, 51]
    );

    let stats = b
        .stats(&StatsRequest {
            filter: Filter::default(),
            bucket_seconds: 60,
            top: 3,
        })
        .unwrap();
    assert_eq!(stats.total, 300);
    assert_eq!(stats.buckets.iter().map(|x| x.decisions).sum::<u64>(), 300);
    assert_eq!(
        stats.buckets.iter().map(|x| x.denied).sum::<u64>(),
        stats.denied
    );
    assert_eq!(stats.buckets.len(), 5);
    assert!(stats.top_deny_codes.len() <= 3);
    assert!(stats
        .top_deny_codes
        .windows(2)
        .all(|w| w[0].count >= w[1].count));

    let page = text_search(b, "DENY_REQUIRES_HUMAN cap.pay.invoice", 100);
    assert!(!page.records.is_empty());
    for d in &page.records {
        assert_eq!(d.fields.deny_code.as_deref(), Some("DENY_REQUIRES_HUMAN"));
        assert_eq!(d.fields.capability_id, "cap.pay.invoice");
    }
    let prefix = text_search(b, "gringo*", 500);
    assert!(!prefix.records.is_empty());
    assert!(prefix
        .records
        .iter()
        .all(|d| d.fields.tenant_id == "gringotts"));

    let since = Utc.timestamp_opt(1_767_225_600 + 100, 0).unwrap();
    let until = Utc.timestamp_opt(1_767_225_600 + 110, 0).unwrap();
    let window = b
        .page(&PageRequest::first(
            Filter {
                since: Some(since),
                until: Some(until),
                ..Filter::default()
            },
            50,
        ))
        .unwrap();
    assert_eq!(
        window.records.iter().map(|d| d.seq).collect::<Vec<_>>(),
        (101..=110).rev().collect::<Vec<_>>()
    );
}

#[test]
fn bad_queries_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(&dir);
    let b = ledger.backend();
    let bad_cursor = PageRequest {
        filter: Filter::default(),
        limit: 10,
        cursor: Some("12".into()),
    };
    assert!(matches!(
        b.page(&bad_cursor),
        Err(LedgerError::BadCursor(_))
    ));
    assert!(matches!(
        b.page(&PageRequest::first(Filter::default(), 0)),
        Err(LedgerError::BadQuery(_))
    ));
}

/// Each file decodes with the dictionary stored in it, so files made with an earlier
/// dictionary (the raw two-decision one) stay readable after the built-in one changed.
#[test]
fn a_file_keeps_using_the_dictionary_stored_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    drop(Ledger::open(&path).unwrap());
    let earlier: &[u8] =
        br#"{"decision_id":"x","tenant_id":"tenant-acme","capability_id":"cap.doc.summarize"}"#;
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE codec SET dictionary = ?1", [earlier])
        .unwrap();
    let ledger = Ledger::open(&path).unwrap();
    let json = common::decision(3);
    ledger.append_blocking(json.clone()).unwrap();
    let id = ledger::NewRecord::from_json(json.clone())
        .unwrap()
        .fields
        .decision_id;
    drop(ledger);
    // Compressed with the stored dictionary, not the built-in one.
    let body: Vec<u8> = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT body FROM decisions", [], |r| r.get(0))
        .unwrap();
    let mut d = zstd::bulk::Decompressor::with_dictionary(earlier).unwrap();
    assert_eq!(d.decompress(&body, 1 << 20).unwrap(), json.as_bytes());
    let ledger = Ledger::open(&path).unwrap();
    assert_eq!(ledger.backend().get(&id).unwrap().unwrap().json, json);
    assert!(ledger.backend().verify(&mut |_| {}).unwrap().is_intact());
}
