//! The derived index: what queries need beyond the log, kept in `<ledger>.index` (and, for the
//! newest records, in the writer's memory), and the queries that read it together with the log.
//!
//! **What is true of it.**
//! - Every entry is derived from committed records of the log; the index holds no fact of its
//!   own. `index_state` says how far: every record up to `indexed_seq` is in every index (free
//!   text, decision keys, posting lists; derived.rs, postings.rs) and none after it,
//!   `keys_merged_seq` where the young decision keys begin, `pruned_seq` up to where retention's
//!   entries were dropped. It names the ledger it indexes by that ledger's genesis.
//! - The records after `indexed_seq` are the tail. The writer keeps their decision keys in
//!   memory for the duplicate-id check (tail.rs), and every filter reads its index plus a scan
//!   of the tail in one statement (read.rs), so no answer misses a committed record however far
//!   the indexer lags. Free text alone has no tail arm: a writable handle indexes before it
//!   searches.
//! - Queries join entries to records, so an index a moment ahead of or behind the log changes
//!   no answer.
//!
//! **Who writes it.** Only the indexer thread, in steps, on a connection of its own that opens
//! the index file for writing and attaches the ledger read-only (index_file.rs). Ledger
//! connections (the writer's, the readers') attach it read-only as schema `idx`, so indexing
//! and appends never wait for each other's write lock. It is never shrunk in place: readers map
//! it into memory.
//!
//! **What survives a crash.** A step's entries and its position move in one transaction, so
//! the file is consistent after any crash and the next indexer starts where the last one
//! stopped. It is written with `synchronous = NORMAL`: a step lost to power loss is done again.
//! Entries of records retention pruned are dropped after the prune, and again at every open
//! should a crash have come between (`derived::forget_pruned`).
//!
//! **What is rebuilt.** The whole file, from the log, when it is missing, unreadable, of another
//! layout version, of another ledger, or ahead of the ledger (an older copy of the ledger was
//! restored): a writable open deletes it and the indexer refills it in the background while
//! queries scan; a read-only open uses empty tables of its own. The tail keys are reloaded from
//! the log whenever another process has appended.

pub(super) mod derived;
pub(super) mod index_file;
pub(super) mod postings;
pub(super) mod read;
pub(super) mod tail;
