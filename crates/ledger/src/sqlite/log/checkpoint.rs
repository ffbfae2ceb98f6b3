//! Background WAL checkpoints. By default SQLite checkpoints inside the committing
//! connection: with group commit that means the single writer stops after a batch to copy the
//! WAL into the main file and fsync it, while callers wait. Here the writer never checkpoints
//! (`wal_autocheckpoint = 0`); this thread does, on its own connection, so copying overlaps with
//! the writer's next batches. PASSIVE checkpoints never block the writer; if the WAL still
//! grows past [`RESTART_PAGES`] (the writer outpaces the copier), one RESTART checkpoint waits
//! for a gap between batches so the next batch rewinds the WAL, which bounds its size.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::error::{LedgerError, Result};
use crate::sqlite::{connect, OpenOptions};

/// Check at least this often even without a nudge (hall alerts and events also grow the WAL).
const IDLE_CHECK: Duration = Duration::from_secs(1);
/// At most one checkpoint per this interval. Small batches (a few dozen decisions under
/// closed-loop HTTP load) rewrite the same hot index pages commit after commit; a checkpoint
/// copies each page once however many frames the WAL holds for it, so checkpointing after
/// every commit copied the same pages again and again.
const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// ~128 MiB of 4 KiB pages.
const RESTART_PAGES: i64 = 32_768;

pub struct Checkpointer {
    nudge: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub fn start(path: &Path, options: &OpenOptions) -> Result<Self> {
        let conn = connect(path, options, true)?;
        let (nudge, nudges) = mpsc::sync_channel(1);
        let owned = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("ledger-checkpoint".into())
            .spawn(move || run(&conn, &owned, &nudges))
            .map_err(|e| LedgerError::Database {
                path: path.to_path_buf(),
                detail: format!("cannot start the checkpoint thread: {e}"),
            })?;
        Ok(Self {
            nudge: Some(nudge),
            thread: Some(thread),
        })
    }

    /// Tell the thread a batch was committed. Never blocks: one pending nudge is enough.
    pub fn nudge(&self) {
        if let Some(n) = &self.nudge {
            let _ = n.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.nudge.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(conn: &Connection, path: &Path, nudges: &Receiver<()>) {
    let mut last = Instant::now();
    let mut trimmed = Instant::now();
    loop {
        match nudges.recv_timeout(IDLE_CHECK) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        std::thread::sleep(MIN_INTERVAL.saturating_sub(last.elapsed()));
        last = Instant::now();
        if let Err(e) = checkpoint(conn) {
            // Not fatal: commits stay durable in the WAL; the next attempt may succeed.
            tracing::warn!(path = %path.display(), error = %e, "ledger WAL checkpoint failed");
        }
        if trimmed.elapsed() >= TRIM_EVERY {
            trimmed = Instant::now();
            release_free_heap();
        }
    }
}

/// How often the heap's free memory is handed back to the system.
const TRIM_EVERY: Duration = Duration::from_secs(10);

/// SQLite allocates from the C library's malloc (the serving binaries give Rust's allocations
/// to mimalloc), on the writer's, the indexer's and the readers' threads, so in several glibc
/// arenas. glibc keeps what they free for reuse and returns little of it on its own: under
/// sustained load the process grew by ~30–40 MiB per million decisions while SQLite's live heap
/// stayed at its caches' bound (BENCHMARKS.md, Hall, tenth round). `malloc_trim` gives the free
/// pages of every arena back.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_free_heap() {
    // SAFETY: `malloc_trim` has no preconditions; it works on glibc's arenas under their locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_heap() {}

fn checkpoint(conn: &Connection) -> rusqlite::Result<()> {
    // (busy, pages in the WAL, pages copied)
    let (_, wal_pages, _): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    if wal_pages > RESTART_PAGES {
        conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))?;
    }
    Ok(())
}
