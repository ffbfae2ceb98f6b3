//! The indexer runs beside the writer (writer.rs): appends never wait for indexing, unless the
//! indexer falls far behind (more than 16 steps); then each batch waits for it, at most a
//! second, so a failing indexer slows appends but never stops them, and closing never hangs.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ledger::{
    Alert, AlertFilter, EventFilter, HallEvent, Ledger, LedgerBackend, LedgerError, NewAlert,
    NewHallEvent, NewRecord, OpenOptions, Page, PageRequest, Progress, PruneReport, Receipt,
    Result, SqliteBackend, Stats, StatsRequest, StoredDecision, VerifyReport,
};

/// A real SQLite ledger whose indexing always fails, with a lag the test sets.
struct FailingIndexer {
    inner: SqliteBackend,
    lag: AtomicU64,
    steps_tried: AtomicU64,
}

impl LedgerBackend for FailingIndexer {
    fn prepare(&self, record: &mut NewRecord) -> Result<()> {
        self.inner.prepare(record)
    }
    fn append_batch(&self, batch: &[NewRecord]) -> Result<Vec<Result<Receipt>>> {
        self.inner.append_batch(batch)
    }
    fn catch_up(&self, _max_records: usize) -> Result<u64> {
        self.steps_tried.fetch_add(1, Ordering::Relaxed);
        Err(LedgerError::WriteFailed(
            "the index file's disk is full".into(),
        ))
    }
    fn lag(&self) -> u64 {
        self.lag.load(Ordering::Relaxed)
    }
    fn page(&self, request: &PageRequest) -> Result<Page> {
        self.inner.page(request)
    }
    fn get(&self, decision_id: &str) -> Result<Option<StoredDecision>> {
        self.inner.get(decision_id)
    }
    fn trace(&self, correlation_id: &str) -> Result<Vec<StoredDecision>> {
        self.inner.trace(correlation_id)
    }
    fn stats(&self, request: &StatsRequest) -> Result<Stats> {
        self.inner.stats(request)
    }
    fn verify(&self, progress: &mut dyn FnMut(Progress)) -> Result<VerifyReport> {
        self.inner.verify(progress)
    }
    fn prune_before(&self, cutoff: DateTime<Utc>) -> Result<PruneReport> {
        self.inner.prune_before(cutoff)
    }
    fn insert_alert(&self, alert: &NewAlert) -> Result<i64> {
        self.inner.insert_alert(alert)
    }
    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>> {
        self.inner.alerts(filter)
    }
    fn ack_alert(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        self.inner.ack_alert(id, at)
    }
    fn insert_event(&self, event: &NewHallEvent) -> Result<i64> {
        self.inner.insert_event(event)
    }
    fn events(&self, filter: &EventFilter) -> Result<Vec<HallEvent>> {
        self.inner.events(filter)
    }
}

/// Append `n` decisions one after another; how long they took.
fn append_in_turn(lag: u64, n: u64) -> (Duration, u64) {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(FailingIndexer {
        inner: SqliteBackend::open(dir.path().join("l.db"), OpenOptions::default()).unwrap(),
        lag: AtomicU64::new(lag),
        steps_tried: AtomicU64::new(0),
    });
    let ledger = Ledger::with_backend(backend.clone(), 64).unwrap();
    let start = Instant::now();
    for i in 0..n {
        let receipt = ledger.append_blocking(common::decision(i)).unwrap();
        assert_eq!(receipt.seq, i as i64 + 1);
    }
    let took = start.elapsed();
    ledger.close();
    (took, backend.steps_tried.load(Ordering::Relaxed))
}

#[test]
fn a_failing_indexer_far_behind_slows_appends_but_never_stops_them() {
    // Each batch after the first waits its full second for an indexer that never catches up.
    let (took, steps) = append_in_turn(10_000_000, 3);
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert!(steps >= 1, "the indexer kept trying");
}

#[test]
fn an_indexer_within_reach_costs_appends_no_wait() {
    // Behind, failing even, but by less than the backpressure bound: no waiting.
    let (took, _) = append_in_turn(4096, 3);
    assert!(took < Duration::from_secs(1), "{took:?}");
}
