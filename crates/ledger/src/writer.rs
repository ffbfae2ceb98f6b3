//! Durable group commit. Many callers hand decisions and linked records to ONE writer thread
//! over a channel; the writer takes everything queued (up to a batch limit), commits it
//! ([`GroupCommitHooks::commit_before_flush`], then
//! [`GroupCommitHooks::commit_linked_before_flush`]), makes it durable
//! ([`GroupCommitHooks::flush_commits`]) and only then acknowledges each caller: many records
//! share one fsync, and each caller waits only for its own batch. A linked record nobody waits
//! for ([`Urgency::Soon`]: an MCP call's outcome recorded after its answer left) waits up to
//! [`LAZY_WINDOW`] for the next decision and shares its commit and flush, so a stream of tool
//! calls costs one flush per call, not two; it waits in a queue the writer looks at when it
//! wakes ([`linked_queue`]), so it does not wake the writer either. A big batch (bulk
//! appends, [`OVERLAP_BATCH`]) is handed to a syncer thread instead, which flushes it and
//! acknowledges its callers while the writer already commits the next batch, so writing and
//! waiting for the disk overlap. Beside them, an indexer thread does the backend's derived
//! work ([`GroupCommitHooks::index_step`]: the SQLite backend's filter and free-text indexes,
//! in a file of their own), which no caller waits for, in big steps: once a full step waits,
//! or when no batch has been committed for a moment.
//!
//! Every receipt of a durable batch shares the list of that batch's records ([`Batch`]), so the
//! hall signs a batch once, not each record.
//!
//! Acks travel on `tokio::sync::oneshot`, which needs no runtime: async callers `.await` them
//! and sync callers block on them.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::backend::{GroupCommitHooks, LedgerBackend, Receipt};
use crate::batch::{Batch, BatchRecord};
use crate::error::{LedgerError, Result};
use crate::linked::{LinkedRecord, NewLinkedRecord};
use crate::record::NewRecord;
use crate::sqlite::{OpenOptions, SqliteBackend};

mod linked_queue;
use linked_queue::LinkedQueue;

/// The most records one transaction takes; bounds commit latency under heavy load. Larger
/// batches are cheaper per record: fewer fsyncs and page writes per record (measured when the
/// indexes were still written in the commit: 16,384 instead of 4,096 cost ~14% less writer
/// CPU).
pub const DEFAULT_MAX_BATCH: usize = 16_384;
/// Records indexed per derived step. Big steps are what make indexing after commit cheaper
/// than indexing in every commit (each index page touched is written once per step); a step
/// is tens of ms of the indexer's time, and unindexed records cost queries a scan of them.
const STEP: usize = 4096;
/// With fewer than [`STEP`] records waiting, the indexer indexes them once no batch has been
/// committed for this long, so an idle ledger is soon fully indexed.
const IDLE: Duration = Duration::from_millis(20);
/// Appends that outrun the indexer grow the unindexed tail, which every query scans: past this
/// lag the writer waits for the indexer before its next batch (backpressure callers see as
/// latency), at most [`MAX_WAIT`] per batch so a failing indexer slows appends but never
/// stops them.
const MAX_LAG: u64 = 16 * STEP as u64;
const MAX_WAIT: Duration = Duration::from_secs(1);
/// After a failed step (logged), wait this long before the next try.
const RETRY: Duration = Duration::from_secs(1);
/// Committed batches that may wait for the syncer before the writer waits for it in turn.
const UNSYNCED_BATCHES: usize = 4;
/// Batches of at least this many records go to the syncer, so that the writer commits the next
/// batch while this one syncs; smaller ones the writer syncs and answers itself. Behind HTTP
/// (tens of records per batch) a commit is short, and handing each batch to another thread
/// added a thread wake-up to every caller's wait: p50 2.0 → 2.5 ms and ~15% fewer decisions/s
/// at 64 connections (BENCHMARKS.md, Hall, eleventh round). While a sync is in flight, small
/// batches gather until it is done: committed early they would become durable at the next sync
/// anyway, each paying a commit's fixed work.
pub const OVERLAP_BATCH: usize = 1024;

/// How long a linked record of [`Urgency::Soon`] may wait for a decision to share its commit
/// with. It bounds what a crash can lose that nobody was promised: such a record's caller was
/// answered before it was queued (docs/mcp.md, `record_outcome`).
pub const LAZY_WINDOW: Duration = Duration::from_millis(5);

type Ack = oneshot::Sender<Result<Receipt>>;
type LinkedAck = oneshot::Sender<Result<LinkedRecord>>;

struct Job {
    record: NewRecord,
    ack: Ack,
}

/// When a linked record must reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    /// Someone waits for it: it goes with the writer's next batch.
    Now,
    /// Nobody waits for it: it joins the next batch of decisions, or goes alone once
    /// [`LAZY_WINDOW`] has passed without one.
    Soon,
}

struct LinkedJob {
    record: NewLinkedRecord,
    ack: LinkedAck,
    urgency: Urgency,
}

/// What the writer hears, in one channel so it can wait for either. Nearly every message is
/// an append: boxing it to shrink the rare others would cost an allocation per record.
#[allow(clippy::large_enum_variant)]
enum Msg {
    Append(Job),
    /// A linked record waits in the [`LinkedQueue`].
    Nudge,
    /// The syncer made this many batches durable.
    Synced(usize),
    /// The ledger is closing: commit what came before, then stop.
    Close,
}

/// A batch the writer has committed (or failed to), on its way to its sync and answers.
struct Committed {
    acks: Vec<Ack>,
    outcome: Result<Vec<Result<Receipt>>>,
    /// Freed where the batch is answered: for a big batch, the syncer, as thousands of
    /// strings made on the callers' threads cost the single writer more to free than to
    /// commit (glibc, measured with perf).
    records: Vec<NewRecord>,
    linked_acks: Vec<LinkedAck>,
    linked_outcome: Result<Vec<Result<LinkedRecord>>>,
}

/// The ledger as the hall uses it: group-committed appends plus direct access to the
/// backend for queries. Dropping it flushes queued appends and stops the writer.
pub struct Ledger {
    backend: Arc<dyn GroupCommitHooks>,
    /// `None` once closing. Submits take a read lock, so concurrent producers do not queue
    /// for each other's sends (the channel itself takes concurrent sends).
    jobs: RwLock<Option<Sender<Msg>>>,
    linked: Arc<LinkedQueue>,
    writer: Option<JoinHandle<()>>,
    syncer: Option<JoinHandle<()>>,
    indexer: Option<JoinHandle<()>>,
}

impl Ledger {
    /// Open (creating if needed) the SQLite ledger at `path` and start its writer.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, OpenOptions::default())
    }

    pub fn open_with(path: impl AsRef<Path>, options: OpenOptions) -> Result<Self> {
        let backend = SqliteBackend::open(path, options)?;
        Self::with_backend(Arc::new(backend), DEFAULT_MAX_BATCH)
    }

    /// Group-commit over any backend that the writer's threads can drive.
    pub fn with_backend(backend: Arc<dyn GroupCommitHooks>, max_batch: usize) -> Result<Self> {
        let (tx, rx) = mpsc::channel();
        // One pending nudge is enough: the indexer looks at the lag, not at the nudges.
        let (nudge, nudges) = mpsc::sync_channel(1);
        let max_batch = max_batch.max(1);
        let spawn = |name: &str, work: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(work)
                .map_err(|e| {
                    LedgerError::WriteFailed(format!("cannot start the {name} thread: {e}"))
                })
        };
        let commits = Arc::new(AtomicU64::new(0));
        let indexer_backend = Arc::clone(&backend);
        let indexer_commits = Arc::clone(&commits);
        let indexer = spawn(
            "ledger-indexer",
            Box::new(move || run_indexer(indexer_backend.as_ref(), &nudges, &indexer_commits)),
        )?;
        let (committed, to_sync) = mpsc::sync_channel(UNSYNCED_BATCHES);
        let syncer_backend = Arc::clone(&backend);
        let synced = tx.clone();
        let syncer = spawn(
            "ledger-syncer",
            Box::new(move || run_syncer(syncer_backend.as_ref(), &to_sync, &synced)),
        )?;
        let linked = Arc::new(LinkedQueue::default());
        let writer_backend = Arc::clone(&backend);
        let writer_linked = Arc::clone(&linked);
        let writer = spawn(
            "ledger-writer",
            Box::new(move || {
                let indexer = Indexer { nudge, commits };
                let writer = Writer {
                    backend: writer_backend.as_ref(),
                    linked: &writer_linked,
                    syncer: &committed,
                    indexer: &indexer,
                    max_batch,
                };
                writer.run(rx)
            }),
        )?;
        Ok(Self {
            backend,
            jobs: RwLock::new(Some(tx)),
            linked,
            writer: Some(writer),
            syncer: Some(syncer),
            indexer: Some(indexer),
        })
    }

    /// Queries, verification, alerts and events go straight to the backend.
    pub fn backend(&self) -> &dyn LedgerBackend {
        self.backend.as_ref()
    }

    /// How many committed decisions the indexer has not indexed yet
    /// ([`GroupCommitHooks::unindexed`]).
    pub fn unindexed(&self) -> u64 {
        self.backend.unindexed()
    }

    /// Queue a decision (its RouteDecision JSON text) and get the channel its receipt will
    /// arrive on. Bad JSON is rejected here, on the caller's thread.
    pub fn submit(&self, json: impl Into<String>) -> Result<oneshot::Receiver<Result<Receipt>>> {
        self.submit_record(NewRecord::from_json(json)?)
    }

    /// [`Ledger::submit`] for a record built by the caller ([`NewRecord::from_parts`]).
    pub fn submit_record(
        &self,
        mut record: NewRecord,
    ) -> Result<oneshot::Receiver<Result<Receipt>>> {
        self.backend.prepare(&mut record)?;
        let (ack, receipt) = oneshot::channel();
        self.send(Msg::Append(Job { record, ack }))?;
        Ok(receipt)
    }

    fn send(&self, msg: Msg) -> Result<()> {
        let jobs = self.jobs.read().unwrap_or_else(|p| p.into_inner());
        let sender = jobs.as_ref().ok_or(LedgerError::Closed)?;
        sender.send(msg).map_err(|_| LedgerError::Closed)
    }

    /// Record a decision; resolves once it is durable.
    pub async fn append(&self, json: impl Into<String>) -> Result<Receipt> {
        self.append_record(NewRecord::from_json(json)?).await
    }

    /// [`Ledger::append`] for a record built by the caller ([`NewRecord::from_parts`]).
    pub async fn append_record(&self, record: NewRecord) -> Result<Receipt> {
        let receipt = self.submit_record(record)?;
        receipt.await.map_err(|_| LedgerError::Closed)?
    }

    /// Record a decision from synchronous code; returns once it is durable.
    /// Must not be called from inside an async runtime (use [`Ledger::append`] there).
    pub fn append_blocking(&self, json: impl Into<String>) -> Result<Receipt> {
        let receipt = self.submit(json)?;
        receipt.blocking_recv().map_err(|_| LedgerError::Closed)?
    }

    /// Queue a linked record (evidence about a decision already recorded) and get the channel
    /// its chained record will arrive on, once durable. A record that fails its own checks
    /// ([`NewLinkedRecord::check`]) is rejected here, on the caller's thread. Records are
    /// chained in the order they are queued, whatever their urgency.
    pub fn submit_linked(
        &self,
        record: NewLinkedRecord,
        urgency: Urgency,
    ) -> Result<oneshot::Receiver<Result<LinkedRecord>>> {
        record.check()?;
        let (ack, answer) = oneshot::channel();
        let job = LinkedJob {
            record,
            ack,
            urgency,
        };
        // Under the read lock, so a record queued before the ledger closes is committed.
        let jobs = self.jobs.read().unwrap_or_else(|p| p.into_inner());
        let sender = jobs.as_ref().ok_or(LedgerError::Closed)?;
        if self.linked.push(job) {
            sender.send(Msg::Nudge).map_err(|_| LedgerError::Closed)?;
        }
        Ok(answer)
    }

    /// Record a linked record; resolves once it is durable. Concurrent callers are group
    /// committed: one transaction and one WAL flush for all the records queued meanwhile.
    /// Fails with [`LedgerError::BadRecord`] if its decision is not in the ledger.
    pub async fn append_linked(&self, record: NewLinkedRecord) -> Result<LinkedRecord> {
        let answer = self.submit_linked(record, Urgency::Now)?;
        answer.await.map_err(|_| LedgerError::Closed)?
    }

    /// [`Ledger::append_linked`] from synchronous code (not from inside an async runtime).
    pub fn append_linked_blocking(&self, record: NewLinkedRecord) -> Result<LinkedRecord> {
        let answer = self.submit_linked(record, Urgency::Now)?;
        answer.blocking_recv().map_err(|_| LedgerError::Closed)?
    }

    /// Stop accepting appends, let the writer commit everything queued, the syncer make it
    /// durable and the indexer index it, and wait for them all.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        // The syncer holds a sender too, so the channel never disconnects by itself.
        if let Some(jobs) = self.jobs.write().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = jobs.send(Msg::Close);
        }
        // The writer goes first: its end is what tells the syncer and the indexer to finish.
        for (name, thread) in [
            ("writer", self.writer.take()),
            ("syncer", self.syncer.take()),
            ("indexer", self.indexer.take()),
        ] {
            if thread.is_some_and(|t| t.join().is_err()) {
                tracing::error!("the ledger {name} thread panicked");
            }
        }
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What the writer thread works with.
struct Writer<'a> {
    backend: &'a dyn GroupCommitHooks,
    linked: &'a LinkedQueue,
    syncer: &'a SyncSender<Committed>,
    indexer: &'a Indexer,
    max_batch: usize,
}

/// How the writer tells the indexer about its commits.
struct Indexer {
    /// Sent when a whole [`STEP`] waits.
    nudge: SyncSender<()>,
    /// Batches committed so far: the indexer is idle-timed by these, not by a wake-up each.
    commits: Arc<AtomicU64>,
}

impl Writer<'_> {
    fn run(&self, inbox: Receiver<Msg>) {
        let mut decisions: Vec<Job> = Vec::new();
        let mut unsynced = 0;
        let mut closing = false;
        // Until when a linked record may be queued without waking the writer.
        let mut watch: Option<Instant> = None;
        while !closing || !decisions.is_empty() || !self.linked.is_empty() {
            // Wait for something (a job, the end of a sync, a linked record's window), then
            // take what else is queued.
            let mut next = if closing {
                None
            } else if unsynced > 0 {
                inbox.recv().ok()
            } else {
                self.wait(&inbox, &mut watch)
            };
            while let Some(msg) = next {
                match msg {
                    Msg::Append(job) => decisions.push(job),
                    Msg::Nudge => {}
                    Msg::Synced(n) => unsynced -= n,
                    Msg::Close => closing = true,
                }
                next = (decisions.len() < self.max_batch)
                    .then(|| inbox.try_recv().ok())
                    .flatten();
            }
            let big = decisions.len() >= OVERLAP_BATCH;
            let gathering = unsynced > 0 && !big && !closing;
            let due = closing || !decisions.is_empty() || self.linked.due(Instant::now());
            if !due || gathering {
                continue;
            }
            let committed = commit(
                self.backend,
                std::mem::take(&mut decisions),
                self.linked.take(),
            );
            // Through the syncer too while it holds earlier batches, so answers keep commit order.
            if !big && unsynced == 0 {
                sync_and_answer(self.backend, vec![committed]);
            } else if self.syncer.send(committed).is_ok() {
                unsynced += 1;
            } else {
                // Only if the syncer panicked (logged at close); its callers see the ledger closed.
                return;
            }
            watch = Some(Instant::now() + LAZY_WINDOW);
            self.indexer.commits.fetch_add(1, Ordering::Relaxed);
            if self.backend.unindexed() >= STEP as u64 {
                let _ = self.indexer.nudge.try_send(());
            }
            let waiting = Instant::now();
            while self.backend.unindexed() > MAX_LAG && waiting.elapsed() < MAX_WAIT {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    /// The next message, waiting at most until a queued linked record's window ends or, with
    /// none queued, until the watch after the last commit ends; after that, for as long as it
    /// takes (a linked record queued then nudges).
    fn wait(&self, inbox: &Receiver<Msg>, watch: &mut Option<Instant>) -> Option<Msg> {
        let now = Instant::now();
        *watch = watch.filter(|w| *w > now);
        match self.linked.deadline().or(*watch) {
            Some(deadline) if deadline > now => inbox.recv_timeout(deadline - now).ok(),
            Some(_) => None,
            None => self.linked.park(|| inbox.recv().ok()),
        }
    }
}

/// Index committed records: whole steps as soon as they wait (a batch can bring several), so
/// under load the lag stays below one step; the rest once no batch has come for [`IDLE`].
/// When the writer has stopped, everything, so the next open has nothing to catch up on.
fn run_indexer(backend: &dyn GroupCommitHooks, nudges: &Receiver<()>, commits: &AtomicU64) {
    yield_to_appends();
    let mut seen = commits.load(Ordering::Relaxed);
    loop {
        let least = match nudges.recv_timeout(IDLE) {
            Ok(()) => STEP as u64,
            Err(RecvTimeoutError::Timeout) => {
                // Idle only if no batch was committed during the wait either.
                let now = commits.load(Ordering::Relaxed);
                match std::mem::replace(&mut seen, now) == now {
                    true => 1,
                    false => STEP as u64,
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        while backend.unindexed() >= least {
            if !index_step(backend) {
                std::thread::sleep(RETRY);
                break;
            }
        }
    }
    while backend.unindexed() > 0 && index_step(backend) {}
}

/// Indexing is background work, while every caller waits on the writer: on a busy machine the
/// scheduler should give the writer (and the callers) the CPU first. Linux's nice value is per
/// thread; the indexer still has the CPU whenever they leave it idle, and if that is not
/// enough the writer's backpressure ([`MAX_LAG`]) makes room.
#[cfg(target_os = "linux")]
fn yield_to_appends() {
    const NICER: libc::c_int = 10;
    // SAFETY: plain syscalls on the calling thread's own id.
    let done = unsafe {
        let tid = libc::gettid() as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, NICER)
    };
    if done != 0 {
        tracing::debug!(error = %std::io::Error::last_os_error(), "cannot lower the ledger indexer's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn yield_to_appends() {}

/// One step of derived work; false if it failed (logged: the records are durable anyway, and
/// the next try or the next open catches up).
fn index_step(backend: &dyn GroupCommitHooks) -> bool {
    match backend.index_step(STEP) {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(error = %e, "ledger indexing failed; will retry");
            false
        }
    }
}

/// Commit one batch: its decisions, then its linked records (which may belong to those
/// decisions). A failed transaction fails its part of the batch (nothing of it was written);
/// the next batch tries again, so while the store cannot write every append fails, and appends
/// succeed again once it can (e.g. disk space freed).
fn commit(
    backend: &dyn GroupCommitHooks,
    decisions: Vec<Job>,
    linked: Vec<LinkedJob>,
) -> Committed {
    let (records, acks): (Vec<NewRecord>, Vec<Ack>) =
        decisions.into_iter().map(|j| (j.record, j.ack)).unzip();
    let (linked, linked_acks): (Vec<NewLinkedRecord>, Vec<LinkedAck>) =
        linked.into_iter().map(|j| (j.record, j.ack)).unzip();
    let outcome = if records.is_empty() {
        Ok(Vec::new())
    } else {
        backend.commit_before_flush(&records)
    };
    let linked_outcome = if linked.is_empty() {
        Ok(Vec::new())
    } else {
        backend.commit_linked_before_flush(&linked)
    };
    for e in [outcome.as_ref().err(), linked_outcome.as_ref().err()]
        .into_iter()
        .flatten()
    {
        // Every caller gets the error and reports it (the hall at most once per interval): an
        // error line per batch here filled a full disk's log at 226 MB a minute.
        tracing::debug!(error = %e, records = records.len(), linked = linked.len(), "ledger batch could not be committed");
    }
    Committed {
        acks,
        outcome,
        records,
        linked_acks,
        linked_outcome,
    }
}

/// Make committed batches durable and answer their callers, in commit order: every batch that
/// waits shares one [`GroupCommitHooks::flush_commits`]. If the flush fails, none of them is
/// acknowledged.
fn run_syncer(backend: &dyn GroupCommitHooks, batches: &Receiver<Committed>, writer: &Sender<Msg>) {
    while let Ok(first) = batches.recv() {
        let mut waiting = vec![first];
        waiting.extend(batches.try_iter());
        let count = waiting.len();
        sync_and_answer(backend, waiting);
        // The writer may be gathering until now; once it has stopped nobody listens.
        let _ = writer.send(Msg::Synced(count));
    }
}

/// One [`GroupCommitHooks::flush_commits`] for all these batches, then their callers' answers.
fn sync_and_answer(backend: &dyn GroupCommitHooks, batches: Vec<Committed>) {
    let synced = if batches
        .iter()
        .any(|b| b.outcome.is_ok() || b.linked_outcome.is_ok())
    {
        backend.flush_commits()
    } else {
        Ok(())
    };
    for batch in batches {
        answer(batch, &synced);
    }
}

fn answer(mut batch: Committed, synced: &Result<()>) {
    if let (Ok(receipts), Ok(())) = (&mut batch.outcome, synced) {
        share_batch(receipts, &mut batch.records);
    }
    drop(batch.records);
    deliver(batch.acks, batch.outcome, synced);
    deliver(batch.linked_acks, batch.linked_outcome, synced);
}

/// Hand every receipt of a durable batch the same list of its records (seq, hash, decision
/// id), so the batch can be signed once ([`Batch`]). Only a list: the Merkle tree is built
/// later, by a receipt holder that needs it, never on this thread. The decision ids are moved
/// out of the records, which are freed right after.
fn share_batch(receipts: &mut [Result<Receipt>], records: &mut [NewRecord]) {
    let listed = receipts
        .iter()
        .zip(records.iter_mut())
        .filter_map(|(receipt, record)| {
            let receipt = receipt.as_ref().ok()?;
            let mut hash = [0u8; 32];
            hex::decode_to_slice(&receipt.hash, &mut hash).ok()?;
            Some(BatchRecord {
                seq: receipt.seq,
                hash,
                decision_id: std::mem::take(&mut record.fields.decision_id),
            })
        })
        .collect();
    // A store whose receipts are not consecutive seqs gets no batch: each receipt stands alone.
    let Some(batch) = Batch::new(listed).map(Arc::new) else {
        return;
    };
    for receipt in receipts.iter_mut().flatten() {
        receipt.batch = Some(Arc::clone(&batch));
    }
}

/// Each caller's own result once its batch is durable; every caller the failure otherwise.
fn deliver<T>(
    acks: Vec<oneshot::Sender<Result<T>>>,
    outcome: Result<Vec<Result<T>>>,
    synced: &Result<()>,
) {
    let failure = match (outcome, synced) {
        (Ok(results), Ok(())) => {
            for (ack, result) in acks.into_iter().zip(results) {
                // A caller that stopped waiting is not an error: its record is durable anyway.
                let _ = ack.send(result);
            }
            return;
        }
        (Err(e), _) => e.to_string(),
        (Ok(_), Err(e)) => e.to_string(),
    };
    for ack in acks {
        let _ = ack.send(Err(LedgerError::WriteFailed(failure.clone())));
    }
}
