//! Group commit for linked records. Callers queue a record on a channel and wait on a oneshot;
//! one thread (`ledger-linked`) takes everything queued, appends it with ONE
//! [`LedgerBackend::append_linked`] (one transaction, one WAL flush) and answers each caller
//! with its own result. While it commits and flushes a batch, the next callers queue up and
//! become the next batch, so concurrent callers share flushes and the blocking work never runs
//! on an async runtime's threads.
//!
//! Apart from the decision writer (writer.rs), which is tuned for a far higher rate: linked
//! records come after a tool call returns or a person answers, at most a few per decision.
//! The two share the backend's writer connection, each holding it only for its commit.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::backend::LedgerBackend;
use crate::error::{LedgerError, Result};
use crate::linked::{LinkedRecord, NewLinkedRecord};

/// The most records one transaction takes: bounds a batch's commit time under a burst.
const MAX_BATCH: usize = 4096;

type Ack = oneshot::Sender<Result<LinkedRecord>>;

struct Job {
    record: NewLinkedRecord,
    ack: Ack,
}

pub(crate) struct LinkedWriter {
    /// `None` once closing; submits take a read lock so producers do not queue for each other.
    jobs: RwLock<Option<Sender<Job>>>,
    thread: Option<JoinHandle<()>>,
}

impl LinkedWriter {
    pub fn start(backend: Arc<dyn LedgerBackend>) -> Result<Self> {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("ledger-linked".into())
            .spawn(move || run(backend.as_ref(), &rx))
            .map_err(|e| {
                LedgerError::WriteFailed(format!("cannot start the ledger-linked thread: {e}"))
            })?;
        Ok(Self {
            jobs: RwLock::new(Some(tx)),
            thread: Some(thread),
        })
    }

    /// Queue a record (checked here, on the caller's thread, so a bad one never reaches the
    /// writer) and get the channel its result will arrive on.
    pub fn submit(
        &self,
        record: NewLinkedRecord,
    ) -> Result<oneshot::Receiver<Result<LinkedRecord>>> {
        record.check()?;
        let (ack, answer) = oneshot::channel();
        let jobs = self.jobs.read().unwrap_or_else(|p| p.into_inner());
        let sender = jobs.as_ref().ok_or(LedgerError::Closed)?;
        sender
            .send(Job { record, ack })
            .map_err(|_| LedgerError::Closed)?;
        Ok(answer)
    }

    /// Stop accepting records, let the thread append everything queued, and wait for it.
    pub fn close(&mut self) {
        drop(self.jobs.write().unwrap_or_else(|p| p.into_inner()).take());
        if self.thread.take().is_some_and(|t| t.join().is_err()) {
            tracing::error!("the ledger-linked thread panicked");
        }
    }
}

impl Drop for LinkedWriter {
    fn drop(&mut self) {
        self.close();
    }
}

/// Until every sender is gone: wait for a record, take whatever else is queued, append them
/// together, answer each caller.
fn run(backend: &dyn LedgerBackend, inbox: &Receiver<Job>) {
    while let Ok(first) = inbox.recv() {
        let mut batch = vec![first];
        batch.extend(inbox.try_iter().take(MAX_BATCH - 1));
        let (records, acks): (Vec<NewLinkedRecord>, Vec<Ack>) =
            batch.into_iter().map(|j| (j.record, j.ack)).unzip();
        match backend.append_linked(&records) {
            Ok(results) => {
                // A caller that stopped waiting is not an error: its record is durable anyway.
                for (ack, result) in acks.into_iter().zip(results) {
                    let _ = ack.send(result);
                }
            }
            Err(e) => {
                // Its callers get the error and report it (see `writer::commit`).
                tracing::debug!(error = %e, records = records.len(), "linked records could not be recorded");
                for ack in acks {
                    let _ = ack.send(Err(e.clone()));
                }
            }
        }
    }
}
