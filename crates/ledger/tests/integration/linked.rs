//! Linked records (MCP call outcomes, approvals) on real SQLite files: group-committed appends
//! from concurrent async callers, links to decisions (committed, indexed or not), rejection
//! of unknown decisions, filters, keyset paging, and what survives a reopen.

use crate::common::{self, decision_id, ledger_with};

use std::sync::Arc;

use chrono::DateTime;
use ledger::{
    Ledger, LedgerBackend, LedgerError, LinkedFilter, LinkedOrder, LinkedRecord, NewLinkedRecord,
    OpenOptions, SqliteBackend,
};
use rusqlite::Connection;
use serde_json::json;

fn call(decision: u64, i: u64) -> NewLinkedRecord {
    NewLinkedRecord {
        at: DateTime::from_timestamp(1_767_225_700 + i as i64, 1_500).unwrap(),
        kind: "mcp_call".into(),
        decision_id: decision_id(decision),
        correlation_id: format!("corr-{decision}"),
        server: Some(format!("wrk.s{}", i % 2)),
        tool: Some(format!("tool_{}", i % 3)),
        body: json!({"outcome": "ok", "latency_ms": i, "result_bytes": 10 * i,
                     "arguments_sha256": format!("{i:064x}")}),
    }
}

fn approval(decision: u64, i: u64) -> NewLinkedRecord {
    NewLinkedRecord {
        kind: "approval".into(),
        body: json!({"verdict": "approved", "by": "ops@example.com", "note": "ok\nfine"}),
        ..call(decision, i)
    }
}

fn seqs(records: &[LinkedRecord]) -> Vec<i64> {
    records.iter().map(|r| r.seq).collect()
}

#[test]
fn concurrent_async_appends_are_acknowledged_and_present_after_reopen() {
    const CALLERS: u64 = 16;
    const EACH: u64 = 40;
    let dir = tempfile::tempdir().unwrap();
    let ledger = Arc::new(ledger_with(&dir, CALLERS));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let acked: Vec<LinkedRecord> = runtime.block_on(async {
        let tasks: Vec<_> = (0..CALLERS)
            .map(|caller| {
                let ledger = Arc::clone(&ledger);
                tokio::spawn(async move {
                    let mut acked = Vec::new();
                    for i in 0..EACH {
                        let record = call(caller, caller * EACH + i);
                        acked.push(ledger.append_linked(record).await.unwrap());
                    }
                    acked
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    drop(runtime);
    let total = (CALLERS * EACH) as usize;
    let mut acked_seqs = seqs(&acked);
    acked_seqs.sort_unstable();
    assert_eq!(acked_seqs, (1..=total as i64).collect::<Vec<_>>());
    Arc::try_unwrap(ledger).ok().unwrap().close();

    let backend = SqliteBackend::open(dir.path().join("l.db"), OpenOptions::read_only()).unwrap();
    let mut stored = backend
        .linked(&LinkedFilter {
            limit: Some(1000),
            ..LinkedFilter::default()
        })
        .unwrap();
    assert_eq!(seqs(&stored), (1..=total as i64).rev().collect::<Vec<_>>());
    stored.sort_by_key(|r| r.seq);
    let mut acked = acked;
    acked.sort_by_key(|r| r.seq);
    assert_eq!(stored, acked, "what was acknowledged is what is stored");
    let report = backend.verify(&mut |_| {}).unwrap();
    assert!(report.is_intact(), "{:?}", report.finding);
    assert_eq!(report.linked_records, total as u64);
    assert_eq!(report.linked_last_seq, total as i64);
}

#[test]
fn a_link_holds_the_decision_seq_and_hash_and_at_is_kept_to_the_microsecond() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(&dir, 3);
    let decision = ledger.backend().get(&decision_id(1)).unwrap().unwrap();
    let mut record = approval(1, 0);
    record.at = DateTime::from_timestamp(1_767_225_600, 123_456_789).unwrap();
    let linked = ledger.append_linked_blocking(record.clone()).unwrap();
    assert_eq!((linked.seq, linked.decision_seq), (1, decision.seq));
    assert_eq!(linked.decision_hash, decision.hash);
    assert_eq!(
        linked.record.at,
        DateTime::from_timestamp(1_767_225_600, 123_456_000).unwrap()
    );
    assert_eq!(linked.record.body, record.body, "body as given");
    let json = serde_json::to_value(&linked).unwrap();
    assert_eq!(json["at"], "2026-01-01T00:00:00.123456Z");
    assert_eq!(json["decision_seq"], 2);
    assert_eq!(json["body"]["note"], "ok\nfine");

    // The stored bytes are the chained JSON, and the hash chains from the linked genesis.
    let conn = Connection::open(dir.path().join("l.db")).unwrap();
    let (stored, hash): (String, Vec<u8>) = conn
        .query_row(
            "SELECT json, hash FROM linked_records WHERE seq = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(stored, linked.chained_json());
    assert!(!stored.contains('\n'));
    let genesis: Vec<u8> = conn
        .query_row("SELECT genesis FROM chain_state", [], |r| r.get(0))
        .unwrap();
    let expected = ledger::chain_hash(&ledger::linked_genesis(&genesis), stored.as_bytes());
    assert_eq!(hash, expected.to_vec());
    assert_eq!(linked.hash, hex::encode(expected));
}

#[test]
fn decisions_are_found_before_and_after_they_are_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let backend = SqliteBackend::open(dir.path().join("l.db"), OpenOptions::default()).unwrap();
    let records: Vec<_> = (0..5)
        .map(|i| ledger::NewRecord::from_json(common::decision(i)).unwrap())
        .collect();
    backend.append_batch(&records).unwrap();
    assert_eq!(
        backend.lag(),
        5,
        "nothing indexed yet: the decisions are in the tail"
    );
    let tail = backend.append_linked(&[call(4, 0), call(0, 1)]).unwrap();
    assert_eq!(tail[0].as_ref().unwrap().decision_seq, 5);
    assert_eq!(tail[1].as_ref().unwrap().decision_seq, 1);
    while backend.catch_up(100).unwrap() > 0 {}
    assert_eq!(backend.lag(), 0);
    let indexed = backend.append_linked(&[call(2, 2)]).unwrap();
    assert_eq!(indexed[0].as_ref().unwrap().decision_seq, 3);
    assert_eq!(indexed[0].as_ref().unwrap().seq, 3);
}

#[test]
fn an_unknown_decision_is_rejected_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(&dir, 3);
    let mut unknown = call(0, 0);
    unknown.decision_id = "no-such-decision".into();
    let e = ledger.append_linked_blocking(unknown.clone()).unwrap_err();
    assert!(matches!(e, LedgerError::BadRecord(_)), "{e}");
    assert!(e.to_string().contains("no-such-decision"), "{e}");
    assert_eq!(e.code(), "LEDGER_BAD_RECORD");

    let count = |dir: &tempfile::TempDir| -> (i64, i64) {
        let conn = Connection::open(dir.path().join("l.db")).unwrap();
        let rows = conn
            .query_row("SELECT count(*) FROM linked_records", [], |r| r.get(0))
            .unwrap();
        let head = conn
            .query_row("SELECT head_seq FROM linked_chain_state", [], |r| r.get(0))
            .unwrap();
        (rows, head)
    };
    assert_eq!(count(&dir), (0, 0), "nothing written, head unmoved");

    // In a batch, only that record is rejected; the others chain without a gap.
    let results = ledger
        .backend()
        .append_linked(&[call(0, 0), unknown, call(1, 1)])
        .unwrap();
    assert_eq!(results[0].as_ref().unwrap().seq, 1);
    assert!(matches!(results[1], Err(LedgerError::BadRecord(_))));
    assert_eq!(results[2].as_ref().unwrap().seq, 2);
    assert_eq!(count(&dir), (2, 2));
    assert!(ledger.backend().verify(&mut |_| {}).unwrap().is_intact());
}

#[test]
fn bad_records_are_refused_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(&dir, 1);
    let base = call(0, 0);
    let cases = [
        NewLinkedRecord {
            kind: String::new(),
            ..base.clone()
        },
        NewLinkedRecord {
            kind: "MCP Call".into(),
            ..base.clone()
        },
        NewLinkedRecord {
            kind: "k".repeat(65),
            ..base.clone()
        },
        NewLinkedRecord {
            decision_id: String::new(),
            ..base.clone()
        },
        NewLinkedRecord {
            body: json!(["not", "an", "object"]),
            ..base.clone()
        },
        NewLinkedRecord {
            body: json!({"arguments": "x".repeat(ledger::MAX_LINKED_BYTES)}),
            ..base.clone()
        },
    ];
    for bad in cases {
        let via_writer = ledger.append_linked_blocking(bad.clone()).unwrap_err();
        assert!(
            matches!(via_writer, LedgerError::BadRecord(_)),
            "{via_writer}"
        );
        let direct = ledger.backend().append_linked(&[bad]).unwrap();
        assert!(matches!(direct[0], Err(LedgerError::BadRecord(_))));
    }
    // Ids and names with control characters, quotes or NULs are data, not a problem.
    let odd = NewLinkedRecord {
        correlation_id: "c\u{1b}[31m\"\0".into(),
        server: Some("s\n".into()),
        tool: Some("t'; DROP TABLE linked_records; --".into()),
        ..base
    };
    let stored = ledger.append_linked_blocking(odd.clone()).unwrap();
    let found = ledger
        .backend()
        .linked(&LinkedFilter {
            correlation_id: Some(odd.correlation_id.clone()),
            tool: odd.tool.clone(),
            ..LinkedFilter::default()
        })
        .unwrap();
    assert_eq!(found, vec![stored]);
    assert!(ledger.backend().verify(&mut |_| {}).unwrap().is_intact());
}

/// Decisions 0..6; linked records: for decision d, a call at i = 2d and 2d+1 and an
/// approval for the even ones, appended in an interleaved order.
fn filtered_fixture() -> (tempfile::TempDir, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(&dir, 6);
    let mut batch = Vec::new();
    for i in 0..12 {
        batch.push(call(i / 2, i));
        if i % 4 == 0 {
            batch.push(approval(i / 2, i));
        }
    }
    for r in ledger.backend().append_linked(&batch).unwrap() {
        r.unwrap();
    }
    (dir, ledger)
}

#[test]
fn filters_select_and_order_as_documented() {
    let (_dir, ledger) = filtered_fixture();
    let b = ledger.backend();
    let all = b.linked(&LinkedFilter::default()).unwrap();
    assert_eq!(all.len(), 15);
    assert_eq!(
        seqs(&all),
        (1..=15).rev().collect::<Vec<_>>(),
        "newest first"
    );

    let expect = |filter: LinkedFilter, keep: &dyn Fn(&LinkedRecord) -> bool| {
        let oldest_first = filter.oldest_first();
        let got = b.linked(&filter).unwrap();
        let mut want: Vec<LinkedRecord> = all.iter().filter(|r| keep(r)).cloned().collect();
        if oldest_first {
            want.reverse();
        }
        assert!(!want.is_empty(), "{filter:?} selects something");
        assert_eq!(seqs(&got), seqs(&want), "{filter:?}");
    };
    let d2 = decision_id(2);
    expect(LinkedFilter::decision(&d2), &|r| r.record.decision_id == d2);
    expect(
        LinkedFilter {
            decision_id: Some(d2.clone()),
            kind: Some("approval".into()),
            ..LinkedFilter::default()
        },
        &|r| r.record.decision_id == d2 && r.record.kind == "approval",
    );
    expect(
        LinkedFilter {
            correlation_id: Some("corr-3".into()),
            ..LinkedFilter::default()
        },
        &|r| r.record.correlation_id == "corr-3",
    );
    expect(
        LinkedFilter {
            kind: Some("approval".into()),
            ..LinkedFilter::default()
        },
        &|r| r.record.kind == "approval",
    );
    expect(
        LinkedFilter {
            server: Some("wrk.s1".into()),
            ..LinkedFilter::default()
        },
        &|r| r.record.server.as_deref() == Some("wrk.s1"),
    );
    expect(
        LinkedFilter {
            tool: Some("tool_2".into()),
            ..LinkedFilter::default()
        },
        &|r| r.record.tool.as_deref() == Some("tool_2"),
    );
    expect(
        LinkedFilter {
            server: Some("wrk.s0".into()),
            tool: Some("tool_1".into()),
            kind: Some("mcp_call".into()),
            ..LinkedFilter::default()
        },
        &|r| {
            r.record.server.as_deref() == Some("wrk.s0")
                && r.record.tool.as_deref() == Some("tool_1")
                && r.record.kind == "mcp_call"
        },
    );
    // Nothing matches: an empty page, not an error.
    for filter in [
        LinkedFilter::decision("no-such-decision"),
        LinkedFilter {
            kind: Some("nothing_like_it".into()),
            ..LinkedFilter::default()
        },
    ] {
        assert!(b.linked(&filter).unwrap().is_empty());
    }
    for limit in [0, ledger::MAX_LINKED_PAGE + 1] {
        let e = b
            .linked(&LinkedFilter {
                limit: Some(limit),
                ..LinkedFilter::default()
            })
            .unwrap_err();
        assert!(matches!(e, LedgerError::BadQuery(_)), "{e}");
    }
}

/// Which keyset bound the next page takes from the last record of the one before.
enum Paging {
    Before,
    After,
}

/// The seqs of every page (of `limit`) of `filter`, in the order the pages gave them.
fn paged(
    b: &dyn LedgerBackend,
    mut filter: LinkedFilter,
    limit: usize,
    paging: Paging,
) -> Vec<i64> {
    filter.limit = Some(limit);
    let mut seen = Vec::new();
    loop {
        let page = b.linked(&filter).unwrap();
        let Some(last) = page.last() else { break };
        match paging {
            Paging::Before => filter.before_seq = Some(last.seq),
            Paging::After => filter.after_seq = Some(last.seq),
        }
        seen.extend(seqs(&page));
    }
    seen
}

#[test]
fn keyset_pages_cover_everything_once() {
    let (_dir, ledger) = filtered_fixture();
    let b = ledger.backend();
    // Newest first with `before_seq`.
    let seen = paged(b, LinkedFilter::default(), 4, Paging::Before);
    assert_eq!(seen, (1..=15).rev().collect::<Vec<_>>());

    // A kind filter pages the same way.
    let calls = LinkedFilter {
        kind: Some("mcp_call".into()),
        ..LinkedFilter::default()
    };
    let seen = paged(b, calls, 5, Paging::Before);
    assert_eq!(seen.len(), 12);
    assert!(seen.windows(2).all(|w| w[0] > w[1]));

    // Oldest first (a correlation's story) with `after_seq`.
    let story = LinkedFilter {
        correlation_id: Some("corr-4".into()),
        ..LinkedFilter::default()
    };
    let all: Vec<i64> = seqs(&b.linked(&story).unwrap());
    assert_eq!(all.len(), 3);
    let seen = paged(b, story.clone(), 2, Paging::After);
    assert_eq!(seen, all);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));

    // The same story newest first, when asked (an audit trail), paged with `before_seq`.
    let audit_trail = LinkedFilter {
        order: Some(LinkedOrder::NewestFirst),
        ..story
    };
    let mut seen = paged(b, audit_trail, 2, Paging::Before);
    seen.reverse();
    assert_eq!(seen, all);
}

#[test]
fn the_filter_indexes_exist() {
    let (dir, ledger) = filtered_fixture();
    drop(ledger);
    let conn = Connection::open(dir.path().join("l.db")).unwrap();
    let indexes: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'linked_records' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        indexes,
        [
            "linked_correlation",
            "linked_decision",
            "linked_kind",
            "linked_server",
            "linked_server_tool",
            "linked_tool"
        ]
    );
    // That `linked` walks them without a sort: sqlite/log/linked.rs, the unit test of its
    // statements' query plans.
}

#[test]
fn a_second_writer_process_links_to_decisions_the_first_appended() {
    // Two handles on one file stand for two processes: each writer's tail keys must learn of
    // the other's decisions.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    let a = SqliteBackend::open(&path, OpenOptions::default()).unwrap();
    let b = SqliteBackend::open(&path, OpenOptions::default()).unwrap();
    a.append_batch(&[ledger::NewRecord::from_json(common::decision(0)).unwrap()])
        .unwrap();
    assert_eq!(
        b.append_linked(&[call(0, 0)]).unwrap()[0]
            .as_ref()
            .unwrap()
            .seq,
        1
    );
    b.append_batch(&[ledger::NewRecord::from_json(common::decision(1)).unwrap()])
        .unwrap();
    assert_eq!(
        a.append_linked(&[call(1, 1)]).unwrap()[0]
            .as_ref()
            .unwrap()
            .seq,
        2
    );
    assert!(a.verify(&mut |_| {}).unwrap().is_intact());
}
