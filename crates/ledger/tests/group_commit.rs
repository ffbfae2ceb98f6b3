//! The threads behind [`Ledger`] (writer.rs), through a real SQLite ledger with parts of its
//! behaviour scripted:
//! - The syncer: a caller is acknowledged only once its batch is durable, the writer commits
//!   the next batch meanwhile, and a failed sync fails every caller waiting on it.
//! - The indexer runs beside the writer: appends never wait for indexing, unless the indexer
//!   falls far behind (more than 16 steps); then each batch waits for it, at most a second, so
//!   a failing indexer slows appends but never stops them, and closing never hangs.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ledger::{
    Alert, AlertFilter, EventFilter, HallEvent, Ledger, LedgerBackend, LedgerError, NewAlert,
    NewHallEvent, NewRecord, OpenOptions, Page, PageRequest, Progress, PruneReport, Receipt,
    Result, SqliteBackend, Stats, StatsRequest, StoredDecision, VerifyReport,
};

/// A real SQLite ledger with parts of its behaviour set by the test.
struct Scripted {
    inner: SqliteBackend,
    _dir: tempfile::TempDir,
    /// `Some(lag)`: indexing always fails, and the ledger reports this lag.
    failing_index: Option<AtomicU64>,
    steps_tried: AtomicU64,
    /// Each sync waits until the gate is open.
    sync_gate: Gate,
    /// Every sync fails with this.
    sync_failure: Option<&'static str>,
    commits: AtomicU64,
}

impl Scripted {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            inner: SqliteBackend::open(dir.path().join("l.db"), OpenOptions::default()).unwrap(),
            _dir: dir,
            failing_index: None,
            steps_tried: AtomicU64::new(0),
            sync_gate: Gate::open(),
            sync_failure: None,
            commits: AtomicU64::new(0),
        }
    }

    /// Wait (at most 5 s) until `n` batches were committed.
    fn wait_for_commits(&self, n: u64) -> bool {
        let start = Instant::now();
        while self.commits.load(Ordering::SeqCst) < n {
            if start.elapsed() > Duration::from_secs(5) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        true
    }
}

struct Gate(Mutex<bool>, Condvar);

impl Gate {
    fn open() -> Self {
        Self(Mutex::new(true), Condvar::new())
    }
    fn set(&self, open: bool) {
        *self.0.lock().unwrap() = open;
        self.1.notify_all();
    }
    fn pass(&self) {
        let mut open = self.0.lock().unwrap();
        while !*open {
            open = self.1.wait(open).unwrap();
        }
    }
}

impl LedgerBackend for Scripted {
    fn prepare(&self, record: &mut NewRecord) -> Result<()> {
        self.inner.prepare(record)
    }
    fn commit_batch(&self, batch: &[NewRecord]) -> Result<Vec<Result<Receipt>>> {
        let receipts = self.inner.commit_batch(batch);
        self.commits.fetch_add(1, Ordering::SeqCst);
        receipts
    }
    fn sync(&self) -> Result<()> {
        self.sync_gate.pass();
        match self.sync_failure {
            Some(failure) => Err(LedgerError::WriteFailed(failure.into())),
            None => self.inner.sync(),
        }
    }
    fn catch_up(&self, max_records: usize) -> Result<u64> {
        if self.failing_index.is_none() {
            return self.inner.catch_up(max_records);
        }
        self.steps_tried.fetch_add(1, Ordering::Relaxed);
        Err(LedgerError::WriteFailed(
            "the index file's disk is full".into(),
        ))
    }
    fn lag(&self) -> u64 {
        match &self.failing_index {
            Some(lag) => lag.load(Ordering::Relaxed),
            None => self.inner.lag(),
        }
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
    let backend = Arc::new(Scripted {
        failing_index: Some(AtomicU64::new(lag)),
        ..Scripted::new()
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

#[test]
fn a_caller_is_acknowledged_only_once_its_batch_is_synced() {
    let backend = Arc::new(Scripted::new());
    backend.sync_gate.set(false);
    let ledger = Ledger::with_backend(backend.clone(), 64).unwrap();
    let mut receipt = ledger.submit(common::decision(1)).unwrap();
    assert!(backend.wait_for_commits(1), "the batch was committed");
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        receipt.try_recv().is_err(),
        "acknowledged before its batch was synced"
    );
    backend.sync_gate.set(true);
    assert_eq!(receipt.blocking_recv().unwrap().unwrap().seq, 1);
}

#[test]
fn the_writer_commits_the_next_batch_while_the_last_one_syncs() {
    let backend = Arc::new(Scripted::new());
    backend.sync_gate.set(false);
    let ledger = Ledger::with_backend(backend.clone(), 64).unwrap();
    let first = ledger.submit(common::decision(1)).unwrap();
    assert!(backend.wait_for_commits(1));
    let second = ledger.submit(common::decision(2)).unwrap();
    assert!(
        backend.wait_for_commits(2),
        "the second batch waited for the first one's sync"
    );
    backend.sync_gate.set(true);
    let seqs: Vec<i64> = [first, second]
        .into_iter()
        .map(|r| r.blocking_recv().unwrap().unwrap().seq)
        .collect();
    assert_eq!(seqs, [1, 2]);
}

#[test]
fn a_failed_sync_fails_every_caller_waiting_on_it() {
    let backend = Arc::new(Scripted {
        sync_failure: Some("the disk went away"),
        ..Scripted::new()
    });
    let ledger = Ledger::with_backend(backend.clone(), 4).unwrap();
    let receipts: Vec<_> = (0..20)
        .map(|i| ledger.submit(common::decision(i)).unwrap())
        .collect();
    for receipt in receipts {
        match receipt.blocking_recv().unwrap() {
            Err(LedgerError::WriteFailed(why)) => assert!(why.contains("disk went away"), "{why}"),
            other => panic!("acknowledged without a sync: {other:?}"),
        }
    }
}
