//! The derived indexes (derived.rs) live in a file of their own beside the ledger,
//! `<ledger>.index`. SQLite lets one connection write a file at a time, so with the indexes in
//! the ledger file every indexing step stopped the commits for its whole length (tens of ms of
//! waiting callers). A second file has its own write lock: steps run on their own thread and
//! connection while the writer keeps committing.
//!
//! Everything in it is derived from the ledger, so it is never trusted over the ledger: an
//! index file that is missing, unreadable, of another version, of another ledger (its
//! genesis differs) or ahead of the ledger (an older copy of the ledger was restored) is
//! rebuilt from the records. Ledger connections attach it read-only as
//! schema `idx` (queries name its tables unqualified: they exist only there); the indexer's
//! connection opens it for writing and attaches the ledger read-only.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension};

use super::derived::{self, KEY_INDEX, KEY_PARTS};
use super::postings::{self, POSTING_INDEXES};
use crate::error::{LedgerError, Result};
use crate::sqlite::OpenOptions;

/// The index file's own layout version (`PRAGMA user_version`); another one is rebuilt.
/// 2: the decision-key index in two parts (derived.rs, `KEY_PARTS`).
/// 3: posting lists for the other filter indexes (postings.rs).
const VERSION: i64 = 3;

/// Where the index file of the ledger at `ledger` lives.
pub fn path_for(ledger: &Path) -> PathBuf {
    let mut name = ledger.as_os_str().to_owned();
    name.push(".index");
    PathBuf::from(name)
}

/// The index file's tables, in `schema`.
fn create_sql(schema: &str) -> String {
    let mut sql = format!(
        "CREATE TABLE {schema}.index_state (
             id          INTEGER PRIMARY KEY CHECK (id = 1),
             genesis     BLOB    NOT NULL, -- the ledger's: an index of another ledger is rebuilt
             indexed_seq INTEGER NOT NULL, -- every record up to here is in every index
             pruned_seq  INTEGER NOT NULL, -- entries up to here were dropped after retention
             keys_merged_seq INTEGER NOT NULL DEFAULT 0 -- decision keys up to here are in the old part
         );
         -- Contentless: the index only, no second copy of the text; rowid = seq. Ids stay whole
         -- tokens (record.rs, search_words), which keeps the index small and inserts cheap.
         CREATE VIRTUAL TABLE {schema}.decisions_fts USING fts5 (
             body, content = '', contentless_delete = 1, tokenize = \"unicode61 tokenchars '-._'\"
         );"
    );
    for part in KEY_PARTS {
        sql.push_str(&format!(
            "CREATE TABLE {schema}.{part} (value INTEGER NOT NULL, seq INTEGER NOT NULL, \
             PRIMARY KEY (value, seq)) WITHOUT ROWID;"
        ));
    }
    // Unqualified: a view's names resolve in its own schema, wherever it is attached.
    let [young, old] = KEY_PARTS;
    sql.push_str(&format!(
        "CREATE VIEW {schema}.{KEY_INDEX} AS SELECT value, seq FROM {young} \
         UNION ALL SELECT value, seq FROM {old};"
    ));
    for index in &POSTING_INDEXES {
        sql.push_str(&postings::create_sql(schema, index.table));
    }
    sql
}

/// Open the index file of `ledger` for indexing, creating or rebuilding it as needed, with the
/// ledger attached read-only (schema `ledger`).
pub fn open_for_indexing(ledger: &Path, options: &OpenOptions) -> Result<Connection> {
    let path = path_for(ledger);
    match open_checked(ledger, &path, options)? {
        Ok(conn) => Ok(conn),
        Err(reason) => {
            tracing::warn!(path = %path.display(), reason, "rebuilding the ledger's index file");
            for file in crate::sqlite::database_files(&path) {
                match std::fs::remove_file(&file) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(LedgerError::Database {
                            path: path.clone(),
                            detail: format!(
                                "cannot remove the damaged index file {}: {e}",
                                file.display()
                            ),
                        })
                    }
                }
            }
            open_checked(ledger, &path, options)?.map_err(|reason| LedgerError::Database {
                path: path.clone(),
                detail: format!("a rebuilt index file is still unusable: {reason}"),
            })
        }
    }
}

/// The opened index, or why it must be rebuilt (`Ok(Err(reason))`). Errors that rebuilding
/// cannot cure (a lock held by another process, an unwritable directory) are `Err`.
fn open_checked(
    ledger: &Path,
    path: &Path,
    options: &OpenOptions,
) -> Result<std::result::Result<Connection, String>> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let opened = Connection::open_with_flags(path, flags).and_then(|conn| {
        conn.busy_timeout(options.busy_timeout)?;
        let unusable = check(&conn, ledger)?;
        Ok(unusable.map_or(Ok(conn), Err))
    });
    match opened {
        Ok(result) => Ok(result),
        Err(e) => match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => Ok(Err(e.to_string())),
            _ => Err(LedgerError::sqlite(path, e)),
        },
    }
}

/// The index file's page size, SQLite's largest.
const INDEX_PAGE_SIZE: i64 = 65_536;

/// Set up a freshly opened index connection; `Some(reason)` if the file must be rebuilt.
fn check(conn: &Connection, ledger: &Path) -> rusqlite::Result<Option<String>> {
    // Takes effect only on a new file (before WAL mode writes its first page). Big pages make
    // indexing a step cheaper: fewer page splits and WAL frames per entry. Measured against
    // 4 KiB: +14% durable appends from 8 producers (the indexer shares the cores with them),
    // with page and search times unchanged within a few µs (BENCHMARKS.md, Ledger, tenth round).
    conn.pragma_update(None, "page_size", INDEX_PAGE_SIZE)?;
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    // Derived data: a step lost to power loss is simply done again, so no fsync per step.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Decision keys land on random pages of their index: keep its pages cached (32 MiB).
    conn.pragma_update(None, "cache_size", -32_768)?;
    conn.set_prepared_statement_cache_capacity(32);
    derived::register_functions(conn)?;
    conn.execute("ATTACH DATABASE ?1 AS ledger", [read_only_uri(ledger)])?;
    let version: i64 = conn.query_row("PRAGMA main.user_version", [], |r| r.get(0))?;
    let genesis: Vec<u8> = conn.query_row(
        "SELECT genesis FROM ledger.chain_state WHERE id = 1",
        [],
        |r| r.get(0),
    )?;
    match version {
        0 => create(conn, &genesis)?,
        VERSION => {
            let theirs: Option<Vec<u8>> = conn
                .query_row(
                    "SELECT genesis FROM main.index_state WHERE id = 1",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            if theirs.as_deref() != Some(genesis.as_slice()) {
                return Ok(Some("it indexes another ledger".into()));
            }
            if let Some(reason) = ahead_of_ledger(conn, "main", "ledger")? {
                return Ok(Some(reason));
            }
        }
        other => {
            return Ok(Some(format!(
                "it has layout version {other}, not {VERSION}"
            )))
        }
    }
    derived::forget_pruned(conn)?;
    Ok(None)
}

/// A fresh index file: nothing indexed yet, so indexing starts at the oldest record kept.
fn create(conn: &Connection, genesis: &[u8]) -> rusqlite::Result<()> {
    conn.execute_batch(&format!("BEGIN IMMEDIATE; {}", create_sql("main")))?;
    conn.execute(
        "INSERT INTO main.index_state (id, genesis, indexed_seq, pruned_seq, keys_merged_seq) \
         SELECT 1, ?1, before_oldest, before_oldest, before_oldest FROM (SELECT coalesce( \
             (SELECT min(seq) FROM ledger.decisions) - 1, c.head_seq) AS before_oldest \
           FROM ledger.chain_state c WHERE c.id = 1)",
        [genesis],
    )?;
    conn.execute_batch(&format!("PRAGMA main.user_version = {VERSION}; COMMIT;"))
}

/// Attach the index file of `ledger` read-only to a ledger connection, as schema `idx`. Without
/// a usable index file for this ledger (a ledger copied without it, a read-only opener before
/// any writer built it, a damaged file), empty index tables of the connection's own stand in:
/// every record is then in the unindexed tail, which queries scan, so answers stay complete
/// (only free text finds nothing).
pub fn attach(conn: &Connection, ledger: &Path) -> rusqlite::Result<()> {
    let path = path_for(ledger);
    if path.exists() {
        match attach_file(conn, &path) {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => tracing::warn!(path = %path.display(), error = %e,
                "the ledger's index file is unreadable; queries scan the records instead"),
        }
        // Detaching fails only when nothing is attached.
        let _ = conn.execute_batch("DETACH DATABASE idx");
    }
    // In the connection's `temp` schema, which even a read-only connection may write.
    conn.execute_batch(&format!(
        "{} INSERT INTO temp.index_state (id, genesis, indexed_seq, pruned_seq) \
         VALUES (1, x'', 0, 0);",
        create_sql("temp")
    ))
}

/// How much of the index file ledger connections read through a memory map (address space,
/// not memory: the pages are the OS's file cache).
const INDEX_MMAP_BYTES: u64 = 1 << 30;

/// Attach the index file at `path`; false if it belongs to another ledger or is ahead of it.
fn attach_file(conn: &Connection, path: &Path) -> rusqlite::Result<bool> {
    conn.execute("ATTACH DATABASE ?1 AS idx", [read_only_uri(path)])?;
    // Every append probes the decision-key index at a random page, and queries read the
    // filter indexes: keep 16 MiB of them cached, and read the rest through a memory map, so a
    // probe that misses the cache touches a few bytes of a page instead of copying all 64 KiB
    // of it (durable appends ~8% faster, BENCHMARKS.md). Only our own indexer writes this file,
    // and it never shrinks it (docs/ledger.md: what truncating it under a running hall does).
    conn.pragma_update(Some("idx"), "cache_size", -16_384)?;
    conn.query_row(
        &format!("PRAGMA idx.mmap_size = {INDEX_MMAP_BYTES}"),
        [],
        |_| Ok(()),
    )?;
    let same_ledger: bool = conn.query_row(
        "SELECT i.genesis = c.genesis FROM idx.index_state i, main.chain_state c \
         WHERE i.id = 1 AND c.id = 1",
        [],
        |r| r.get(0),
    )?;
    Ok(same_ledger && ahead_of_ledger(conn, "idx", "main")?.is_none())
}

/// Why an index file of this very ledger is still foreign: it says it indexed records past the
/// ledger's head (the ledger was restored from an older copy, or its newest records deleted),
/// so records appended since would pass for indexed while their entries are another's.
/// The index position is read before the head, in its own statement: the head only grows and
/// the indexer never passes it, so a concurrent commit cannot make a good index look ahead.
fn ahead_of_ledger(
    conn: &Connection,
    index: &str,
    ledger: &str,
) -> rusqlite::Result<Option<String>> {
    let indexed: i64 = conn.query_row(
        &format!("SELECT indexed_seq FROM {index}.index_state WHERE id = 1"),
        [],
        |r| r.get(0),
    )?;
    let head: i64 = conn.query_row(
        &format!("SELECT head_seq FROM {ledger}.chain_state WHERE id = 1"),
        [],
        |r| r.get(0),
    )?;
    Ok((indexed > head).then(|| {
        format!("it says it indexed records up to seq {indexed}, past the ledger's head {head}")
    }))
}

/// `file:` URI of `path` opened read-only.
fn read_only_uri(path: &Path) -> String {
    file_uri(path, "mode=ro")
}

/// `file:` URI of `path` with query `params` (percent-encoded: a path may hold `?`, `#` or `%`).
pub(in crate::sqlite) fn file_uri(path: &Path, params: &str) -> String {
    let mut uri = String::from("file:");
    for b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(b) {
            uri.push(char::from(*b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push('?');
    uri.push_str(params);
    uri
}
