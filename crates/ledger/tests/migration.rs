//! Upgrading files written by earlier builds, on real SQLite files: a schema-2 ledger (decision
//! ids indexed as text, UNIQUE) opens, gains the 64-bit id keys of schema 3, and keeps every
//! record findable, unique and verifiable.

mod common;

use ledger::{Ledger, LedgerError, OpenOptions, SqliteBackend};
use rusqlite::Connection;

const N: u64 = 30;

/// A ledger as schema 2 left it: built by this build, then rolled back to version 2's layout
/// (no `decision_key` column, the UNIQUE text index on `decision_id`).
fn schema_2_ledger(path: &std::path::Path) {
    let ledger = Ledger::open(path).unwrap();
    for i in 0..N {
        ledger.append_blocking(common::decision(i)).unwrap();
    }
    ledger.close();
    Connection::open(path)
        .unwrap()
        .execute_batch(
            "DROP INDEX decisions_decision_key;
             ALTER TABLE decisions DROP COLUMN decision_key;
             CREATE UNIQUE INDEX decisions_decision_id ON decisions (decision_id);
             PRAGMA user_version = 2;",
        )
        .unwrap();
}

fn decision_id(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["decision_id"].as_str().unwrap().to_string()
}

#[test]
fn a_schema_2_file_gets_id_keys_and_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    schema_2_ledger(&path);

    // Read-only openers can't migrate and say so.
    assert!(matches!(
        SqliteBackend::open(&path, OpenOptions::read_only()),
        Err(LedgerError::Database { detail, .. }) if detail.contains("older than")
    ));

    let ledger = Ledger::open(&path).unwrap();
    let backend = ledger.backend();
    assert!(backend.verify(&mut |_| {}).unwrap().is_intact());
    for i in 0..N {
        let json = common::decision(i);
        let got = backend
            .get(&decision_id(&json))
            .unwrap()
            .expect("found by id");
        assert_eq!(got.json, json);
        assert_eq!(got.seq, i as i64 + 1);
    }
    // Old records still count for uniqueness; new ones are keyed on append.
    assert!(matches!(
        ledger.append_blocking(common::decision(3)),
        Err(LedgerError::DuplicateDecision(_))
    ));
    let receipt = ledger.append_blocking(common::decision(N)).unwrap();
    assert_eq!(receipt.seq, N as i64 + 1);
    assert!(backend
        .get(&decision_id(&common::decision(N)))
        .unwrap()
        .is_some());
    ledger.close();

    let conn = Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, ledger::SCHEMA_VERSION);
    let text_index: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'decisions_decision_id')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!text_index, "the text index on decision_id is dropped");
    // `get` and the duplicate probe go through the key index, not a table scan.
    let plan: String = conn
        .query_row(
            "EXPLAIN QUERY PLAN SELECT 1 FROM decisions WHERE decision_key = 1 AND decision_id = 'x'",
            [],
            |r| r.get(3),
        )
        .unwrap();
    assert!(plan.contains("decisions_decision_key"), "{plan}");
}

#[test]
fn ids_whose_keys_collide_are_told_apart() {
    // A real 64-bit collision can't be produced on demand: give record A the key of id B, so
    // B's key collides with a stored row whose id differs.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let (a, b) = (common::decision(1), common::decision(2));
    let b_id = decision_id(&b);
    let ledger = Ledger::open(&path).unwrap();
    ledger.append_blocking(a.clone()).unwrap();
    ledger.close();
    let conn = Connection::open(&path).unwrap();
    let stored_key: i64 = conn
        .query_row(
            "SELECT decision_key FROM decisions WHERE seq = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        stored_key,
        common::key_of(&decision_id(&a)),
        "the key definition is stable"
    );
    conn.execute(
        "UPDATE decisions SET decision_key = ?1 WHERE seq = 1",
        [common::key_of(&b_id)],
    )
    .unwrap();
    drop(conn);

    let ledger = Ledger::open(&path).unwrap();
    assert_eq!(ledger.backend().get(&b_id).unwrap(), None, "A is not B");
    let receipt = ledger.append_blocking(b.clone()).expect("not a duplicate");
    assert_eq!(receipt.seq, 2);
    assert_eq!(ledger.backend().get(&b_id).unwrap().unwrap().json, b);
    assert!(matches!(
        ledger.append_blocking(b),
        Err(LedgerError::DuplicateDecision(_))
    ));
}
