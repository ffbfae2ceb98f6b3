//! The storage seam. Callers (the hall, the CLI, export) only talk to [`LedgerBackend`], what a
//! store does; the group-commit writer also drives a store through [`GroupCommitHooks`]. So a
//! server backend (e.g. PostgreSQL for fleets of halls) can be added without touching them.
//! [`crate::SqliteBackend`] is the one implementation today.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::batch::Batch;
use crate::chain::{Progress, VerifyReport};
use crate::error::Result;
use crate::hall_records::{
    Alert, AlertAck, AlertFilter, EventFilter, LastHeartbeat, NewAlert, NewHallEvent,
    StoredHallEvent,
};
use crate::linked::{LinkedFilter, LinkedRecord, NewLinkedRecord};
use crate::query::{
    Count, CountRequest, MatchCount, Page, PageRequest, Stats, StatsRequest, Summary,
    SummaryRequest,
};
use crate::record::{NewRecord, StoredDecision};

/// Proof that a decision is durably recorded: its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub seq: i64,
    /// Hex SHA-256 chain hash of the record.
    pub hash: String,
    /// The records made durable with this one, shared by all their receipts (the writer's
    /// appends; `None` for a head or a store's own answer), so the batch is signed once.
    #[serde(skip)]
    pub batch: Option<Arc<Batch>>,
}

/// The chain hash a ledger holds at one seq ([`LedgerBackend::hash_at`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum HashAt {
    /// Hex SHA-256: the record's chain hash (the genesis at seq 0, a retention checkpoint's
    /// hash at the last seq it pruned).
    Held(String),
    /// Retention removed the record; its hash is gone with it.
    Pruned,
    /// No record has this seq: it is past the head, or was never there.
    Missing,
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

/// What a store does: keep decisions durably in one chain, answer queries about them, verify
/// and prune that chain, keep the linked records and the hall's alerts and events. Callers (the
/// hall, the CLI, export) use only this. [`crate::SqliteBackend`] is the one store today; a
/// server store (PostgreSQL for fleets of halls) would implement it, plus [`GroupCommitHooks`]
/// to be driven by the [`crate::Ledger`] writer.
pub trait LedgerBackend: Send + Sync {
    /// Append records in order inside ONE transaction, durable once this returns `Ok`. The
    /// outer error means nothing was written; an inner error rejects only that record (e.g. a
    /// duplicate decision id), the others are committed and chained.
    fn append_batch(&self, batch: &[NewRecord]) -> Result<Vec<Result<Receipt>>>;

    /// One page of history, newest first.
    fn page(&self, request: &PageRequest) -> Result<Page>;

    /// A decision by its `decision_id`.
    fn get(&self, decision_id: &str) -> Result<Option<StoredDecision>>;

    /// Every decision of one correlation id, in the order they were recorded.
    fn trace(&self, correlation_id: &str) -> Result<Vec<StoredDecision>>;

    fn stats(&self, request: &StatsRequest) -> Result<Stats>;

    /// Total, buckets and facets of a filter, bounded by the request's scan (the explorer's).
    fn summary(&self, request: &SummaryRequest) -> Result<Summary>;

    /// How many decisions match a filter, exact unless the request's time budget ran out.
    fn count(&self, request: &CountRequest) -> Result<MatchCount>;

    /// Decisions per selected worker species over the whole ledger, most first: what the
    /// hall's per-worker counts start from after a restart. Cheap on a large ledger (it reads
    /// an index, not the records).
    fn decisions_per_worker(&self) -> Result<Vec<Count>>;

    /// The last committed record: its seq (0 when the chain is empty) and chain hash (the
    /// genesis when empty). What the hall's signed checkpoints anchor.
    fn head(&self) -> Result<Receipt>;

    /// The chain hash at `seq`, to check a checkpoint or a receipt against the ledger.
    fn hash_at(&self, seq: i64) -> Result<HashAt>;

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
    fn ack_alert(&self, id: i64, ack: &AlertAck) -> Result<bool>;
    /// Mark the unresolved alerts of `code` about `subject` resolved at `at`; their ids.
    fn resolve_alerts(&self, code: &str, subject: &str, at: DateTime<Utc>) -> Result<Vec<i64>>;

    fn insert_event(&self, event: &NewHallEvent) -> Result<i64>;
    fn events(&self, filter: &EventFilter) -> Result<Vec<StoredHallEvent>>;

    /// Keep each worker's newest heartbeat (an older one never replaces a newer one).
    fn save_heartbeats(&self, beats: &[LastHeartbeat]) -> Result<()>;
    /// Every worker's last heartbeat saved, by worker id.
    fn last_heartbeats(&self) -> Result<Vec<LastHeartbeat>>;
}

/// How the [`crate::Ledger`]'s threads drive a store, beyond [`LedgerBackend`]: work moved off
/// the single writer, a commit whose wait for the disk can overlap the next commit, and work
/// derived from committed records that no caller waits for. A store whose appends are simply
/// durable needs none of them: every method has a default that keeps
/// [`LedgerBackend::append_batch`]'s meaning.
pub trait GroupCommitHooks: LedgerBackend {
    /// Per-record work on the caller's thread, before the record reaches the single writer
    /// (the SQLite store compresses the JSON and keys the decision id here).
    fn prepare(&self, _record: &mut NewRecord) -> Result<()> {
        Ok(())
    }

    /// [`LedgerBackend::append_batch`] without the wait for the disk: the batch is committed
    /// (visible, chained) but durable only once [`flush_commits`] has returned `Ok`, and no
    /// caller may hear of it before. Split so that the writer commits the next batch while a
    /// syncer thread waits for this one's flush. The default is a durable append.
    ///
    /// [`flush_commits`]: GroupCommitHooks::flush_commits
    fn commit_before_flush(&self, batch: &[NewRecord]) -> Result<Vec<Result<Receipt>>> {
        self.append_batch(batch)
    }

    /// [`LedgerBackend::append_linked`] without the wait for the disk, as
    /// [`commit_before_flush`] is for decisions: durable once [`flush_commits`] has returned
    /// `Ok`, which one flush does for both. The default is a durable append.
    ///
    /// [`commit_before_flush`]: GroupCommitHooks::commit_before_flush
    /// [`flush_commits`]: GroupCommitHooks::flush_commits
    fn commit_linked_before_flush(
        &self,
        batch: &[NewLinkedRecord],
    ) -> Result<Vec<Result<LinkedRecord>>> {
        self.append_linked(batch)
    }

    /// Make every batch committed by [`commit_before_flush`] so far durable. After a failure,
    /// none of them may be acknowledged.
    ///
    /// [`commit_before_flush`]: GroupCommitHooks::commit_before_flush
    fn flush_commits(&self) -> Result<()> {
        Ok(())
    }

    /// Index committed records that are not indexed yet, at most `max_records` of them, off
    /// the durable path (the SQLite store's filter and free-text indexes, in a file of their
    /// own). The writer's indexer thread calls it between batches. Returns how many records
    /// still wait. The default has nothing to index.
    fn index_step(&self, _max_records: usize) -> Result<u64> {
        Ok(0)
    }

    /// How many committed records still wait for [`index_step`] (cheap: the writer checks it
    /// after every batch and slows down past a limit).
    ///
    /// [`index_step`]: GroupCommitHooks::index_step
    fn unindexed(&self) -> u64 {
        0
    }
}
