//! The storage seam. Callers (the group-commit writer, the hall, the CLI, export) only talk to
//! [`LedgerBackend`], so a server backend (e.g. PostgreSQL for fleets of halls) can be added
//! without touching them. [`crate::SqliteBackend`] is the one implementation today.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::chain::{Progress, VerifyReport};
use crate::error::Result;
use crate::hall_records::{Alert, AlertFilter, EventFilter, HallEvent, NewAlert, NewHallEvent};
use crate::linked::{LinkedFilter, LinkedRecord, NewLinkedRecord};
use crate::query::{Page, PageRequest, Stats, StatsRequest};
use crate::record::{NewRecord, StoredDecision};

/// Proof that a decision is durably recorded: its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub seq: i64,
    /// Hex SHA-256 chain hash of the record.
    pub hash: String,
}

/// What a retention run removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    pub pruned: u64,
    /// The last pruned seq (the new checkpoint), if anything was pruned.
    pub through_seq: Option<i64>,
    /// Linked records pruned with their decisions (a prefix of the linked chain).
    pub linked_pruned: u64,
    /// The last pruned linked seq (the linked chain's new checkpoint), if any.
    pub linked_through_seq: Option<i64>,
}

pub trait LedgerBackend: Send + Sync {
    /// Work that can run on the caller's thread before a record reaches the single writer
    /// (the SQLite backend compresses the JSON here). The default does nothing.
    fn prepare(&self, _record: &mut NewRecord) -> Result<()> {
        Ok(())
    }

    /// Append records in order inside ONE transaction, which is durable once [`sync`] has
    /// returned `Ok` (a backend whose commits are durable by themselves does nothing there).
    /// The outer error means nothing was written; an inner error rejects only that record
    /// (e.g. a duplicate decision id), the others are committed and chained.
    ///
    /// [`sync`]: LedgerBackend::sync
    fn commit_batch(&self, batch: &[NewRecord]) -> Result<Vec<Result<Receipt>>>;

    /// Make every batch committed so far durable. Split from the commit so that the
    /// group-commit writer can commit the next batch while this one reaches the disk.
    fn sync(&self) -> Result<()> {
        Ok(())
    }

    /// [`commit_batch`](LedgerBackend::commit_batch), then [`sync`](LedgerBackend::sync).
    fn append_batch(&self, batch: &[NewRecord]) -> Result<Vec<Result<Receipt>>> {
        let receipts = self.commit_batch(batch)?;
        self.sync()?;
        Ok(receipts)
    }

    /// Derived work kept off the durable path (the SQLite backend's filter and free-text
    /// indexes): do a step of at most `max_records` committed records. The group-commit
    /// writer calls this between batches. Returns how many records still wait. The default has none.
    fn catch_up(&self, _max_records: usize) -> Result<u64> {
        Ok(0)
    }

    /// How many committed records still wait for [`LedgerBackend::catch_up`] (cheap).
    fn lag(&self) -> u64 {
        0
    }

    /// One page of history, newest first.
    fn page(&self, request: &PageRequest) -> Result<Page>;

    /// A decision by its `decision_id`.
    fn get(&self, decision_id: &str) -> Result<Option<StoredDecision>>;

    /// Every decision of one correlation id, in the order they were recorded.
    fn trace(&self, correlation_id: &str) -> Result<Vec<StoredDecision>>;

    fn stats(&self, request: &StatsRequest) -> Result<Stats>;

    /// Walk the whole chain; `Ok` with a finding when it is broken.
    fn verify(&self, progress: &mut dyn FnMut(Progress)) -> Result<VerifyReport>;

    /// Remove the decisions older than `cutoff` (a prefix of the chain) and keep a checkpoint;
    /// and the linked records of pruned decisions, as far as they are a prefix of the linked
    /// chain (with a checkpoint of their own).
    fn prune_before(&self, cutoff: DateTime<Utc>) -> Result<PruneReport>;

    /// Append linked records (evidence about decisions already in the ledger) in order inside
    /// ONE transaction, durable before this returns `Ok`. The outer error means nothing was
    /// written; an inner error rejects only that record (its decision is not in the ledger,
    /// a bad kind or body), the others are committed and chained.
    fn append_linked(&self, batch: &[NewLinkedRecord]) -> Result<Vec<Result<LinkedRecord>>>;

    /// Linked records matching `filter`: newest first, or oldest first when filtering by
    /// decision or correlation id ([`LinkedFilter::oldest_first`]).
    fn linked(&self, filter: &LinkedFilter) -> Result<Vec<LinkedRecord>>;

    fn insert_alert(&self, alert: &NewAlert) -> Result<i64>;
    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>>;
    /// Acknowledge an alert; false if there is no such unacknowledged alert.
    fn ack_alert(&self, id: i64, at: DateTime<Utc>) -> Result<bool>;

    fn insert_event(&self, event: &NewHallEvent) -> Result<i64>;
    fn events(&self, filter: &EventFilter) -> Result<Vec<HallEvent>>;
}
