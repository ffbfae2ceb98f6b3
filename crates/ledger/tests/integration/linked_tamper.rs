//! Tampering with the linked-record chain of a real ledger file, as someone with SQL would:
//! `verify` names the first bad linked record, says it is in the linked chain, and holds each
//! link against the decision it names.

use crate::common::{self, decision_id};

use std::path::{Path, PathBuf};

use chrono::DateTime;
use ledger::{
    chain_hash, Chain, Finding, LedgerBackend, NewLinkedRecord, OpenOptions, Problem,
    SqliteBackend, VerifyReport,
};
use rusqlite::Connection;
use serde_json::json;

/// Decisions 0..10, then linked records 1..=12: linked record `s` names decision
/// `(s - 1) % 10`, i.e. decision seq `(s - 1) % 10 + 1`.
const DECISIONS: u64 = 10;
const LINKED: i64 = 12;

/// The ledger file described above, in a temp dir that lives as long as the returned handle.
fn ledger_with_links() -> (tempfile::TempDir, PathBuf) {
    let (dir, path, ledger) = common::appended(DECISIONS);
    for s in 1..=LINKED {
        let d = (s as u64 - 1) % DECISIONS;
        ledger
            .append_linked_blocking(NewLinkedRecord {
                at: DateTime::from_timestamp(1_767_226_000 + s, 0).unwrap(),
                kind: if s % 3 == 0 { "approval" } else { "mcp_call" }.into(),
                decision_id: decision_id(d),
                correlation_id: format!("corr-{d}"),
                server: Some("wrk.fs".into()),
                tool: Some("read_file".into()),
                body: json!({"outcome": "ok", "latency_ms": s}),
            })
            .unwrap();
    }
    ledger.close();
    (dir, path)
}

fn report(path: &Path) -> VerifyReport {
    SqliteBackend::open(path, OpenOptions::read_only())
        .unwrap()
        .verify(&mut |_| {})
        .unwrap()
}

fn tampered(sql: &str) -> Finding {
    let (_dir, path) = ledger_with_links();
    let intact = report(&path);
    assert!(intact.is_intact(), "{:?}", intact.finding);
    assert_eq!(intact.linked_records, LINKED as u64);
    Connection::open(&path).unwrap().execute_batch(sql).unwrap();
    let found = report(&path);
    found.finding.expect("tampering must be detected")
}

#[test]
fn an_intact_ledger_reports_both_chains() {
    let (_dir, path) = ledger_with_links();
    let r = report(&path);
    assert!(r.is_intact(), "{:?}", r.finding);
    assert_eq!(
        (r.records_checked, r.last_seq),
        (DECISIONS, DECISIONS as i64)
    );
    assert_eq!(
        (r.linked_records, r.linked_last_seq),
        (LINKED as u64, LINKED)
    );
    assert_eq!((&r.linked_checkpoint, r.linked_to_pruned), (&None, 0));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["linked_records"], LINKED);
}

#[test]
fn editing_a_linked_body_is_detected() {
    let f = tampered(
        "UPDATE linked_records SET json = replace(json, '\"ok\"', '\"tool_error\"') WHERE seq = 7",
    );
    assert_eq!(f, Finding::linked(7, Problem::Edited));
    assert_eq!(f.chain, Chain::Linked);
    assert!(
        f.to_string().starts_with("linked record 7 was edited"),
        "{f}"
    );
}

#[test]
fn editing_a_linked_filter_column_is_detected() {
    assert_eq!(
        tampered("UPDATE linked_records SET server = 'elsewhere' WHERE seq = 4"),
        Finding::linked(4, Problem::ColumnEdited { column: "server" })
    );
    assert_eq!(
        tampered("UPDATE linked_records SET kind = 'approval' WHERE seq = 5"),
        Finding::linked(5, Problem::ColumnEdited { column: "kind" })
    );
    // A stale lookup key would hide the record from its decision's filter.
    assert_eq!(
        tampered("UPDATE linked_records SET decision_key = decision_key + 1 WHERE seq = 2"),
        Finding::linked(
            2,
            Problem::ColumnEdited {
                column: "decision_key"
            }
        )
    );
}

#[test]
fn deleting_linked_records_is_detected() {
    assert_eq!(
        tampered("DELETE FROM linked_records WHERE seq = 5"),
        Finding::linked(5, Problem::Deleted { last: 5 })
    );
    // The newest: only the head knows it existed.
    assert_eq!(
        tampered("DELETE FROM linked_records WHERE seq = 12"),
        Finding::linked(12, common::head_mismatch(12, 11))
    );
}

#[test]
fn reordering_linked_records_is_detected() {
    let f = tampered(&common::swap_seqs("linked_records", 8, 9));
    assert_eq!(f, Finding::linked(8, Problem::Reordered { links_to: 9 }));
}

#[test]
fn editing_the_linked_head_is_detected() {
    assert_eq!(
        tampered("UPDATE linked_chain_state SET head_hash = zeroblob(32)"),
        Finding::linked(12, Problem::HeadHashMismatch)
    );
    let f = tampered("UPDATE linked_chain_state SET head_seq = 10");
    assert_eq!(f, Finding::linked(11, common::head_mismatch(10, 12)));
    assert!(f.to_string().contains("linked_chain_state") || f.to_string().contains("its head"));
}

#[test]
fn editing_a_linked_decision_is_found_in_the_decision_chain_first() {
    let f = tampered("UPDATE decisions SET env = 'edited' WHERE seq = 3");
    assert_eq!(f.chain, Chain::Decisions);
    assert_eq!(f.seq, 3);
}

/// The rewrite the decision chain alone cannot see: decision `from` changed and every decision
/// hash from it on recomputed, head included. The links still hold the old hashes.
#[test]
fn a_rewritten_decision_chain_is_caught_by_the_links() {
    let (_dir, path) = ledger_with_links();
    let conn = Connection::open(&path).unwrap();
    let from = 4;
    rewrite_decisions_from(&conn, from);
    drop(conn);
    let r = report(&path);
    assert_eq!(
        r.records_checked, DECISIONS,
        "the decision chain itself verifies"
    );
    // Linked record 4 is the first to name decision seq 4 or later.
    assert_eq!(
        r.finding,
        Some(Finding::linked(
            4,
            Problem::DecisionChanged { decision_seq: 4 }
        ))
    );
    assert_eq!(r.linked_records, 3);
}

/// A linked record rewritten (and rehashed, head included) to name a decision that does not
/// exist.
#[test]
fn a_link_to_a_missing_decision_is_detected() {
    let (_dir, path) = ledger_with_links();
    let conn = Connection::open(&path).unwrap();
    let (prev, json): (Vec<u8>, String) = conn
        .query_row(
            "SELECT prev_hash, json FROM linked_records WHERE seq = ?1",
            [LINKED],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let forged = json.replace(r#""decision_seq":2,"#, r#""decision_seq":999,"#);
    assert_ne!(forged, json);
    let hash = chain_hash(&prev.try_into().unwrap(), forged.as_bytes());
    conn.execute(
        "UPDATE linked_records SET json = ?1, hash = ?2, decision_seq = 999 WHERE seq = ?3",
        (&forged, hash.as_slice(), LINKED),
    )
    .unwrap();
    conn.execute(
        "UPDATE linked_chain_state SET head_hash = ?1",
        [hash.as_slice()],
    )
    .unwrap();
    drop(conn);
    assert_eq!(
        report(&path).finding,
        Some(Finding::linked(
            LINKED,
            Problem::DecisionMissing { decision_seq: 999 }
        ))
    );
}

#[test]
fn editing_a_linked_checkpoint_is_detected() {
    let (_dir, path) = ledger_with_links();
    // Decisions 0..4 are older than the cutoff; linked records 1..=4 name them.
    let (pruned, r) = common::prune_intact(&path, 4);
    assert_eq!((pruned.pruned, pruned.linked_pruned), (4, 4));
    assert_eq!(r.linked_checkpoint.as_ref().unwrap().through_seq, 4);
    // Linked record 11 names decision 0 (seq 1), pruned, but comes after kept ones.
    assert_eq!(r.linked_to_pruned, 2);
    Connection::open(&path)
        .unwrap()
        .execute_batch("UPDATE linked_checkpoints SET pruned_total = 3")
        .unwrap();
    assert_eq!(
        report(&path).finding,
        Some(Finding::linked(4, Problem::BadCheckpoint))
    );
}

/// Change decision `from`'s stored JSON (one byte of whitespace) and recompute the chain from
/// it to the head, as an attacker who read the file format would.
fn rewrite_decisions_from(conn: &Connection, from: i64) {
    let dict: Vec<u8> = conn
        .query_row("SELECT dictionary FROM codec", [], |r| r.get(0))
        .unwrap();
    let mut prev: Vec<u8> = conn
        .query_row(
            "SELECT prev_hash FROM decisions WHERE seq = ?1",
            [from],
            |r| r.get(0),
        )
        .unwrap();
    for seq in from..=DECISIONS as i64 {
        let body: Vec<u8> = conn
            .query_row("SELECT body FROM decisions WHERE seq = ?1", [seq], |r| {
                r.get(0)
            })
            .unwrap();
        let mut json = zstd::bulk::Decompressor::with_dictionary(&dict)
            .unwrap()
            .decompress(&body, 1 << 20)
            .unwrap();
        if seq == from {
            json = String::from_utf8(json)
                .unwrap()
                .replace("\"dry_run\":", "\"dry_run\": ")
                .into_bytes();
        }
        let hash = chain_hash(&prev.clone().try_into().unwrap(), &json);
        let body = zstd::bulk::Compressor::with_dictionary(3, &dict)
            .unwrap()
            .compress(&json)
            .unwrap();
        conn.execute(
            "UPDATE decisions SET body = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            (body, &prev, hash.as_slice(), seq),
        )
        .unwrap();
        prev = hash.to_vec();
    }
    conn.execute("UPDATE chain_state SET head_hash = ?1", [&prev])
        .unwrap();
}
