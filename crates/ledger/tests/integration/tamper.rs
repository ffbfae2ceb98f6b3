//! Tampering with a real ledger file, the way an attacker with SQL or a hex editor would:
//! every change is detected and `verify` names the first bad record.

use crate::common;

use std::path::{Path, PathBuf};

use ledger::{
    chain_hash, Finding, Ledger, LedgerBackend, LedgerError, OpenOptions, Problem, SqliteBackend,
};
use rusqlite::Connection;

const N: u64 = 20;

/// A ledger file of N decisions, in a temp dir that lives as long as the returned handle.
fn ledger_with_records() -> (tempfile::TempDir, PathBuf) {
    let (dir, path, ledger) = common::appended(N);
    ledger.close();
    (dir, path)
}

/// A fresh ledger of N records, and a raw SQL connection to its file as an attacker has it.
fn attackable() -> (tempfile::TempDir, PathBuf, Connection) {
    let (dir, path) = ledger_with_records();
    let conn = Connection::open(&path).unwrap();
    (dir, path, conn)
}

fn verify(path: &Path) -> Result<Option<Finding>, LedgerError> {
    let backend = SqliteBackend::open(path, OpenOptions::read_only())?;
    Ok(backend.verify(&mut |_| {})?.finding)
}

/// What `verify` names in a ledger that was tampered with.
fn detected(path: &Path) -> Finding {
    verify(path).unwrap().expect("tampering must be detected")
}

fn tampered(sql: &str) -> Finding {
    let (_dir, path) = ledger_with_records();
    assert_eq!(verify(&path).unwrap(), None, "intact before tampering");
    Connection::open(&path).unwrap().execute_batch(sql).unwrap();
    detected(&path)
}

/// What an attacker who read the file format would do: compress with the file's dictionary.
fn encode(conn: &Connection, json: &str) -> Vec<u8> {
    let dict: Vec<u8> = conn
        .query_row("SELECT dictionary FROM codec", [], |r| r.get(0))
        .unwrap();
    zstd::bulk::Compressor::with_dictionary(3, &dict)
        .unwrap()
        .compress(json.as_bytes())
        .unwrap()
}

fn decode(conn: &Connection, seq: i64) -> String {
    let dict: Vec<u8> = conn
        .query_row("SELECT dictionary FROM codec", [], |r| r.get(0))
        .unwrap();
    let body: Vec<u8> = conn
        .query_row("SELECT body FROM decisions WHERE seq = ?1", [seq], |r| {
            r.get(0)
        })
        .unwrap();
    let json = zstd::bulk::Decompressor::with_dictionary(&dict)
        .unwrap()
        .decompress(&body, 1 << 20)
        .unwrap();
    String::from_utf8(json).unwrap()
}

fn hash_of(conn: &Connection, seq: i64) -> [u8; 32] {
    let h: Vec<u8> = conn
        .query_row("SELECT hash FROM decisions WHERE seq = ?1", [seq], |r| {
            r.get(0)
        })
        .unwrap();
    h.try_into().unwrap()
}

#[test]
fn editing_a_decision_is_detected() {
    let f = tampered(
        "UPDATE decisions SET body = (SELECT body FROM decisions WHERE seq = 8) WHERE seq = 7",
    );
    assert_eq!(f, Finding::decision(7, Problem::Edited));

    let (_dir, path, conn) = attackable();
    let forged = decode(&conn, 7).replace("\"dry_run\":", "\"dry_run\": ");
    conn.execute(
        "UPDATE decisions SET body = ?1 WHERE seq = 7",
        [encode(&conn, &forged)],
    )
    .unwrap();
    drop(conn);
    assert_eq!(detected(&path), Finding::decision(7, Problem::Edited));
}

#[test]
fn editing_a_filter_column_is_detected() {
    let f = tampered("UPDATE decisions SET tenant_id = 'someone-else' WHERE seq = 9");
    assert_eq!(
        f,
        Finding::decision(
            9,
            Problem::ColumnEdited {
                column: "tenant_id"
            }
        )
    );
    // The lookup key of the decision id (schema 3): a stale key would hide the record from
    // `get` and from the duplicate check.
    let f = tampered("UPDATE decisions SET decision_key = decision_key + 1 WHERE seq = 11");
    assert_eq!(
        f,
        Finding::decision(
            11,
            Problem::ColumnEdited {
                column: "decision_key"
            }
        )
    );
    let f = tampered("UPDATE decisions SET denied = 1 - denied WHERE seq = 3");
    assert_eq!(
        f,
        Finding::decision(3, Problem::ColumnEdited { column: "denied" })
    );
    // The CSV export and free-text search read deny_message from the column, so a changed
    // message (or one added to an allowed record) must be caught like any other column.
    for denied in [true, false] {
        let (_dir, path, conn) = attackable();
        let seq: i64 = conn
            .query_row(
                "SELECT min(seq) FROM decisions WHERE seq > 4 AND denied = ?1",
                [denied],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute(
            "UPDATE decisions SET deny_message = 'all fine' WHERE seq = ?1",
            [seq],
        )
        .unwrap();
        drop(conn);
        assert_eq!(
            verify(&path)
                .unwrap()
                .expect("an edited deny_message must be detected"),
            Finding::decision(
                seq,
                Problem::ColumnEdited {
                    column: "deny_message"
                }
            ),
            "denied = {denied}"
        );
    }
}

#[test]
fn deleting_a_record_is_detected() {
    assert_eq!(
        tampered("DELETE FROM decisions WHERE seq = 5"),
        Finding::decision(5, Problem::Deleted { last: 5 })
    );
    assert_eq!(
        tampered("DELETE FROM decisions WHERE seq BETWEEN 4 AND 6"),
        Finding::decision(4, Problem::Deleted { last: 6 })
    );
}

#[test]
fn deleting_the_newest_records_is_detected() {
    let f = tampered("DELETE FROM decisions WHERE seq >= 18");
    assert_eq!(f, Finding::decision(18, common::head_mismatch(20, 17)));
}

#[test]
fn swapping_two_records_is_detected() {
    let f = tampered(&common::swap_seqs("decisions", 10, 11));
    assert_eq!(
        f,
        Finding::decision(10, Problem::Reordered { links_to: 11 })
    );
}

/// Shift records `from..` up by one to open a gap, then fill it with a well-formed forgery
/// whose `prev_hash` is `link`.
fn forge_at(conn: &Connection, at: i64, link: [u8; 32]) {
    conn.execute_batch(&format!(
        "UPDATE decisions SET seq = -seq WHERE seq >= {at};
         UPDATE decisions SET seq = 1 - seq WHERE seq < 0;"
    ))
    .unwrap();
    let json = common::decision(999);
    let f = ledger::DecisionFields::from_json(&json).unwrap();
    conn.execute(
        "INSERT INTO decisions (seq, ts, decision_id, correlation_id, tenant_id, capability_id, matched_rule_id,
           worker, env, data_label, qos_class, denied, deny_code, deny_message, dry_run, artifact_hash, prev_hash, hash, body, decision_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
        rusqlite::params![at, f.ts_micros, f.decision_id, f.correlation_id, f.tenant_id, f.capability_id,
            f.matched_rule_id, f.worker, f.env, f.data_label, f.qos_class, f.denied, f.deny_code,
            f.deny_message, f.dry_run, f.artifact_hash, link.as_slice(),
            chain_hash(&link, json.as_bytes()).as_slice(), encode(conn, &json),
            common::key_of(&f.decision_id)],
    )
    .unwrap();
}

#[test]
fn inserting_a_forged_record_is_detected() {
    // A careful forgery: linked to its predecessor, correctly hashed, later records renumbered.
    let (_dir, path, conn) = attackable();
    forge_at(&conn, 6, hash_of(&conn, 5));
    drop(conn);
    assert_eq!(detected(&path), Finding::decision(6, Problem::Inserted));

    // A clumsy one whose link points nowhere.
    let (_dir, path, conn) = attackable();
    forge_at(&conn, 12, [7; 32]);
    drop(conn);
    assert_eq!(detected(&path), Finding::decision(12, Problem::Inserted));
}

#[test]
fn appending_behind_the_writers_back_is_detected() {
    let (_dir, path, conn) = attackable();
    forge_at(&conn, N as i64 + 1, hash_of(&conn, N as i64));
    drop(conn);
    let f = detected(&path);
    assert_eq!(f, Finding::decision(21, common::head_mismatch(20, 21)));
}

#[test]
fn rewriting_a_record_and_its_hash_breaks_the_next_link() {
    let (_dir, path, conn) = attackable();
    let prev = hash_of(&conn, 4);
    let forged = decode(&conn, 5).replace("\"dry_run\":", "\"dry_run\": ");
    conn.execute(
        "UPDATE decisions SET body = ?1, hash = ?2 WHERE seq = 5",
        rusqlite::params![
            encode(&conn, &forged),
            chain_hash(&prev, forged.as_bytes()).as_slice()
        ],
    )
    .unwrap();
    drop(conn);
    assert_eq!(detected(&path), Finding::decision(6, Problem::BrokenLink));
}

#[test]
fn a_head_that_disagrees_with_the_last_record_is_named_as_such() {
    let expected = Finding::decision(N as i64, Problem::HeadHashMismatch);
    // The head edited...
    let (_dir, path, conn) = attackable();
    conn.execute("UPDATE chain_state SET head_hash = zeroblob(32)", [])
        .unwrap();
    drop(conn);
    let finding = detected(&path);
    assert_eq!(finding, expected);
    assert!(finding.to_string().contains("chain_state"), "{finding}");

    // ...or the last record rewritten with a fresh hash: the file cannot tell them apart.
    let (_dir, path, conn) = attackable();
    let last = N as i64;
    let forged = decode(&conn, last).replace("\"dry_run\":", "\"dry_run\": ");
    conn.execute(
        "UPDATE decisions SET body = ?1, hash = ?2 WHERE seq = ?3",
        rusqlite::params![
            encode(&conn, &forged),
            chain_hash(&hash_of(&conn, last - 1), forged.as_bytes()).as_slice(),
            last
        ],
    )
    .unwrap();
    drop(conn);
    assert_eq!(detected(&path), expected);
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn flipping_a_byte_of_a_record_on_disk_is_detected() {
    let (_dir, path) = ledger_with_records();
    let body: Vec<u8> = Connection::open(&path)
        .unwrap()
        .query_row("SELECT body FROM decisions WHERE seq = 13", [], |r| {
            r.get(0)
        })
        .unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    // Record 13's stored bytes, as they sit in their page.
    let at = find(&bytes, &body).expect("record bytes are in the main file after close");
    bytes[at + body.len() / 2] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(detected(&path), Finding::decision(13, Problem::Edited));
}

#[test]
fn a_damaged_file_header_is_reported_not_a_database() {
    let (_dir, path) = ledger_with_records();
    let mut bytes = std::fs::read(&path).unwrap();
    for b in &mut bytes[0..16] {
        *b ^= 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        verify(&path),
        Err(LedgerError::NotADatabase { .. })
    ));
}

#[test]
fn a_truncated_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let ledger = Ledger::open(&path).unwrap();
    for i in 0..2000 {
        ledger.append_blocking(common::decision(i)).unwrap();
    }
    ledger.close();
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    match verify(&path) {
        Ok(finding) => {
            let finding = finding.expect("a truncated ledger must not verify");
            assert!(finding.seq <= 2000, "{finding}");
        }
        Err(e) => assert!(
            matches!(
                e,
                LedgerError::Corrupt { .. } | LedgerError::NotADatabase { .. }
            ),
            "{e}"
        ),
    }
}

#[test]
fn editing_a_retention_checkpoint_is_detected() {
    let (_dir, path) = ledger_with_records();
    // decision(i) is at 2026-01-01 + i seconds: prune the first 8.
    let (pruned, report) = common::prune_intact(&path, 8);
    assert_eq!((pruned.pruned, pruned.through_seq), (8, Some(8)));
    assert_eq!(report.records_checked, 12);
    Connection::open(&path)
        .unwrap()
        .execute_batch("UPDATE checkpoints SET through_seq = 7")
        .unwrap();
    assert_eq!(
        detected(&path),
        Finding::decision(7, Problem::BadCheckpoint)
    );
}

#[test]
fn an_index_that_no_longer_matches_its_rows_is_found_by_the_integrity_check() {
    let (_dir, path) = ledger_with_records();
    let backend = SqliteBackend::open(&path, OpenOptions::read_only()).unwrap();
    assert_eq!(backend.integrity_check().unwrap(), Vec::<String>::new());
    drop(backend);
    // Re-point the time index at another column without rebuilding it: the chain is still
    // intact (rows are untouched) but time filters would now return wrong rows.
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "PRAGMA writable_schema = ON;
         UPDATE sqlite_schema SET sql = 'CREATE INDEX decisions_ts ON decisions (dry_run)'
           WHERE name = 'decisions_ts';
         PRAGMA writable_schema = OFF;",
    )
    .unwrap();
    drop(conn);
    let backend = SqliteBackend::open(&path, OpenOptions::read_only()).unwrap();
    let problems = backend.integrity_check().unwrap();
    assert!(
        problems.iter().any(|p| p.contains("decisions_ts")),
        "{problems:?}"
    );
}

#[test]
fn a_filter_index_table_that_no_longer_matches_its_records_is_found_by_the_integrity_check() {
    // Filter indexes are posting lists filled after commit, in the index file (postings.rs):
    // blocks of seqs per value. Seqs here are under 128, so a block holds a byte per seq.
    // A block moved to another value (tenant filters return records of another tenant), a
    // deleted block (records go missing from a filter) and a block that no longer decodes are
    // each named, with their counts, and so is the cure; so is a block that is not a blob.
    let oldest = |table: &str| format!("(SELECT min(first_seq) FROM {table})");
    for (damage, entries, expect) in [
        (
            format!("UPDATE by_tenant SET value = 'tenant-x' WHERE first_seq = {}", oldest("by_tenant")),
            format!("SELECT length(seqs) FROM by_tenant WHERE first_seq = {}", oldest("by_tenant")),
            "by_tenant in * {k} entries do not match their records, {k} indexed records have no entry",
        ),
        (
            format!("DELETE FROM by_worker WHERE first_seq = {}", oldest("by_worker")),
            format!("SELECT length(seqs) FROM by_worker WHERE first_seq = {}", oldest("by_worker")),
            "by_worker in * 0 entries do not match their records, {k} indexed records have no entry",
        ),
        (
            format!("UPDATE by_rule SET seqs = x'80' WHERE first_seq = {}", oldest("by_rule")),
            format!("SELECT length(seqs) FROM by_rule WHERE first_seq = {}", oldest("by_rule")),
            "by_rule in * 1 entries do not match their records, {k} indexed records have no entry",
        ),
        (
            format!(
                "UPDATE by_capability SET seqs = 'not a block' WHERE first_seq = {}",
                oldest("by_capability")
            ),
            format!(
                "SELECT length(seqs) FROM by_capability WHERE first_seq = {}",
                oldest("by_capability")
            ),
            "by_capability in * 1 entries do not match their records, {k} indexed records have no entry",
        ),
    ] {
        let (_dir, path) = ledger_with_records();
        let conn = Connection::open(ledger::index_path(&path)).unwrap();
        let k: i64 = conn.query_row(&entries, [], |r| r.get(0)).unwrap();
        assert_eq!(conn.execute(&damage, []).unwrap(), 1, "{damage}");
        drop(conn);
        let backend = SqliteBackend::open(&path, OpenOptions::read_only()).unwrap();
        assert!(
            backend.verify(&mut |_| {}).unwrap().is_intact(),
            "the chain is untouched"
        );
        let problems = backend.integrity_check().unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        let (table, counts) = expect.split_once(" in * ").unwrap();
        assert!(problems[0].starts_with(&format!("filter index {table} in ")), "{problems:?}");
        assert!(problems[0].contains(&counts.replace("{k}", &k.to_string())), "{problems:?}");
        assert!(problems[0].contains("ledger.db.index"), "{problems:?}");
        drop(backend);

        // The index is derived data: without its file, the next writable open rebuilds it.
        std::fs::remove_file(ledger::index_path(&path)).unwrap();
        let backend = SqliteBackend::open(&path, OpenOptions::default()).unwrap();
        while backend.catch_up(usize::MAX).unwrap() > 0 {}
        assert_eq!(backend.integrity_check().unwrap(), Vec::<String>::new());
    }
}
