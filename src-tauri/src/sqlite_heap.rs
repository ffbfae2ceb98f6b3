//! A ceiling on SQLite's memory in the desktop process.
//!
//! The ledger's writer keeps up to 64 MiB of index pages cached, sized for a server hall taking
//! tens of thousands of decisions a second. In the desktop that cache filled at about 6 MiB a
//! minute under 100 decisions/s and looked like a leak for the first ten minutes (BENCHMARKS.md,
//! "Desktop app memory"). The desktop caps all of SQLite's heap instead: SQLite then recycles its
//! least recently used cached pages rather than allocating more, so memory levels off within a few
//! minutes; pages it drops are read back from the OS file cache when needed. The limit is soft:
//! SQLite exceeds it rather than fail an allocation, so no write is ever refused because of it.

/// SQLite's soft heap limit for every connection in this process, in bytes.
pub const SQLITE_SOFT_HEAP_LIMIT: i64 = 16 * 1024 * 1024;

/// Sets [`SQLITE_SOFT_HEAP_LIMIT`]; call before the ledger opens. Process-wide, so it also
/// covers the read connections and the free-text indexer.
pub fn bound() {
    // SAFETY: sqlite3_soft_heap_limit64 only stores the limit under SQLite's own mutex and may be
    // called at any time from any thread (https://sqlite.org/c3ref/hard_heap_limit64.html).
    let previous = unsafe { rusqlite::ffi::sqlite3_soft_heap_limit64(SQLITE_SOFT_HEAP_LIMIT) };
    if previous < 0 {
        tracing::warn!(
            "SQLite refused a soft heap limit; its page cache may grow to the ledger's own cap"
        );
    }
}

/// The limit SQLite enforces now (0: none).
pub fn current() -> i64 {
    // SAFETY: a negative argument only reads the limit.
    unsafe { rusqlite::ffi::sqlite3_soft_heap_limit64(-1) }
}
