//! Upgrading files written by earlier builds, on real SQLite files: a schema-2 ledger (decision
//! ids indexed as text, UNIQUE), a schema-3 ledger (filter indexes written in every append),
//! a schema-4 ledger (derived indexes inside the ledger file) and a schema-5 ledger (no linked
//! records) open, gain the later layouts, and keep every record findable, unique and
//! verifiable.

use crate::common;

use ledger::{
    Filter, Ledger, LedgerBackend, LedgerError, LinkedFilter, NewLinkedRecord, OpenOptions,
    PageRequest, SqliteBackend,
};
use rusqlite::Connection;

const N: u64 = 30;

/// Schema 8's layout, from this build's: alerts have no change numbers.
const BACK_TO_8: &str = "
    DROP TRIGGER alerts_change_on_insert;
    DROP TRIGGER alerts_change_on_update;
    DROP TABLE alert_changes;
    DROP INDEX alerts_changed;
    ALTER TABLE alerts DROP COLUMN change_seq;
    PRAGMA user_version = 8;";

/// Schema 7's layout, from schema 8's: alerts neither resolve nor name who acknowledged.
const BACK_TO_7: &str = "
    DROP INDEX alerts_open;
    ALTER TABLE alerts DROP COLUMN resolved_at;
    ALTER TABLE alerts DROP COLUMN acked_by;
    ALTER TABLE alerts DROP COLUMN ack_note;
    CREATE INDEX alerts_open ON alerts (id) WHERE acknowledged_at IS NULL;
    PRAGMA user_version = 7;";

/// Schema 6's layout, from schema 7's: no saved heartbeats.
const BACK_TO_6: &str = "
    DROP TABLE worker_heartbeats;
    PRAGMA user_version = 6;";

/// Schema 5's layout, from schema 6's: no linked records.
const BACK_TO_5: &str = "
    DROP TABLE linked_records;
    DROP TABLE linked_chain_state;
    DROP TABLE linked_checkpoints;
    PRAGMA user_version = 5;";

/// Schema 4's layout, rolled back from this build's: the derived indexes inside the ledger
/// file (here empty, as if nothing had been indexed yet), no index file.
const BACK_TO_4: &str = "
    CREATE TABLE index_state (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_seq INTEGER NOT NULL);
    INSERT INTO index_state VALUES (1, 0);
    CREATE TABLE by_decision_key (value INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (value, seq)) WITHOUT ROWID;
    CREATE TABLE by_tenant (value TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (value, seq)) WITHOUT ROWID;
    CREATE TABLE by_capability (value TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (value, seq)) WITHOUT ROWID;
    CREATE TABLE by_worker (value TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (value, seq)) WITHOUT ROWID;
    CREATE TABLE by_rule (value TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (value, seq)) WITHOUT ROWID;
    CREATE TABLE by_deny_code (value TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (value, seq)) WITHOUT ROWID;
    CREATE VIRTUAL TABLE decisions_fts USING fts5 (
        body, content = '', contentless_delete = 1, tokenize = \"unicode61 tokenchars '-._'\"
    );
    PRAGMA user_version = 4;";

/// Schema 3's layout, from schema 4's: filter indexes on the decisions table,
/// written in every append; the free-text position in `fts_state`.
const BACK_TO_3: &str = "
    DROP TABLE by_decision_key;
    DROP TABLE by_tenant;
    DROP TABLE by_capability;
    DROP TABLE by_worker;
    DROP TABLE by_rule;
    DROP TABLE by_deny_code;
    ALTER TABLE index_state RENAME TO fts_state;
    CREATE INDEX decisions_decision_key ON decisions (decision_key);
    CREATE INDEX decisions_correlation ON decisions (correlation_id);
    CREATE INDEX decisions_tenant ON decisions (tenant_id);
    CREATE INDEX decisions_capability ON decisions (capability_id);
    CREATE INDEX decisions_worker ON decisions (worker) WHERE worker IS NOT NULL;
    CREATE INDEX decisions_rule ON decisions (matched_rule_id);
    CREATE INDEX decisions_deny_code ON decisions (deny_code) WHERE deny_code IS NOT NULL;
    PRAGMA user_version = 3;";

/// Schema 2's layout, from schema 3's: no `decision_key` column, a UNIQUE text index on
/// `decision_id`.
const BACK_TO_2: &str = "
    DROP INDEX decisions_decision_key;
    ALTER TABLE decisions DROP COLUMN decision_key;
    CREATE UNIQUE INDEX decisions_decision_id ON decisions (decision_id);
    PRAGMA user_version = 2;";

/// A ledger of N records as an older schema left it: built by this build, then rolled back.
fn old_ledger(path: &std::path::Path, rollback: &[&str]) {
    let ledger = Ledger::open(path).unwrap();
    for i in 0..N {
        ledger.append_blocking(common::decision(i)).unwrap();
    }
    ledger.close();
    std::fs::remove_file(ledger::index_path(path)).unwrap();
    let conn = Connection::open(path).unwrap();
    for sql in rollback {
        conn.execute_batch(sql).unwrap();
    }
}

fn schema_2_ledger(path: &std::path::Path) {
    old_ledger(
        path,
        &[
            BACK_TO_8, BACK_TO_7, BACK_TO_6, BACK_TO_5, BACK_TO_4, BACK_TO_3, BACK_TO_2,
        ],
    );
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
    // `get` and the duplicate probe go through the key index (for indexed rows), not a scan.
    conn.execute(
        "ATTACH DATABASE ?1 AS idx",
        [ledger::index_path(&path).to_str().unwrap()],
    )
    .unwrap();
    let plan: Vec<String> = conn
        .prepare(
            "EXPLAIN QUERY PLAN SELECT 1 FROM by_decision_key x JOIN decisions d ON d.seq = x.seq \
             WHERE x.value = 1 AND d.decision_id = 'x'",
        )
        .unwrap()
        .query_map([], |r| r.get(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // One key probe in each part of the key index, none scanned.
    let probes = |part: &str| {
        plan.iter()
            .filter(|l| l.contains(part) && l.contains("PRIMARY KEY (value=?)"))
            .count()
    };
    assert_eq!(
        (probes("decision_keys_young"), probes("decision_keys_old")),
        (1, 1),
        "{plan:#?}"
    );
    assert!(!plan.iter().any(|l| l.starts_with("SCAN")), "{plan:#?}");
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
    // In the record and in its index entry (written when the ledger closed).
    conn.execute(
        "ATTACH DATABASE ?1 AS idx",
        [ledger::index_path(&path).to_str().unwrap()],
    )
    .unwrap();
    for sql in [
        "UPDATE decisions SET decision_key = ?1 WHERE seq = 1",
        // The young part of the key index: one record is far from a merge.
        "UPDATE idx.decision_keys_young SET value = ?1 WHERE seq = 1",
    ] {
        assert_eq!(
            conn.execute(sql, [common::key_of(&b_id)]).unwrap(),
            1,
            "{sql}"
        );
    }
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

#[test]
fn schema_3_and_4_files_get_an_index_file_and_every_record_stays_findable_meanwhile() {
    for (schema, rollback) in [
        // The last 5 records were committed but not yet in the free-text index when the older
        // build stopped.
        (
            3,
            vec![
                BACK_TO_8,
                BACK_TO_7,
                BACK_TO_6,
                BACK_TO_5,
                BACK_TO_4,
                BACK_TO_3,
                "UPDATE fts_state SET indexed_seq = 25",
            ],
        ),
        (
            4,
            vec![
                BACK_TO_8,
                BACK_TO_7,
                BACK_TO_6,
                BACK_TO_5,
                BACK_TO_4,
                "UPDATE index_state SET indexed_seq = 25",
            ],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        old_ledger(&path, &rollback);
        upgraded_ledger_is_rebuilt_into_its_index_file(&path, schema);
    }
}

fn upgraded_ledger_is_rebuilt_into_its_index_file(path: &std::path::Path, schema: i64) {
    let backend = SqliteBackend::open(path, OpenOptions::default()).unwrap();
    assert!(backend.verify(&mut |_| {}).unwrap().is_intact());
    // The derived indexes left the ledger file; the new index file starts empty, so every
    // record is in the tail until the indexer has rebuilt it.
    assert_eq!(backend.lag(), N, "schema {schema}");
    let conn = Connection::open(path).unwrap();
    let left: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'by_%' \
             OR name LIKE 'decisions_fts%' OR name = 'index_state'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        left, 0,
        "schema {schema}: derived tables left in the ledger file"
    );
    let index = Connection::open(ledger::index_path(path)).unwrap();
    let count = |sql: &str| -> i64 { index.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM by_decision_key"), 0);

    // Every record is found by id and by an indexed filter, tail and indexed part alike.
    let tenant_of = |json: &str| {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        v["tenant_id"].as_str().map(String::from)
    };
    for i in 0..N {
        let json = common::decision(i);
        assert_eq!(
            backend.get(&decision_id(&json)).unwrap().unwrap().json,
            json
        );
        let page = backend
            .page(&PageRequest::first(
                Filter {
                    tenant_id: tenant_of(&json),
                    ..Filter::default()
                },
                50,
            ))
            .unwrap();
        assert!(page.records.iter().any(|r| r.json == json), "record {i}");
    }
    while backend.catch_up(100).unwrap() > 0 {}
    assert_eq!(count("SELECT count(*) FROM by_decision_key"), N as i64);
    assert_eq!(count("SELECT max(last_seq) FROM by_tenant"), N as i64);
    assert_eq!(backend.integrity_check().unwrap(), Vec::<String>::new());
}

#[test]
fn a_schema_5_file_gains_the_linked_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    old_ledger(&path, &[BACK_TO_8, BACK_TO_7, BACK_TO_6, BACK_TO_5]);
    assert!(matches!(
        SqliteBackend::open(&path, OpenOptions::read_only()),
        Err(LedgerError::Database { detail, .. }) if detail.contains("older than")
    ));

    let ledger = Ledger::open(&path).unwrap();
    let report = ledger.backend().verify(&mut |_| {}).unwrap();
    assert!(report.is_intact(), "{:?}", report.finding);
    assert_eq!((report.records_checked, report.linked_records), (N, 0));
    let linked = ledger
        .append_linked_blocking(NewLinkedRecord {
            at: chrono::Utc::now(),
            kind: "approval".into(),
            decision_id: decision_id(&common::decision(7)),
            correlation_id: "c".into(),
            server: None,
            tool: None,
            body: serde_json::json!({"verdict": "approved", "by": "ops"}),
        })
        .unwrap();
    assert_eq!((linked.seq, linked.decision_seq), (1, 8));
    ledger.close();

    // The linked chain starts at the genesis derived from the file's own.
    let conn = Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, ledger::SCHEMA_VERSION);
    let (genesis, prev): (Vec<u8>, Vec<u8>) = conn
        .query_row(
            "SELECT c.genesis, l.prev_hash FROM chain_state c, linked_records l WHERE l.seq = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(prev, ledger::linked_genesis(&genesis).to_vec());
    drop(conn);
    let backend = SqliteBackend::open(&path, OpenOptions::read_only()).unwrap();
    let report = backend.verify(&mut |_| {}).unwrap();
    assert!(report.is_intact(), "{:?}", report.finding);
    assert_eq!(report.linked_records, 1);
    assert_eq!(
        backend
            .linked(&LinkedFilter::decision(decision_id(&common::decision(7))))
            .unwrap(),
        vec![linked]
    );
}

#[test]
fn a_ledger_without_its_linked_head_is_named_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    drop(Ledger::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .execute_batch("DELETE FROM linked_chain_state")
        .unwrap();
    for options in [OpenOptions::read_only(), OpenOptions::default()] {
        match SqliteBackend::open(&path, options) {
            Err(LedgerError::Corrupt { detail, .. }) => {
                assert!(detail.contains("linked_chain_state"), "{detail}")
            }
            other => panic!("{:?}", other.err()),
        }
    }
}

#[test]
fn a_schema_6_file_gains_the_saved_heartbeats() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    old_ledger(&path, &[BACK_TO_8, BACK_TO_7, BACK_TO_6]);
    let ledger = Ledger::open(&path).unwrap();
    let backend = ledger.backend();
    assert!(backend.verify(&mut |_| {}).unwrap().is_intact());
    let beat = ledger::LastHeartbeat {
        worker_id: "w".into(),
        // Stored in µs, like every time in the ledger.
        at: ledger::micros_to_time(1_767_225_600_000_000),
        reported: None,
        latency_ms: None,
    };
    backend
        .save_heartbeats(std::slice::from_ref(&beat))
        .unwrap();
    assert_eq!(backend.last_heartbeats().unwrap(), vec![beat]);
}

#[test]
fn a_schema_7_file_keeps_its_alerts_and_gains_resolution_and_ack_notes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    old_ledger(&path, &[BACK_TO_8, BACK_TO_7]);
    // Alerts as schema 7 stored them: one acknowledged, one open.
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "INSERT INTO alerts (created_at, severity, code, message, worker_id, correlation_id, \
             acknowledged_at, details) VALUES \
         (1, 1, 'worker_offline', 'w went offline', 'w', NULL, 5, '{\"subject\":\"w\"}'), \
         (2, 1, 'worker_offline', 'w went offline', 'w', NULL, NULL, '{\"subject\":\"w\"}');",
    )
    .unwrap();
    drop(conn);
    let ledger = Ledger::open(&path).unwrap();
    let b = ledger.backend();
    let all = b.alerts(&ledger::AlertFilter::default()).unwrap();
    assert_eq!(all.len(), 2);
    assert!(all
        .iter()
        .all(|a| a.resolved_at.is_none() && a.acked_by.is_none()));
    assert_eq!(all[1].acknowledged_at, Some(ledger::micros_to_time(5)));
    let open = ledger::AlertFilter {
        open_only: true,
        ..Default::default()
    };
    assert_eq!(b.alerts(&open).unwrap().len(), 1);
    let at = ledger::micros_to_time(9);
    let mut resolved = b.resolve_alerts("worker_offline", "w", at).unwrap();
    resolved.sort();
    assert_eq!(resolved, vec![1, 2]);
    assert!(b.alerts(&open).unwrap().is_empty());
}

/// The alerts stream of the fleet outbox, as `SqliteBackend::outbox_alerts` reads it: (id,
/// change_seq, acked_by, resolved_at) after change number `after`.
fn changed_alerts(b: &SqliteBackend, after: i64) -> Vec<(i64, i64, Option<String>, Option<i64>)> {
    b.outbox_alerts(after, 100)
        .unwrap()
        .into_iter()
        .map(|a| (a.id, a.change_seq, a.acked_by, a.resolved_at))
        .collect()
}

#[test]
fn a_schema_8_file_numbers_its_alert_changes_and_every_later_change_takes_the_next_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    old_ledger(&path, &[BACK_TO_8]);
    // Alerts as schema 8 left them: 1 open, 2 acknowledged, 3 resolved, 4 open.
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "INSERT INTO alerts (created_at, severity, code, message, worker_id, correlation_id, \
             acknowledged_at, acked_by, ack_note, resolved_at, details) VALUES \
         (1, 1, 'worker_offline', 'w went offline', 'w', NULL, NULL, NULL, NULL, NULL, '{}'), \
         (2, 1, 'worker_offline', 'v went offline', 'v', NULL, 5, 'ops', 'known', NULL, '{}'), \
         (3, 2, 'ledger_write_failed', 'disk full', NULL, NULL, NULL, NULL, NULL, 6, '{}'), \
         (4, 1, 'worker_offline', 'u went offline', 'u', NULL, NULL, NULL, NULL, NULL, '{}');",
    )
    .unwrap();
    drop(conn);

    let ledger = Ledger::open(&path).unwrap();
    let b = ledger.backend();
    // Read as the fleet shipper reads it: its own read-only connection beside the writer.
    let r = SqliteBackend::open(&path, OpenOptions::read_only()).unwrap();
    // Creations in id order, then the changes made since (2 and 3), after all of them.
    assert_eq!(
        changed_alerts(&r, 0),
        vec![
            (1, 1, None, None),
            (4, 4, None, None),
            (2, 5, Some("ops".into()), None),
            (3, 6, None, Some(6)),
        ]
    );
    assert_eq!(r.outbox_heads().unwrap().alerts, 6);

    // Every write after the upgrade takes the next number, one per row changed.
    let at = ledger::micros_to_time(10);
    let ack = ledger::AlertAck {
        at,
        by: "lead".into(),
        note: Some("on it".into()),
    };
    assert!(b.ack_alert(1, &ack).unwrap());
    assert_eq!(
        changed_alerts(&r, 6),
        vec![(1, 7, Some("lead".into()), None)]
    );
    let mut resolved = b.resolve_alerts("worker_offline", "u", at).unwrap();
    resolved.sort();
    assert_eq!(resolved, vec![4]);
    let new = b
        .insert_alert(&ledger::NewAlert {
            created_at: at,
            severity: ledger::Severity::Warning,
            code: "worker_offline".into(),
            message: "t went offline".into(),
            worker_id: Some("t".into()),
            correlation_id: None,
            details: serde_json::json!({}),
        })
        .unwrap();
    assert_eq!(
        changed_alerts(&r, 7),
        vec![(4, 8, None, Some(10)), (new, 9, None, None)]
    );
    assert_eq!(r.outbox_heads().unwrap().alerts, 9);
    // An update that changes nothing the trigger watches (an acknowledgement refused because
    // it is already acknowledged) takes no number.
    assert!(!b.ack_alert(1, &ack).unwrap());
    assert_eq!(r.outbox_heads().unwrap().alerts, 9);
    ledger.close();
    drop(r);

    // The numbers survive a reopen.
    let reader = SqliteBackend::open(&path, OpenOptions::read_only()).unwrap();
    assert_eq!(changed_alerts(&reader, 8), vec![(new, 9, None, None)]);
}
