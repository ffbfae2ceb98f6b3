//! The threads behind [`Ledger`] (writer.rs), through a real SQLite ledger with parts of its
//! behaviour scripted:
//! - Syncing: a caller is acknowledged only once its batch is durable; while a big batch syncs
//!   the writer commits the next big one, and small ones gather until the sync is done; a
//!   failed sync fails every caller waiting on it.
//! - The indexer runs beside the writer: appends never wait for indexing, unless the indexer
//!   falls far behind (more than 16 steps); then each batch waits for it, at most a second, so
//!   a failing indexer slows appends but never stops them, and closing never hangs.
//! - Linked records go through the same writer: callers queued while a batch commits share the
//!   next transaction and flush; a failed batch fails each of them. One nobody waits for
//!   (`Urgency::Soon`) waits up to `LAZY_WINDOW` for the next decision and shares its flush.

use crate::common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ledger::{
    Alert, AlertFilter, EventFilter, GroupCommitHooks, Ledger, LedgerBackend, LedgerError,
    LinkedFilter, LinkedRecord, NewAlert, NewHallEvent, NewLinkedRecord, NewRecord, OpenOptions,
    Page, PageRequest, Progress, PruneReport, Receipt, Result, SqliteBackend, Stats, StatsRequest,
    StoredDecision, StoredHallEvent, Urgency, VerifyReport, LAZY_WINDOW,
};

/// A real SQLite ledger with parts of its behaviour set by the test.
struct Scripted {
    inner: SqliteBackend,
    _dir: tempfile::TempDir,
    /// `Some(lag)`: indexing always fails, and the ledger reports this lag.
    failing_index: Option<AtomicU64>,
    steps_tried: AtomicU64,
    /// Each commit and each sync passes its gate first.
    commit_gate: Gate,
    sync_gate: Gate,
    /// Every sync fails with this.
    sync_failure: Option<&'static str>,
    commits_begun: AtomicU64,
    commits: AtomicU64,
    /// Syncs that have begun (counted before the sync gate, so a held sync is counted).
    syncs_begun: AtomicU64,
    /// Each linked append passes its gate first; its size is kept.
    linked_gate: Gate,
    linked_begun: AtomicU64,
    linked_batches: Mutex<Vec<usize>>,
    /// Every linked append fails with this.
    linked_failure: Option<&'static str>,
}

impl Scripted {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            inner: SqliteBackend::open(dir.path().join("l.db"), OpenOptions::default()).unwrap(),
            _dir: dir,
            failing_index: None,
            steps_tried: AtomicU64::new(0),
            commit_gate: Gate::new_open(),
            sync_gate: Gate::new_open(),
            commits_begun: AtomicU64::new(0),
            sync_failure: None,
            commits: AtomicU64::new(0),
            syncs_begun: AtomicU64::new(0),
            linked_gate: Gate::new_open(),
            linked_begun: AtomicU64::new(0),
            linked_batches: Mutex::new(Vec::new()),
            linked_failure: None,
        }
    }

    /// Wait (at most 5 s) until `n` batches were committed.
    fn wait_for_commits(&self, n: u64) -> bool {
        wait_for(&self.commits, n)
    }

    /// Hold the writer inside the commit of its first batch, holding one record, and queue
    /// `n` more behind it. Then let that commit and its sync through; every later sync waits
    /// for the sync gate to open.
    fn queue_behind_a_held_commit(&self, ledger: &Ledger, n: usize) -> (Receipts, Receipts) {
        self.commit_gate.close();
        self.sync_gate.close();
        let first = submit_many(ledger, 0, 1);
        assert!(wait_for(&self.commits_begun, 1));
        let queued = submit_many(ledger, 1, n);
        self.sync_gate.allow(1);
        self.commit_gate.open();
        (first, queued)
    }
}

type Receipts = Vec<tokio::sync::oneshot::Receiver<Result<Receipt>>>;

/// Wait (at most 5 s) until `counter` reaches `n`.
fn wait_for(counter: &AtomicU64, n: u64) -> bool {
    reaches_within(counter, n, Duration::from_secs(5))
}

/// Whether `counter` reaches `n` within `window` (polled every millisecond).
fn reaches_within(counter: &AtomicU64, n: u64, window: Duration) -> bool {
    let start = Instant::now();
    while counter.load(Ordering::SeqCst) < n {
        if start.elapsed() > window {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

/// How long a negative check watches for something that must not happen (an early
/// acknowledgement, a commit mid-sync). It follows a synchronization point that makes the
/// forbidden thing happen first if the writer does it in line; the window only gives a writer
/// doing it from another thread, or a moment later, time to show it. A slow machine can only
/// make the window miss such a bug, never fail a correct writer.
const NEGATIVE_WINDOW: Duration = Duration::from_millis(50);

/// Lets a number of passes through (all of them when open).
struct Gate(Mutex<u64>, Condvar);

impl Gate {
    fn new_open() -> Self {
        Self(Mutex::new(u64::MAX), Condvar::new())
    }
    fn set(&self, passes: u64) {
        *self.0.lock().unwrap() = passes;
        self.1.notify_all();
    }
    fn close(&self) {
        self.set(0);
    }
    fn allow(&self, passes: u64) {
        self.set(passes);
    }
    fn open(&self) {
        self.set(u64::MAX);
    }
    fn pass(&self) {
        let mut passes = self.0.lock().unwrap();
        while *passes == 0 {
            passes = self.1.wait(passes).unwrap();
        }
        if *passes != u64::MAX {
            *passes -= 1;
        }
    }
}

impl GroupCommitHooks for Scripted {
    fn prepare(&self, record: &mut NewRecord) -> Result<()> {
        self.inner.prepare(record)
    }
    fn commit_before_flush(&self, batch: &[NewRecord]) -> Result<Vec<Result<Receipt>>> {
        self.commits_begun.fetch_add(1, Ordering::SeqCst);
        self.commit_gate.pass();
        let receipts = self.inner.commit_before_flush(batch);
        self.commits.fetch_add(1, Ordering::SeqCst);
        receipts
    }
    fn commit_linked_before_flush(
        &self,
        batch: &[NewLinkedRecord],
    ) -> Result<Vec<Result<LinkedRecord>>> {
        self.linked_begun.fetch_add(1, Ordering::SeqCst);
        self.linked_gate.pass();
        self.linked_batches.lock().unwrap().push(batch.len());
        match self.linked_failure {
            Some(failure) => Err(LedgerError::DiskFull {
                path: failure.into(),
            }),
            None => self.inner.commit_linked_before_flush(batch),
        }
    }
    fn flush_commits(&self) -> Result<()> {
        self.syncs_begun.fetch_add(1, Ordering::SeqCst);
        self.sync_gate.pass();
        match self.sync_failure {
            Some(failure) => Err(LedgerError::WriteFailed(failure.into())),
            None => self.inner.flush_commits(),
        }
    }
    fn index_step(&self, max_records: usize) -> Result<u64> {
        if self.failing_index.is_none() {
            return self.inner.catch_up(max_records);
        }
        self.steps_tried.fetch_add(1, Ordering::Relaxed);
        Err(LedgerError::WriteFailed(
            "the index file's disk is full".into(),
        ))
    }
    fn unindexed(&self) -> u64 {
        match &self.failing_index {
            Some(lag) => lag.load(Ordering::Relaxed),
            None => self.inner.lag(),
        }
    }
}

impl LedgerBackend for Scripted {
    fn append_batch(&self, batch: &[NewRecord]) -> Result<Vec<Result<Receipt>>> {
        let receipts = self.commit_before_flush(batch)?;
        self.flush_commits()?;
        Ok(receipts)
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
    fn summary(&self, request: &ledger::SummaryRequest) -> Result<ledger::Summary> {
        self.inner.summary(request)
    }
    fn count(&self, request: &ledger::CountRequest) -> Result<ledger::MatchCount> {
        self.inner.count(request)
    }
    fn decisions_per_worker(&self) -> Result<Vec<ledger::Count>> {
        self.inner.decisions_per_worker()
    }
    fn head(&self) -> Result<Receipt> {
        self.inner.head()
    }
    fn hash_at(&self, seq: i64) -> Result<ledger::HashAt> {
        self.inner.hash_at(seq)
    }
    fn verify(&self, progress: &mut dyn FnMut(Progress)) -> Result<VerifyReport> {
        self.inner.verify(progress)
    }
    fn prune_before(&self, cutoff: DateTime<Utc>) -> Result<PruneReport> {
        self.inner.prune_before(cutoff)
    }
    fn append_linked(&self, batch: &[NewLinkedRecord]) -> Result<Vec<Result<LinkedRecord>>> {
        let results = self.commit_linked_before_flush(batch)?;
        self.flush_commits()?;
        Ok(results)
    }
    fn linked(&self, filter: &LinkedFilter) -> Result<Vec<LinkedRecord>> {
        self.inner.linked(filter)
    }
    fn insert_alert(&self, alert: &NewAlert) -> Result<i64> {
        self.inner.insert_alert(alert)
    }
    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>> {
        self.inner.alerts(filter)
    }
    fn ack_alert(&self, id: i64, ack: &ledger::AlertAck) -> Result<bool> {
        self.inner.ack_alert(id, ack)
    }
    fn resolve_alerts(&self, code: &str, subject: &str, at: DateTime<Utc>) -> Result<Vec<i64>> {
        self.inner.resolve_alerts(code, subject, at)
    }
    fn insert_event(&self, event: &NewHallEvent) -> Result<i64> {
        self.inner.insert_event(event)
    }
    fn events(&self, filter: &EventFilter) -> Result<Vec<StoredHallEvent>> {
        self.inner.events(filter)
    }
    fn save_heartbeats(&self, beats: &[ledger::LastHeartbeat]) -> Result<()> {
        self.inner.save_heartbeats(beats)
    }
    fn last_heartbeats(&self) -> Result<Vec<ledger::LastHeartbeat>> {
        self.inner.last_heartbeats()
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
    backend.sync_gate.close();
    let ledger = Ledger::with_backend(backend.clone(), 64).unwrap();
    let mut receipt = ledger.submit(common::decision(1)).unwrap();
    let committed = backend.wait_for_commits(1);
    // The synchronization point: the writer is held inside the batch's sync, so an answer sent
    // before the sync is already there; then a negative window for one sent beside it.
    let syncing = wait_for(&backend.syncs_begun, 1);
    let window = Instant::now() + NEGATIVE_WINDOW;
    let mut early = false;
    while !early && Instant::now() < window {
        early = receipt.try_recv().is_ok();
        std::thread::sleep(Duration::from_millis(1));
    }
    backend.sync_gate.open();
    assert!(committed, "the batch was committed");
    assert!(syncing, "the batch's sync began");
    assert!(!early, "acknowledged before its batch was synced");
    assert_eq!(receipt.blocking_recv().unwrap().unwrap().seq, 1);
}

/// Submit `n` decisions numbered from `from`, and their receipts.
fn submit_many(ledger: &Ledger, from: u64, n: usize) -> Receipts {
    (from..from + n as u64)
        .map(|i| ledger.submit(common::decision(i)).unwrap())
        .collect()
}

fn seqs(receipts: Receipts) -> Vec<i64> {
    receipts
        .into_iter()
        .map(|r| r.blocking_recv().unwrap().unwrap().seq)
        .collect()
}

#[test]
fn a_big_batch_is_committed_while_the_last_one_syncs() {
    let backend = Arc::new(Scripted::new());
    let big = ledger::OVERLAP_BATCH;
    let ledger = Ledger::with_backend(backend.clone(), big).unwrap();
    // Commits: the held record, then two big batches; the second while the first syncs.
    let (first, mut queued) = backend.queue_behind_a_held_commit(&ledger, 2 * big);
    let overlapped = backend.wait_for_commits(3);
    let early = queued[0].try_recv().is_ok();
    backend.sync_gate.open();
    assert!(
        overlapped,
        "the second big batch waited for the first one's sync"
    );
    assert!(!early, "acknowledged before its batch was synced");
    assert_eq!(seqs(first), [1]);
    assert_eq!(seqs(queued), (2..=2 * big as i64 + 1).collect::<Vec<_>>());
}

#[test]
fn small_batches_gather_while_a_big_one_syncs() {
    let backend = Arc::new(Scripted::new());
    let ledger = Ledger::with_backend(backend.clone(), ledger::DEFAULT_MAX_BATCH).unwrap();
    let (first, big) = backend.queue_behind_a_held_commit(&ledger, ledger::OVERLAP_BATCH);
    assert!(backend.wait_for_commits(2), "the big batch was committed");
    // The held record's sync and the big batch's, held at the gate.
    assert!(
        wait_for(&backend.syncs_begun, 2),
        "the big batch's sync began"
    );
    let small = submit_many(&ledger, 10_000, 5);
    // A negative: a writer that commits small batches mid-sync starts one as soon as the first
    // small record arrives; the window gives it time to.
    let committed_mid_sync = reaches_within(&backend.commits_begun, 3, NEGATIVE_WINDOW);
    let commits_while_syncing = backend.commits_begun.load(Ordering::SeqCst);
    backend.sync_gate.open();
    assert!(
        !committed_mid_sync && commits_while_syncing == 2,
        "a small batch was committed mid-sync ({commits_while_syncing} commits begun)"
    );
    assert_eq!(seqs(first), [1]);
    assert_eq!(seqs(big).len(), ledger::OVERLAP_BATCH);
    let after = ledger::OVERLAP_BATCH as i64 + 1;
    assert_eq!(seqs(small), (after + 1..=after + 5).collect::<Vec<_>>());
    assert_eq!(
        backend.commits.load(Ordering::SeqCst),
        3,
        "the five gathered into one batch"
    );
}

#[test]
fn the_receipts_of_one_batch_share_its_list_of_records() {
    let backend = Arc::new(Scripted::new());
    let ledger = Ledger::with_backend(backend.clone(), ledger::DEFAULT_MAX_BATCH).unwrap();
    // Queued behind a held commit: one batch of five, one of them a duplicate decision id.
    backend.commit_gate.close();
    let first = submit_many(&ledger, 0, 1);
    assert!(wait_for(&backend.commits_begun, 1));
    let mut queued = submit_many(&ledger, 1, 2);
    queued.push(ledger.submit(common::decision(0)).unwrap());
    queued.extend(submit_many(&ledger, 3, 2));
    backend.commit_gate.open();
    let first = first
        .into_iter()
        .next()
        .unwrap()
        .blocking_recv()
        .unwrap()
        .unwrap();
    let receipts: Vec<Result<Receipt>> = queued
        .into_iter()
        .map(|r| r.blocking_recv().unwrap())
        .collect();
    assert!(matches!(
        receipts[2],
        Err(LedgerError::DuplicateDecision(_))
    ));
    let receipts: Vec<Receipt> = receipts.into_iter().filter_map(|r| r.ok()).collect();

    let alone = first
        .batch
        .as_ref()
        .expect("an append comes with its batch");
    assert_eq!((alone.first_seq(), alone.size()), (1, 1));
    let batch = receipts[0]
        .batch
        .clone()
        .expect("an append comes with its batch");
    assert_eq!(
        (batch.first_seq(), batch.size()),
        (2, 4),
        "the rejected record is not in it"
    );
    for (receipt, record) in receipts.iter().zip(batch.records()) {
        assert!(
            Arc::ptr_eq(receipt.batch.as_ref().unwrap(), &batch),
            "one shared list"
        );
        assert_eq!(record.seq, receipt.seq);
        assert_eq!(hex::encode(record.hash), receipt.hash);
        let stored = ledger.backend().get(&record.decision_id).unwrap().unwrap();
        assert_eq!(stored.seq, receipt.seq);
    }
    // Its proof is there to be computed, by whoever needs it.
    assert!(batch.inclusion_proof(3).is_some());
    // A head is no append: it has no batch.
    assert!(ledger.backend().head().unwrap().batch.is_none());
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

fn linked_to(decision: &str, i: u64) -> NewLinkedRecord {
    NewLinkedRecord {
        at: common::second(i as i64),
        kind: "mcp_call".into(),
        decision_id: decision.into(),
        correlation_id: format!("corr-{i}"),
        server: Some("wrk.fs".into()),
        tool: Some("read_file".into()),
        body: serde_json::json!({"outcome": "ok", "i": i}),
    }
}

/// A scripted backend under a ledger (batches of 64) that holds one decision; that decision's id.
fn scripted_with_a_decision() -> (Arc<Scripted>, Ledger, String) {
    let backend = Arc::new(Scripted::new());
    let ledger = Ledger::with_backend(backend.clone(), 64).unwrap();
    let decision = first_decision_id(&ledger);
    (backend, ledger, decision)
}

/// Linked records `range` to `decision`, each submitted for a commit now; their answers.
fn submit_linked_now(
    ledger: &Ledger,
    decision: &str,
    range: std::ops::Range<u64>,
) -> Vec<tokio::sync::oneshot::Receiver<Result<LinkedRecord>>> {
    range
        .map(|i| {
            ledger
                .submit_linked(linked_to(decision, i), Urgency::Now)
                .unwrap()
        })
        .collect()
}

fn first_decision_id(ledger: &Ledger) -> String {
    let receipt = ledger.append_blocking(common::decision(0)).unwrap();
    let page = ledger
        .backend()
        .page(&PageRequest::first(ledger::Filter::default(), 1))
        .unwrap();
    assert_eq!(page.records[0].seq, receipt.seq);
    page.records[0].fields.decision_id.clone()
}

#[test]
fn concurrent_linked_appends_share_one_transaction_and_flush() {
    let (backend, ledger, decision) = scripted_with_a_decision();
    // Hold the linked writer inside its first batch (one record); queue 15 more behind it.
    backend.linked_gate.close();
    let first = ledger
        .submit_linked(linked_to(&decision, 0), Urgency::Now)
        .unwrap();
    assert!(wait_for(&backend.linked_begun, 1));
    let queued = submit_linked_now(&ledger, &decision, 1..16);
    backend.linked_gate.open();
    let mut seqs = vec![first.blocking_recv().unwrap().unwrap().seq];
    for answer in queued {
        seqs.push(answer.blocking_recv().unwrap().unwrap().seq);
    }
    assert_eq!(seqs, (1..=16).collect::<Vec<i64>>(), "in submission order");
    assert_eq!(*backend.linked_batches.lock().unwrap(), vec![1, 15]);
}

#[test]
fn a_failed_linked_batch_fails_each_of_its_callers_with_the_cause() {
    let backend = Arc::new(Scripted {
        linked_failure: Some("/full/disk"),
        ..Scripted::new()
    });
    let ledger = Ledger::with_backend(backend.clone(), 64).unwrap();
    let decision = first_decision_id(&ledger);
    backend.linked_gate.close();
    let answers = submit_linked_now(&ledger, &decision, 0..4);
    backend.linked_gate.open();
    for answer in answers {
        let e = answer.blocking_recv().unwrap().unwrap_err();
        assert!(
            matches!(&e, LedgerError::WriteFailed(m) if m.contains("/full/disk") && m.contains("full")),
            "{e}"
        );
    }
    // A record that fails its own checks never reaches the writer.
    let before = backend.linked_begun.load(Ordering::SeqCst);
    let mut bad = linked_to(&decision, 9);
    bad.kind = "Not A Kind".into();
    assert!(matches!(
        ledger.submit_linked(bad, Urgency::Now),
        Err(LedgerError::BadRecord(_))
    ));
    assert_eq!(backend.linked_begun.load(Ordering::SeqCst), before);
}

#[test]
fn a_linked_record_nobody_waits_for_shares_the_next_decisions_flush() {
    let (backend, ledger, decision) = scripted_with_a_decision();
    let syncs = backend.syncs_begun.load(Ordering::SeqCst);
    let queued = Instant::now();
    let outcome = ledger
        .submit_linked(linked_to(&decision, 0), Urgency::Soon)
        .unwrap();
    let receipt = ledger.submit(common::decision(1)).unwrap();
    // The writer's window opens when it takes the record, after it was queued: a decision
    // queued within the window from then is certain to find it still waiting.
    let in_window = queued.elapsed() < LAZY_WINDOW;
    assert_eq!(receipt.blocking_recv().unwrap().unwrap().seq, 2);
    assert_eq!(outcome.blocking_recv().unwrap().unwrap().seq, 1);
    if in_window {
        assert_eq!(
            backend.syncs_begun.load(Ordering::SeqCst) - syncs,
            1,
            "one flush for the decision and the record"
        );
        assert_eq!(*backend.linked_batches.lock().unwrap(), vec![1]);
    }
}

#[test]
fn a_linked_record_nobody_waits_for_goes_alone_once_its_window_passes() {
    let (backend, ledger, decision) = scripted_with_a_decision();
    let syncs = backend.syncs_begun.load(Ordering::SeqCst);
    let queued = Instant::now();
    let soon = ledger
        .submit_linked(linked_to(&decision, 0), Urgency::Soon)
        .unwrap();
    assert_eq!(soon.blocking_recv().unwrap().unwrap().seq, 1);
    assert!(queued.elapsed() >= LAZY_WINDOW, "{:?}", queued.elapsed());
    assert_eq!(backend.syncs_begun.load(Ordering::SeqCst) - syncs, 1);
}

#[test]
fn closing_commits_a_waiting_linked_record_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    let ledger = Ledger::open(&path).unwrap();
    let decision = first_decision_id(&ledger);
    let soon = ledger
        .submit_linked(linked_to(&decision, 0), Urgency::Soon)
        .unwrap();
    ledger.close();
    assert_eq!(soon.blocking_recv().unwrap().unwrap().seq, 1);
    let reopened = SqliteBackend::open(&path, OpenOptions::default()).unwrap();
    let stored = reopened.linked(&LinkedFilter::default()).unwrap();
    assert_eq!(stored.len(), 1, "the record is on disk after close");
}
