//! Retention and linked records: pruning decisions prunes their linked records as far as they
//! are a prefix of the linked chain, both chains stay verifiable from their checkpoints, and a
//! broken linked prefix is never pruned away.

use crate::common::{self, decision_id, second};

use ledger::{Ledger, LedgerBackend, LedgerError, LinkedFilter, NewLinkedRecord, VerifyReport};
use rusqlite::Connection;
use serde_json::json;

fn ledger_with(dir: &tempfile::TempDir, n: u64) -> Ledger {
    let ledger = Ledger::open(dir.path().join("l.db")).unwrap();
    for i in 0..n {
        ledger.append_blocking(common::decision(i)).unwrap();
    }
    ledger
}

/// `verify`'s report of a ledger that must be intact.
fn intact(b: &dyn LedgerBackend) -> VerifyReport {
    let v = b.verify(&mut |_| {}).unwrap();
    assert!(v.is_intact(), "{:?}", v.finding);
    v
}

/// How many linked records name decision `i`.
fn links_of(b: &dyn LedgerBackend, i: u64) -> usize {
    b.linked(&LinkedFilter::decision(decision_id(i)))
        .unwrap()
        .len()
}

fn link(ledger: &Ledger, decision: u64) -> i64 {
    ledger
        .append_linked_blocking(NewLinkedRecord {
            at: second(1000 + decision as i64),
            kind: "mcp_call".into(),
            decision_id: decision_id(decision),
            correlation_id: format!("corr-{decision}"),
            server: Some("wrk.fs".into()),
            tool: Some("read_file".into()),
            body: json!({"outcome": "ok"}),
        })
        .unwrap()
        .seq
}

#[test]
fn pruning_decisions_prunes_their_linked_prefix_and_both_chains_verify() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(&dir, 100);
    for d in 0..100 {
        link(&ledger, d);
    }
    let b = ledger.backend();
    let report = b.prune_before(second(30)).unwrap();
    assert_eq!((report.pruned, report.through_seq), (30, Some(30)));
    assert_eq!(
        (report.linked_pruned, report.linked_through_seq),
        (30, Some(30))
    );
    // The linked chain goes on from its checkpoint.
    assert_eq!(link(&ledger, 50), 101);
    let v = intact(b);
    assert_eq!((v.records_checked, v.linked_records), (70, 71));
    let cp = v.linked_checkpoint.unwrap();
    assert_eq!((cp.through_seq, cp.pruned_total), (30, 30));
    assert_eq!(v.linked_to_pruned, 0);
    assert_eq!(links_of(b, 10), 0);
    assert_eq!(links_of(b, 50), 2);

    // Nothing more to prune: nothing changes.
    let again = b.prune_before(second(30)).unwrap();
    assert_eq!((again.pruned, again.linked_pruned), (0, 0));
}

#[test]
fn a_linked_record_of_a_pruned_decision_behind_a_kept_one_waits_for_a_later_prune() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(&dir, 20);
    // Linked 1 names decision seq 1, linked 2 seq 11, linked 3 seq 2.
    for d in [0, 10, 1] {
        link(&ledger, d);
    }
    let b = ledger.backend();
    let first = b.prune_before(second(5)).unwrap();
    assert_eq!((first.pruned, first.linked_pruned), (5, 1));
    let v = intact(b);
    assert_eq!((v.linked_records, v.linked_to_pruned), (2, 1));
    // It is still there, and still found by its decision's id.
    assert_eq!(links_of(b, 1), 1);

    // Once the prefix reaches it, it goes.
    let second_run = b.prune_before(second(15)).unwrap();
    assert_eq!((second_run.pruned, second_run.linked_pruned), (10, 2));
    assert_eq!(second_run.linked_through_seq, Some(3));
    let v = intact(b);
    assert_eq!((v.linked_records, v.linked_to_pruned), (0, 0));
    assert_eq!(v.linked_checkpoint.unwrap().pruned_total, 3);
    assert_eq!(link(&ledger, 17), 4);
    intact(b);
}

#[test]
fn pruning_refuses_to_hide_a_broken_linked_chain() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(&dir, 20);
    for d in 0..20 {
        link(&ledger, d);
    }
    Connection::open(dir.path().join("l.db"))
        .unwrap()
        .execute(
            "UPDATE linked_records SET json = replace(json, 'ok', 'KO') WHERE seq = 3",
            [],
        )
        .unwrap();
    let e = ledger.backend().prune_before(second(10)).unwrap_err();
    assert!(matches!(e, LedgerError::ChainBroken(_)), "{e}");
    assert!(e.to_string().contains("linked record 3"), "{e}");
    // Nothing was pruned, decisions included.
    let v = ledger.backend().verify(&mut |_| {}).unwrap();
    assert_eq!(v.records_checked, 20);
    assert_eq!(v.checkpoint, None);
}
