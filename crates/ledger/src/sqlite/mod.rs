//! The SQLite backend: one file per hall, WAL mode, commits flushed by log/durable.rs (see
//! docs/ledger.md for why), one writer connection and one reader connection; long walks
//! (verify, export) open their own reader so they never block the history screen.
//!
//! Two parts, one job each (their invariants head their `mod.rs`):
//! - [`log`]: the ledger file, the evidence. Appends, durability, checkpoints, the codec, the
//!   schema, verify, retention, and the linked records' chain.
//! - [`index`]: `<ledger>.index`, derived from the log and rebuilt from it: the filter and
//!   free-text indexes, the writer's tail of records not indexed yet, and the queries that
//!   read both.
//!
//! This module opens the connections and implements [`LedgerBackend`] (what a store does) and
//! [`GroupCommitHooks`] (how the `Ledger`'s threads drive this one) over the two parts;
//! hall.rs keeps the alerts and hall events, beside the log in its file but not chained.

mod hall;
mod index;
mod log;
pub(crate) mod ship;

use self::index::{derived, index_file, postings, read, tail};
pub(crate) use self::log::schema;
use self::log::{append, checkpoint, codec, durable, linked, position, retention, verify};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};

use self::codec::Codec;
pub use self::index_file::path_for as index_path;

use crate::backend::{GroupCommitHooks, HashAt, LedgerBackend, PruneReport, Receipt};
use crate::chain::{Progress, VerifyReport};
use crate::error::{LedgerError, Result};
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

/// How to open a ledger file.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Open for queries and verification only; appends fail with [`LedgerError::OpenedReadOnly`].
    pub read_only: bool,
    /// Create the file (and its directory) if it does not exist. Ignored when `read_only`.
    pub create: bool,
    /// How long to wait for another process's lock before failing with [`LedgerError::Locked`].
    pub busy_timeout: Duration,
    /// Refuse to grow the file past this many bytes (appends then fail as disk full).
    pub max_size_bytes: Option<u64>,
    /// How many records the young part of the decision-key index takes before it is merged
    /// into the old part (index/derived.rs, `KEY_PARTS`). Smaller: cheaper steps, more merges.
    pub key_merge_every: u64,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            read_only: false,
            create: true,
            busy_timeout: Duration::from_secs(5),
            max_size_bytes: None,
            key_merge_every: derived::KEY_MERGE_EVERY,
        }
    }
}

impl OpenOptions {
    pub fn read_only() -> Self {
        Self {
            read_only: true,
            create: false,
            ..Self::default()
        }
    }
}

pub struct SqliteBackend {
    /// Declared first so it stops before the connections close. `None` when read-only.
    checkpointer: Option<checkpoint::Checkpointer>,
    path: PathBuf,
    options: OpenOptions,
    /// `None` when opened read-only.
    writer: Option<Mutex<Writer>>,
    /// Flushes the writer's commits to disk. `None` when read-only.
    durability: Option<durable::WalSync>,
    reader: Mutex<Connection>,
    /// The index file's connection (index/index_file.rs), apart from the writer's so that indexing
    /// and appends do not wait for each other. `None` when read-only. Declared after the
    /// connections that attach the index read-only: the last to close checkpoints the index
    /// file and removes its WAL, which only a writable connection may do.
    indexer: Option<Mutex<Connection>>,
    codec: Codec,
    /// The last committed seq and the last indexed seq (index/derived.rs), as this process last
    /// saw them: their difference is [`SqliteBackend::lag`].
    head_seq: AtomicI64,
    indexed_seq: AtomicI64,
}

/// The one connection that writes, with what the writer remembers between batches.
struct Writer {
    conn: Connection,
    tail: tail::TailKeys,
}

impl SqliteBackend {
    /// Open (and, unless read-only, create and migrate) the ledger at `path`.
    pub fn open(path: impl AsRef<Path>, options: OpenOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if !path.exists() && (options.read_only || !options.create) {
            return Err(LedgerError::NotFound { path });
        }
        // SQLite itself only says "disk I/O error" (or "unable to open") for a directory.
        if path.is_dir() {
            return Err(LedgerError::IsADirectory { path });
        }
        let (writer, indexer) = if options.read_only {
            (None, None)
        } else {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| LedgerError::Database {
                    path: path.clone(),
                    detail: format!("cannot create directory {}: {e}", dir.display()),
                })?;
            }
            let conn = connect(&path, &options, false)
                .and_then(|mut conn| {
                    schema::migrate(&mut conn, &path, Utc::now().timestamp_micros())?;
                    Ok(conn)
                })
                .map_err(|e| explain_open_failure(&path, e))?;
            let indexer = index_file::open_for_indexing(&path, &options)?;
            index_file::attach(&conn, &path).map_err(|e| LedgerError::sqlite(&path, e))?;
            // The migrations (a new ledger's genesis) are durable before the ledger is used.
            let durability = durable::WalSync::open(&path)?;
            durability.sync()?;
            let writer = Writer {
                conn,
                tail: tail::TailKeys::default(),
            };
            (
                Some((Mutex::new(writer), durability)),
                Some(Mutex::new(indexer)),
            )
        };
        let (writer, durability) = writer.unzip();
        let reader = connect(&path, &options, true)?;
        schema::check_readable(&reader, &path)?;
        index_file::attach(&reader, &path).map_err(|e| LedgerError::sqlite(&path, e))?;
        let codec = schema::load_codec(&reader, &path)?;
        let checkpointer = match writer {
            Some(_) => Some(checkpoint::Checkpointer::start(&path, &options)?),
            None => None,
        };
        let (indexed_seq, head_seq) =
            derived::positions(&reader).map_err(|e| LedgerError::sqlite(&path, e))?;
        tracing::debug!(path = %path.display(), read_only = options.read_only, "ledger opened");
        Ok(Self {
            checkpointer,
            path,
            options,
            writer,
            durability,
            reader: Mutex::new(reader),
            indexer,
            codec,
            head_seq: AtomicI64::new(head_seq),
            indexed_seq: AtomicI64::new(indexed_seq),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> LedgerError {
        LedgerError::sqlite(&self.path, e)
    }

    /// An error of the index file's own connection, named by that file.
    fn index_err(&self, e: rusqlite::Error) -> LedgerError {
        LedgerError::sqlite(&index_file::path_for(&self.path), e)
    }

    fn writer(&self) -> Result<MutexGuard<'_, Writer>> {
        let writer = self.writer.as_ref().ok_or(LedgerError::OpenedReadOnly)?;
        Ok(lock(writer))
    }

    fn durability(&self) -> Result<&durable::WalSync> {
        self.durability.as_ref().ok_or(LedgerError::OpenedReadOnly)
    }

    /// A write on the writer's connection outside the group commit (the hall's alerts and
    /// events, retention), durable when it returns.
    fn write<T>(&self, work: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let durability = self.durability()?;
        durability.check()?;
        let value = work(&mut self.writer()?.conn)?;
        durability.sync()?;
        Ok(value)
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        lock(&self.reader)
    }

    /// A fresh read connection for long walks.
    fn walk_connection(&self) -> Result<Connection> {
        let conn = connect(&self.path, &self.options, true)?;
        index_file::attach(&conn, &self.path).map_err(|e| self.err(e))?;
        Ok(conn)
    }

    /// SQLite's own structural check (`PRAGMA integrity_check`: damaged pages, and indexes
    /// that no longer match their rows) and the same for the filter index tables, none of
    /// which the chain walk reads. Returns the problems found, empty when the file is sound.
    /// Reads the whole file: slower than `verify`.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        let conn = self.walk_connection()?;
        let structural = conn
            .prepare("PRAGMA integrity_check")
            .and_then(|mut stmt| {
                stmt.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.err(e))?;
        let mut problems: Vec<String> = structural.into_iter().filter(|p| p != "ok").collect();
        // Index tables on damaged pages can't be read reliably: report the damage alone.
        if problems.is_empty() {
            problems = derived::check_filter_indexes(&conn, &index_file::path_for(&self.path))
                .map_err(|e| self.err(e))?;
        }
        Ok(problems)
    }
}

impl Drop for SqliteBackend {
    /// The last connection to close a WAL file checkpoints it and removes its WAL, if it may
    /// write that file. The indexer attaches the ledger read-only and closes last (see the
    /// field order), so it lets go of the ledger first: then the ledger's own connections close
    /// it cleanly, and the indexer the index file.
    fn drop(&mut self) {
        if let Some(indexer) = &self.indexer {
            let _ = lock(indexer).execute_batch("DETACH DATABASE ledger");
        }
    }
}

/// SQLite says only "unable to open database file" when it may not create its WAL files on
/// a read-only file or filesystem; name that cause when it is the one.
fn explain_open_failure(path: &Path, e: LedgerError) -> LedgerError {
    let vague = matches!(
        e,
        LedgerError::Database { .. } | LedgerError::NotFound { .. }
    );
    let writable = std::fs::OpenOptions::new().append(true).open(path).is_ok();
    if vague && path.exists() && !writable {
        return LedgerError::ReadOnly {
            path: path.to_path_buf(),
        };
    }
    e
}

/// An SQLite database file and the write-ahead log and shared-memory files beside it in WAL
/// mode: the files that together hold the database.
pub fn database_files(path: &Path) -> [PathBuf; 3] {
    ["", "-wal", "-shm"].map(|suffix| {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        PathBuf::from(file)
    })
}

/// A poisoned lock only means another thread panicked mid-call; the connection itself is
/// still consistent (SQLite rolls back unfinished transactions), so keep using it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// SQLite connection to `target` (the ledger's path, or a `file:` URI of it) set up as every
/// ledger connection is.
fn open_connection(
    path: &Path,
    target: &Path,
    flags: OpenFlags,
    options: &OpenOptions,
) -> Result<Connection> {
    let err = |e| LedgerError::sqlite(path, e);
    let conn = Connection::open_with_flags(target, flags).map_err(err)?;
    conn.busy_timeout(options.busy_timeout).map_err(err)?;
    conn.set_prepared_statement_cache_capacity(64);
    postings::register(&conn).map_err(err)?;
    Ok(conn)
}

/// URI: the index file is attached by a `file:` URI (read-only mode).
const BASE_FLAGS: OpenFlags = OpenFlags::SQLITE_OPEN_NO_MUTEX.union(OpenFlags::SQLITE_OPEN_URI);

fn connect(path: &Path, options: &OpenOptions, for_reading: bool) -> Result<Connection> {
    let err = |e| LedgerError::sqlite(path, e);
    let flags = BASE_FLAGS
        | if options.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        };
    let conn = open_connection(path, path, flags, options)?;
    if !options.read_only && !for_reading {
        // Reading the mode also proves the file is an SQLite database (else NotADatabase).
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(LedgerError::Database {
                path: path.to_path_buf(),
                detail: format!("cannot switch the ledger to WAL mode (journal mode is {mode})"),
            });
        }
        // NORMAL: a commit does not wait for the disk; log/durable.rs flushes the WAL before
        // anyone is told a write is done, so an acknowledged batch survives power loss.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        // The ledger file now holds only sequential B-trees (records by seq, their time index):
        // their hot right edges are all a commit touches. 16 MiB.
        conn.pragma_update(None, "cache_size", -16_384)
            .map_err(err)?;
        // The checkpoint thread copies the WAL into the file, off the writer (log/checkpoint.rs).
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(err)?;
        if let Some(max) = options.max_size_bytes {
            let page: i64 = conn
                .query_row("PRAGMA page_size", [], |r| r.get(0))
                .map_err(err)?;
            let pages = (max as i64 / page).max(1);
            conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
                .map_err(err)?;
        }
    } else if let Err(e) = conn.query_row("PRAGMA schema_version", [], |_| Ok(())) {
        let cannot_open = e.sqlite_error_code() == Some(rusqlite::ErrorCode::CannotOpen);
        return if options.read_only && cannot_open {
            open_immutable(path, options)
        } else {
            Err(err(e))
        };
    }
    Ok(conn)
}

/// A reader of a ledger on a read-only filesystem (an archived or mounted copy): WAL mode wants
/// a `-shm` file beside the ledger, which cannot be created there. A ledger without a
/// write-ahead log (a clean close checkpoints and removes it) holds every commit in the file
/// itself, so SQLite may read it as immutable. With a log left, reading the file alone would
/// miss commits: refuse, naming why.
fn open_immutable(path: &Path, options: &OpenOptions) -> Result<Connection> {
    let [_, wal, _] = database_files(path);
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Err(LedgerError::Database {
            path: path.to_path_buf(),
            detail: format!(
                "cannot read it here: SQLite cannot create its shared-memory file beside the \
                 ledger (a read-only directory or filesystem), and its write-ahead log {} still \
                 holds commits that reading the file alone would miss; open it once where it is \
                 writable",
                wal.display()
            ),
        });
    }
    let uri = index_file::file_uri(path, "mode=ro&immutable=1");
    let flags = BASE_FLAGS | OpenFlags::SQLITE_OPEN_READ_ONLY;
    let conn = open_connection(path, Path::new(&uri), flags, options)?;
    conn.query_row("PRAGMA schema_version", [], |_| Ok(()))
        .map_err(|e| LedgerError::sqlite(path, e))?;
    tracing::debug!(path = %path.display(), "ledger read as immutable (read-only location)");
    Ok(conn)
}

impl LedgerBackend for SqliteBackend {
    fn append_batch(&self, batch: &[NewRecord]) -> Result<Vec<Result<Receipt>>> {
        let receipts = self.commit_before_flush(batch)?;
        self.flush_commits()?;
        Ok(receipts)
    }

    fn page(&self, request: &PageRequest) -> Result<Page> {
        self.index_before_search(&request.filter)?;
        read::page(&self.reader(), &self.codec, request).map_err(|e| self.read_err(e))
    }

    fn get(&self, decision_id: &str) -> Result<Option<StoredDecision>> {
        read::get(&self.reader(), &self.codec, decision_id).map_err(|e| self.err(e))
    }

    fn trace(&self, correlation_id: &str) -> Result<Vec<StoredDecision>> {
        read::trace(&self.reader(), &self.codec, correlation_id).map_err(|e| self.err(e))
    }

    fn stats(&self, request: &StatsRequest) -> Result<Stats> {
        self.index_before_search(&request.filter)?;
        read::stats(&self.reader(), request).map_err(|e| self.read_err(e))
    }

    fn summary(&self, request: &SummaryRequest) -> Result<Summary> {
        self.index_before_search(&request.filter)?;
        read::summary(&self.reader(), request).map_err(|e| self.read_err(e))
    }

    fn count(&self, request: &CountRequest) -> Result<MatchCount> {
        self.index_before_search(&request.filter)?;
        // A connection of its own: a count may take its whole budget, and the shared reader
        // serves the list and the live screens meanwhile.
        let conn = self.walk_connection()?;
        read::count(&conn, request).map_err(|e| self.read_err(e))
    }

    fn decisions_per_worker(&self) -> Result<Vec<Count>> {
        read::counts_by(&self.reader(), "worker").map_err(|e| self.read_err(e))
    }

    fn head(&self) -> Result<Receipt> {
        position::head(&self.reader()).map_err(|e| self.err(e))
    }

    fn hash_at(&self, seq: i64) -> Result<HashAt> {
        position::hash_at(&self.reader(), seq).map_err(|e| self.err(e))
    }

    fn verify(&self, progress: &mut dyn FnMut(Progress)) -> Result<VerifyReport> {
        let conn = self.walk_connection()?;
        verify::verify(&conn, &self.codec, None, progress).map_err(|e| self.err(e))
    }

    fn prune_before(&self, cutoff: DateTime<Utc>) -> Result<PruneReport> {
        let report = self.write(|conn| {
            retention::prune_before(conn, &self.codec, cutoff, Utc::now())
                .map_err(|e| e.into_ledger(&self.path))
        })?;
        if let Some(indexer) = &self.indexer {
            derived::forget_pruned(&lock(indexer)).map_err(|e| self.index_err(e))?;
        }
        Ok(report)
    }

    fn append_linked(&self, batch: &[NewLinkedRecord]) -> Result<Vec<Result<LinkedRecord>>> {
        let results = self.commit_linked_before_flush(batch)?;
        self.flush_commits()?;
        Ok(results)
    }

    fn linked(&self, filter: &LinkedFilter) -> Result<Vec<LinkedRecord>> {
        linked::list(&self.reader(), filter).map_err(|e| self.read_err(e))
    }

    fn insert_alert(&self, alert: &NewAlert) -> Result<i64> {
        self.write(|conn| hall::insert_alert(conn, alert).map_err(|e| self.err(e)))
    }

    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>> {
        hall::alerts(&self.reader(), filter).map_err(|e| self.err(e))
    }

    fn ack_alert(&self, id: i64, ack: &AlertAck) -> Result<bool> {
        self.write(|conn| hall::ack_alert(conn, id, ack).map_err(|e| self.err(e)))
    }

    fn resolve_alerts(&self, code: &str, subject: &str, at: DateTime<Utc>) -> Result<Vec<i64>> {
        self.write(|conn| hall::resolve_alerts(conn, code, subject, at).map_err(|e| self.err(e)))
    }

    fn insert_event(&self, event: &NewHallEvent) -> Result<i64> {
        self.write(|conn| hall::insert_event(conn, event).map_err(|e| self.err(e)))
    }

    fn events(&self, filter: &EventFilter) -> Result<Vec<StoredHallEvent>> {
        hall::events(&self.reader(), filter).map_err(|e| self.err(e))
    }

    fn save_heartbeats(&self, beats: &[LastHeartbeat]) -> Result<()> {
        self.write(|conn| hall::save_heartbeats(conn, beats).map_err(|e| self.err(e)))
    }

    fn last_heartbeats(&self) -> Result<Vec<LastHeartbeat>> {
        hall::last_heartbeats(&self.reader()).map_err(|e| self.err(e))
    }
}

/// The group-commit writer's steps, SQLite's way: compression on the callers' threads, commits
/// flushed by log/durable.rs (so the syncer overlaps a batch's flush with the next commit), the
/// derived indexes filled after commit by the indexer thread.
impl GroupCommitHooks for SqliteBackend {
    fn prepare(&self, record: &mut NewRecord) -> Result<()> {
        record.prepared =
            Some(
                append::prepare(&self.codec, record).map_err(|detail| LedgerError::Database {
                    path: self.path.clone(),
                    detail,
                })?,
            );
        Ok(())
    }

    fn commit_before_flush(&self, batch: &[NewRecord]) -> Result<Vec<Result<Receipt>>> {
        self.durability()?.check()?;
        let mut w = self.writer()?;
        let Writer { conn, tail } = &mut *w;
        let receipts =
            append::append_batch(conn, tail, &self.codec, batch).map_err(|e| self.err(e))?;
        if let Some(seq) = receipts.iter().rev().find_map(|r| r.as_ref().ok()) {
            self.head_seq.fetch_max(seq.seq, Ordering::Relaxed);
        }
        if let Some(c) = &self.checkpointer {
            c.nudge();
        }
        Ok(receipts)
    }

    fn commit_linked_before_flush(
        &self,
        batch: &[NewLinkedRecord],
    ) -> Result<Vec<Result<LinkedRecord>>> {
        self.durability()?.check()?;
        let mut w = self.writer()?;
        let Writer { conn, tail } = &mut *w;
        let results = linked::append(conn, tail, batch).map_err(|e| self.err(e))?;
        drop(w);
        if let Some(c) = &self.checkpointer {
            c.nudge();
        }
        Ok(results)
    }

    fn flush_commits(&self) -> Result<()> {
        self.durability()?.sync()
    }

    fn index_step(&self, max_records: usize) -> Result<u64> {
        self.catch_up(max_records)
    }

    fn unindexed(&self) -> u64 {
        self.lag()
    }
}

impl SqliteBackend {
    /// Index up to `max_records` committed records that are not indexed yet, in one step on
    /// the index file's connection; returns how many still wait. The `Ledger`'s indexer thread
    /// does this by itself; a backend used without a `Ledger` (tools, tests) calls it.
    pub fn catch_up(&self, max_records: usize) -> Result<u64> {
        let indexer = self.indexer.as_ref().ok_or(LedgerError::OpenedReadOnly)?;
        let (indexed, head) = derived::index_pending(
            &mut lock(indexer),
            max_records,
            self.options.key_merge_every,
        )
        .map_err(|e| self.index_err(e))?;
        self.indexed_seq.store(indexed, Ordering::Relaxed);
        self.head_seq.fetch_max(head, Ordering::Relaxed);
        Ok(self.lag())
    }

    /// How many committed records are not indexed yet, as this process last saw (0 when
    /// read-only: it does not index).
    pub fn lag(&self) -> u64 {
        if self.writer.is_none() {
            return 0;
        }
        let head = self.head_seq.load(Ordering::Relaxed);
        (head - self.indexed_seq.load(Ordering::Relaxed)).max(0) as u64
    }

    /// A free-text search through a writable handle sees every committed record: it first
    /// indexes what the writer has not indexed yet (under load less than a step plus a batch; idle,
    /// nothing). Read-only handles search what the writing process has indexed so far (other
    /// filters see every record either way: index/read.rs scans the tail).
    fn index_before_search(&self, filter: &crate::query::Filter) -> Result<()> {
        if filter.text.is_some() && self.writer.is_some() && self.lag() > 0 {
            self.catch_up(usize::MAX)?;
        }
        Ok(())
    }

    /// Query errors: a bad FTS expression is the caller's mistake, not the database's.
    fn read_err(&self, e: read::ReadError) -> LedgerError {
        match e {
            read::ReadError::Ledger(e) => e,
            read::ReadError::Sqlite(e) if read::is_fts_syntax_error(&e) => {
                LedgerError::BadQuery(format!("free-text search: {e}"))
            }
            read::ReadError::Sqlite(e) => self.err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    /// .cargo/config.toml compiles SQLite without a global page-cache mutex and without memory
    /// statistics (a global mutex per allocation); a build that lost those flags is slower.
    #[test]
    fn sqlite_is_built_without_global_allocation_locks() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let options: Vec<String> = conn
            .prepare("PRAGMA compile_options")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
    }
}
