//! The derived indexes live in a file of their own beside the ledger (`<ledger>.index`,
//! docs/ledger.md): a missing, damaged or foreign index file never changes an answer and is
//! rebuilt from the records by the next writable open; retention drops the index entries of
//! pruned records; paths that need escaping in a SQLite URI work.

use crate::common;

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use ledger::{Filter, LedgerBackend, NewRecord, OpenOptions, PageRequest, SqliteBackend};
use rusqlite::Connection;

const N: u64 = 60;

fn filled(path: &Path, range: std::ops::Range<u64>) -> SqliteBackend {
    let backend = SqliteBackend::open(path, OpenOptions::default()).unwrap();
    append_and_index(&backend, range);
    backend
}

fn append_and_index(backend: &SqliteBackend, range: std::ops::Range<u64>) {
    let records: Vec<NewRecord> = range
        .map(|i| NewRecord::from_json(common::decision(i)).unwrap())
        .collect();
    for r in backend.append_batch(&records).unwrap() {
        r.unwrap();
    }
    while backend.catch_up(usize::MAX).unwrap() > 0 {}
}

fn field(json: &str, name: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v[name].as_str().unwrap().to_string()
}

/// Every record of 0..N is found by id, by tenant filter and (when `free_text`) by free text.
fn all_found(backend: &dyn LedgerBackend, free_text: bool) {
    for i in 0..N {
        let json = common::decision(i);
        let id = field(&json, "decision_id");
        assert_eq!(backend.get(&id).unwrap().unwrap().json, json, "get {i}");
        let by_tenant = backend
            .page(&PageRequest::first(
                Filter {
                    tenant_id: Some(field(&json, "tenant_id")),
                    ..Filter::default()
                },
                100,
            ))
            .unwrap();
        assert!(
            by_tenant.records.iter().any(|r| r.json == json),
            "tenant {i}"
        );
        if free_text {
            let searched = backend
                .page(&PageRequest::first(
                    Filter {
                        text: Some(id),
                        ..Filter::default()
                    },
                    10,
                ))
                .unwrap();
            assert_eq!(searched.records.len(), 1, "free text {i}");
        }
    }
}

fn entries(path: &Path) -> i64 {
    Connection::open(ledger::index_path(path))
        .unwrap()
        .query_row("SELECT count(*) FROM by_decision_key", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_damaged_or_foreign_index_file_is_ignored_by_readers_and_rebuilt_by_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    drop(filled(&path, 0..N));
    let other = dir.path().join("other.db");
    drop(filled(&other, 1000..1000 + N));
    let index = ledger::index_path(&path);
    // Each file's last connection may write it, so closing checkpoints both and removes their
    // WALs (a WAL left behind would also hide damage done to the main file from readers).
    for file in [&path, &index] {
        for suffix in ["-wal", "-shm"] {
            let leftover = format!("{}{suffix}", file.display());
            assert!(
                !Path::new(&leftover).exists(),
                "closing leaves no {leftover}"
            );
        }
    }

    let garbage = b"this is not an SQLite database, just bytes where the index was".repeat(100);
    let foreign = std::fs::read(ledger::index_path(&other)).unwrap();
    for (what, bytes) in [("garbage", garbage), ("another ledger's index", foreign)] {
        std::fs::write(&index, &bytes).unwrap();
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", index.display()));
        }
        // A reader does not trust it: every record is in the scanned tail instead.
        let reader = SqliteBackend::open(&path, OpenOptions::read_only()).unwrap();
        all_found(&reader, false);
        drop(reader);
        assert_eq!(
            std::fs::read(&index).unwrap(),
            bytes,
            "{what}: a reader changes nothing"
        );

        // A writer replaces it with a rebuilt one.
        let writer = SqliteBackend::open(&path, OpenOptions::default()).unwrap();
        assert_eq!(writer.lag(), N, "{what}: everything to index again");
        while writer.catch_up(usize::MAX).unwrap() > 0 {}
        all_found(&writer, true);
        assert_eq!(
            writer.integrity_check().unwrap(),
            Vec::<String>::new(),
            "{what}"
        );
        drop(writer);
        assert_eq!(entries(&path), N as i64, "{what}");
    }

    // Missing altogether: the same.
    std::fs::remove_file(&index).unwrap();
    all_found(
        &SqliteBackend::open(&path, OpenOptions::read_only()).unwrap(),
        false,
    );
    assert!(!index.exists(), "a reader creates no index file");
    let writer = SqliteBackend::open(&path, OpenOptions::default()).unwrap();
    while writer.catch_up(usize::MAX).unwrap() > 0 {}
    all_found(&writer, true);
}

#[test]
fn an_index_file_ahead_of_the_ledger_is_ignored_by_readers_and_rebuilt_by_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let index = ledger::index_path(&path);
    drop(filled(&path, 0..N / 2));
    let backup = dir.path().join("backup.db");
    std::fs::copy(&path, &backup).unwrap();
    drop(filled(&path, N / 2..N));
    let stale = std::fs::read(&index).unwrap(); // says: indexed through seq N

    // The older copy comes back and goes on with other records, then so does the old index.
    std::fs::copy(&backup, &path).unwrap();
    std::fs::remove_file(&index).unwrap();
    drop(filled(&path, 1000..1005));
    std::fs::write(&index, &stale).unwrap();
    let found = |backend: &dyn LedgerBackend| {
        for i in (0..N / 2).chain(1000..1005) {
            let json = common::decision(i);
            let id = field(&json, "decision_id");
            assert_eq!(
                backend.get(&id).unwrap().map(|d| d.json),
                Some(json),
                "get {i}"
            );
        }
    };

    // A reader does not trust it (the ids of 1000.. would pass for indexed) and changes nothing.
    found(&SqliteBackend::open(&path, OpenOptions::read_only()).unwrap());
    assert_eq!(std::fs::read(&index).unwrap(), stale);

    // A writer rebuilds it.
    let writer = SqliteBackend::open(&path, OpenOptions::default()).unwrap();
    assert_eq!(writer.lag(), N / 2 + 5, "everything to index again");
    while writer.catch_up(usize::MAX).unwrap() > 0 {}
    found(&writer);
    assert_eq!(writer.integrity_check().unwrap(), Vec::<String>::new());
    drop(writer);
    assert_eq!(entries(&path), (N / 2 + 5) as i64);
}

#[test]
fn pruning_drops_the_index_entries_of_pruned_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let backend = filled(&path, 0..N);
    // common::decision(i) is timestamped 2026-01-01T00:00:00Z + i seconds.
    let cutoff = Utc.timestamp_opt(1_767_225_600 + 20, 0).unwrap();
    let report = backend.prune_before(cutoff).unwrap();
    assert_eq!(report.pruned, 20);
    assert_eq!(entries(&path), N as i64 - 20);
    assert_eq!(backend.integrity_check().unwrap(), Vec::<String>::new());
    assert!(backend.verify(&mut |_| {}).unwrap().is_intact());
}

/// The young key part's count (records indexed since the last merge) skips pruned records:
/// after a prune, and in an index file built fresh for a ledger with a pruned prefix.
#[test]
fn pruned_records_do_not_count_towards_a_key_merge() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let options = OpenOptions {
        key_merge_every: 50,
        ..OpenOptions::default()
    };
    let parts = || -> (i64, i64) {
        Connection::open(ledger::index_path(&path))
            .unwrap()
            .query_row(
                "SELECT (SELECT count(*) FROM decision_keys_old), \
                        (SELECT count(*) FROM decision_keys_young)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    let backend = SqliteBackend::open(&path, options.clone()).unwrap();
    append_and_index(&backend, 0..40);
    // common::decision(i) is timestamped 2026-01-01T00:00:00Z + i seconds.
    let cutoff = Utc.timestamp_opt(1_767_225_600 + 20, 0).unwrap();
    assert_eq!(backend.prune_before(cutoff).unwrap().pruned, 20);
    append_and_index(&backend, 40..60);
    // 40 records kept since the last merge: below 50, so still young.
    assert_eq!(parts(), (0, 40));
    drop(backend);

    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", ledger::index_path(&path).display()));
    }
    let backend = SqliteBackend::open(&path, options).unwrap();
    while backend.catch_up(usize::MAX).unwrap() > 0 {}
    assert_eq!(
        parts(),
        (0, 40),
        "a fresh index counts from the oldest record kept"
    );
    append_and_index(&backend, 60..70);
    assert_eq!(parts(), (50, 0), "the 50th record kept merges");
    assert_eq!(backend.integrity_check().unwrap(), Vec::<String>::new());
}

#[test]
fn a_ledger_whose_path_needs_escaping_in_a_uri_is_indexed_and_queried() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("hall ?#%&=+ ü 日本");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ledger?mode=rw#x.db");
    drop(filled(&path, 0..N));
    assert!(ledger::index_path(&path).exists());
    assert_eq!(entries(&path), N as i64);
    all_found(
        &SqliteBackend::open(&path, OpenOptions::read_only()).unwrap(),
        true,
    );
}

/// A fresh ledger whose decision keys merge every `every` records: its directory (to keep), its
/// path and its backend.
fn merging_every(every: u64) -> (tempfile::TempDir, PathBuf, SqliteBackend) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let options = OpenOptions {
        key_merge_every: every,
        ..OpenOptions::default()
    };
    let backend = SqliteBackend::open(&path, options).unwrap();
    (dir, path, backend)
}

/// The decision-key index has a young and an old part (derived.rs, `KEY_PARTS`): steps fill the
/// young one, which is merged into the old one every `key_merge_every` records. Across
/// merges, every record is still found by id, a duplicate of a merged record is still refused,
/// and the deep check reads both parts.
#[test]
fn decision_keys_move_to_the_old_part_and_stay_found() {
    const EVERY: u64 = 1000;
    const TOTAL: u64 = 3 * EVERY + 700;
    let (_dir, path, backend) = merging_every(EVERY);
    for start in (0..TOTAL).step_by(256) {
        let records: Vec<NewRecord> = (start..(start + 256).min(TOTAL))
            .map(|i| NewRecord::from_json(common::decision(i)).unwrap())
            .collect();
        for r in backend.append_batch(&records).unwrap() {
            r.unwrap();
        }
        while backend.catch_up(256).unwrap() > 0 {}
    }
    let index = Connection::open(ledger::index_path(&path)).unwrap();
    let (old, young): (i64, i64) = index
        .query_row(
            "SELECT (SELECT count(*) FROM decision_keys_old), \
                    (SELECT count(*) FROM decision_keys_young)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    // Steps of 256: each merge comes at the first step end 1000 or more past the last one.
    assert_eq!((old, young), (3 * 1024, TOTAL as i64 - 3 * 1024));
    for i in (0..TOTAL).step_by(97) {
        let json = common::decision(i);
        let found = backend.get(&field(&json, "decision_id")).unwrap();
        assert_eq!(found.expect("found by id").json, json, "record {i}");
    }
    let merged = NewRecord::from_json(common::decision(0)).unwrap();
    let young = NewRecord::from_json(common::decision(TOTAL - 1)).unwrap();
    let again = backend.append_batch(&[merged, young]).unwrap();
    assert!(
        again
            .iter()
            .all(|r| matches!(r, Err(ledger::LedgerError::DuplicateDecision(_)))),
        "{again:?}"
    );
    assert_eq!(backend.integrity_check().unwrap(), Vec::<String>::new());
    // An old entry pointing at the wrong record is named by the deep check.
    index
        .execute(
            "UPDATE decision_keys_old SET seq = seq + 1 \
             WHERE seq = (SELECT max(seq) FROM decision_keys_old)",
            [],
        )
        .unwrap();
    let problems = backend.integrity_check().unwrap();
    assert!(
        problems.len() == 1 && problems[0].contains("by_decision_key"),
        "{problems:?}"
    );
}

/// Under a light load a step indexes a record or two, so each posting block holds a seq or two
/// (postings.rs). The blocks of every window of `key_merge_every / 32` records are compacted
/// into a block per value, every key merge compacts those since the last merge again, and
/// filters keep answering exactly.
#[test]
fn posting_blocks_of_small_steps_are_compacted_per_window_and_at_each_merge() {
    const EVERY: u64 = 320; // merges at 320 and 640, windows of 10 records
    const TOTAL: u64 = 705;
    let (_dir, path, backend) = merging_every(EVERY);
    let records: Vec<NewRecord> = (0..TOTAL)
        .map(|i| NewRecord::from_json(common::decision(i)).unwrap())
        .collect();
    for r in &records {
        backend.append_batch(std::slice::from_ref(r)).unwrap()[0]
            .as_ref()
            .unwrap();
        assert_eq!(backend.catch_up(usize::MAX).unwrap(), 0);
    }
    let index = Connection::open(ledger::index_path(&path)).unwrap();
    let blocks_within = |lo: u64, hi: u64| -> usize {
        index
            .query_row(
                "SELECT count(*) FROM by_tenant WHERE first_seq > ?1 AND last_seq <= ?2",
                [lo, hi],
                |r| r.get(0),
            )
            .unwrap()
    };
    let tenants_within = |lo: u64, hi: u64| -> usize {
        let seqs = lo as usize + 1..=hi as usize;
        let tenants: std::collections::BTreeSet<&str> = seqs
            .map(|seq| records[seq - 1].fields.tenant_id.as_str())
            .collect();
        tenants.len()
    };
    // One block per tenant per merged range and per compacted window; then one per record.
    let mut ranges = vec![(0, 320), (320, 640)];
    ranges.extend((640..700).step_by(10).map(|lo| (lo, lo + 10)));
    ranges.extend((700..TOTAL).map(|lo| (lo, lo + 1)));
    for &(lo, hi) in &ranges {
        assert_eq!(
            blocks_within(lo, hi),
            tenants_within(lo, hi),
            "({lo}, {hi}]"
        );
    }
    let total: usize = ranges.iter().map(|&(lo, hi)| tenants_within(lo, hi)).sum();
    assert_eq!(blocks_within(0, TOTAL), total, "no other blocks");

    let all: std::collections::BTreeSet<String> =
        records.iter().map(|r| r.fields.tenant_id.clone()).collect();
    for tenant in all {
        let expected: Vec<i64> = (1..=TOTAL as i64)
            .rev()
            .filter(|&seq| records[seq as usize - 1].fields.tenant_id == tenant)
            .collect();
        let filter = Filter {
            tenant_id: Some(tenant),
            ..Filter::default()
        };
        let mut request = PageRequest::first(filter, 7);
        let mut got = Vec::new();
        loop {
            let page = backend.page(&request).unwrap();
            got.extend(page.records.iter().map(|r| r.seq));
            match page.next_cursor {
                Some(cursor) => request.cursor = Some(cursor),
                None => break,
            }
        }
        assert_eq!(got, expected);
    }
    assert_eq!(backend.integrity_check().unwrap(), Vec::<String>::new());
}

#[test]
fn a_new_index_file_uses_big_pages_and_the_ledger_keeps_sqlite_s_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let backend = filled(&path, 0..N);
    all_found(&backend, true);
    drop(backend);
    let page_size = |p: &Path| -> i64 {
        Connection::open(p)
            .unwrap()
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(page_size(&ledger::index_path(&path)), 65_536);
    assert_eq!(page_size(&path), 4096);
}
