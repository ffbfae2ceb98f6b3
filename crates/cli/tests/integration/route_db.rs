//! `proctor route --db`: every decision is recorded before it is printed, carries its
//! evidence receipt, and a ledger that cannot write withholds decisions (fail closed).

use crate::support::{proctor, proctor_after, proctor_process};
use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn requests(n: usize) -> String {
    let one: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("examples/input.json")).unwrap())
            .unwrap();
    (0..n)
        .map(|i| {
            let mut r = one.clone();
            r["correlation_id"] = Value::from(format!("corr-{i}"));
            format!("{r}\n")
        })
        .collect()
}

/// `route` of stdin with the example rules and registry, recording into `db`.
fn routing_into<'c>(
    cmd: &'c mut std::process::Command,
    db: &Path,
) -> &'c mut std::process::Command {
    let root = repo();
    cmd.args(["route", "--input", "-", "--rules"])
        .arg(root.join("examples/rules.json"))
        .arg("--registry")
        .arg(root.join("examples/registry"))
        .arg("--db")
        .arg(db)
}

fn route(db: &Path, stdin: String) -> assert_cmd::assert::Assert {
    let mut cmd = proctor_process();
    routing_into(&mut cmd, db);
    Command::from_std(cmd).write_stdin(stdin).assert()
}

fn lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn decisions_are_recorded_in_order_with_receipts_and_the_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let mut input = requests(300);
    input.push_str("{not json\n");
    let out = route(&db, input).code(3).get_output().stdout.clone();
    let out = lines(&out);
    assert_eq!(out.len(), 301, "one output line per input line");
    for (i, d) in out[..300].iter().enumerate() {
        assert_eq!(d["correlation_id"], format!("corr-{i}"), "input order kept");
        let receipt = &d["evidence_receipt"];
        assert_eq!(receipt["ledger_seq"], i as i64 + 1);
        assert_eq!(receipt["decision_id"], d["decision_id"]);
        assert_eq!(receipt["ledger_hash"].as_str().unwrap().len(), 64);
    }
    assert_eq!(out[300]["error"]["code"], "invalid_json");

    // What was printed is what was recorded, byte for byte (less the receipt).
    let last = &out[299];
    let shown = proctor()
        .args(["decisions", "show", "--json", "--db"])
        .arg(&db)
        .arg(last["decision_id"].as_str().unwrap())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let shown: Value = serde_json::from_slice(&shown).unwrap();
    let mut printed = last.clone();
    printed.as_object_mut().unwrap().remove("evidence_receipt");
    assert_eq!(shown["decision"], printed);
    assert_eq!(shown["hash"], last["evidence_receipt"]["ledger_hash"]);

    proctor()
        .args(["verify-log", "--db"])
        .arg(&db)
        .assert()
        .success();
}

#[test]
fn a_ledger_that_cannot_write_withholds_every_unrecorded_decision() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    // `ulimit -f` makes the ledger file unable to grow, as on a full disk. 2 MiB leaves room
    // for a fresh ledger and its index file (64 KiB pages: ~1 MiB with its WAL), not for 8,000
    // decisions.
    let out = routing_into(&mut proctor_after("ulimit -f 2048; trap '' XFSZ"), &db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            // Feed stdin from a thread: the child's stdout must be drained meanwhile.
            let mut stdin = child.stdin.take().unwrap();
            let feeder = std::thread::spawn(move || {
                use std::io::Write;
                stdin.write_all(requests(8_000).as_bytes())
            });
            let out = child.wait_with_output();
            feeder.join().unwrap()?;
            out
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "runtime failure exit code");
    let out = lines(&out.stdout);
    assert_eq!(out.len(), 8_000);
    let withheld: Vec<&Value> = out
        .iter()
        .filter(|l| l["error"]["code"] == "DENY_LEDGER_UNAVAILABLE")
        .collect();
    assert!(!withheld.is_empty(), "the small file limit must be hit");
    // Every decision that was printed has a receipt; none was printed unrecorded.
    let printed = out.iter().filter(|l| l.get("decision_id").is_some());
    for d in printed {
        assert!(d["evidence_receipt"]["ledger_seq"].as_i64().unwrap() > 0);
    }
}

#[test]
fn a_file_that_is_not_a_ledger_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("notes.txt");
    std::fs::write(&db, "these are my notes, not a database\n".repeat(200)).unwrap();
    let assert = route(&db, requests(1)).code(3);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(err.contains("notes.txt"), "names the file: {err}");
    assert!(
        assert.get_output().stdout.is_empty(),
        "nothing decided is printed"
    );
    assert_eq!(
        std::fs::read_to_string(&db).unwrap().len(),
        35 * 200,
        "file untouched"
    );
}
