//! The tamper suite of the anchored ledger (docs/ledger.md, "Anchoring"), through a real
//! `proctor serve` and real files: each attack the hash chain alone cannot see is named by
//! `verify-log`, refused by `serve`, or caught by `receipt verify`.

use crate::support::{init_dir, json_of, proctor, proctor_process, serve_on, wait_exit, Hall, Ran};
use assert_cmd::Command;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// Longer than the hall's checkpoint interval (1 s): a checkpoint covers what came before.
const CHECKPOINTED: Duration = Duration::from_millis(2500);

/// Route one request through `hall`; the whole answer (the decision with its evidence receipt).
fn route(hall: &Hall, cid: &str) -> Value {
    let input = json!({"capability_id": "cap.doc.summarize", "env": "dev",
        "data_label": "PUBLIC", "tenant_risk": "low", "qos_class": "P2",
        "tenant_id": "agent.tamper", "correlation_id": cid});
    let mut reply = ureq::post(format!("{}/v1/route", hall.url))
        .header("Authorization", format!("Bearer {}", hall.token))
        .send_json(input)
        .unwrap();
    reply.body_mut().read_json().unwrap()
}

fn serve(dir: &Path) -> std::process::Command {
    let mut cmd = proctor_process();
    serve_on(&mut cmd, dir, &dir.join("serve.log"));
    cmd
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default()
}

/// `proctor serve` on `dir` must refuse to start, saying why and how to start over.
fn assert_serve_refuses(dir: &Path, why: &str) {
    let mut child = serve(dir).stdout(Stdio::null()).spawn().unwrap();
    let status = wait_exit(&mut child);
    let log = log(dir);
    assert!(!status.success(), "serve started: {log}");
    assert!(log.contains("refusing to start"), "{log}");
    assert!(log.contains(why), "{log}");
    assert!(log.contains("proctor ledger reset --data-dir"), "{log}");
}

/// The exit code and stderr of a run that may fail.
fn code_and_stderr(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap(), err)
}

/// `verify-log` of the hall in `dir`: its exit code and stderr.
fn verify_log(dir: &Path) -> (i32, String) {
    code_and_stderr(proctor().args(["verify-log", "--data-dir"]).arg(dir))
}

/// `receipt verify` of `answer`, saved in `dir`, against the hall there.
fn receipt_verify(dir: &Path, answer: &Value) -> Command {
    let receipt = dir.join("answer.json");
    std::fs::write(&receipt, answer.to_string()).unwrap();
    let mut cmd = proctor();
    cmd.args(["receipt", "verify"])
        .arg(receipt)
        .arg("--data-dir")
        .arg(dir);
    cmd
}

/// `receipt verify` of `answer` that must fail with exit 1: its stderr.
fn receipt_refused(dir: &Path, answer: &Value) -> String {
    let (code, err) = code_and_stderr(&mut receipt_verify(dir, answer));
    assert_eq!(code, 1, "{err}");
    err
}

/// `receipt verify --json` of `answer` that must pass: its report.
fn receipt_report(dir: &Path, answer: &Value) -> Value {
    json_of(&receipt_verify(dir, answer).arg("--json").passes())
}

/// `ledger reset` of the hall in `dir`, which must succeed.
fn reset(dir: &Path) {
    proctor()
        .args(["ledger", "reset", "--data-dir"])
        .arg(dir)
        .assert()
        .success();
}

fn ledger(dir: &Path) -> PathBuf {
    dir.join("ledger/decisions.sqlite")
}

/// The ledger file with these suffixes ("" the file itself), those that exist.
fn remove_ledger_files(dir: &Path, suffixes: &[&str]) {
    for suffix in suffixes {
        let _ = std::fs::remove_file(format!("{}{suffix}", ledger(dir).display()));
    }
}

fn remove_ledger(dir: &Path) {
    remove_ledger_files(dir, &["", "-wal", "-shm"]);
}

/// A hall that acknowledged `n` decisions and stopped; their answers.
fn hall_with(n: usize) -> (tempfile::TempDir, Vec<Value>) {
    let dir = init_dir();
    let server = Hall::start(dir.path());
    let answers = (0..n).map(|i| route(&server, &format!("c-{i}"))).collect();
    server.stop();
    (dir, answers)
}

#[test]
fn a_cut_tail_with_a_rewritten_head_is_named() {
    let (dir, answers) = hall_with(5);
    assert_eq!(verify_log(dir.path()).0, 0);
    {
        let db = rusqlite::Connection::open(ledger(dir.path())).unwrap();
        db.execute_batch(
            "DELETE FROM decisions WHERE seq > 3;
             UPDATE chain_state SET head_seq = 3,
               head_hash = (SELECT hash FROM decisions WHERE seq = 3);",
        )
        .unwrap();
    }
    let (code, err) = verify_log(dir.path());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("records 4..=5 are missing"), "{err}");
    assert!(err.contains("ends at seq 3"), "{err}");

    // A receipt of a cut record: its signature is the hall's, but the ledger lost it.
    let err = receipt_refused(dir.path(), &answers[4]);
    assert!(err.contains("no longer holds seq 5"), "{err}");

    assert_serve_refuses(dir.path(), "records 4..=5 are missing");
}

#[test]
fn an_emptied_ledger_is_refused_until_reset() {
    let (dir, _) = hall_with(2);
    std::fs::File::create(ledger(dir.path())).unwrap(); // truncated to 0 bytes
    remove_ledger_files(dir.path(), &["-wal", "-shm"]);
    let (code, err) = verify_log(dir.path());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is empty (0 bytes)"), "{err}");
    assert!(err.contains("acknowledged 2 record(s)"), "{err}");
    assert_serve_refuses(dir.path(), "is empty (0 bytes)");

    // Starting over is deliberate: the checkpoints are archived, never deleted.
    reset(dir.path());
    let archived: Vec<_> = std::fs::read_dir(dir.path().join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("checkpoint.archived-"))
        .collect();
    assert_eq!(archived.len(), 1, "{archived:?}");
    let server = Hall::start(dir.path());
    let answer = route(&server, "after-reset");
    assert_eq!(answer["evidence_receipt"]["ledger_seq"], 1);
    server.stop();
    assert_eq!(verify_log(dir.path()).0, 0);
}

#[test]
fn a_deleted_ledger_is_refused_until_reset() {
    let (dir, _) = hall_with(3);
    remove_ledger(dir.path());
    let (code, err) = verify_log(dir.path());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is missing"), "{err}");
    assert!(err.contains("acknowledged 3 record(s)"), "{err}");
    assert_serve_refuses(dir.path(), "is missing");
    assert!(
        !ledger(dir.path()).exists(),
        "a refused start creates nothing"
    );

    reset(dir.path());
    Hall::start(dir.path()).stop();
    assert_eq!(verify_log(dir.path()).0, 0);
}

#[test]
fn another_halls_ledger_or_checkpoint_is_foreign() {
    let (ours, answers) = hall_with(3);
    let (theirs, _) = hall_with(4);
    remove_ledger(ours.path());
    std::fs::copy(ledger(theirs.path()), ledger(ours.path())).unwrap();
    let (code, err) = verify_log(ours.path());
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("not the one the hall signed: at seq 3"),
        "{err}"
    );

    // Our receipt no longer matches what the ledger holds at its seq.
    let err = receipt_refused(ours.path(), &answers[2]);
    assert!(err.contains("holds another record at seq 3"), "{err}");
    assert_serve_refuses(ours.path(), "not the one the hall signed");

    // Their checkpoint too: signed by another hall's key.
    let checkpoint = |d: &Path| d.join("checkpoints/checkpoint");
    std::fs::copy(checkpoint(theirs.path()), checkpoint(ours.path())).unwrap();
    let (code, err) = verify_log(ours.path());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not signed by this hall's key"), "{err}");
}

#[test]
fn records_lost_with_the_wal_after_sigkill_are_named() {
    let dir = init_dir();
    let server = Hall::start(dir.path());
    route(&server, "before");
    // A reader's snapshot keeps SQLite from copying later commits out of the -wal into the
    // ledger file, so they exist only in the -wal when the hall is killed.
    let reader = rusqlite::Connection::open_with_flags(
        ledger(dir.path()),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let seen: i64 = reader
        .query_row("SELECT count(*) FROM decisions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(seen, 1);
    for i in 0..4 {
        let answer = route(&server, &format!("acked-{i}"));
        assert_eq!(answer["evidence_receipt"]["ledger_seq"], i + 2);
    }
    std::thread::sleep(CHECKPOINTED);
    let mut server = server;
    server.child.signal("-KILL");
    server.child.wait_exit();
    drop(reader); // read-only: closing it does not copy the -wal into the ledger file
    remove_ledger_sidecars(dir.path());

    // Without its -wal the file holds an older commit, or (killed while SQLite copied the
    // -wal into it) is torn; either way the checkpoint's count is named.
    let (code, err) = verify_log(dir.path());
    assert_eq!(code, 1, "{err}");
    if err.contains("corrupt") {
        assert!(err.contains("acknowledged 5 record(s)"), "{err}");
        let mut child = serve(dir.path()).stdout(Stdio::null()).spawn().unwrap();
        assert!(!wait_exit(&mut child).success(), "{}", log(dir.path()));
    } else {
        assert!(err.contains("records 2..=5 are missing"), "{err}");
        assert!(err.contains("-wal"), "{err}");
        assert_serve_refuses(dir.path(), "records 2..=5 are missing");
    }
}

fn remove_ledger_sidecars(dir: &Path) {
    for suffix in ["-wal", "-shm"] {
        std::fs::remove_file(format!("{}{suffix}", ledger(dir).display())).unwrap();
    }
}

#[test]
fn a_receipt_verifies_offline_and_a_flipped_byte_does_not() {
    let (dir, answers) = hall_with(2);
    let report = receipt_report(dir.path(), &answers[1]);
    assert_eq!(report["signature"], "valid");
    assert_eq!(report["ledger"], "holds");
    assert_eq!(report["seq"], 2);

    // Offline, with only the public key (from stdin, the bare receipt).
    let key = json_of(
        &proctor()
            .args(["hall", "key", "--json", "--data-dir"])
            .arg(dir.path())
            .passes(),
    );
    let bare = answers[1]["evidence_receipt"].to_string();
    proctor()
        .args(["receipt", "verify", "-", "--public-key"])
        .arg(key["verifier_key"].as_str().unwrap())
        .write_stdin(bare)
        .assert()
        .success();

    // One flipped byte of the signature (a different base64 digit changes its 8th byte).
    let mut flipped = answers[1].clone();
    let mut value: Vec<char> = flipped["evidence_receipt"]["signature"]["value"]
        .as_str()
        .unwrap()
        .chars()
        .collect();
    value[10] = if value[10] == 'A' { 'B' } else { 'A' };
    flipped["evidence_receipt"]["signature"]["value"] = value.iter().collect::<String>().into();
    let err = receipt_refused(dir.path(), &flipped);
    assert!(err.contains("signature does not match"), "{err}");

    // A receipt claiming another seq under the same signature.
    let mut moved = answers[1].clone();
    moved["evidence_receipt"]["ledger_seq"] = 1.into();
    receipt_refused(dir.path(), &moved);
}

#[test]
fn concurrent_routes_share_a_signed_batch_and_each_receipt_verifies_offline() {
    let dir = init_dir();
    let server = Hall::start(dir.path());
    // Many callers at once: the ledger commits them in a few group commits, and each batch is
    // signed once. Rounds until two receipts came from one batch (the first round nearly always
    // does; a lone caller per commit would need the machine to serialize 32 threads).
    let mut answers: Vec<Value> = Vec::new();
    for round in 0..5 {
        let batch: Vec<Value> = std::thread::scope(|s| {
            let server = &server;
            let routes: Vec<_> = (0..32)
                .map(|i| s.spawn(move || route(server, &format!("b-{round}-{i}"))))
                .collect();
            routes.into_iter().map(|r| r.join().unwrap()).collect()
        });
        answers.extend(batch);
        let shared = answers.iter().any(|a| {
            a["evidence_receipt"]["signature"]["batch"]["size"]
                .as_u64()
                .unwrap()
                > 1
        });
        if shared {
            break;
        }
    }
    server.stop();
    let signature = |a: &Value| a["evidence_receipt"]["signature"].clone();
    let shared = answers
        .iter()
        .find(|a| signature(a)["batch"]["size"].as_u64().unwrap() > 1)
        .expect("some receipts share a batch");
    let mates: Vec<&Value> = answers
        .iter()
        .filter(|a| signature(a)["batch"] == signature(shared)["batch"])
        .collect();
    assert!(mates.len() > 1);
    for mate in &mates {
        // One signature for the batch; each receipt its own place and proof in it.
        assert_eq!(signature(mate)["format"], "proctor-receipt/v2");
        assert_eq!(signature(mate)["value"], signature(shared)["value"]);
    }
    assert_ne!(
        signature(mates[0])["inclusion_proof"],
        signature(mates[1])["inclusion_proof"]
    );
    for answer in &answers {
        let report = receipt_report(dir.path(), answer);
        assert_eq!(report["signature"], "valid");
        assert_eq!(report["ledger"], "holds");
        assert_eq!(report["format"], "proctor-receipt/v2");
        assert_eq!(report["batch"], signature(answer)["batch"]);
    }

    // One receipt of the shared batch with another receipt's proof: the batch signature holds,
    // the record is not where that proof leads.
    let mut swapped = mates[0].clone();
    swapped["evidence_receipt"]["signature"]["inclusion_proof"] =
        signature(mates[1])["inclusion_proof"].clone();
    let err = receipt_refused(dir.path(), &swapped);
    assert!(
        err.contains("not in the signed batch") || err.contains("does not fit the batch"),
        "{err}"
    );
}
