//! Where a durable decision's CPU goes, one thread, no contention: parse (caller), prepare =
//! compress (caller), the single writer's `append_batch` (chain, row, indexes, commit) and
//! its deferred free-text indexing (`catch_up`).
//! Used to profile the writer (`perf record` on this binary) without the bench's threads.
//!
//! `cargo run --release -p ledger --example writer_cost -- [DECISIONS] [BATCH] [PATH]`

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use ledger::{GroupCommitHooks, LedgerBackend, NewRecord, OpenOptions, SqliteBackend};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .map_or(200_000, |a| a.parse().expect("DECISIONS"));
    let batch: usize = args.next().map_or(4096, |a| a.parse().expect("BATCH"));
    let path = args
        .next()
        .unwrap_or_else(|| "/tmp/proctor-writer-cost.db".into());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    let backend = SqliteBackend::open(&path, OpenOptions::default()).expect("open");
    let json: Vec<String> = (0..n).map(common::decision).collect();

    let start = Instant::now();
    let mut records: Vec<NewRecord> = json
        .into_iter()
        .map(|j| NewRecord::from_json(j).expect("parse"))
        .collect();
    let parse = start.elapsed();

    let start = Instant::now();
    for r in &mut records {
        backend.prepare(r).expect("prepare");
    }
    let prepare = start.elapsed();

    // On its own named thread, so `perf report --comm ledger-writer` shows the writer alone.
    let (append, index) = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn_scoped(s, || {
                let start = Instant::now();
                let cpu_start = common::cpu_time("/proc/thread-self/stat");
                for chunk in records.chunks(batch) {
                    for r in backend.append_batch(chunk).expect("append") {
                        r.expect("record");
                    }
                }
                let append = (
                    start.elapsed(),
                    common::cpu_time("/proc/thread-self/stat") - cpu_start,
                );
                let start = Instant::now();
                let cpu_start = common::cpu_time("/proc/thread-self/stat");
                while backend.catch_up(batch).expect("index") > 0 {}
                let index = (
                    start.elapsed(),
                    common::cpu_time("/proc/thread-self/stat") - cpu_start,
                );
                (append, index)
            })
            .expect("spawn")
            .join()
            .expect("writer")
    });
    drop(backend);
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!(
        "{n} decisions, batches of {batch}, per decision: parse {:.2} µs, compress {:.2} µs (wall, \
         one thread); writer append {:.2} µs wall / {:.2} µs CPU, free-text index {:.2} µs wall \
         / {:.2} µs CPU",
        per(parse),
        per(prepare),
        per(append.0),
        per(append.1),
        per(index.0),
        per(index.1)
    );
}
