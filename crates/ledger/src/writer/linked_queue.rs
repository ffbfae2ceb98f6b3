//! Linked records on their way to the writer, in the order they were queued.
//!
//! Decisions reach the writer over its channel, and each one wakes it. A linked record nobody
//! waits for ([`Urgency::Soon`]) should not: it is queued right after an MCP call's answer left,
//! while the hall, the client and the server it called still need the machine's two cores,
//! and it would only be kept waiting for the next decision anyway. So linked records wait
//! here, and the writer looks at them whenever it wakes; a record wakes it (the caller sends
//! it a nudge) only when someone waits for it, or when the writer waits with no deadline.
//! The writer keeps a deadline for [`LAZY_WINDOW`] after each commit, so a stream of tool
//! calls costs one wake-up per call, not two.

use super::{LinkedJob, Urgency, LAZY_WINDOW};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

#[derive(Default)]
pub(super) struct LinkedQueue {
    queued: Mutex<Queued>,
    /// The writer waits with no deadline: only a message wakes it.
    parked: AtomicBool,
}

#[derive(Default)]
pub(super) struct Queued {
    pub(super) jobs: Vec<LinkedJob>,
    /// When the oldest of them was queued.
    since: Option<Instant>,
    /// Someone waits for one of them.
    urgent: bool,
}

impl LinkedQueue {
    /// Queue a record; true if the writer must be woken for it.
    pub(super) fn push(&self, job: LinkedJob) -> bool {
        let urgent = job.urgency == Urgency::Now;
        let mut queued = self.lock();
        queued.jobs.push(job);
        queued.since.get_or_insert_with(Instant::now);
        queued.urgent |= urgent;
        // Read under the lock: the writer sets `parked` and then looks at the queue under it,
        // so either it sees this record or this sees it parked.
        urgent || self.parked.load(Ordering::SeqCst)
    }

    /// Everything queued, for the writer's next batch.
    pub(super) fn take(&self) -> Vec<LinkedJob> {
        std::mem::take(&mut *self.lock()).jobs
    }

    pub(super) fn is_empty(&self) -> bool {
        self.lock().jobs.is_empty()
    }

    /// A record must be committed now: someone waits for it, or the oldest has waited
    /// [`LAZY_WINDOW`] for a decision to share a commit with.
    pub(super) fn due(&self, now: Instant) -> bool {
        let queued = self.lock();
        queued.urgent || queued.since.is_some_and(|s| now >= s + LAZY_WINDOW)
    }

    /// When the oldest record's window ends, if any record waits.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.lock().since.map(|s| s + LAZY_WINDOW)
    }

    /// Run `wait` (a wait with no deadline) unless a record is queued; a record queued
    /// meanwhile nudges the writer.
    pub(super) fn park<T>(&self, wait: impl FnOnce() -> Option<T>) -> Option<T> {
        self.parked.store(true, Ordering::SeqCst);
        let message = if self.is_empty() { wait() } else { None };
        self.parked.store(false, Ordering::SeqCst);
        message
    }

    fn lock(&self) -> MutexGuard<'_, Queued> {
        self.queued.lock().unwrap_or_else(|p| p.into_inner())
    }
}
