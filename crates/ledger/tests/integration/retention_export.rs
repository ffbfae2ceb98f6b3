//! Retention keeps the remaining chain provable; export streams any query.

use crate::common::{self, decision_id, ledger_with, second};

use ledger::{Filter, Format, LedgerError, PageRequest, CSV_HEADER};
use rusqlite::Connection;

#[test]
fn pruning_keeps_a_checkpoint_and_the_rest_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(&dir, 100);
    let b = ledger.backend();
    let first = b.prune_before(second(30)).unwrap();
    assert_eq!((first.pruned, first.through_seq), (30, Some(30)));
    let again = b.prune_before(second(30)).unwrap();
    assert_eq!(
        (again.pruned, again.through_seq),
        (0, None),
        "nothing left to prune"
    );
    let second_run = b.prune_before(second(50)).unwrap();
    assert_eq!((second_run.pruned, second_run.through_seq), (20, Some(50)));

    // Appends continue the same chain after pruning.
    let receipt = ledger.append_blocking(common::decision(1000)).unwrap();
    assert_eq!(receipt.seq, 101);
    let report = b.verify(&mut |_| {}).unwrap();
    assert!(report.is_intact(), "{:?}", report.finding);
    assert_eq!(report.records_checked, 51);
    let cp = report.checkpoint.unwrap();
    assert_eq!((cp.through_seq, cp.pruned_total), (50, 50));

    // Pruned records are gone from every query, free text included.
    let pruned_id = decision_id(10);
    assert!(b.get(&pruned_id).unwrap().is_none());
    let hits = b
        .page(&PageRequest::first(
            Filter {
                text: Some(pruned_id),
                ..Filter::default()
            },
            10,
        ))
        .unwrap();
    assert!(hits.records.is_empty());
    let all = b
        .page(&PageRequest::first(Filter::default(), 1000))
        .unwrap();
    assert_eq!(all.records.len(), 51);
}

#[test]
fn pruning_refuses_to_hide_a_broken_chain() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(&dir, 20);
    Connection::open(dir.path().join("l.db"))
        .unwrap()
        .execute("UPDATE decisions SET env = 'edited' WHERE seq = 5", [])
        .unwrap();
    let err = ledger.backend().prune_before(second(10)).unwrap_err();
    assert!(
        matches!(&err, LedgerError::ChainBroken(m) if m.contains("record 5")),
        "{err}"
    );
    assert_eq!(
        ledger
            .backend()
            .page(&PageRequest::first(Filter::default(), 100))
            .unwrap()
            .records
            .len(),
        20
    );
}

#[test]
fn export_streams_every_match_with_progress() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(&dir, 2500);
    let b = ledger.backend();
    let mut jsonl = Vec::new();
    let mut ticks = Vec::new();
    let n = ledger::export(b, &Filter::default(), Format::Jsonl, &mut jsonl, &mut |n| {
        ticks.push(n)
    })
    .unwrap();
    assert_eq!(n, 2500);
    assert_eq!(ticks, vec![1000, 2000, 2500], "progress after every page");
    let lines: Vec<&str> = std::str::from_utf8(&jsonl).unwrap().lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(common::decision(2499).as_str())
    );
    assert_eq!(lines.last().copied(), Some(common::decision(0).as_str()));

    let denied = Filter {
        denied: Some(true),
        ..Filter::default()
    };
    let mut csv = Vec::new();
    let n = ledger::export(b, &denied, Format::Csv, &mut csv, &mut |_| {}).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        CSV_HEADER.to_vec()
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len() as u64, n);
    assert!(rows.iter().all(|r| &r[12] == "true" && !r[13].is_empty()));
    // Deny messages contain commas and colons: the CSV quoting must keep columns aligned.
    assert!(rows.iter().all(|r| r.len() == CSV_HEADER.len()));
    assert!(matches!(
        "xml".parse::<Format>(),
        Err(LedgerError::BadQuery(_))
    ));
}

#[test]
fn csv_cells_that_look_like_formulas_are_neutralised() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(&dir, 0);
    let hostile =
        common::decision(1).replacen("\"tenant_id\":\"", "\"tenant_id\":\"=HYPERLINK(1)", 1);
    ledger.append_blocking(hostile).unwrap();
    let export_all = |format| {
        let mut out = Vec::new();
        ledger::export(
            ledger.backend(),
            &Filter::default(),
            format,
            &mut out,
            &mut |_| {},
        )
        .unwrap();
        out
    };
    let csv = export_all(Format::Csv);
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let row = reader.records().next().unwrap().unwrap();
    assert!(row[5].starts_with("'=HYPERLINK(1)"), "{:?}", &row[5]);
    // JSONL keeps the exact bytes.
    let jsonl = export_all(Format::Jsonl);
    assert!(String::from_utf8(jsonl)
        .unwrap()
        .contains("\"tenant_id\":\"=HYPERLINK(1)"));
}
