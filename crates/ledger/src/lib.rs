//! The decision ledger: a durable, tamper-evident log of every routing decision.
//!
//! - [`Ledger`] is what the hall holds: group-committed appends ([`Ledger::append`] /
//!   [`Ledger::append_blocking`]) that return a [`Receipt`] (`seq`, `hash`) only once the
//!   decision is durable, plus [`Ledger::backend`] for everything else.
//! - [`LedgerBackend`] is the storage seam: what a store does; [`GroupCommitHooks`] is how the
//!   writer's threads drive one. [`SqliteBackend`] (one WAL-mode SQLite file per hall, with
//!   its log and its derived index) is the implementation.
//! - Filter and free-text indexes are derived data, kept in a file of their own beside the
//!   ledger ([`index_path`]) and rebuilt from the records when it is missing or damaged.
//! - Records form a hash chain, `hash = sha256(prev_hash ‖ json)`, from a random genesis
//!   stored in the file; [`LedgerBackend::verify`] names the first bad record.
//! - [`export()`] streams any query as CSV or JSONL in constant memory.
//! - Linked records ([`NewLinkedRecord`]: MCP call outcomes, approvals) are evidence bound to
//!   a decision, in a second hash chain ([`Ledger::append_linked`], [`LedgerBackend::linked`]);
//!   `verify` walks it too.
//!
//! Input is the RouteDecision wire JSON (SPEC.md §1.3), stored byte for byte; the filter
//! columns are extracted from it ([`DecisionFields`]). See docs/ledger.md for the choices.

mod backend;
mod batch;
mod chain;
mod error;
mod export;
mod hall_records;
mod import;
mod linked;
pub mod merkle;
mod query;
mod record;
mod sqlite;
mod writer;

pub use backend::{GroupCommitHooks, HashAt, LedgerBackend, PruneReport, Receipt};
pub use batch::{Batch, BatchRecord};
pub use chain::{
    chain_hash, checkpoint_hash, Chain, Checkpoint, Finding, Problem, Progress, VerifyReport,
};
pub use error::{LedgerError, Result};
pub use export::{export, Format, CSV_HEADER};
pub use hall_records::{
    Alert, AlertAck, AlertFilter, EventFilter, LastHeartbeat, NewAlert, NewHallEvent, Severity,
    StoredHallEvent,
};
pub use import::{mark_imported, ImportMark, IMPORT_KEY};
pub use linked::{
    linked_genesis, LinkedFilter, LinkedOrder, LinkedRecord, NewLinkedRecord, DEFAULT_LINKED_PAGE,
    MAX_KIND_BYTES, MAX_LINKED_BYTES, MAX_LINKED_PAGE,
};
pub use query::{
    Bucket, Count, CountRequest, Facet, Filter, MatchCount, Page, PageRequest, Stats, StatsRequest,
    Summary, SummaryRequest, MAX_PAGE, SUMMARY_BUCKETS,
};
pub use record::{micros_to_time, timestamp_micros, DecisionFields, NewRecord, StoredDecision};
pub use sqlite::schema::LATEST as SCHEMA_VERSION;
pub use sqlite::ship::{
    OutboxAlert, OutboxDecision, OutboxEvent, OutboxHeads, OutboxLinked, OutboxRetention,
};
pub use sqlite::{database_files, index_path, OpenOptions, SqliteBackend};
pub use writer::{Ledger, Urgency, DEFAULT_MAX_BATCH, LAZY_WINDOW, OVERLAP_BATCH};

/// The environment variable that names the ledger file for the CLI's ledger commands (without
/// it they use the ledger of the hall's data dir).
pub const DB_ENV: &str = "PROCTOR_DB";
