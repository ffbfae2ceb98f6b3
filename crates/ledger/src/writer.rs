//! Durable group commit. Many callers hand decisions to ONE writer thread over a channel; the
//! writer takes everything queued (up to a batch limit), writes it in one transaction and
//! acknowledges each caller only after that transaction committed. Many decisions share one
//! fsync, and each caller waits only for its own batch. Between batches the writer does the
//! backend's derived work ([`LedgerBackend::catch_up`]: the SQLite backend's filter and
//! free-text indexes), which no caller waits for, in big steps: once a full step waits, or
//! when the queue has been empty for a moment.
//!
//! Acks travel on `tokio::sync::oneshot`, which needs no runtime: async callers `.await` them
//! and sync callers block on them.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::backend::{LedgerBackend, Receipt};
use crate::error::{LedgerError, Result};
use crate::record::NewRecord;
use crate::sqlite::{OpenOptions, SqliteBackend};

/// The most records one transaction takes; bounds commit latency under heavy load. Larger
/// batches are cheaper per record: fewer fsyncs and page writes per record (measured when the
/// indexes were still written in the commit: 16,384 instead of 4,096 cost ~14% less writer
/// CPU).
pub const DEFAULT_MAX_BATCH: usize = 16_384;
/// Records indexed per derived step. Big steps are what make indexing after commit cheaper
/// than indexing in every commit (each index page touched is written once per step); a step
/// is tens of ms of writer time, the longest an append arriving meanwhile waits.
const STEP: usize = 4096;
/// With fewer than [`STEP`] records waiting, the writer indexes them once no append has
/// arrived for this long, so an idle ledger is soon fully indexed.
const IDLE: Duration = Duration::from_millis(20);

struct Job {
    record: NewRecord,
    ack: oneshot::Sender<Result<Receipt>>,
}

/// The ledger as the hall uses it: group-committed appends plus direct access to the
/// backend for queries. Dropping it flushes queued appends and stops the writer.
pub struct Ledger {
    backend: Arc<dyn LedgerBackend>,
    /// `None` once closing. Submits take a read lock, so concurrent producers do not queue
    /// for each other's sends (the channel itself takes concurrent sends).
    jobs: RwLock<Option<Sender<Job>>>,
    writer: Option<JoinHandle<()>>,
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

    /// Group-commit over any backend.
    pub fn with_backend(backend: Arc<dyn LedgerBackend>, max_batch: usize) -> Result<Self> {
        let (tx, rx) = mpsc::channel();
        let writer_backend = Arc::clone(&backend);
        let max_batch = max_batch.max(1);
        let writer = std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || run_writer(writer_backend.as_ref(), rx, max_batch))
            .map_err(|e| {
                LedgerError::WriteFailed(format!("cannot start the writer thread: {e}"))
            })?;
        Ok(Self {
            backend,
            jobs: RwLock::new(Some(tx)),
            writer: Some(writer),
        })
    }

    /// Queries, verification, alerts and events go straight to the backend.
    pub fn backend(&self) -> &dyn LedgerBackend {
        self.backend.as_ref()
    }

    /// Queue a decision (its RouteDecision JSON text) and get the channel its receipt will
    /// arrive on. Bad JSON is rejected here, on the caller's thread.
    pub fn submit(&self, json: impl Into<String>) -> Result<oneshot::Receiver<Result<Receipt>>> {
        let mut record = NewRecord::from_json(json)?;
        self.backend.prepare(&mut record)?;
        let (ack, receipt) = oneshot::channel();
        let jobs = self.jobs.read().unwrap_or_else(|p| p.into_inner());
        let sender = jobs.as_ref().ok_or(LedgerError::Closed)?;
        sender
            .send(Job { record, ack })
            .map_err(|_| LedgerError::Closed)?;
        Ok(receipt)
    }

    /// Record a decision; resolves once it is durable.
    pub async fn append(&self, json: impl Into<String>) -> Result<Receipt> {
        let receipt = self.submit(json)?;
        receipt.await.map_err(|_| LedgerError::Closed)?
    }

    /// Record a decision from synchronous code; returns once it is durable.
    /// Must not be called from inside an async runtime (use [`Ledger::append`] there).
    pub fn append_blocking(&self, json: impl Into<String>) -> Result<Receipt> {
        let receipt = self.submit(json)?;
        receipt.blocking_recv().map_err(|_| LedgerError::Closed)?
    }

    /// Stop accepting appends, let the writer finish everything queued, and wait for it.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.jobs.write().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(writer) = self.writer.take() {
            if writer.join().is_err() {
                tracing::error!("the ledger writer thread panicked");
            }
        }
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn run_writer(backend: &dyn LedgerBackend, jobs: Receiver<Job>, max_batch: usize) {
    let mut batch: Vec<Job> = Vec::with_capacity(max_batch);
    loop {
        let first = match jobs.try_recv() {
            Ok(job) => job,
            Err(TryRecvError::Empty) => match next_job_when_idle(backend, &jobs) {
                Some(job) => job,
                None => break,
            },
            Err(TryRecvError::Disconnected) => break,
        };
        batch.push(first);
        while batch.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit(backend, &mut batch);
        // Under sustained load the queue is rarely empty for long: index whole steps as soon
        // as they wait (a batch can bring several), so the lag stays below one step.
        while backend.lag() >= STEP as u64 && catch_up(backend) {}
    }
    // Closing: leave nothing for the next open to catch up on.
    while backend.lag() > 0 && catch_up(backend) {}
}

/// Wait for the next append; meanwhile, once the queue has stayed empty for [`IDLE`], index
/// what waits a step at a time (an append arriving meanwhile waits for one step at most).
/// `None` when the ledger is closing.
fn next_job_when_idle(backend: &dyn LedgerBackend, jobs: &Receiver<Job>) -> Option<Job> {
    while backend.lag() > 0 {
        match jobs.recv_timeout(IDLE) {
            Ok(job) => return Some(job),
            Err(RecvTimeoutError::Disconnected) => return None,
            Err(RecvTimeoutError::Timeout) => {
                if !catch_up(backend) {
                    break;
                }
            }
        }
    }
    jobs.recv().ok()
}

/// One step of derived work; false if it failed (logged: the records are durable anyway, and
/// the next open catches up).
fn catch_up(backend: &dyn LedgerBackend) -> bool {
    match backend.catch_up(STEP) {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(error = %e, "ledger indexing failed; will retry");
            false
        }
    }
}

/// Write one batch and answer every caller in it. A failed transaction fails the whole batch
/// (nothing of it was written); the next batch tries again, so while the store cannot write
/// every append fails, and appends succeed again once it can (e.g. disk space freed).
fn commit(backend: &dyn LedgerBackend, batch: &mut Vec<Job>) {
    let (records, acks): (Vec<NewRecord>, Vec<_>) =
        batch.drain(..).map(|j| (j.record, j.ack)).unzip();
    match backend.append_batch(&records) {
        Ok(results) => {
            for (ack, result) in acks.into_iter().zip(results) {
                // A caller that stopped waiting is not an error: its record is durable anyway.
                let _ = ack.send(result);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, records = records.len(), "ledger batch could not be committed");
            let reason = e.to_string();
            for ack in acks {
                let _ = ack.send(Err(LedgerError::WriteFailed(reason.clone())));
            }
        }
    }
}
