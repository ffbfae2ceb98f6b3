//! The tamper suite of the anchored ledger (docs/ledger.md, "Anchoring"), through a real
//! `proctor serve` and real files: each attack the hash chain alone cannot see is named by
//! `verify-log`, refused by `serve`, or caught by `receipt verify`.

use assert_cmd::Command;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

const RULES: &str = r#"{"rules": [{"rule_id": "rr_doc", "match": {"capability_id": "cap.doc.summarize"},
  "decision": {"candidate_workers_ranked": [{"worker_species_id": "wrk.doc.summarizer"}]}}]}"#;

/// Longer than the hall's checkpoint interval (1 s): a checkpoint covers what came before.
const CHECKPOINTED: Duration = Duration::from_millis(2500);

struct Server {
    child: Child,
    url: String,
    token: String,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let mut child = serve(dir).stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            panic!("serve did not start: {line:?}\n{}", log(dir));
        };
        let token = std::fs::read_to_string(dir.join("api-token")).unwrap();
        Server {
            url: url.to_string(),
            token: token.trim().to_string(),
            child,
        }
    }

    /// Route one request; the whole answer (the decision with its evidence receipt).
    fn route(&self, cid: &str) -> Value {
        let input = json!({"capability_id": "cap.doc.summarize", "env": "dev",
            "data_label": "PUBLIC", "tenant_risk": "low", "qos_class": "P2",
            "tenant_id": "agent.tamper", "correlation_id": cid});
        let mut reply = ureq::post(format!("{}/v1/route", self.url))
            .header("Authorization", format!("Bearer {}", self.token))
            .send_json(input)
            .unwrap();
        reply.body_mut().read_json().unwrap()
    }

    /// SIGTERM and wait: a graceful stop writes the last checkpoint.
    fn stop(mut self) {
        self.kill("-TERM");
        assert!(wait_exit(&mut self.child).success());
    }

    fn kill(&self, sig: &str) {
        let pid = self.child.id().to_string();
        let status = std::process::Command::new("kill")
            .args([sig, &pid])
            .status();
        assert!(status.unwrap().success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("proctor"));
    cmd.args(["serve", "--data-dir"])
        .arg(dir)
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .stderr(std::fs::File::create(dir.join("serve.log")).unwrap());
    cmd
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default()
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("serve did not exit");
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

fn init_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.json"), RULES).unwrap();
    dir
}

fn proctor() -> Command {
    let mut cmd = Command::cargo_bin("proctor").unwrap();
    cmd.env_remove("PROCTOR_DATA_DIR").env_remove("PROCTOR_DB");
    cmd
}

/// `verify-log` of the hall in `dir`: its exit code and stderr.
fn verify_log(dir: &Path) -> (i32, String) {
    let out = proctor()
        .args(["verify-log", "--data-dir"])
        .arg(dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap(), err)
}

fn ledger(dir: &Path) -> PathBuf {
    dir.join("ledger/decisions.sqlite")
}

fn remove_ledger(dir: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", ledger(dir).display()));
    }
}

/// A hall that acknowledged `n` decisions and stopped; their answers.
fn hall_with(n: usize) -> (tempfile::TempDir, Vec<Value>) {
    let dir = init_dir();
    let server = Server::start(dir.path());
    let answers = (0..n).map(|i| server.route(&format!("c-{i}"))).collect();
    server.stop();
    (dir, answers)
}

fn write_receipt(dir: &Path, answer: &Value) -> PathBuf {
    let path = dir.join("answer.json");
    std::fs::write(&path, answer.to_string()).unwrap();
    path
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
    let receipt = write_receipt(dir.path(), &answers[4]);
    let out = proctor()
        .args(["receipt", "verify"])
        .arg(&receipt)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no longer holds seq 5"), "{err}");

    assert_serve_refuses(dir.path(), "records 4..=5 are missing");
}

#[test]
fn an_emptied_ledger_is_refused_until_reset() {
    let (dir, _) = hall_with(2);
    std::fs::File::create(ledger(dir.path())).unwrap(); // truncated to 0 bytes
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", ledger(dir.path()).display()));
    }
    let (code, err) = verify_log(dir.path());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is empty (0 bytes)"), "{err}");
    assert!(err.contains("acknowledged 2 record(s)"), "{err}");
    assert_serve_refuses(dir.path(), "is empty (0 bytes)");

    // Starting over is deliberate: the checkpoints are archived, never deleted.
    proctor()
        .args(["ledger", "reset", "--data-dir"])
        .arg(dir.path())
        .assert()
        .success();
    let archived: Vec<_> = std::fs::read_dir(dir.path().join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("checkpoint.archived-"))
        .collect();
    assert_eq!(archived.len(), 1, "{archived:?}");
    let server = Server::start(dir.path());
    let answer = server.route("after-reset");
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

    proctor()
        .args(["ledger", "reset", "--data-dir"])
        .arg(dir.path())
        .assert()
        .success();
    Server::start(dir.path()).stop();
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
    let receipt = write_receipt(ours.path(), &answers[2]);
    let out = proctor()
        .args(["receipt", "verify"])
        .arg(&receipt)
        .arg("--data-dir")
        .arg(ours.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
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
    let server = Server::start(dir.path());
    server.route("before");
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
        let answer = server.route(&format!("acked-{i}"));
        assert_eq!(answer["evidence_receipt"]["ledger_seq"], i + 2);
    }
    std::thread::sleep(CHECKPOINTED);
    server.kill("-KILL");
    let mut server = server;
    wait_exit(&mut server.child);
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
    let receipt = write_receipt(dir.path(), &answers[1]);
    let out = proctor()
        .args(["receipt", "verify", "--json"])
        .arg(&receipt)
        .arg("--data-dir")
        .arg(dir.path())
        .assert()
        .success();
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(report["signature"], "valid");
    assert_eq!(report["ledger"], "holds");
    assert_eq!(report["seq"], 2);

    // Offline, with only the public key (from stdin, the bare receipt).
    let key: Value = serde_json::from_slice(
        &proctor()
            .args(["hall", "key", "--json", "--data-dir"])
            .arg(dir.path())
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
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
    let receipt = write_receipt(dir.path(), &flipped);
    let out = proctor()
        .args(["receipt", "verify"])
        .arg(&receipt)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("signature does not match"), "{err}");

    // A receipt claiming another seq under the same signature.
    let mut moved = answers[1].clone();
    moved["evidence_receipt"]["ledger_seq"] = 1.into();
    let receipt = write_receipt(dir.path(), &moved);
    proctor()
        .args(["receipt", "verify"])
        .arg(&receipt)
        .arg("--data-dir")
        .arg(dir.path())
        .assert()
        .code(1);
}

#[test]
fn concurrent_routes_share_a_signed_batch_and_each_receipt_verifies_offline() {
    let dir = init_dir();
    let server = Server::start(dir.path());
    // Many callers at once: the ledger commits them in a few group commits, and each batch is
    // signed once. Rounds until two receipts came from one batch (the first round nearly always
    // does; a lone caller per commit would need the machine to serialize 32 threads).
    let mut answers: Vec<Value> = Vec::new();
    for round in 0..5 {
        let batch: Vec<Value> = std::thread::scope(|s| {
            let server = &server;
            let routes: Vec<_> = (0..32)
                .map(|i| s.spawn(move || server.route(&format!("b-{round}-{i}"))))
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
        let receipt = write_receipt(dir.path(), answer);
        let out = proctor()
            .args(["receipt", "verify", "--json"])
            .arg(&receipt)
            .arg("--data-dir")
            .arg(dir.path())
            .assert()
            .success();
        let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
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
    let receipt = write_receipt(dir.path(), &swapped);
    let out = proctor()
        .args(["receipt", "verify"])
        .arg(&receipt)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("not in the signed batch") || err.contains("does not fit the batch"),
        "{err}"
    );
}
