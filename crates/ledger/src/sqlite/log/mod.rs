//! The log: the ledger file itself (`<ledger>`, in WAL mode with its `-wal` and `-shm`), the
//! evidence. It is the only copy of what it holds.
//!
//! **What is true of the file.**
//! - `decisions` holds each record once: `seq` is dense from the last retention checkpoint to
//!   the head, `hash = sha256(prev_hash ‖ json)` links it to the record before (the first to the
//!   random genesis in `chain_state`), and `body` is the exact JSON, compressed with a dictionary
//!   stored in the file (`codec`, codec.rs). The filter columns say what the JSON says;
//!   verify.rs re-derives them.
//! - `chain_state` holds the head (last seq and hash), moved in the same transaction as every
//!   batch (append.rs); `checkpoints` chains what retention removed, always a prefix of the
//!   chain and only once that prefix verified (retention.rs).
//! - The linked records are a second chain in the same file (`linked_records`,
//!   `linked_chain_state`, `linked_checkpoints`; linked.rs, linked_chain.rs): its genesis is
//!   derived from the decision chain's, and each record carries the seq and hash of the decision
//!   it belongs to. Their indexes are written in their commit.
//! - Of the decisions' indexes only the time index is here (sequential, written in the commit);
//!   every other one is derived (`super::index`).
//! - `PRAGMA user_version` is the schema version; migrations run in one transaction and a file
//!   from a newer build is refused, never downgraded (schema.rs).
//!
//! **Who writes it.** One connection per process, the writer's (`Writer` in `super`), in
//! `BEGIN IMMEDIATE` transactions that read the head inside the write lock, so two processes
//! appending to one file still make one linear chain. Through it: the group-commit writer's
//! batches of decisions (append.rs) and of linked records (linked.rs), and the hall's own writes (alerts,
//! events, retention). The checkpointer copies the WAL into the file on a connection of its own
//! and never blocks the writer (checkpoint.rs). The indexer and the readers only read it.
//!
//! **What survives a crash.** Commits run with `synchronous = NORMAL`; durable.rs flushes the
//! WAL before anyone is told a write is done, so every acknowledged record survives `kill -9`
//! and power loss. A batch committed but not yet flushed may be lost to power loss, and nobody
//! was told it was recorded. After a failed flush every write is refused until the ledger is
//! reopened. Durability never depends on a checkpoint.
//!
//! **What is rebuilt.** Nothing: the log is not derived from anything. `verify` (verify.rs,
//! linked_chain.rs) names the first bad record of each chain.

pub(super) mod append;
pub(super) mod checkpoint;
pub(super) mod codec;
pub(super) mod durable;
pub(super) mod linked;
mod linked_chain;
pub(super) mod position;
pub(super) mod retention;
pub(crate) mod schema;
pub(super) mod verify;
